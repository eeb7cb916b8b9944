package dev.kiln.vm.qemu;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.Set;

/** Polls {@code query-migrate} until a migration (outgoing or incoming) ends. */
final class MigrationWait {
    private static final Set<String> ENDED = Set.of("completed", "failed", "cancelled");
    private static final Duration CALL = Duration.ofSeconds(2);

    private MigrationWait() {
    }

    /**
     * @return the final {@code query-migrate} answer ({@code status} completed, failed or cancelled)
     * @throws QmpException if QEMU stops answering (an incoming migration that fails makes QEMU exit)
     *                      or the migration has not ended by the deadline
     */
    static JsonNode until(QmpClient qmp, long deadlineNanos, String what) throws QmpException, InterruptedException {
        while (true) {
            JsonNode r = qmp.execute("query-migrate", null, CALL);
            if (ENDED.contains(r.path("status").asText())) return r;
            if (System.nanoTime() > deadlineNanos) {
                throw new QmpException(what + " did not finish in time (status " + r.path("status").asText() + ")");
            }
            // A save or load of a small device state takes milliseconds: poll finely.
            Thread.sleep(1);
        }
    }
}
