package dev.kiln.core.catalogue;

import dev.kiln.core.hash.ItemHash;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One runtime the catalogue knows. {@code verificationHash} is only meaningful for confidential
 * firmware: the measurement a guest owner checks during the confidential launch.
 */
public record RuntimeEntry(
        String name,
        String title,
        ItemHash itemHash,
        RuntimeKind kind,
        String filesystem,
        RuntimeStatus status,
        String os,
        List<String> languages,
        Optional<ItemHash> verificationHash,
        RuntimeOrigin origin) {

    public RuntimeEntry {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(itemHash, "itemHash");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(origin, "origin");
        title = title == null ? name : title;
        filesystem = filesystem == null ? "" : filesystem;
        os = os == null ? "" : os;
        languages = languages == null ? List.of() : List.copyOf(languages);
        verificationHash = verificationHash == null ? Optional.empty() : verificationHash;
    }

    public boolean isDefault() {
        return status == RuntimeStatus.DEFAULT;
    }

    public boolean isDeprecated() {
        return status == RuntimeStatus.DEPRECATED;
    }

    /** A third-party runtime: nothing is known but its hash until it is fetched. */
    public static RuntimeEntry thirdParty(ItemHash hash, RuntimeKind kind) {
        return new RuntimeEntry(hash.shortForm(), "third-party runtime " + hash, hash, kind, "", RuntimeStatus.SUPPORTED,
                "", List.of(), Optional.empty(), RuntimeOrigin.THIRD_PARTY);
    }
}
