package dev.kiln.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

@Command(name = "kiln",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = "Builds Linux runtimes, publishes them by content hash, and runs programs from them in microVMs.",
        subcommands = {RuntimeCommand.class, StoreCommand.class, MessageCommand.class, KernelCommand.class, NodeCommand.class, ProgramCommand.class, InstanceCommand.class, AllocationCommand.class, VolumeCommand.class, LogsCommand.class, StatusCommand.class, CompletionCommand.class},
        usageHelpAutoWidth = true)
final class KilnCommand implements Runnable {

    @Option(names = "--home", scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Kiln home directory (default: $KILN_HOME, else $XDG_DATA_HOME/kiln or ~/.local/share/kiln).")
    Path home;

    @Option(names = "--remote", scope = ScopeType.INHERIT, paramLabel = "URL",
            description = "aleph-compatible API to fetch items from (default: $KILN_REMOTE; none).")
    String remote;

    @Option(names = "--debug", scope = ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean debug;

    private final List<AutoCloseable> resources = new ArrayList<>();

    /** Closed, newest first, when the command has finished. */
    void closeLater(AutoCloseable resource) {
        resources.add(resource);
    }

    void closeResources() {
        for (AutoCloseable r : resources.reversed()) {
            try {
                r.close();
            } catch (Exception e) {
                System.getLogger(KilnCommand.class.getName()).log(System.Logger.Level.DEBUG, "closing " + r, e);
            }
        }
        resources.clear();
    }

    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "a command is required");
    }
}
