package dev.kiln.core.message;

import static dev.kiln.core.message.Fixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** Text that is not a message: the error says where (line and column, or field path) and what was expected. */
class MessageFormatTest {

    private static MessageFormatException parseError(String text) {
        return catchThrowableOfType(MessageFormatException.class, () -> AlephMessages.parse(text));
    }

    private static MessageFormatException parseError(String pointer, String value) {
        ObjectNode tree = Fixtures.tree("program.json");
        Fixtures.set(tree, pointer, json(value));
        return parseError(Fixtures.write(tree));
    }

    @Test
    void malformedJsonSaysLineAndColumn() {
        MessageFormatException e = parseError("{\n  \"chain\": \"ETH\",\n  \"type\": }\n");

        assertThat(e.line()).isEqualTo(3);
        assertThat(e.column()).isEqualTo(11);
        assertThat(e.path()).isNull();
        assertThat(e).hasMessageStartingWith("malformed JSON at line 3, column 11: Unexpected character ('}'");
    }

    @Test
    void truncatedJsonSaysWhereItEnds() {
        MessageFormatException e = parseError("{\"chain\": \"ETH\",\n\"content\": {\"a\": [1, 2");

        assertThat(e).hasMessageStartingWith("malformed JSON at line 2").hasMessageContaining("end-of-input");
    }

    @Test
    void duplicateKeysAreRefused() {
        MessageFormatException e = parseError("{\"type\": \"PROGRAM\",\n \"type\": \"STORE\"}");

        assertThat(e).hasMessageStartingWith("malformed JSON at line 2").hasMessageContaining("Duplicate field 'type'");
    }

    @Test
    void duplicateKeysInsideContentAreRefusedToo() {
        String text = Fixtures.text("program.json").replace("\"memory\": 256,", "\"memory\": 256, \"memory\": 4096,");

        assertThat(parseError(text)).hasMessageContaining("Duplicate field 'memory'");
    }

    @Test
    void textAfterTheMessageIsRefused() {
        assertThat(parseError("{\"type\": \"PROGRAM\"} {}")).hasMessageStartingWith("malformed JSON at line 1");
    }

    @Test
    void parserLimitsAreSaidInWordsNotInJacksonsMethodNames() {
        String deep = "{\"a\": " + "[".repeat(1500) + "]".repeat(1500) + "}";
        MessageFormatException nested = parseError(deep);
        assertThat(nested).hasMessageStartingWith("too large")
                .hasMessageContaining("values nested 1001 levels deep; at most 1000 levels are allowed")
                .hasMessageNotContaining("StreamReadConstraints");

        MessageFormatException number = parseError("{\"a\": " + "9".repeat(1200) + "}");
        assertThat(number).hasMessageContaining("a number of").hasMessageContaining("at most 1000 are allowed")
                .hasMessageNotContaining("StreamReadConstraints");
    }

    @Test
    void emptyInputAndNonObjectsAreRefused() {
        assertThat(parseError("  ")).hasMessage("empty input: expected a JSON object");
        assertThat(parseError("[1, 2]")).hasMessage("expected a JSON object, got an array");
    }

    @Test
    void wrongTypeNamesTheFieldPath() {
        MessageFormatException e = parseError("/content/resources/memory", "\"abc\"");

        assertThat(e.path()).isEqualTo("content.resources.memory");
        assertThat(e).hasMessage("content.resources.memory: expected an integer, got a string (\"abc\")");
    }

    @Test
    void fractionsAreNotSilentlyTruncated() {
        assertThat(parseError("/content/resources/vcpus", "1.5"))
                .hasMessage("content.resources.vcpus: expected an integer, got a number (1.5)");
    }

    @Test
    void numbersAreNotSilentlyTurnedIntoStrings() {
        assertThat(parseError("/content/variables/VM_CUSTOM_NUMBER", "32"))
                .hasMessage("content.variables.VM_CUSTOM_NUMBER: expected a string, got a number (32)");
    }

    @Test
    void stringsAreNotSilentlyTurnedIntoBooleans() {
        assertThat(parseError("/content/on/http", "\"true\""))
                .hasMessage("content.on.http: expected true or false, got a string (\"true\")");
    }

    @Test
    void hugeIntegersSayOutOfRange() {
        assertThat(parseError("/content/resources/memory", "99999999999999999999999"))
                .hasMessage("content.resources.memory: integer out of range: 99999999999999999999999");
    }

    @Test
    void volumeThatIsNotAnObjectNamesItsIndex() {
        MessageFormatException e = parseError("/content/volumes/1", "\"data\"");

        assertThat(e.path()).isEqualTo("content.volumes[1]");
        assertThat(e).hasMessage("content.volumes[1]: expected an object, got a string (\"data\")");
    }

    @Test
    void wrongTypeInsideAVolumeNamesTheVolumeField() {
        assertThat(parseError("/content/volumes/1/size_mib", "\"5\""))
                .hasMessage("content.volumes[1].size_mib: expected an integer, got a string (\"5\")");
    }

    @Test
    void envelopeFieldsOfTheWrongType() {
        assertThat(parseError("/time", "\"yesterday\"")).hasMessage("time: expected a number, got a string (\"yesterday\")");
        assertThat(parseError("/content", "\"{}\"")).hasMessage("content: expected an object, got a string (\"{}\")");
        assertThat(parseError("/item_content", "{}")).hasMessage("item_content: expected a string, got an object");
        assertThat(parseError("/confirmed", "1")).hasMessage("confirmed: expected true or false, got a number (1)");
    }

    @Test
    void malformedItemContentIsReportedWhenItIsTheOnlyContent() {
        ObjectNode tree = Fixtures.tree("program.json");
        tree.remove("content");
        tree.put("item_content", "{\"type\": \"vm-function\",");

        MessageFormatException e = parseError(Fixtures.write(tree));

        assertThat(e.path()).isEqualTo("item_content");
        assertThat(e).hasMessageStartingWith("item_content: malformed JSON at line 1, column 24");
    }

    @Test
    void parseContentAlonePointsIntoContent() {
        MessageFormatException e = catchThrowableOfType(MessageFormatException.class,
                () -> AlephMessages.parseContent(MessageType.PROGRAM, "{\"resources\": {\"vcpus\": \"two\"}}"));

        assertThat(e).hasMessage("content.resources.vcpus: expected an integer, got a string (\"two\")");
    }
}
