package dev.kiln.cli;

import dev.kiln.node.error.NodeException;
import dev.kiln.node.program.MessageImport;
import dev.kiln.node.program.ProgramResolver;
import dev.kiln.node.program.ResolvedItem;
import dev.kiln.node.records.NodeRecords;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "publish", mixinStandardHelpOptions = true, description = {
        "Record a PROGRAM or INSTANCE message on this node, so that it runs by its item hash exactly as written.",
        "FILE is a whole message (taken from aleph, or written by hand with its item_hash) or just its content"
                + " (then the message is made from the content's address and time).",
        "Every reference (code, runtime, volumes, parents, data) is resolved first: from this node's store, else"
                + " downloaded from --remote and verified against its hash. Fields a Kiln node refuses are warned about."})
final class MessagePublish implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Parameters(paramLabel = "FILE.json") Path file;

    @Option(names = "--name", paramLabel = "NAME", description = "A local name for 'kiln program list'.")
    String name;

    @Mixin NodeUrl node;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String json = MessageCommand.readMessageFile(file);
        NodeRecords records = NodeRecords.open(kiln.home());
        kiln.root().closeLater(records);
        ProgramResolver resolver = new ProgramResolver(records.programs(), kiln.resolver(), kiln.fetcher());
        MessageImport.Imported imported;
        try {
            imported = new MessageImport(records.programs(), resolver).publish(json, name);
        } catch (NodeException e) {
            err.println("kiln: " + file + ": " + e.getMessage());
            for (NodeException.Detail d : e.details()) err.println("  " + d.path() + ": " + d.reason());
            return Main.USER_ERROR;
        }
        out.println((imported.known() ? "already recorded: " : "recorded ") + imported.type() + " message " + imported.hash());
        for (ResolvedItem r : imported.references()) {
            out.println("  " + r.field() + ": " + r.ref() + (r.resolved().equals(r.ref()) ? "" : " -> " + r.resolved())
                    + " (file " + r.fileHash().shortForm() + ", verified)");
        }
        for (String w : MessageImport.warnings(imported)) err.println("warning: " + w);
        out.println("  url:     " + node.base() + "/vm/" + imported.hash() + "/");
        return Main.OK;
    }
}
