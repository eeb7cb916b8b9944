package dev.kiln.vm.qemu;

import dev.kiln.vm.Accelerator;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmNic;
import dev.kiln.vm.VmSpec;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The QEMU command that boots one {@link VmSpec}: exactly what {@link QemuLauncher} runs (minus
 * the {@code setpriv} wrapper that ties QEMU's life to the node's). Public so that a benchmark can
 * boot the same VM by hand, without the node:
 *
 * <pre>{@code
 * VmFiles files = VmFiles.in(workDir);
 * QemuCommandLine cmd = QemuCommandLine.of(spec, Accelerator.TCG, HostTsc.detect(), files);
 * new ProcessBuilder(cmd.command()).directory(workDir.toFile()).start();
 * GuestConnection.connect(files.guestSocket(), options);   // the agent's hello
 * }</pre>
 *
 * Why each option is there: docs/vm.md, "The command line".
 *
 * @param command           the full argv, QEMU's binary first
 * @param kernelCommandLine what {@code -append} gives the guest kernel
 */
public record QemuCommandLine(List<String> command, String kernelCommandLine) {

    public static final String DEFAULT_BINARY = "qemu-system-x86_64";
    /** The virtio-serial port's name (with udev the guest would see {@code /dev/virtio-ports/kiln}). */
    public static final String GUEST_PORT = "kiln";
    /**
     * The port's device node in the guest. {@code /dev/virtio-ports/kiln} is a udev symlink, and a
     * runtime has no udev: the node is {@code vport<virtio device index>p<port>}, and the command
     * line makes the controller the first virtio device and the port its first (port 0 is reserved
     * for a console), so it is always {@code /dev/vport0p1}. Given to init0 as {@code kiln.channel=}.
     */
    public static final String GUEST_DEVICE = "/dev/vport0p1";
    /**
     * Extra drives a microVM takes: QEMU 7.2's microvm has 24 virtio-mmio transports; the guest
     * channel and the root use two, two are kept for a network card and a vsock device.
     */
    public static final int MAX_EXTRA_DRIVES = 20;

    private static final Pattern ROOTFS_TYPE = Pattern.compile("[a-z0-9]{1,16}");
    private static final Pattern KERNEL_WORD = Pattern.compile("[\\x21-\\x7e]{1,512}");
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Set<String> RESERVED_DRIVE_IDS = Set.of("root");

    public QemuCommandLine {
        command = List.copyOf(command);
        Objects.requireNonNull(kernelCommandLine, "kernelCommandLine");
    }

    public static QemuCommandLine of(VmSpec spec, Accelerator accelerator, HostTsc tsc, VmFiles files) {
        return of(DEFAULT_BINARY, spec, accelerator, tsc, files);
    }

    /**
     * @param tsc the host's TSC frequency; required under TCG (see {@link HostTsc}), ignored under KVM
     * @throws IllegalArgumentException if the spec cannot be expressed (bad kernel argument, too
     *                                  many drives, a drive id used twice)
     */
    public static QemuCommandLine of(String qemuBinary, VmSpec spec, Accelerator accelerator, HostTsc tsc, VmFiles files) {
        Objects.requireNonNull(qemuBinary, "qemuBinary");
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(accelerator, "accelerator");
        Objects.requireNonNull(files, "files");
        if (accelerator == Accelerator.TCG && tsc == null) {
            throw new IllegalArgumentException("a TCG guest needs the host's TSC frequency (HostTsc.detect())");
        }
        checkDrives(spec.drives());
        String append = kernelCommandLine(spec, accelerator, tsc);

        List<String> a = new ArrayList<>();
        a.add(qemuBinary);
        a.addAll(List.of("-name", nameOf(spec)));
        switch (accelerator) {
            case KVM -> a.addAll(List.of("-accel", "kvm", "-cpu", "host"));
            case TCG -> a.addAll(List.of("-accel", "tcg", "-cpu", "max"));
        }
        a.addAll(List.of("-machine", "microvm",
                "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
                "-m", Integer.toString(spec.memoryMiB()),
                "-smp", Integer.toString(spec.vcpus()),
                "-kernel", spec.kernel().toAbsolutePath().toString(),
                "-append", append));
        // The serial console goes to a file; the kernel and init0 write there (console=ttyS0).
        a.addAll(List.of("-chardev", "file,id=console,path=" + escape(files.consoleLog().toString()),
                "-serial", "chardev:console"));
        // The guest channel's controller first, so that it is always virtio0 and its port
        // /dev/vport0p1 (see GUEST_DEVICE), whatever the number of drives.
        a.addAll(List.of("-device", "virtio-serial-device",
                "-chardev", "socket,id=" + GUEST_PORT + ",path=" + escape(files.guestSocket().toString()) + ",server=on,wait=off",
                "-device", "virtserialport,chardev=" + GUEST_PORT + ",name=" + GUEST_PORT));
        // Then the root: the guest names virtio-blk disks in the order their devices are created.
        a.addAll(drive("root", spec.rootfs().toAbsolutePath().toString(), true));
        for (Drive d : spec.drives()) a.addAll(drive(d.id(), d.file().toAbsolutePath().toString(), d.readOnly()));
        // The NIC after the drives: virtio-mmio numbers devices in creation order, and the guest
        // channel and disks keep their names whether or not a VM has a network. Without one,
        // -nodefaults means no NIC at all.
        if (spec.nic() != null) a.addAll(nic(spec.nic()));
        a.addAll(List.of("-chardev", "socket,id=qmp,path=" + escape(files.qmpSocket().toString()) + ",server=on,wait=off",
                "-mon", "chardev=qmp,mode=control"));
        return new QemuCommandLine(a, append);
    }

    /**
     * The same command with the serial console sent to a Unix socket that the caller listens on
     * (QEMU connects at start-up, so the caller must listen first) instead of QEMU's unbounded
     * file: the driver reads it and keeps a bounded log ({@code ConsoleCapture}). By-hand boots
     * keep the file.
     */
    public QemuCommandLine withConsoleSocket(java.nio.file.Path socket) {
        List<String> a = new ArrayList<>(command);
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).startsWith("file,id=console,")) a.set(i, "socket,id=console,path=" + escape(socket.toString()));
        }
        return new QemuCommandLine(a, kernelCommandLine);
    }

    /**
     * For a detached VM: the console socket is reconnected (every second) when its driver goes
     * away, so that the next node's capture gets the console again.
     */
    public QemuCommandLine withConsoleReconnect() {
        List<String> a = new ArrayList<>(command);
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i).startsWith("socket,id=console,")) a.set(i, a.get(i) + ",reconnect=1");
        }
        return new QemuCommandLine(a, kernelCommandLine);
    }

    /**
     * Kiln's words (DESIGN.md), then the spec's own: a later word wins in the kernel (e.g. a test's
     * {@code init=}), so the spec can override.
     */
    static String kernelCommandLine(VmSpec spec, Accelerator accelerator, HostTsc tsc) {
        if (!ROOTFS_TYPE.matcher(spec.rootfsType()).matches()) {
            throw new IllegalArgumentException("root filesystem type '" + spec.rootfsType() + "' is not a filesystem name");
        }
        List<String> words = new ArrayList<>(List.of("console=ttyS0", "quiet", "root=/dev/vda", "ro",
                "rootfstype=" + spec.rootfsType(), "init=/sbin/init", "panic=-1", "kiln.channel=" + GUEST_DEVICE));
        if (accelerator == Accelerator.TCG) words.add(tsc.kernelArguments());
        words.add("random.trust_cpu=on");
        for (String w : spec.kernelArgs()) {
            if (!KERNEL_WORD.matcher(w).matches()) {
                throw new IllegalArgumentException("kernel argument '" + w + "' must be one word of printable ASCII"
                        + " (no spaces or quotes)");
            }
            words.add(w);
        }
        return String.join(" ", words);
    }

    private static List<String> drive(String id, String file, boolean readOnly) {
        return List.of("-drive", "id=" + id + ",if=none,format=raw,readonly=" + (readOnly ? "on" : "off") + ",file=" + escape(file),
                "-device", "virtio-blk-device,drive=" + id);
    }

    /** script=no: QEMU must not run ifup scripts; the node made and configured the TAP already. */
    private static List<String> nic(VmNic nic) {
        return List.of("-netdev", "tap,id=net0,ifname=" + nic.tapName() + ",script=no,downscript=no",
                "-device", "virtio-net-device,netdev=net0,mac=" + nic.mac());
    }

    private static void checkDrives(List<Drive> drives) {
        if (drives.size() > MAX_EXTRA_DRIVES) {
            throw new IllegalArgumentException("a microVM takes at most " + MAX_EXTRA_DRIVES + " drives besides the root, got "
                    + drives.size());
        }
        Set<String> seen = new HashSet<>(RESERVED_DRIVE_IDS);
        for (Drive d : drives) {
            if (!seen.add(d.id())) {
                throw new IllegalArgumentException(RESERVED_DRIVE_IDS.contains(d.id())
                        ? "drive id 'root' is reserved for the runtime" : "drive id '" + d.id() + "' is used twice");
            }
        }
    }

    /** QEMU's name for the guest (shown by QMP's query-name and in its error messages). */
    private static String nameOf(VmSpec spec) {
        String name = spec.name().replaceAll("[^A-Za-z0-9._-]", "_");
        if (name.length() > 64) name = name.substring(0, 64);
        return SAFE_NAME.matcher(name).matches() ? "kiln-" + name : "kiln-vm";
    }

    /** In QEMU's option syntax a comma separates options; a literal comma is written twice. */
    static String escape(String value) {
        return value.replace(",", ",,");
    }

    /**
     * The same VM with its RAM in a file (snapshots, see {@link GuestRam}): the machine takes the
     * memory backend, everything else stays as it is, so the device shape matches a plain boot's.
     */
    QemuCommandLine withGuestRam(GuestRam ram) {
        List<String> a = new ArrayList<>(command);
        int machine = a.indexOf("-machine");
        int memory = a.indexOf("-m");
        if (machine < 0 || memory < 0) throw new IllegalStateException("no -machine or -m in " + this);
        a.set(machine + 1, a.get(machine + 1) + ",memory-backend=" + GuestRam.BACKEND_ID);
        a.addAll(machine, ram.objectArguments(Integer.parseInt(a.get(memory + 1))));
        return new QemuCommandLine(a, kernelCommandLine);
    }

    /** QEMU starts paused, waiting for {@code migrate-incoming} (a restore, see {@link SnapshotIncoming}). */
    QemuCommandLine withIncomingDeferred() {
        List<String> a = new ArrayList<>(command);
        a.addAll(List.of("-incoming", "defer"));
        return new QemuCommandLine(a, kernelCommandLine);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (String arg : command) {
            if (!s.isEmpty()) s.append(' ');
            s.append(arg.matches("[A-Za-z0-9._,=:/@%+-]+") ? arg : "'" + arg.replace("'", "'\\''") + "'");
        }
        return s.toString();
    }
}
