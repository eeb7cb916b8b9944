package dev.kiln.node.program;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.ProgramContent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fields this node refuses rather than ignores, one at a time over the real PROGRAM fixture
 * (fixtures/aleph-messages/program.json): with every refused field taken out nothing is refused,
 * and putting back any one of them is refused naming exactly that field.
 */
class ProgramContractTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static ObjectNode fixtureContent() throws Exception {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("fixtures/aleph-messages"))) p = p.getParent();
        return (ObjectNode) JSON.readTree(p.resolve("fixtures/aleph-messages/program.json").toFile()).get("content");
    }

    /** The fixture without what this node refuses. */
    static ObjectNode honourable() throws Exception {
        ObjectNode c = fixtureContent();
        ((ObjectNode) c.get("environment")).put("aleph_api", false).put("shared_cache", false);
        return c;
    }

    static ProgramContent parse(ObjectNode content) {
        return (ProgramContent) AlephMessages.parseContent(MessageType.PROGRAM, content.toString());
    }

    @Test
    void theFixtureWithoutTheRefusedFieldsIsAccepted() throws Exception {
        assertThat(ProgramContract.refusals(parse(honourable()))).isEmpty();
    }

    @Test
    void theFixtureAsPublishedOnAlephIsRefusedForEachFieldThisNodeDoesNotDo() throws Exception {
        assertThat(ProgramContract.refusals(parse(fixtureContent()))).extracting(ProgramContract.Refusal::field)
                .isEmpty();
    }

    @Test
    void theGuestApiFieldsAreHonoured() throws Exception {
        ObjectNode c = honourable();
        ((ObjectNode) c.get("environment")).put("aleph_api", true).put("shared_cache", true);
        assertThat(ProgramContract.refusals(parse(c))).isEmpty();
    }

    static Stream<Arguments> fields() throws Exception {
        ObjectNode fixture = fixtureContent();
        return Stream.of(
                Arguments.of("content.export.encoding", (Consumer<ObjectNode>) c -> ((ObjectNode) c.get("export"))
                        .put("encoding", "squashfs")),
                Arguments.of("content.export.mount", (Consumer<ObjectNode>) c -> ((ObjectNode) c.get("export"))
                        .put("mount", "/var/lib/example/out")),
                // on.message is honoured (docs/events.md); a filter aleph's matcher cannot compare is refused.
                Arguments.of("content.on.message[2].channel", (Consumer<ObjectNode>) c -> ((ObjectNode) c.get("on"))
                        .withArray("message").addObject().putArray("channel").add("A").add("B")),
                Arguments.of("content.on.message[2]", (Consumer<ObjectNode>) c -> ((ObjectNode) c.get("on"))
                        .withArray("message").addObject()),
                Arguments.of("content.on.message[2].content.size", (Consumer<ObjectNode>) c -> ((ObjectNode) c.get("on"))
                        .withArray("message").addObject().putObject("content").put("size", 3)),
                Arguments.of("content.authorized_keys", (Consumer<ObjectNode>) c -> c.putArray("authorized_keys")
                        .add("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA test@example")),
                Arguments.of("content.code.args", (Consumer<ObjectNode>) c -> ((ObjectNode) c.get("code"))
                        .putArray("args").add("--verbose")),
                Arguments.of("content.requirements", (Consumer<ObjectNode>) c -> c.putObject("requirements")
                        .putObject("cpu").put("architecture", "x86_64")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fields")
    void eachRefusedFieldIsNamedAlone(String field, Consumer<ObjectNode> set) throws Exception {
        ObjectNode c = honourable();
        set.accept(c);
        var refusals = ProgramContract.refusals(parse(c));
        assertThat(refusals).extracting(ProgramContract.Refusal::field).containsExactly(field);
        assertThat(refusals.getFirst().reason()).as("says what to do").containsAnyOf("remove", "set ");
    }

    @Test
    void emptyListsAndFalseFlagsAreNotRefused() throws Exception {
        ObjectNode c = honourable();
        c.putArray("authorized_keys");
        ((ObjectNode) c.get("on")).putArray("message");
        ((ObjectNode) c.get("code")).putArray("args");
        assertThat(ProgramContract.refusals(parse(c))).isEmpty();
    }
}
