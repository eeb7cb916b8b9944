package dev.kiln.node.persistent;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * The failures of one persistent program, for its {@link RestartPolicy}: the recent ones decide
 * the next delay or that it has {@link Status#FAILED failed}; the total is what operators see.
 * Synchronized per program (one program's deaths are rare and never meet another's).
 */
public final class RestartHistory {
    /** Where a persistent program stands between its executions. */
    public enum Status { RUNNING, RESTARTING, FAILED }

    /** What the next attempt is: after {@code delay}, or none ({@code delay} null: FAILED). */
    public record Decision(Duration delay, Instant at, int recentFailures) {
        public boolean gaveUp() {
            return delay == null;
        }
    }

    /** What operators see of it. */
    public record View(Status status, int restarts, Instant nextAttempt, String lastFailure) {
    }

    private final RestartPolicy policy;
    private final Deque<Instant> recent = new ArrayDeque<>();
    private int restarts;
    private Status status = Status.RUNNING;
    private Instant nextAttempt;
    private String lastFailure;

    public RestartHistory(RestartPolicy policy) {
        this.policy = policy;
    }

    /** The program's VM ended by itself at {@code now} because of {@code why}. */
    public synchronized Decision failed(Instant now, String why) {
        lastFailure = why;
        recent.addLast(now);
        while (!recent.isEmpty() && recent.peekFirst().isBefore(now.minus(policy.window()))) recent.removeFirst();
        if (recent.size() >= policy.maxFailures()) {
            status = Status.FAILED;
            nextAttempt = null;
            return new Decision(null, null, recent.size());
        }
        Duration delay = policy.delay(recent.size());
        status = Status.RESTARTING;
        nextAttempt = now.plus(delay);
        restarts++;
        return new Decision(delay, nextAttempt, recent.size());
    }

    /** A new execution is serving. */
    public synchronized void running() {
        status = Status.RUNNING;
        nextAttempt = null;
    }

    public synchronized boolean hasFailed() {
        return status == Status.FAILED;
    }

    public synchronized View view() {
        return new View(status, restarts, nextAttempt, lastFailure);
    }
}
