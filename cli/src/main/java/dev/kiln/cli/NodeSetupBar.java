package dev.kiln.cli;

import dev.kiln.cli.setup.SetupListener;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows the node's preparation: one line per finished step on stdout, and a progress bar on stderr
 * while a long step (a kernel or runtime build) runs.
 */
final class NodeSetupBar implements SetupListener, AutoCloseable {
    private static final int SCALE = 1000;
    private final PrintWriter out;
    private final boolean bars;
    private ProgressBar bar;
    private String current;
    private int number;
    private int count;

    NodeSetupBar(PrintWriter out, boolean bars) {
        this.out = out;
        this.bars = bars;
    }

    @Override
    public synchronized void stepStarted(String step, int number, int count) {
        this.current = step;
        this.number = number;
        this.count = count;
    }

    @Override
    public synchronized void progress(String step, double fraction, String message) {
        if (!bars || fraction >= 1 && bar == null) return;
        if (bar == null) {
            bar = new ProgressBarBuilder().setTaskName("[" + number + "/" + count + "] " + step).setInitialMax(SCALE)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).hideEta()
                    .setConsumer(new ConsoleProgressBarConsumer(new PrintStream(System.err, true), 110)).build();
        }
        String detail = message == null ? "" : message;
        bar.setExtraMessage(detail.length() > 50 ? detail.substring(0, 50) : detail);
        bar.stepTo(Math.round(Math.min(1, fraction) * SCALE));
    }

    @Override
    public synchronized void stepFinished(String step, Duration took, String outcome) {
        closeBar();
        out.println(String.format(Locale.ROOT, "[%d/%d] %-15s %6.1f s  %s", number, count, step, took.toMillis() / 1000.0, outcome));
        out.flush();
        current = null;
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    @Override
    public synchronized void close() {
        closeBar();
    }
}
