package dev.kiln.node.volume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.vm.Drive;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link PersistentVolumes#delete}, what the operator's erase does to a volume: never under a VM that has it. */
class PersistentVolumeEraseTest {
    @TempDir
    Path dir;

    @Test
    void aVolumeIsDeletedOnlyWhenNoVmHasIt() throws Exception {
        PersistentVolumes volumes = new PersistentVolumes(dir);
        Drive d = volumes.attach("0xabc", "data", 16, "vm-1", 1);
        Path image = volumes.image("0xabc", "data");
        assertThat(image).exists();
        assertThatThrownBy(() -> volumes.delete("0xabc", "data")).isInstanceOf(PersistentVolumes.InUseException.class)
                .hasMessageContaining("vm-1");
        assertThat(image).as("left alone while attached").exists();

        volumes.release(List.of(d), "vm-1", false);
        assertThat(PersistentVolumes.isDirty(image)).isTrue();
        assertThat(volumes.delete("0xabc", "data")).isTrue();
        assertThat(image).doesNotExist();
        assertThat(PersistentVolumes.dirtyMarker(image)).as("its dirty marker goes too").doesNotExist();
        assertThat(volumes.delete("0xabc", "data")).as("nothing left to delete").isFalse();
        assertThat(Files.list(dir.resolve("0xabc"))).isEmpty();
    }
}
