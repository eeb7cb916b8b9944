package dev.kiln.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AddressingTest {

    @Test
    void slash30SubnetsGiveTheGatewayAndTheGuestInOrder() {
        SubnetPool pool = new SubnetPool(NetworkSettings.DEFAULT_RANGE, 30);
        VmSubnet first = pool.allocate().orElseThrow();
        VmSubnet second = pool.allocate().orElseThrow();

        assertThat(pool.capacity()).isEqualTo(16384);
        assertThat(first.gatewayCidr()).isEqualTo("172.16.0.1/30");
        assertThat(first.guestCidr()).isEqualTo("172.16.0.2/30");
        assertThat(second.gatewayCidr()).isEqualTo("172.16.0.5/30");
        assertThat(pool.subnet(16383).guestCidr()).isEqualTo("172.16.255.254/30");
    }

    @Test
    void aReleasedSubnetComesBackOnlyAfterTheOthersAndExhaustionIsReported() {
        SubnetPool pool = new SubnetPool(Ipv4Range.parse("10.0.0.0/28"), 30);
        List<VmSubnet> all = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            all.add(pool.allocate().orElseThrow());
        }
        assertThat(pool.allocate()).isEmpty();
        pool.release(all.get(1));
        assertThat(pool.allocate().orElseThrow().index()).isEqualTo(1);
        pool.release(pool.subnet(1));
        assertThatThrownBy(() -> pool.release(pool.subnet(1))).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void concurrentAllocationsNeverShareASubnet() throws Exception {
        SubnetPool pool = new SubnetPool(Ipv4Range.parse("10.0.0.0/20"), 30);
        Set<Integer> seen = ConcurrentHashMap.newKeySet();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < 128; i++) {
                    assertThat(seen.add(pool.allocate().orElseThrow().index())).isTrue();
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(seen).hasSize(1024);
        assertThat(pool.inUse()).isEqualTo(1024);
        assertThat(pool.allocate()).isEmpty();
    }

    @Test
    void ipv6FollowsAlephsStaticScheme() {
        // the vector of aleph-vm's own test of its static allocator
        VmIpv6 v6 = VmIpv6.derive(Ipv6Prefix.parse("1111:2222:3333:4444::/64"),
                "8920215b2e961a4d4c59a8ceb2803af53f91530ff53d6704273ab4d380bc6446", VmKind.PROGRAM);

        assertThat(v6.subnet()).isEqualTo("1111:2222:3333:4444:0001:8920:215b:2e90/124");
        assertThat(v6.gateway()).isEqualTo("1111:2222:3333:4444:0001:8920:215b:2e91");
        assertThat(v6.guest()).isEqualTo("1111:2222:3333:4444:0001:8920:215b:2e92");
        assertThat(VmIpv6.derive(Ipv6Prefix.parse("2001:db8:0:1::/64"), "ab".repeat(32), VmKind.INSTANCE).guest())
                .isEqualTo("2001:0db8:0000:0001:0003:abab:abab:aba2");
        assertThatThrownBy(() -> Ipv6Prefix.parse("2001:db8::/80")).hasMessageContaining("/64 or shorter");
        assertThatThrownBy(() -> Ipv6Prefix.parse("10.0.0.0/8")).hasMessageContaining("IPv4");
    }

    @Test
    void hostResolversSkipLoopbackAndFallBackToTheSystemdUpstreams(@TempDir Path dir) throws Exception {
        Path stub = Files.writeString(dir.resolve("resolv.conf"), "# stub\nnameserver 127.0.0.53\noptions edns0\n");
        Path upstream = Files.writeString(dir.resolve("upstream.conf"), "nameserver 192.0.2.53\nnameserver ::1\nnameserver 198.51.100.53\n");
        Path plain = Files.writeString(dir.resolve("plain.conf"), "search lan\nnameserver 10.255.255.53\nnameserver 127.0.0.1\n");

        assertThat(DnsResolvers.fromFiles(stub, upstream)).extracting(Ipv4Address::toString)
                .containsExactly("192.0.2.53", "198.51.100.53");
        assertThat(DnsResolvers.fromFiles(plain, upstream)).extracting(Ipv4Address::toString).containsExactly("10.255.255.53");
        assertThat(DnsResolvers.fromFiles(stub, dir.resolve("missing"))).isEmpty();
    }

    @Test
    void addressesAndRangesParseStrictly() {
        assertThat(Ipv4Range.parse("172.16.9.9/16").toString()).isEqualTo("172.16.0.0/16");
        assertThat(Ipv4Range.parse("172.16.0.0/16").overlaps(Ipv4Range.parse("172.16.5.0/24"))).isTrue();
        assertThat(Ipv4Range.parse("172.16.0.0/16").overlaps(Ipv4Range.parse("172.17.0.0/16"))).isFalse();
        assertThatThrownBy(() -> Ipv4Address.parse("256.1.1.1")).hasMessageContaining("256 > 255");
        assertThatThrownBy(() -> Ipv4Address.parse("1.2.3")).hasMessageContaining("a.b.c.d");
        assertThatThrownBy(() -> new SubnetPool(Ipv4Range.parse("10.0.0.0/24"), 31)).hasMessageContaining("/30");
        assertThat(VmNetwork.macFor(0x010203)).isEqualTo("02:4b:4c:01:02:03");
    }
}
