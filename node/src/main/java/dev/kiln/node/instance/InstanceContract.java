package dev.kiln.node.instance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.core.message.Environment;
import dev.kiln.core.message.InstanceContent;
import dev.kiln.core.message.Persistence;
import dev.kiln.core.message.PersistentVolume;
import dev.kiln.core.message.Volume;
import dev.kiln.node.program.ProgramContract.Refusal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The fields of INSTANCE content this node does not honour, found before anything is resolved or
 * booted, each named (docs/messages.md has the table of every field). What is not refused here is
 * honoured by {@link InstanceResolver} and {@link InstancePlan}, or is informational.
 */
public final class InstanceContract {
    private InstanceContract() {}

    public static List<Refusal> refusals(InstanceContent c, HostSev sev) {
        List<Refusal> out = new ArrayList<>();
        unknown(out, "content", c.unknownFields());
        if (c.rootfs() != null) {
            if (c.rootfs().knownPersistence().orElse(null) != Persistence.HOST) {
                out.add(new Refusal("content.rootfs.persistence", "is '" + c.rootfs().persistence() + "'; this node keeps"
                        + " an instance's disk on its own disk only (persistence: host)"));
            }
            unknown(out, "content.rootfs", c.rootfs().unknownFields());
            if (c.rootfs().parent() != null) unknown(out, "content.rootfs.parent", c.rootfs().parent().unknownFields());
        }
        Environment env = c.environment();
        if (env != null) {
            if (env.isConfidential()) out.add(new Refusal("content.environment.trusted_execution", sev.refusal()));
            unknown(out, "content.environment", env.unknownFields());
            if (env.trustedExecution() != null) {
                unknown(out, "content.environment.trusted_execution", env.trustedExecution().unknownFields());
            }
        }
        if (c.resources() != null) unknown(out, "content.resources", c.resources().unknownFields());
        JsonNode req = c.requirements();
        if (req != null && !req.isNull() && !req.isEmpty()) {
            if (req.has("gpu")) {
                out.add(new Refusal("content.requirements.gpu", "this node has no GPU to pass through to a VM"));
            }
            req.fieldNames().forEachRemaining(f -> {
                if (!f.equals("gpu")) {
                    out.add(new Refusal("content.requirements." + f, "this node does not check node requirements;"
                            + " remove it"));
                }
            });
        }
        List<Volume> volumes = c.volumesOrEmpty();
        for (int i = 0; i < volumes.size(); i++) {
            String at = "content.volumes[" + i + "]";
            Volume v = volumes.get(i);
            if (v instanceof PersistentVolume p) {
                if (p.knownPersistence().orElse(null) != Persistence.HOST) {
                    out.add(new Refusal(at + ".persistence", "is '" + p.persistence() + "'; this node keeps persistent"
                            + " volumes on its own disk only (persistence: host): volumes stored on the aleph network"
                            + " need the network's storage, which a Kiln node does not reach"));
                }
                if (p.parent() != null) unknown(out, at + ".parent", p.parent().unknownFields());
            }
            unknown(out, at, v.unknownFields());
        }
        return out;
    }

    private static void unknown(List<Refusal> out, String at, Map<String, JsonNode> fields) {
        for (String f : fields.keySet()) {
            out.add(new Refusal(at + "." + f, "is not a field this node knows; remove it"));
        }
    }
}
