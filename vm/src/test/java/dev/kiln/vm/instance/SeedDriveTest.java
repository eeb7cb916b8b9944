package dev.kiln.vm.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The seed's cloud-config for volumes: immutable ones mounted read-only, writable ones read-write, both nofail. */
class SeedDriveTest {
    @Test
    void mountsAreWrittenReadOnlyOrReadWriteAsTheVolumeIs() {
        SeedDrive seed = new SeedDrive("id-1", "host", List.of("ssh-ed25519 AAAA k"), Map.of(), List.of(
                new SeedDrive.Mount("/dev/disk/by-id/virtio-kiln-volume-0", "/opt/venv"),
                new SeedDrive.Mount("/dev/disk/by-id/virtio-kiln-volume-1", "/var/lib/example", false)));
        assertThat(seed.userData()).contains("mounts:\n"
                + "  - [\"/dev/disk/by-id/virtio-kiln-volume-0\", \"/opt/venv\", \"auto\", \"ro,nofail\", \"0\", \"0\"]\n"
                + "  - [\"/dev/disk/by-id/virtio-kiln-volume-1\", \"/var/lib/example\", \"auto\", \"rw,nofail\", \"0\", \"0\"]\n");
    }

    @Test
    void withoutVolumesThereIsNoMountsSectionAndBadMountPointsAreRefused() {
        assertThat(new SeedDrive("id-1", "host", List.of(), Map.of()).userData()).doesNotContain("mounts:");
        assertThatThrownBy(() -> new SeedDrive.Mount("/dev/vdb", "/", false)).isInstanceOf(IllegalArgumentException.class);
    }
}
