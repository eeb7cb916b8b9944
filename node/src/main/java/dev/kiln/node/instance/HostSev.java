package dev.kiln.node.instance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * Whether this host can run AMD SEV guests: the kernel's {@code /dev/sev} device (the PSP driver)
 * or, failing that, the CPU's {@code sev} flag. Confidential instances are refused on a host with
 * neither, naming what is missing.
 */
public record HostSev(boolean device, boolean cpuFlag) {
    private static final Pattern SEV_FLAG = Pattern.compile("(?m)^flags\\s*:.*\\bsev\\b");

    /** This host, probed now. */
    public static HostSev probe() {
        return probe(Path.of("/dev/sev"), Path.of("/proc/cpuinfo"));
    }

    static HostSev probe(Path device, Path cpuinfo) {
        boolean flag;
        try {
            flag = Files.isReadable(cpuinfo) && SEV_FLAG.matcher(Files.readString(cpuinfo)).find();
        } catch (IOException unreadable) {
            flag = false;
        }
        return new HostSev(Files.exists(device), flag);
    }

    public boolean available() {
        return device || cpuFlag;
    }

    /** Why a confidential instance cannot run here. */
    public String refusal() {
        if (!available()) {
            return "this host has no AMD SEV (no /dev/sev device and no 'sev' CPU flag): confidential instances"
                    + " need a host with AMD SEV enabled";
        }
        return "this host has AMD SEV (" + (device ? "/dev/sev" : "the CPU's sev flag") + "), but this node does"
                + " not boot confidential instances yet (their firmware is not fetched and measured)";
    }
}
