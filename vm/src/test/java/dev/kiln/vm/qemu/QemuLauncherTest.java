package dev.kiln.vm.qemu;

import dev.kiln.guest.AgentHello;
import dev.kiln.guest.Configured;
import dev.kiln.guest.GuestRequest;
import dev.kiln.guest.GuestResponse;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.VmBootException;
import dev.kiln.vm.VmState;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Real microVMs under QEMU (TCG here): boot, serve, stop, die, in parallel. */
class QemuLauncherTest {
    static QemuLauncher launcher;
    @TempDir
    static Path logs;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        launcher = new QemuLauncher(VmTests.options(logs));
    }

    @AfterAll
    static void close() {
        if (launcher != null) launcher.close();
        assertThat(VmTests.runningQemuChildren()).as("QEMU left running after close()").isEmpty();
    }

    /** Every state a VM passes through, in order. */
    static List<VmState> recordStates(QemuVm vm) {
        List<VmState> states = Collections.synchronizedList(new ArrayList<>());
        states.add(vm.state());
        vm.lifecycle().onTransition((from, to) -> states.add(to));
        return states;
    }

    @Test
    void bootsToReadyServesARequestInsideTheVmAndStopsGracefully() throws Exception {
        Path work = dir.resolve("vm");
        long launchStart = System.nanoTime();
        QemuVm vm = launcher.launch(VmTests.spec("hello", work));
        Duration launchWall = Duration.ofNanos(System.nanoTime() - launchStart);
        List<VmState> states = recordStates(vm);
        assertThat(vm.state()).isEqualTo(VmState.READY);
        assertThat(vm.accelerator()).isEqualTo(launcher.accelerator());
        // The boot is measured from the VMM's start to the hello: inside the launch call, and at
        // least as long as the guest's own clock says it ran before it said hello.
        assertThat(vm.bootDuration()).isPositive().isLessThanOrEqualTo(launchWall);
        Double guestReady = vm.guest().hello().boot().init1Ready();
        assertThat(guestReady).as("the guest's uptime at hello").isNotNull().isPositive();
        assertThat(vm.bootDuration().toNanos() / 1e9).isGreaterThan(guestReady);
        assertThat(vm.startedAt()).isBefore(Instant.now());
        assertThat(VmTests.isRunning(vm.pid())).isTrue();

        AgentHello hello = vm.guest().hello();
        assertThat(hello.pid1()).as("init1 runs as PID 1 in the VM").isTrue();
        assertThat(hello.system()).isTrue();
        assertThat(hello.capabilities()).contains("executable");
        assertThat(vm.vmmStatus()).isEqualTo("running");
        assertThat(vm.consoleTail(200)).contains("kiln-init0:");

        Configured configured = vm.guest().configure(VmTests.helloProgram("vm-hello"));
        assertThat(configured.interfaceName()).isEqualTo("executable");
        try (GuestResponse r = vm.guest().request(GuestRequest.get("/where").withTimeout(Duration.ofSeconds(20)))) {
            assertThat(r.status()).isEqualTo(200);
            // The guest kernel Kiln built, not the host's: the program really ran in the VM.
            assertThat(r.bodyText()).contains("kernel=6.1.").contains("host=vm-hello").contains("greeting=from-the-test")
                    .contains("request=GET /where HTTP/1.1");
        }

        long t0 = System.nanoTime();
        vm.stop(Duration.ofSeconds(2));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        assertThat(took).as("stop is bounded by the grace plus a little").isLessThan(Duration.ofSeconds(6));
        assertThat(vm.exited()).isCompleted();
        assertThat(VmTests.isRunning(vm.pid())).isFalse();
        assertThat(states).containsExactly(VmState.READY, VmState.STOPPING, VmState.STOPPED);
        // The agent halted the program and powered the VM off by itself: the graceful path.
        assertThat(vm.consoleLog().getParent()).as("the console log is archived").isEqualTo(logs);
        assertThat(vm.consoleLog().getFileName().toString()).endsWith("-" + vm.id() + ".console.log");
        assertThat(Files.readString(vm.consoleLog())).contains("kiln-init0:").contains("halted (shutdown: complete)");
        assertThat(vm.consoleTail(5)).isNotEmpty();
        assertThat(vm.guest().isOpen()).isFalse();
        assertThat(work).as("the work directory held only the VM's own files").doesNotExist();
        assertThat(launcher.running()).doesNotContain(vm);
        assertThatThrownBy(vm::vmmStatus).isInstanceOf(QmpException.class);
    }

    @Test
    void stopIsIdempotentFromManyThreadsAndAWorkDirectoryCanBeReused() throws Exception {
        Path work = dir.resolve("reused");
        Files.createDirectories(work);
        Files.writeString(work.resolve("keep.txt"), "the node's own file");
        QemuVm first = launcher.launch(VmTests.spec("first", work));
        first.stop(Duration.ofSeconds(1));
        assertThat(first.state()).isEqualTo(VmState.STOPPED);
        try (Stream<Path> left = Files.list(work)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("only the VM's files are removed").containsExactly("keep.txt");
        }

        QemuVm vm = launcher.launch(VmTests.spec("second", work));
        assertThat(Files.readString(first.consoleLog())).contains("halted");
        List<VmState> states = recordStates(vm);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> stoppers = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            stoppers.add(Thread.ofVirtual().start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                vm.stop(Duration.ofSeconds(1));
            }));
        }
        go.countDown();
        for (Thread t : stoppers) assertThat(t.join(Duration.ofSeconds(15))).isTrue();
        assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        assertThat(states).containsExactly(VmState.READY, VmState.STOPPING, VmState.STOPPED);

        long t0 = System.nanoTime();
        vm.stop(Duration.ofSeconds(1));
        vm.close();
        vm.kill();
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("stopping a stopped VM is instant").isLessThan(Duration.ofMillis(100));
        assertThat(vm.state()).isEqualTo(VmState.STOPPED);
    }

    @Test
    void aVmmKilledFromOutsideMovesTheVmToFailed() throws Exception {
        QemuVm vm = launcher.launch(VmTests.spec("victim", dir.resolve("victim")));
        CompletableFuture<VmState> seen = new CompletableFuture<>();
        vm.lifecycle().onTransition((from, to) -> {
            if (to.isTerminal()) seen.complete(to);
        });
        ProcessHandle.of(vm.pid()).orElseThrow().destroyForcibly();   // SIGKILL, as the OOM killer would

        assertThat(seen.get(10, TimeUnit.SECONDS)).isEqualTo(VmState.FAILED);
        assertThat(vm.exited().get(10, TimeUnit.SECONDS)).isNotZero();
        await().atMost(Duration.ofSeconds(5)).until(() -> !vm.guest().isOpen());
        await().atMost(Duration.ofSeconds(5)).until(() -> !launcher.running().contains(vm));
        assertThat(vm.files().guestSocket()).doesNotExist();
        // A stop after the fact changes nothing and returns at once.
        vm.stop(Duration.ofSeconds(1));
        assertThat(vm.state()).isEqualTo(VmState.FAILED);
    }

    @Test
    void aGuestChannelThatClosesUnderAServingVmFailsItAndEndsQemu() throws Exception {
        QemuVm vm = launcher.launch(VmTests.spec("cutoff", dir.resolve("cutoff")));
        List<VmState> states = recordStates(vm);
        // What a protocol violation or a missed keep-alive does: the host side closes the channel.
        vm.guest().close();
        vm.exited().get(10, TimeUnit.SECONDS);
        assertThat(vm.state()).isEqualTo(VmState.FAILED);
        assertThat(states).containsExactly(VmState.READY, VmState.FAILED);
        assertThat(VmTests.isRunning(vm.pid())).isFalse();
    }

    @Test
    void killIsImmediateAndEndsInFailed() throws Exception {
        QemuVm vm = launcher.launch(VmTests.spec("killed", dir.resolve("killed")));
        List<VmState> states = recordStates(vm);
        vm.kill();
        assertThat(vm.state()).isEqualTo(VmState.FAILED);
        vm.exited().get(10, TimeUnit.SECONDS);
        assertThat(VmTests.isRunning(vm.pid())).isFalse();
        assertThat(states).containsExactly(VmState.READY, VmState.FAILED);
    }

    @Test
    void twoVmsBootInParallel() throws Exception {
        List<CompletableFuture<QemuVm>> boots = new ArrayList<>();
        for (String name : List.of("left", "right")) {
            CompletableFuture<QemuVm> f = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    f.complete(launcher.launch(VmTests.spec(name, dir.resolve(name))));
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            });
            boots.add(f);
        }
        QemuVm a = boots.get(0).get(60, TimeUnit.SECONDS);
        QemuVm b = boots.get(1).get(60, TimeUnit.SECONDS);
        try {
            assertThat(a.state()).isEqualTo(VmState.READY);
            assertThat(b.state()).isEqualTo(VmState.READY);
            assertThat(a.id()).isNotEqualTo(b.id());
            assertThat(a.pid()).isNotEqualTo(b.pid());
            // Each QEMU started before the other VM was ready: nothing serialised the boots.
            Instant aReady = a.startedAt().plus(a.bootDuration());
            Instant bReady = b.startedAt().plus(b.bootDuration());
            assertThat(a.startedAt()).isBefore(bReady);
            assertThat(b.startedAt()).isBefore(aReady);
            assertThat(a.guest().ping(Duration.ofSeconds(5))).isLessThan(Duration.ofSeconds(5));
            assertThat(b.guest().ping(Duration.ofSeconds(5))).isLessThan(Duration.ofSeconds(5));
            assertThat(launcher.running()).contains(a, b);

            // One work directory per running VM.
            assertThatThrownBy(() -> launcher.launch(VmTests.spec("clash", dir.resolve("left"))))
                    .isInstanceOf(VmBootException.class).hasMessageContaining("in use by " + a.id());
        } finally {
            a.stop(Duration.ofSeconds(1));
            b.stop(Duration.ofSeconds(1));
        }
    }

    @Test
    void qmpAnswersAndAGuestThatCannotAnswerHaltIsStillStoppedInBoundedTime() throws Exception {
        QemuVm vm = launcher.launch(VmTests.spec("frozen", dir.resolve("frozen")));
        QmpClient qmp = vm.qmp();
        assertThat(qmp.greeting().path("version").path("qemu").path("major").asInt()).isGreaterThanOrEqualTo(7);
        assertThat(qmp.execute("query-name", null, Duration.ofSeconds(2)).path("name").asText()).isEqualTo("kiln-frozen");
        QmpException refused = org.assertj.core.api.Assertions.catchThrowableOfType(QmpException.class,
                () -> qmp.execute("no-such-command", null, Duration.ofSeconds(2)));
        assertThat(refused.errorClass()).isEqualTo("CommandNotFound");
        assertThat(refused).hasMessageContaining("QEMU refused no-such-command");

        // Pause the vCPU: the agent can no longer answer HALT, so stop must fall back to QMP quit.
        qmp.execute("stop", null, Duration.ofSeconds(2));
        assertThat(vm.vmmStatus()).isEqualTo("paused");
        long t0 = System.nanoTime();
        vm.stop(Duration.ofSeconds(1));
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        assertThat(took).as("grace + halt slack + QMP quit").isBetween(Duration.ofSeconds(1), Duration.ofSeconds(6));
        assertThat(Files.readString(vm.consoleLog())).doesNotContain("halted");
        assertThat(qmp.isOpen()).isFalse();
    }

    @Test
    void closingTheLauncherStopsItsRunningVmsGracefully() throws Exception {
        QemuVm vm;
        try (QemuLauncher own = new QemuLauncher(VmTests.options(logs).withCloseGrace(Duration.ofSeconds(1)))) {
            vm = own.launch(VmTests.spec("closed", dir.resolve("closed")));
            assertThat(own.running()).containsExactly(vm);
        }
        assertThat(vm.state()).isEqualTo(VmState.STOPPED);
        assertThat(VmTests.isRunning(vm.pid())).isFalse();
        assertThat(Files.readString(vm.consoleLog())).contains("halted");
    }

    @Test
    void acceleratorIsTcgOrAWorkingKvm() {
        AcceleratorChoice choice = launcher.acceleratorChoice();
        assertThat(choice.reason()).isNotBlank();
        if (choice.accelerator() == Accelerator.KVM) assertThat(choice.reason()).containsAnyOf("booted under KVM", "forced");
    }
}
