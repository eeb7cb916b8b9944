package dev.kiln.vm.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * A VM's {@link VmFiles} on disk: made ready before QEMU starts, cleared once it has exited. What
 * stays afterwards is the console log, moved to the launcher's log directory (the newest
 * {@code kept} of them are kept).
 */
record WorkDirectory(VmFiles files, Path logDirectory, int kept) {
    private static final System.Logger LOG = System.getLogger(WorkDirectory.class.getName());

    /** Creates the directories and removes what a VMM killed with its node left behind. */
    void prepare() throws IOException {
        Files.createDirectories(files.workDir());
        if (files.socketsElsewhere()) {
            Files.createDirectories(files.socketDirectory().getParent());
            if (!Files.isDirectory(files.socketDirectory())) {
                Files.createDirectory(files.socketDirectory(),
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            }
        }
        // QEMU would replace them, but a stale socket must never be mistaken for this VM's.
        Files.deleteIfExists(files.guestSocket());
        Files.deleteIfExists(files.qmpSocket());
        Files.deleteIfExists(files.vmmLog());
        if (Files.exists(files.consoleLog())) {
            // A VM of this directory did not end through this driver (its node died): keep its story.
            ConsoleLog.archive(files.consoleLog(), logDirectory, files.workDir().getFileName() + "-unfinished", kept);
        }
    }

    /**
     * After QEMU exited: removes the sockets and QEMU's log (its output appended to the console
     * log first), archives the console log as {@code vmId}'s, and removes the work directory if
     * nothing else is in it. Problems are logged, not thrown: the VM is over either way.
     *
     * @return where the console log is now; null if it could not be moved (it stays where it was)
     */
    Path clear(String vmId, String vmmOutput) {
        try {
            Files.deleteIfExists(files.guestSocket());
            Files.deleteIfExists(files.qmpSocket());
            if (files.socketsElsewhere()) Files.deleteIfExists(files.socketDirectory());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "VM " + vmId + ": cannot remove its sockets: " + e.getMessage());
        }
        ConsoleLog.appendVmmOutput(files, vmmOutput);
        try {
            Files.deleteIfExists(files.vmmLog());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "VM " + vmId + ": cannot remove " + files.vmmLog() + ": " + e.getMessage());
        }
        Path archived = null;
        try {
            if (Files.exists(files.consoleLog())) archived = ConsoleLog.archive(files.consoleLog(), logDirectory, vmId, kept);
            // The node's directory for this VM: removed only if nothing but ours was in it.
            try (var left = Files.list(files.workDir())) {
                if (left.findAny().isEmpty()) Files.deleteIfExists(files.workDir());
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "VM " + vmId + ": cannot move its console log to " + logDirectory + ": " + e.getMessage());
        }
        return archived;
    }
}
