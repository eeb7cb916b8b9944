package dev.kiln.core.catalogue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RuntimeCatalogueTest {
    private final RuntimeCatalogue official = RuntimeCatalogue.official();

    @Test
    void officialCatalogueHoldsTheSeedsTables() {
        assertThat(official.ofKind(RuntimeKind.FUNCTION)).hasSize(4);
        assertThat(official.ofKind(RuntimeKind.INSTANCE_ROOTFS)).hasSize(3)
                .allSatisfy(e -> assertThat(e.filesystem()).isEqualTo("btrfs"));
        assertThat(official.ofKind(RuntimeKind.QEMU_DISK_IMAGE)).hasSize(3);
        assertThat(official.ofKind(RuntimeKind.CONFIDENTIAL_FIRMWARE)).hasSize(1);
        assertThat(official.all()).allSatisfy(e -> assertThat(e.origin()).isEqualTo(RuntimeOrigin.OFFICIAL));
    }

    @Test
    void defaultFunctionRuntimeIsDebian12Python() {
        RuntimeEntry d = official.defaultOf(RuntimeKind.FUNCTION).orElseThrow();
        assertThat(d.itemHash().value()).isEqualTo("63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696");
        assertThat(d.languages()).contains("Python 3.11");
        assertThat(official.find("debian-11-python").isDeprecated()).isTrue();
    }

    @Test
    void firmwareCarriesItsVerificationHash() {
        RuntimeEntry fw = official.find("confidential-firmware");
        assertThat(fw.itemHash().value()).startsWith("ba5bb13f");
        assertThat(fw.verificationHash()).map(ItemHash::value)
                .contains("89b76b0e64fe9015084fbffdf8ac98185bafc688bfe7a0b398585c392d03c7ee");
    }

    @Test
    void findsByHashPrefixAndName() {
        assertThat(official.find("bd79839bf96e595a").name()).isEqualTo("debian-11-python");
        assertThat(official.find("63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696").name())
                .isEqualTo("debian-12-python");
        assertThat(official.find("ubuntu-22.04-qemu").kind()).isEqualTo(RuntimeKind.QEMU_DISK_IMAGE);
    }

    @Test
    void unknownHashIsAThirdPartyRuntime() {
        String h = "a".repeat(64);
        RuntimeEntry e = official.find(h);
        assertThat(e.origin()).isEqualTo(RuntimeOrigin.THIRD_PARTY);
        assertThat(e.itemHash().value()).isEqualTo(h);
    }

    @Test
    void unknownNameSaysWhatToDo() {
        assertThatThrownBy(() -> official.find("debian-13-python"))
                .isInstanceOf(RuntimeNotFoundException.class)
                .hasMessageContaining("'debian-13-python'")
                .hasMessageContaining("kiln runtime list");
        assertThatThrownBy(() -> official.find("6")).isInstanceOf(RuntimeNotFoundException.class);
    }

    @Test
    void localDefaultWinsAndSameNameIsAmbiguous() {
        RuntimeEntry local = new RuntimeEntry("debian-12-python", "built here", ItemHash.parse("b".repeat(64)),
                RuntimeKind.FUNCTION, "squashfs", RuntimeStatus.DEFAULT, "Debian 12", List.of("Python 3.11"),
                Optional.empty(), RuntimeOrigin.LOCAL);
        RuntimeCatalogue c = official.withLocal(List.of(local));
        assertThat(c.defaultOf(RuntimeKind.FUNCTION)).contains(local);
        assertThatThrownBy(() -> c.find("debian-12-python"))
                .isInstanceOf(RuntimeNotFoundException.class)
                .hasMessageContaining("matches 2 runtimes")
                .hasMessageContaining("b".repeat(64));
        assertThat(c.find("b".repeat(64))).isEqualTo(local);
    }

    @Test
    void malformedCatalogueIsRejectedNamingTheField() {
        assertThatThrownBy(() -> read("""
                {"format":1,"runtimes":[{"name":"x","item_hash":"nothex","kind":"function","status":"default"}]}"""))
                .isInstanceOf(CatalogueFormatException.class)
                .hasMessageContaining("runtimes[0].item_hash")
                .hasMessageContaining("nothex");
        assertThatThrownBy(() -> read("""
                {"format":1,"runtimes":[{"name":"x","item_hash":"%s","kind":"lambda","status":"default"}]}""".formatted("c".repeat(64))))
                .hasMessageContaining("runtimes[0].kind").hasMessageContaining("lambda");
        assertThatThrownBy(() -> read("""
                {"format":1,"runtimes":[
                 {"name":"x","item_hash":"%s","kind":"function","status":"default"},
                 {"name":"y","item_hash":"%s","kind":"function","status":"default"}]}""".formatted("c".repeat(64), "d".repeat(64))))
                .hasMessageContaining("runtimes[1].status").hasMessageContaining("second default");
        assertThatThrownBy(() -> read("""
                {"format":1,"runtimes":[{"name":"fw","item_hash":"%s","kind":"confidential-firmware","status":"default"}]}""".formatted("c".repeat(64))))
                .hasMessageContaining("verification_hash: required");
        assertThatThrownBy(() -> read("{\"format\":2,\"runtimes\":[]}")).hasMessageContaining("format 2");
        assertThatThrownBy(() -> read("{\"format\":1,")).hasMessageContaining("not valid JSON");
    }

    private static List<RuntimeEntry> read(String json) {
        return CatalogueReader.read(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)), "test.json", RuntimeOrigin.LOCAL);
    }
}
