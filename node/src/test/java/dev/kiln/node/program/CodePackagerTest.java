package dev.kiln.node.program;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.Encoding;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodePackagerTest {
    @TempDir
    Path dir;

    private Path code() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/pkg"));
        Files.writeString(dir.resolve("src/main.py"), "app = None\n");
        Files.writeString(src.resolve("util.py"), "X = 1\n");
        return dir.resolve("src");
    }

    @Test
    void theSameDirectoryPacksToTheSameHashWhateverTheFileTimes() throws Exception {
        Path src = code();
        for (Encoding e : new Encoding[] {Encoding.ZIP, Encoding.SQUASHFS}) {
            ItemHash first = ItemHash.sha256Of(CodePackager.pack(src, e, dir.resolve("a." + e.wire())));
            Files.setLastModifiedTime(src.resolve("main.py"), FileTime.fromMillis(1_000_000_000_000L));
            ItemHash second = ItemHash.sha256Of(CodePackager.pack(src, e, dir.resolve("b." + e.wire())));
            assertThat(second).as(e.wire()).isEqualTo(first);
        }
    }

    @Test
    void aZipHoldsEveryFileUnderItsRelativeName() throws Exception {
        Path zip = CodePackager.pack(code(), Encoding.ZIP, dir.resolve("code.zip"));
        try (ZipFile z = new ZipFile(zip.toFile())) {
            assertThat(z.stream().map(java.util.zip.ZipEntry::getName)).containsExactly("main.py", "pkg/", "pkg/util.py");
        }
    }

    @Test
    void symbolicLinksAndMissingDirectoriesAreRefusedWithAWayOut() throws Exception {
        Path src = code();
        Files.createSymbolicLink(src.resolve("link.py"), src.resolve("main.py"));
        assertThatThrownBy(() -> CodePackager.pack(src, Encoding.ZIP, dir.resolve("x.zip")))
                .isInstanceOf(PackagingException.class).hasMessageContaining("--encoding squashfs");
        assertThatThrownBy(() -> CodePackager.pack(dir.resolve("nope"), Encoding.ZIP, dir.resolve("y.zip")))
                .isInstanceOf(PackagingException.class).hasMessageContaining("not a directory");
    }
}
