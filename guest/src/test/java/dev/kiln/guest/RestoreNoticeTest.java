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
    void aNoticeNeedsEnoughEntropy() {
        assertThatThrownBy(() -> new RestoreNotice(1, new byte[8], Instant.now(), null))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
