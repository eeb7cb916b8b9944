package dev.kiln.vm.qemu;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Where one VM keeps its files (docs/vm.md, "Work directory").
 *
 * <pre>
 * workDir/
 *   console.log      the guest's serial console; when the VM ends, QEMU's own output is appended
 *                    and the file moves to the launcher's log directory (the newest N are kept)
 *   vmm.log          QEMU's own stdout/stderr while it runs
 *   guest.sock       the virtio-serial port "kiln" (QEMU listens, the host connects)
 *   qmp.sock         QEMU's QMP monitor
 *   cons.sock        the serial console: the driver listens, QEMU connects (the driver bounds the log)
 * </pre>
 *
 * A Unix socket's path may not exceed 107 bytes; when {@code workDir} is too deep for that, the
 * two sockets live in a private directory under {@code java.io.tmpdir} named after a hash of the
 * work directory instead, so any Kiln home works.
 */
public record VmFiles(Path workDir, Path guestSocket, Path qmpSocket, Path consoleLog, Path vmmLog) {

    /** Longest socket path the kernel accepts (sun_path is 108 bytes with the terminating NUL). */
    static final int MAX_SOCKET_PATH = 107;

    public VmFiles {
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(guestSocket, "guestSocket");
        Objects.requireNonNull(qmpSocket, "qmpSocket");
        Objects.requireNonNull(consoleLog, "consoleLog");
        Objects.requireNonNull(vmmLog, "vmmLog");
    }

    /** The layout for a work directory (made absolute). Creates nothing. */
    public static VmFiles in(Path workDir) {
        Path dir = workDir.toAbsolutePath().normalize();
        Path sockets = fits(dir.resolve("guest.sock")) ? dir : shortSocketDirectory(dir);
        return new VmFiles(dir, sockets.resolve("guest.sock"), sockets.resolve("qmp.sock"),
                dir.resolve("console.log"), dir.resolve("vmm.log"));
    }

    /** The directory holding the sockets: the work directory itself unless its path is too long. */
    public Path socketDirectory() {
        return guestSocket.getParent();
    }

    /**
     * Where the driver listens for QEMU's serial console (QEMU connects to it; see
     * {@link QemuCommandLine#withConsoleSocket}). Beside the other sockets, its name no longer
     * than theirs so that it fits where they fit.
     */
    public Path consoleSocket() {
        return socketDirectory().resolve("cons.sock");
    }

    /** True if the sockets had to move out of the work directory. */
    public boolean socketsElsewhere() {
        return !socketDirectory().equals(workDir);
    }

    private static boolean fits(Path socket) {
        return socket.toString().getBytes(StandardCharsets.UTF_8).length <= MAX_SOCKET_PATH;
    }

    private static Path shortSocketDirectory(Path workDir) {
        String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
        Path base = Path.of(System.getProperty("java.io.tmpdir"), "kiln-" + user, "vm-sockets");
        return base.resolve(hash(workDir.toString()));
    }

    private static String hash(String text) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
