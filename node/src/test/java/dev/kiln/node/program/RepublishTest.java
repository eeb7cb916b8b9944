package dev.kiln.node.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.Resources;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import dev.kiln.store.CorruptBlobException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The advice in the corruption error is "publish it again": that must bring the code back, not
 * answer "already published" while the blob stays missing.
 */
class RepublishTest {

    @Test
    void publishingTheSameCodeAgainRestoresAQuarantinedBlob(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.withAgents(dir, new AgentVmLauncher(Duration.ZERO), c -> c)) {
            Path src = SampleProgram.writeTo(Files.createDirectories(dir.resolve("src")));
            PublishedProgram first = node.publish(src, Encoding.ZIP, SampleProgram.ENTRYPOINT,
                    CodeInterface.ASGI, Resources.of(1, 128, 30), "again");
            Path blob = node.blobs.path(first.codeFile());
            blob.toFile().setWritable(true);
            try (var ch = Files.newByteChannel(blob, StandardOpenOption.WRITE)) {
                ch.position(10).write(ByteBuffer.wrap("flipped".getBytes(StandardCharsets.US_ASCII)));
            }
            assertThatThrownBy(() -> node.blobs.verify(first.codeFile())).isInstanceOf(CorruptBlobException.class);
            assertThat(node.blobs.has(first.codeFile())).as("quarantined").isFalse();
            assertThat(node.get(first.message(), "/ping").statusCode()).isEqualTo(400);

            PublishedProgram again = node.publish(src, Encoding.ZIP, SampleProgram.ENTRYPOINT,
                    CodeInterface.ASGI, Resources.of(1, 128, 30), "again");

            assertThat(again.reused()).isTrue();
            assertThat(again.message()).isEqualTo(first.message());
            assertThat(node.blobs.has(first.codeFile())).as("the blob is back").isTrue();
            node.blobs.verify(first.codeFile());
            var r = node.get(first.message(), "/ping");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("pong");
        }
    }

    @Test
    void theSameCodeWithInternetIsAnotherProgramAndItsMessageSaysSo(@TempDir Path dir) throws Exception {
        try (TestNode node = TestNode.withAgents(dir, new AgentVmLauncher(Duration.ZERO), c -> c)) {
            Path src = SampleProgram.writeTo(Files.createDirectories(dir.resolve("src")));
            PublishedProgram offline = node.publish(src, Encoding.ZIP, SampleProgram.ENTRYPOINT,
                    CodeInterface.ASGI, Resources.of(1, 128, 30), "net");
            PublishedProgram online = node.publisher.publish(new ProgramSpec(src, Encoding.ZIP, SampleProgram.ENTRYPOINT,
                    CodeInterface.ASGI, node.runtime, "test", Resources.of(1, 128, 30), Map.of(), "net", true));
            assertThat(online.reused()).isFalse();
            assertThat(online.message()).isNotEqualTo(offline.message());
            assertThat(internetOf(node, online)).isTrue();
            assertThat(internetOf(node, offline)).isFalse();
            PublishedProgram again = node.publisher.publish(new ProgramSpec(src, Encoding.ZIP, SampleProgram.ENTRYPOINT,
                    CodeInterface.ASGI, node.runtime, "test", Resources.of(1, 128, 30), Map.of(), "net", true));
            assertThat(again.reused()).isTrue();
            assertThat(again.message()).isEqualTo(online.message());
        }
    }

    private static boolean internetOf(TestNode node, PublishedProgram p) throws Exception {
        String json = node.nodeRecords.programs().list().stream().filter(r -> r.messageHash().equals(p.message()))
                .findFirst().orElseThrow().messageJson();
        ProgramContent c = AlephMessages.parse(json).contentAs(ProgramContent.class);
        return c.environment() != null && c.environment().hasInternet();
    }
}
