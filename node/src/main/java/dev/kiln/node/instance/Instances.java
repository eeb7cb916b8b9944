package dev.kiln.node.instance;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.control.MachineInfo;
import dev.kiln.node.control.MachineKind;
import dev.kiln.node.control.Machines;
import dev.kiln.node.error.ErrorCode;
import dev.kiln.node.error.NodeException;
import dev.kiln.node.guestapi.GuestApis;
import dev.kiln.node.volume.PersistentVolumes;
import dev.kiln.node.volume.VolumeException;
import dev.kiln.vm.instance.InstanceLauncher;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * The instances this node keeps (docs/instances.md, "On a node"). Each lives in
 * {@code <home>/instances/<hash>/} with its own disk, seed and record, and its QEMU outlives the
 * node: {@link #open} re-adopts every allocated instance whose QEMU still runs and starts the
 * others again; {@link #close} leaves them running. Each instance changes on its own queue
 * ({@link InstanceMachine}); nothing here holds a lock while a VM starts or stops.
 */
public final class Instances implements Machines, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Instances.class.getName());

    private final Path dir;
    private final InstanceResolver resolver;
    private final InstanceLauncher launcher;
    private final Path kernel;
    private final PersistentVolumes persistent;
    private final GuestApis apis;
    private final InstanceMemory memory;
    private final ConcurrentMap<ItemHash, InstanceMachine> machines = new ConcurrentHashMap<>();
    private final Thread watcher;
    private volatile boolean closed;

    private Instances(Path dir, InstanceResolver resolver, InstanceLauncher launcher, Path kernel,
                      PersistentVolumes persistent, GuestApis apis, InstanceMemory memory) {
        this.dir = dir;
        this.apis = apis;
        this.memory = memory;
        this.resolver = resolver;
        this.launcher = launcher;
        this.kernel = kernel;
        this.persistent = persistent;
        this.watcher = Thread.ofVirtual().name("instance-watcher").unstarted(this::watch);
    }

    /**
     * The instances kept under {@code dir}: the allocated ones claim their persistent volumes at
     * once and are re-adopted (or started again if their QEMU is gone) in the background.
     *
     * @param persistent the node's persistent volumes (the same claims as its programs'), or null
     *                   to refuse instances that declare them
     */
    public static Instances open(Path dir, InstanceResolver resolver, InstanceLauncher launcher, Path kernel,
                                 PersistentVolumes persistent, GuestApis apis, InstanceMemory memory) throws IOException {
        Files.createDirectories(dir);
        Instances instances = new Instances(dir, resolver, launcher, kernel, persistent, apis, memory);
        try (var list = Files.list(dir)) {
            for (Path d : list.filter(Files::isDirectory).toList()) {
                Optional<InstanceState> s;
                try {
                    s = InstanceState.read(d);
                } catch (IOException | RuntimeException unreadable) {
                    LOG.log(System.Logger.Level.WARNING, "instance record in " + d + " cannot be read: " + unreadable.getMessage());
                    continue;
                }
                if (s.isPresent() && s.get().allocated()) instances.resume(s.get(), d);
            }
        }
        instances.watcher.start();
        return instances;
    }

    private void resume(InstanceState s, Path d) {
        InstanceMachine m = new InstanceMachine(s.message(), d, launcher, kernel, persistent, apis, memory, s);
        machines.put(s.message(), m);
        m.claimRecorded();
        Thread.ofVirtual().name("instance-resume").start(() -> {
            try {
                m.allocate(resolver.resolve(s.message()));
            } catch (NodeException e) {
                LOG.log(System.Logger.Level.WARNING, "allocated instance " + s.message() + " cannot be resumed: " + e.getMessage());
                m.failed(e.getMessage());
            } catch (RejectedExecutionException closed) {
                // the node closed before this instance was resumed: the next node will
            }
        });
    }

    @Override
    public MachineKind kind() {
        return MachineKind.INSTANCE;
    }

    @Override
    public List<MachineInfo> list() {
        List<MachineInfo> out = new ArrayList<>();
        for (InstanceMachine m : machines.values()) {
            if (!m.allocated() && !m.state().equals("starting")) continue;
            out.add(new MachineInfo(m.hash(), MachineKind.INSTANCE, m.state(), m.since(), m.sshPort(), m.detail()));
        }
        out.sort(Comparator.comparing(i -> i.message().value()));
        return out;
    }

    @Override
    public void allocate(ItemHash message) throws NodeException {
        ResolvedInstance r = resolver.resolve(message);
        try {
            // Built now so that a bad host name, key or variable is the caller's 400, not a failed boot.
            InstancePlan.seed(r);
            InstancePlan.spec(r, kernel, dir, 22, 1, List.of());
        } catch (IllegalArgumentException e) {
            throw new NodeException(ErrorCode.INVALID_PROGRAM, "instance " + message + " cannot be configured: "
                    + e.getMessage(), List.of(new NodeException.Detail("content", e.getMessage())), e);
        }
        checkVolumes(r);
        Path d = dir.resolve(message.value());
        InstanceMachine m = machines.computeIfAbsent(message, h -> {
            InstanceState s;
            try {
                s = InstanceState.read(d).orElse(new InstanceState(h, false, 0, 0, null));
            } catch (IOException | RuntimeException unreadable) {
                s = new InstanceState(h, false, 0, 0, null);
            }
            return new InstanceMachine(h, d, launcher, kernel, persistent, apis, memory, s);
        });
        try {
            Files.createDirectories(d);
            m.allocate(r);
        } catch (RejectedExecutionException erasing) {
            throw new NodeException(ErrorCode.BAD_REQUEST, "instance " + message + " is being erased; allocate it again"
                    + " once it is gone from the listing");
        } catch (IOException e) {
            throw new NodeException(ErrorCode.INTERNAL, "instance " + message + ": its directory cannot be made", e);
        }
    }

    @Override
    public void stop(ItemHash message) throws NodeException {
        allocated(message).stop();
    }

    @Override
    public void reboot(ItemHash message) throws NodeException {
        allocated(message).reboot();
    }

    @Override
    public void erase(ItemHash message) throws NodeException {
        InstanceMachine m = machines.get(message);
        Path d = dir.resolve(message.value());
        if (m == null) {
            if (!Files.isDirectory(d)) throw notFound(message);
            InstanceState s;
            try {
                s = InstanceState.read(d).orElse(new InstanceState(message, false, 0, 0, null));
            } catch (IOException e) {
                s = new InstanceState(message, false, 0, 0, null);
            }
            m = new InstanceMachine(message, d, launcher, kernel, persistent, apis, memory, s);
            try {
                m.known(resolver.resolve(message)); // its persistent volumes, if it never booted under a record that names them
            } catch (NodeException unreadable) {
                // the record's volumes are all erase can delete
            }
        }
        InstanceMachine erased = m;
        try {
            erased.erase(() -> machines.remove(message, erased));
        } catch (RejectedExecutionException already) {
            // an erase is under way
        }
    }

    @Override
    public String logs(ItemHash message, int maxBytes) throws NodeException {
        Path d = dir.resolve(message.value());
        if (!Files.isDirectory(d)) throw notFound(message);
        Path console = d.resolve(InstancePlan.vmName(message) + ".console.log");
        if (!Files.exists(console)) return "";
        try (RandomAccessFile f = new RandomAccessFile(console.toFile(), "r")) {
            long from = Math.max(0, f.length() - Math.max(0, maxBytes));
            byte[] b = new byte[(int) (f.length() - from)];
            f.seek(from);
            f.readFully(b);
            return new String(b, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new NodeException(ErrorCode.INTERNAL, "instance " + message + ": its console cannot be read", e);
        }
    }

    /** The running QEMU's pid of an allocated instance (tests, listings). */
    public Optional<Long> pid(ItemHash message) {
        InstanceMachine m = machines.get(message);
        return m == null ? Optional.empty() : m.vm().map(v -> v.pid());
    }

    /** The directory of an instance (its disk is {@code disk.qcow2} there). */
    public Path dir(ItemHash message) {
        return dir.resolve(message.value());
    }

    /** Stops watching; every instance's QEMU keeps running for the next node to re-adopt. */
    @Override
    public void close() {
        closed = true;
        watcher.interrupt();
        machines.values().forEach(InstanceMachine::detach);
    }

    /** Persistent volumes need the node's store of them, and an owner address that can name a directory. */
    private void checkVolumes(ResolvedInstance r) throws NodeException {
        for (int i = 0; i < r.volumes().size(); i++) {
            if (!(r.volumes().get(i) instanceof ResolvedInstance.Persistent p)) continue;
            String field = "content.volumes[" + i + "]";
            if (persistent == null) {
                throw new NodeException(ErrorCode.UNSUPPORTED, "instance " + r.message() + " declares the persistent volume '"
                        + p.name() + "'; this node was started without a place to keep them",
                        List.of(new NodeException.Detail(field, "no persistent volumes on this node")), null);
            }
            try {
                persistent.image(p.owner(), p.name());
            } catch (VolumeException e) {
                throw new NodeException(ErrorCode.INVALID_PROGRAM, "instance " + r.message() + ": " + e.getMessage(),
                        List.of(new NodeException.Detail("content.address", e.getMessage())), e);
            }
        }
    }

    private InstanceMachine allocated(ItemHash message) throws NodeException {
        InstanceMachine m = machines.get(message);
        if (m == null || !m.allocated()) throw notFound(message);
        return m;
    }

    private static NodeException notFound(ItemHash message) {
        return new NodeException(ErrorCode.NOT_FOUND, "instance " + message + " is not allocated on this node");
    }

    private void watch() {
        while (!closed) {
            try {
                Thread.sleep(2000);
            } catch (InterruptedException e) {
                return;
            }
            machines.values().forEach(InstanceMachine::checkAlive);
        }
    }
}
