package dev.kiln.core.message;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.hash.ItemHash;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** The real aleph examples: they must parse, pass every check and come back out unchanged. */
class FixtureMessagesTest {
    static final List<String> NAMES = Fixtures.NAMES;

    @ParameterizedTest
    @FieldSource("NAMES")
    void parsesAndPassesValidationAndIntegrity(String name) {
        AlephMessage message = AlephMessages.parse(Fixtures.text(name));

        assertThat(MessageValidator.validate(message)).isEmpty();
        assertThat(IntegrityCheck.verify(message)).isEmpty();
        assertThat(AlephMessages.requireValid(message)).isSameAs(message);
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void roundTripsToTheSameJsonTree(String name) {
        AlephMessage message = AlephMessages.parse(Fixtures.text(name));

        String written = AlephMessages.toJson(message);

        assertThat(Fixtures.parseTree(written)).isEqualTo(Fixtures.tree(name));
        assertThat(AlephMessages.parse(written)).isEqualTo(message);
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void prettyJsonIsTheSameTree(String name) {
        AlephMessage message = AlephMessages.parse(Fixtures.text(name));

        assertThat(Fixtures.parseTree(AlephMessages.toPrettyJson(message))).isEqualTo(Fixtures.tree(name));
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void keepsItemContentAsTheExactHashedText(String name) {
        AlephMessage message = AlephMessages.parse(Fixtures.text(name));

        assertThat(message.itemContent()).isEqualTo(Fixtures.tree(name).get("item_content").textValue());
        assertThat(message.hash()).isEqualTo(ItemHash.parse(Fixtures.sha256Hex(message.itemContent())));
    }

    @Test
    void programFixtureReadsAsAProgram() {
        AlephMessage message = AlephMessages.parse(Fixtures.text("program.json"));
        ProgramContent program = message.contentAs(ProgramContent.class);

        assertThat(message.messageType()).contains(MessageType.PROGRAM);
        assertThat(message.chain()).isEqualTo("ETH");
        assertThat(message.time()).isEqualByComparingTo("1619017773.8950577");
        assertThat(program.codeRef()).isEqualTo(ItemHash.parse("7eb2eca2378ea8855336ed76c8b26219f1cb90234d04441de9cf8cb1c649d003"));
        assertThat(program.runtimeRef()).isEqualTo(ItemHash.parse("5f31b0706f59404fad3d0bff97ef89ddf24da4761608ea0646329362c662ba51"));
        assertThat(program.encoding()).isEqualTo(Encoding.SQUASHFS);
        assertThat(program.entrypoint()).isEqualTo("main:app");
        assertThat(program.codeInterface()).isEqualTo(CodeInterface.ASGI);
        assertThat(program.on().onHttp()).isTrue();
        assertThat(program.isPersistent()).isFalse();
        assertThat(program.on().subscriptions()).hasSize(2);
        assertThat(program.data().mount()).isEqualTo("/data");
        assertThat(program.export().knownEncoding()).contains(Encoding.ZIP);
        assertThat(program.variablesOrEmpty()).containsEntry("VM_CUSTOM_NUMBER", "32");
        assertThat(program.environmentOrDefault().hasInternet()).isTrue();
        assertThat(program.resourcesOrDefault()).isEqualTo(Resources.of(1, 256, 30));
        assertThat(program.volumesOrEmpty()).hasExactlyElementsOfTypes(ImmutableVolume.class, PersistentVolume.class);
        PersistentVolume data = (PersistentVolume) program.volumes().get(1);
        assertThat(data.name()).isEqualTo("data");
        assertThat(data.knownPersistence()).contains(Persistence.HOST);
        assertThat(data.sizeMib()).isEqualTo(5);
        assertThat(data.readOnly()).isFalse();
        assertThat(program.volumes().getFirst().readOnly()).isTrue();
    }

    @Test
    void instanceFixturesReadAsInstances() {
        InstanceContent firecracker = AlephMessages.parse(Fixtures.text("instance.json")).contentAs(InstanceContent.class);
        InstanceContent qemu = AlephMessages.parse(Fixtures.text("qemu.json")).contentAs(InstanceContent.class);
        InstanceContent confidential = AlephMessages.parse(Fixtures.text("confidential_instance.json")).contentAs(InstanceContent.class);

        assertThat(firecracker.rootfs().parent().refHash().value())
                .isEqualTo("549ec451d9b099cad112d4aaa2c00ac40fb6729a92ff252ff22eef0b5c3cb613");
        assertThat(firecracker.rootfs().knownPersistence()).contains(Persistence.HOST);
        assertThat(firecracker.rootfs().sizeMib()).isEqualTo(5000);
        assertThat(firecracker.environment().knownHypervisor()).isEmpty();
        assertThat(firecracker.authorizedKeysOrEmpty()).singleElement().asString().startsWith("ssh-ed25519 ");
        assertThat(qemu.environment().knownHypervisor()).contains(Hypervisor.QEMU);
        assertThat(qemu.environment().isConfidential()).isFalse();
        assertThat(confidential.environment().isConfidential()).isTrue();
        assertThat(confidential.environment().trustedExecution().firmwareHash()).map(ItemHash::value)
                .contains("88978bb4c2ff54400ce5f51c3a109e1af1ab03d1ea4409666917317ac513846b");
        assertThat(confidential.environment().trustedExecution().policyOrDefault()).isEqualTo(1);
    }
}
