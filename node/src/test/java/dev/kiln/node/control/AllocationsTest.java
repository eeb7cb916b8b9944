package dev.kiln.node.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control layer's own logic — convergence, the recorded allocation, dispatch, refusals — with
 * a {@link Machines} written here that only remembers what it was told: these checks are about
 * what the control layer asks of its machines, not about VMs (PersistentProgramTest and
 * OperatorApiTest drive real ones).
 */
class AllocationsTest {
    static final ItemHash A = hash('a');
    static final ItemHash B = hash('b');
    static final ItemHash C = hash('c');
    static final ItemHash BROKEN = hash('d');

    @TempDir
    Path dir;

    /** Keeps a set of "running" hashes; refuses BROKEN as a message it would not run. */
    static final class Kept implements Machines {
        final Set<ItemHash> running = ConcurrentHashMap.newKeySet();
        final List<String> calls = new ArrayList<>();

        @Override
        public MachineKind kind() {
            return MachineKind.PERSISTENT_PROGRAM;
        }

        @Override
        public List<MachineInfo> list() {
            return running.stream().sorted().map(h -> new MachineInfo(h, kind(), "running", Instant.EPOCH, Optional.empty(),
                    Map.of())).toList();
        }

        @Override
        public void allocate(ItemHash h) throws NodeException {
            calls.add("allocate " + h.value().charAt(0));
            if (h.equals(BROKEN)) throw new NodeException(ErrorCode.UNSUPPORTED, "not persistent");
            running.add(h);
        }

        @Override
        public void stop(ItemHash h) throws NodeException {
            calls.add("stop " + h.value().charAt(0));
            if (!running.remove(h)) throw new NodeException(ErrorCode.NOT_FOUND, "not allocated");
        }

        @Override
        public void reboot(ItemHash h) throws NodeException {
            calls.add("reboot " + h.value().charAt(0));
            if (!running.contains(h)) throw new NodeException(ErrorCode.NOT_FOUND, "not allocated");
        }

        @Override
        public void erase(ItemHash h) {
            calls.add("erase " + h.value().charAt(0));
            running.remove(h);
        }

        @Override
        public String logs(ItemHash h, int maxBytes) {
            return "console of " + h.value().charAt(0);
        }
    }

    Kept kept = new Kept();

    Allocations allocations() {
        return new Allocations(Map.of(MachineKind.PERSISTENT_PROGRAM, kept), new AllocationFile(dir),
                h -> h.equals(C) ? Optional.of(MachineKind.PERSISTENT_PROGRAM) : Optional.empty());
    }

    static Allocation body(String json) throws NodeException {
        return Allocation.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void convergesStartingWhatIsMissingAndStoppingWhatIsNoLongerListed() throws Exception {
        Allocations a = allocations();
        AllocationOutcome first = a.apply(body("{\"persistent_vms\": [\"" + A.value() + "\", \"" + B.value() + "\"]}"));
        assertThat(first.started()).containsExactlyInAnyOrder(A, B);
        assertThat(first.stopped()).isEmpty();
        assertThat(first.httpStatus()).isEqualTo(200);
        assertThat(kept.running).containsExactlyInAnyOrder(A, B);

        kept.calls.clear();
        AllocationOutcome second = a.apply(body("{\"persistent_vms\": [\"" + B.value() + "\", \"" + C.value() + "\"],"
                + " \"instances\": [], \"on_demand_vms\": null, \"jobs\": []}"));
        assertThat(second.stopped()).containsExactly(A);
        assertThat(second.started()).containsExactly(C);
        assertThat(second.successful()).containsExactlyInAnyOrder(B, C);
        assertThat(kept.running).containsExactlyInAnyOrder(B, C);
        assertThat(kept.calls).as("the stop comes before the starts; B, running, is allocated again (idempotent)")
                .containsExactly("stop a", "allocate b", "allocate c");
        assertThat(second.toJson().path("success").asBoolean()).isTrue();
        assertThat(second.toJson().path("stopped").get(0).asText()).isEqualTo(A.value());
    }

    @Test
    void answersLikeAlephWhenSomeOrAllFail() throws Exception {
        Allocations a = allocations();
        AllocationOutcome some = a.apply(new Allocation(Map.of(MachineKind.PERSISTENT_PROGRAM, Set.of(A, BROKEN))));
        assertThat(some.httpStatus()).isEqualTo(207);
        assertThat(some.failing()).containsExactly(BROKEN);
        assertThat(some.successful()).containsExactly(A);
        assertThat(some.errors().get(BROKEN)).startsWith("unsupported: not persistent");
        var json = some.toJson();
        assertThat(json.path("success").asBoolean()).isFalse();
        assertThat(json.path("errors").path(BROKEN.value()).asText()).contains("not persistent");

        AllocationOutcome none = a.apply(new Allocation(Map.of(MachineKind.PERSISTENT_PROGRAM, Set.of(BROKEN))));
        assertThat(none.httpStatus()).isEqualTo(503);
        assertThat(kept.running).as("A is no longer listed").isEmpty();
    }

    @Test
    void aRestartedNodeConvergesToTheRecordedAllocation() throws Exception {
        allocations().apply(new Allocation(Map.of(MachineKind.PERSISTENT_PROGRAM, Set.of(A, B))));
        assertThat(Files.readString(dir.resolve(AllocationFile.NAME))).contains(A.value(), B.value(), "instances");

        Kept after = new Kept();
        kept = after;
        AllocationOutcome restored = allocations().restore();
        assertThat(restored.started()).containsExactlyInAnyOrder(A, B);
        assertThat(after.running).containsExactlyInAnyOrder(A, B);

        kept = new Kept();
        Path empty = Files.createDirectories(dir.resolve("fresh"));
        Allocations fresh = new Allocations(Map.of(MachineKind.PERSISTENT_PROGRAM, kept), new AllocationFile(empty), h -> Optional.empty());
        assertThat(fresh.restore().listed()).as("a node never sent an allocation runs none").isEmpty();
        assertThat(kept.calls).isEmpty();
    }

    @Test
    void stopAndEraseTakeTheMachineOutOfTheRecordedAllocation() throws Exception {
        Allocations a = allocations();
        a.apply(new Allocation(Map.of(MachineKind.PERSISTENT_PROGRAM, Set.of(A, B))));
        a.stop(A);
        a.erase(B);
        assertThat(kept.running).isEmpty();
        assertThat(a.current().all()).isEmpty();
        assertThat(new AllocationFile(dir).load().orElseThrow().all()).isEmpty();
        assertThat(kept.calls).contains("stop a", "erase b");

        // An allocated machine whose start was refused: stopping it only takes it out of the allocation.
        a.apply(new Allocation(Map.of(MachineKind.PERSISTENT_PROGRAM, Set.of(BROKEN))));
        a.stop(BROKEN);
        assertThat(a.current().all()).isEmpty();
    }

    @Test
    void dispatchesByWhatIsKeptAndAnswers404ForAnUnknownMachine() throws Exception {
        Allocations a = allocations();
        a.apply(new Allocation(Map.of(MachineKind.PERSISTENT_PROGRAM, Set.of(A))));
        a.reboot(A);
        assertThat(a.logs(A, 100)).isEqualTo("console of a");
        // C is a message this node has (the classifier says so) though in no allocation: its logs are asked of its kind.
        assertThat(a.logs(C, 100)).isEqualTo("console of c");
        assertThatThrownBy(() -> a.stop(B)).isInstanceOfSatisfying(NodeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> a.reboot(B)).isInstanceOfSatisfying(NodeException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> a.stop(C)).as("known but not allocated: its Machines says so")
                .isInstanceOfSatisfying(NodeException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
    }

    @Test
    void instancesWithoutAnInstanceImplementationAreRefusedAndNothingChanges() throws Exception {
        Allocations a = allocations();
        a.apply(new Allocation(Map.of(MachineKind.PERSISTENT_PROGRAM, Set.of(A))));
        kept.calls.clear();
        assertThatThrownBy(() -> a.apply(body("{\"persistent_vms\": [], \"instances\": [\"" + B.value() + "\"]}")))
                .isInstanceOfSatisfying(NodeException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED);
                    assertThat(e.getMessage()).contains("instances");
                });
        assertThat(kept.calls).isEmpty();
        assertThat(kept.running).containsExactly(A);
        assertThat(a.current().of(MachineKind.PERSISTENT_PROGRAM)).containsExactly(A);
        assertThat(new AllocationFile(dir).load().orElseThrow().of(MachineKind.PERSISTENT_PROGRAM)).containsExactly(A);
    }

    @Test
    void theBodyIsReadStrictly() {
        assertRefused("{\"persistent_vms\": [], \"vms\": []}", ErrorCode.UNSUPPORTED, "vms");
        assertRefused("{\"on_demand_vms\": [\"" + A.value() + "\"]}", ErrorCode.UNSUPPORTED, "on_demand_vms");
        assertRefused("{\"jobs\": [\"" + A.value() + "\"]}", ErrorCode.UNSUPPORTED, "jobs");
        assertRefused("{\"persistent_vms\": [\"nope\"]}", ErrorCode.BAD_REQUEST, "persistent_vms[0]");
        assertRefused("{\"persistent_vms\": \"" + A.value() + "\"}", ErrorCode.BAD_REQUEST, "persistent_vms");
        assertRefused("{\"persistent_vms\": [\"" + A.value() + "\"], \"instances\": [\"" + A.value() + "\"]}",
                ErrorCode.BAD_REQUEST, "instances[0]");
        assertRefused("[1, 2]", ErrorCode.BAD_REQUEST, "(body)");
        assertRefused("{not json", ErrorCode.BAD_REQUEST, "(body)");
    }

    @Test
    void logsAreCutAtALineWithinTheLimit() {
        String s = "first line\nsecond line\nthird, with é\n";
        assertThat(PersistentPrograms.tail(s, 1000)).isEqualTo(s);
        assertThat(PersistentPrograms.tail(s, 20)).isEqualTo("third, with é\n");
        assertThat(PersistentPrograms.tail(s, 20).getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(20);
    }

    static void assertRefused(String json, ErrorCode code, String field) {
        assertThatThrownBy(() -> body(json)).isInstanceOfSatisfying(NodeException.class, e -> {
            assertThat(e.code()).as(json).isEqualTo(code);
            assertThat(e.details()).as(json).extracting(NodeException.Detail::path).containsExactly(field);
        });
    }

    static ItemHash hash(char c) {
        return ItemHash.parse(String.valueOf(c).repeat(64));
    }
}
