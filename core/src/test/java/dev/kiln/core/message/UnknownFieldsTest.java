package dev.kiln.core.message;

import static dev.kiln.core.message.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** Fields Kiln does not know are kept at every level, through parse, serialise and the integrity check. */
class UnknownFieldsTest {

    private static ObjectNode extendedProgram() {
        ObjectNode m = Fixtures.tree("program.json");
        Fixtures.set(m, "/x_envelope", json("{\"nested\": {\"a\": [1, 2]}}"));
        Fixtures.set(m, "/content/x_content", json("[1, 2.50, \"s\", null, true]"));
        Fixtures.set(m, "/content/resources/published_ports", json("[{\"protocol\": \"tcp\", \"port\": 80}]"));
        Fixtures.set(m, "/content/code/x_code", json("true"));
        Fixtures.set(m, "/content/runtime/x_runtime", json("{\"deep\": {\"deeper\": 0.1}}"));
        Fixtures.set(m, "/content/data/x_data", json("\"d\""));
        Fixtures.set(m, "/content/export/x_export", json("7"));
        Fixtures.set(m, "/content/on/x_on", json("\"y\""));
        Fixtures.set(m, "/content/environment/x_environment", json("1.5"));
        Fixtures.set(m, "/content/volumes/0/x_volume", json("null"));
        Fixtures.set(m, "/content/volumes/1/x_persistent", json("{\"k\": \"v\"}"));
        return Fixtures.rehash(m);
    }

    @Test
    void programKeepsUnknownFieldsAtEveryLevel() {
        ObjectNode extended = extendedProgram();

        AlephMessage message = AlephMessages.parse(Fixtures.write(extended));
        ProgramContent program = message.contentAs(ProgramContent.class);

        assertThat(message.unknownFields()).containsOnlyKeys("x_envelope");
        assertThat(program.unknownFields()).containsOnlyKeys("x_content");
        assertThat(program.resources().unknownFields().get("published_ports").get(0).get("port").asInt()).isEqualTo(80);
        assertThat(program.code().unknownFields()).containsOnlyKeys("x_code");
        assertThat(program.runtime().unknownFields()).containsOnlyKeys("x_runtime");
        assertThat(program.data().unknownFields()).containsOnlyKeys("x_data");
        assertThat(program.export().unknownFields()).containsOnlyKeys("x_export");
        assertThat(program.on().unknownFields()).containsOnlyKeys("x_on");
        assertThat(program.environment().unknownFields()).containsOnlyKeys("x_environment");
        assertThat(program.volumes().get(0).unknownFields().get("x_volume").isNull()).isTrue();
        assertThat(program.volumes().get(1).unknownFields()).containsOnlyKeys("x_persistent");
    }

    @Test
    void programWithUnknownFieldsRoundTripsAndStillPassesEveryCheck() {
        ObjectNode extended = extendedProgram();

        AlephMessage message = AlephMessages.parse(Fixtures.write(extended));

        assertThat(Fixtures.parseTree(AlephMessages.toJson(message))).isEqualTo(extended);
        assertThat(AlephMessages.check(message)).isEmpty();
    }

    @Test
    void unknownNumbersKeepTheirDigits() {
        AlephMessage message = AlephMessages.parse(Fixtures.write(extendedProgram()));

        assertThat(AlephMessages.toJson(message)).contains("\"x_content\":[1,2.50,\"s\",null,true]")
                .contains("\"deeper\":0.1").contains("\"x_environment\":1.5");
    }

    @Test
    void instanceKeepsUnknownFieldsInRootfsAndTrustedExecution() {
        ObjectNode m = Fixtures.tree("confidential_instance.json");
        Fixtures.set(m, "/content/rootfs/x_rootfs", json("{\"a\": 1}"));
        Fixtures.set(m, "/content/rootfs/parent/x_parent", json("\"p\""));
        Fixtures.set(m, "/content/environment/trusted_execution/mode", json("\"sev\""));
        Fixtures.set(m, "/content/cloud_config", json("{\"password\": \"x\"}"));
        Fixtures.rehash(m);

        AlephMessage message = AlephMessages.parse(Fixtures.write(m));
        InstanceContent instance = message.contentAs(InstanceContent.class);

        assertThat(instance.rootfs().unknownFields()).containsOnlyKeys("x_rootfs");
        assertThat(instance.rootfs().parent().unknownFields()).containsOnlyKeys("x_parent");
        assertThat(instance.environment().trustedExecution().unknownFields()).containsOnlyKeys("mode");
        assertThat(instance.unknownFields()).containsOnlyKeys("cloud_config");
        assertThat(Fixtures.parseTree(AlephMessages.toJson(message))).isEqualTo(m);
        assertThat(AlephMessages.check(message)).isEmpty();
    }

    @Test
    void unknownFieldsSurviveCreatingAnInlineMessage() {
        ProgramContent program = AlephMessages.parse(Fixtures.write(extendedProgram())).contentAs(ProgramContent.class);

        AlephMessage created = AlephMessage.inline("ETH", program.address(), "TEST", program, java.time.Instant.EPOCH);

        assertThat(Fixtures.parseTree(created.itemContent()).get("resources").get("published_ports").get(0).get("port").asInt())
                .isEqualTo(80);
        assertThat(AlephMessages.check(created)).isEmpty();
    }

    @Test
    void messageOfATypeKilnDoesNotModelIsKeptWhole() {
        ObjectNode post = Fixtures.tree("program.json");
        post.put("type", "POST");
        post.set("content", json("{\"type\": \"chat\", \"address\": \"0xabc\", \"content\": {\"body\": \"hi\"}, \"time\": 1.25}"));
        Fixtures.rehash(post);

        AlephMessage message = AlephMessages.parse(Fixtures.write(post));

        assertThat(message.content()).isInstanceOf(OtherContent.class);
        assertThat(Fixtures.parseTree(AlephMessages.toJson(message))).isEqualTo(post);
        assertThat(IntegrityCheck.verify(message)).isEmpty();
        assertThat(MessageValidator.validate(message)).extracting(ValidationError::toString)
                .containsExactly("type: 'POST' messages are not handled by Kiln: it runs PROGRAM and INSTANCE messages and reads STORE messages");
    }
}
