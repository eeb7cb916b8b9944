package dev.kiln.node.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.node.records.ProgramRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;

/** INSTANCE messages for tests: the real fixtures' content, edited, hashed and recorded on a node. */
public final class InstanceMessages {
    private static final ObjectMapper JSON = new ObjectMapper();

    private InstanceMessages() {}

    /** The {@code content} of fixtures/aleph-messages/{@code name}. */
    public static ObjectNode fixture(String name) throws Exception {
        Path p = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(p.resolve("fixtures/aleph-messages"))) p = p.getParent();
        return (ObjectNode) JSON.readTree(p.resolve("fixtures/aleph-messages/" + name).toFile()).get("content");
    }

    /**
     * Records an inline INSTANCE message with {@code content} in the node's records (where
     * {@code kiln instance create} or a remote would put it); its item hash, the SHA-256 of the
     * item_content as aleph computes it.
     */
    public static ItemHash record(NodeRecords records, ObjectNode content) throws Exception {
        String itemContent = JSON.writeValueAsString(content);
        ItemHash hash = ItemHash.sha256Of(itemContent.getBytes(StandardCharsets.UTF_8));
        ObjectNode m = JSON.createObjectNode();
        m.put("chain", "ETH").put("sender", content.path("address").asText()).put("type", "INSTANCE")
                .put("channel", "test").put("item_type", "inline").put("item_content", itemContent)
                .put("item_hash", hash.value()).put("time", content.path("time").decimalValue());
        records.programs().add(new ProgramRecord(hash, content.path("address").asText(), null, Instant.now(), m.toString()));
        return hash;
    }
}
