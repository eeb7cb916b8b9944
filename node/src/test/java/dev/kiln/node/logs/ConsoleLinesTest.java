package dev.kiln.node.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleLinesTest {
    private final List<String> lines = new ArrayList<>();
    private final ConsoleLines console = new ConsoleLines((stream, text) -> lines.add(stream.wire() + "|" + text));

    private void feed(String s) {
        console.feed(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void kernelUntilTheInitThenInitAndProgramLines() {
        feed("Linux version 6.1\r\nvirtio_blk virtio1: [vda]\r\nkiln-init0: mounting\r\n");
        feed("kiln-init1: t=1.2 ready\r\nhello from the app\r\nKernel panic - not syncing: oops\r\n");
        assertThat(lines).containsExactly("kernel|Linux version 6.1", "kernel|virtio_blk virtio1: [vda]",
                "init|kiln-init0: mounting", "init|kiln-init1: t=1.2 ready", "program|hello from the app",
                "kernel|Kernel panic - not syncing: oops");
    }

    @Test
    void linesSplitAcrossPiecesAreJoinedAndALastLineWithoutNewlineCounts() {
        feed("kiln-init1: a");
        feed("b\r");
        feed("\nparti");
        feed("al");
        assertThat(lines).containsExactly("init|kiln-init1: ab");
        console.finish();
        assertThat(lines).containsExactly("init|kiln-init1: ab", "program|partial");
    }

    @Test
    void endlessLinesAreCutAndEscapeSequencesDropped() {
        feed("kiln-init1: x\n\u001b[31mred\u001b[0m\n");
        feed("y".repeat(ConsoleLines.MAX_LINE + 10) + "\n");
        assertThat(lines.get(1)).isEqualTo("program|red");
        assertThat(lines.get(2)).hasSize("program|".length() + ConsoleLines.MAX_LINE);
        assertThat(lines.get(3)).isEqualTo("program|" + "y".repeat(10));
    }
}
