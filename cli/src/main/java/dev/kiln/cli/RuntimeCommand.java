package dev.kiln.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kiln.core.catalogue.RuntimeCatalogue;
import dev.kiln.core.catalogue.RuntimeEntry;
import dev.kiln.core.catalogue.RuntimeKind;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "runtime", mixinStandardHelpOptions = true, description = "List, inspect and fetch runtimes.",
        subcommands = {RuntimeCommand.ListRuntimes.class, RuntimeCommand.Show.class, RuntimePull.class, RuntimeBuild.class, RuntimePublish.class, RuntimeImport.class})
final class RuntimeCommand {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List official and local runtimes (* = default of its kind).")
    static final class ListRuntimes implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;

        @Option(names = "--kind", paramLabel = "KIND",
                description = "Only this kind: function, instance-rootfs, qemu-disk-image, confidential-firmware.")
        String kind;

        @Option(names = "--json", description = "Print JSON for scripts.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            RuntimeCatalogue catalogue = kiln.catalogue();
            List<RuntimeEntry> entries = kind == null ? catalogue.all() : catalogue.ofKind(RuntimeKind.fromId(kind));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                ArrayNode arr = JSON.createArrayNode();
                entries.forEach(e -> arr.add(toJson(e)));
                out.println(JSON.writeValueAsString(arr));
                return Main.OK;
            }
            Table t = new Table("NAME", "KIND", "STATUS", "FS", "ITEM HASH", "ORIGIN", "OS / LANGUAGES");
            for (RuntimeEntry e : entries) {
                t.row(e.name() + (e.isDefault() ? " *" : ""), e.kind().id(),
                        e.isDeprecated() ? "DEPRECATED" : e.status().id(), e.filesystem(), e.itemHash().shortForm(),
                        e.origin().id(), describeOs(e));
            }
            t.print(out);
            out.println();
            out.println("* default of its kind. Full hashes: 'kiln runtime show NAME' or --json.");
            return Main.OK;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one runtime by name, item hash or hash prefix.")
    static final class Show implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;

        @Parameters(paramLabel = "HASH|NAME") String query;

        @Option(names = "--json", description = "Print JSON for scripts.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            RuntimeEntry e = kiln.catalogue().find(query);
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(JSON.writeValueAsString(toJson(e)));
                return Main.OK;
            }
            out.println("name:        " + e.name());
            out.println("title:       " + e.title());
            out.println("item hash:   " + e.itemHash());
            out.println("kind:        " + e.kind().id() + " (" + e.kind().description() + ")");
            out.println("status:      " + e.status().id() + (e.isDeprecated() ? "  (deprecated: prefer the default of its kind)" : ""));
            out.println("origin:      " + e.origin().id());
            if (!e.filesystem().isEmpty()) out.println("filesystem:  " + e.filesystem());
            if (!e.os().isEmpty()) out.println("os:          " + e.os());
            if (!e.languages().isEmpty()) out.println("languages:   " + String.join(", ", e.languages()));
            e.verificationHash().ifPresent(v -> out.println("verification hash: " + v));
            out.println("local copy:  " + kiln.localCopyDescription(e.itemHash()));
            return Main.OK;
        }
    }

    static String describeOs(RuntimeEntry e) {
        if (e.languages().isEmpty()) return e.os();
        return e.os() + "; " + String.join(", ", e.languages());
    }

    static ObjectNode toJson(RuntimeEntry e) {
        ObjectNode n = JSON.createObjectNode();
        n.put("name", e.name());
        n.put("title", e.title());
        n.put("item_hash", e.itemHash().value());
        n.put("kind", e.kind().id());
        n.put("status", e.status().id());
        n.put("default", e.isDefault());
        n.put("deprecated", e.isDeprecated());
        n.put("filesystem", e.filesystem());
        n.put("os", e.os());
        ArrayNode langs = n.putArray("languages");
        e.languages().forEach(langs::add);
        e.verificationHash().ifPresent(v -> n.put("verification_hash", v.value()));
        n.put("origin", e.origin().id());
        return n;
    }
}
