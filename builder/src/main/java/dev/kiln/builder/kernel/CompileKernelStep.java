package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compiles the uncompressed {@code vmlinux} (the PVH entry point is in it; the compressed
 * bzImage, which would cost another xz pass, is not built).
 *
 * <p>Progress counts kbuild's short command lines ({@code "  CC      kernel/fork.o"}) against the
 * count the previous build reported; a line per compiled object makes this close to linear in
 * time, unlike counting directories or watching the clock.
 *
 * <p>make runs at {@code nice 10}: a kernel build saturates every core for minutes and must not
 * starve the VMs or services sharing the machine.
 */
final class CompileKernelStep implements BuildStep {

    /** Measured on the first build of this recipe; only used until a cache entry records one. */
    static final int DEFAULT_EXPECTED_LINES = 1300;

    private static final Pattern KBUILD_LINE = Pattern.compile("^ {2}([A-Z][A-Z0-9_-]*) +(\\S.*)$");

    private final BuildWorkspace workspace;
    private final BuildLog log;
    private final int expectedLines;
    private final int jobs;
    private int lines;

    CompileKernelStep(BuildWorkspace workspace, BuildLog log, int expectedLines, int jobs) {
        this.workspace = workspace;
        this.log = log;
        this.expectedLines = Math.max(1, expectedLines);
        this.jobs = Math.max(1, jobs);
    }

    @Override
    public String name() {
        return "CompileKernel";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofMinutes(5);
    }

    /** How many kbuild command lines make printed: recorded for the next build's estimate. */
    int compileLines() {
        return lines;
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        Path tree = workspace.sourceTree();
        List<String> argv = new ArrayList<>(List.of("nice", "-n", "10", "make", "ARCH=x86_64", "-j" + jobs, "vmlinux"));
        ExternalCommand make = new ExternalCommand(argv, tree, KernelRecipe.REPRODUCIBLE_ENV);
        log.run(make, line -> {
            Matcher m = KBUILD_LINE.matcher(line);
            if (!m.matches()) return;
            lines++;
            // Never report 100 % before make exits: the final link alone takes several seconds.
            progress.report(Math.min(0.99, (double) lines / expectedLines), m.group(1) + " " + m.group(2));
        });
    }
}
