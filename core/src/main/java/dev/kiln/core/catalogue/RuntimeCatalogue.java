package dev.kiln.core.catalogue;

import dev.kiln.core.hash.ItemHash;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Every runtime Kiln knows by name: the official list shipped as data
 * ({@code official-runtimes.json}) plus the runtimes built or published on this machine.
 * Immutable; {@link #withLocal} returns a new catalogue.
 */
public final class RuntimeCatalogue {
    static final String OFFICIAL_RESOURCE = "official-runtimes.json";
    /** Shortest hash prefix accepted by {@link #find}, so a typo rarely matches by accident. */
    static final int MIN_PREFIX = 8;

    private final List<RuntimeEntry> entries;

    private RuntimeCatalogue(List<RuntimeEntry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static RuntimeCatalogue of(Collection<RuntimeEntry> entries) {
        return new RuntimeCatalogue(new ArrayList<>(entries));
    }

    /** The official catalogue bundled with Kiln. */
    public static RuntimeCatalogue official() {
        try (InputStream in = RuntimeCatalogue.class.getResourceAsStream(OFFICIAL_RESOURCE)) {
            if (in == null) throw new CatalogueFormatException("bundled " + OFFICIAL_RESOURCE + " is missing from the jar");
            return new RuntimeCatalogue(CatalogueReader.read(in, OFFICIAL_RESOURCE, RuntimeOrigin.OFFICIAL));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** This catalogue plus local runtimes; official entries come first in listings. */
    public RuntimeCatalogue withLocal(Collection<RuntimeEntry> local) {
        List<RuntimeEntry> all = new ArrayList<>(entries);
        for (RuntimeEntry e : local) {
            if (all.stream().noneMatch(x -> x.itemHash().equals(e.itemHash()))) all.add(e);
        }
        return new RuntimeCatalogue(all);
    }

    public List<RuntimeEntry> all() {
        return entries;
    }

    public List<RuntimeEntry> ofKind(RuntimeKind kind) {
        return entries.stream().filter(e -> e.kind() == kind).toList();
    }

    public Optional<RuntimeEntry> byHash(ItemHash hash) {
        return entries.stream().filter(e -> e.itemHash().equals(hash)).findFirst();
    }

    /**
     * The default of a kind: a local runtime marked default wins over the official one, because
     * a runtime built here is one this machine can actually run without downloading.
     */
    public Optional<RuntimeEntry> defaultOf(RuntimeKind kind) {
        return entries.stream()
                .filter(e -> e.kind() == kind && e.isDefault())
                .min(Comparator.comparing(e -> e.origin() == RuntimeOrigin.LOCAL ? 0 : 1));
    }

    /**
     * Finds a runtime by full item hash, unique hash prefix (≥ 8 hex digits), or name. A hash
     * that is not in the catalogue is returned as a third-party function runtime, since any
     * published runtime may be used by hash.
     */
    public RuntimeEntry find(String hashOrName) {
        String q = hashOrName == null ? "" : hashOrName.strip();
        if (q.isEmpty()) throw new RuntimeNotFoundException("no runtime given; name one from 'kiln runtime list' or give an item hash");
        if (ItemHash.isValid(q)) {
            ItemHash h = ItemHash.parse(q);
            return byHash(h).orElseGet(() -> RuntimeEntry.thirdParty(h, RuntimeKind.FUNCTION));
        }
        List<RuntimeEntry> byName = entries.stream().filter(e -> e.name().equals(q)).toList();
        if (byName.size() == 1) return byName.getFirst();
        if (byName.size() > 1) throw ambiguous(q, byName);
        String lower = q.toLowerCase(Locale.ROOT);
        if (lower.length() >= MIN_PREFIX && lower.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            List<RuntimeEntry> byPrefix = entries.stream().filter(e -> e.itemHash().value().startsWith(lower)).toList();
            if (byPrefix.size() == 1) return byPrefix.getFirst();
            if (byPrefix.size() > 1) throw ambiguous(q, byPrefix);
        }
        throw new RuntimeNotFoundException("no runtime named '" + q + "'; 'kiln runtime list' shows the names, "
                + "or give a full item hash (64 hex digits)");
    }

    private static RuntimeNotFoundException ambiguous(String q, List<RuntimeEntry> matches) {
        StringBuilder sb = new StringBuilder("'" + q + "' matches " + matches.size() + " runtimes; use the item hash:");
        for (RuntimeEntry e : matches) sb.append("\n  ").append(e.itemHash()).append("  ").append(e.name()).append(" (").append(e.origin().id()).append(')');
        return new RuntimeNotFoundException(sb.toString());
    }
}
