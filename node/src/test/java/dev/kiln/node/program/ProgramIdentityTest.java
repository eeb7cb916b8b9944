package dev.kiln.node.program;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.hash.ItemHash;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a program is told about itself (the VM side is ProgramFixtureTest's). */
class ProgramIdentityTest {
    static final ItemHash FIXTURE = ItemHash.parse("0f202000a3c07b1ba5aa02d4f2a93910977742be3e58345b78fe83bb925ba2b2");

    @Test
    void theHostnameIsAlephsBase32LabelAndTheEnvironmentNamesItAndTheHash() {
        assertThat(ProgramIdentity.hostname(FIXTURE)).contains("b4qcaafdyb5rxjnkalkpfkjzcclxoqv6hzmdiw3y72b3xes3ukza");
        Map<String, String> env = ProgramIdentity.environment(FIXTURE, Map.of("VM_CUSTOM_NUMBER", "32"));
        assertThat(env).containsEntry("ALEPH_ADDRESS_TO_USE", "b4qcaafdyb5rxjnkalkpfkjzcclxoqv6hzmdiw3y72b3xes3ukza")
                .containsEntry("ALEPH_ITEM_HASH", FIXTURE.value()).containsEntry("VM_CUSTOM_NUMBER", "32").hasSize(3);
    }

    @Test
    void theMessagesVariablesWinOverTheIdentityOnes() {
        assertThat(ProgramIdentity.environment(FIXTURE, Map.of("ALEPH_ADDRESS_TO_USE", "mine")))
                .containsEntry("ALEPH_ADDRESS_TO_USE", "mine");
    }
}
