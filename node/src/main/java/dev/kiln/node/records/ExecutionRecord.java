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
 */
public record ExecutionRecord(String id, ItemHash program, ItemHash runtime, String accelerator, String state,
                              Instant startedAt, Duration boot, Instant endedAt, long requests, String reason,
                              String endedBy) {
    public ExecutionRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(program, "program");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(startedAt, "startedAt");
    }

    public ExecutionRecord ready(String newState, Duration bootDuration) {
        return new ExecutionRecord(id, program, runtime, accelerator, newState, startedAt, bootDuration, endedAt,
                requests, reason, endedBy);
    }

    public ExecutionRecord ended(String finalState, Instant at, long served, String why, String endedByWord) {
        return new ExecutionRecord(id, program, runtime, accelerator, finalState, startedAt, boot, at, served, why,
                endedByWord);
    }
}
