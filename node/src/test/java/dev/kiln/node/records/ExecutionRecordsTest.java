package dev.kiln.node.records;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Encoding;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Execution records across node starts, on real SQLite. */
class ExecutionRecordsTest {
    static final ItemHash PROGRAM = ItemHash.parse("b".repeat(64));

    @TempDir
    Path dir;

    @Test
    void aRestartedNodeNeverOverwritesTheRowsOfAnEarlierStart() throws Exception {
        PublishedProgram p;
        for (int start = 0; start < 2; start++) {
            try (TestNode node = TestNode.withAgents(dir, new AgentVmLauncher(Duration.ZERO), c -> c)) {
                p = node.publishSample(Encoding.ZIP);
                assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            }
        }
        try (NodeRecords records = NodeRecords.open(dir.resolve("db").resolve(NodeRecords.FILE_NAME))) {
            List<ExecutionRecord> rows = records.executions().list(null, 10);
            assertThat(rows).as("one row per start, both kept").hasSize(2);
            assertThat(rows).extracting(ExecutionRecord::id).doesNotHaveDuplicates();
            assertThat(rows).allSatisfy(r -> {
                assertThat(r.state()).isEqualTo("STOPPED");
                assertThat(r.endedBy()).isEqualTo("shutdown");
                assertThat(r.requests()).isEqualTo(1);
            });
        }
    }

    @Test
    void aStartClosesWhatACrashedNodeLeftOpenAndLeavesRunningNodesAlone() throws Exception {
        Path file = dir.resolve("node.db");
        long crashed;
        long running;
        try (NodeRecords first = NodeRecords.open(file)) {
            crashed = first.executions().beginNodeStart();
            first.executions().save(open("crashed-booting", "BOOTING"));
            first.executions().save(open("crashed-ready", "READY"));
            first.executions().flush();
        }
        // The first node's process is gone: give its start the pid of a process that has exited.
        Process dead = new ProcessBuilder("true").start();
        dead.waitFor();
        exec(file, "UPDATE node_start SET pid = " + dead.pid() + " WHERE id = " + crashed);
        try (NodeRecords second = NodeRecords.open(file)) {
            running = second.executions().beginNodeStart();
            second.executions().save(open("alive", "READY"));
            second.executions().flush();
            assertThat(running).isGreaterThan(crashed);
            try (NodeRecords third = NodeRecords.open(file)) {
                long next = third.executions().beginNodeStart();
                assertThat(next).isGreaterThan(running);
                List<ExecutionRecord> rows = third.executions().list(PROGRAM, 10);
                ExecutionRecord alive = rows.stream().filter(r -> r.id().equals("alive")).findFirst().orElseThrow();
                assertThat(alive.endedAt()).as("the second node still runs").isNull();
                assertThat(rows).filteredOn(r -> r.id().startsWith("crashed")).hasSize(2).allSatisfy(r -> {
                    assertThat(r.state()).isEqualTo("FAILED");
                    assertThat(r.endedAt()).isNotNull();
                    assertThat(r.reason()).contains("node stopped uncleanly");
                    assertThat(r.endedBy()).isEqualTo(ExecutionRecords.UNCLEAN_STOP);
                });
            }
        }
    }

    static ExecutionRecord open(String id, String state) {
        return new ExecutionRecord(id, PROGRAM, null, "tcg", state, Instant.now(), null, null, 0, null, null);
    }

    static void exec(Path file, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             PreparedStatement ps = c.prepareStatement(sql)) {
            ps.executeUpdate();
        }
    }
}
