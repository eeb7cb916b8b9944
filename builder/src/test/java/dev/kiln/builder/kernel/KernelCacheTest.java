package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildCache;
import dev.kiln.builder.step.BuildCache.Lookup;
import dev.kiln.builder.step.StepTiming;
import dev.kiln.core.hash.ItemHash;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

class KernelCacheTest {

    @TempDir
    Path home;

    private final KernelCacheKey key = new KernelCacheKey("6.1.192-2", "ab".repeat(32));

    @Test
    void aCommittedEntryIsFoundAndVerified() throws IOException {
        BuildCache cache = new BuildCache(home.resolve("kernels"));
        byte[] vmlinux = "not really a kernel".getBytes();

        Path entry = cache.commit(stage(cache, vmlinux, 1234), key.directoryName());
        Lookup<GuestKernel> found = cache.lookup(key.directoryName(), KernelEntry::read);

        assertThat(entry).isEqualTo(home.resolve("kernels/6.1.192-2-abababababab"));
        assertThat(found.hit()).isTrue();
        GuestKernel kernel = found.entry();
        assertThat(kernel.fromCache()).isTrue();
        assertThat(kernel.vmlinux()).isEqualTo(entry.resolve("vmlinux")).hasBinaryContent(vmlinux);
        assertThat(kernel.config()).isEqualTo(entry.resolve("config"));
        assertThat(kernel.sha256()).isEqualTo(ItemHash.sha256Of(vmlinux));
        assertThat(kernel.sourceVersion()).isEqualTo("6.1.192-2");
        assertThat(kernel.steps()).extracting(StepTiming::step).containsExactly("UnpackSource", "CompileKernel");
        assertThat(kernel.buildDuration().toMillis()).isEqualTo(300_000);
        // The workspace output was moved, not copied.
        assertThat(new BuildWorkspace(cache.workspace(key.directoryName())).output()).doesNotExist();
    }

    @Test
    void noEntryIsAPlainMiss() {
        Lookup<GuestKernel> found = new BuildCache(home.resolve("kernels")).lookup(key.directoryName(), KernelEntry::read);

        assertThat(found.hit()).isFalse();
        assertThat(found.problem()).isNull();
    }

    @Test
    void aCorruptedVmlinuxIsAMissThatSaysWhy() throws IOException {
        BuildCache cache = new BuildCache(home.resolve("kernels"));
        Path entry = cache.commit(stage(cache, "kernel".getBytes(), 1), key.directoryName());
        Files.writeString(entry.resolve("vmlinux"), "x", StandardOpenOption.APPEND);

        Lookup<GuestKernel> found = cache.lookup(key.directoryName(), KernelEntry::read);

        assertThat(found.hit()).isFalse();
        assertThat(found.problem()).contains("SHA-256");
    }

    @Test
    void anEntryWithoutMetadataIsAMiss() throws IOException {
        BuildCache cache = new BuildCache(home.resolve("kernels"));
        Path entry = cache.commit(stage(cache, "kernel".getBytes(), 1), key.directoryName());
        Files.delete(entry.resolve("kernel.json"));

        assertThat(cache.lookup(key.directoryName(), KernelEntry::read).problem()).contains("kernel.json");
    }

    @Test
    void aRebuiltEntryReplacesTheCorruptOne() throws IOException {
        BuildCache cache = new BuildCache(home.resolve("kernels"));
        Path entry = cache.commit(stage(cache, "old".getBytes(), 1), key.directoryName());
        Files.writeString(entry.resolve("vmlinux"), "garbage");

        cache.commit(stage(cache, "new".getBytes(), 1), key.directoryName());

        assertThat(cache.lookup(key.directoryName(), KernelEntry::read).entry().vmlinux()).hasContent("new");
        // The replaced entry is gone, not left beside the new one.
        try (var names = Files.list(cache.root())) {
            assertThat(names.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".build-")))
                    .containsExactly("6.1.192-2-abababababab");
        }
    }

    @Test
    void theExpectedCompileCountComesFromTheNewestEntry() throws IOException {
        BuildCache cache = new BuildCache(home.resolve("kernels"));
        assertThat(KernelEntry.lastCompileLines(cache.root())).isEmpty();

        Path older = cache.commit(stage(cache, "a".getBytes(), 1000), new KernelCacheKey("6.1.190-1", "cd".repeat(32)).directoryName());
        Files.setLastModifiedTime(older.resolve("kernel.json"), FileTime.fromMillis(1_000_000));
        cache.commit(stage(cache, "b".getBytes(), 1400), key.directoryName());

        assertThat(KernelEntry.lastCompileLines(cache.root())).hasValue(1400);
    }

    @Test
    void aSecondBuilderOfTheSameKeyWaitsForTheFirst() throws Exception {
        BuildCache cache = new BuildCache(home.resolve("kernels"));
        CountDownLatch firstHolds = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicBoolean secondGotIn = new AtomicBoolean();

        Thread first = Thread.ofVirtual().start(() -> {
            try (var _ = cache.lock(key.directoryName())) {
                firstHolds.countDown();
                release.await();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertThat(firstHolds.await(5, TimeUnit.SECONDS)).isTrue();
        Thread second = Thread.ofVirtual().start(() -> {
            try (var _ = cache.lock(key.directoryName())) {
                secondGotIn.set(true);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });

        Thread.sleep(300);
        assertThat(secondGotIn).isFalse();
        release.countDown();
        first.join(5000);
        second.join(5000);
        assertThat(secondGotIn).isTrue();
    }

    /** What RecordKernelStep leaves in the workspace before the commit. */
    private Path stage(BuildCache cache, byte[] vmlinux, int compileLines) throws IOException {
        Path out = new BuildWorkspace(cache.workspace(key.directoryName())).output();
        Files.createDirectories(out);
        Files.write(out.resolve("vmlinux"), vmlinux);
        Files.writeString(out.resolve("config"), "CONFIG_64BIT=y\n");
        Map<String, Long> steps = new LinkedHashMap<>();
        steps.put("UnpackSource", 10_000L);
        steps.put("CompileKernel", 290_000L);
        new KernelMetadata(KernelMetadata.SCHEMA, key.sourceVersion(), key.configHash(), KernelRecipe.VERSION,
                "6.1.192", "gcc 12.2.0", ItemHash.sha256Of(vmlinux).value(), vmlinux.length,
                "2025-01-01T00:00:00Z", 300_000, steps, compileLines).write(out.resolve("kernel.json"));
        return out;
    }
}
