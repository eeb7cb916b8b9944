package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;
import dev.kiln.guest.GuestInit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Installs Kiln's init: init0 at /sbin/init, init1 (the agent's package) at /root/kiln_init1, and
 * /etc/kiln/runtime (the name init1 announces); Normalise precompiles the package afterwards.
 * Checks first that the image has what init0 and init1 need, so a runtime that could never boot
 * fails here with the package to add, not in a VM with a console message.
 */
final class InstallInitStep implements BuildStep {

    /** What init0 runs before init1 (docs/guest-protocol.md, init0.sh's header). */
    private static final List<String> INIT0_TOOLS = List.of("/bin/sh", "/bin/mount", "/sbin/pivot_root", "/bin/mkdir");
    private static final List<String> PYTHONS = List.of("/usr/bin/python3", "/usr/local/bin/python3", "/bin/python3");
    private static final List<String> MOUNT_POINTS = List.of("/proc", "/sys", "/dev", "/run", "/mnt", "/root", "/etc/kiln");

    private final RuntimeSpec spec;
    private final RootFs root;

    InstallInitStep(RuntimeSpec spec, RootFs root) {
        this.spec = spec;
        this.root = root;
    }

    @Override
    public String name() {
        return "InstallInit";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofMillis(300);
    }

    @Override
    public void run(StepProgress progress) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String tool : INIT0_TOOLS) {
            if (!Files.exists(root.resolve(tool))) missing.add(tool);
        }
        if (!missing.isEmpty()) {
            throw new IOException("the image lacks " + String.join(", ", missing) + ", which init0 needs"
                    + " (Debian's essential packages provide them: do not remove util-linux, mount, coreutils or dash)");
        }
        boolean python = false;
        for (String p : PYTHONS) python |= Files.exists(root.resolve(p));
        if (!python) {
            throw new IOException("the image has no python3, which init1 (the agent) needs: add python3-minimal"
                    + " (or python3) to packages.apt");
        }
        for (String dir : MOUNT_POINTS) Images.createDirectories(root, root.resolve(dir));
        Path tmp = root.resolve("/tmp");
        Images.createDirectories(root, tmp);
        Images.setMode(tmp, 01777);

        progress.report(0.3, GuestInit.INIT0_PATH);
        write(GuestInit.INIT0_PATH, GuestInit.init0(), 0755);
        progress.report(0.6, GuestInit.INIT1_PATH);
        for (GuestInit.Init1File f : GuestInit.init1Files()) write(GuestInit.INIT1_HOME + "/" + f.path(), f.bytes(), 0644);
        String info = "name=" + spec.name() + "\nspec=" + spec.hash().value() + "\n";
        write(GuestInit.RUNTIME_INFO_PATH, info.getBytes(StandardCharsets.UTF_8), 0644);
    }

    private void write(String guestPath, byte[] bytes, int mode) throws IOException {
        Path target = root.resolve(guestPath);
        Images.createDirectories(root, target.getParent());
        // A package's /sbin/init (systemd-sysv, sysvinit-core) would be a link: replace it, never write through it.
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) Files.delete(target);
        Files.write(target, bytes);
        Images.setMode(target, mode);
    }
}
