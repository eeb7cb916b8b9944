package dev.kiln.node.pool;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.vm.VmState;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The execution state machine on its own: its edges, and moves racing on many threads. */
class ExecutionTest {
    static final ItemHash PROGRAM = ItemHash.parse("a".repeat(64));
    static final Execution.BootBreakdown PARTS = new Execution.BootBreakdown(Duration.ZERO, Duration.ZERO, Duration.ZERO);

    @TempDir
    Path dir;

    final List<Ending> retirements = new CopyOnWriteArrayList<>();

    Execution starting() {
        return new Execution("x-1-1", PROGRAM, StartKind.BOOT, (e, ending) -> retirements.add(ending));
    }

    Execution serving() {
        Execution e = starting();
        e.launched(new StillVm(dir));
        assertThat(e.started(Duration.ofMillis(5), PARTS)).isTrue();
        return e;
    }

    Execution retired() {
        Execution e = serving();
        assertThat(e.retire(EndReason.SHUTDOWN, null)).isTrue();
        return e;
    }

    Execution gone() {
        Execution e = retired();
        assertThat(e.end(() -> { })).isTrue();
        return e;
    }

    @Test
    void thePhasesHaveExactlyTheDocumentedEdges() {
        assertThat(Phase.STARTING.next()).isEqualTo(EnumSet.of(Phase.SERVING, Phase.RETIRED));
        assertThat(Phase.SERVING.next()).isEqualTo(EnumSet.of(Phase.SERVING, Phase.RETIRED));
        assertThat(Phase.RETIRED.next()).isEqualTo(EnumSet.of(Phase.RETIRED, Phase.GONE));
        assertThat(Phase.GONE.next()).isEmpty();
    }

    @Test
    void startingRefusesRequestsExitsAndEnds() {
        Execution e = starting();
        assertThat(e.enter()).isFalse();
        assertThatThrownBy(e::exit).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> e.end(() -> { })).isInstanceOf(IllegalStateException.class).hasMessageContaining("without retiring");
        assertThat(e.retireIfIdle(EndReason.IDLE, null)).as("only a serving execution is idle").isFalse();
        assertThatThrownBy(() -> e.started(Duration.ZERO, PARTS)).as("no VM yet").isInstanceOf(IllegalStateException.class);
        assertThat(e.phase()).isEqualTo(Phase.STARTING);
        assertThat(retirements).isEmpty();
    }

    @Test
    void servingRefusesASecondStartAndAnEndWithoutRetirement() {
        Execution e = serving();
        assertThatThrownBy(() -> e.started(Duration.ZERO, PARTS)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> e.end(() -> { })).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(e::exit).as("nothing in flight").isInstanceOf(IllegalStateException.class);
        assertThat(e.phase()).isEqualTo(Phase.SERVING);
        assertThat(e.serving()).isCompletedWithValue(e);
    }

    @Test
    void retiredTakesNothingNewAndRetiresOnce() {
        Execution e = retired();
        assertThat(e.enter()).isFalse();
        assertThat(e.started(Duration.ZERO, PARTS)).isFalse();
        assertThat(e.retire(EndReason.VM_DIED, "late")).isFalse();
        assertThat(e.retireIfIdle(EndReason.IDLE, null)).isFalse();
        assertThat(e.ending()).isEqualTo(new Ending(EndReason.SHUTDOWN, null));
        assertThat(retirements).hasSize(1);
    }

    @Test
    void goneIsFinal() {
        Execution e = gone();
        assertThat(e.enter()).isFalse();
        assertThat(e.started(Duration.ZERO, PARTS)).isFalse();
        assertThat(e.retire(EndReason.VM_DIED, null)).isFalse();
        assertThat(e.end(() -> { throw new AssertionError("released twice"); })).isFalse();
        assertThat(e.phase()).isEqualTo(Phase.GONE);
        assertThat(e.gone()).isCompletedWithValue(new Ending(EndReason.SHUTDOWN, null));
    }

    @Test
    void theInFlightCountDrivesTheVmBetweenBusyAndIdle() {
        Execution e = serving();
        assertThat(e.vm().state()).isEqualTo(VmState.IDLE);
        assertThat(e.enter()).isTrue();
        assertThat(e.enter()).isTrue();
        assertThat(e.vm().state()).isEqualTo(VmState.BUSY);
        e.exit();
        assertThat(e.vm().state()).isEqualTo(VmState.BUSY);
        e.exit();
        assertThat(e.vm().state()).isEqualTo(VmState.IDLE);
        assertThat(e.requestsServed()).isEqualTo(2);
    }

    @Test
    void aRequestInFlightKeepsTheExecutionFromIdleRetirementButNotFromDeath() {
        Execution e = serving();
        assertThat(e.enter()).isTrue();
        assertThat(e.retireIfIdle(EndReason.IDLE, null)).isFalse();
        assertThat(e.retire(EndReason.VM_DIED, "the VMM exited")).isTrue();
        assertThat(e.inFlight()).as("the cut request is still counted until it closes").isEqualTo(1);
        e.exit();
        assertThat(e.inFlight()).isZero();
        assertThat(retirements).containsExactly(new Ending(EndReason.VM_DIED, "the VMM exited"));
    }

    @Test
    void aVmThatNoLongerServesTakesNoRequest() {
        Execution e = serving();
        e.vm().kill();
        assertThat(e.enter()).isFalse();
    }

    @Test
    void aFailedStartGivesItsWaitersTheError() {
        Execution e = starting();
        NodeException failure = new NodeException(ErrorCode.INVALID_CODE, "program did not start: module_not_found");
        e.failStart(failure, "program did not start: module_not_found");
        assertThat(e.phase()).isEqualTo(Phase.RETIRED);
        assertThat(e.ending().reason()).isEqualTo(EndReason.START_FAILED);
        assertThatThrownBy(() -> e.serving().get()).isInstanceOf(ExecutionException.class).hasCause(failure);
    }

    @Test
    void aStartRetiredByShutdownTellsItsWaitersTheNodeIsStopping() {
        Execution e = starting();
        assertThat(e.retire(EndReason.SHUTDOWN, null)).isTrue();
        assertThatThrownBy(() -> StartErrors.await(e.serving())).isInstanceOfSatisfying(NodeException.class,
                ne -> assertThat(ne.code()).isEqualTo(ErrorCode.SHUTTING_DOWN));
        e.launched(new StillVm(dir));
        assertThat(e.started(Duration.ZERO, PARTS)).as("a launch that returns after the retirement").isFalse();
    }

    @Test
    void racingRetirementsHaveExactlyOneWinner() throws Exception {
        for (int round = 0; round < 50; round++) {
            Execution e = serving();
            retirements.clear();
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger wins = new AtomicInteger();
            EndReason[] reasons = EndReason.values();
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                List<Future<?>> all = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    EndReason r = reasons[t % reasons.length];
                    boolean idle = t % 2 == 0;
                    all.add(pool.submit(() -> {
                        go.await();
                        boolean won = idle ? e.retireIfIdle(r, null) : e.retire(r, null);
                        if (won) wins.incrementAndGet();
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : all) f.get();
            }
            assertThat(wins.get()).isEqualTo(1);
            assertThat(retirements).hasSize(1).containsExactly(e.ending());
        }
    }

    @Test
    void requestsRacingARetirementEitherGetInBeforeOrAreRefused() throws Exception {
        for (int round = 0; round < 20; round++) {
            Execution e = serving();
            AtomicBoolean retiredSeen = new AtomicBoolean();
            AtomicInteger lateEntries = new AtomicInteger();
            AtomicInteger entered = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
                List<Future<?>> all = new ArrayList<>();
                for (int t = 0; t < 6; t++) {
                    all.add(pool.submit(() -> {
                        go.await();
                        for (int i = 0; i < 2_000; i++) {
                            boolean before = retiredSeen.get();
                            if (e.enter()) {
                                entered.incrementAndGet();
                                if (before) lateEntries.incrementAndGet();
                                e.exit();
                            }
                        }
                        return null;
                    }));
                }
                for (int t = 0; t < 2; t++) {
                    all.add(pool.submit(() -> {
                        go.await();
                        while (!e.retireIfIdle(EndReason.IDLE, null) && !e.isRetired()) Thread.onSpinWait();
                        retiredSeen.set(true);
                        return null;
                    }));
                }
                go.countDown();
                for (Future<?> f : all) f.get();
            }
            assertThat(lateEntries.get()).as("entries after the retirement was seen").isZero();
            assertThat(e.phase()).isEqualTo(Phase.RETIRED);
            assertThat(e.inFlight()).isZero();
            assertThat(e.requestsServed()).isEqualTo(entered.get());
            assertThat(retirements).hasSize(round + 1);
            VmState vm = e.vm().state();
            assertThat(vm).as("an idle retirement leaves the VM idle or ready for its halt").isIn(VmState.IDLE, VmState.READY);
        }
    }
}
