package dev.kiln.vm.qemu;

import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The command lines of snapshottable and restored VMs, and the shape a snapshot records. */
class CommandShapeTest {

    static VmSpec spec(String name, Path work, Path code) {
        return new VmSpec(name, Path.of("/k/vmlinux"), Path.of("/r/runtime.squashfs"), null,
                List.of(new Drive("code", code, true)), 256, 1, List.of(), work, Duration.ofSeconds(30));
    }

    @Test
    void twoVmsOfOneProgramHaveOneShapeWhereverTheirFilesAre() {
        VmSpec a = spec("prog-a", Path.of("/srv/kiln/vms/a"), Path.of("/store/code-1.sqsh"));
        VmSpec b = spec("prog-b", Path.of("/tmp/elsewhere/b"), Path.of("/other/store/code-1.sqsh"));
        VmFiles filesA = VmFiles.in(a.workDir());
        VmFiles filesB = VmFiles.in(b.workDir());
        // As the launcher runs them: the console goes to the driver's socket.
        List<String> shapeA = CommandShape.of(QemuCommandLineTest.tcg(a).withConsoleSocket(filesA.consoleSocket()), a, filesA);
        List<String> shapeB = CommandShape.of(QemuCommandLineTest.tcg(b).withConsoleSocket(filesB.consoleSocket()), b, filesB);
        assertThat(shapeA).isEqualTo(shapeB);
        assertThat(String.join(" ", shapeA)).doesNotContain("/srv", "/tmp", "/store", "/k/", "/r/")
                .contains("file={drive:code}", "path={guest-socket}", "path={console-socket}");
    }

    @Test
    void copiesOnOtherTapsWithOtherMacsHaveOneShapeButANicIsADevice() {
        VmSpec plain = spec("p", Path.of("/srv/kiln/vms/a"), Path.of("/store/code.sqsh"));
        VmSpec onTap3 = plain.withNic(new dev.kiln.vm.VmNic("kiln-3", "02:4b:4c:00:00:03"));
        VmSpec onTap30 = spec("q", Path.of("/srv/kiln/vms/b"), Path.of("/store/code.sqsh"))
                .withNic(new dev.kiln.vm.VmNic("kiln-30", "02:4b:4c:00:00:1e"));
        List<String> a = CommandShape.of(QemuCommandLineTest.tcg(onTap3), onTap3, VmFiles.in(onTap3.workDir()));
        List<String> b = CommandShape.of(QemuCommandLineTest.tcg(onTap30), onTap30, VmFiles.in(onTap30.workDir()));
        assertThat(a).isEqualTo(b);
        assertThat(String.join(" ", a)).contains("ifname={tap},", "mac={mac}").doesNotContain("kiln-3", "02:4b:4c");
        assertThat(CommandShape.of(QemuCommandLineTest.tcg(plain), plain, VmFiles.in(plain.workDir())))
                .as("a VM without a NIC is another shape").isNotEqualTo(a);
    }

    @Test
    void anotherDeviceOrOptionIsAnotherShape() {
        VmSpec a = spec("p", Path.of("/srv/kiln/vms/a"), Path.of("/store/code.sqsh"));
        VmSpec writable = new VmSpec("p", a.kernel(), a.rootfs(), null, List.of(new Drive("code", Path.of("/store/code.sqsh"), false)),
                256, 1, List.of(), a.workDir(), null);
        VmSpec moreArgs = new VmSpec("p", a.kernel(), a.rootfs(), null, a.drives(), 256, 1, List.of("loglevel=7"), a.workDir(), null);
        List<String> base = CommandShape.of(QemuCommandLineTest.tcg(a), a, VmFiles.in(a.workDir()));
        assertThat(CommandShape.of(QemuCommandLineTest.tcg(writable), writable, VmFiles.in(a.workDir()))).isNotEqualTo(base);
        assertThat(CommandShape.of(QemuCommandLineTest.tcg(moreArgs), moreArgs, VmFiles.in(a.workDir()))).isNotEqualTo(base);
    }

    @Test
    void guestRamAndDeferredIncomingChangeOnlyWhatTheyMust() {
        VmSpec a = spec("p", Path.of("/srv/kiln/vms/a"), Path.of("/store/code.sqsh"));
        QemuCommandLine plain = QemuCommandLineTest.tcg(a);
        QemuCommandLine restored = plain.withGuestRam(GuestRam.copyOnWrite(Path.of("/snap/ram"))).withIncomingDeferred();
        List<String> argv = restored.command();
        assertThat(QemuCommandLineTest.valueOf(argv, "-machine")).isEqualTo("microvm,memory-backend=kiln-ram");
        assertThat(QemuCommandLineTest.valueOf(argv, "-object"))
                .isEqualTo("memory-backend-file,id=kiln-ram,size=256M,mem-path=/snap/ram,share=off");
        assertThat(argv.subList(argv.size() - 2, argv.size())).containsExactly("-incoming", "defer");
        // Everything else is the plain boot's, in the same order.
        List<String> rest = new java.util.ArrayList<>(argv);
        rest.removeAll(List.of("-object", "memory-backend-file,id=kiln-ram,size=256M,mem-path=/snap/ram,share=off",
                "-incoming", "defer"));
        rest.set(rest.indexOf("microvm,memory-backend=kiln-ram"), "microvm");
        assertThat(rest).isEqualTo(plain.command());
        assertThat(restored.kernelCommandLine()).isEqualTo(plain.kernelCommandLine());
    }
}
