package dev.kiln.node.restart;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.records.DetachedVmRecords;
import dev.kiln.node.testing.TestNode;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.testing.AgentVmLauncher;
import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Drive;
import dev.kiln.vm.Vm;
import dev.kiln.vm.VmAdoption;
import dev.kiln.vm.VmLauncher;
import dev.kiln.vm.VmSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start's sweep over the records of VMs an earlier node left running (real records, real
 * volume images; the launcher only records what it is asked to end): a VM no kept program will
 * adopt is ended with what it held — its row, its scratch image, its claim on the persistent
 * volume, which stays marked dirty for a check — while the volume of a VM that will be adopted
 * is claimed again for it, so no other VM can attach it.
 */
class DetachedSweepTest {
    static final ItemHash KEPT = ItemHash.parse("a".repeat(64));
    static final ItemHash DROPPED = ItemHash.parse("b".repeat(64));

    @TempDir
    Path dir;

    /** Ends nothing for real: it only says which work directories it was asked to end. */
    static final class Recording implements VmLauncher {
        final List<Path> discarded = new ArrayList<>();

        @Override
        public Vm launch(VmSpec spec) {
            throw new UnsupportedOperationException("the sweep boots nothing");
        }

        @Override
        public void discard(Path workDir) {
            discarded.add(workDir);
        }

        @Override
        public Accelerator accelerator() {
            return Accelerator.TCG;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void whatNoKeptProgramAdoptsIsEndedWithItsHoldingsAndTheKeptOnesVolumesAreClaimedAgain() throws Exception {
        try (TestNode node = TestNode.withAgents(dir.resolve("home"), new AgentVmLauncher(Duration.ZERO), c -> c)) {
            PersistentVolumes volumes = node.node.pool().persistentVolumes().orElseThrow();
            Path detached = node.node.pool().detachment().directory();
            // Two VMs as a killed node left them: volumes attached (so marked dirty), scratch in their work directories.
            Drive keptVolume = volumes.attach("0xabc", "kept", 8, "aaaaaaaaaaaa-1-1", 2);
            Drive droppedVolume = volumes.attach("0xabc", "dropped", 8, "bbbbbbbbbbbb-1-1", 2);
            volumes.release(List.of(keptVolume), "aaaaaaaaaaaa-1-1", false);
            volumes.release(List.of(droppedVolume), "bbbbbbbbbbbb-1-1", false);
            Path keptDir = Files.createDirectories(detached.resolve("aaaaaaaaaaaa-1-1"));
            Path droppedDir = Files.createDirectories(detached.resolve("bbbbbbbbbbbb-1-1"));
            Path stray = Files.createDirectories(detached.resolve("cccccccccccc-1-1"));
            Path droppedScratch = Files.writeString(droppedDir.resolve("scratch3.ext4"), "scratch");
            DetachedVmRecords records = node.nodeRecords.detachedVms();
            records.put(KEPT, "aaaaaaaaaaaa-1-1", new VmAdoption("vm-a", keptDir, 4_000_001),
                    new DetachedVmRecords.Holdings("aaaaaaaaaaaa-1-1", List.of(keptVolume), null));
            records.put(DROPPED, "bbbbbbbbbbbb-1-1", new VmAdoption("vm-b", droppedDir, 4_000_002),
                    new DetachedVmRecords.Holdings("bbbbbbbbbbbb-1-1",
                            List.of(droppedVolume, new Drive("scratch3", droppedScratch, false)), null));

            Recording launcher = new Recording();
            DetachedSweep.sweep(node.node.pool(), launcher, Set.of(KEPT));

            assertThat(launcher.discarded).containsExactlyInAnyOrder(droppedDir, stray.toAbsolutePath().normalize());
            assertThat(records.list()).extracting(DetachedVmRecords.Row::program).containsExactly(KEPT);
            assertThat(droppedScratch).as("the ended VM's scratch image").doesNotExist();
            assertThat(PersistentVolumes.isDirty(droppedVolume.file())).as("checked before its next attach").isTrue();
            Drive again = volumes.attach("0xabc", "dropped", 8, "other-1", 2);
            volumes.release(List.of(again), "other-1", false);
            assertThatThrownBy(() -> volumes.attach("0xabc", "kept", 8, "other-2", 2))
                    .as("the volume of the VM to be adopted is its own").isInstanceOf(PersistentVolumes.InUseException.class)
                    .hasMessageContaining("aaaaaaaaaaaa-1-1");
            volumes.release(List.of(keptVolume), "aaaaaaaaaaaa-1-1", false);
        }
    }
}
