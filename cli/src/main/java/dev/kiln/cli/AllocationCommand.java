package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.hash.ItemHash;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "allocation", mixinStandardHelpOptions = true,
        description = "The set of persistent programs and instances a running node keeps (its operator API, docs/operator-api.md).",
        subcommands = {AllocationCommand.Show.class, AllocationCommand.Set.class, AllocationCommand.Add.class})
final class AllocationCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "a subcommand is required: show, set or add");
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "The node's allocation and how each machine stands.")
    static final class Show implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Mixin OperatorClient operator;

        @Option(names = "--json", description = "Print the node's JSON as it is.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            String body;
            try {
                body = operator.get(kiln, "/control/machines").body();
            } catch (OperatorClient.Refused e) {
                spec.commandLine().getErr().println(e.getMessage());
                return Main.USER_ERROR;
            }
            if (json) {
                out.println(body);
                return Main.OK;
            }
            JsonNode about = OperatorClient.JSON.readTree(body);
            if (about.path("machines").isEmpty()) {
                out.println("nothing allocated: 'kiln allocation add HASH' or 'kiln allocation set --persistent HASH'");
                return Main.OK;
            }
            Table t = new Table("MACHINE", "KIND", "STATE", "SINCE", "RESTARTS");
            for (JsonNode m : about.path("machines")) {
                t.row(m.path("message").asText(), m.path("kind").asText(), m.path("state").asText(), m.path("since").asText(),
                        m.path("detail").path("restarts").asText("-"));
            }
            t.print(out);
            return Main.OK;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true, description = {
            "Replace the node's allocation: it starts what is listed and not running, and stops what is running and not"
                    + " listed. Give aleph's JSON body in FILE, or the hashes with --persistent and --instance."})
    static final class Set implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Mixin OperatorClient operator;

        @Parameters(paramLabel = "FILE", arity = "0..1",
                description = "A JSON file like {\"persistent_vms\": [...], \"instances\": [...]}.")
        Path file;

        @Option(names = "--persistent", paramLabel = "HASH", description = "A persistent program to keep (repeatable).")
        List<String> persistent = new ArrayList<>();

        @Option(names = "--instance", paramLabel = "HASH", description = "An instance to keep (repeatable).")
        List<String> instances = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            String body;
            if (file != null) {
                if (!persistent.isEmpty() || !instances.isEmpty()) {
                    err.println("kiln: give FILE or --persistent/--instance, not both");
                    return Main.USAGE;
                }
                if (!Files.isReadable(file)) {
                    err.println("kiln: cannot read " + file);
                    return Main.USER_ERROR;
                }
                body = Files.readString(file);
            } else {
                ObjectNode o = OperatorClient.JSON.createObjectNode();
                if (!hashes(o.putArray("persistent_vms"), persistent, err) || !hashes(o.putArray("instances"), instances, err)) {
                    return Main.USAGE;
                }
                body = o.toString();
            }
            JsonNode answer;
            try {
                answer = operator.post(kiln, "/control/allocations", body).json();
            } catch (OperatorClient.Refused e) {
                err.println(e.getMessage());
                return Main.USER_ERROR;
            }
            OperatorClient.printOutcome(out, err, answer);
            return answer.path("success").asBoolean() ? Main.OK : Main.USER_ERROR;
        }

        private static boolean hashes(ArrayNode into, List<String> given, PrintWriter err) {
            for (String h : given) {
                if (!ItemHash.isValid(h)) {
                    err.println("kiln: '" + h + "' is not an item hash");
                    return false;
                }
                into.add(h);
            }
            return true;
        }
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Add one persistent program or instance to the node's allocation (it starts now).")
    static final class Add implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Mixin OperatorClient operator;

        @Parameters(paramLabel = "HASH", description = "Its PROGRAM or INSTANCE message's item hash.")
        String hash;

        @Override
        public Integer call() throws Exception {
            if (!ItemHash.isValid(hash)) {
                spec.commandLine().getErr().println("kiln: '" + hash + "' is not an item hash");
                return Main.USAGE;
            }
            return Allocate.notify(kiln, operator, ItemHash.parse(hash), spec.commandLine().getOut(), spec.commandLine().getErr());
        }
    }
}
