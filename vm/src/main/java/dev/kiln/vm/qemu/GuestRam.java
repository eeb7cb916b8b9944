package dev.kiln.vm.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Guest RAM in a file instead of QEMU's anonymous memory (docs/snapshots.md).
 *
 * <p>{@code shared}: a VM that may be snapshotted maps a file of its own {@code MAP_SHARED}, so
 * that saving it writes no RAM into the migration stream (QEMU's {@code x-ignore-shared}) and the
 * snapshot's RAM is a copy of that file. The file lives on {@code /dev/shm} (shared memory: it costs
 * what anonymous memory costs, and is never written back to a disk).
 *
 * <p>Not shared: a restored VM maps the snapshot's RAM file {@code MAP_PRIVATE}: pages it only reads
 * stay the page cache's, shared by every VM restored from that snapshot; a page it writes becomes
 * its own copy.
 *
 * @param file   the backing file
 * @param shared true for a VM's own file, false for a snapshot's (copy-on-write)
 */
record GuestRam(Path file, boolean shared) {
    static final String BACKEND_ID = "kiln-ram";
    private static final String SUFFIX = ".ram";

    GuestRam {
        Objects.requireNonNull(file, "file");
        file = file.toAbsolutePath().normalize();
    }

    /**
     * A fresh shared RAM file for one VM, named after this JVM so that a later launcher can tell
     * the files of dead nodes (see {@link #sweep}).
     */
    static GuestRam sharedFor(String vmId) {
        return new GuestRam(directory().resolve(ProcessHandle.current().pid() + "-" + vmId + SUFFIX), true);
    }

    /** The snapshot's RAM, mapped privately. */
    static GuestRam copyOnWrite(Path snapshotRam) {
        return new GuestRam(snapshotRam, false);
    }

    /** QEMU's {@code -object} for this backend. */
    List<String> objectArguments(int memoryMiB) {
        return List.of("-object", "memory-backend-file,id=" + BACKEND_ID + ",size=" + memoryMiB + "M,mem-path="
                + QemuCommandLine.escape(file.toString()) + ",share=" + (shared ? "on" : "off"));
    }

    /** Removes the VM's own file (never a snapshot's). */
    void release() {
        if (!shared) return;
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            System.getLogger(GuestRam.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot remove guest RAM file " + file + ": " + e.getMessage() + "; it holds memory until removed");
        }
    }

    /** Deletes the RAM files of JVMs that are gone (a node killed with running VMs leaves them in shared memory). */
    static void sweep() {
        Path dir = directory();
        if (!Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            for (Path f : s.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).toList()) {
                String name = f.getFileName().toString();
                int dash = name.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(name.substring(0, Math.max(0, dash)));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) continue;
                Files.deleteIfExists(f);
            }
        } catch (IOException e) {
            // best effort: a leftover file costs memory, not correctness
        }
    }

    private static Path directory() {
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        Path shm = Path.of("/dev/shm");
        Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm : Path.of(System.getProperty("java.io.tmpdir"));
        return base.resolve("kiln-" + user).resolve("guest-ram");
    }
}
