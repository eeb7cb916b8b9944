package dev.kiln.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.kiln.core.hash.ItemHash;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "instance", mixinStandardHelpOptions = true,
        description = {"Instances (INSTANCE messages: whole VMs booted from a root filesystem, reached by SSH) on a"
                + " running node, through its operator API (the token in the Kiln home; docs/operator-api.md)."},
        subcommands = {InstanceCreate.class, InstanceCommand.ListInstances.class, InstanceCommand.Stop.class,
                InstanceCommand.Reboot.class, InstanceCommand.Erase.class, InstanceCommand.Logs.class})
final class InstanceCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                "a subcommand is required: create, list, stop, reboot, erase or logs");
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "The instances the node keeps, their state and the host port forwarded to each one's SSH (port 22).")
    static final class ListInstances implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Mixin OperatorClient operator;

        @Option(names = "--json", description = "Print JSON for scripts: a list of {message, state, since, ssh_port, detail}.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            JsonNode about;
            try {
                about = operator.get(kiln, "/control/machines").json();
            } catch (OperatorClient.Refused e) {
                spec.commandLine().getErr().println(e.getMessage());
                return Main.USER_ERROR;
            }
            ArrayNode instances = OperatorClient.JSON.createArrayNode();
            for (JsonNode m : about.path("machines")) if (m.path("kind").asText().equals("instances")) instances.add(m);
            if (json) {
                out.println(OperatorClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(instances));
                return Main.OK;
            }
            if (instances.isEmpty()) {
                boolean runs = false;
                for (JsonNode k : about.path("kinds")) runs |= k.asText().equals("instances");
                out.println(runs ? "no instances: create one with 'kiln instance create --rootfs NAME --ssh-key FILE'"
                        : "no instances: this node does not run instances yet");
                return Main.OK;
            }
            Table t = new Table("INSTANCE", "STATE", "SINCE", "SSH");
            for (JsonNode m : instances) {
                t.row(m.path("message").asText(), m.path("state").asText(), m.path("since").asText(),
                        m.path("ssh_port").isNull() ? "-" : "ssh -p " + m.path("ssh_port").asInt() + " root@<node host>");
            }
            t.print(out);
            return Main.OK;
        }
    }

    /** stop, reboot, erase: one POST to /control/machine/<hash>/<action>. */
    abstract static class Operation implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Mixin OperatorClient operator;

        @Parameters(paramLabel = "HASH", description = "The machine's item hash (its INSTANCE or PROGRAM message).")
        String hash;

        private final String action;
        private final String done;

        Operation(String action, String done) {
            this.action = action;
            this.done = done;
        }

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            if (!ItemHash.isValid(hash)) {
                err.println("kiln: '" + hash + "' is not an item hash");
                return Main.USAGE;
            }
            try {
                operator.post(kiln, "/control/machine/" + hash + "/" + action, null);
            } catch (OperatorClient.Refused e) {
                err.println(e.getMessage());
                return Main.USER_ERROR;
            }
            spec.commandLine().getOut().println(hash + ": " + done);
            return Main.OK;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop a machine and take it out of the node's allocation; its disk is kept (allocate it to start it again).")
    static final class Stop extends Operation {
        Stop() {
            super("stop", "stopping; no longer allocated (its disk is kept)");
        }
    }

    @Command(name = "reboot", mixinStandardHelpOptions = true, description = "Restart a machine's VM, keeping its disk.")
    static final class Reboot extends Operation {
        Reboot() {
            super("reboot", "rebooting");
        }
    }

    @Command(name = "erase", mixinStandardHelpOptions = true,
            description = "Stop a machine, take it out of the allocation and delete its disk and persistent volumes.")
    static final class Erase extends Operation {
        Erase() {
            super("erase", "erasing: its disk goes once its VM has stopped");
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = "What a machine's console printed (the kernel, its init, the guest's own messages), oldest first.")
    static final class Logs implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;
        @Mixin OperatorClient operator;

        @Parameters(paramLabel = "HASH", description = "The machine's item hash.")
        String hash;

        @Option(names = "--max-bytes", paramLabel = "N", defaultValue = "65536",
                description = "At most the last N bytes (default: ${DEFAULT-VALUE}).")
        int maxBytes;

        @Override
        public Integer call() throws Exception {
            PrintWriter err = spec.commandLine().getErr();
            if (!ItemHash.isValid(hash)) {
                err.println("kiln: '" + hash + "' is not an item hash");
                return Main.USAGE;
            }
            if (maxBytes < 1) {
                err.println("kiln: --max-bytes must be at least 1");
                return Main.USAGE;
            }
            try {
                spec.commandLine().getOut().print(operator.get(kiln, "/control/machine/" + hash + "/logs?max_bytes=" + maxBytes).body());
            } catch (OperatorClient.Refused e) {
                err.println(e.getMessage());
                return Main.USER_ERROR;
            }
            return Main.OK;
        }
    }
}
