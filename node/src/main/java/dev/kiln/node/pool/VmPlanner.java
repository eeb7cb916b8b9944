package dev.kiln.node.pool;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Resources;
import dev.kiln.guest.Attachment;
import dev.kiln.guest.GuestInit;
import dev.kiln.guest.ProgramConfig;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.guestapi.GuestApiAccess;
import dev.kiln.node.export.DataExports;
import dev.kiln.node.network.ProgramNetworks;
import dev.kiln.node.program.ProgramIdentity;
import dev.kiln.node.program.ResolvedProgram;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.volume.ScratchVolumes;
import dev.kiln.node.volume.VolumeException;
import dev.kiln.vm.Drive;
import dev.kiln.vm.VmSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Lays a resolved program out as a VM: the runtime as the root drive, squashfs code as the next
 * drive ({@code /dev/vdb}), then one drive per immutable volume, then the persistent volumes, then
 * one fresh writable ext4 image per ephemeral volume and one for {@code export.mount}; zip and
 * plain code and the data
 * archive travel inline over the guest channel. Guest RAM and vCPUs come from the message's
 * {@code resources}.
 */
public final class VmPlanner {
    /** Below this a Python runtime does not start; VmSpec refuses less than 64 anyway. */
    static final int MIN_MEMORY_MIB = 64;
    /** Executables listen here, as on aleph. */
    static final int EXECUTABLE_PORT = 8080;

    private final Path kernel;
    private final Duration bootTimeout;
    private final ProgramNetworks networks;
    private final PersistentVolumes persistent;
    private final DataExports exports;

    /**
     * A planner for a node without VM networking (a program that needs the internet is refused)
     * nor persistent volumes (refused too).
     */
    public VmPlanner(Path kernel, Duration bootTimeout) {
        this(kernel, bootTimeout, ProgramNetworks.disabled("the node was started without VM networking"), null);
    }

    /** @param persistent where persistent volumes are kept, or null to refuse them */
    public VmPlanner(Path kernel, Duration bootTimeout, ProgramNetworks networks, PersistentVolumes persistent) {
        this(kernel, bootTimeout, networks, persistent, null);
    }

    /** @param exports where {@code export} packs data directories to, or null to refuse it */
    public VmPlanner(Path kernel, Duration bootTimeout, ProgramNetworks networks, PersistentVolumes persistent,
                     DataExports exports) {
        this.kernel = kernel;
        this.bootTimeout = bootTimeout;
        this.networks = networks;
        this.persistent = persistent;
        this.exports = exports;
    }

    /** Where data directories are exported to, unless this planner refuses {@code export}. */
    public Optional<DataExports> dataExports() {
        return Optional.ofNullable(exports);
    }

    /** Where persistent volumes are kept, unless this planner refuses them. */
    public Optional<PersistentVolumes> persistentVolumes() {
        return Optional.ofNullable(persistent);
    }

    /** The VM has exited (or never ran): its scratch images go, its persistent volumes are free again. */
    void releaseVolumes(VmSpec spec, boolean clean) {
        ScratchVolumes.discard(spec);
        DataExports.discard(spec.drives());
        if (persistent != null) persistent.release(spec, clean);
    }

    /**
     * A VM that ran has exited: its volumes are released first (a new VM of the program may claim
     * its persistent ones at once), then its data directory is exported, if asked, and discarded.
     */
    void endVolumes(VmSpec spec, boolean clean, ItemHash program, String execution) {
        ScratchVolumes.discard(spec);
        if (persistent != null) persistent.release(spec, clean);
        if (exports != null) exports.pack(spec, program, execution);
        DataExports.discard(spec.drives());
    }

    public ProgramNetworks networks() {
        return networks;
    }

    /**
     * The plan with its network when the program asks for the internet (the TAP exists when this
     * returns; {@link ProgramNetworks#detach} undoes it when the execution ends), else unchanged.
     */
    VmPlan connected(VmPlan plan, ResolvedProgram program, String executionId) throws NodeException {
        var attached = networks.attach(program, executionId);
        if (attached.isEmpty()) return plan;
        ProgramConfig c = plan.config();
        ProgramConfig config = new ProgramConfig(c.itemHash(), c.programInterface(), c.code(), c.variables(), c.volumes(),
                c.data(), c.dataMount(), attached.get().guest(), c.hostname() != null ? c.hostname() : attached.get().hostname(),
                c.sshAuthorizedKeys(),
                c.port(), c.startupTimeout(), c.guestApiSocket());
        return new VmPlan(plan.spec().withNic(attached.get().nic()), config);
    }

    /** The VM's layout; its ephemeral volumes are made (empty) in {@code workDir} on the way. */
    public VmPlan plan(ResolvedProgram program, String name, Path workDir) throws NodeException {
        var content = program.content();
        List<Drive> drives = new ArrayList<>();
        String entrypoint = content.entrypoint();
        ProgramConfig.Code code = switch (content.encoding()) {
            case PLAIN -> new ProgramConfig.Code(ProgramConfig.Encoding.PLAIN, entrypoint,
                    Attachment.of(program.code().file()), null, null);
            case ZIP -> ProgramConfig.Code.zip(entrypoint, Attachment.of(program.code().file()));
            case SQUASHFS -> {
                drives.add(new Drive("code", program.code().file(), true));
                yield ProgramConfig.Code.squashfs(entrypoint, Drive.guestDevice(drives.size() - 1));
            }
        };
        ProgramConfig.Interface iface = content.codeInterface() == CodeInterface.ASGI
                ? ProgramConfig.Interface.ASGI : ProgramConfig.Interface.EXECUTABLE;
        ProgramConfig.Builder config = ProgramConfig.builder(iface, code)
                .itemHash(program.messageHash().value())
                .variables(ProgramIdentity.environment(program.messageHash(), content.variablesOrEmpty()))
                .port(EXECUTABLE_PORT);
        if (GuestApiAccess.of(content).any()) {
            config.guestApiSocket(ProgramConfig.DEFAULT_GUEST_API_SOCKET);
        }
        ProgramIdentity.hostname(program.messageHash()).ifPresent(config::hostname);
        for (ResolvedProgram.MountedVolume v : program.volumes()) {
            drives.add(new Drive("volume" + (drives.size()), v.item().file(), true));
            config.volume(new ProgramConfig.Volume(Drive.guestDevice(drives.size() - 1), v.mount(), true, null));
        }
        try {
            for (ResolvedProgram.Kept k : program.kept()) {
                if (persistent == null) {
                    throw new NodeException(ErrorCode.UNSUPPORTED, "program " + program.messageHash() + " declares the"
                            + " persistent volume '" + k.name() + "'; this node was started without a place to keep them");
                }
                drives.add(persistent.attach(k.owner(), k.name(), k.sizeMib(),
                        k.parent() == null ? null : k.parent().file(), name, drives.size()));
                config.volume(new ProgramConfig.Volume(Drive.guestDevice(drives.size() - 1), k.mount(), false, "ext4"));
            }
            for (ResolvedProgram.Scratch s : program.scratch()) {
                drives.add(ScratchVolumes.create(workDir, drives.size(), s.sizeMib()));
                config.volume(new ProgramConfig.Volume(Drive.guestDevice(drives.size() - 1), s.mount(), false, "ext4"));
            }
            if (content.export() != null) {
                if (exports == null) {
                    throw new NodeException(ErrorCode.UNSUPPORTED, "program " + program.messageHash() + " sets"
                            + " content.export; this node was started without a store to export data directories to");
                }
                // Mounted before the data archive is unpacked, so the archive lands on it when both share a mount.
                drives.add(DataExports.drive(workDir, drives.size()));
                config.volume(new ProgramConfig.Volume(Drive.guestDevice(drives.size() - 1), content.export().mount(),
                        false, "ext4"));
            }
        } catch (VolumeException | NodeException x) {
            ScratchVolumes.discard(drives);
            DataExports.discard(drives);
            if (persistent != null) persistent.release(drives, name, false);
            if (x instanceof NodeException n) throw n;
            ErrorCode error = x instanceof PersistentVolumes.InUseException ? ErrorCode.VOLUME_IN_USE : ErrorCode.INTERNAL;
            throw new NodeException(error, "program " + program.messageHash() + " cannot start: " + x.getMessage(), x);
        }
        if (program.data() != null) {
            config.data(Attachment.of(program.data().file())).dataMount(content.data().mount());
        }
        Resources r = program.resources();
        int memory = (int) Math.max(MIN_MEMORY_MIB, Math.min(Integer.MAX_VALUE, r.memory()));
        List<String> kernelArgs = List.of(GuestInit.RUNTIME_HASH_CMDLINE_KEY + "=" + program.runtime().resolved().value());
        // More vCPUs than the host has only adds contention (under TCG each one is a busy thread).
        int vcpus = Math.max(1, Math.min(r.vcpus(), Runtime.getRuntime().availableProcessors()));
        VmSpec spec = new VmSpec(name, kernel, program.runtime().file(), "squashfs", drives, memory, vcpus,
                kernelArgs, workDir, bootTimeout);
        return new VmPlan(spec, config.build());
    }

    /** What the VM costs the host's memory budget: guest RAM plus the VMM's own overhead. */
    static long memoryCost(ResolvedProgram program, long vmmOverheadMiB) {
        return Math.max(MIN_MEMORY_MIB, program.resources().memory()) + vmmOverheadMiB;
    }
}
