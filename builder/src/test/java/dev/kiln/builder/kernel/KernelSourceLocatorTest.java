package dev.kiln.builder.kernel;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class KernelSourceLocatorTest {

    @Test
    void picksTheTarballAmongThePackagesFiles() {
        List<String> files = List.of("/.", "/usr", "/usr/share/doc/linux-source-6.1/changelog.Debian.gz",
                "/usr/src", "/usr/src/linux-source-6.1.tar.xz", "/usr/share/lintian/overrides/linux-source-6.1");

        assertThat(KernelSourceLocator.tarballOf(files)).isEqualTo(Path.of("/usr/src/linux-source-6.1.tar.xz"));
        assertThat(KernelSourceLocator.tarballOf(List.of("/usr/share/doc/x"))).isNull();
    }

    /** Needs scripts/setup.sh to have installed linux-source-6.1, like every kernel build. */
    @Test
    void findsTheInstalledSourceAndItsPackageVersion() throws Exception {
        KernelSource source = new KernelSourceLocator().locate();

        assertThat(source.tarball()).isRegularFile().hasFileName("linux-source-6.1.tar.xz");
        assertThat(source.version()).matches("6\\.1\\.\\d+-\\S+");
    }
}
