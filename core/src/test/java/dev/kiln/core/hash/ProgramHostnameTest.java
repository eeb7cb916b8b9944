package dev.kiln.core.hash;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgramHostnameTest {
    static final ItemHash FIXTURE = ItemHash.parse("0f202000a3c07b1ba5aa02d4f2a93910977742be3e58345b78fe83bb925ba2b2");
    /** What aleph-client's {@code b32encode(b16decode(hash.upper())).strip(b"=").lower()} gives. */
    static final String FIXTURE_LABEL = "b4qcaafdyb5rxjnkalkpfkjzcclxoqv6hzmdiw3y72b3xes3ukza";

    @Test
    void theLabelIsAlephsBase32OfTheHash() {
        assertThat(ProgramHostname.label(FIXTURE)).isEqualTo(FIXTURE_LABEL).hasSize(52);
    }

    @Test
    void theFirstLabelOfAHostNamesTheProgram() {
        assertThat(ProgramHostname.programOf(FIXTURE_LABEL + ".aleph.sh")).contains(FIXTURE);
        assertThat(ProgramHostname.programOf(FIXTURE_LABEL.toUpperCase() + ".example.org:4020")).contains(FIXTURE);
        assertThat(ProgramHostname.programOf(FIXTURE_LABEL)).contains(FIXTURE);
    }

    @Test
    void ordinaryHostsNameNoProgram() {
        assertThat(ProgramHostname.programOf("localhost:4020")).isEmpty();
        assertThat(ProgramHostname.programOf("127.0.0.1")).isEmpty();
        assertThat(ProgramHostname.programOf("[::1]:4020")).isEmpty();
        assertThat(ProgramHostname.programOf(null)).isEmpty();
        assertThat(ProgramHostname.programOf("a".repeat(52) + ".x")).as("52 zero digits: the all-zero hash").isPresent();
        assertThat(ProgramHostname.programOf("1".repeat(52))).as("1 is not in the alphabet").isEmpty();
        // Last character carries 1 data bit and 4 padding bits; 'b' sets a padding bit.
        assertThat(ProgramHostname.programOf("a".repeat(51) + "b")).isEmpty();
    }

    @Test
    void everyHashRoundTrips() {
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < 200; i++) {
            byte[] b = new byte[32];
            r.nextBytes(b);
            ItemHash h = ItemHash.ofSha256(b);
            assertThat(ProgramHostname.programOf(ProgramHostname.label(h) + ".node")).contains(h);
        }
    }
}
