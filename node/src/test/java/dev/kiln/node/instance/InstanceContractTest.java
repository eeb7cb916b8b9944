package dev.kiln.node.instance;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.MessageType;
import dev.kiln.node.program.ProgramContract.Refusal;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The INSTANCE fields this node refuses rather than ignores, over the real fixtures
 * (fixtures/aleph-messages/instance.json, qemu.json, confidential_instance.json): each refusal
 * names its field, and without the refused fields nothing is refused.
 */
class InstanceContractTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HostSev NO_SEV = new HostSev(false, false);

    static ObjectNode fixture(String name) throws Exception {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("fixtures/aleph-messages"))) p = p.getParent();
        return (ObjectNode) JSON.readTree(p.resolve("fixtures/aleph-messages/" + name).toFile()).get("content");
    }

    static InstanceContent parse(ObjectNode content) {
        return (InstanceContent) AlephMessages.parseContent(MessageType.INSTANCE, content.toString());
    }

    static ObjectNode honourable() throws Exception {
        return fixture("instance.json");
    }

    @Test
    void theRootfsFixtureAsPublishedIsAcceptedWithItsGuestApiAndSharedCache() throws Exception {
        ObjectNode c = fixture("instance.json");
        assertThat(c.get("environment").get("aleph_api").asBoolean()).isTrue();
        assertThat(c.get("environment").get("shared_cache").asBoolean()).isTrue();
        assertThat(InstanceContract.refusals(parse(c), NO_SEV)).isEmpty();
    }

    @Test
    void aConfidentialInstanceIsRefusedSayingTheHostHasNoSev() throws Exception {
        var refused = InstanceContract.refusals(parse(fixture("confidential_instance.json")), NO_SEV);
        assertThat(refused.getFirst().field()).isEqualTo("content.environment.trusted_execution");
        assertThat(refused.getFirst().reason()).contains("no AMD SEV");
        // On a host with SEV the refusal says what is missing on the node's side instead.
        var withSev = InstanceContract.refusals(parse(fixture("confidential_instance.json")), new HostSev(true, false));
        assertThat(withSev.getFirst().reason()).contains("has AMD SEV").contains("not boot confidential");
    }

    static ObjectNode qemuHonourable() throws Exception {
        return fixture("qemu.json");
    }

    @Test
    void theDiskImageFixtureWithItsHostVolumeIsAcceptedAsPublished() throws Exception {
        assertThat(InstanceContract.refusals(parse(fixture("qemu.json")), NO_SEV)).isEmpty();
    }

    @Test
    void storeDisksAndStoreVolumesAreRefusedNamingTheirPersistence() throws Exception {
        ObjectNode c = qemuHonourable();
        ((ObjectNode) c.get("rootfs")).put("persistence", "store");
        ((ObjectNode) c.get("volumes").get(0)).put("persistence", "store");
        var refused = InstanceContract.refusals(parse(c), NO_SEV);
        assertThat(refused).extracting(Refusal::field)
                .containsExactly("content.rootfs.persistence", "content.volumes[0].persistence");
        assertThat(refused.get(1).reason()).contains("'store'").contains("persistence: host");
    }

    @Test
    void ephemeralVolumesAndPersistentOnesWithAParentAreHonoured() throws Exception {
        ObjectNode c = qemuHonourable();
        ((ObjectNode) c.get("volumes").get(0)).putObject("parent").put("ref", "ab".repeat(32)).put("use_latest", false);
        c.withArray("volumes").addObject().put("mount", "/scratch").put("ephemeral", true).put("size_mib", 100);
        assertThat(InstanceContract.refusals(parse(c), NO_SEV)).isEmpty();
    }

    @Test
    void unknownFieldsOfAVolumeOrItsParentAreRefusedByName() throws Exception {
        ObjectNode c = qemuHonourable();
        ((ObjectNode) c.get("volumes").get(0)).put("size_gib", 1)
                .putObject("parent").put("ref", "ab".repeat(32)).put("checksum", "x");
        assertThat(InstanceContract.refusals(parse(c), NO_SEV)).extracting(Refusal::field)
                .containsExactlyInAnyOrder("content.volumes[0].size_gib", "content.volumes[0].parent.checksum");
    }

    @Test
    void gpuRequirementsAndUnknownFieldsAreRefusedByName() throws Exception {
        ObjectNode c = honourable();
        c.putObject("requirements").putArray("gpu").addObject().put("vendor", "NVIDIA");
        c.put("cloud_config", "x");
        ((ObjectNode) c.get("resources")).putArray("published_ports");
        assertThat(InstanceContract.refusals(parse(c), NO_SEV)).extracting(Refusal::field)
                .containsExactlyInAnyOrder("content.requirements.gpu", "content.cloud_config",
                        "content.resources.published_ports");
    }

    @Test
    void theSevProbeReadsTheDeviceAndTheCpuFlags(@TempDir Path dir) throws Exception {
        Path cpuinfo = Files.writeString(dir.resolve("cpuinfo"), "processor\t: 0\nflags\t\t: fpu vme sse2 sev_es\n");
        assertThat(HostSev.probe(dir.resolve("sev"), cpuinfo).available()).as("sev_es alone is not the sev flag").isFalse();
        Files.writeString(cpuinfo, "processor\t: 0\nflags\t\t: fpu sev sev_es\n");
        assertThat(HostSev.probe(dir.resolve("sev"), cpuinfo)).isEqualTo(new HostSev(false, true));
        Files.createFile(dir.resolve("sev"));
        assertThat(HostSev.probe(dir.resolve("sev"), dir.resolve("none")).available()).isTrue();
    }
}
