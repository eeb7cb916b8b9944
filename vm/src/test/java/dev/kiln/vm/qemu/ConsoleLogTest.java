package dev.kiln.vm.qemu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class ConsoleLogTest {
    @TempDir
    Path dir;

    @Test
    void tailGivesTheLastLinesWithoutCarriageReturnsOrControlCharacters() throws Exception {
        Path log = Files.writeString(dir.resolve("console.log"), "one\r\ntwo\r\n\u001b[0mthree\r\nfour\n");
        assertThat(ConsoleLog.tail(log, 2)).isEqualTo("[0mthree\nfour");
        assertThat(ConsoleLog.tail(log, 10)).isEqualTo("one\ntwo\n[0mthree\nfour");
        assertThat(ConsoleLog.tail(dir.resolve("missing"), 3)).isEmpty();
    }

    @Test
    void tailOfAHugeConsoleReadsOnlyItsEnd() throws Exception {
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 200_000; i++) big.append("line ").append(i).append('\n');
        Path log = Files.writeString(dir.resolve("console.log"), big);
        assertThat(ConsoleLog.tail(log, 2)).isEqualTo("line 199998\nline 199999");
    }

    @Test
    void archiveKeepsTheNewestLogsOnly() throws Exception {
        Path archive = dir.resolve("logs");
        List<Path> kept = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            Path log = Files.writeString(dir.resolve("console.log"), "boot " + i);
            kept.add(ConsoleLog.archive(log, archive, "vm-x-" + i, 3));
            assertThat(log).doesNotExist();
            Thread.sleep(2);   // distinct millisecond stamps
        }
        try (Stream<Path> files = Files.list(archive)) {
            assertThat(files.sorted().toList()).containsExactlyElementsOf(kept.subList(2, 5));
        }
        assertThat(Files.readString(kept.getLast())).isEqualTo("boot 4");
        assertThat(kept.getLast().getFileName().toString()).matches("\\d{8}T\\d{6}\\.\\d{3}Z-vm-x-4\\.console\\.log");
    }

    @Test
    void qemuOutputIsAppendedToTheConsole() throws Exception {
        VmFiles files = VmFiles.in(dir);
        Files.writeString(files.consoleLog(), "kernel says hi\n");
        ConsoleLog.appendVmmOutput(files, "qemu-system-x86_64: something went wrong\n");
        ConsoleLog.appendVmmOutput(files, "  ");
        assertThat(Files.readString(files.consoleLog()))
                .isEqualTo("kernel says hi\n\n--- QEMU's own output ---\nqemu-system-x86_64: something went wrong\n");
    }
}
