package dev.kiln.cli;

import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.store.ItemResolver;
import dev.kiln.store.remote.DownloadProgress;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
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

@Command(name = "pull", mixinStandardHelpOptions = true, description = "Download a runtime into the local store, verified against its hash.")
final class RuntimePull implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;
    @Parameters(paramLabel = "HASH|NAME", description = "An item hash (a STORE message or the file itself), or a catalogue name.")
    String query;
    @Option(names = "--quiet", description = "No progress bar.") boolean quiet;

    @Override
    public Integer call() throws IOException {
        RuntimeEntry entry = kiln.catalogue().find(query);
        PrintWriter out = spec.commandLine().getOut();
        ItemResolver.Resolved r;
        try (Bar bar = quiet ? null : new Bar(entry.name())) {
            r = kiln.resolver().resolve(entry.itemHash(), true, bar == null ? DownloadProgress.NONE : bar);
        }
        out.println(entry.name() + ": " + Bytes.human(java.nio.file.Files.size(r.file())) + ", verified (sha256 "
                + r.fileHash() + ")");
        r.message().filter(m -> !m.messageHash().equals(entry.itemHash()))
                .ifPresent(m -> out.println("  resolved to its latest amend " + m.messageHash()));
        out.println("  " + r.file());
        return Main.OK;
    }

    /** A progress bar on stderr, started only if a download actually happens. */
    private static final class Bar implements DownloadProgress, AutoCloseable {
        private final String name;
        private ProgressBar bar;

        Bar(String name) {
            this.name = name;
        }

        @Override
        public synchronized void progress(long received, long total) {
            if (bar == null) {
                bar = new ProgressBarBuilder().setTaskName("pull " + name).setUnit(" MiB", 1024 * 1024)
                        .setInitialMax(total > 0 ? total : -1).setStyle(ProgressBarStyle.ASCII)
                        .setUpdateIntervalMillis(200).showSpeed()
                        .setConsumer(new ConsoleProgressBarConsumer(new PrintStream(System.err, true)))
                        .build();
            }
            if (total > 0) bar.maxHint(total);
            bar.stepTo(received);
        }

        @Override
        public synchronized void retrying(int failedAttempt, Duration delay, IOException cause) {
            System.err.println("\nkiln: download attempt " + failedAttempt + " failed (" + cause.getMessage()
                    + "); retrying in " + delay.toMillis() + " ms");
        }

        @Override
        public synchronized void close() {
            if (bar != null) bar.close();
        }
    }
}
