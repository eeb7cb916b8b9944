package dev.kiln.builder.kernel;

import dev.kiln.builder.step.BuildLog;
import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.ExternalCommand;
import dev.kiln.builder.step.StepProgress;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Unpacks Debian's source tarball into the workspace. The tarball is streamed into tar by Kiln,
 * which counts the bytes: progress is exact without knowing the number of files in advance.
 */
final class UnpackSourceStep implements BuildStep {

    private final KernelSource source;
    private final BuildWorkspace workspace;
    private final BuildLog log;

    UnpackSourceStep(KernelSource source, BuildWorkspace workspace, BuildLog log) {
        this.source = source;
        this.workspace = workspace;
        this.log = log;
    }

    @Override
    public String name() {
        return "UnpackSource";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofSeconds(12);
    }

    @Override
    public void run(StepProgress progress) throws IOException, InterruptedException {
        Path tree = workspace.sourceTree();
        Files.createDirectories(tree);
        long size = Files.size(source.tarball());
        // The tarball holds one top directory (linux-source-6.1/); stripping it gives the tree a
        // fixed path that the later steps know before it exists.
        ExternalCommand tar = new ExternalCommand(
                List.of("tar", "-xJf", "-", "--strip-components=1", "--no-same-owner", "-C", tree.toString()),
                workspace.root(), Map.of());
        log.line("$ " + tar + " < " + source.tarball());
        String label = source.tarball().getFileName().toString();
        int status = tar.run(log::line, source.tarball(),
                bytes -> progress.report((double) bytes / size, label));
        if (status != 0) throw new IOException("`tar` could not unpack " + source.tarball() + " (status " + status + ")");
        if (!Files.isRegularFile(tree.resolve("Makefile"))) {
            throw new IOException(source.tarball() + " does not have the layout of a kernel source tarball"
                    + " (one top directory holding the Makefile)");
        }
    }
}
