package dev.kiln.builder.runtime;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestInit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.MessageDigest;

/**
 * What identifies a built image in the cache: the spec (canonical form, plus the bytes of any
 * source files it names), the init installed into it, and the builder's recipe version. Any change
 * to one of them is a new entry; the same inputs find the same entry.
 *
 * @param name     the spec's name, for readable directory names
 * @param specHash the spec's own hash
 * @param value    SHA-256 of all inputs
 */
record RuntimeKey(String name, ItemHash specHash, String value) {

    /**
     * Bumped whenever a step changes what it puts into an image, so old cache entries are not
     * mistaken for what this version would build.
     */
    static final int RECIPE_VERSION = 5;
    /**
     * The same for what only qemu-disk-image builds do (ConfigureBoot, BootDisk): bumping it
     * rebuilds disk images and leaves every other cached image alone.
     */
    static final int DISK_RECIPE_VERSION = 3;

    static RuntimeKey of(RuntimeSpec spec) throws IOException {
        MessageDigest digest = ItemHash.newDigest();
        update(digest, "recipe " + RECIPE_VERSION);
        if (spec.disk()) update(digest, "disk recipe " + DISK_RECIPE_VERSION);
        update(digest, spec.canonicalJson());
        for (RuntimeSpec.ExtraFile f : spec.files()) {
            if (f.source() == null) continue;
            update(digest, "source " + f.source());
            digest.update(Files.readAllBytes(spec.directory().resolve(f.source())));
        }
        update(digest, "init0");
        digest.update(GuestInit.init0());
        update(digest, "init1");
        digest.update(GuestInit.init1());
        return new RuntimeKey(spec.name(), spec.hash(), ItemHash.ofSha256(digest.digest()).value());
    }

    private static void update(MessageDigest digest, String text) {
        digest.update(text.getBytes(StandardCharsets.UTF_8));
        digest.update((byte) 0);
    }

    /** {@code debian-12-python-3f2a9c0d1e4b}. */
    String directoryName() {
        return name + "-" + value.substring(0, 12);
    }
}
