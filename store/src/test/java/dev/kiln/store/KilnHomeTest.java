package dev.kiln.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KilnHomeTest {

    private static final Path USER_HOME = Path.of("/home/ada");

    @Test
    void explicitValueWinsOverEnvironment() {
        KilnHome h = KilnHome.resolve("/srv/kiln", Map.of("KILN_HOME", "/env/kiln", "XDG_DATA_HOME", "/xdg"), USER_HOME);
        assertThat(h.root()).isEqualTo(Path.of("/srv/kiln"));
        assertThat(h.source()).isEqualTo(KilnHome.Source.EXPLICIT);
    }

    @Test
    void kilnHomeVariableWinsOverXdg() {
        KilnHome h = KilnHome.resolve(null, Map.of("KILN_HOME", "/env/kiln", "XDG_DATA_HOME", "/xdg"), USER_HOME);
        assertThat(h.root()).isEqualTo(Path.of("/env/kiln"));
        assertThat(h.source()).isEqualTo(KilnHome.Source.KILN_HOME_ENV);
    }

    @Test
    void xdgDataHomeGetsAKilnSubdirectory() {
        KilnHome h = KilnHome.resolve(null, Map.of("XDG_DATA_HOME", "/xdg/data"), USER_HOME);
        assertThat(h.root()).isEqualTo(Path.of("/xdg/data/kiln"));
        assertThat(h.source()).isEqualTo(KilnHome.Source.XDG_DATA_HOME);
    }

    @Test
    void defaultIsUnderTheUsersLocalShare() {
        KilnHome h = KilnHome.resolve(null, Map.of(), USER_HOME);
        assertThat(h.root()).isEqualTo(Path.of("/home/ada/.local/share/kiln"));
        assertThat(h.source()).isEqualTo(KilnHome.Source.DEFAULT);
    }

    @Test
    void blankValuesAndRelativeXdgAreIgnored() {
        KilnHome h = KilnHome.resolve("  ", Map.of("KILN_HOME", "", "XDG_DATA_HOME", "relative/data"), USER_HOME);
        assertThat(h.source()).isEqualTo(KilnHome.Source.DEFAULT);
        assertThat(h.root()).isEqualTo(Path.of("/home/ada/.local/share/kiln"));
    }

    @Test
    void leadingTildeIsExpandedAndPathsNormalised() {
        assertThat(KilnHome.resolve(null, Map.of("KILN_HOME", "~/kiln/../k2"), USER_HOME).root())
                .isEqualTo(Path.of("/home/ada/k2"));
        assertThat(KilnHome.resolve("~", Map.of(), USER_HOME).root()).isEqualTo(USER_HOME);
        assertThat(KilnHome.resolve("rel", Map.of(), USER_HOME).root()).isAbsolute();
    }

    @Test
    void everythingLivesUnderTheRoot(@TempDir Path dir) {
        KilnHome h = KilnHome.of(dir);
        assertThat(h.blobs()).isEqualTo(dir.resolve("blobs"));
        assertThat(h.tmp()).isEqualTo(dir.resolve("tmp"));
        assertThat(h.quarantine()).isEqualTo(dir.resolve("quarantine"));
        assertThat(h.db()).isEqualTo(dir.resolve("db"));
        assertThat(h.dir("kernels")).isEqualTo(dir.resolve("kernels"));
        assertThatThrownBy(() -> h.dir("../elsewhere")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> h.dir("a/b")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void createMakesAPrivateDirectoryAndIsIdempotent(@TempDir Path dir) throws Exception {
        KilnHome h = KilnHome.of(dir.resolve("nested/kiln"));
        h.create().create();
        assertThat(h.root()).isDirectory();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(h.root()))).isEqualTo("rwx------");
    }

    @Test
    void createRefusesAFileInTheWay(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("kiln"), "not a directory");
        assertThatThrownBy(() -> KilnHome.of(file).create()).isInstanceOf(java.io.IOException.class);
    }
}
