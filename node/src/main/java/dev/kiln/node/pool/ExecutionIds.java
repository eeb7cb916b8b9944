package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Execution ids unique across node restarts: {@code <program short hash>-<node start>-<n>}, where
 * the node start is a number the records hand out once per start
 * ({@link dev.kiln.node.records.ExecutionRecords#beginNodeStart()}) and {@code n} counts this
 * start's executions. A new execution can therefore never overwrite the row of an older one.
 */
final class ExecutionIds {
    private final long nodeStart;
    private final AtomicLong count = new AtomicLong();

    ExecutionIds(long nodeStart) {
        this.nodeStart = nodeStart;
    }

    String next(ItemHash program) {
        return program.shortForm() + "-" + nodeStart + "-" + count.incrementAndGet();
    }
}
