package dev.kiln.node.records;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmAdoption;
import java.util.List;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The records of VMs left running (real SQLite): one row per program, kept across opens of the
 * database (the table is made on open, beside the numbered migrations), removed only for the VM
 * it names; and the guard that keeps a node off a VM another live node process drives.
 */
class DetachedVmRecordsTest {
    static final ItemHash P = ItemHash.parse("a".repeat(64));

    @TempDir
    Path dir;

    @Test
    void oneRowPerProgramSurvivesReopeningAndIsRemovedOnlyForItsVm() throws Exception {
        Path file = dir.resolve("node.db");
        try (NodeRecords r = NodeRecords.open(file)) {
            r.detachedVms().put(P, "aaaaaaaaaaaa-1-1", new VmAdoption("vm-1", dir.resolve("w1"), 41));
            r.detachedVms().put(P, "aaaaaaaaaaaa-2-1", new VmAdoption("vm-1", dir.resolve("w1"), 41));
        }
        try (NodeRecords r = NodeRecords.open(file)) {
            assertThat(r.detachedVms().list()).singleElement().satisfies(row -> {
                assertThat(row.execution()).isEqualTo("aaaaaaaaaaaa-2-1");
                assertThat(row.vm().pid()).isEqualTo(41);
            });
            assertThat(r.detachedVms().remove(P, dir.resolve("w2"))).as("another VM's directory").isFalse();
            assertThat(r.detachedVms().find(P)).isPresent();
            assertThat(r.detachedVms().remove(P, dir.resolve("w1"))).isTrue();
            assertThat(r.detachedVms().find(P)).isEmpty();
        }
    }

    @Test
    void whatTheVmHoldsIsKeptWithItsRowAndATableOfTheFirstVersionGetsTheColumns() throws Exception {
        Path file = dir.resolve("node.db");
        try (NodeRecords r = NodeRecords.open(file)) {
            r.detachedVms().put(P, "aaaaaaaaaaaa-1-1", new VmAdoption("vm-1", dir.resolve("w1"), 41));
        }
        // A database of a node from before the holdings: its table has the first six columns only.
        ExecutionRecordsTest.exec(file, "ALTER TABLE detached_vm DROP COLUMN network");
        ExecutionRecordsTest.exec(file, "ALTER TABLE detached_vm DROP COLUMN drives");
        ExecutionRecordsTest.exec(file, "ALTER TABLE detached_vm DROP COLUMN vm_name");
        var held = new DetachedVmRecords.Holdings("aaaaaaaaaaaa-2-1", List.of(new Drive("persist2", dir.resolve("v/data.ext4"), false),
                new Drive("scratch3", dir.resolve("w2/scratch3.ext4"), false)), "kiln-7 net");
        ItemHash q = ItemHash.parse("b".repeat(64));
        try (NodeRecords r = NodeRecords.open(file)) {
            assertThat(r.detachedVms().find(P).orElseThrow().holdings()).as("an old row holds nothing")
                    .isEqualTo(DetachedVmRecords.Holdings.NONE);
            r.detachedVms().put(q, "bbbbbbbbbbbb-2-1", new VmAdoption("vm-2", dir.resolve("w2"), 42), held);
        }
        try (NodeRecords r = NodeRecords.open(file)) {
            assertThat(r.detachedVms().find(q).orElseThrow().holdings()).isEqualTo(held);
        }
    }

    @Test
    void anExecutionOfAnotherLiveNodeProcessIsTold() throws Exception {
        Path file = dir.resolve("node.db");
        Process other = new ProcessBuilder("sleep", "60").start();
        try (NodeRecords r = NodeRecords.open(file)) {
            long mine = r.executions().beginNodeStart();
            ExecutionRecordsTest.exec(file, "INSERT INTO node_start (id, pid, process_start_us, started_us) VALUES (90, "
                    + other.pid() + ", NULL, 0)");
            ExecutionRecordsTest.exec(file, "INSERT INTO node_start (id, pid, process_start_us, started_us) VALUES (91, "
                    + Integer.MAX_VALUE + ", NULL, 0)");
            assertThat(r.executions().otherLiveNode("aaaaaaaaaaaa-90-1")).hasValue(other.pid());
            assertThat(r.executions().otherLiveNode("aaaaaaaaaaaa-" + mine + "-1")).as("this process").isEmpty();
            assertThat(r.executions().otherLiveNode("aaaaaaaaaaaa-91-1")).as("a process that is gone").isEmpty();
            assertThat(r.executions().otherLiveNode("not-an-id")).isEmpty();
            other.destroyForcibly().waitFor();
            assertThat(r.executions().otherLiveNode("aaaaaaaaaaaa-90-1")).as("once it is gone").isEmpty();
        } finally {
            other.destroyForcibly();
        }
    }
}
