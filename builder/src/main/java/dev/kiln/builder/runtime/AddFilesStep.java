package dev.kiln.builder.runtime;

import dev.kiln.builder.step.BuildStep;
import dev.kiln.builder.step.StepProgress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;

/** Writes the spec's extra files (inline content or files next to the spec) into the image. */
final class AddFilesStep implements BuildStep {

    private final RuntimeSpec spec;
    private final RootFs root;

    AddFilesStep(RuntimeSpec spec, RootFs root) {
        this.spec = spec;
        this.root = root;
    }

    @Override
    public String name() {
        return "AddFiles";
    }

    @Override
    public Duration typicalDuration() {
        return Duration.ofMillis(200);
    }

    @Override
    public void run(StepProgress progress) throws IOException {
        int i = 0;
        for (RuntimeSpec.ExtraFile f : spec.files()) {
            progress.report((double) i++ / spec.files().size(), f.path());
            Path target = root.resolve(f.path());
            if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("files: " + f.path() + " is a directory in the image; give a file path");
            }
            Images.createDirectories(root, target.getParent());
            Files.deleteIfExists(target);
            byte[] bytes = f.content() != null ? f.content().getBytes(StandardCharsets.UTF_8)
                    : Files.readAllBytes(spec.directory().resolve(f.source()));
            Files.write(target, bytes);
            Images.setMode(target, f.mode());
        }
    }
}
