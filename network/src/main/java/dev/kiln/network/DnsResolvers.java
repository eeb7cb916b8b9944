package dev.kiln.network;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The resolvers a guest is told to use when the node is not given any: the host's own. A
 * loopback resolver (systemd-resolved's 127.0.0.53 stub, a local dnsmasq on 127.0.0.1, ::1) is
 * the host's loopback, which a guest must never reach; such entries are skipped and, for the
 * systemd stub, the upstream servers it forwards to (/run/systemd/resolve/resolv.conf) are used
 * instead. If nothing usable is left the list is empty, and the node must be given resolvers.
 */
public final class DnsResolvers {

    public static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");
    public static final Path SYSTEMD_UPSTREAM = Path.of("/run/systemd/resolve/resolv.conf");

    private DnsResolvers() {
    }

    public static List<Ipv4Address> fromHost() {
        return fromFiles(RESOLV_CONF, SYSTEMD_UPSTREAM);
    }

    static List<Ipv4Address> fromFiles(Path resolvConf, Path upstream) {
        List<Ipv4Address> direct = usable(read(resolvConf));
        if (!direct.isEmpty()) {
            return direct;
        }
        return usable(read(upstream));
    }

    /** The IPv4 nameservers of a resolv.conf, loopback ones left out (IPv6 ones too: the guest agent takes IPv4). */
    static List<Ipv4Address> usable(String resolvConf) {
        List<Ipv4Address> servers = new ArrayList<>();
        for (String line : resolvConf.split("\n")) {
            String[] words = line.strip().split("\\s+");
            if (words.length < 2 || !words[0].equals("nameserver")) {
                continue;
            }
            try {
                Ipv4Address server = Ipv4Address.parse(words[1]);
                if (!server.isLoopback() && !servers.contains(server)) {
                    servers.add(server);
                }
            } catch (IllegalArgumentException notIpv4) {
                // an IPv6 resolver, or garbage: not something the guest can be given
            }
        }
        return List.copyOf(servers);
    }

    private static String read(Path file) {
        try {
            return Files.isRegularFile(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " for the host's DNS resolvers; give the node resolvers explicitly", e);
        }
    }
}
