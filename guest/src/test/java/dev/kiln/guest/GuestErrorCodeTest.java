package dev.kiln.guest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The host compares guest failures by enum: a code the agent can send but the enum lacks would
 * arrive as UNKNOWN and be mapped as a generic failure. Reads the agent's own sources, so a code
 * added to init1 without the enum fails here.
 */
class GuestErrorCodeTest {
    /**
     * The shapes in which the agent names a code: its exception types, its error sender, and
     * module constants holding a code (zip_reader's BAD_ZIP = "bad_zip").
     */
    private static final Pattern RAISED = Pattern.compile(
            "(?:ConfigError|ProtocolError|ZipError)\\(\\s*\"([a-z_]+)\"|send_error\\([a-z_.]+, \"([a-z_]+)\"|code=\"([a-z_]+)\""
                    + "|(?m)^[A-Z_]+ = \"([a-z]+_[a-z_]+)\"$");

    @Test
    void everyCodeTheAgentRaisesIsKnown() throws IOException {
        Set<String> codes = new TreeSet<>();
        for (GuestInit.Init1File f : GuestInit.init1Files()) {
            if (!f.path().endsWith(".py")) continue;
            Matcher m = RAISED.matcher(new String(f.bytes(), StandardCharsets.UTF_8));
            while (m.find()) {
                for (int g = 1; g <= 4; g++) if (m.group(g) != null) codes.add(m.group(g));
            }
        }
        assertThat(codes).as("the scan found the agent's codes").contains("bad_frame", "module_not_found", "bad_zip", "zip_too_large");
        assertThat(codes).allSatisfy(c -> assertThat(GuestErrorCode.of(c)).as(c).isNotEqualTo(GuestErrorCode.UNKNOWN));
    }

    @Test
    void wireStringsRoundTripAndUnknownStaysUnknown() {
        for (GuestErrorCode c : GuestErrorCode.values()) {
            if (c != GuestErrorCode.UNKNOWN) assertThat(GuestErrorCode.of(c.wire())).isEqualTo(c);
        }
        assertThat(GuestErrorCode.of("from_a_newer_agent")).isEqualTo(GuestErrorCode.UNKNOWN);
        assertThat(GuestErrorCode.of(null)).isEqualTo(GuestErrorCode.UNKNOWN);
    }
}
