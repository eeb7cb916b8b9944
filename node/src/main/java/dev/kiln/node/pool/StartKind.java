package dev.kiln.node.pool;

/**
 * How an execution gets from STARTING to SERVING. Only {@link #BOOT} exists in the pool today;
 * a restore from a snapshot is the second start path: the same STARTING → SERVING move, made by
 * a restore step instead of {@link ColdStart}'s launch and configure, with nothing else in the
 * machine changing (docs/node.md, "The execution state machine").
 */
public enum StartKind {
    /** A full boot: VMM, kernel, init, then the program configured. */
    BOOT,
    /** A VM restored from a snapshot, its program already configured. */
    RESTORE,
    /** A persistent program's VM left running by an earlier node and taken over by this one. */
    ADOPT
}
