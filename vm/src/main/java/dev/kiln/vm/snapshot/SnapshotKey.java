package dev.kiln.vm.snapshot;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a snapshot is filed under: a SHA-256 over everything that shaped the guest, so a snapshot
 * is only ever restored for the exact guest it was taken from. Any change of a part gives another
 * key, and the old snapshot is simply never found again (the store's LRU removes it in time).
 *
 * <pre>{@code
 * SnapshotKey key = SnapshotKey.builder()
 *         .kernel(kernelHash).runtime(runtimeItemHash).code(codeItemHash).data(null)
 *         .volume("/dev/vdc", volumeItemHash).variables(message.variables())
 *         .memoryMiB(256).vcpus(1).guestConfig("hostname", "vm-0f20").build();
 * }</pre>
 *
 * <p>Canonical form: every part is written as a length-prefixed name and value in one fixed order
 * (variables and guest config sorted by name, volumes in their device order, which matters), with
 * a format version first, so that no two different sets of parts can encode to the same bytes.
 */
public record SnapshotKey(String value) {
    /** Bumped when the key's canonical form or the meaning of a part changes. */
    static final int FORMAT = 1;
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

    public SnapshotKey {
        Objects.requireNonNull(value, "value");
        if (!HEX.matcher(value).matches()) throw new IllegalArgumentException("a snapshot key is 64 lower-case hex digits, got '" + value + "'");
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Short form for logs and directory listings. */
    public String shortForm() {
        return value.substring(0, 12);
    }

    @Override
    public String toString() {
        return value;
    }

    /** Collects the parts; every part is optional, an absent part is encoded as absent (not as empty). */
    public static final class Builder {
        private String kernel;
        private String runtime;
        private String code;
        private String data;
        private final List<String[]> volumes = new ArrayList<>();
        private final TreeMap<String, String> variables = new TreeMap<>();
        private Integer memoryMiB;
        private Integer vcpus;
        private final TreeMap<String, String> guestConfig = new TreeMap<>();

        private Builder() {
        }

        /** The guest kernel's identity (its content hash or build id). */
        public Builder kernel(String identity) {
            this.kernel = identity;
            return this;
        }

        /** The runtime's item hash (or image hash). */
        public Builder runtime(String identity) {
            this.runtime = identity;
            return this;
        }

        public Builder code(String identity) {
            this.code = identity;
            return this;
        }

        public Builder data(String identity) {
            this.data = identity;
            return this;
        }

        /** One volume, in the order they are attached (its device and its content's identity). */
        public Builder volume(String device, String identity) {
            volumes.add(new String[]{Objects.requireNonNull(device, "device"), identity});
            return this;
        }

        public Builder variables(Map<String, String> vars) {
            if (vars != null) vars.forEach((k, v) -> variables.put(Objects.requireNonNull(k, "variable name"), v));
            return this;
        }

        public Builder memoryMiB(int mib) {
            this.memoryMiB = mib;
            return this;
        }

        public Builder vcpus(int count) {
            this.vcpus = count;
            return this;
        }

        /** A node setting the guest sees (hostname scheme, agent version, network shape, …). */
        public Builder guestConfig(String name, String value) {
            guestConfig.put(Objects.requireNonNull(name, "name"), value);
            return this;
        }

        public SnapshotKey build() {
            Canonical c = new Canonical();
            c.integer("format", FORMAT);
            c.text("kernel", kernel);
            c.text("runtime", runtime);
            c.text("code", code);
            c.text("data", data);
            c.integer("volumes", volumes.size());
            for (String[] v : volumes) {
                c.text("volume.device", v[0]);
                c.text("volume.identity", v[1]);
            }
            c.map("variables", variables);
            c.text("memory_mib", memoryMiB == null ? null : memoryMiB.toString());
            c.text("vcpus", vcpus == null ? null : vcpus.toString());
            c.map("guest_config", guestConfig);
            return new SnapshotKey(c.digest());
        }
    }

    /** Length-prefixed fields: "a" + "bc" and "ab" + "c" never collide; null differs from "". */
    private static final class Canonical {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        void text(String name, String value) {
            bytes(name.getBytes(StandardCharsets.UTF_8));
            if (value == null) {
                out.write(0);
            } else {
                out.write(1);
                bytes(value.getBytes(StandardCharsets.UTF_8));
            }
        }

        void integer(String name, int value) {
            text(name, Integer.toString(value));
        }

        void map(String name, TreeMap<String, String> map) {
            integer(name, map.size());
            map.forEach((k, v) -> {
                text(name + ".name", k);
                text(name + ".value", v);
            });
        }

        private void bytes(byte[] b) {
            out.writeBytes(ByteBuffer.allocate(4).putInt(b.length).array());
            out.writeBytes(b);
        }

        String digest() {
            try {
                return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(out.toByteArray()));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("SHA-256 is missing from this JDK", e);
            }
        }
    }
}
