package dev.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** HALTED's optional {@code volumes_left_mounted}: read when present, empty when absent, checked. */
class HaltedPayloadTest {
    static HaltResult halted(String json) {
        return WireCodec.halted(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theVolumesTheAgentCouldNotDetachAreReported() {
        HaltResult r = halted("{\"ok\": true, \"shutdown\": \"complete\", \"cancelled_streams\": 0,"
                + " \"volumes_left_mounted\": [\"/var/lib/example\"]}");
        assertThat(r.volumesLeftMounted()).containsExactly("/var/lib/example");
        assertThat(halted("{\"ok\": true, \"shutdown\": \"none\", \"cancelled_streams\": 0}").volumesLeftMounted())
                .as("an agent that mounted nothing, or an older one").isEmpty();
    }

    @Test
    void somethingElseThanMountPointsIsAProtocolViolation() {
        assertThatThrownBy(() -> halted("{\"ok\": true, \"shutdown\": \"none\", \"cancelled_streams\": 0,"
                + " \"volumes_left_mounted\": [1]}")).isInstanceOf(GuestProtocolException.class);
    }
}
