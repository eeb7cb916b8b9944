package dev.kiln.guest;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * RESTORED against the real agent outside system mode (a process, not a VM): the answer, the steps
 * it reports it cannot do here, and refusals. The kernel/clock side runs in the node's snapshot test
 * on real QEMU.
 */
class RestoreNoticeTest {
    @TempDir
    static Path dir;
    static AgentProcess agent;

    @BeforeAll
    static void start() throws Exception {
        agent = AgentProcess.start(dir);
    }

    @AfterAll
    static void stop() {
        agent.close();
    }

    private static RestoreNotice notice(long generation) {
        return new RestoreNotice(generation, new byte[64], Instant.now(), null);
    }

    @Test
    void refusedBeforeConfigureThenAnsweredWithTheStepsItCouldNotDo() throws Exception {
        GuestConnection guest = agent.connection;
        assertThat(guest.hello().can("restore")).isTrue();
        assertThatThrownBy(() -> guest.restored(notice(1), Duration.ofSeconds(10)))
                .isInstanceOfSatisfying(GuestStreamException.class, e -> assertThat(e.code()).isEqualTo("not_configured"));
        guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi")))).build());

        Restored r = guest.restored(notice(3), Duration.ofSeconds(10));

        assertThat(r.generation()).isEqualTo(3);
        assertThat(r.skipped()).extracting(Configured.Skipped::step).containsExactlyInAnyOrder("entropy", "clock");
        assertThat(Math.abs(r.clockOffset())).isLessThan(5.0);
        assertThat(guest.request(GuestRequest.get("/state")).status()).isEqualTo(200);
    }

    @Test
    void aNetworkedCopysNetworkIsCheckedThenReportedAsNotDoneOutsideAVm(@TempDir Path own) throws Exception {
        try (AgentProcess networked = AgentProcess.start(own)) {
            GuestConnection guest = networked.connection;
            guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                    ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi")))).build());
            var network = new ProgramConfig.Network("eth0", "172.16.0.6/30", "172.16.0.5", java.util.List.of("203.0.113.53"),
                    "2001:db8::2/124", "2001:db8::1");
            Restored r = guest.restored(new RestoreNotice(4, new byte[64], Instant.now(), null, network, "02:4b:4c:00:00:01"),
                    Duration.ofSeconds(10));
            assertThat(r.skipped()).extracting(Configured.Skipped::step).contains("network");

            // The agent checks what it would apply, as it does for CONFIGURE.
            var bogus = new ProgramConfig.Network("eth0", "172.16.0.300/30", "172.16.0.5", java.util.List.of());
            assertThatThrownBy(() -> guest.restored(new RestoreNotice(5, new byte[64], Instant.now(), null, bogus,
                    "02:4b:4c:00:00:02"), Duration.ofSeconds(10)))
                    .isInstanceOfSatisfying(GuestStreamException.class, e -> assertThat(e.code()).isEqualTo("bad_frame"));
            assertThat(guest.request(GuestRequest.get("/state")).status()).as("still serving").isEqualTo(200);
        }
    }

    @Test
    void aNetworkComesWithAWellFormedMac() {
        var network = new ProgramConfig.Network("eth0", "172.16.0.6/30", "172.16.0.5", java.util.List.of());
        assertThatThrownBy(() -> new RestoreNotice(1, new byte[64], Instant.now(), null, network, null))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new RestoreNotice(1, new byte[64], Instant.now(), null, network, "02:4B:4C:00:00:01,x"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aNoticeNeedsEnoughEntropy() {
        assertThatThrownBy(() -> new RestoreNotice(1, new byte[8], Instant.now(), null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
