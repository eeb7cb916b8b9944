package dev.kiln.builder.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Paths in the image resolve as in a chroot: a link can never lead the builder out into the host. */
class RootFsTest {

    @Test
    void absoluteAndRelativeLinksResolveInsideTheTree(@TempDir Path dir) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("rootfs"));
        Files.createDirectories(tree.resolve("usr/bin"));
        Files.createSymbolicLink(tree.resolve("bin"), Path.of("usr/bin"));
        Files.createDirectories(tree.resolve("etc"));
        Files.createDirectories(tree.resolve("run/systemd"));
        // Absolute links point into the image, never into the host's /run or /etc.
        Files.createSymbolicLink(tree.resolve("etc/alt"), Path.of("/run/systemd"));
        Files.createSymbolicLink(tree.resolve("etc/escape"), Path.of("../../../../.."));
        RootFs root = new RootFs(tree);

        assertThat(root.resolve("/bin/mount")).isEqualTo(tree.resolve("usr/bin/mount"));
        assertThat(root.resolve("/etc/alt/resolv.conf")).isEqualTo(tree.resolve("run/systemd/resolv.conf"));
        assertThat(root.resolve("/etc/escape/etc/passwd")).isEqualTo(tree.resolve("etc/passwd"));
        assertThat(root.resolve("/etc/alt")).as("the last component is not followed").isEqualTo(tree.resolve("etc/alt"));
        assertThat(root.followed("/etc/alt")).isEqualTo(tree.resolve("run/systemd"));
        assertThat(root.resolve("/../../x")).isEqualTo(tree.resolve("x"));
    }

    @Test
    void linkLoopsFail(@TempDir Path dir) throws Exception {
        Path tree = Files.createDirectories(dir.resolve("rootfs"));
        Files.createSymbolicLink(tree.resolve("a"), Path.of("/b"));
        Files.createSymbolicLink(tree.resolve("b"), Path.of("/a"));

        assertThatThrownBy(() -> new RootFs(tree).resolve("/a/file")).hasMessageContaining("too many symbolic links");
    }
}
