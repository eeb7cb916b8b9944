package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.testing.TestBuilds;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The same spec built twice from scratch gives byte-identical images and manifests: once on the
 * suite's cached base, once on a base debootstrapped just for this test (only the downloaded
 * .debs are shared), so everything debootstrap, apt and the maintainer scripts write is part of
 * what must come out the same. The spec installs a Python package so that bytecode and dpkg
 * triggers are too.
 */
class ReproducibleBuildTest {

    private static final String SPEC = """
            spec: 1
            name: repro-check
            base: {suite: bookworm}
            packages:
              apt: [python3-minimal, python3-six]
            files:
              - {path: /etc/kiln-repro, content: "same bytes every time\\n"}
            slim:
              remove_packages: [apt, libapt-pkg6.0, adduser, gpgv, debian-archive-keyring, perl-base]
            """;

    @Test
    void twoBuildsOfOneSpecGiveTheSameImageAndManifest(@TempDir Path first, @TempDir Path second, @TempDir Path freshBases)
            throws Exception {
        RuntimeSpec spec = RuntimeSpecs.parse(SPEC, "repro spec", null);

        BuiltRuntime a = new RuntimeBuilder(TestBuilds.kilnHome(), first, TestBuilds.printing("repro 1")).build(spec);
        BuiltRuntime b = new RuntimeBuilder(TestBuilds.kilnHome(), second, freshBases, TestBuilds.printing("repro 2")).build(spec);

        assertThat(a.fromCache()).isFalse();
        assertThat(b.fromCache()).isFalse();
        assertThat(b.steps()).filteredOn(t -> t.step().equals("BootstrapBase")).singleElement()
                .satisfies(t -> assertThat(t.took()).as("the second build bootstrapped its own base").isGreaterThan(java.time.Duration.ofSeconds(5)));
        assertThat(b.imageHash()).as("image hash of the second build").isEqualTo(a.imageHash());
        assertThat(Files.mismatch(a.image(), b.image())).isEqualTo(-1);
        assertThat(Files.readString(b.manifest())).isEqualTo(Files.readString(a.manifest()));
        assertThat(a.readManifest().packages("deb")).extracting(RuntimeManifest.SbomEntry::name).contains("python3-six");
    }

    @Test
    void ext4ImagesAreReproducibleToo(@TempDir Path first, @TempDir Path second) throws Exception {
        RuntimeSpec spec = RuntimeSpecs.parse("""
                spec: 1
                name: repro-ext4
                base: {suite: bookworm}
                packages: {apt: [python3-minimal]}
                slim: {remove_packages: [apt, libapt-pkg6.0, perl-base]}
                output: {format: ext4}
                """, "ext4 spec", null);

        BuiltRuntime a = new RuntimeBuilder(TestBuilds.kilnHome(), first, BuildListener.SILENT).build(spec);
        BuiltRuntime b = new RuntimeBuilder(TestBuilds.kilnHome(), second, BuildListener.SILENT).build(spec);

        assertThat(a.filesystem()).isEqualTo("ext4");
        assertThat(LocalRuntimes.filesystemOf(a.image())).isEqualTo("ext4");
        assertThat(b.imageHash()).isEqualTo(a.imageHash());
    }
}
