package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;
import dev.kiln.guest.GuestInit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The instance-rootfs counterpart of {@link InstallInitStep}: the distribution's systemd stays
 * PID 1, and the step only checks that what an instance needs is there (systemd as /sbin/init,
 * sshd, cloud-init) and removes what must differ per instance. Nothing of Kiln runs in the guest:
 * cloud-init reads the NoCloud seed the node writes (docs/instances.md).
 */
final class InstallSystemdStep implements BuildStep {

    /** What an instance cannot do without, with the package that provides it. */
    private static final List<String[]> REQUIRED = List.of(
            new String[]{"/sbin/init", "systemd-sysv"},
            new String[]{"/usr/sbin/sshd", "openssh-server"},
            new String[]{"/usr/bin/cloud-init", "cloud-init"});
    /** cloud-init looks only for the NoCloud seed Kiln writes (and falls back to none): probing
     *  every cloud's metadata service would cost each boot minutes of timeouts here. */
    static final String CLOUD_CONFIG = "/etc/cloud/cloud.cfg.d/90-kiln-datasource.cfg";
    private static final String DATASOURCES = "# Written by Kiln's builder: instances get a NoCloud seed drive (docs/instances.md).\n"
            + "datasource_list: [NoCloud, None]\n";

    private final RuntimeSpec spec;
    private final RootFs root;

    InstallSystemdStep(RuntimeSpec spec, RootFs root) {
        this.spec = spec;
        this.root = root;
    }

    @Override
    public String name() {
        return "InstallSystemd";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofMillis(200);
    }

    @Override
    public void run(StepProgress progress) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String[] r : REQUIRED) {
            if (!Files.exists(root.resolve(r[0]))) missing.add(r[0] + " (" + r[1] + ")");
        }
        if (!missing.isEmpty()) {
            throw new IOException("an instance image (" + spec.kind() + ") needs " + String.join(", ", missing)
                    + ": add the packages to packages.apt");
        }
        // openssh-server's postinst generated host keys during the build: every instance would share
        // them (and the image would differ per build). cloud-init generates each instance's own.
        try (DirectoryStream<Path> keys = Files.newDirectoryStream(root.resolve("/etc/ssh"), "ssh_host_*")) {
            for (Path key : keys) Files.delete(key);
        }
        write(CLOUD_CONFIG, DATASOURCES.getBytes(StandardCharsets.UTF_8));
        String info = "name=" + spec.name() + "\nspec=" + spec.hash().value() + "\nkind=" + spec.kind() + "\n";
        write(GuestInit.RUNTIME_INFO_PATH, info.getBytes(StandardCharsets.UTF_8));
    }

    private void write(String guestPath, byte[] bytes) throws IOException {
        Path target = root.resolve(guestPath);
        Images.createDirectories(root, target.getParent());
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) Files.delete(target);
        Files.write(target, bytes);
        Images.setMode(target, 0644);
    }
}
