package dev.kiln.core.message;

import static dev.kiln.core.message.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/** item_hash is the SHA-256 of item_content's exact bytes, and content is item_content. */
class IntegrityCheckTest {
    static final List<String> NAMES = Fixtures.NAMES;

    private static List<ValidationError> verify(ObjectNode tree) {
        return IntegrityCheck.verify(AlephMessages.parse(Fixtures.write(tree)));
    }

    @ParameterizedTest
    @FieldSource("NAMES")
    void fixturesPass(String name) {
        assertThat(IntegrityCheck.verify(AlephMessages.parse(Fixtures.text(name)))).isEmpty();
    }

    @Test
    void tamperedItemContentFailsTheHashAndNamesTheChangedField() {
        ObjectNode tree = Fixtures.tree("program.json");
        String original = tree.get("item_content").textValue();
        tree.put("item_content", original.replace("\"memory\":256", "\"memory\":4096"));

        List<ValidationError> errors = verify(tree);

        assertThat(errors).extracting(ValidationError::path).containsExactly("item_content", "content");
        assertThat(errors.get(0).reason()).isEqualTo("SHA-256 is " + Fixtures.sha256Hex(tree.get("item_content").textValue())
                + ", item_hash says '" + Fixtures.sha256Hex(original)
                + "': item_content was changed after hashing, or item_hash belongs to another message");
        assertThat(errors.get(1).reason()).isEqualTo("does not match item_content, which is what item_hash covers:"
                + " content.resources.memory is 256 in content but 4096 in item_content");
    }

    @Test
    void tamperedContentAloneIsCaught() {
        ObjectNode tree = Fixtures.tree("qemu.json");
        Fixtures.set(tree, "/content/environment/hypervisor", json("\"firecracker\""));

        assertThat(verify(tree)).extracting(ValidationError::toString).containsExactly(
                "content: does not match item_content, which is what item_hash covers:"
                        + " content.environment.hypervisor is \"firecracker\" in content but \"qemu\" in item_content");
    }

    @Test
    void anUnrelatedValidHashIsCaught() {
        ObjectNode tree = Fixtures.tree("instance.json");
        tree.put("item_hash", Fixtures.tree("qemu.json").get("item_hash").textValue());

        assertThat(verify(tree)).extracting(ValidationError::path).containsExactly("item_content");
    }

    @Test
    void upperCaseHashIsRefusedWithTheReason() {
        ObjectNode tree = Fixtures.tree("instance.json");
        tree.put("item_hash", tree.get("item_hash").textValue().toUpperCase());

        assertThat(verify(tree)).extracting(ValidationError::toString).singleElement().asString()
                .startsWith("item_hash: must be lower-case hex");
    }

    @Test
    void formattingOfItemContentDoesNotMatterOnlyItsMeaning() throws Exception {
        ObjectNode tree = Fixtures.tree("program.json");
        String pretty = Fixtures.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tree.get("content"));
        tree.put("item_content", pretty);
        tree.put("item_hash", Fixtures.sha256Hex(pretty));

        assertThat(pretty).contains("\n  \"code\" : {");
        assertThat(verify(tree)).isEmpty();
    }

    @Test
    void messageWithOnlyItemContentTakesItsContentFromThere() {
        ObjectNode tree = Fixtures.tree("program.json");
        tree.remove("content");

        AlephMessage message = AlephMessages.parse(Fixtures.write(tree));

        assertThat(message.contentInEnvelope()).isFalse();
        assertThat(message.content()).isEqualTo(AlephMessages.parse(Fixtures.text("program.json")).content());
        assertThat(AlephMessages.check(message)).isEmpty();
        assertThat(Fixtures.parseTree(AlephMessages.toJson(message))).isEqualTo(tree);
    }

    @Test
    void inlineWithoutItemContentIsRefused() {
        ObjectNode tree = Fixtures.tree("program.json");
        tree.remove("item_content");

        assertThat(verify(tree)).extracting(ValidationError::toString).containsExactly(
                "item_content: required when item_type is inline: it is the text item_hash is computed from");
    }

    @Test
    void itemContentThatIsNotJsonIsRefused() {
        ObjectNode tree = Fixtures.tree("program.json");
        tree.put("item_content", "not json");
        tree.put("item_hash", Fixtures.sha256Hex("not json"));

        assertThat(verify(tree)).extracting(ValidationError::toString).singleElement().asString()
                .startsWith("item_content: malformed JSON at line 1, column 4");
    }

    @Test
    void itemContentWithAWrongTypeNamesTheField() {
        ObjectNode tree = Fixtures.tree("program.json");
        String bad = tree.get("item_content").textValue().replace("\"vcpus\":1", "\"vcpus\":\"1\"");
        tree.put("item_content", bad);
        tree.put("item_hash", Fixtures.sha256Hex(bad));

        assertThat(verify(tree)).extracting(ValidationError::toString)
                .containsExactly("item_content.resources.vcpus: expected an integer, got a string (\"1\")");
    }

    @Test
    void onlySha256IsAcceptedAsHashType() {
        ObjectNode tree = Fixtures.tree("program.json");
        tree.put("hash_type", "md5");

        assertThat(verify(tree)).extracting(ValidationError::toString)
                .containsExactly("hash_type: must be 'sha256', the only hash aleph defines; got 'md5'");
    }

    @Test
    void storedMessagesCarryNoItemContentAndAMatchingHashKind() {
        String sha = "5f31b0706f59404fad3d0bff97ef89ddf24da4761608ea0646329362c662ba51";
        String cid = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
        ObjectNode storage = Fixtures.tree("program.json");
        storage.put("item_type", "storage");
        storage.remove("item_content");
        storage.put("item_hash", sha);

        assertThat(verify(storage)).isEmpty();
        assertThat(verify(storage.deepCopy().put("item_hash", cid))).extracting(ValidationError::toString)
                .containsExactly("item_hash: item_type storage needs a SHA-256 (64 hex digits); a CID means item_type ipfs");
        assertThat(verify(storage.deepCopy().put("item_type", "ipfs"))).extracting(ValidationError::toString)
                .containsExactly("item_hash: item_type ipfs needs an IPFS CID (Qm… or b…); a SHA-256 means item_type storage");
        assertThat(verify(storage.deepCopy().put("item_type", "ipfs").put("item_hash", cid))).isEmpty();
        assertThat(verify(storage.deepCopy().put("item_content", "{}"))).extracting(ValidationError::toString)
                .containsExactly("item_content: must be absent when item_type is storage: the content is stored under item_hash, not inline");
        assertThat(verify(storage.deepCopy().put("item_hash", "fake"))).extracting(ValidationError::path)
                .containsExactly("item_hash");
    }

    @Test
    void unknownItemTypeCannotBeVerified() {
        ObjectNode tree = Fixtures.tree("program.json");
        tree.put("item_type", "carrier-pigeon");

        assertThat(verify(tree)).extracting(ValidationError::toString).containsExactly(
                "item_type: 'carrier-pigeon' is not inline, storage or ipfs: the item hash cannot be checked");
    }
}
