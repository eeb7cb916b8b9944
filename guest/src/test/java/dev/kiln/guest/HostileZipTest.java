package dev.kiln.guest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * Archives a careless or hostile owner uploads: each is refused fast with a code the node shows as
 * the owner's mistake (not {@code internal}) and a reason naming the cause; the agent survives.
 */
class HostileZipTest {
    @TempDir
    Path dir;

    private record Refusal(GuestConfigureException error, Duration took, Path root) {
    }

    private Refusal configure(byte[] code) throws Exception {
        try (AgentProcess agent = AgentProcess.start(dir)) {
            long start = System.nanoTime();
            GuestConfigureException e = catchThrowableOfType(GuestConfigureException.class, () -> agent.connection.configure(
                    ProgramConfig.builder(ProgramConfig.Interface.EXECUTABLE, ProgramConfig.Code.zip("run.sh", Attachment.of(code)))
                            .build(), Duration.ofSeconds(60)));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertThat(e).as("configure should fail").isNotNull();
            assertThat(agent.connection.ping(Duration.ofSeconds(5))).isPositive();
            return new Refusal(e, took, agent.root);
        }
    }

    @Test
    void aZipBombDeclaringMoreThanTheLimitIsRefusedBeforeAnythingIsWritten() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("run.sh", "#!/bin/sh\n".getBytes());
        entries.put("a.bin", new byte[1000]);
        entries.put("b.bin", new byte[1000]);
        byte[] bomb = Zips.declaring(Zips.declaring(Zips.of(entries), "a.bin", 0xFFFF_FFF0L), "b.bin", 0xFFFF_FFF0L);
        assertThat(bomb.length).as("a few KB").isLessThan(4096);

        Refusal r = configure(bomb);
        assertThat(r.error().code()).isEqualTo("zip_too_large");
        assertThat(r.error().reason()).contains("code archive").contains("expands to").contains("allowed");
        assertThat(r.took()).isLessThan(Duration.ofSeconds(5));
        assertThat(r.root().resolve("opt/code/run.sh")).as("checked before writing").doesNotExist();
    }

    @Test
    void anEntryExpandingBeyondItsDeclaredSizeStopsAtThatSize() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("run.sh", "#!/bin/sh\n".getBytes());
        entries.put("big.bin", new byte[50 << 20]);
        byte[] lying = Zips.declaring(Zips.of(entries), "big.bin", 1000);
        assertThat(lying.length).as("50 MiB of zeros deflate to little").isLessThan(200_000);

        Refusal r = configure(lying);
        assertThat(r.error().code()).isEqualTo("bad_zip");
        assertThat(r.error().reason()).contains("big.bin").contains("beyond the 1000 bytes its header declares");
        assertThat(r.took()).isLessThan(Duration.ofSeconds(5));
        assertThat(Files.size(r.root().resolve("opt/code/big.bin"))).as("never more than declared").isLessThanOrEqualTo(1000);
    }

    @Test
    void aFileThenADirectoryOfTheSameNameIsABadZip() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("run.sh", "#!/bin/sh\n".getBytes());
        entries.put("x", "file".getBytes());
        entries.put("x/y", "inside".getBytes());
        Refusal r = configure(Zips.of(entries));
        assertThat(r.error().code()).isEqualTo("bad_zip");
        assertThat(r.error().reason()).contains("'x/y'").contains("'x'").contains("also has as a file");
        assertThat(r.root().resolve("opt/code/x")).as("checked before writing").doesNotExist();
    }

    @Test
    void aDirectoryThenAFileOfTheSameNameIsABadZip() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("run.sh", "#!/bin/sh\n".getBytes());
        entries.put("x/", new byte[0]);
        entries.put("x", "file".getBytes());
        Refusal r = configure(Zips.of(entries));
        assertThat(r.error().code()).isEqualTo("bad_zip");
        assertThat(r.error().reason()).contains("'x'").contains("both a file and a directory");
    }

    @Test
    void theFreeSpaceAndTheMemoryWhereItIsUnpackedBoundTheArchive() throws Exception {
        GuestInit.writeInit1(dir);
        Path dest = Files.createDirectories(dir.resolve("dest"));
        String out = Pythons.run(dir, "/usr/bin/python3", "-c", """
                import os, sys
                sys.path.insert(0, sys.argv[1])
                from kiln_init1 import zip_reader
                st = os.statvfs(sys.argv[2])
                free = st.f_bavail * st.f_frsize
                zip_reader.check_fits(free // 2, 1, sys.argv[2], limit=1 << 62)
                try:
                    zip_reader.check_fits(free + (1 << 30), 1, sys.argv[2] + "/not/yet/made", limit=1 << 62)
                except zip_reader.ZipError as e:
                    print(e.code, e)
                # In a VM the code and data are kept in memory: MemAvailable bounds them too.
                memory = zip_reader.memory_available()
                zip_reader.check_fits(min(memory, free) // 2, 1, sys.argv[2], limit=1 << 62, in_memory=True)
                try:
                    zip_reader.check_fits(memory + (1 << 20), 1, sys.argv[2], limit=1 << 62, in_memory=True)
                except zip_reader.ZipError as e:
                    print(e.code, e)
                """, dir.toString(), dest.toString());
        List<String> lines = out.lines().toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).startsWith("zip_too_large").contains("are free for it");
        assertThat(lines.get(1)).startsWith("zip_too_large").contains("keeps these files in memory");
    }

    @Test
    void anHonestArchiveOfManyChunksStillUnpacksWhole() throws Exception {
        byte[] noise = new byte[3 << 20];
        new java.util.Random(7).nextBytes(noise);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("run.sh", "#!/bin/sh\nexit 3\n".getBytes());
        entries.put("zeros.bin", new byte[20 << 20]);
        entries.put("noise.bin", noise);
        // The script exits at once: configure fails after the code is unpacked, at the program's start.
        Refusal r = configure(Zips.of(entries));
        assertThat(r.error().code()).isEqualTo("program_exited");
        assertThat(Files.size(r.root().resolve("opt/code/zeros.bin"))).isEqualTo(20 << 20);
        assertThat(Files.readAllBytes(r.root().resolve("opt/code/noise.bin"))).isEqualTo(noise);
    }
}
