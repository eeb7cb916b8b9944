package dev.kiln.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every command, however deep, answers {@code --help} with its usage and exit 0: a user who is
 * unsure types it first, and "Unknown option" or "Missing required parameter" there is a dead end.
 * Walks the real command tree, so a command added later without help options fails here.
 */
class HelpOptionsTest {

    @Test
    void everyCommandAnswersHelpWithItsUsage() {
        List<List<String>> paths = new ArrayList<>();
        collect(new CommandLine(new KilnCommand()), new ArrayList<>(), paths);
        assertThat(paths).as("the walk found the commands").hasSizeGreaterThan(15);

        List<String> failures = new ArrayList<>();
        for (List<String> path : paths) {
            StringWriter out = new StringWriter();
            StringWriter err = new StringWriter();
            List<String> args = new ArrayList<>(path);
            args.add("--help");
            int exit = Main.run(args.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
            String name = String.join(" ", path);
            if (exit != Main.OK) failures.add("kiln " + name + " --help exited " + exit + ": " + err.toString().strip());
            else if (!out.toString().contains("Usage: kiln" + (path.isEmpty() ? "" : " " + name))) {
                failures.add("kiln " + name + " --help printed no usage: " + out);
            }
        }
        assertThat(failures).isEmpty();
    }

    private static void collect(CommandLine cl, List<String> path, List<List<String>> into) {
        into.add(List.copyOf(path));
        for (var sub : cl.getSubcommands().entrySet()) {
            if (!sub.getValue().getCommandName().equals(sub.getKey())) continue; // an alias
            List<String> next = new ArrayList<>(path);
            next.add(sub.getKey());
            collect(sub.getValue(), next, into);
        }
    }
}
