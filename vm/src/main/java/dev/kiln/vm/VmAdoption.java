package dev.kiln.vm;

import java.nio.file.Path;
import java.util.Objects;

/**
 * What a node keeps of a detached VM (one launched with {@link VmLauncher#launchDetached}) so that
 * the next node can {@link VmLauncher#adopt adopt} it: the VM's id, its work directory (where the
 * driver wrote everything else it needs: the command line, the spec, the VMM's start time) and the
 * VMM's pid. The pid alone proves nothing — pids are reused — so adoption checks the process
 * against the work directory's record before it touches it.
 */
public record VmAdoption(String vmId, Path workDir, long pid) {
    public VmAdoption {
        Objects.requireNonNull(vmId, "vmId");
        Objects.requireNonNull(workDir, "workDir");
        if (pid <= 0) throw new IllegalArgumentException("pid must be positive, got " + pid);
    }
}
