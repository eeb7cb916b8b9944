package dev.kiln.node.console;

import dev.kiln.node.logs.LogStore;
import dev.kiln.node.pool.ExecutionPool;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.store.KilnHome;
import java.time.Instant;

/**
 * What the console reads: the pool (live), the records (history), the logs, the series.
 *
 * @param accelerator the accelerator's id and why it was chosen
 */
record ConsoleContext(ExecutionPool pool, NodeRecords records, KilnHome home, LocalRuntimeList localRuntimes, LogStore logs,
                      NodeSeries series,
                      String accelerator, String version, Instant startedAt) {
}
