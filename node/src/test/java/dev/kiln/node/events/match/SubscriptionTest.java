package dev.kiln.node.events.match;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * aleph-vm's "equal or includes" rule, field by field, over a message shaped like the feed's (the
 * envelope with its content as an object), and the filters refused because aleph cannot compare them.
 */
class SubscriptionTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonNode MESSAGE = tree("""
            {"chain": "ETH", "sender": "0xb5F010860b0964090d5414406273E6b3A8726E96", "type": "POST",
             "channel": "TEST", "item_type": "inline", "item_hash": "%s", "time": 1700000000.5,
             "content": {"type": "chat", "address": "0xb5F010860b0964090d5414406273E6b3A8726E96",
                         "ref": "4d4db19afca380fdf06ba7f916153d0f740db9de9eee23ad26ba96a90d8a2920",
                         "time": 1700000000.5, "content": {"room": "lobby", "body": "hi", "n": 3}}}
            """.formatted("a".repeat(64)));

    static JsonNode tree(String s) {
        try {
            return JSON.readTree(s);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e);
        }
    }

    static boolean matches(String filter) {
        return new Subscription(tree(filter)).matches(MESSAGE);
    }

    @Test
    void aStringMatchesTheSameStringOnly() {
        assertThat(matches("{\"channel\": \"TEST\"}")).isTrue();
        assertThat(matches("{\"channel\": \"test\"}")).as("case counts").isFalse();
        assertThat(matches("{\"channel\": \"TES\"}")).as("no prefix match").isFalse();
        assertThat(matches("{\"type\": \"POST\"}")).isTrue();
        assertThat(matches("{\"chain\": \"ETH\"}")).isTrue();
    }

    @Test
    void everyFieldMustMatch() {
        assertThat(matches("{\"channel\": \"TEST\", \"sender\": \"0xb5F010860b0964090d5414406273E6b3A8726E96\"}")).isTrue();
        assertThat(matches("{\"channel\": \"TEST\", \"sender\": \"0x0000000000000000000000000000000000000000\"}")).isFalse();
    }

    @Test
    void aFieldTheMessageLacksDoesNotMatch() {
        assertThat(matches("{\"tags\": \"x\"}")).isFalse();
        assertThat(matches("{\"content\": {\"missing\": \"x\"}}")).isFalse();
    }

    @Test
    void anObjectIsIncludedWhenEachOfItsFieldsMatches() {
        assertThat(matches("{\"content\": {\"ref\": \"4d4db19afca380fdf06ba7f916153d0f740db9de9eee23ad26ba96a90d8a2920\"}}"))
                .isTrue();
        assertThat(matches("{\"content\": {\"type\": \"chat\", \"content\": {\"room\": \"lobby\"}}}")).isTrue();
        assertThat(matches("{\"content\": {\"content\": {\"room\": \"kitchen\"}}}")).isFalse();
    }

    @Test
    void typesMustAgree() {
        assertThat(matches("{\"content\": \"chat\"}")).as("a string is not an object").isFalse();
        assertThat(matches("{\"channel\": {\"x\": \"TEST\"}}")).as("an object is not a string").isFalse();
        assertThat(matches("{\"content\": {\"content\": {\"n\": \"3\"}}}")).as("\"3\" is not 3").isFalse();
    }

    @Test
    void anEmptySubscriptionMatchesNothing() {
        assertThat(matches("{}")).isFalse();
        assertThat(Subscription.problems(tree("{}"), "content.on.message[0]")).singleElement().asString()
                .startsWith("content.on.message[0]: an empty subscription");
    }

    @Test
    void valuesAlephCannotCompareAreRefusedWithTheirPath() {
        assertThat(Subscription.problems(tree("{\"channel\": [\"A\", \"B\"]}"), "content.on.message[2]"))
                .singleElement().asString().startsWith("content.on.message[2].channel: ").contains("one subscription per value");
        assertThat(Subscription.problems(tree("{\"content\": {\"content\": {\"n\": 3}}}"), "m"))
                .singleElement().asString().startsWith("m.content.content.n: ").contains("number");
        assertThat(Subscription.problems(tree("{\"confirmed\": true}"), "m")).singleElement().asString().contains("boolean");
        assertThat(Subscription.problems(tree("{\"content\": {}}"), "m")).singleElement().asString().startsWith("m.content: ");
        assertThat(Subscription.problems(tree("\"TEST\""), "m")).singleElement().asString().contains("object");
        assertThat(Subscription.problems(tree("{\"channel\": \"TEST\", \"content\": {\"ref\": \"x\"}}"), "m")).isEmpty();
    }
}
