package dev.kiln.vm.qemu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * No QEMU outlives the JVM that started it: a node killed with SIGKILL, a node that exits without
 * closing its launcher, and — with the death signal deliberately off — the sweep of the next
 * launcher. Each case runs a real child JVM ({@link OrphanProbeMain}) that boots a real VM.
 */
class OrphanTest {
    @TempDir
    Path dir;

    /** A child JVM that has booted a VM and told us QEMU's pid. */
    record Child(Process jvm, long qemuPid, List<String> output) implements AutoCloseable {
        @Override
        public void close() {
            jvm.destroyForcibly();
            // Whatever the test's outcome, leave nothing behind.
            ProcessHandle.of(qemuPid).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    Child start(String mode, Path runDirectory, boolean deathSignal) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", classpath, OrphanProbeMain.class.getName(), mode,
                TestImages.kernel().toString(), TestImages.runtime().toString(), runDirectory.toString(),
                dir.resolve("work").toString(), Boolean.toString(deathSignal)).redirectErrorStream(true);
        // The probe's answer is not what these tests are about; skip its cost in each child.
        pb.environment().put(AcceleratorProbe.ENV, "tcg");
        Process jvm = pb.start();
        List<String> output = Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Long> pid = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(jvm.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    output.add(line);
                    if (line.startsWith("QEMU-PID ")) pid.complete(Long.parseLong(line.substring(9).strip()));
                }
            } catch (Exception e) {
                // the child is gone
            }
            pid.completeExceptionally(new AssertionError("the child JVM ended without booting a VM:\n" + String.join("\n", output)));
        });
        long qemuPid = pid.get(90, TimeUnit.SECONDS);
        assertThat(VmTests.isRunning(qemuPid)).as("QEMU runs").isTrue();
        return new Child(jvm, qemuPid, output);
    }

    @Test
    void sigkillOfTheNodeKillsItsQemu() throws Exception {
        try (Child child = start("wait", dir.resolve("run"), true)) {
            assertThat(ProcessHandle.of(child.qemuPid()).flatMap(ProcessHandle::parent).map(ProcessHandle::pid))
                    .as("QEMU is the JVM's own child (setpriv exec'd it)").contains(child.jvm().pid());
            child.jvm().destroyForcibly();   // SIGKILL: no shutdown hook, no finally, nothing runs in the JVM
            assertThat(child.jvm().waitFor(10, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(50))
                    .until(() -> !VmTests.isRunning(child.qemuPid()));
        }
    }

    @Test
    void aNodeThatExitsWithoutClosingItsLauncherStopsItsVmsGracefully() throws Exception {
        try (Child child = start("exit", dir.resolve("run"), true)) {
            assertThat(child.jvm().waitFor(20, TimeUnit.SECONDS)).isTrue();
            assertThat(child.jvm().exitValue()).isZero();
            assertThat(VmTests.isRunning(child.qemuPid())).isFalse();
            // The shutdown hook halted the guest (not just a kill): the agent logged its halt.
            Path log = VmTests.archivedLogs(dir.resolve("run").resolve("logs"), "vm-orphan-").getFirst();
            assertThat(Files.readString(log)).contains("halted");
        }
    }

    @Test
    void withoutTheDeathSignalTheNextLauncherSweepsTheOrphan() throws Exception {
        Path run = dir.resolve("run");
        try (Child child = start("wait", run, false)) {
            child.jvm().destroyForcibly();
            assertThat(child.jvm().waitFor(10, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(1000);
            assertThat(VmTests.isRunning(child.qemuPid())).as("an orphan, as setpriv would have prevented").isTrue();

            try (QemuLauncher next = new QemuLauncher(VmTests.options(dir.resolve("logs")).withRunDirectory(run))) {
                assertThat(next.swept()).singleElement().satisfies(s -> {
                    assertThat(s.pid()).isEqualTo(child.qemuPid());
                    assertThat(s.killed()).isTrue();
                });
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> !VmTests.isRunning(child.qemuPid()));
            try (var files = Files.list(run)) {
                assertThat(files.filter(f -> f.toString().endsWith(VmmRegistry.SUFFIX))).isEmpty();
            }
        }
    }
}
