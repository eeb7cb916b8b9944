package dev.kiln.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HaltTest {
    @TempDir
    Path dir;

    @Test
    void haltLetsInFlightRequestsFinishRunsShutdownHooksAndExitsZero() throws Exception {
        Path marker = dir.resolve("shutdown-marker");
        try (AgentProcess agent = AgentProcess.start(dir)) {
            GuestConnection guest = agent.connection;
            guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                            ProgramConfig.Code.zip("main:app", Attachment.of(Zips.app("asgi"))))
                    .variable("SHUTDOWN_MARKER", marker.toString()).build());
            CompletableFuture<GuestResponse> slow = guest.requestAsync(GuestRequest.get("/slow").withQuery("ms=700"));
            Thread.sleep(100);
            CompletableFuture<HaltResult> halt = CompletableFuture.supplyAsync(() ->
                    guest.halt(Duration.ofSeconds(5), Duration.ofSeconds(20)));
            // The in-flight request completes within the grace period.
            assertThat(slow.get(5, TimeUnit.SECONDS).bodyText()).isEqualTo("slow done");
            HaltResult r = halt.get(20, TimeUnit.SECONDS);
            assertThat(r.ok()).isTrue();
            assertThat(r.shutdown()).isEqualTo("complete");
            assertThat(r.cancelledStreams()).isZero();
            assertThat(Files.readString(marker)).isEqualTo("shutdown hook ran");
            assertThat(agent.waitForExit(Duration.ofSeconds(10))).isZero();
            assertThatThrownBy(() -> guest.request(GuestRequest.get("/hello"))).isInstanceOf(GuestChannelClosedException.class);
        }
    }

    @Test
    void haltStopsAnExecutableProgram() throws Exception {
        int port = ConfigureErrorsTest.freePort();
        try (AgentProcess agent = AgentProcess.start(dir)) {
            agent.connection.configure(ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE,
                            ProgramConfig.Code.zip("server.py", Attachment.of(Zips.app("executable"))))
                    .variable("PORT", Integer.toString(port)).port(port).build());
            HaltResult r = agent.connection.halt(Duration.ofSeconds(3), Duration.ofSeconds(20));
            assertThat(r.shutdown()).isEqualTo("complete");
            assertThat(agent.waitForExit(Duration.ofSeconds(10))).isZero();
            assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).as("the program is gone")
                    .isInstanceOf(IOException.class);
        }
    }
}
