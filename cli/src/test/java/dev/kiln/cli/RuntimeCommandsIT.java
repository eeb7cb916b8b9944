package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kiln.core.hash.ItemHash;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln runtime build}, {@code kiln runtime publish} and {@code kiln kernel build} through
 * the real launcher. Builds use the suite's shared Kiln home (~/.cache/kiln-test, or
 * -Dkiln.test.home), where the builder tests left a bootstrapped base, downloaded packages and
 * the kernel, so a build here takes seconds; publishing goes to a fresh home.
 */
class RuntimeCommandsIT {

    @TempDir Path dir;

    private static Path sharedHome() {
        String configured = System.getProperty("kiln.test.home");
        return configured != null ? Path.of(configured) : Path.of(System.getProperty("user.home"), ".cache", "kiln-test");
    }

    private static void assertNoStackTrace(Launcher.Result r) {
        assertThat(r.err()).as(r.toString()).doesNotContain("\tat ").doesNotContain("Exception in thread");
    }

    @Test
    void aCustomSpecBuildsThenPublishesAndIsListedAsLocal() throws Exception {
        // A nonce in the image makes this a real build every run, not a cache hit.
        String nonce = UUID.randomUUID().toString();
        Files.writeString(dir.resolve("greeting.txt"), "hello " + nonce + "\n");
        Path spec = Files.writeString(dir.resolve("it-runtime.yaml"), """
                # built by RuntimeCommandsIT
                spec: 1
                name: it-runtime
                base: {suite: bookworm}
                packages: {apt: [python3-minimal]}
                files:
                  - {path: /etc/greeting, source: greeting.txt}
                slim: {remove_packages: [apt, libapt-pkg6.0, perl-base]}
                """);

        Launcher.Result built = new Launcher(sharedHome()).run("runtime", "build", "--quiet", spec.toString());

        assertThat(built.exit()).as(built.toString()).isZero();
        assertThat(built.out()).contains("it-runtime: built, squashfs").contains("BootstrapBase").contains("PackImage");
        Path image = Path.of(field(built.out(), "image"));
        assertThat(image).isRegularFile();
        assertThat(ItemHash.sha256Of(image).value()).isEqualTo(field(built.out(), "sha256"));

        // One step: the same spec again is a cache hit, then published where it was built (the
        // shared home: a fresh one would have no caches and build for minutes).
        Launcher.Result oneStep = new Launcher(sharedHome()).run("runtime", "build", "--quiet", "--publish", "--name",
                "it/build-publish", spec.toString());
        assertThat(oneStep.exit()).as(oneStep.toString()).isZero();
        assertThat(oneStep.out()).contains("it-runtime: cached image").contains("published it/build-publish (squashfs");
        assertThat(ItemHash.isValid(field(oneStep.out(), "runtime.ref"))).isTrue();
        assertThat(field(oneStep.out(), "file hash")).isEqualTo(field(built.out(), "sha256"));
        Launcher.Result nameAlone = new Launcher(dir.resolve("home")).run("runtime", "build", "--name", "x", spec.toString());
        assertThat(nameAlone.exit()).isEqualTo(2);
        assertThat(nameAlone.err()).contains("--name names what --publish publishes");
        assertNoStackTrace(nameAlone);

        Launcher fresh = new Launcher(dir.resolve("home"));
        Launcher.Result published = fresh.run("runtime", "publish", image.toString(), "--name", "it/runtime");
        assertThat(published.exit()).as(published.toString()).isZero();
        String ref = field(published.out(), "runtime.ref");
        assertThat(ItemHash.isValid(ref)).isTrue();

        Launcher.Result list = fresh.run("runtime", "list", "--kind", "function");
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).containsPattern("(?m)^it/runtime\\s+function\\s+supported\\s+squashfs\\s+"
                + ref.substring(0, 12) + "\\s+local");

        Launcher.Result amended = fresh.run("runtime", "publish", image.toString(), "--name", "it/runtime-2", "--amends", ref);
        assertThat(amended.exit()).as(amended.toString()).isZero();
        assertThat(amended.out()).contains("amends:      " + ref).contains("\"ref\": \"" + ref + "\", \"use_latest\": true");
    }

    @Test
    void anInvalidSpecIsOneClearErrorPerField() throws Exception {
        Path spec = Files.writeString(dir.resolve("bad.yaml"), "spec: 1\nname: bad\nbase: {suite: bookworm}\narchitecture: arm64\n"
                + "packages: {apt: [\"-evil\"]}\n");

        Launcher.Result r = new Launcher(dir.resolve("home")).run("runtime", "build", spec.toString());

        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("architecture: 'arm64' is not supported").contains("packages.apt[0]");
        assertNoStackTrace(r);

        Launcher.Result unknown = new Launcher(dir.resolve("home")).run("runtime", "build", "debian-99-python");
        assertThat(unknown.exit()).isEqualTo(1);
        assertThat(unknown.err()).contains("official specs: debian-12-python, debian-11-python, debian-12-node, minimal");
        assertNoStackTrace(unknown);
    }

    @Test
    void publishingSomethingThatIsNotAnImageIsRefused() throws Exception {
        Path notes = Files.writeString(dir.resolve("notes.txt"), "not an image");

        Launcher.Result r = new Launcher(dir.resolve("home")).run("runtime", "publish", notes.toString());

        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.err()).contains("is not a runtime image");
        assertNoStackTrace(r);
    }

    @Test
    void importTakesAPartitionedDiskAndRefusesGarbage() throws Exception {
        // A small raw disk with an MBR partition table: what qemu-img and the import's checks see in
        // a cloud image (node's DiskImageInstanceTest boots the built one; this is about the command).
        Path disk = dir.resolve("tiny-cloud.img");
        try (var f = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(4L << 20);
        }
        Process sfdisk = new ProcessBuilder("sfdisk", "-q", disk.toString()).redirectErrorStream(true).start();
        try (var in = sfdisk.getOutputStream()) {
            in.write("label: dos\nstart=2048, type=83\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        assertThat(sfdisk.waitFor()).isZero();
        Launcher kiln = new Launcher(dir.resolve("home"));

        Launcher.Result imported = kiln.run("runtime", "import", disk.toString());
        assertThat(imported.exit()).as(imported.toString()).isZero();
        assertThat(imported.out()).contains("imported local/tiny-cloud (qemu-disk-image, raw")
                .contains("\"hypervisor\": \"qemu\"");
        String ref = field(imported.out(), "rootfs.parent.ref");
        Launcher.Result list = kiln.run("runtime", "list", "--kind", "qemu-disk-image");
        assertThat(list.out()).contains("local/tiny-cloud").contains(ref.substring(0, 12));

        Path garbage = Files.writeString(dir.resolve("debian-12-genericcloud-amd64.qcow2"), "<html>404 Not Found</html>\n");
        Launcher.Result refused = kiln.run("runtime", "import", garbage.toString());
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(1);
        assertThat(refused.err()).contains("is not a disk image");
        assertNoStackTrace(refused);
    }

    @Test
    void kernelBuildReusesTheCachedKernelAndPrintsItsHash() throws Exception {
        Launcher kiln = new Launcher(sharedHome());
        Launcher.Result first = kiln.run("kernel", "build", "--quiet");
        assertThat(first.exit()).as(first.toString()).isZero();

        long start = System.nanoTime();
        Launcher.Result again = kiln.run("kernel", "build");
        long millis = (System.nanoTime() - start) / 1_000_000;

        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(again.out()).contains("cached build, verified");
        Path vmlinux = Path.of(field(again.out(), "vmlinux"));
        assertThat(ItemHash.sha256Of(vmlinux).value()).isEqualTo(field(again.out(), "sha256"));
        assertThat(millis).as("a second kernel build is a cache hit").isLessThan(20_000);
    }

    /** The value after "  name: " on a line of the command's output. */
    private static String field(String out, String name) {
        Matcher m = Pattern.compile("(?m)^\\s+" + Pattern.quote(name) + ":\\s+(\\S+)").matcher(out);
        assertThat(m.find()).as(name + " in:\n" + out).isTrue();
        return m.group(1);
    }
}
