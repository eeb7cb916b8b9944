package dev.kiln.node;

import dev.kiln.node.events.AlephMessageFeed;
import dev.kiln.node.events.DeliveryPolicy;
import dev.kiln.node.events.DeliveryRecords;
import dev.kiln.node.events.MessageRejectedException;
import dev.kiln.node.events.MessageTriggers;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.update.AmendWatch;
import dev.kiln.store.records.RecordsException;
import dev.kiln.store.remote.RemoteSource;
import java.io.IOException;
import java.time.Duration;

/** Message triggers and updates on amend (docs/events.md): started with the node, closed with it. */
record NodeEvents(MessageTriggers triggers, DeliveryRecords deliveries, AmendWatch amends, AlephMessageFeed feed) {
    private static final System.Logger LOG = System.getLogger(NodeEvents.class.getName());
    private static final Duration AMEND_CHECK = Duration.ofSeconds(2);

    static NodeEvents start(NodeServices services, ExecutionPool pool) throws IOException {
        DeliveryRecords deliveries;
        try {
            deliveries = DeliveryRecords.open(services.home());
        } catch (RecordsException e) {
            throw new IOException(e.getMessage(), e);
        }
        AmendWatch amends = new AmendWatch(pool, services.storeRecords(), AMEND_CHECK).start();
        MessageTriggers triggers = new MessageTriggers(pool, services.nodeRecords().programs(), services.storeRecords(),
                deliveries, DeliveryPolicy.DEFAULT, amends::amended);
        // aleph-vm follows its API server's stream; a Kiln node follows its first remote's.
        AlephMessageFeed feed = services.fetcher().remotes().stream().map(RemoteSource::location)
                .filter(u -> "http".equals(u.getScheme()) || "https".equals(u.getScheme())).findFirst()
                .map(u -> new AlephMessageFeed(u, text -> fromFeed(triggers, text), Duration.ofMillis(500),
                        Duration.ofSeconds(30)).start())
                .orElse(null);
        return new NodeEvents(triggers, deliveries, amends, feed);
    }

    private static void fromFeed(MessageTriggers triggers, String text) {
        try {
            triggers.accept(text, MessageTriggers.FEED);
        } catch (MessageRejectedException e) {
            LOG.log(System.Logger.Level.INFO, "a message from the feed is not taken: " + e.getMessage());
        }
    }

    void stopTaking() {
        if (feed != null) feed.close();
        amends.close();
        triggers.close();
    }
}
