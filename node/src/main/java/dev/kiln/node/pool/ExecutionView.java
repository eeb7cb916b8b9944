package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.vm.VmState;
import java.time.Duration;
import java.time.Instant;

/** What /about/executions/list shows of one running execution. */
public record ExecutionView(String id, String vmId, ItemHash program, ItemHash runtime, VmState state,
                            String accelerator, Instant startedAt, Duration uptime, Duration boot, StartKind start,
                            Execution.BootBreakdown bootBreakdown,
                            long requestsServed, int inFlight, long memoryMiB, long pid) {
}
