package dev.kiln.core.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** What the node reads when a message leaves something out, and the typed accessors it uses. */
class ProgramDefaultsTest {
    private static final String MINIMAL = """
            {"type": "vm-function", "address": "0xabc", "time": 1.5,
             "code": {"encoding": "zip", "entrypoint": "main:app", "ref": "7eb2eca2378ea8855336ed76c8b26219f1cb90234d04441de9cf8cb1c649d003"},
             "runtime": {"ref": "5f31b0706f59404fad3d0bff97ef89ddf24da4761608ea0646329362c662ba51"},
             "on": {"http": true}}""";

    private static ProgramContent program(String json) {
        return (ProgramContent) AlephMessages.parseContent(MessageType.PROGRAM, json);
    }

    @Test
    void absentResourcesTakeTheDocumentedDefaults() {
        ProgramContent p = program(MINIMAL);

        assertThat(p.resources()).isNull();
        assertThat(p.resourcesOrDefault()).isEqualTo(Resources.of(1, 128, 30));
        assertThat(p.resourcesOrDefault().memoryMib()).isEqualTo(Resources.DEFAULT_MEMORY_MIB);
    }

    @Test
    void partialResourcesKeepWhatIsGivenAndTheirUnknownFields() {
        ProgramContent p = program(MINIMAL.replace("\"on\":", "\"resources\": {\"memory\": 512, \"gpu\": 1}, \"on\":"));

        Resources r = p.resourcesOrDefault();

        assertThat(r.vcpus()).isEqualTo(1);
        assertThat(r.memory()).isEqualTo(512);
        assertThat(r.seconds()).isEqualTo(30);
        assertThat(r.unknownFields()).containsOnlyKeys("gpu");
        assertThat(p.resources().vcpus()).as("the message itself is unchanged").isNull();
    }

    @Test
    void absentCollectionsAndFlagsReadAsEmptyAndFalse() {
        ProgramContent p = program(MINIMAL);

        assertThat(p.volumesOrEmpty()).isEmpty();
        assertThat(p.variablesOrEmpty()).isEmpty();
        assertThat(p.authorizedKeysOrEmpty()).isEmpty();
        assertThat(p.amendable()).isFalse();
        Environment env = p.environmentOrDefault();
        assertThat(env.hasInternet() || env.hasAlephApi() || env.isReproducible() || env.hasSharedCache()).isFalse();
        assertThat(env.isConfidential()).isFalse();
    }

    @Test
    void useLatestDefaultsFollowAleph() {
        ProgramContent p = program(MINIMAL);
        ImmutableVolume volume = ImmutableVolume.of("/opt/venv", p.codeRef());
        ImmutableVolume unpinned = new ImmutableVolume(null, "/opt/venv", volume.ref(), null, java.util.Map.of());

        assertThat(p.code().useLatestOrDefault()).as("code is pinned").isFalse();
        assertThat(p.runtime().useLatestOrDefault()).as("runtimes follow amends").isTrue();
        assertThat(unpinned.useLatestOrDefault()).as("immutable volumes follow amends").isTrue();
        assertThat(volume.useLatestOrDefault()).as("explicit false wins").isFalse();
    }

    @Test
    void codeInterfaceIsInferredFromTheEntrypointUnlessGiven() {
        Code asgi = Code.of(Encoding.ZIP, "main:app", program(MINIMAL).codeRef());
        Code binary = Code.of(Encoding.ZIP, "bin/server", asgi.refHash());
        Code explicit = new Code("zip", "main:app", asgi.ref(), null, "binary", null, java.util.Map.of());

        assertThat(asgi.effectiveInterface()).contains(CodeInterface.ASGI);
        assertThat(binary.effectiveInterface()).contains(CodeInterface.BINARY);
        assertThat(explicit.effectiveInterface()).contains(CodeInterface.BINARY);
        assertThat(MessageValidator.validate(AlephMessage.inline("ETH", "0xabc", null,
                programWithCode(explicit), Instant.EPOCH))).as("an executable may contain ':'").isEmpty();
    }

    @Test
    void typedAccessorsRefuseInvalidValuesInsteadOfGuessing() {
        ProgramContent p = program(MINIMAL.replace("\"zip\"", "\"rar\""));

        assertThatThrownBy(p::encoding).isInstanceOf(IllegalStateException.class).hasMessageContaining("'rar'");
    }

    @Test
    void timesKeepTheirDigitsAndConvertToInstants() {
        Instant t = Instant.parse("2021-04-21T15:09:33.895051Z");

        assertThat(AlephTime.of(t)).isEqualTo(new BigDecimal("1619017773.895051"));
        assertThat(AlephTime.of(Instant.ofEpochSecond(1_700_000_000))).isEqualTo(new BigDecimal("1700000000.0"));
        assertThat(AlephTime.toInstant(new BigDecimal("1619017773.8950517"))).isEqualTo(Instant.parse("2021-04-21T15:09:33.895051700Z"));
    }

    private static ProgramContent programWithCode(Code code) {
        return ProgramContent.builder().address("0xabc").time(Instant.EPOCH).code(code)
                .runtime(ProgramRuntime.of(program(MINIMAL).runtimeRef(), null)).build();
    }
}
