package dev.kiln.vm.snapshot;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SnapshotKeyTest {

    static SnapshotKey.Builder base() {
        return SnapshotKey.builder().kernel("k1").runtime("r1").code("c1").data("d1").volume("/dev/vdc", "v1")
                .variables(Map.of("A", "1", "B", "2")).memoryMiB(256).vcpus(1).guestConfig("hostname", "vm-0f20");
    }

    @Test
    void theSamePartsGiveTheSameKeyWhateverTheOrderOfMaps() {
        Map<String, String> reversed = new LinkedHashMap<>();
        reversed.put("B", "2");
        reversed.put("A", "1");
        SnapshotKey a = base().build();
        SnapshotKey b = SnapshotKey.builder().guestConfig("hostname", "vm-0f20").vcpus(1).memoryMiB(256).variables(reversed)
                .volume("/dev/vdc", "v1").data("d1").code("c1").runtime("r1").kernel("k1").build();
        assertThat(a).isEqualTo(b);
        assertThat(a.value()).hasSize(64).matches("[0-9a-f]+");
        assertThat(a.shortForm()).hasSize(12);
    }

    @Test
    void anyChangeOfAnyPartGivesANewKey() {
        List<UnaryOperator<SnapshotKey.Builder>> changes = List.of(
                b -> b.kernel("k2"), b -> b.runtime("r2"), b -> b.code("c2"), b -> b.data("d2"), b -> b.data(null),
                b -> b.volume("/dev/vdd", "v2"), b -> b.variables(Map.of("A", "1 ")), b -> b.variables(Map.of("C", "")),
                b -> b.memoryMiB(512), b -> b.vcpus(2), b -> b.guestConfig("hostname", "vm-other"),
                b -> b.guestConfig("agent", "kiln-init1/2"));
        Set<SnapshotKey> keys = new HashSet<>();
        keys.add(base().build());
        for (UnaryOperator<SnapshotKey.Builder> c : changes) keys.add(c.apply(base()).build());
        assertThat(keys).hasSize(changes.size() + 1);
    }

    @Test
    void partsCannotBleedIntoEachOther() {
        // Without length prefixes these would encode alike.
        assertThat(SnapshotKey.builder().code("ab").data("c").build()).isNotEqualTo(SnapshotKey.builder().code("a").data("bc").build());
        assertThat(SnapshotKey.builder().code("").build()).isNotEqualTo(SnapshotKey.builder().build());
        assertThat(SnapshotKey.builder().variables(Map.of("A", "1=B")).build())
                .isNotEqualTo(SnapshotKey.builder().variables(Map.of("A=1", "B")).build());
        // Volume order is the guest's device order: it matters.
        assertThat(SnapshotKey.builder().volume("/dev/vdc", "x").volume("/dev/vdd", "y").build())
                .isNotEqualTo(SnapshotKey.builder().volume("/dev/vdd", "y").volume("/dev/vdc", "x").build());
    }

    @Test
    void aKeyIsSixtyFourHexDigits() {
        assertThatThrownBy(() -> new SnapshotKey("../etc")).isInstanceOf(IllegalArgumentException.class);
    }
}
