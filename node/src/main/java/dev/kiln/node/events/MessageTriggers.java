package dev.kiln.node.events;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.ValidationError;
import dev.kiln.node.events.match.SubscriptionIndex;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.program.ProgramContract;
import dev.kiln.node.records.ProgramRecord;
import dev.kiln.node.records.ProgramRecords;
import dev.kiln.store.records.RecordsException;
import dev.kiln.store.records.StoreRecord;
import dev.kiln.store.records.StoreRecords;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Message triggers (docs/events.md): a message from any source is verified ({@link InboundMessage}),
 * recorded when it is a STORE or PROGRAM message posted to the node, matched against every
 * program's {@code on.message} ({@link SubscriptionIndex}) and queued for each program it triggers
 * ({@link ProgramInbox}: one queue and worker per program, at-least-once with bounded retries).
 * Each delivery's outcome goes to the {@link DeliveryRecords}.
 */
public final class MessageTriggers implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MessageTriggers.class.getName());
    public static final String POSTED = "post";
    public static final String FEED = "feed";

    /** What happened to an accepted message. {@code recorded}: "store", "program" or null. */
    public record Accepted(ItemHash message, String type, List<ItemHash> programs, String recorded) {
    }

    private final ProgramRecords programs;
    private final StoreRecords store;
    private final DeliveryRecords records;
    private volatile DeliveryPolicy policy;
    private final Deliverer deliverer;
    private final SubscriptionIndex index;
    private final Consumer<StoreRecord> amendRecorded;
    private final ConcurrentHashMap<ItemHash, ProgramInbox> inboxes = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /**
     * @param amendRecorded told of each STORE message recorded here (the update watch checks the running VMs)
     */
    public MessageTriggers(ExecutionPool pool, ProgramRecords programs, StoreRecords store, DeliveryRecords records,
                           DeliveryPolicy policy, Consumer<StoreRecord> amendRecorded) {
        this.programs = programs;
        this.store = store;
        this.records = records;
        this.policy = policy;
        this.deliverer = new Deliverer(pool);
        this.index = new SubscriptionIndex(programs, Duration.ofMillis(500));
        this.amendRecorded = amendRecorded;
        index.rebuild();
    }

    /** Verifies, records and routes one message as text; throws with the reason if it is not taken. */
    public Accepted accept(String raw, String source) throws MessageRejectedException {
        return accept(InboundMessage.read(raw, source));
    }

    public Accepted accept(InboundMessage m) throws MessageRejectedException {
        String recorded = record(m);
        List<ItemHash> matched = index.matching(m.json());
        if (!closed) {
            for (ItemHash program : matched) {
                inboxes.computeIfAbsent(program, p -> new ProgramInbox(p, policy, deliverer, this::done)).offer(m);
            }
        }
        if (!matched.isEmpty()) {
            LOG.log(System.Logger.Level.DEBUG, "message " + m.hash() + " (" + m.source() + ") triggers " + matched.size()
                    + " program(s)");
        }
        return new Accepted(m.hash(), m.message().type(), matched, recorded);
    }

    /**
     * A posted STORE message is recorded (an amend then updates the VMs that follow its chain); a
     * posted PROGRAM message is recorded and its subscriptions take effect for the next message. From
     * the feed, only amends of STORE messages this node has are kept: the node follows the network's
     * amends of what it runs, not the whole network.
     */
    private String record(InboundMessage m) throws MessageRejectedException {
        MessageType type = m.message().messageType().orElse(null);
        if (type != MessageType.STORE && type != MessageType.PROGRAM) return null;
        List<ValidationError> problems = AlephMessages.check(m.message());
        if (!problems.isEmpty()) {
            if (!m.source().equals(POSTED)) return null; // the network's business; still matched like any message
            throw new MessageRejectedException(MessageRejectedException.Kind.INVALID, "invalid " + type + " message: "
                    + problems.getFirst() + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : ""));
        }
        try {
            if (type == MessageType.STORE) {
                StoreRecord r = StoreRecord.of(m.message(), m.raw());
                if (!m.source().equals(POSTED) && (r.ref() == null || store.find(r.ref()).isEmpty())) return null;
                boolean added = store.add(r);
                if (added) amendRecorded.accept(r);
                return "store";
            }
            if (!m.source().equals(POSTED)) return null;
            List<ProgramContract.Refusal> refused = ProgramContract.refusals(m.message().contentAs(ProgramContent.class));
            if (!refused.isEmpty()) {
                throw new MessageRejectedException(MessageRejectedException.Kind.UNSUPPORTED, "the program uses what this"
                        + " node does not do: " + refused.getFirst() + (refused.size() > 1 ? " (and " + (refused.size() - 1)
                        + " more)" : ""));
            }
            programs.add(new ProgramRecord(m.hash(), m.message().sender(), null, Instant.now(), m.raw()));
            index.rebuildNow();
            return "program";
        } catch (RecordsException | IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "message " + m.hash() + " could not be recorded: " + e.getMessage());
            throw new MessageRejectedException(MessageRejectedException.Kind.INVALID, "the " + type + " message could not"
                    + " be recorded: " + e.getMessage());
        }
    }

    private void done(Delivery d) {
        if (d.outcome() != DeliveryOutcome.DELIVERED) {
            LOG.log(System.Logger.Level.INFO, "message " + d.message() + " to program " + d.program() + ": " + d.outcome().wire()
                    + " after " + d.attempts() + " attempt(s): " + d.detail());
        }
        try {
            records.add(d);
        } catch (RecordsException e) {
            LOG.log(System.Logger.Level.WARNING, "delivery of " + d.message() + " to " + d.program() + " ("
                    + d.outcome().wire() + ") not recorded: " + e.getMessage());
        }
    }

    /** The newest deliveries first. */
    public List<Delivery> recent(Optional<ItemHash> program, int limit) throws RecordsException {
        return records.recent(program, limit);
    }

    public List<Delivery> deliveriesOf(ItemHash message) throws RecordsException {
        return records.ofMessage(message);
    }

    /** Messages waiting per program, for /about/deliveries. */
    public Map<ItemHash, Integer> waiting() {
        Map<ItemHash, Integer> out = new TreeMap<>(java.util.Comparator.comparing(ItemHash::value));
        inboxes.forEach((p, inbox) -> {
            if (inbox.waiting() > 0) out.put(p, inbox.waiting());
        });
        return out;
    }

    /** Programs whose deliveries are paused after too many failures. */
    public List<ItemHash> suspended() {
        return inboxes.entrySet().stream().filter(e -> e.getValue().suspended()).map(Map.Entry::getKey).toList();
    }

    public SubscriptionIndex index() {
        return index;
    }

    public DeliveryPolicy policy() {
        return policy;
    }

    /** Sets the policy of programs that get their first message from now on (embedders, tests, benchmarks). */
    public void policy(DeliveryPolicy p) {
        policy = java.util.Objects.requireNonNull(p, "policy");
    }

    /** Stops the workers; what is still queued is recorded as dropped. Does not close the records. */
    @Override
    public void close() {
        closed = true;
        inboxes.values().forEach(ProgramInbox::close);
    }
}
