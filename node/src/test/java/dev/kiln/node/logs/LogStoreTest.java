package dev.kiln.node.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.kiln.core.hash.ItemHash;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The bounds: per VM, in total, and the count of ended VMs kept; and following. */
class LogStoreTest {
    static final ItemHash A = ItemHash.parse("a".repeat(64));
    static final ItemHash B = ItemHash.parse("b".repeat(64));

    @Test
    void aVmsLogKeepsItsNewestLinesWithinItsBound() {
        LogStore store = new LogStore(new LogSettings(8192, 1 << 20, 10));
        store.bootFailed("vm-1", A, lines(1000));
        VmLog log = store.vm("vm-1").orElseThrow();
        assertThat(log.bytes()).isLessThanOrEqualTo(8192);
        assertThat(log.dropped()).isPositive();
        List<LogEntry> kept = log.entries(0, Set.of(), Integer.MAX_VALUE);
        assertThat(kept.getLast().text()).isEqualTo("line 999");
        assertThat(kept.getFirst().text()).isNotEqualTo("line 0");
        assertThat(store.totalBytes()).isEqualTo(log.bytes());
    }

    @Test
    void overTheTotalTheOldestEndedVmsGoFirst() {
        LogStore store = new LogStore(new LogSettings(8192, 3 * 8192, 10));
        for (int i = 1; i <= 5; i++) store.bootFailed("vm-" + i, A, lines(200));
        assertThat(store.totalBytes()).isLessThanOrEqualTo(3 * 8192);
        assertThat(store.vm("vm-1")).isEmpty();
        assertThat(store.vm("vm-5")).isPresent();
        assertThat(store.all().stream().map(VmLog::vm)).first().isEqualTo("vm-5");
    }

    @Test
    void onlyTheNewestEndedVmsKeepTheirLogs() {
        LogStore store = new LogStore(new LogSettings(8192, 1 << 20, 2));
        store.bootFailed("vm-1", A, "one");
        store.bootFailed("vm-2", B, "two");
        store.bootFailed("vm-3", A, "three");
        assertThat(store.all().stream().map(VmLog::vm)).containsExactlyInAnyOrder("vm-2", "vm-3");
        assertThat(store.ofProgram(A).stream().map(VmLog::vm)).containsExactly("vm-3");
    }

    @Test
    void followersGetNewEntriesThatPassTheirFilter() throws Exception {
        LogStore store = new LogStore(LogSettings.defaults());
        List<String> got = new CopyOnWriteArrayList<>();
        try (var f = store.follow(e -> e.vm().equals("vm-2"), e -> got.add(e.text()))) {
            store.bootFailed("vm-1", A, "not mine");
            store.bootFailed("vm-2", B, "mine\nand this");
            await().atMost(Duration.ofSeconds(2)).until(() -> got.size() == 2);
        }
        store.bootFailed("vm-2", B, "after close");
        assertThat(got).containsExactly("mine", "and this");
        assertThat(store.lastSeq()).isEqualTo(4);
    }

    @Test
    void settingsRefuseNonsense() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LogSettings(1024, 1 << 20, 1))
                .hasMessageContaining("at least 4 KiB");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LogSettings(1 << 20, 4096, 1))
                .hasMessageContaining("at least one VM's");
    }

    private static String lines(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) b.append("line ").append(i).append('\n');
        return b.toString().stripTrailing();
    }
}
