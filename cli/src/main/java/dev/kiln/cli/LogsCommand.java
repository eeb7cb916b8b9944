package dev.kiln.cli;

import dev.kiln.core.hash.InvalidItemHashException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.node.logs.LogClient;
import dev.kiln.node.records.NodeRecords;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "logs", mixinStandardHelpOptions = true, description = {
        "Print a program's logs from a running node: its VMs' consoles, split into kernel, init, program and node lines"
                + " (docs/node.md, \"Logs\"). Local/operator only: the node answers loopback clients."})
final class LogsCommand implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Parameters(paramLabel = "PROGRAM", description = "The program's item hash, or its name as published here.")
    String program;

    @Option(names = {"-f", "--follow"}, description = "Keep printing new lines as they come (Ctrl-C stops).")
    boolean follow;

    @Option(names = "--vm", paramLabel = "ID", description = "Only this VM (an id from the console or /about/executions/list).")
    String vm;

    @Option(names = {"-n", "--lines"}, paramLabel = "N", defaultValue = "200", description = "How many kept lines first (default: ${DEFAULT-VALUE}).")
    int lines;

    @Option(names = "--stream", paramLabel = "NAME", description = "Only lines of these streams: kernel, init, program, node (repeatable).")
    List<String> streams = List.of();

    @Mixin NodeUrl node;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        ItemHash hash = resolve(err);
        if (hash == null) return Main.USER_ERROR;
        LogClient client = new LogClient(node.root());
        try {
            List<LogClient.Line> kept = client.read(hash, vm, Math.max(1, lines));
            long last = 0;
            for (LogClient.Line l : kept) {
                print(out, l);
                last = l.seq();
            }
            out.flush();
            if (!follow) {
                if (kept.isEmpty()) err.println("kiln: no log lines kept for " + (vm != null ? "VM " + vm : "program " + hash)
                        + " (a program's logs start with its first VM; the node keeps them in memory)");
                return Main.OK;
            }
            client.follow(hash, vm, last, l -> {
                print(out, l);
                out.flush();
            });
            return Main.OK;
        } catch (ConnectException e) {
            err.println(node.unreachable());
            return Main.USER_ERROR;
        } catch (java.io.IOException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USER_ERROR;
        }
    }

    private void print(PrintWriter out, LogClient.Line l) {
        if (!streams.isEmpty() && !streams.contains(l.stream())) return;
        String time = l.time().length() >= 23 ? l.time().substring(11, 23) : l.time();
        out.println(time + " " + (vm == null ? l.vm() + " " : "") + String.format("%-7s ", l.stream()) + l.text());
    }

    private ItemHash resolve(PrintWriter err) throws Exception {
        try {
            return ItemHash.parse(program);
        } catch (InvalidItemHashException notAHash) {
            NodeRecords records = NodeRecords.open(kiln.home());
            kiln.root().closeLater(records);
            var found = records.programs().findByName(program);
            if (found.isEmpty()) {
                err.println("kiln: '" + program + "' is neither an item hash nor the name of a program published here"
                        + " (`kiln program list` shows them)");
                return null;
            }
            return found.get().messageHash();
        }
    }
}
