package dev.kiln.vm.qemu;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GuestRamTest {

    @Test
    void theSweepRemovesTheRamFilesOfDeadJvmsOnly() throws Exception {
        GuestRam mine = GuestRam.sharedFor("vm-sweep-test-1");
        Path dir = mine.file().getParent();
        Files.createDirectories(dir);
        // Above any pid_max: no such process.
        Path dead = dir.resolve("4999999999-vm-sweep-test-1.ram");
        Files.writeString(dead, "left by a killed node");
        Files.writeString(mine.file(), "in use");
        try {
            GuestRam.sweep();
            assertThat(dead).doesNotExist();
            assertThat(mine.file()).exists();
        } finally {
            mine.release();
            Files.deleteIfExists(dead);
        }
        assertThat(mine.file()).doesNotExist();
    }

    @Test
    void aSnapshotsRamIsNeverReleased() throws Exception {
        Path file = Files.createTempFile("kiln-snapshot", ".ram");
        try {
            GuestRam.copyOnWrite(file).release();
            assertThat(file).exists();
            assertThat(GuestRam.copyOnWrite(file).objectArguments(256)).containsExactly("-object",
                    "memory-backend-file,id=kiln-ram,size=256M,mem-path=" + file.toAbsolutePath() + ",share=off");
        } finally {
            Files.delete(file);
        }
    }
}
