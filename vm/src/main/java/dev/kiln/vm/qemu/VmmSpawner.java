package dev.kiln.vm.qemu;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Starts VMM processes so that they cannot outlive the JVM that started them.
 *
 * <p>Each VMM is started as {@code setpriv --pdeathsig KILL -- qemu-system-x86_64 …}: setpriv asks
 * the kernel (PR_SET_PDEATHSIG) to SIGKILL the process when its parent dies, then execs QEMU, which
 * keeps the setting. The kernel's "parent" is the <em>thread</em> that forked the child, and the
 * signal fires when that thread exits, even if the process lives on. So every fork happens on one
 * platform thread that lives as long as the JVM: a virtual thread's carrier or a pool thread that
 * is retired would kill every VM it had started.
 *
 * <p>Without setpriv (not util-linux ≥ 2.33) the guard is missing, which the log says once; the
 * pid files of {@link VmmRegistry} and the launcher's shutdown hook remain.
 */
final class VmmSpawner {
    private static final System.Logger LOG = System.getLogger(VmmSpawner.class.getName());
    private static final VmmSpawner SHARED = new VmmSpawner(true);

    private record Job(ProcessBuilder builder, boolean detached, CompletableFuture<Process> result) {}

    private final LinkedBlockingQueue<Job> jobs = new LinkedBlockingQueue<>();
    private final boolean deathSignal;
    private volatile List<String> prefix;

    /** @param deathSignal false only in tests that need a VMM to survive its JVM (the sweep's test) */
    VmmSpawner(boolean deathSignal) {
        this.deathSignal = deathSignal;
        Thread.ofPlatform().daemon().name("kiln-vmm-spawner").start(this::run);
    }

    /** The one spawner of this JVM. */
    static VmmSpawner shared() {
        return SHARED;
    }

    /** True if VMMs started here die with this JVM (setpriv works). */
    boolean guardsAgainstOrphans() throws InterruptedException {
        return !prefix().isEmpty();
    }

    /**
     * Starts the builder's command on the spawner thread, wrapped in setpriv. Blocks only for the
     * fork itself (a few milliseconds).
     */
    Process start(ProcessBuilder builder) throws IOException, InterruptedException {
        return submit(new Job(builder, false, new CompletableFuture<>()));
    }

    /**
     * Starts a VMM that is meant to outlive this JVM (a persistent VM, docs/vm.md "Detached VMs"):
     * no parent-death signal, and {@code setsid} puts it in a session of its own, so neither the
     * node's death nor a signal to the node's process group or terminal reaches it.
     */
    Process startDetached(ProcessBuilder builder) throws IOException, InterruptedException {
        return submit(new Job(builder, true, new CompletableFuture<>()));
    }

    private Process submit(Job job) throws IOException, InterruptedException {
        ProcessBuilder builder = job.builder();
        jobs.put(job);
        try {
            return job.result().get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) throw io;
            throw new IOException("cannot start " + builder.command().getFirst() + ": " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            // The process may start anyway: make sure it does not stay behind.
            job.result().thenAccept(Process::destroyForcibly);
            throw e;
        }
    }

    private void run() {
        while (true) {
            Job job;
            try {
                job = jobs.take();
            } catch (InterruptedException e) {
                // Nobody interrupts this thread on purpose; it must never end (see the class comment).
                continue;
            }
            try {
                List<String> command = new ArrayList<>(job.detached() ? sessionPrefix() : prefix());
                command.addAll(job.builder().command());
                ProcessBuilder wrapped = new ProcessBuilder(command)
                        .directory(job.builder().directory())
                        .redirectInput(job.builder().redirectInput())
                        .redirectOutput(job.builder().redirectOutput())
                        .redirectError(job.builder().redirectError())
                        .redirectErrorStream(job.builder().redirectErrorStream());
                wrapped.environment().clear();
                wrapped.environment().putAll(job.builder().environment());
                job.result().complete(wrapped.start());
            } catch (Throwable t) {
                job.result().completeExceptionally(t);
            }
        }
    }

    private List<String> prefix() throws InterruptedException {
        List<String> p = prefix;
        if (p == null) {
            p = deathSignal ? detectSetpriv() : List.of();
            prefix = p;
        }
        return p;
    }

    /** {@code setsid} (util-linux) if installed; a child of the JVM is no group leader, so it execs without forking. */
    private static List<String> sessionPrefix() {
        Path setsid = onPath("setsid");
        return setsid == null ? List.of() : List.of(setsid.toString());
    }

    /** {@code setpriv --pdeathsig KILL --} if this host's setpriv can do it, else nothing. */
    private static List<String> detectSetpriv() throws InterruptedException {
        Path setpriv = onPath("setpriv");
        if (setpriv == null) {
            LOG.log(System.Logger.Level.WARNING, "setpriv (util-linux) is not installed: a VMM is not killed when the node"
                    + " dies abruptly; stale ones are swept at the next start. Install util-linux.");
            return List.of();
        }
        List<String> p = List.of(setpriv.toString(), "--pdeathsig", "KILL", "--");
        try {
            Process check = new ProcessBuilder(concat(p, "true")).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (check.waitFor(5, TimeUnit.SECONDS) && check.exitValue() == 0) return p;
            check.destroyForcibly();
        } catch (IOException e) {
            // reported below
        }
        LOG.log(System.Logger.Level.WARNING, setpriv + " cannot set a parent-death signal (util-linux older than 2.33?):"
                + " a VMM is not killed when the node dies abruptly; stale ones are swept at the next start.");
        return List.of();
    }

    private static List<String> concat(List<String> a, String b) {
        List<String> r = new ArrayList<>(a);
        r.add(b);
        return r;
    }

    static Path onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) path = "/usr/bin:/bin:/usr/sbin:/sbin";
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path candidate = Path.of(dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) return candidate;
        }
        return null;
    }
}
