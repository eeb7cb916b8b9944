package dev.kiln.vm.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.vm.snapshot.Snapshot;
import dev.kiln.vm.snapshot.SnapshotException;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A restore's middle step, between QEMU's start ({@code -incoming defer}, RAM mapped from the
 * snapshot) and the guest channel: checks that this QEMU is the one that saved, loads the device
 * state, and lets the guest run on.
 */
final class SnapshotIncoming {
    private static final Duration CALL = Duration.ofSeconds(2);

    /** Phases of a restore, for records and benchmarks. */
    record Timings(Duration vmmStart, Duration load) {}

    private final Snapshot snapshot;
    private volatile Timings timings;

    SnapshotIncoming(Snapshot snapshot) {
        this.snapshot = snapshot;
    }

    Snapshot snapshot() {
        return snapshot;
    }

    /** Null until {@link #load} succeeded. */
    Timings timings() {
        return timings;
    }

    /**
     * @param qmp     the new QEMU's monitor (connected once QEMU is up)
     * @param started when QEMU was started (System.nanoTime)
     * @throws SnapshotException INCOMPATIBLE for another QEMU version, FAILED if QEMU refuses the state
     */
    void load(QmpClient qmp, long started, long deadlineNanos) throws SnapshotException, InterruptedException {
        long up = System.nanoTime();
        String version = QemuVersion.of(qmp);
        if (!version.equals(snapshot.manifest().qemu())) {
            throw new SnapshotException(SnapshotException.Reason.INCOMPATIBLE, "snapshot " + snapshot.directory()
                    + " was taken by QEMU " + snapshot.manifest().qemu() + ", this is QEMU " + version);
        }
        try {
            // Both ends must agree: without it QEMU would expect the RAM pages in the state file.
            qmp.execute("migrate-set-capabilities", Map.of("capabilities",
                    List.of(Map.of("capability", "x-ignore-shared", "state", true))), CALL);
            qmp.execute("migrate-incoming", Map.of("uri", "exec:cat " + QemuSnapshotter.shellQuote(snapshot.state().toString())), CALL);
            JsonNode r = MigrationWait.until(qmp, deadlineNanos, "loading the snapshot's device state");
            if (!"completed".equals(r.path("status").asText())) {
                throw new SnapshotException(SnapshotException.Reason.FAILED, "QEMU could not load the snapshot's device state: "
                        + r.path("error-desc").asText(r.path("status").asText()));
            }
            // The source was paused when it saved, so the copy starts paused too.
            if (!"running".equals(qmp.queryStatus(CALL))) qmp.execute("cont", null, CALL);
        } catch (QmpException e) {
            throw new SnapshotException(SnapshotException.Reason.FAILED, "QEMU refused the snapshot " + snapshot.directory()
                    + ": " + e.getMessage() + " (QEMU's own words are in the console log)", e);
        }
        timings = new Timings(Duration.ofNanos(up - started), Duration.ofNanos(System.nanoTime() - up));
    }
}
