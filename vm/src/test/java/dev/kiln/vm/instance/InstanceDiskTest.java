package dev.kiln.vm.instance;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An instance disk on a qcow2 parent (an imported cloud image): the overlay may not be smaller
 * than the parent's virtual size, which a qcow2's file size says nothing about.
 */
class InstanceDiskTest {

    @TempDir
    Path dir;

    @Test
    void aQcow2ParentsVirtualSizeIsTheSmallestDisk() throws Exception {
        Path parent = dir.resolve("cloud.qcow2");
        qemuImg("create", "-q", "-f", "qcow2", parent.toString(), "1G");
        assertThat(Files.size(parent)).isLessThan(1 << 20);

        assertThatThrownBy(() -> InstanceDisk.open(dir.resolve("small.qcow2"), parent, "qcow2", 512))
                .isInstanceOf(IOException.class).hasMessageContaining("smaller than the parent image (1024 MiB)");
        assertThat(dir.resolve("small.qcow2")).doesNotExist();

        InstanceDisk disk = InstanceDisk.open(dir.resolve("disk.qcow2"), parent, "qcow2", 2048);
        String info = qemuImg("info", "--output=json", "-U", disk.file().toString());
        assertThat(info).contains("\"virtual-size\": 2147483648").contains("\"backing-filename-format\": \"qcow2\"")
                .contains(parent.toAbsolutePath().toString());
    }

    private static String qemuImg(String... args) throws Exception {
        List<String> argv = new java.util.ArrayList<>(List.of("qemu-img"));
        argv.addAll(List.of(args));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(out).isZero();
        return out;
    }
}
