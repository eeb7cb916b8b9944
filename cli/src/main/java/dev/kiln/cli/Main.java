package dev.kiln.cli;

import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Entry point of the {@code kiln} command. Exit codes: 0 ok, 1 user error (one line saying what
 * went wrong and what to do), 2 usage error. Stack traces only with {@code --debug}.
 */
public final class Main {
    public static final int OK = 0;
    public static final int USER_ERROR = 1;
    public static final int USAGE = 2;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line; used by main and by in-process tests. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        KilnCommand root = new KilnCommand();
        CommandLine cl = new CommandLine(root);
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((ex, line, parseResult) -> {
            Failure.report(ex, root.debug, line.getErr());
            return USER_ERROR;
        });
        cl.setParameterExceptionHandler((ex, args1) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("kiln: " + ex.getMessage());
            CommandLine.UnmatchedArgumentException.printSuggestions(ex, c.getErr());
            c.getErr().println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
            return USAGE;
        });
        // Picocli returns 2 for usage errors by default, which matches ours.
        int code;
        try {
            code = cl.execute(args);
        } finally {
            root.closeResources();
        }
        out.flush();
        err.flush();
        return code;
    }
}
