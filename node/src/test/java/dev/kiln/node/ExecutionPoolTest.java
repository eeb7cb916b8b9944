package dev.kiln.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.core.message.Resources;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.records.ExecutionRecord;
import dev.kiln.node.testing.AgentVm;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.node.testing.TestNode;
import dev.kiln.core.message.Encoding;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pool's promises, against the real guest agent run as host processes. */
class ExecutionPoolTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void concurrentFirstRequestsShareOneBoot() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ofMillis(1500));
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c);
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            PublishedProgram p = node.publishSample(Encoding.ZIP);
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 12; i++) answers.add(clients.submit(() -> node.get(p.message(), "/ping")));
            // While it boots, the VM already counts (it has no execution yet).
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    node.node.pool().vmsByState().getOrDefault(dev.kiln.vm.VmState.BOOTING, 0L) == 1L);
            for (Future<HttpResponse<String>> a : answers) {
                assertThat(a.get().statusCode()).as(a.get().body()).isEqualTo(200);
                assertThat(a.get().body()).isEqualTo("pong");
            }
            assertThat(launcher.launches()).as("twelve first requests, one boot").isEqualTo(1);
            assertThat(node.node.metrics().scrape()).contains("kiln_node_cold_starts_total{outcome=\"ok\",start=\"boot\"} 1.0");
        }
    }

    @Test
    void distinctProgramsBootInParallel() throws Exception {
        Duration delay = Duration.ofMillis(1500);
        AgentVmLauncher launcher = new AgentVmLauncher(delay);
        // Three boot slots, whatever this host's core count (the default), so all three may overlap.
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c.withMaxConcurrentBoots(3));
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<PublishedProgram> programs = new ArrayList<>();
            for (int i = 0; i < 3; i++) programs.add(node.publishSample("p" + i, Resources.of(1, 128, 30)));
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (PublishedProgram p : programs) answers.add(clients.submit(() -> node.get(p.message(), "/ping")));
            for (Future<HttpResponse<String>> a : answers) assertThat(a.get().statusCode()).isEqualTo(200);
            assertThat(launcher.launches()).isEqualTo(3);
            // Each launch sleeps 1.5 s before its agent starts, so serialised boots would never be in
            // progress together. Counting overlap rather than timing the whole keeps the check
            // meaningful on a loaded host, where the agents' own start varies by seconds.
            assertThat(launcher.mostConcurrentLaunches()).as("three boots overlapped").isEqualTo(3);
        }
    }

    @Test
    void anIdleVmIsHaltedAfterTheIdleTimeoutAndTheNextRequestBootsAgain() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c.withIdleTimeout(Duration.ofSeconds(2)))) {
            PublishedProgram p = node.publishSample(Encoding.ZIP);
            assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            AgentVm vm = launcher.vms().getFirst();
            // Requests keep it warm.
            for (int i = 0; i < 4; i++) {
                Thread.sleep(500);
                assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            }
            assertThat(launcher.launches()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(10)).until(() -> !vm.process().isAlive());
            assertThat(vm.process().exitValue()).as("halted gracefully, not killed").isZero();
            assertThat(node.node.pool().executions()).isEmpty();
            node.nodeRecords.executions().flush();
            ExecutionRecord r = node.nodeRecords.executions().list(p.message(), 10).getFirst();
            assertThat(r.state()).isEqualTo("STOPPED");
            assertThat(r.reason()).startsWith("idle");
            assertThat(r.requests()).isEqualTo(5);
            assertThat(r.boot()).isPositive();

            assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            assertThat(launcher.launches()).isEqualTo(2);
        }
    }

    @Test
    void requestsRacingTheIdleStopNeverFail() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c.withIdleTimeout(Duration.ofMillis(300)));
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            PublishedProgram p = node.publishSample(Encoding.ZIP);
            List<Future<List<Integer>>> workers = new ArrayList<>();
            for (int w = 0; w < 2; w++) {
                long seed = w;
                workers.add(clients.submit(() -> {
                    java.util.Random r = new java.util.Random(seed);
                    List<Integer> statuses = new ArrayList<>();
                    for (int i = 0; i < 15; i++) {
                        // Gaps around the idle timeout: some requests land as the VM is being retired.
                        Thread.sleep(150 + r.nextInt(400));
                        statuses.add(node.get(p.message(), "/ping").statusCode());
                    }
                    return statuses;
                }));
            }
            for (Future<List<Integer>> w : workers) assertThat(w.get()).containsOnly(200);
            assertThat(launcher.launches()).as("idle stops happened between requests").isGreaterThan(1);
        }
    }

    @Test
    void aVmThatDiesMidRequestGives502AndTheNextRequestBootsAFreshOne() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c);
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            PublishedProgram p = node.publishSample(Encoding.ZIP);
            assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            AgentVm vm = launcher.vms().getFirst();
            Future<HttpResponse<String>> slow = clients.submit(() -> node.get(p.message(), "/slow?ms=20000"));
            await().atMost(Duration.ofSeconds(10)).until(() -> node.node.pool().executions().getFirst().inFlight() == 1);
            vm.process().destroyForcibly();
            HttpResponse<String> r = slow.get();
            assertThat(r.statusCode()).isEqualTo(502);
            JsonNode error = JSON.readTree(r.body()).path("error");
            assertThat(error.path("code").asText()).isEqualTo("vm_died");
            assertThat(r.body()).doesNotContain("Exception").doesNotContain("at dev.kiln");

            HttpResponse<String> next = node.get(p.message(), "/ping");
            assertThat(next.statusCode()).isEqualTo(200);
            assertThat(launcher.launches()).isEqualTo(2);
        }
    }

    @Test
    void aVmThatDiesWhileIdleIsEvictedSoTheNextRequestJustWorks() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c)) {
            PublishedProgram p = node.publishSample(Encoding.ZIP);
            assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            AgentVm vm = launcher.vms().getFirst();
            vm.process().destroyForcibly();
            await().atMost(Duration.ofSeconds(10)).until(() -> node.node.pool().executions().isEmpty());
            assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            assertThat(launcher.launches()).isEqualTo(2);
            node.nodeRecords.executions().flush();
            List<ExecutionRecord> records = node.nodeRecords.executions().list(p.message(), 10);
            assertThat(records).extracting(ExecutionRecord::state).contains("FAILED");
        }
    }

    @Test
    void whenTheBudgetIsFullIdleVmsMakeRoomAndBusyOnesGive503() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        // One VM costs 128 MiB guest RAM + 64 MiB overhead = 192 MiB: the budget fits exactly one.
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c.withMemoryBudgetMiB(300));
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            PublishedProgram a = node.publishSample("a", Resources.of(1, 128, 30));
            PublishedProgram b = node.publishSample("b", Resources.of(1, 128, 30));
            assertThat(node.get(a.message(), "/ping").statusCode()).isEqualTo(200);
            // a is idle: b's boot stops it to make room.
            assertThat(node.get(b.message(), "/ping").statusCode()).isEqualTo(200);
            assertThat(node.node.pool().executions()).extracting(v -> v.program()).containsExactly(b.message());

            Future<HttpResponse<String>> busy = clients.submit(() -> node.get(b.message(), "/slow?ms=3000"));
            await().atMost(Duration.ofSeconds(10)).until(() -> node.node.pool().executions().getFirst().inFlight() == 1);
            HttpResponse<String> full = node.get(a.message(), "/ping");
            assertThat(full.statusCode()).isEqualTo(503);
            JsonNode error = JSON.readTree(full.body()).path("error");
            assertThat(error.path("code").asText()).isEqualTo("no_capacity");
            assertThat(error.path("message").asText()).contains("MiB");
            assertThat(busy.get().statusCode()).isEqualTo(200);

            PublishedProgram huge = node.publishSample("huge", Resources.of(1, 4096, 30));
            HttpResponse<String> never = node.get(huge.message(), "/ping");
            assertThat(never.statusCode()).isEqualTo(503);
            assertThat(JSON.readTree(never.body()).path("error").path("message").asText()).contains("whole memory budget");
        }
    }

    @Test
    void aRequestLongerThanResourcesSecondsGives504() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c)) {
            PublishedProgram p = node.publishSample("quick", Resources.of(1, 128, 1));
            assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            long start = System.nanoTime();
            HttpResponse<String> r = node.get(p.message(), "/slow?ms=5000");
            assertThat(r.statusCode()).isEqualTo(504);
            assertThat(JSON.readTree(r.body()).path("error").path("code").asText()).isEqualTo("program_timeout");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(4));
            // The VM is fine and keeps serving.
            assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            assertThat(launcher.launches()).isEqualTo(1);
        }
    }

    @Test
    void shuttingTheNodeDownStopsEveryVmAndRecordsWhy() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ZERO);
        TestNode node = TestNode.withAgents(dir, launcher, c -> c);
        PublishedProgram a;
        PublishedProgram b;
        try {
            a = node.publishSample("a", Resources.of(1, 128, 30));
            b = node.publishSample("b", Resources.of(1, 128, 30));
            assertThat(node.get(a.message(), "/ping").statusCode()).isEqualTo(200);
            assertThat(node.get(b.message(), "/ping").statusCode()).isEqualTo(200);
            assertThat(launcher.alive()).hasSize(2);
        } finally {
            node.node.close();
        }
        assertThat(launcher.alive()).as("no agent survives the node").isEmpty();
        for (AgentVm vm : launcher.vms()) assertThat(vm.process().exitValue()).as("halted, not killed").isZero();
        List<ExecutionRecord> records = node.nodeRecords.executions().list(null, 10);
        assertThat(records).hasSize(2).allSatisfy(r -> {
            assertThat(r.state()).isEqualTo("STOPPED");
            assertThat(r.reason()).isEqualTo("node shutdown");
            assertThat(r.endedAt()).isNotNull();
        });
        node.nodeRecords.close();
        node.storeRecords.close();
    }

    @Test
    void aBootStormBootsAtMostTheLimitAtOnceAndEveryProgramAnswers() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ofMillis(800));
        try (TestNode node = TestNode.withAgents(dir, launcher, c -> c.withMaxConcurrentBoots(2));
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<PublishedProgram> programs = new ArrayList<>();
            for (int i = 0; i < 6; i++) programs.add(node.publishSample("storm" + i, Resources.of(1, 128, 30)));
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (PublishedProgram p : programs) answers.add(clients.submit(() -> node.get(p.message(), "/ping")));
            for (Future<HttpResponse<String>> a : answers) assertThat(a.get().statusCode()).as(a.get().body()).isEqualTo(200);
            assertThat(launcher.launches()).isEqualTo(6);
            assertThat(launcher.mostConcurrentLaunches()).as("launches in progress at once").isBetween(1, 2);
        }
    }

    @Test
    void bootsQueuedPastTheirWaitGetAClear503AndNothingIsLost() throws Exception {
        AgentVmLauncher launcher = new AgentVmLauncher(Duration.ofMillis(2500));
        try (TestNode node = TestNode.withAgents(dir, launcher,
                c -> c.withMaxConcurrentBoots(1).withBootQueueWait(Duration.ofMillis(500)));
             ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<PublishedProgram> programs = new ArrayList<>();
            for (int i = 0; i < 3; i++) programs.add(node.publishSample("queued" + i, Resources.of(1, 128, 30)));
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (PublishedProgram p : programs) answers.add(clients.submit(() -> node.get(p.message(), "/ping")));
            int ok = 0;
            for (Future<HttpResponse<String>> a : answers) {
                HttpResponse<String> r = a.get();
                if (r.statusCode() == 200) {
                    ok++;
                    continue;
                }
                assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
                JsonNode error = JSON.readTree(r.body()).path("error");
                assertThat(error.path("code").asText()).isEqualTo("no_capacity");
                assertThat(error.path("message").asText()).contains("boot slot").contains("queued").contains("retry");
            }
            assertThat(ok).as("the one boot that got the slot").isEqualTo(1);
            assertThat(launcher.launches()).as("queued boots never launched").isEqualTo(1);
            assertThat(node.node.pool().memoryReservedMiB()).as("a queued boot holds no memory").isEqualTo(192);
            // Nothing was lost: the refused programs boot once the slot is free.
            for (PublishedProgram p : programs) assertThat(node.get(p.message(), "/ping").statusCode()).isEqualTo(200);
            assertThat(launcher.mostConcurrentLaunches()).isEqualTo(1);
        }
    }
}
