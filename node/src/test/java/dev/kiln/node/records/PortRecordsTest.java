package dev.kiln.node.records;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.network.PortForward;
import dev.kiln.network.PublishedPort;
import dev.kiln.node.network.PublishedPorts;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Published ports in the node's records (real SQLite), and the text 'kiln program create --publish-port' takes. */
class PortRecordsTest {
    static final ItemHash A = ItemHash.parse("a".repeat(64));
    static final ItemHash B = ItemHash.parse("b".repeat(64));

    @TempDir
    Path dir;

    @Test
    void portsAreKeptPerProgramReplacedAsAWholeAndSurviveReopening() throws Exception {
        Path file = dir.resolve("node.db");
        try (NodeRecords records = NodeRecords.open(file)) {
            records.ports().publish(A, PublishedPorts.parse(List.of("8080", "53/udp", "8080/tcp")));
            records.ports().publish(B, List.of(PublishedPort.tcp(22)));
            records.ports().publish(B, List.of(PublishedPort.tcp(2222)));
        }
        try (NodeRecords records = NodeRecords.open(file)) {
            assertThat(records.ports().of(A)).as("a duplicate is one port").containsExactly(PublishedPort.tcp(8080),
                    new PublishedPort(PortForward.Protocol.UDP, 53));
            assertThat(records.ports().of(B)).as("replaced, not added").containsExactly(PublishedPort.tcp(2222));
            records.ports().publish(A, List.of());
            assertThat(records.ports().of(A)).isEmpty();
            assertThat(records.ports().of(ItemHash.parse("c".repeat(64)))).isEmpty();
        }
    }

    @Test
    void aMistypedPortIsNamed() {
        for (String bad : List.of("0", "65536", "http", "80/sctp", "80/tcp/udp", "-1", "", "8o")) {
            assertThatThrownBy(() -> PublishedPorts.parse(List.of("22", bad))).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'");
        }
        assertThat(PublishedPorts.parse(List.of(" 443/TCP "))).containsExactly(PublishedPort.tcp(443));
    }
}
