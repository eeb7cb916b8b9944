package dev.kiln.cli;

import dev.kiln.builder.runtime.BuiltRuntime;
import dev.kiln.builder.runtime.RuntimeBuildException;
import dev.kiln.builder.runtime.RuntimeBuilder;
import dev.kiln.builder.runtime.RuntimeSpec;
import dev.kiln.builder.runtime.RuntimeSpecException;
import dev.kiln.builder.runtime.RuntimeSpecs;
import dev.kiln.builder.step.BuildListener;
import dev.kiln.builder.step.BuildProgress;
import dev.kiln.builder.step.StepTiming;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "build", mixinStandardHelpOptions = true, description = {
        "Build a runtime image from a spec file or an official spec (docs/runtimes.md).",
        "The result is cached by spec: building the same spec again is instant. Needs root."})
final class RuntimeBuild implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Parameters(paramLabel = "SPEC", description = "A spec file (.yaml) or an official name: "
            + "debian-12-python, debian-11-python, debian-12-node, minimal.")
    String specArgument;

    @Option(names = "--quiet", description = "No progress bar.") boolean quiet;

    @Option(names = "--publish", description = "Then publish the image, as 'kiln runtime publish' does, and print its runtime.ref.")
    boolean publish;

    @Option(names = "--name", paramLabel = "NAME", description = "With --publish: the name to list it under (default: local/<spec name>).")
    String publishName;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (publishName != null && !publish) {
            err.println("kiln: --name names what --publish publishes: add --publish, or publish later with 'kiln runtime publish'");
            return Main.USAGE;
        }
        RuntimeSpec runtimeSpec;
        try {
            runtimeSpec = resolve(specArgument);
        } catch (RuntimeSpecException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USER_ERROR;
        }
        BuiltRuntime rt;
        try (StepBar bar = quiet ? null : new StepBar("runtime " + runtimeSpec.name())) {
            RuntimeBuilder builder = new RuntimeBuilder(kiln.home().root(), bar == null ? BuildListener.SILENT : bar);
            rt = Interruptible.run(() -> builder.build(runtimeSpec), err);
        } catch (RuntimeBuildException e) {
            err.println("kiln: " + e.report());
            return Main.USER_ERROR;
        } catch (InterruptedException e) {
            return Main.USER_ERROR;
        }
        out.println(rt.name() + ": " + (rt.fromCache() ? "cached image (built before, verified)" : "built")
                + ", " + rt.filesystem() + ", " + Bytes.human(rt.sizeBytes()));
        out.println("  image:    " + rt.image());
        out.println("  sha256:   " + rt.imageHash());
        out.println("  manifest: " + rt.manifest());
        printSteps(out, rt.steps(), rt.fromCache() ? "the build that made it" : "steps");
        if (!publish) {
            out.println("Publish it with: kiln runtime publish " + rt.image() + " (or build with --publish)");
            return Main.OK;
        }
        RuntimePublish.publish(kiln, out, rt.image(), publishName, null);
        return Main.OK;
    }

    /** A spec file if one exists at that path, else an official name. */
    static RuntimeSpec resolve(String argument) {
        Path file = Path.of(argument);
        if (Files.isRegularFile(file)) return RuntimeSpecs.parse(file);
        if (RuntimeSpecs.isOfficial(argument)) return RuntimeSpecs.official(argument);
        if (argument.endsWith(RuntimeSpecs.EXTENSION) || argument.contains("/")) return RuntimeSpecs.parse(file);
        throw new RuntimeSpecException("'" + argument + "'", "neither a spec file nor an official runtime; official specs: "
                + String.join(", ", RuntimeSpecs.officialNames()));
    }

    static void printSteps(PrintWriter out, List<StepTiming> steps, String heading) {
        if (steps.isEmpty()) return;
        long total = steps.stream().mapToLong(s -> s.took().toMillis()).sum();
        out.println(String.format(Locale.ROOT, "  %s (%.1f s):", heading, total / 1000.0));
        for (StepTiming s : steps) {
            out.println(String.format(Locale.ROOT, "    %-20s %7.1f s", s.step(), s.took().toMillis() / 1000.0));
        }
    }

    /**
     * Ctrl-C (or SIGTERM) ends the JVM through its shutdown hooks, which would cut a build short
     * without its cleanup; this hook interrupts the building thread instead and waits until the
     * build has stopped its processes and removed its workspace (their mounts vanish with their
     * namespaces). The hook waits for the work to finish, not for the thread to end: the thread
     * goes on to System.exit, which blocks while hooks run.
     */
    static final class Interruptible {
        interface Work<T> {
            T run() throws Exception;
        }

        static <T> T run(Work<T> work, PrintWriter err) throws Exception {
            Thread worker = Thread.currentThread();
            CountDownLatch finished = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                worker.interrupt();
                try {
                    finished.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException ignored) {
                    // the JVM is going down anyway
                }
            }, "kiln-interrupt-build");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                return work.run();
            } catch (InterruptedException e) {
                // Said here: once the hook returns, the JVM halts before the caller could print.
                err.println("kiln: interrupted; the unfinished build was removed (no image, no mounts left)");
                err.flush();
                throw e;
            } finally {
                finished.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running and has just been released
                }
            }
        }
    }

    /**
     * A progress bar on stderr showing the overall progress, the step ("[3/8] InstallPackages")
     * and its detail, for both the runtime and the kernel build.
     */
    static final class StepBar implements BuildListener, AutoCloseable {
        private static final int SCALE = 1000;
        private final String task;
        private ProgressBar bar;

        StepBar(String task) {
            this.task = task;
        }

        @Override
        public synchronized void onProgress(BuildProgress p) {
            show(p.overallFraction(), p.stepNumber(), p.stepCount(), p.step(), p.message());
        }

        private void show(double overall, int number, int count, String step, String message) {
            // A cache hit is over before a bar could say anything useful; the summary says it.
            if (bar == null && step.startsWith("ReuseCached")) return;
            if (bar == null) {
                bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(SCALE).setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(200).hideEta()
                        .setConsumer(new ConsoleProgressBarConsumer(new PrintStream(System.err, true), 110))
                        .build();
            }
            String detail = message == null || message.isBlank() ? "" : ": " + message;
            String extra = "[" + number + "/" + count + "] " + step + detail;
            bar.setExtraMessage(extra.length() > 60 ? extra.substring(0, 60) : extra);
            bar.stepTo(Math.round(overall * SCALE));
        }

        @Override
        public void onStepFinished(String step, Duration took) {
            // listed when the build ends
        }

        @Override
        public synchronized void close() {
            if (bar != null) bar.close();
        }
    }
}
