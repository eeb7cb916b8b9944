package dev.kiln.vm.instance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * An instance's cloud-init NoCloud seed: an ISO 9660 volume labelled {@code cidata} holding
 * {@code meta-data}, {@code user-data} and {@code network-config}, which the guest's own
 * cloud-init reads at boot (docs/instances.md). Nothing of Kiln runs in the guest.
 *
 * @param instanceId     cloud-init's instance id: a new id makes cloud-init configure the disk
 *                       again, so it is the VM's identity, stable across its reboots
 * @param hostname       the guest's host name
 * @param authorizedKeys public keys root (and cloud-init's default user) accept
 * @param variables      the message's {@code variables}, written to {@link #VARIABLES_PATH} as
 *                       {@code KEY=value} lines (an EnvironmentFile for systemd units)
 * @param mounts         drives cloud-init mounts (its {@code mounts} module, an fstab entry)
 */
public record SeedDrive(String instanceId, String hostname, List<String> authorizedKeys, Map<String, String> variables,
                        List<Mount> mounts) {

    /**
     * A drive the guest mounts at {@code mountPoint}.
     *
     * @param device   the guest's path of the drive, e.g. {@code /dev/disk/by-id/virtio-kiln-volume-0}
     * @param readOnly mounted {@code ro} (an immutable volume) or {@code rw} (a persistent or scratch one)
     */
    public record Mount(String device, String mountPoint, boolean readOnly) {
        private static final Pattern PATH = Pattern.compile("/[A-Za-z0-9._/+-]{0,4095}");

        /** A read-only mount. */
        public Mount(String device, String mountPoint) {
            this(device, mountPoint, true);
        }

        public Mount {
            if (!PATH.matcher(device).matches()) throw new IllegalArgumentException("device '" + device + "' is not a plain path");
            if (!PATH.matcher(mountPoint).matches() || mountPoint.equals("/") || mountPoint.contains("..")) {
                throw new IllegalArgumentException("mount point '" + mountPoint + "' must be an absolute path of"
                        + " letters, digits and ._/+- (not / itself, no ..)");
            }
        }
    }

    /** A seed without extra mounts. */
    public SeedDrive(String instanceId, String hostname, List<String> authorizedKeys, Map<String, String> variables) {
        this(instanceId, hostname, authorizedKeys, variables, List.of());
    }

    /** Where the user's variables land in the guest. */
    public static final String VARIABLES_PATH = "/etc/kiln/variables";
    private static final Pattern HOSTNAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    private static final Pattern KEY = Pattern.compile("[^\\n\\r]{1,16384}");
    private static final Pattern VARIABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

    public SeedDrive {
        Objects.requireNonNull(instanceId, "instanceId");
        Objects.requireNonNull(hostname, "hostname");
        if (!ID.matcher(instanceId).matches()) throw new IllegalArgumentException("instance id '" + instanceId + "' must be [A-Za-z0-9._-]");
        if (!HOSTNAME.matcher(hostname).matches()) {
            throw new IllegalArgumentException("host name '" + hostname + "' must be lower-case letters, digits and '-' (at most 63)");
        }
        authorizedKeys = List.copyOf(authorizedKeys);
        for (String k : authorizedKeys) {
            if (!KEY.matcher(k).matches()) throw new IllegalArgumentException("an authorized key must be one line of text");
        }
        variables = new TreeMap<>(variables);
        mounts = List.copyOf(mounts);
        for (var e : variables.entrySet()) {
            if (!VARIABLE.matcher(e.getKey()).matches()) {
                throw new IllegalArgumentException("variable name '" + e.getKey() + "' must be a shell identifier");
            }
            if (e.getValue().indexOf('\n') >= 0 || e.getValue().indexOf('\0') >= 0) {
                throw new IllegalArgumentException("variable " + e.getKey() + " must be one line");
            }
        }
    }

    String metaData() {
        return "instance-id: " + instanceId + "\nlocal-hostname: " + hostname + "\n";
    }

    /** cloud-config; every string is written as a JSON string, which YAML reads as it is. */
    String userData() {
        StringBuilder y = new StringBuilder("#cloud-config\n");
        y.append("hostname: ").append(hostname).append('\n');
        // Debian's cloud-init refuses root logins by default; aleph's instances are entered as root.
        y.append("disable_root: false\n");
        y.append("ssh_pwauth: false\n");
        // The image ships only C.UTF-8; cloud-init's default en_US.UTF-8 fails to apply.
        y.append("locale: C.UTF-8\n");
        y.append("ssh_authorized_keys:\n");
        for (String k : authorizedKeys) y.append("  - ").append(json(k)).append('\n');
        StringBuilder env = new StringBuilder();
        variables.forEach((k, v) -> env.append(k).append('=').append(v).append('\n'));
        y.append("write_files:\n");
        y.append("  - path: ").append(VARIABLES_PATH).append('\n');
        y.append("    permissions: '0600'\n");
        y.append("    content: ").append(json(env.toString())).append('\n');
        if (!mounts.isEmpty()) {
            // nofail: a missing drive must not hold the boot in emergency mode.
            y.append("mounts:\n");
            for (Mount m : mounts) {
                y.append("  - [").append(json(m.device())).append(", ").append(json(m.mountPoint()))
                        .append(", \"auto\", \"").append(m.readOnly() ? "ro" : "rw").append(",nofail\", \"0\", \"0\"]\n");
            }
        }
        return y.toString();
    }

    /**
     * Network config version 2: DHCP on the NIC. The entry is named eth0, the name the guest's
     * kernel gives it: Debian's "eni" renderer (ifupdown) writes an interface by the entry's
     * name and ignores {@code match}, which netplan and networkd use (Ubuntu).
     */
    String networkConfig() {
        return "version: 2\nethernets:\n  eth0:\n    match:\n      name: \"e*\"\n    dhcp4: true\n";
    }

    /**
     * Writes the seed ISO to {@code iso} with genisoimage (files staged next to it, then removed).
     *
     * @throws IOException naming genisoimage's problem, or that it is missing
     */
    public Path write(Path iso) throws IOException, InterruptedException {
        Path staging = Files.createTempDirectory(iso.toAbsolutePath().getParent(), ".seed-");
        try {
            Files.writeString(staging.resolve("meta-data"), metaData(), StandardCharsets.UTF_8);
            Files.writeString(staging.resolve("user-data"), userData(), StandardCharsets.UTF_8);
            Files.writeString(staging.resolve("network-config"), networkConfig(), StandardCharsets.UTF_8);
            List<String> argv = new ArrayList<>(List.of("genisoimage", "-quiet", "-output", iso.toString(),
                    "-volid", "cidata", "-joliet", "-rock"));
            for (String f : List.of("meta-data", "user-data", "network-config")) argv.add(staging.resolve(f).toString());
            Tools.run(argv, "genisoimage (package genisoimage, scripts/setup.sh installs it)");
            return iso;
        } finally {
            try (var files = Files.list(staging)) {
                for (Path f : files.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(staging);
        }
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
