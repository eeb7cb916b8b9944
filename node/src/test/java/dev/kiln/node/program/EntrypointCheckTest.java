package dev.kiln.node.program;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kiln.core.message.CodeInterface;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EntrypointCheckTest {
    @TempDir Path dir;

    @Test
    void asgiEntrypointsNameAModuleOrPackageInTheDirectory() throws Exception {
        Files.writeString(dir.resolve("main.py"), "app = None\n");
        Files.createDirectories(dir.resolve("pkg/web"));
        Files.writeString(dir.resolve("pkg/web/__init__.py"), "");
        assertThatCode(() -> EntrypointCheck.check(dir, "main:app", null)).doesNotThrowAnyException();
        assertThatCode(() -> EntrypointCheck.check(dir, "pkg.web:app", CodeInterface.ASGI)).doesNotThrowAnyException();
        assertThatCode(() -> EntrypointCheck.check(dir, "app", CodeInterface.ASGI)).doesNotThrowAnyException();
        assertThatThrownBy(() -> EntrypointCheck.check(dir, "server:app", null))
                .isInstanceOf(PackagingException.class).hasMessageContaining("server.py");
        assertThatThrownBy(() -> EntrypointCheck.check(dir, "main:", null))
                .isInstanceOf(PackagingException.class).hasMessageContaining("module:attribute");
    }

    @Test
    void anExecutableMustBeAnExecutableFileInsideTheDirectory() throws Exception {
        Path run = Files.writeString(dir.resolve("run.sh"), "#!/bin/sh\n");
        assertThatThrownBy(() -> EntrypointCheck.check(dir, "run.sh", CodeInterface.BINARY))
                .isInstanceOf(PackagingException.class).hasMessageContaining("chmod +x");
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThatCode(() -> EntrypointCheck.check(dir, "run.sh", null)).doesNotThrowAnyException();
        assertThatThrownBy(() -> EntrypointCheck.check(dir, "../run.sh", null)).isInstanceOf(PackagingException.class);
        // the forgotten ':app' of an ASGI app is caught here, not at the VM's configure
        Files.writeString(dir.resolve("main.py"), "app = None\n");
        assertThatThrownBy(() -> EntrypointCheck.check(dir, "main", null))
                .isInstanceOf(PackagingException.class).hasMessageContaining("main:app");
    }
}
