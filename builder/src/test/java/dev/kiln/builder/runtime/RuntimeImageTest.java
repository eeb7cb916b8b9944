package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.FileTrees;
import dev.kiln.builder.testing.TestBuilds;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.guest.GuestInit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the steps put into a real image (the official {@code minimal} spec, bootstrapped with
 * debootstrap): the init, the SBOM, what slimming removed and what normalising fixed. The image
 * is unpacked with unsquashfs and inspected file by file.
 */
class RuntimeImageTest {

    @TempDir
    static Path dir;
    private static BuiltRuntime runtime;
    private static Path tree;

    @BeforeAll
    static void buildAndUnpack() throws Exception {
        runtime = TestBuilds.runtime("minimal");
        tree = dir.resolve("tree");
        ExternalCommand.of(dir, "unsquashfs", "-no-progress", "-d", tree.toString(), runtime.image().toString())
                .capture(Duration.ofMinutes(2));
    }

    /** Removed here, without following links: JUnit would warn about every absolute link of the image. */
    @AfterAll
    static void removeTheTree() throws IOException {
        FileTrees.delete(tree);
    }

    @Test
    void theInitIsInstalledWhereTheSeedsSay() throws IOException {
        assertThat(Files.readAllBytes(tree.resolve("sbin/init"))).isEqualTo(GuestInit.init0());
        for (GuestInit.Init1File f : GuestInit.init1Files()) {
            assertThat(Files.readAllBytes(tree.resolve("root/" + f.path()))).as(f.path()).isEqualTo(f.bytes());
            // Precompiled (bytecode: precompile), so that no boot compiles the agent.
            String module = f.path().substring(f.path().indexOf('/') + 1).replace(".py", "");
            try (var cache = Files.list(tree.resolve("root/" + GuestInit.INIT1_PACKAGE + "/__pycache__"))) {
                assertThat(cache.map(p -> p.getFileName().toString())).as(f.path() + " compiled").anyMatch(n -> n.startsWith(module + ".cpython-"));
            }
        }
        assertThat(Files.isExecutable(tree.resolve("sbin/init"))).isTrue();
        assertThat(Files.readString(tree.resolve("etc/kiln/runtime")))
                .isEqualTo("name=minimal\nspec=" + RuntimeSpecs.official("minimal").hash().value() + "\n");
        assertThat(tree.resolve("usr/bin/python3")).exists();
        for (String dirName : List.of("proc", "sys", "dev", "run", "tmp", "mnt")) assertThat(tree.resolve(dirName)).isDirectory();
    }

    @Test
    void theManifestDescribesTheImageAndListsEveryPackage() throws IOException {
        RuntimeManifest m = runtime.readManifest();

        assertThat(m.image().sha256()).isEqualTo(ItemHash.sha256Of(runtime.image()).value());
        assertThat(m.image().sizeBytes()).isEqualTo(Files.size(runtime.image())).isEqualTo(runtime.sizeBytes());
        assertThat(m.specHash()).isEqualTo(RuntimeSpecs.official("minimal").hash().value());
        assertThat(m.base().suite()).isEqualTo("bookworm");
        assertThat(m.kernel().commandLine()).contains("rootfstype=squashfs").contains("init=/sbin/init");
        assertThat(m.init().init1Sha256()).isEqualTo(ItemHash.sha256Of(GuestInit.init1()).value());
        List<RuntimeManifest.SbomEntry> debs = m.packages("deb");
        assertThat(debs).extracting(RuntimeManifest.SbomEntry::name).contains("python3-minimal", "libc6", "dash")
                .as("removed by slim.remove_packages: not shipped, so not in the SBOM").doesNotContain("perl-base", "apt");
        assertThat(debs).allSatisfy(e -> assertThat(e.version()).isNotBlank());
        // The same list ships inside the image, captured before dpkg's database was removed.
        String inImage = Files.readString(tree.resolve("etc/kiln/packages"));
        for (RuntimeManifest.SbomEntry e : debs) assertThat(inImage).contains("deb\t" + e.name() + "\t" + e.version() + "\t");
        assertThat(m.removedBytes()).containsKeys("docs", "locales", "package_data", "package perl-base");
    }

    @Test
    void slimmingRemovedWhatNothingNeedsAtRunTime() throws IOException {
        for (String gone : List.of("var/lib/dpkg", "var/lib/apt", "var/cache/apt", "usr/share/man", "usr/share/locale",
                "usr/bin/perl", "usr/bin/apt-get", "usr/lib/x86_64-linux-gnu/gconv", "usr/share/zoneinfo")) {
            assertThat(Files.exists(tree.resolve(gone), LinkOption.NOFOLLOW_LINKS)).as(gone).isFalse();
        }
        try (Stream<Path> docs = Files.walk(tree.resolve("usr/share/doc"))) {
            assertThat(docs.filter(Files::isRegularFile)).as("only copyright files stay")
                    .allMatch(f -> f.getFileName().toString().equals("copyright"));
        }
        try (Stream<Path> logs = Files.walk(tree.resolve("var/log"))) {
            assertThat(logs.filter(Files::isRegularFile)).isEmpty();
        }
    }

    @Test
    void normalisingLeftNothingOfTheBuildHost() throws IOException {
        assertThat(Files.readString(tree.resolve("etc/hostname"))).isEqualTo("kiln\n");
        assertThat(Files.readString(tree.resolve("etc/resolv.conf"))).isEmpty();
        String day = Long.toString(RuntimeSpecs.official("minimal").sourceDateEpoch() / 86_400);
        for (String line : Files.readAllLines(tree.resolve("etc/shadow"))) {
            String[] f = line.split(":", -1);
            if (!f[2].isEmpty()) assertThat(f[2]).as(line).isEqualTo(day);
        }
        assertThat(tree.resolve("etc/passwd-")).doesNotExist();
        try (Stream<Path> run = Files.list(tree.resolve("run"))) {
            assertThat(run).as("nothing of the build in /run (the host's CA bundle was bound there)").isEmpty();
        }
        assertThat(tree.resolve("var/cache/ldconfig/aux-cache")).doesNotExist();
    }

    @Test
    void everyFileCarriesSourceDateEpochAndRootOwnsTheInit() throws IOException {
        long epoch = RuntimeSpecs.official("minimal").sourceDateEpoch();
        List<String> wrong = new ArrayList<>();
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (attrs.lastModifiedTime().toMillis() / 1000 != epoch) wrong.add(tree.relativize(file).toString());
                return FileVisitResult.CONTINUE;
            }
        });
        assertThat(wrong).isEmpty();
        Map<String, Object> owner = Files.readAttributes(tree.resolve("sbin/init"), "unix:uid,gid");
        assertThat(owner).containsEntry("uid", 0).containsEntry("gid", 0);
    }

    @Test
    void pythonBytecodeIsPrecompiledAsUncheckedHashPycFiles() throws IOException {
        List<Path> pycs;
        try (Stream<Path> files = Files.walk(tree.resolve("usr/lib/python3.11"))) {
            pycs = files.filter(f -> f.toString().endsWith(".pyc")).toList();
        }
        assertThat(pycs).hasSizeGreaterThan(50);
        for (Path pyc : pycs) {
            byte[] head = new byte[8];
            try (InputStream in = Files.newInputStream(pyc)) {
                assertThat(in.readNBytes(head, 0, 8)).isEqualTo(8);
            }
            // PEP 552: flags word 0b01 = hash-based, source not checked.
            assertThat(head[4]).as(pyc.toString()).isEqualTo((byte) 1);
        }
    }

    @Test
    void aSecondBuildIsAVerifiedCacheHit() throws Exception {
        long start = System.nanoTime();
        BuiltRuntime again = new RuntimeBuilder(TestBuilds.kilnHome(), BuildListener.SILENT).build(RuntimeSpecs.official("minimal"));

        assertThat(again.fromCache()).isTrue();
        assertThat(again.imageHash()).isEqualTo(runtime.imageHash());
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        assertThat(new RuntimeBuilder(TestBuilds.kilnHome(), BuildListener.SILENT).cached(RuntimeSpecs.official("minimal")))
                .contains(again);
    }
}
