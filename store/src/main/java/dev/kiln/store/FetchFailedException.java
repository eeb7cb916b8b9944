package dev.kiln.store;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.store.failure.StoreException;
import java.util.List;
import java.util.stream.Collectors;

/** No remote could supply the item; each remote's own failure is attached as a suppressed exception. */
public final class FetchFailedException extends StoreException {
    private final ItemHash hash;

    public FetchFailedException(ItemHash hash, List<? extends Exception> failures) {
        super("item " + hash + " could not be fetched from any of " + failures.size() + " remotes: "
                + failures.stream().map(Throwable::getMessage).collect(Collectors.joining(" | ")));
        this.hash = hash;
        failures.forEach(this::addSuppressed);
    }

    public ItemHash hash() {
        return hash;
    }
}
