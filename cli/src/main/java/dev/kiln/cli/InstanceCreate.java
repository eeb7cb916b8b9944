package dev.kiln.cli;

import dev.kiln.core.catalogue.RuntimeNotFoundException;
import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.AlephTime;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.ParentVolume;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.Resources;
import dev.kiln.core.message.Rootfs;
import dev.kiln.core.message.ValidationError;
import dev.kiln.node.records.NodeRecords;
import dev.kiln.node.records.ProgramRecord;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "create", mixinStandardHelpOptions = true, description = {
        "Write an INSTANCE message on this node (a VM booted from a copy of a root filesystem, with your SSH key) and"
                + " allocate it on the running node, which starts it.",
        "Prints the instance's item hash; 'kiln instance list' shows its state and SSH port."})
final class InstanceCreate implements Callable<Integer> {
    static final String CHAIN = "ETH";
    static final String CHANNEL = "KILN";

    @Spec CommandSpec spec;
    @Mixin KilnContext kiln;
    @Mixin OperatorClient operator;

    @Option(names = "--rootfs", required = true, paramLabel = "NAME|HASH",
            description = "The parent root filesystem: a name from 'kiln runtime list' or its STORE message's item hash.")
    String rootfs;

    @Option(names = "--ssh-key", required = true, paramLabel = "FILE",
            description = "A public key file (e.g. ~/.ssh/id_ed25519.pub); each key line goes to authorized_keys.")
    Path sshKey;

    @Option(names = "--size-mib", paramLabel = "MiB", defaultValue = "2048",
            description = "The instance's disk (rootfs.size_mib; default: ${DEFAULT-VALUE}).")
    long sizeMib;

    @Option(names = "--vcpus", paramLabel = "N", defaultValue = "1", description = "Virtual CPUs (default: ${DEFAULT-VALUE}).")
    int vcpus;

    @Option(names = "--memory", paramLabel = "MiB", defaultValue = "512", description = "Guest RAM (default: ${DEFAULT-VALUE}).")
    long memory;

    @Option(names = "--name", paramLabel = "NAME", description = "A local name for the message.")
    String name;

    @Option(names = "--no-allocate", description = "Only write the message; allocate it later ('kiln allocation add').")
    boolean noAllocate;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.isRegularFile(sshKey) || !Files.isReadable(sshKey)) {
            err.println("kiln: cannot read the SSH key file " + sshKey);
            return Main.USER_ERROR;
        }
        List<String> keys = Files.readAllLines(sshKey, StandardCharsets.UTF_8).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        if (keys.isEmpty() || keys.stream().anyMatch(k -> !k.startsWith("ssh-") && !k.startsWith("ecdsa-") && !k.startsWith("sk-"))) {
            err.println("kiln: " + sshKey + " is not an OpenSSH public key file (lines like 'ssh-ed25519 AAAA… comment');"
                    + " give the .pub file, never the private key");
            return Main.USER_ERROR;
        }
        if (sizeMib < 1 || vcpus < 1 || memory < 1) {
            err.println("kiln: --size-mib, --vcpus and --memory must be positive");
            return Main.USAGE;
        }
        ItemHash parent;
        try {
            parent = ItemHash.isValid(rootfs) ? ItemHash.parse(rootfs) : kiln.catalogue().find(rootfs).itemHash();
        } catch (RuntimeNotFoundException e) {
            err.println("kiln: --rootfs '" + rootfs + "' names no root filesystem: give a name from 'kiln runtime list'"
                    + " or an item hash");
            return Main.USER_ERROR;
        }
        String sender = kiln.publisher().sender();
        Instant now = Instant.now();
        InstanceContent content = new InstanceContent(sender, AlephTime.of(now), false,
                new Rootfs(new ParentVolume(parent.value(), false, Map.of()), Persistence.HOST.wire(), sizeMib, Map.of()),
                null, Resources.of(vcpus, memory, 30), Map.of(), List.of(), keys, null, null, null, null, Map.of());
        AlephMessage message = AlephMessage.inline(CHAIN, sender, CHANNEL, content, now);
        List<ValidationError> problems = AlephMessages.check(message);
        if (!problems.isEmpty()) {
            err.println("kiln: the instance would be refused: " + problems.stream().map(ValidationError::toString)
                    .collect(Collectors.joining("; ")));
            return Main.USER_ERROR;
        }
        NodeRecords records = NodeRecords.open(kiln.home());
        kiln.root().closeLater(records);
        ItemHash hash = ItemHash.parse(message.itemHash());
        records.programs().add(new ProgramRecord(hash, sender, name, now, AlephMessages.toJson(message)));
        out.println("instance " + hash);
        out.println("  rootfs: " + parent + " (" + sizeMib + " MiB, persistence host)   " + vcpus + " vCPU, " + memory + " MiB");
        if (noAllocate) return Main.OK;
        return Allocate.notify(kiln, operator, hash, out, err);
    }
}
