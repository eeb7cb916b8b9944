package dev.kiln.core.message;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.hash.ItemHash;
import java.util.Map;
import java.util.Optional;

/**
 * INSTANCE {@code environment.trusted_execution}: a confidential VM. {@code firmware} is the item
 * hash of the confidential OVMF build; {@code policy} the AMD SEV guest policy bits (aleph's
 * default 1 = no debugging). Newer modes (sev_snp, measurements…) stay in unknownFields.
 */
public record TrustedExecution(
        String firmware,
        Long policy,
        @JsonAnySetter @JsonAnyGetter Map<String, JsonNode> unknownFields) {

    public static final long DEFAULT_POLICY = 1;

    public TrustedExecution {
        unknownFields = Json.copyUnknown(unknownFields);
    }

    public Optional<ItemHash> firmwareHash() {
        return firmware == null ? Optional.empty() : Optional.of(ItemHash.parse(firmware));
    }

    public long policyOrDefault() {
        return policy == null ? DEFAULT_POLICY : policy;
    }
}
