package dev.kiln.vm.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bounded console, with this test in QEMU's place (it connects and writes as a chatty guest would). */
class ConsoleCaptureTest {
    @TempDir
    Path dir;

    @Test
    void aChattyGuestIsBoundedToHeadAndTailAndTheFileSaysWhatWasDropped() throws Exception {
        Path log = dir.resolve("console.log");
        ConsoleCapture capture = ConsoleCapture.listen(dir.resolve("cons.sock"), log);
        capture.start("test");
        ByteArrayOutputStream followed = new ByteArrayOutputStream();
        capture.follow(b -> followed.write(b, 0, b.length));
        long written = 0;
        try (SocketChannel qemu = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            qemu.connect(UnixDomainSocketAddress.of(dir.resolve("cons.sock")));
            qemu.write(ByteBuffer.wrap("kiln-init0: boot line\r\n".getBytes(StandardCharsets.UTF_8)));
            written += "kiln-init0: boot line\r\n".length();
            byte[] line = "a chatty program line that repeats and repeats\r\n".getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < 50_000; i++) {
                qemu.write(ByteBuffer.wrap(line));
                written += line.length;
            }
            qemu.write(ByteBuffer.wrap("the very last line\r\n".getBytes(StandardCharsets.UTF_8)));
            written += "the very last line\r\n".length();
        }
        assertThat(capture.awaitEnd(Duration.ofSeconds(10))).isTrue();
        assertThat(written).isGreaterThan(2L * 1024 * 1024);
        assertThat(Files.size(log)).isLessThan(ConsoleCapture.HEAD_BYTES + ConsoleCapture.TAIL_BYTES + 1024);
        String text = Files.readString(log);
        assertThat(text).startsWith("kiln-init0: boot line").contains("bytes of console output dropped here")
                .endsWith("the very last line\r\n");
        assertThat(capture.dropped()).isEqualTo(written - ConsoleCapture.HEAD_BYTES - ConsoleCapture.TAIL_BYTES);
        assertThat(capture.tail(1)).isEqualTo("the very last line");
        assertThat(followed.size()).as("a follower sees everything live").isEqualTo(written);
        capture.close();
    }

    @Test
    void aLateFollowerGetsWhatIsKeptThenWhatFollows() throws Exception {
        ConsoleCapture capture = ConsoleCapture.listen(dir.resolve("cons.sock"), dir.resolve("console.log"));
        capture.start("test");
        try (SocketChannel qemu = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            qemu.connect(UnixDomainSocketAddress.of(dir.resolve("cons.sock")));
            qemu.write(ByteBuffer.wrap("first\r\n".getBytes(StandardCharsets.UTF_8)));
            await().atMost(Duration.ofSeconds(5)).until(() -> capture.tail(5).equals("first"));
            ByteArrayOutputStream followed = new ByteArrayOutputStream();
            capture.follow(b -> followed.write(b, 0, b.length));
            qemu.write(ByteBuffer.wrap("second\r\n".getBytes(StandardCharsets.UTF_8)));
            await().atMost(Duration.ofSeconds(5)).until(() -> followed.toString(StandardCharsets.UTF_8).equals("first\r\nsecond\r\n"));
        }
        assertThat(capture.awaitEnd(Duration.ofSeconds(5))).isTrue();
        assertThat(Files.readString(dir.resolve("console.log"))).isEqualTo("first\r\nsecond\r\n");
        capture.close();
    }
}
