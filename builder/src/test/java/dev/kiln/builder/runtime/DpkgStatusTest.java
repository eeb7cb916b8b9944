package dev.kiln.builder.runtime;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class DpkgStatusTest {

    private static final String STATUS = """
            Package: perl-base
            Essential: yes
            Status: install ok installed
            Installed-Size: 7639
            Architecture: amd64
            Source: perl (5.36.0-7+deb12u1)
            Version: 5.36.0-7+deb12u1
            Provides: perlapi-5.36.0
            Description: minimal Perl system
             Perl is a scripting language.

            Package: debconf
            Status: install ok installed
            Installed-Size: 491
            Architecture: all
            Version: 1.5.82
            Depends: perl-base (>= 5.20.1-3~)

            Package: tool
            Status: install ok installed
            Architecture: amd64
            Version: 1.0
            Pre-Depends: libc6 (>= 2.34)
            Depends: mawk | awk, perlapi-5.36.0

            Package: mawk
            Status: install ok installed
            Architecture: amd64
            Version: 1.3.4
            Provides: awk

            Package: libc6
            Status: install ok installed
            Architecture: amd64
            Version: 2.36-9

            Package: gone
            Status: deinstall ok config-files
            Version: 0.1
            """;

    @Test
    void readsInstalledPackagesWithVersionsAndSources() {
        DpkgStatus status = DpkgStatus.parse(STATUS);

        assertThat(status.packages()).containsOnlyKeys("perl-base", "debconf", "tool", "mawk", "libc6");
        DpkgStatus.Installed perl = status.packages().get("perl-base");
        assertThat(perl.version()).isEqualTo("5.36.0-7+deb12u1");
        assertThat(perl.source()).isEqualTo("perl");
        assertThat(perl.installedKib()).isEqualTo(7639);
        assertThat(perl.essential()).isTrue();
        assertThat(status.packages().get("debconf").source()).isEqualTo("debconf");
    }

    @Test
    void removingAPackageThatAKeptOneNeedsIsReported() {
        DpkgStatus status = DpkgStatus.parse(STATUS);

        assertThat(status.dependentsOf(Set.of("perl-base")))
                .containsEntry("debconf", "perl-base")
                .containsEntry("tool", "perlapi-5.36.0");
        assertThat(status.dependentsOf(Set.of("perl-base", "debconf", "tool"))).isEmpty();
    }

    @Test
    void anAlternativeOrAVirtualProviderThatStaysSatisfiesTheDependency() {
        DpkgStatus status = DpkgStatus.parse(STATUS);

        assertThat(status.dependentsOf(Set.of("libc6"))).containsOnlyKeys("tool");
        assertThat(status.dependentsOf(Set.of("mawk"))).containsEntry("tool", "mawk | awk");
    }

    @Test
    void removedPackagesLeaveTheStatusFileAndTheRestStaysByteForByte() {
        String without = RemovePackagesStep.withoutStanzas(STATUS, Set.of("perl-base", "tool"));

        assertThat(DpkgStatus.parse(without).packages()).containsOnlyKeys("debconf", "mawk", "libc6");
        assertThat(without).contains("Package: debconf\nStatus: install ok installed\nInstalled-Size: 491\n");
    }
}
