package dev.kiln.builder.kernel;

import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How the guest kernel is made: {@code make tinyconfig}, then the kernel's own
 * {@code kvm_guest.config}, then Kiln's fragment, then {@code make vmlinux}. The fragment and
 * {@link #VERSION} together are the recipe's identity in the cache key: bump the version whenever
 * a change to the build steps would change the vmlinux for the same fragment.
 */
record KernelRecipe(String fragmentText) {

    /** Bumped when the steps change in a way that changes the output (not for refactorings). */
    static final int VERSION = 1;

    static final String FRAGMENT_RESOURCE = "kiln-guest.config";
    static final String FRAGMENT_FILE_NAME = "kiln-guest.config";

    /** The kernel's own fragment for KVM/QEMU guests, relative to the source tree. */
    static final String KVM_GUEST_FRAGMENT = "kernel/configs/kvm_guest.config";

    /**
     * Fixed build identity so the same source and config give the same vmlinux bytes; the
     * defaults would embed the build's date, user and host name in the kernel's version string.
     */
    static final Map<String, String> REPRODUCIBLE_ENV = Map.of(
            "KBUILD_BUILD_TIMESTAMP", "1970-01-01 00:00:00 UTC",
            "KBUILD_BUILD_USER", "kiln",
            "KBUILD_BUILD_HOST", "kiln",
            "KBUILD_BUILD_VERSION", "1");

    KernelRecipe {
        KernelConfig.parse(fragmentText); // fail fast on a malformed fragment
    }

    /** The recipe with the fragment checked in beside this class. */
    static KernelRecipe standard() {
        try (InputStream in = KernelRecipe.class.getResourceAsStream(FRAGMENT_RESOURCE)) {
            if (in == null) throw new IllegalStateException("missing resource " + FRAGMENT_RESOURCE);
            return new KernelRecipe(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    KernelConfig required() {
        return KernelConfig.parse(fragmentText);
    }

    /** Every option of the fragment whose final value differs from what the fragment asks. */
    List<DroppedOption> droppedIn(KernelConfig finalConfig) {
        List<DroppedOption> dropped = new ArrayList<>();
        required().values().forEach((option, wanted) -> {
            String actual = finalConfig.valueOf(option);
            if (!actual.equals(wanted)) dropped.add(new DroppedOption(option, wanted, actual));
        });
        return dropped;
    }

    /** SHA-256 of the recipe version and the fragment: the config half of the cache key. */
    String configHash() {
        String identity = "kiln-kernel-recipe/" + VERSION + "\n" + fragmentText;
        return ItemHash.sha256Of(identity.getBytes(StandardCharsets.UTF_8)).value();
    }
}
