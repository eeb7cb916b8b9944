package dev.kiln.vm.instance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Recognises an instance's QEMU among the host's processes. A recorded pid alone proves nothing:
 * after a host reboot or a crash the number may belong to any process. A pid is the instance's
 * QEMU only if its command line names the instance ({@code -name}) and its disk; a zombie (empty
 * command line) or another program is not.
 */
final class QemuProcesses {
    private QemuProcesses() {
    }

    static boolean isInstance(long pid, InstanceSpec spec) {
        List<String> argv = commandLine(pid);
        int name = argv.indexOf("-name");
        if (name < 0 || name + 1 >= argv.size() || !argv.get(name + 1).equals(spec.name())) return false;
        String disk = "file=" + spec.disk().toAbsolutePath().toString().replace(",", ",,");
        return argv.stream().anyMatch(a -> a.contains(disk));
    }

    /** The process's argv, empty if it is gone, a zombie, or not readable. */
    static List<String> commandLine(long pid) {
        if (pid <= 0) return List.of();
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            if (raw.length == 0) return List.of();
            return Arrays.asList(new String(raw, StandardCharsets.UTF_8).split("\0"));
        } catch (IOException gone) {
            return List.of();
        }
    }
}
