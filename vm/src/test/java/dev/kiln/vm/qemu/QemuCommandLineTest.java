package dev.kiln.vm.qemu;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmNic;
import dev.kiln.vm.VmSpec;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class QemuCommandLineTest {
    static final HostTsc TSC = new HostTsc(2596126, "test");
    static final Path WORK = Path.of("/srv/kiln/vms/abc");

    static VmSpec spec(List<Drive> drives, List<String> kernelArgs) {
        return new VmSpec("abc123", Path.of("/k/vmlinux"), Path.of("/r/runtime.squashfs"), null, drives, 256, 1,
                kernelArgs, WORK, Duration.ofSeconds(30));
    }

    static QemuCommandLine tcg(VmSpec spec) {
        return QemuCommandLine.of(spec, Accelerator.TCG, TSC, VmFiles.in(spec.workDir()));
    }

    /** The value following {@code option}, for options that appear once. */
    static String valueOf(List<String> argv, String option) {
        assertThat(Collections.frequency(argv, option)).as(option + " appears once").isEqualTo(1);
        return argv.get(argv.indexOf(option) + 1);
    }

    static List<String> valuesOf(List<String> argv, String option) {
        List<String> values = new ArrayList<>();
        for (int i = 0; i < argv.size() - 1; i++) if (argv.get(i).equals(option)) values.add(argv.get(i + 1));
        return values;
    }

    @Test
    void microvmShapeUnderTcg() {
        List<String> argv = tcg(spec(List.of(), List.of())).command();
        assertThat(argv.getFirst()).isEqualTo("qemu-system-x86_64");
        assertThat(argv).containsSubsequence("-accel", "tcg", "-cpu", "max");
        assertThat(argv).containsSubsequence("-machine", "microvm");
        assertThat(argv).contains("-nodefaults", "-no-user-config", "-no-reboot");
        assertThat(valueOf(argv, "-display")).isEqualTo("none");
        assertThat(valueOf(argv, "-m")).isEqualTo("256");
        assertThat(valueOf(argv, "-smp")).isEqualTo("1");
        assertThat(valueOf(argv, "-kernel")).isEqualTo("/k/vmlinux");
        assertThat(valueOf(argv, "-name")).isEqualTo("kiln-abc123");
    }

    @Test
    void kernelCommandLineAsDesignedWithTheHostTscUnderTcg() {
        QemuCommandLine cmd = tcg(spec(List.of(), List.of()));
        assertThat(cmd.kernelCommandLine()).isEqualTo("console=ttyS0 quiet root=/dev/vda ro rootfstype=squashfs"
                + " init=/sbin/init panic=-1 kiln.channel=/dev/vport0p1 tsc_early_khz=2596126 tsc=reliable random.trust_cpu=on");
        assertThat(valueOf(cmd.command(), "-append")).isEqualTo(cmd.kernelCommandLine());
    }

    @Test
    void kvmUsesTheHostCpuAndNoTscHints() {
        VmSpec s = spec(List.of(), List.of());
        QemuCommandLine cmd = QemuCommandLine.of(s, Accelerator.KVM, null, VmFiles.in(s.workDir()));
        assertThat(cmd.command()).containsSubsequence("-accel", "kvm", "-cpu", "host");
        assertThat(cmd.kernelCommandLine()).doesNotContain("tsc_early_khz").doesNotContain("tsc=reliable")
                .contains("random.trust_cpu=on");
    }

    @Test
    void tcgWithoutTheTscIsRefused() {
        VmSpec s = spec(List.of(), List.of());
        assertThatThrownBy(() -> QemuCommandLine.of(s, Accelerator.TCG, null, VmFiles.in(s.workDir())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TSC");
    }

    @Test
    void rootIsAReadOnlyRawVirtioDriveAndExtraDrivesFollowInOrder() {
        List<String> argv = tcg(spec(List.of(new Drive("code", Path.of("/c/code.squashfs"), true),
                new Drive("data", Path.of("/d/volume.ext4"), false)), List.of())).command();
        assertThat(valuesOf(argv, "-drive")).containsExactly(
                "id=root,if=none,format=raw,readonly=on,file=/r/runtime.squashfs",
                "id=code,if=none,format=raw,readonly=on,file=/c/code.squashfs",
                "id=data,if=none,format=raw,readonly=off,file=/d/volume.ext4");
        // The guest names disks vda, vdb, … in the order their devices appear.
        assertThat(valuesOf(argv, "-device")).containsSubsequence(
                "virtio-blk-device,drive=root", "virtio-blk-device,drive=code", "virtio-blk-device,drive=data");
    }

    @Test
    void aVmWithoutNicHasNoNetworkDevice() {
        List<String> argv = tcg(spec(List.of(), List.of())).command();
        assertThat(argv).contains("-nodefaults").doesNotContain("-netdev", "-nic", "-net");
        assertThat(valuesOf(argv, "-device")).noneMatch(d -> d.startsWith("virtio-net"));
    }

    @Test
    void aNicOpensTheNodesTapWithoutScriptsAfterTheDrives() {
        VmSpec spec = spec(List.of(new Drive("code", Path.of("/c/code.squashfs"), true)), List.of())
                .withNic(new VmNic("kiln-7", "02:4b:4c:00:00:07"));
        List<String> argv = tcg(spec).command();
        assertThat(valueOf(argv, "-netdev")).isEqualTo("tap,id=net0,ifname=kiln-7,script=no,downscript=no");
        assertThat(valuesOf(argv, "-device")).containsSubsequence("virtio-serial-device",
                "virtio-blk-device,drive=root", "virtio-blk-device,drive=code",
                "virtio-net-device,netdev=net0,mac=02:4b:4c:00:00:07");
    }

    @Test
    void aNicNameOrMacThatCouldBreakTheOptionSyntaxIsRefused() {
        assertThatThrownBy(() -> new VmNic("kiln-1,script=/x", "02:4b:4c:00:00:01"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("interface name");
        assertThatThrownBy(() -> new VmNic("kiln-1", "02:4b:4c:00:00:01,vhost=on"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("MAC");
    }

    @Test
    void guestChannelIsTheKilnVirtioSerialPortOnAUnixSocketInTheWorkDirectory() {
        List<String> argv = tcg(spec(List.of(new Drive("code", Path.of("/c/code.squashfs"), true)), List.of())).command();
        List<String> devices = valuesOf(argv, "-device");
        // The controller is the first virtio device, so its port is /dev/vport0p1 in the guest.
        assertThat(devices.getFirst()).isEqualTo("virtio-serial-device");
        assertThat(devices).contains("virtserialport,chardev=kiln,name=kiln");
        assertThat(valuesOf(argv, "-chardev")).contains(
                "socket,id=kiln,path=/srv/kiln/vms/abc/guest.sock,server=on,wait=off",
                "socket,id=qmp,path=/srv/kiln/vms/abc/qmp.sock,server=on,wait=off",
                "file,id=console,path=/srv/kiln/vms/abc/console.log");
        assertThat(valueOf(argv, "-serial")).isEqualTo("chardev:console");
        assertThat(valueOf(argv, "-mon")).isEqualTo("chardev=qmp,mode=control");
    }

    @Test
    void specKernelArgumentsComeLastSoTheyCanOverride() {
        QemuCommandLine cmd = tcg(spec(List.of(), List.of("kiln.runtime=63f0", "init=/bin/sh")));
        assertThat(cmd.kernelCommandLine()).endsWith("random.trust_cpu=on kiln.runtime=63f0 init=/bin/sh");
    }

    @Test
    void kernelArgumentsMustBeSingleWords() {
        assertThatThrownBy(() -> tcg(spec(List.of(), List.of("a b")))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one word");
        assertThatThrownBy(() -> tcg(spec(List.of(), List.of("")))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void commasInPathsAreEscapedForQemuOptionSyntax() {
        VmSpec s = new VmSpec("x", Path.of("/k/vmlinux"), Path.of("/r/a,b.squashfs"), "squashfs", List.of(), 128, 2,
                List.of(), Path.of("/w,1"), null);
        List<String> argv = tcg(s).command();
        assertThat(valuesOf(argv, "-drive").getFirst()).endsWith("file=/r/a,,b.squashfs");
        assertThat(valuesOf(argv, "-chardev")).contains("file,id=console,path=/w,,1/console.log");
        assertThat(valueOf(argv, "-smp")).isEqualTo("2");
    }

    @Test
    void driveIdsMustBeUniqueAndNotRoot() {
        assertThatThrownBy(() -> tcg(spec(List.of(new Drive("root", Path.of("/x"), true)), List.of())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reserved");
        assertThatThrownBy(() -> tcg(spec(List.of(new Drive("a", Path.of("/x"), true), new Drive("a", Path.of("/y"), true)),
                List.of()))).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("used twice");
    }

    @Test
    void tooManyDrivesAreRefused() {
        List<Drive> drives = new ArrayList<>();
        for (int i = 0; i <= QemuCommandLine.MAX_EXTRA_DRIVES; i++) drives.add(new Drive("d" + i, Path.of("/x" + i), true));
        assertThatThrownBy(() -> tcg(spec(drives, List.of()))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most " + QemuCommandLine.MAX_EXTRA_DRIVES);
    }

    @Test
    void ext4RootAndBadFilesystemNames() {
        VmSpec ext4 = new VmSpec("x", Path.of("/k"), Path.of("/r.ext4"), "ext4", null, 128, 1, null, WORK, null);
        assertThat(tcg(ext4).kernelCommandLine()).contains("rootfstype=ext4");
        VmSpec bad = new VmSpec("x", Path.of("/k"), Path.of("/r"), "squashfs quiet", null, 128, 1, null, WORK, null);
        assertThatThrownBy(() -> tcg(bad)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("filesystem");
    }

    @Test
    void socketsMoveOutOfAWorkDirectoryTooDeepForAUnixSocketPath() {
        char[] deep = new char[120];
        Arrays.fill(deep, 'd');
        VmFiles files = VmFiles.in(Path.of("/srv", new String(deep)));
        assertThat(files.socketsElsewhere()).isTrue();
        assertThat(files.guestSocket().toString().length()).isLessThanOrEqualTo(VmFiles.MAX_SOCKET_PATH);
        assertThat(files.consoleLog().getParent()).isEqualTo(files.workDir());
        assertThat(VmFiles.in(Path.of("/srv", new String(deep))).guestSocket()).as("stable").isEqualTo(files.guestSocket());
        assertThat(VmFiles.in(WORK).socketsElsewhere()).isFalse();
    }

    @Test
    void printableAsAShellCommand() {
        VmSpec s = spec(List.of(), List.of());
        assertThat(tcg(s).toString()).startsWith("qemu-system-x86_64 -name kiln-abc123 -accel tcg")
                .contains("-append 'console=ttyS0 quiet root=/dev/vda");
    }
}
