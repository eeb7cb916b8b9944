package dev.kiln.node.events;

import dev.kiln.core.hash.ItemHash;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One program's deliveries: a bounded queue and at most one worker (a virtual thread, started when
 * a message arrives and ended when the queue is empty). Messages for one program are delivered in
 * order, one at a time, retried with backoff; programs never share a queue or a worker, so a flood
 * or a slow handler in one program does not delay another's messages.
 */
final class ProgramInbox {
    private static final System.Logger LOG = System.getLogger(ProgramInbox.class.getName());

    private final ItemHash program;
    private final DeliveryPolicy policy;
    private final Deliverer deliverer;
    private final Consumer<Delivery> done;
    private final ArrayBlockingQueue<InboundMessage> queue;
    private final AtomicBoolean working = new AtomicBoolean();
    private volatile Thread worker;
    private volatile boolean closed;
    // Touched by the one worker only (plus reads for /about).
    private volatile int failedInARow;
    private volatile long suspendedUntilNanos;

    ProgramInbox(ItemHash program, DeliveryPolicy policy, Deliverer deliverer, Consumer<Delivery> done) {
        this.program = program;
        this.policy = policy;
        this.deliverer = deliverer;
        this.done = done;
        this.queue = new ArrayBlockingQueue<>(policy.queueCapacity());
    }

    /** Queues a message; a full queue records it as dropped at once. */
    void offer(InboundMessage m) {
        if (closed || !queue.offer(m)) {
            finish(m, DeliveryOutcome.DROPPED, 0, closed ? "the node is shutting down"
                    : "the program's queue is full (" + policy.queueCapacity() + " messages waiting)");
            return;
        }
        if (working.compareAndSet(false, true)) {
            worker = Thread.ofVirtual().name("kiln-deliver-" + program.value().substring(0, 12)).start(this::work);
        }
    }

    int waiting() {
        return queue.size();
    }

    boolean suspended() {
        return System.nanoTime() - suspendedUntilNanos < 0;
    }

    private void work() {
        while (true) {
            InboundMessage m = queue.poll();
            if (m == null) {
                working.set(false);
                // A message offered between the poll and the flag would otherwise wait for the next one.
                if (queue.isEmpty() || !working.compareAndSet(false, true)) return;
                continue;
            }
            try {
                deliver(m);
            } catch (InterruptedException e) {
                finish(m, DeliveryOutcome.DROPPED, 0, "the node is shutting down");
                working.set(false);
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "delivering " + m.hash() + " to " + program + " failed unexpectedly", e);
                finish(m, DeliveryOutcome.FAILED, 0, "the node failed to deliver it; its log has the details");
            }
        }
    }

    private void deliver(InboundMessage m) throws InterruptedException {
        if (suspended()) {
            finish(m, DeliveryOutcome.SKIPPED, 0, "the program failed its last " + failedInARow + " messages; its"
                    + " deliveries are paused until " + Instant.now().plusNanos(suspendedUntilNanos - System.nanoTime()));
            return;
        }
        String last = null;
        for (int attempt = 1; attempt <= policy.maxAttempts(); attempt++) {
            if (closed) throw new InterruptedException();
            Deliverer.Attempt a = deliverer.attempt(program, m);
            if (a.ok()) {
                failedInARow = 0;
                finish(m, DeliveryOutcome.DELIVERED, attempt, a.detail());
                return;
            }
            last = a.detail();
            LOG.log(System.Logger.Level.INFO, "delivery of " + m.hash() + " to " + program + ", attempt " + attempt
                    + " of " + policy.maxAttempts() + ": " + last);
            if (a.permanent()) {
                failed(m, attempt, last);
                return;
            }
            if (attempt < policy.maxAttempts()) Thread.sleep(policy.backoff(attempt));
        }
        failed(m, policy.maxAttempts(), last);
    }

    private void failed(InboundMessage m, int attempts, String why) {
        int n = ++failedInARow;
        if (n >= policy.suspendAfter()) {
            suspendedUntilNanos = System.nanoTime() + policy.suspension().toNanos();
            LOG.log(System.Logger.Level.WARNING, "program " + program + " failed " + n + " messages in a row; its"
                    + " deliveries pause for " + policy.suspension().toSeconds() + " s");
        }
        finish(m, DeliveryOutcome.FAILED, attempts, why);
    }

    private void finish(InboundMessage m, DeliveryOutcome outcome, int attempts, String detail) {
        Duration latency = outcome == DeliveryOutcome.DELIVERED ? Duration.ofNanos(System.nanoTime() - m.receivedNanos()) : null;
        done.accept(new Delivery(program, m.hash(), m.source(), outcome, attempts, detail, m.received(), Instant.now(), latency));
    }

    void close() {
        closed = true;
        for (InboundMessage m = queue.poll(); m != null; m = queue.poll()) {
            finish(m, DeliveryOutcome.DROPPED, 0, "the node stopped before delivering it");
        }
        Thread t = worker;
        if (t != null) t.interrupt();
    }
}
