package dev.kiln.builder.runtime;

import dev.kiln.core.hash.ItemHash;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class BaseCacheTest {

    private static final RuntimeSpec.Base BOOKWORM = new RuntimeSpec.Base("bookworm", "http://deb.debian.org/debian");

    private static BaseCache.Base commit(BaseCache cache, String family, Optional<ItemHash> release) throws Exception {
        String name = BaseCache.name(family, release);
        Path work = cache.workspace(name);
        Files.createDirectories(work.resolve(BaseCache.ROOTFS).resolve("etc"));
        return cache.commit(work, name, family, new BaseCache.BaseInfo("bookworm", BOOKWORM.mirror(), "x86_64",
                release.map(ItemHash::value).orElse(null), "2026-01-01T00:00:00Z", 1));
    }

    @Test
    void aBaseIsFoundByTheArchivesStateAndANewStateReplacesTheOldBase(@TempDir Path dir) throws Exception {
        BaseCache cache = new BaseCache(dir);
        String family = BaseCache.family(BOOKWORM, "x86_64");
        Optional<ItemHash> march = Optional.of(ItemHash.sha256Of(new byte[]{1}));
        Optional<ItemHash> june = Optional.of(ItemHash.sha256Of(new byte[]{2}));

        BaseCache.Base first = commit(cache, family, march);
        assertThat(cache.find(family, march)).map(BaseCache.Base::dir).contains(first.dir());
        assertThat(cache.find(family, june)).as("the archive changed: bootstrap again").isEmpty();

        BaseCache.Base second = commit(cache, family, june);
        assertThat(first.dir()).as("the base of the old archive state is gone").doesNotExist();
        assertThat(cache.find(family, june)).map(BaseCache.Base::dir).contains(second.dir());
        assertThat(cache.find(family, Optional.empty())).as("offline: the newest base of the family")
                .map(BaseCache.Base::dir).contains(second.dir());
    }

    @Test
    void theFamilyDependsOnSuiteMirrorAndArchitecture() {
        String family = BaseCache.family(BOOKWORM, "x86_64");

        assertThat(family).startsWith("bookworm-");
        assertThat(BaseCache.family(new RuntimeSpec.Base("bookworm", "http://mirror.example/debian"), "x86_64")).isNotEqualTo(family);
        assertThat(BaseCache.family(new RuntimeSpec.Base("bullseye", BOOKWORM.mirror()), "x86_64")).startsWith("bullseye-");
    }
}
