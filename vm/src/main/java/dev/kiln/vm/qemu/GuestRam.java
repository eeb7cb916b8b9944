package dev.kiln.vm.qemu;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Guest RAM as a named memory backend (docs/snapshots.md). QEMU names a RAM block after its
 * backend, and a migration only loads into blocks of the same name, so every VM that takes part in
 * snapshots uses the backend id {@value #BACKEND_ID}:
 *
 * <ul>
 *   <li>{@link Kind#ANONYMOUS}: a VM that may be snapshotted; ordinary anonymous memory
 *       ({@code memory-backend-ram}), it just has the name;</li>
 *   <li>{@link Kind#SHARED_FILE}: the snapshot writer, a paused QEMU that receives the VM by live
 *       migration and so writes its RAM into the snapshot's {@code ram} file ({@code MAP_SHARED});</li>
 *   <li>{@link Kind#COPY_ON_WRITE}: a restored VM maps the snapshot's {@code ram} file
 *       {@code MAP_PRIVATE}: pages it only reads stay the page cache's, shared by every VM restored
 *       from that snapshot; a page it writes becomes its own copy.</li>
 * </ul>
 *
 * @param kind how the memory is backed
 * @param file the backing file; null for {@link Kind#ANONYMOUS}
 */
record GuestRam(Kind kind, Path file) {
    static final String BACKEND_ID = "kiln-ram";

    enum Kind { ANONYMOUS, SHARED_FILE, COPY_ON_WRITE }

    GuestRam {
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.ANONYMOUS) != (file == null)) throw new IllegalArgumentException(kind + " with file " + file);
        file = file == null ? null : file.toAbsolutePath().normalize();
    }

    static GuestRam anonymous() {
        return new GuestRam(Kind.ANONYMOUS, null);
    }

    static GuestRam sharedFile(Path file) {
        return new GuestRam(Kind.SHARED_FILE, file);
    }

    static GuestRam copyOnWrite(Path snapshotRam) {
        return new GuestRam(Kind.COPY_ON_WRITE, snapshotRam);
    }

    /** QEMU's {@code -object} for this backend. */
    List<String> objectArguments(int memoryMiB) {
        String size = "id=" + BACKEND_ID + ",size=" + memoryMiB + "M";
        return switch (kind) {
            case ANONYMOUS -> List.of("-object", "memory-backend-ram," + size);
            case SHARED_FILE, COPY_ON_WRITE -> List.of("-object", "memory-backend-file," + size + ",mem-path="
                    + QemuCommandLine.escape(file.toString()) + ",share=" + (kind == Kind.SHARED_FILE ? "on" : "off"));
        };
    }
}
