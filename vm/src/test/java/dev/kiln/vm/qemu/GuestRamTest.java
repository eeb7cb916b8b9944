package dev.kiln.vm.qemu;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GuestRamTest {

    @Test
    void everyKindIsTheSameNamedBackendSoThatRamBlocksMatch() {
        assertThat(GuestRam.anonymous().objectArguments(256)).containsExactly("-object", "memory-backend-ram,id=kiln-ram,size=256M");
        assertThat(GuestRam.sharedFile(Path.of("/s/ram")).objectArguments(256)).containsExactly("-object",
                "memory-backend-file,id=kiln-ram,size=256M,mem-path=/s/ram,share=on");
        assertThat(GuestRam.copyOnWrite(Path.of("/s/a,b/ram")).objectArguments(512)).containsExactly("-object",
                "memory-backend-file,id=kiln-ram,size=512M,mem-path=/s/a,,b/ram,share=off");
    }

    @Test
    void aFileBackendNeedsAFileAndAnonymousMemoryHasNone() {
        assertThatThrownBy(() -> new GuestRam(GuestRam.Kind.COPY_ON_WRITE, null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new GuestRam(GuestRam.Kind.ANONYMOUS, Path.of("/x"))).isInstanceOf(IllegalArgumentException.class);
    }
}
