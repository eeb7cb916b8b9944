package dev.kiln.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The VM's one state: every edge of {@link VmState}, nothing else, and one winner per race. */
class VmLifecycleTest {

    /** A lifecycle moved along allowed edges to {@code target}. */
    static VmLifecycle in(VmState target) {
        VmLifecycle l = new VmLifecycle();
        List<VmState> path = switch (target) {
            case PREPARING -> List.of();
            case BOOTING -> List.of(VmState.BOOTING);
            case READY -> List.of(VmState.BOOTING, VmState.READY);
            case BUSY -> List.of(VmState.BOOTING, VmState.READY, VmState.BUSY);
            case IDLE -> List.of(VmState.BOOTING, VmState.READY, VmState.IDLE);
            case STOPPING -> List.of(VmState.STOPPING);
            case STOPPED -> List.of(VmState.STOPPED);
            case FAILED -> List.of(VmState.FAILED);
        };
        for (VmState s : path) assertThat(l.transition(l.state(), s)).isTrue();
        assertThat(l.state()).isEqualTo(target);
        return l;
    }

    @Test
    void theEdgesAreTheDocumentedOnes() {
        assertThat(VmState.PREPARING.next()).isEqualTo(EnumSet.of(VmState.BOOTING, VmState.FAILED, VmState.STOPPING, VmState.STOPPED));
        assertThat(VmState.BOOTING.next()).isEqualTo(EnumSet.of(VmState.READY, VmState.FAILED, VmState.STOPPING));
        assertThat(VmState.READY.next()).isEqualTo(EnumSet.of(VmState.BUSY, VmState.IDLE, VmState.STOPPING, VmState.FAILED));
        assertThat(VmState.BUSY.next()).isEqualTo(EnumSet.of(VmState.IDLE, VmState.STOPPING, VmState.FAILED));
        assertThat(VmState.IDLE.next()).isEqualTo(EnumSet.of(VmState.BUSY, VmState.STOPPING, VmState.FAILED));
        assertThat(VmState.STOPPING.next()).isEqualTo(EnumSet.of(VmState.STOPPED, VmState.FAILED));
        assertThat(VmState.STOPPED.next()).isEmpty();
        assertThat(VmState.FAILED.next()).isEmpty();
    }

    @Test
    void everyMoveThatIsNoEdgeIsRefusedAndChangesNothing() {
        for (VmState from : VmState.values()) {
            for (VmState to : VmState.values()) {
                VmLifecycle l = in(from);
                List<VmState> told = new ArrayList<>();
                l.onTransition((a, b) -> told.add(b));
                if (from.next().contains(to)) {
                    assertThat(l.transition(from, to)).as(from + " → " + to).isTrue();
                    assertThat(l.state()).isEqualTo(to);
                    assertThat(told).containsExactly(to);
                } else {
                    assertThatThrownBy(() -> l.transition(from, to)).as(from + " → " + to)
                            .isInstanceOf(IllegalStateException.class);
                    assertThat(l.moveTo(to)).as("moveTo " + from + " → " + to).isNull();
                    assertThat(l.state()).isEqualTo(from);
                    assertThat(told).isEmpty();
                }
            }
        }
    }

    @Test
    void anEdgeFromAnotherStateThanTheCurrentOneChangesNothing() {
        VmLifecycle l = in(VmState.BUSY);
        assertThat(l.transition(VmState.IDLE, VmState.BUSY)).isFalse();
        assertThat(l.transition(VmState.READY, VmState.IDLE)).isFalse();
        assertThat(l.state()).isEqualTo(VmState.BUSY);
    }

    @Test
    void racingMovesHaveOneWinnerAndOneNotice() throws Exception {
        Set<VmState> targets = EnumSet.of(VmState.STOPPING, VmState.FAILED, VmState.IDLE);
        for (int round = 0; round < 200; round++) {
            VmLifecycle l = in(VmState.BUSY);
            List<VmState> told = new CopyOnWriteArrayList<>();
            l.onTransition((a, b) -> told.add(b));
            AtomicInteger wins = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
                List<Future<?>> all = new ArrayList<>();
                int t = 0;
                for (VmState target : targets) {
                    boolean viaMoveTo = t++ % 2 == 0;
                    for (int k = 0; k < 2; k++) {
                        all.add(pool.submit(() -> {
                            go.await();
                            boolean won = viaMoveTo ? l.moveTo(target) == VmState.BUSY : l.transition(VmState.BUSY, target);
                            if (won) wins.incrementAndGet();
                            return null;
                        }));
                    }
                }
                go.countDown();
                for (Future<?> f : all) f.get();
            }
            assertThat(wins.get()).as("moves out of BUSY").isEqualTo(1);
            assertThat(told).as("every move is told once").doesNotHaveDuplicates().contains(l.state());
        }
    }
}
