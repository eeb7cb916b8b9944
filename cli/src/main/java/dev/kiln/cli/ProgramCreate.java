package dev.kiln.cli;

import dev.kiln.cli.setup.NodeSetup;
import dev.kiln.cli.setup.SetupException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.core.message.Volume;
import dev.kiln.core.hash.ProgramHostname;
import dev.kiln.node.network.PublishedPorts;
import dev.kiln.node.program.PackagingException;
import dev.kiln.node.program.ProgramPublisher;
import dev.kiln.node.program.ProgramSpec;
import dev.kiln.node.program.PublishedProgram;
import dev.kiln.node.records.NodeRecords;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "create", mixinStandardHelpOptions = true, description = {
        "Pack a program's code, publish it, and write the PROGRAM message that runs it on demand.",
        "Prints the program's item hash and its URL on the node."})
final class ProgramCreate implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;

    @Parameters(paramLabel = "DIR", description = "The code: a directory (packed with --encoding) or an already packed"
            + " .zip / .squashfs file.")
    Path source;

    @Option(names = "--entrypoint", required = true, paramLabel = "ENTRYPOINT",
            description = "ASGI: module:app (e.g. main:app). Executable: a path in the code, e.g. run.sh.")
    String entrypoint;

    @Option(names = "--runtime", paramLabel = "HASH|NAME|default", defaultValue = "default",
            description = "The runtime: 'default' (built here from the official debian-12-python spec), an official"
                    + " spec name, a runtime's item hash, or a name from 'kiln runtime list' (default: ${DEFAULT-VALUE}).")
    String runtime;

    @Option(names = "--interface", paramLabel = "asgi|executable",
            description = "How the code is started (default: asgi if the entrypoint has a ':', else executable).")
    String codeInterface;

    @Option(names = "--encoding", paramLabel = "squashfs|zip", defaultValue = "squashfs",
            description = "How a directory is packed (default: ${DEFAULT-VALUE}, mounted as a drive; zip travels inline).")
    String encoding;

    @Option(names = "--name", paramLabel = "NAME", description = "A local name for 'kiln program list'.")
    String name;

    @Option(names = "--memory", paramLabel = "MiB", defaultValue = "128", description = "Guest RAM (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--vcpus", paramLabel = "N", defaultValue = "1", description = "Virtual CPUs (default: ${DEFAULT-VALUE}).")
    int vcpus;

    @Option(names = "--timeout-seconds", paramLabel = "SECONDS", defaultValue = "30",
            description = "resources.seconds: how long a request may take before 504 (default: ${DEFAULT-VALUE}; how"
                    + " long the VM stays warm is the node's --keep-warm).")
    long seconds;

    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "An environment variable for the program (repeatable).")
    Map<String, String> variables = new LinkedHashMap<>();

    @Option(names = "--internet", description = "Let the program reach the internet (environment.internet: a NIC,"
            + " NAT, DNS; the node must run with --network).")
    boolean internet;

    @Option(names = "--publish-port", paramLabel = "PORT[/tcp|/udp]",
            description = "A guest port to forward from a host port the node picks (repeatable; tcp unless /udp;"
                    + " needs --internet). The host port is listed by 'kiln status' and /about/executions/list.")
    List<String> publishPorts = new ArrayList<>();

    @Option(names = "--persistent", description = "Run the program all the time (on.persistent), and allocate it on the"
            + " running node (its operator API): started now, not by a first request, never stopped for idleness,"
            + " restarted when it dies, and again by the node's next start.")
    boolean persistent;

    @Mixin OperatorClient operator;
    @Option(names = "--volume", paramLabel = "MOUNT=KIND:...", description = {"A volume (repeatable):",
            "  MOUNT=persistent:NAME:SIZE_MIB[:PARENT_HASH]  kept on this node per owner and NAME (a parent ext4 image"
                    + " is copied in at first use), e.g. /var/lib/app=persistent:data:64",
            "  MOUNT=ephemeral:SIZE_MIB  empty scratch space at each boot (at most 1000), e.g. /tmp/work=ephemeral:32",
            "  MOUNT=ref:HASH  a published squashfs, read-only, e.g. /opt/lib=ref:<STORE message hash>"})
    List<String> volumeOptions = new ArrayList<>();


    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.exists(source)) {
            err.println("kiln: " + source + " does not exist: give the program's directory or its packed .zip/.squashfs file");
            return Main.USER_ERROR;
        }
        Encoding enc;
        if (Files.isRegularFile(source)) {
            String f = source.getFileName().toString();
            enc = f.endsWith(".zip") ? Encoding.ZIP : f.endsWith(".squashfs") || f.endsWith(".sqfs") ? Encoding.SQUASHFS
                    : Encoding.PLAIN;
        } else {
            enc = switch (encoding.toLowerCase(Locale.ROOT)) {
                case "squashfs" -> Encoding.SQUASHFS;
                case "zip" -> Encoding.ZIP;
                default -> null;
            };
            if (enc == null) {
                err.println("kiln: --encoding must be squashfs or zip, got '" + encoding + "'");
                return Main.USAGE;
            }
        }
        CodeInterface iface = null;
        if (codeInterface != null) {
            iface = switch (codeInterface.toLowerCase(Locale.ROOT)) {
                case "asgi" -> CodeInterface.ASGI;
                case "executable", "binary" -> CodeInterface.BINARY;
                default -> null;
            };
            if (iface == null) {
                err.println("kiln: --interface must be asgi or executable, got '" + codeInterface + "'");
                return Main.USAGE;
            }
        }
        try {
            PublishedPorts.parse(publishPorts); // a usage mistake is told before anything is packed
        } catch (IllegalArgumentException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USAGE;
        }
        List<Volume> volumes = new ArrayList<>();
        try {
            for (String v : volumeOptions) volumes.add(VolumeOption.parse(v));
        } catch (IllegalArgumentException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USAGE;
        }
        if (!publishPorts.isEmpty() && !internet) {
            err.println("kiln: --publish-port needs --internet: a forwarded port reaches the VM through its network"
                    + " card, which only internet programs get");
            return Main.USAGE;
        }
        NodeRecords records = NodeRecords.open(kiln.home());
        kiln.root().closeLater(records);
        ProgramPublisher publisher = new ProgramPublisher(kiln.home(), kiln.publisher(), kiln.records(), records.programs());
        ItemHash runtimeRef;
        try (NodeSetupBar bar = new NodeSetupBar(err, true)) {
            runtimeRef = new NodeSetup(kiln.home(), kiln.publisher(), kiln.records(), publisher, bar)
                    .runtimeReference(runtime, kiln.catalogue());
        } catch (SetupException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USER_ERROR;
        }
        PublishedProgram p;
        try {
            p = publisher.publish(new ProgramSpec(source, enc, entrypoint, iface, runtimeRef,
                    runtime.equals("default") ? "Kiln's default runtime (" + NodeSetup.DEFAULT_RUNTIME + ")" : runtime,
                    Resources.of(vcpus, memory, seconds), variables, name, internet, persistent, volumes));
        } catch (PackagingException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USER_ERROR;
        } catch (IllegalArgumentException e) {
            err.println("kiln: " + e.getMessage());
            return Main.USAGE;
        }
        records.ports().publish(p.message(), PublishedPorts.parse(publishPorts));
        String base = operator.node.base();
        out.println((p.reused() ? "already published: " : "published program ") + p.message());
        out.println("  code:    " + p.code() + " (" + enc.wire() + ", file " + p.codeFile().shortForm() + ")");
        out.println("  runtime: " + p.runtime());
        for (Volume v : volumes) out.println("  volume:  " + v.mount() + " (" + VolumeOption.describe(v) + ")");
        out.println("  url:     " + base + "/vm/" + p.message() + "/");
        out.println("  host:    " + ProgramHostname.label(p.message()) + ".<your node's domain>");
        if (!publishPorts.isEmpty()) {
            out.println("  ports:   " + String.join(", ", publishPorts) + " (forwarded from host ports the node picks when"
                    + " the VM starts: see 'kiln status')");
        }
        if (persistent) return Allocate.notify(kiln, operator, p.message(), out, err);
        return Main.OK;
    }
}
