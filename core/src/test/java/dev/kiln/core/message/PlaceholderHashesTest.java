package dev.kiln.core.message;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * The examples as aleph publishes them: a placeholder item_hash and an item_content that is not
 * the content. Their content is sound; their envelope must be refused, saying why.
 */
class PlaceholderHashesTest {
    static final List<String> NAMES = Fixtures.NAMES;

    @ParameterizedTest
    @FieldSource("NAMES")
    void contentIsValid(String name) {
        AlephMessage message = AlephMessages.parse(Fixtures.placeholder(name));

        assertThat(MessageValidator.validate(message)).isEmpty();
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void integrityCheckRefusesTheEnvelopeWithReasons(String name) {
        AlephMessage message = AlephMessages.parse(Fixtures.placeholder(name));
        String actualHash = Fixtures.sha256Hex(message.itemContent());

        List<ValidationError> errors = IntegrityCheck.verify(message);

        assertThat(errors).extracting(ValidationError::path).containsExactly("item_hash", "item_content", "content");
        assertThat(errors.get(0).reason()).startsWith("'fake-hash-fake-hash-").contains("is not a valid item hash");
        assertThat(errors.get(1).reason()).startsWith("SHA-256 is " + actualHash + ", item_hash says 'fake-hash-");
        assertThat(errors.get(2).reason()).startsWith("does not match item_content");
    }

    @Test
    void contentMismatchNamesTheFieldsThatDiffer() {
        AlephMessage message = AlephMessages.parse(Fixtures.placeholder("program.json"));

        ValidationError mismatch = IntegrityCheck.verify(message).getLast();

        assertThat(mismatch.reason())
                .contains("content.on.message[0].sender is \"0xb5F010860b0964090d5414406273E6b3A8726E96\" in content"
                        + " but \"0xB31B787AdA86c6067701d4C0A250c89C7f1f29A5\" in item_content")
                .contains("content.environment.shared_cache is true in content but false in item_content")
                .contains("content.resources.memory is 256 in content but 128 in item_content");
    }

    @Test
    void fieldsPresentOnlyInItemContentAreNamedToo() {
        AlephMessage message = AlephMessages.parse(Fixtures.placeholder("instance.json"));

        assertThat(IntegrityCheck.verify(message).getLast().reason())
                .contains("content.rootfs.size_mib is 5000 in content but 20000 in item_content")
                .contains("content.cloud_config is absent in content but {");
    }

    @Test
    void requireValidListsEveryReason() {
        AlephMessage message = AlephMessages.parse(Fixtures.placeholder("qemu.json"));

        assertThatThrownBy(() -> AlephMessages.requireValid(message))
                .isInstanceOfSatisfying(InvalidMessageException.class, e -> assertThat(e.errors()).hasSize(3))
                .hasMessageContaining("item_hash: 'fake-hash-")
                .hasMessageContaining("item_content: SHA-256 is ")
                .hasMessageContaining("content: does not match item_content");
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void stillRoundTripIncludingMongoIds(String name) {
        String text = Fixtures.placeholder(name);

        assertThat(Fixtures.parseTree(AlephMessages.toJson(AlephMessages.parse(text)))).isEqualTo(Fixtures.parseTree(text));
    }

    @Test
    void mongoIdIsKeptAsAnUnknownEnvelopeField() {
        AlephMessage message = AlephMessages.parse(Fixtures.placeholder("program.json"));

        assertThat(message.unknownFields()).containsOnlyKeys("_id");
        assertThat(message.unknownFields().get("_id").get("$oid").asText()).isEqualTo("6080402d7f44efefd611dc1e");
    }
}
