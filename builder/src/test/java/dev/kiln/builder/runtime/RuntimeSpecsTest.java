package dev.kiln.builder.runtime;

import dev.kiln.core.message.ValidationError;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RuntimeSpecsTest {

    private static RuntimeSpecException refused(String yaml) {
        try {
            RuntimeSpecs.parse(yaml, "test.yaml", null);
        } catch (RuntimeSpecException e) {
            return e;
        }
        throw new AssertionError("accepted:\n" + yaml);
    }

    @Test
    void aMinimalSpecGetsDocumentedDefaults() {
        RuntimeSpec spec = RuntimeSpecs.parse("spec: 1\nname: tiny\nbase: {suite: bookworm}\n", "t", null);

        assertThat(spec.architecture()).isEqualTo("x86_64");
        assertThat(spec.base().mirror()).isEqualTo("http://deb.debian.org/debian");
        assertThat(spec.output()).isEqualTo(new RuntimeSpec.Output("squashfs", "zstd", 0));
        assertThat(spec.slim().docs()).isTrue();
        assertThat(spec.slim().bytecode()).isEqualTo("precompile");
        assertThat(spec.sourceDateEpoch()).isEqualTo(1_704_067_200L);
        assertThat(spec.packages().apt()).isEmpty();
    }

    @Test
    void everyOfficialSpecParsesAndTheDefaultComesFirst() {
        assertThat(RuntimeSpecs.officialNames()).first().isEqualTo("debian-12-python");
        for (String name : RuntimeSpecs.officialNames()) {
            RuntimeSpec spec = RuntimeSpecs.official(name);
            assertThat(spec.name()).isEqualTo(name);
            if (spec.instance()) {
                assertThat(spec.packages().apt()).as(name).contains("systemd-sysv", "openssh-server", "cloud-init");
                assertThat(spec.output().format()).isEqualTo(spec.disk() ? RuntimeSpec.Output.DISK : RuntimeSpec.Output.EXT4);
                continue;
            }
            assertThat(spec.packages().apt()).as(name + " needs a python3 for init1")
                    .anyMatch(p -> p.equals("python3") || p.equals("python3-minimal"));
        }
        assertThat(RuntimeSpecs.official("debian-11-python").base().suite()).isEqualTo("bullseye");
    }

    @Test
    void theBundledOfficialSpecsAreTheFilesInTheRepository() throws Exception {
        Path runtimes = Path.of("..", "runtimes");
        for (String name : RuntimeSpecs.officialNames()) {
            RuntimeSpec fromFile = RuntimeSpecs.parse(runtimes.resolve(name + ".yaml"));
            assertThat(fromFile.hash()).as(name).isEqualTo(RuntimeSpecs.official(name).hash());
        }
    }

    @Test
    void instanceKindsAreOfficialAndKeepFunctionHashesUnchanged() {
        assertThat(RuntimeSpecs.officialNames(RuntimeSpec.INSTANCE_ROOTFS))
                .containsExactly("debian-12-instance", "debian-11-instance", "ubuntu-22.04-instance");
        assertThat(RuntimeSpecs.official("debian-12-instance").init()).isEqualTo("systemd");
        // "kind" is written into the canonical form only for instances: function specs hash as before.
        assertThat(RuntimeSpecs.official("minimal").canonicalJson()).doesNotContain("\"kind\"");
        assertThat(RuntimeSpecs.official("debian-12-instance").canonicalJson()).contains("\"kind\":\"instance-rootfs\"");
    }

    @Test
    void aDiskImageIsAlwaysAWholeDiskAndOnlyItsKindMakesOne() {
        RuntimeSpec cloud = RuntimeSpecs.official("debian-12-cloud");
        assertThat(cloud.disk()).isTrue();
        assertThat(cloud.instance()).isTrue();
        assertThat(cloud.init()).isEqualTo("systemd");
        assertThat(cloud.output().extension()).isEqualTo("img");
        assertThat(cloud.canonicalJson()).contains("\"kind\":\"qemu-disk-image\"");
        assertThat(RuntimeSpecs.officialNames(RuntimeSpec.QEMU_DISK_IMAGE)).containsExactly("debian-12-cloud");

        String base = "spec: 1\nname: d\nkind: qemu-disk-image\nbase: {suite: bookworm, mirror: 'http://deb.debian.org/debian'}\n";
        assertThat(RuntimeSpecs.parse(base, "test.yaml", null).output().format()).isEqualTo(RuntimeSpec.Output.DISK);
        assertThat(refused(base + "output: {format: ext4}\n").getMessage())
                .contains("output.format").contains("a qemu-disk-image is a whole disk");
        assertThat(refused(base.replace("qemu-disk-image", "function") + "output: {format: disk}\n").getMessage())
                .contains("disk is for kind qemu-disk-image");
        assertThat(refused(base.replace("qemu-disk-image", "cloud-image")).getMessage()).contains("'qemu-disk-image'");
    }

    @Test
    void aFunctionSpecCannotBootSystemdOrUseUbuntu() {
        RuntimeSpecException e = refused("spec: 1\nname: a\nbase: {suite: jammy, mirror: 'http://archive.ubuntu.com/ubuntu'}\ninit: systemd\n");

        assertThat(e.errors()).extracting(ValidationError::path).containsExactlyInAnyOrder("init", "base.suite");
        assertThat(e.getMessage()).contains("instance-rootfs only").contains("init is 'kiln'");
        RuntimeSpecException kind = refused("spec: 1\nkind: container\nname: a\nbase: {suite: bookworm}\n");
        assertThat(kind.errors()).extracting(ValidationError::path).containsExactly("kind");
        RuntimeSpecException init = refused("spec: 1\nkind: instance-rootfs\nname: a\nbase: {suite: bookworm}\ninit: kiln\n");
        assertThat(init.getMessage()).contains("boots systemd");
    }

    @Test
    void otherArchitecturesAreRefusedWithTheReason() {
        RuntimeSpecException e = refused("spec: 1\nname: a\nbase: {suite: bookworm}\narchitecture: arm64\n");

        assertThat(e.errors()).extracting(ValidationError::path).containsExactly("architecture");
        assertThat(e.getMessage()).contains("'arm64' is not supported").contains("x86_64 only");
        assertThat(RuntimeSpecs.parse("spec: 1\nname: a\nbase: {suite: bookworm}\narchitecture: amd64\n", "t", null)
                .architecture()).isEqualTo("x86_64");
    }

    @Test
    void everyProblemIsReportedWithItsFieldPath() {
        RuntimeSpecException e = refused("""
                spec: 1
                name: Bad Name
                base: {suite: jessie, mirror: "ftp://x"}
                packages:
                  apt: [python3, "-oops", python3]
                  pip: [flask]
                  colour: blue
                files:
                  - {path: etc/motd, content: hi}
                  - {path: /sbin/init, content: x}
                  - {path: /a, content: x, source: b}
                  - {path: /m, content: x, mode: "999"}
                slim: {docs: maybe, bytecode: sometimes, remove_paths: [/usr, relative, "/usr/*/doc"]}
                output: {format: zip}
                source_date_epoch: -5
                """);

        assertThat(e.errors()).extracting(ValidationError::path).contains(
                "name", "base.suite", "base.mirror", "packages.apt[1]", "packages.apt[2]", "packages.colour",
                "packages.pip", "files[0].path", "files[1].path", "files[2]", "files[3].mode", "slim.docs",
                "slim.bytecode", "slim.remove_paths[0]", "slim.remove_paths[1]", "slim.remove_paths[2]",
                "output.format", "source_date_epoch");
        assertThat(e.getMessage()).contains("packages.pip: pip packages need pip in the runtime: add python3-pip");
    }

    @Test
    void theAgentsPackageCannotBeReplacedOrRemoved() {
        RuntimeSpecException e = refused("""
                spec: 1
                name: a
                base: {suite: bookworm}
                packages: {apt: [python3-minimal]}
                files:
                  - {path: /root/kiln_init1/agent.py, content: x}
                  - {path: /root/kiln_init1, content: x}
                  - {path: /root/kiln_init1x, content: fine}
                slim: {remove_paths: [/root/kiln_init1]}
                """);
        assertThat(e.errors()).extracting(ValidationError::path).containsExactlyInAnyOrder(
                "files[0].path", "files[1].path", "slim.remove_paths[0]");
        assertThat(e.getMessage()).contains("/root/kiln_init1/agent.py is written by Kiln's init");
    }

    @Test
    void aSpecMustSayItsFormatAndUnknownKeysAreTypos() {
        assertThat(refused("name: a\nbase: {suite: bookworm}\n").errors()).extracting(ValidationError::path).containsExactly("spec");
        assertThat(refused("spec: 2\nname: a\nbase: {suite: bookworm}\n").getMessage()).contains("format 1");
        assertThat(refused("spec: 1\nname: a\nbase: {suite: bookworm}\nslm: {}\n").errors())
                .extracting(ValidationError::path).containsExactly("slm");
    }

    @Test
    void brokenYamlAndDuplicateKeysAreRefused() {
        assertThat(refused("spec: 1\nname: [unclosed\n").getMessage()).contains("not valid YAML");
        assertThat(refused("spec: 1\nname: a\nname: b\nbase: {suite: bookworm}\n").getMessage()).contains("not valid YAML");
        assertThat(refused("- just\n- a list\n").getMessage()).contains("expected a YAML mapping");
    }

    @Test
    void ext4OutputTakesNoCompression() {
        assertThat(refused("spec: 1\nname: a\nbase: {suite: bookworm}\noutput: {format: ext4, compression: zstd}\n").errors())
                .extracting(ValidationError::path).containsExactly("output.compression");
        RuntimeSpec ext4 = RuntimeSpecs.parse("spec: 1\nname: a\nbase: {suite: bookworm}\noutput: {format: ext4}\n", "t", null);
        assertThat(ext4.output().extension()).isEqualTo("ext4");
        assertThat(refused("spec: 1\nname: a\nbase: {suite: bookworm}\noutput: {compression: zstd, level: 40}\n")
                .errors()).extracting(ValidationError::path).containsExactly("output.level");
    }

    @Test
    void theHashIgnoresCommentsAndKeyOrderButNotContent() {
        RuntimeSpec a = RuntimeSpecs.parse("spec: 1\nname: a\nbase: {suite: bookworm}\npackages: {apt: [python3]}\n", "a", null);
        RuntimeSpec b = RuntimeSpecs.parse("# a comment\npackages:\n  apt: [python3]\nbase:\n  suite: bookworm\nname: a\nspec: 1\n", "b", null);
        RuntimeSpec c = RuntimeSpecs.parse("spec: 1\nname: a\nbase: {suite: bookworm}\npackages: {apt: [python3-minimal]}\n", "c", null);

        assertThat(b.hash()).isEqualTo(a.hash());
        assertThat(c.hash()).isNotEqualTo(a.hash());
    }

    @Test
    void fileSourcesResolveNextToTheSpecAndMustExist(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("motd"), "hello\n");
        Path specFile = dir.resolve("custom.yaml");
        Files.writeString(specFile, "spec: 1\nname: c\nbase: {suite: bookworm}\nfiles:\n  - {path: /etc/motd, source: motd, mode: \"0600\"}\n");

        RuntimeSpec spec = RuntimeSpecs.parse(specFile);
        assertThat(spec.files()).containsExactly(new RuntimeSpec.ExtraFile("/etc/motd", null, "motd", 0600));
        assertThat(spec.directory()).isEqualTo(dir.toAbsolutePath().normalize());

        Files.writeString(specFile, "spec: 1\nname: c\nbase: {suite: bookworm}\nfiles:\n  - {path: /etc/motd, source: motd, mode: 0600}\n");
        assertThatThrownBy(() -> RuntimeSpecs.parse(specFile)).isInstanceOf(RuntimeSpecException.class)
                .hasMessageContaining("files[0].mode: write the mode as a quoted octal string");

        Files.writeString(specFile, "spec: 1\nname: c\nbase: {suite: bookworm}\nfiles:\n  - {path: /etc/motd, source: ../motd}\n");
        assertThatThrownBy(() -> RuntimeSpecs.parse(specFile)).isInstanceOf(RuntimeSpecException.class)
                .hasMessageContaining("files[0].source");
    }

    @Test
    void unknownOfficialNamesAndMissingFilesSayWhatExists() {
        assertThatThrownBy(() -> RuntimeSpecs.official("debian-13-python")).isInstanceOf(RuntimeSpecException.class)
                .hasMessageContaining("debian-12-python, debian-11-python, debian-12-node, minimal");
        assertThatThrownBy(() -> RuntimeSpecs.parse(Path.of("no-such-spec.yaml"))).isInstanceOf(RuntimeSpecException.class)
                .hasMessageContaining("no such file");
    }
}
