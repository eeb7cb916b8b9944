package dev.kiln.cli;

import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.node.records.ProgramRecord;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List the programs this node knows (published here or fetched from a remote).")
final class ProgramList implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        NodeRecords records = NodeRecords.open(kiln.home());
        kiln.root().closeLater(records);
        List<ProgramRecord> programs = records.programs().list();
        if (programs.isEmpty()) {
            out.println("no programs yet: 'kiln program create DIR --entrypoint main:app' publishes one");
            return Main.OK;
        }
        Table t = new Table("NAME", "ITEM HASH", "ENTRYPOINT", "CODE", "RUNTIME", "RECORDED");
        for (ProgramRecord r : programs) {
            String entry = "?";
            String code = "?";
            String runtime = "?";
            try {
                ProgramContent p = AlephMessages.parse(r.messageJson()).contentAs(ProgramContent.class);
                entry = p.entrypoint() + " (" + p.code().effectiveInterface().map(i -> i.wire()).orElse("?") + ")";
                code = p.code().encoding();
                runtime = p.runtime().ref().substring(0, Math.min(12, p.runtime().ref().length()));
            } catch (RuntimeException unreadable) {
                // listed with what the record itself holds
            }
            t.row(r.name() == null ? "-" : r.name(), r.messageHash().value(), entry, code, runtime,
                    r.recordedAt().toString().replaceFirst("\\.\\d+Z$", "Z"));
        }
        t.print(out);
        return Main.OK;
    }
}
