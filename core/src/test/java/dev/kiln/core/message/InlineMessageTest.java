package dev.kiln.core.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Messages Kiln creates itself: hashed so that every check passes, and readable back as they were. */
class InlineMessageTest {
    private static final String OWNER = "0x9319Ad3B7A8E0eE24f2E639c40D8eD124C5520Ba";
    private static final Instant WHEN = Instant.parse("2025-01-02T03:04:05.123456Z");
    private static final ItemHash CODE = ItemHash.sha256Of("code".getBytes(StandardCharsets.UTF_8));
    private static final ItemHash RUNTIME = ItemHash.parse("63f07193e6ee9d207b7d1fcf8286f9aee34e6f12f101d2ec77c1229f92964696");

    private static ProgramContent program() {
        return ProgramContent.builder()
                .address(OWNER)
                .time(WHEN)
                .code(Code.of(Encoding.SQUASHFS, "main:app", CODE))
                .runtime(ProgramRuntime.of(RUNTIME, "Debian 12 + Python 3.11"))
                .resources(Resources.of(2, 512, 60))
                .variable("GREETING", "café ☕")
                .volume(ImmutableVolume.of("/opt/venv", CODE))
                .volume(EphemeralVolume.of("/tmp/scratch", 100))
                .volume(PersistentVolume.of("/var/lib/app", "app-data", Persistence.HOST, 50))
                .build();
    }

    @Test
    void createdProgramPassesEveryCheck() {
        AlephMessage message = AlephMessage.inline("ETH", OWNER, "kiln", program(), WHEN);

        assertThat(AlephMessages.check(message)).isEmpty();
        assertThat(message.type()).isEqualTo("PROGRAM");
        assertThat(message.isInline()).isTrue();
        assertThat(message.signature()).isNull();
    }

    @Test
    void itemHashIsTheSha256OfTheCompactItemContent() {
        AlephMessage message = AlephMessage.inline("ETH", OWNER, "kiln", program(), WHEN);

        assertThat(message.itemHash()).isEqualTo(Fixtures.sha256Hex(message.itemContent()));
        assertThat(message.itemContent()).doesNotContain("\n", "\": ", ", \"")
                .startsWith("{\"type\":\"vm-function\",\"address\":\"" + OWNER + "\",\"time\":1735787045.123456,");
    }

    @Test
    void itemContentIsAsciiSoTheHashedBytesDoNotDependOnAnEncoding() {
        AlephMessage message = AlephMessage.inline("ETH", OWNER, "kiln", program(), WHEN);

        assertThat(message.itemContent()).contains("caf\\u00E9 \\u2615");
        assertThat(message.itemContent().chars()).allMatch(c -> c < 128);
        assertThat(AlephMessages.parseContent(MessageType.PROGRAM, message.itemContent())).isEqualTo(program());
    }

    @Test
    void createdMessageRoundTripsToAnEqualMessage() {
        AlephMessage message = AlephMessage.inline("ETH", OWNER, "kiln", program(), WHEN);

        AlephMessage back = AlephMessages.parse(AlephMessages.toJson(message));

        assertThat(back).isEqualTo(message);
        assertThat(back.contentAs(ProgramContent.class).volumes())
                .hasExactlyElementsOfTypes(ImmutableVolume.class, EphemeralVolume.class, PersistentVolume.class);
        assertThat(AlephTime.toInstant(back.time())).isEqualTo(WHEN);
    }

    @Test
    void builderDefaultsToAnOnDemandHttpProgram() {
        ProgramContent built = program();

        assertThat(built.type()).isEqualTo("vm-function");
        assertThat(built.on().onHttp()).isTrue();
        assertThat(built.isPersistent()).isFalse();
        assertThat(built.amendable()).isFalse();
        assertThat(built.environment().hasInternet()).isFalse();
        assertThat(AlephMessages.contentToJson(built)).doesNotContain("\"data\"", "\"export\"", "\"payment\"", "null")
                .contains("\"environment\":{\"reproducible\":false,\"internet\":false,\"aleph_api\":false,\"shared_cache\":false}");
        assertThat(ProgramContent.builder().build().resources()).isEqualTo(Resources.of(1, 128, 30));
    }

    @Test
    void createdStorePassesEveryCheck() {
        ItemHash file = ItemHash.sha256Of("squashfs image".getBytes(StandardCharsets.UTF_8));
        StoreContent store = StoreContent.of(OWNER, file, AlephTime.of(WHEN));

        AlephMessage message = AlephMessage.inline("ETH", OWNER, "kiln", store, WHEN);

        assertThat(AlephMessages.check(message)).isEmpty();
        assertThat(message.type()).isEqualTo("STORE");
        assertThat(message.contentAs(StoreContent.class).knownItemType()).contains(ItemType.STORAGE);
        assertThat(message.contentAs(StoreContent.class).fileHash()).isEqualTo(file);
    }

    @Test
    void amendingStoreRefersToTheOriginal() {
        ItemHash original = AlephMessage.inline("ETH", OWNER, "kiln",
                StoreContent.of(OWNER, CODE, AlephTime.of(WHEN)), WHEN).hash();
        StoreContent amend = StoreContent.of(OWNER, RUNTIME, AlephTime.of(WHEN)).amending(original);

        AlephMessage message = AlephMessage.inline("ETH", OWNER, "kiln", amend, WHEN);

        assertThat(AlephMessages.check(message)).isEmpty();
        assertThat(message.contentAs(StoreContent.class).ref()).isEqualTo(original.value());
    }

    @Test
    void ipfsFilesAreStoredAsIpfs() {
        StoreContent store = StoreContent.of(OWNER, ItemHash.parse("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG"), AlephTime.of(WHEN));

        assertThat(store.knownItemType()).contains(ItemType.IPFS);
        assertThat(AlephMessages.check(AlephMessage.inline("ETH", OWNER, "kiln", store, WHEN))).isEmpty();
    }

    @Test
    void createdInvalidContentIsStillReportedByTheValidator() {
        ProgramContent noCode = ProgramContent.builder().address(OWNER).time(WHEN)
                .runtime(ProgramRuntime.of(RUNTIME, null)).resources(Resources.of(1, 0, 30)).build();

        AlephMessage message = AlephMessage.inline("ETH", OWNER, "kiln", noCode, WHEN);

        assertThat(AlephMessages.check(message)).extracting(ValidationError::path)
                .containsExactly("content.code", "content.resources.memory");
    }

    @Test
    void otherContentCannotBeCreated() {
        OtherContent post = new OtherContent(Fixtures.parseTree("{\"type\": \"chat\"}"));

        assertThatThrownBy(() -> AlephMessage.inline("ETH", OWNER, "kiln", post, WHEN))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("PROGRAM, INSTANCE and STORE");
    }
}
