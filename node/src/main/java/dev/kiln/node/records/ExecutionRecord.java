package dev.kiln.node.records;

import dev.kiln.core.hash.ItemHash;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * One VM the node ran for a program, as last seen: written when the boot starts, when the VM is
 * ready and when it ends.
 *
 * @param id       unique across node restarts ({@code <short hash>-<node start>-<n>})
 * @param state    the VM's state name ({@code BOOTING}, {@code READY}, {@code STOPPED}, {@code FAILED})
 * @param boot     from launching the VMM to the program configured, or null while booting / if it failed
 * @param requests requests served (counted when the VM ends)
 * @param reason   why it ended, in words (idle for 30 s, node shutdown, the VMM exited…), or null while running
 * @param endedBy  why it ended, as a stable word ({@code idle}, {@code vm_died}, {@code node_stopped_uncleanly}…)
 * @param start    how the VM got to serving: {@code boot} or {@code restore} (from a snapshot); null while starting
 * @param phases   how long each part of that start took, or null while starting / if it failed
 */
public record ExecutionRecord(String id, ItemHash program, ItemHash runtime, String accelerator, String state,
                              Instant startedAt, Duration boot, Instant endedAt, long requests, String reason,
                              String endedBy, String start, Phases phases) {
    /**
     * The parts of a start: resolving the program; the VM up to the agent's hello (a boot, or a
     * restore's QEMU start and state load); configuring the program (a boot) or the restored copy's
     * refresh (a restore).
     */
    public record Phases(Duration resolve, Duration vm, Duration configure) {
    }

    public ExecutionRecord(String id, ItemHash program, ItemHash runtime, String accelerator, String state,
                           Instant startedAt, Duration boot, Instant endedAt, long requests, String reason, String endedBy) {
        this(id, program, runtime, accelerator, state, startedAt, boot, endedAt, requests, reason, endedBy, null, null);
    }

    public ExecutionRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(startedAt, "startedAt");
    }

    /** The same start, in another state (the end of a VM keeps how it started). */
    public ExecutionRecord ready(String newState, Duration bootDuration) {
        return ready(newState, bootDuration, start, phases);
    }

    public ExecutionRecord ready(String newState, Duration bootDuration, String startKind, Phases parts) {
        return new ExecutionRecord(id, program, runtime, accelerator, newState, startedAt, bootDuration, endedAt,
                requests, reason, endedBy, startKind, parts);
    }

    public ExecutionRecord ended(String finalState, Instant at, long served, String why, String endedByWord) {
        return new ExecutionRecord(id, program, runtime, accelerator, finalState, startedAt, boot, at, served, why,
                endedByWord, start, phases);
    }
}
