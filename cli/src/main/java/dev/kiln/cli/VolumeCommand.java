package dev.kiln.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.kiln.node.volume.VolumeInfo;
import dev.kiln.node.volume.VolumeListing;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "volume", mixinStandardHelpOptions = true,
        description = "The persistent volumes (persistence: host) this node keeps for programs.",
        subcommands = {VolumeCommand.ListVolumes.class})
final class VolumeCommand implements Runnable {
    @Override
    public void run() {
        throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "a subcommand is required: list");
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List persistent volumes with their size and use, read from the Kiln home"
                    + " (a running node's /about/volumes also says which VM has each one).")
    static final class ListVolumes implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Mixin KilnContext kiln;

        @Option(names = "--json", description = "Print JSON for scripts.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            List<VolumeInfo> volumes = VolumeListing.list(kiln.home().dir("volumes"), Map.of());
            if (json) {
                ArrayNode arr = RuntimeCommand.JSON.createArrayNode();
                for (VolumeInfo v : volumes) {
                    v.writeTo(arr.addObject()).put("image", v.image().toString());
                }
                out.println(RuntimeCommand.JSON.writeValueAsString(arr));
                return Main.OK;
            }
            if (volumes.isEmpty()) {
                out.println("no persistent volumes yet: a program declaring one (persistence: host) creates it at its first start");
                return Main.OK;
            }
            Table t = new Table("OWNER", "NAME", "SIZE", "USED", "STATE");
            for (VolumeInfo v : volumes) {
                t.row(v.owner(), v.name(), v.sizeMib() + " MiB",
                        v.usedBytes() < 0 ? "?" : Bytes.human(v.usedBytes()),
                        v.dirty() ? "attached, or not cleanly detached (checked before the next attach)" : "clean");
            }
            t.print(out);
            return Main.OK;
        }
    }
}
