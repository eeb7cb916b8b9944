package dev.kiln.builder.runtime;

import dev.kiln.core.hash.ItemHash;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Fails a build in seconds, with the reason, when its archive cannot be used from this host:
 * otherwise debootstrap would retry and time out for minutes and end in a message about a
 * missing Release file. A cached base of the suite is still used offline.
 */
final class ArchiveCheck {

    /** debootstrap verifies Ubuntu's Release files against this keyring (package ubuntu-keyring). */
    static final Path UBUNTU_KEYRING = Path.of("/usr/share/keyrings/ubuntu-archive-keyring.gpg");

    private ArchiveCheck() {
    }

    static void require(RuntimeSpec spec, Optional<ItemHash> release, BaseCache bases)
            throws RuntimeBuildException, IOException {
        RuntimeSpec.Base base = spec.base();
        if (bases.find(BaseCache.family(base, spec.architecture()), release).isPresent()) return;
        String os = SpecReader.SUITES.getOrDefault(base.suite(), base.suite());
        if (release.isEmpty()) {
            throw new RuntimeBuildException("BootstrapBase", "the archive " + base.mirror() + " did not answer for "
                    + os + " (" + base.mirror() + "/dists/" + base.suite() + "/InRelease is not reachable from this"
                    + " machine) and no base of it is cached: build on a host that reaches it, or set base.mirror"
                    + " to a reachable mirror of the same archive");
        }
        if (base.suite().equals("jammy") && !Files.isRegularFile(UBUNTU_KEYRING)) {
            throw new RuntimeBuildException("BootstrapBase", os + " packages cannot be verified here: "
                    + UBUNTU_KEYRING + " is missing (install the ubuntu-keyring package)");
        }
    }
}
