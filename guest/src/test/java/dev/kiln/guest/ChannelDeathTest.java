package dev.kiln.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** When the channel dies, every in-flight call fails at once with a clear error. */
class ChannelDeathTest {
    @TempDir
    Path dir;

    static final String SLOW_APP = """
            import asyncio
            async def app(scope, receive, send):
                if scope["type"] != "http":
                    raise RuntimeError("no lifespan")
                await asyncio.sleep(30)
            """;

    private static List<CompletableFuture<GuestResponse>> slowRequests(GuestConnection guest, int n) {
        guest.configure(ProgramConfig.builder(ProgramConfig.Interface.ASGI,
                ProgramConfig.Code.plain("main:app", SLOW_APP.getBytes(StandardCharsets.UTF_8))).build());
        List<CompletableFuture<GuestResponse>> all = new ArrayList<>();
        for (int i = 0; i < n; i++) all.add(guest.requestAsync(GuestRequest.get("/").withTimeout(Duration.ofSeconds(60))));
        return all;
    }

    private static void assertAllFailPromptly(List<CompletableFuture<GuestResponse>> all, long startNanos) {
        for (var f : all) {
            assertThatThrownBy(() -> f.get(3, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .hasCauseInstanceOf(GuestChannelClosedException.class);
        }
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos)).isLessThan(3000);
    }

    @Test
    void agentKilledMidRequestFailsAllInFlightPromptly() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir)) {
            var all = slowRequests(agent.connection, 30);
            Thread.sleep(300);
            long start = System.nanoTime();
            agent.process.destroyForcibly();
            assertAllFailPromptly(all, start);
            assertThat(agent.connection.isOpen()).isFalse();
            assertThatThrownBy(() -> agent.connection.request(GuestRequest.get("/")))
                    .isInstanceOf(GuestChannelClosedException.class);
        }
    }

    @Test
    void hostCloseFailsAllInFlightAndTheAgentShutsDown() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir)) {
            var all = slowRequests(agent.connection, 10);
            long start = System.nanoTime();
            agent.connection.close();
            assertAllFailPromptly(all, start);
            // On a socket, end of stream means the host is gone: the agent shuts down by itself.
            assertThat(agent.waitForExit(Duration.ofSeconds(15))).isZero();
        }
    }

    @Test
    void keepAliveDetectsAFrozenAgent() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir, Pythons.full(), Map.of(),
                o -> o.withKeepAlive(Duration.ofMillis(400)))) {
            var all = slowRequests(agent.connection, 5);
            long start = System.nanoTime();
            new ProcessBuilder("kill", "-STOP", Long.toString(agent.process.pid())).start().waitFor();
            try {
                for (var f : all) {
                    assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(GuestChannelClosedException.class)
                            .hasMessageContaining("keep-alive");
                }
                assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(3000);
            } finally {
                new ProcessBuilder("kill", "-CONT", Long.toString(agent.process.pid())).start().waitFor();
            }
        }
    }
}
