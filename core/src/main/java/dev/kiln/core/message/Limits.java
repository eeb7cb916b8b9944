package dev.kiln.core.message;

/**
 * Upper bounds the validator enforces. They are aleph's protocol limits (aleph-message), so a
 * message Kiln accepts is one the network would accept too; what a given node can actually host
 * is a scheduling question, answered elsewhere.
 */
public final class Limits {
    public static final int MAX_VCPUS = 256;
    /** 1 TiB. */
    public static final long MAX_MEMORY_MIB = 1024L * 1024;
    /** About ten years: guards arithmetic on durations downstream. */
    public static final long MAX_SECONDS = 10L * 365 * 24 * 3600;
    /** 1000 MiB: ephemeral volumes are scratch space. */
    public static final long MAX_EPHEMERAL_MIB = 1000;
    /** 2 TiB, for persistent volumes and instance root filesystems. */
    public static final long MAX_PERSISTENT_MIB = 2048L * 1024;

    private Limits() {}
}
