package dev.kiln.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class HandshakeTest {
    @TempDir
    Path dir;

    @Test
    void helloAnnouncesVersionRuntimeCapabilitiesAndBootTimings() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir)) {
            AgentHello h = agent.connection.hello();
            assertThat(h.versions()).containsExactly(1);
            assertThat(h.agent()).isEqualTo("kiln-init1/1");
            assertThat(h.runtimeName()).isEqualTo("test-runtime");
            assertThat(h.runtimeHash()).isEqualTo("63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696");
            assertThat(h.python()).startsWith("3.");
            assertThat(h.capabilities()).contains("asgi", "executable", "code:zip", "data:zip", "events", "cancel",
                    "flow-control", "ssh-keys");
            // Not PID 1 here: no system capability may be claimed.
            assertThat(h.system()).isFalse();
            assertThat(h.pid1()).isFalse();
            assertThat(h.capabilities()).doesNotContain("mount", "network", "hostname", "poweroff", "code:squashfs");
            assertThat(h.maxFrame()).isEqualTo(1 << 20);
            assertThat(h.initialWindow()).isEqualTo(256 * 1024);
            assertThat(h.maxStreams()).isEqualTo(256);
            assertThat(h.configured()).isFalse();
            assertThat(h.boot().init0Start()).isNull();
            assertThat(h.boot().init1Start()).isPositive();
            assertThat(h.boot().init1Ready()).isGreaterThanOrEqualTo(h.boot().init1Start());
        }
    }

    @Test
    void pingRoundTripsAndRequestsBeforeConfigureAreRefused() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir)) {
            assertThat(agent.connection.ping(Duration.ofSeconds(5))).isLessThan(Duration.ofSeconds(5));
            assertThatThrownBy(() -> agent.connection.request(GuestRequest.get("/hello")))
                    .isInstanceOf(GuestStreamException.class)
                    .satisfies(e -> assertThat(((GuestStreamException) e).code()).isEqualTo("not_configured"));
            // Still serving after the refusal.
            assertThat(agent.connection.ping(Duration.ofSeconds(5))).isPositive();
        }
    }

    @Test
    void haltBeforeConfigureExitsCleanly() throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir)) {
            HaltResult r = agent.connection.halt(Duration.ofSeconds(1), Duration.ofSeconds(10));
            assertThat(r.ok()).isTrue();
            assertThat(r.shutdown()).isEqualTo("none");
            assertThat(agent.waitForExit(Duration.ofSeconds(10))).isZero();
            assertThat(agent.connection.isOpen()).isFalse();
        }
    }
}
