package dev.kiln.node.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The console's lock-free ring of recent entries. */
class RingTest {
    record Entry(Instant at, int n) {
    }

    @Test
    void keepsTheLastEntriesOldestFirstAndCountsEveryWrite() {
        Ring<Entry> ring = new Ring<>(3, Entry::at);
        assertThat(ring.snapshot()).isEmpty();
        for (int i = 0; i < 5; i++) ring.add(new Entry(Instant.ofEpochSecond(i), i));
        assertThat(ring.snapshot()).extracting(Entry::n).containsExactly(2, 3, 4);
        assertThat(ring.written()).isEqualTo(5);
    }

    @Test
    void concurrentWritersAreAllCountedAndReadersSeeAtMostTheCapacityInTimeOrder() throws Exception {
        Ring<Entry> ring = new Ring<>(100, Entry::at);
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            writers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 10_000; i++) ring.add(new Entry(Instant.now(), i));
            }));
        }
        while (writers.stream().anyMatch(Thread::isAlive)) {
            List<Entry> seen = ring.snapshot();
            assertThat(seen.size()).isLessThanOrEqualTo(100);
            assertThat(seen).isSortedAccordingTo(Comparator.comparing(Entry::at));
        }
        for (Thread t : writers) t.join();
        assertThat(ring.written()).isEqualTo(40_000);
        assertThat(ring.snapshot()).hasSize(100);
    }
}
