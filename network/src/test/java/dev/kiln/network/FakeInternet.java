package dev.kiln.network;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The test topology: a "node" namespace whose uplink is a veth pair into an "internet"
 * namespace. The internet holds an HTTP server and dnsmasq on 203.0.113.10 (a documentation
 * address), a TCP "whoami" service that answers with the caller's address (to see the NAT), a UDP
 * sink, and a fake metadata service on 169.254.169.254. It has no route back to the VM range, so
 * only masqueraded traffic gets answers.
 */
public final class FakeInternet {

    static final Ipv4Address NODE_UPLINK = Ipv4Address.parse("198.51.100.1");
    static final Ipv4Address INTERNET_SIDE = Ipv4Address.parse("198.51.100.254");
    public static final Ipv4Address SERVER = Ipv4Address.parse("203.0.113.10");
    static final Ipv4Address METADATA = Ipv4Address.parse("169.254.169.254");
    static final String NODE_UPLINK6 = "2001:db8:fffe::1";
    static final String INTERNET_SIDE6 = "2001:db8:fffe::254";
    public static final String SERVER6 = "2001:db8:ffff::10";
    /** The prefix the internet routes to the node, as a provider routes one to a real host. */
    public static final String VM_PREFIX6 = "2001:db8:1:2::/64";
    public static final String HOST_NAME = "web.example.test";
    public static final String PAGE = "hello from the fake internet";
    public static final int WHOAMI_PORT = 7000;
    static final int UDP_SINK_PORT = 7003;

    public final String node;
    public final String internet;
    final Path udpSink;
    private final NetnsLab lab;

    public FakeInternet(NetnsLab lab) throws IOException {
        this.lab = lab;
        node = lab.add("node");
        internet = lab.add("inet");
        HostCommands n = lab.in(node);
        HostCommands i = lab.in(internet);
        n.run("ip", "link", "add", "uplink", "type", "veth", "peer", "name", "wan", "netns", internet).orThrow();
        n.run("ip", "addr", "add", NODE_UPLINK + "/24", "dev", "uplink").orThrow();
        n.run("ip", "link", "set", "uplink", "up").orThrow();
        n.run("ip", "route", "add", "default", "via", INTERNET_SIDE.toString()).orThrow();
        i.run("ip", "addr", "add", INTERNET_SIDE + "/24", "dev", "wan").orThrow();
        i.run("ip", "link", "set", "wan", "up").orThrow();
        i.run("ip", "addr", "add", SERVER + "/32", "dev", "lo").orThrow();
        i.run("ip", "addr", "add", METADATA + "/32", "dev", "lo").orThrow();
        n.run("ip", "-6", "addr", "add", NODE_UPLINK6 + "/64", "dev", "uplink", "nodad").orThrow();
        n.run("ip", "-6", "route", "add", "default", "via", INTERNET_SIDE6).orThrow();
        i.run("ip", "-6", "addr", "add", INTERNET_SIDE6 + "/64", "dev", "wan", "nodad").orThrow();
        i.run("ip", "-6", "addr", "add", SERVER6 + "/128", "dev", "lo").orThrow();
        i.run("ip", "-6", "route", "add", VM_PREFIX6, "via", NODE_UPLINK6).orThrow();

        Path site = Files.createDirectories(lab.scratch().resolve("site"));
        Files.writeString(site.resolve("index.html"), PAGE);
        lab.spawn(internet, "/usr/bin/python3", "-m", "http.server", "80", "--bind", SERVER.toString(),
                "--directory", site.toString());
        lab.spawn(internet, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                "--pid-file", "--user=root", "--bind-interfaces", "--listen-address=" + SERVER,
                "--host-record=" + HOST_NAME + "," + SERVER);
        lab.spawnProbe(internet, "serve", SERVER.toString(), String.valueOf(WHOAMI_PORT), "internet");
        lab.spawnProbe(internet, "serve", METADATA.toString(), "80", "metadata");
        lab.spawnProbe(internet, "serve", SERVER6, String.valueOf(WHOAMI_PORT), "internet6");
        udpSink = lab.scratch().resolve("udp-sink.txt");
        Files.writeString(udpSink, "");
        lab.spawnProbe(internet, "udp-sink", SERVER.toString(), String.valueOf(UDP_SINK_PORT), udpSink.toString());
        lab.spawnProbe(internet, "udp-sink", SERVER6, String.valueOf(UDP_SINK_PORT), udpSink.toString());
        await().atMost(Duration.ofSeconds(20)).until(() ->
                lab.probe(internet, "fetch", "http://" + SERVER + "/", "2").ok()
                        && lab.probe(internet, "connect", SERVER.toString(), String.valueOf(WHOAMI_PORT), "2").ok()
                        && lab.probe(internet, "connect", METADATA.toString(), "80", "2").ok()
                        && lab.probe(internet, "connect", SERVER6, String.valueOf(WHOAMI_PORT), "2").ok()
                        && dnsReady(i));
    }

    private static boolean dnsReady(HostCommands internet) {
        String udp = internet.run("ss", "-uln").stdout();
        return udp.contains(SERVER + ":53") && udp.contains("[" + SERVER6 + "]:" + UDP_SINK_PORT);
    }

    /** The node's networking settings for this topology: the fake internet's resolver. */
    NetworkSettings settings() {
        return NetworkSettings.defaults().withDns(List.of(SERVER));
    }

    NetnsLab lab() {
        return lab;
    }
}
