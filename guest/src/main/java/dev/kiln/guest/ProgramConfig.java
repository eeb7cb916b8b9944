package dev.kiln.guest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A program's configuration as the agent receives it (docs/guest-protocol.md §5). The node builds
 * it from a PROGRAM message; item hashes are plain strings here so that this module depends on no
 * other Kiln module.
 */
public record ProgramConfig(String itemHash, Interface programInterface, Code code, Map<String, String> variables,
                            List<Volume> volumes, Attachment data, String dataMount, Network network,
                            String hostname, List<String> sshAuthorizedKeys, int port, Duration startupTimeout,
                            String guestApiSocket) {

    /** Where aleph's programs find the guest API (its ALEPH_API_UNIX_SOCKET); docs/guest-api.md. */
    public static final String DEFAULT_GUEST_API_SOCKET = "/tmp/socat-socket";

    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    public enum Interface { ASGI, EXECUTABLE }

    public enum Encoding { PLAIN, ZIP, SQUASHFS }

    /**
     * Where the code comes from: {@code inline} bytes (plain, zip), a block {@code device}
     * (squashfs), or a {@code path} already holding the code inside the guest.
     */
    public record Code(Encoding encoding, String entrypoint, Attachment inline, String device, String path) {
        public Code {
            Objects.requireNonNull(encoding, "encoding");
            Objects.requireNonNull(entrypoint, "entrypoint");
            int sources = (inline != null ? 1 : 0) + (device != null ? 1 : 0) + (path != null ? 1 : 0);
            if (sources != 1) throw new IllegalArgumentException("code needs exactly one of inline bytes, device, path");
        }

        public static Code plain(String entrypoint, byte[] source) {
            return new Code(Encoding.PLAIN, entrypoint, Attachment.of(source), null, null);
        }

        public static Code zip(String entrypoint, Attachment archive) {
            return new Code(Encoding.ZIP, entrypoint, archive, null, null);
        }

        public static Code squashfs(String entrypoint, String device) {
            return new Code(Encoding.SQUASHFS, entrypoint, null, device, null);
        }

        /** Code already present in the guest (baked into the runtime, or prepared by the node). */
        public static Code directory(Encoding encoding, String entrypoint, String path) {
            return new Code(encoding, entrypoint, null, null, path);
        }
    }

    public record Volume(String device, String mount, boolean readOnly, String fs) {
        public Volume {
            Objects.requireNonNull(device, "device");
            Objects.requireNonNull(mount, "mount");
        }
    }

    /**
     * IPv4 address with prefix ("172.16.3.2/24"), optional gateway, DNS servers, interface (default
     * eth0); on a node given an IPv6 prefix also the guest's IPv6 address with prefix
     * ("2001:db8::2/124") and its gateway, else null.
     */
    public record Network(String interfaceName, String address, String gateway, List<String> dns,
                          String address6, String gateway6) {
        public Network {
            Objects.requireNonNull(address, "address");
            dns = List.copyOf(dns == null ? List.of() : dns);
            if (gateway6 != null && address6 == null) throw new IllegalArgumentException("an IPv6 gateway needs an IPv6 address");
        }

        /** IPv4 only. */
        public Network(String interfaceName, String address, String gateway, List<String> dns) {
            this(interfaceName, address, gateway, dns, null, null);
        }

        /** The JSON object CONFIGURE and RESTORED carry (docs/guest-protocol.md §5, §7.1). */
        Map<String, Object> wire() {
            Map<String, Object> n = new LinkedHashMap<>();
            if (interfaceName != null) n.put("interface", interfaceName);
            n.put("address", address);
            if (gateway != null) n.put("gateway", gateway);
            n.put("dns", dns);
            if (address6 != null) n.put("address6", address6);
            if (gateway6 != null) n.put("gateway6", gateway6);
            return n;
        }
    }

    public ProgramConfig {
        Objects.requireNonNull(programInterface, "interface");
        Objects.requireNonNull(code, "code");
        variables = Map.copyOf(variables == null ? Map.of() : variables);
        volumes = List.copyOf(volumes == null ? List.of() : volumes);
        sshAuthorizedKeys = List.copyOf(sshAuthorizedKeys == null ? List.of() : sshAuthorizedKeys);
        for (String name : variables.keySet()) {
            if (!ENV_NAME.matcher(name).matches()) throw new IllegalArgumentException("bad variable name: " + name);
        }
        if (port < 1 || port > 65535) throw new IllegalArgumentException("port must be 1-65535");
        if (startupTimeout == null) startupTimeout = Duration.ofSeconds(30);
        if (startupTimeout.toMillis() < 1000 || startupTimeout.toSeconds() > 300) {
            throw new IllegalArgumentException("startup timeout must be 1-300 s");
        }
        if (guestApiSocket != null && (!guestApiSocket.startsWith("/") || guestApiSocket.length() > 100)) {
            throw new IllegalArgumentException("the guest API socket must be an absolute path of at most 100 characters");
        }
    }

    /** Without a guest API (the agent starts no listener). */
    public ProgramConfig(String itemHash, Interface programInterface, Code code, Map<String, String> variables,
                         List<Volume> volumes, Attachment data, String dataMount, Network network, String hostname,
                         List<String> sshAuthorizedKeys, int port, Duration startupTimeout) {
        this(itemHash, programInterface, code, variables, volumes, data, dataMount, network, hostname, sshAuthorizedKeys,
                port, startupTimeout, null);
    }

    public static Builder builder(Interface programInterface, Code code) {
        return new Builder(programInterface, code);
    }

    /** The CONFIGURE payload; attachment bytes follow separately (code first, then data). */
    Map<String, Object> toWire() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", 1);
        if (itemHash != null) m.put("item_hash", itemHash);
        m.put("interface", programInterface.name().toLowerCase());
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("encoding", code.encoding().name().toLowerCase());
        c.put("entrypoint", code.entrypoint());
        if (code.inline() != null) c.put("size", code.inline().size());
        if (code.device() != null) c.put("device", code.device());
        if (code.path() != null) c.put("path", code.path());
        m.put("code", c);
        m.put("variables", variables);
        List<Map<String, Object>> vols = new ArrayList<>();
        for (Volume v : volumes) {
            Map<String, Object> vm = new LinkedHashMap<>();
            vm.put("device", v.device());
            vm.put("mount", v.mount());
            vm.put("read_only", v.readOnly());
            if (v.fs() != null) vm.put("fs", v.fs());
            vols.add(vm);
        }
        m.put("volumes", vols);
        if (data != null) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("size", data.size());
            if (dataMount != null) d.put("mount", dataMount);
            m.put("data", d);
        }
        if (network != null) m.put("network", network.wire());
        if (hostname != null) m.put("hostname", hostname);
        m.put("ssh_authorized_keys", sshAuthorizedKeys);
        m.put("port", port);
        m.put("startup_timeout", startupTimeout.toMillis() / 1000.0);
        if (guestApiSocket != null) m.put("guest_api", Map.of("socket", guestApiSocket));
        return m;
    }

    List<Attachment> attachments() {
        List<Attachment> list = new ArrayList<>(2);
        if (code.inline() != null) list.add(code.inline());
        if (data != null) list.add(data);
        return list;
    }

    public static final class Builder {
        private final Interface programInterface;
        private final Code code;
        private String itemHash;
        private final Map<String, String> variables = new LinkedHashMap<>();
        private final List<Volume> volumes = new ArrayList<>();
        private Attachment data;
        private String dataMount;
        private Network network;
        private String hostname;
        private final List<String> sshKeys = new ArrayList<>();
        private int port = 8080;
        private Duration startupTimeout = Duration.ofSeconds(30);
        private String guestApiSocket;

        private Builder(Interface programInterface, Code code) {
            this.programInterface = programInterface;
            this.code = code;
        }

        public Builder itemHash(String itemHash) { this.itemHash = itemHash; return this; }
        public Builder variable(String name, String value) { variables.put(name, value); return this; }
        public Builder variables(Map<String, String> all) { variables.putAll(all); return this; }
        public Builder volume(Volume volume) { volumes.add(volume); return this; }
        public Builder data(Attachment zip) { this.data = zip; return this; }
        public Builder dataMount(String mount) { this.dataMount = mount; return this; }
        public Builder network(Network network) { this.network = network; return this; }
        public Builder hostname(String hostname) { this.hostname = hostname; return this; }
        public Builder sshAuthorizedKey(String key) { sshKeys.add(key); return this; }
        public Builder port(int port) { this.port = port; return this; }
        public Builder startupTimeout(Duration timeout) { this.startupTimeout = timeout; return this; }
        /** The agent serves the guest API on this Unix socket (null: no guest API). */
        public Builder guestApiSocket(String path) { this.guestApiSocket = path; return this; }

        public ProgramConfig build() {
            return new ProgramConfig(itemHash, programInterface, code, variables, volumes, data, dataMount, network,
                    hostname, sshKeys, port, startupTimeout, guestApiSocket);
        }
    }
}
