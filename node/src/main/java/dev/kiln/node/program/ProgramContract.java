package dev.kiln.node.program;

import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Environment;
import dev.kiln.core.message.Export;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.Volume;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of PROGRAM content this node does not honour (or not in the form given), found before anything is fetched
 * or booted: a program that relies on one learns it at its first request, with the field named,
 * instead of running without it. docs/messages.md has the table of every field.
 */
public final class ProgramContract {
    /** A field set in the message that this node would otherwise ignore. */
    public record Refusal(String field, String reason) {
        @Override
        public String toString() {
            return field + ": " + reason;
        }
    }

    private ProgramContract() {}

    public static List<Refusal> refusals(ProgramContent p) {
        List<Refusal> out = new ArrayList<>();
        if (p.export() != null) export(p, out);
        if (p.on() != null) {
            // Honoured (docs/events.md); only filters aleph's matcher cannot compare are refused.
            var filters = p.on().subscriptions();
            for (int i = 0; i < filters.size(); i++) {
                for (String problem : dev.kiln.node.events.match.Subscription.problems(filters.get(i), "content.on.message[" + i + "]")) {
                    int colon = problem.indexOf(": ");
                    out.add(new Refusal(problem.substring(0, colon), problem.substring(colon + 2)));
                }
            }
        }
        // environment.aleph_api and shared_cache are honoured: the guest API (docs/guest-api.md).
        if (p.authorizedKeys() != null && !p.authorizedKeys().isEmpty()) {
            out.add(new Refusal("content.authorized_keys", "this node gives program VMs no SSH access;"
                    + " remove authorized_keys"));
        }
        if (p.code() != null && p.code().args() != null && !p.code().args().isEmpty()) {
            out.add(new Refusal("content.code.args", "this node starts the entrypoint without arguments;"
                    + " remove code.args (pass settings in variables)"));
        }
        if (p.requirements() != null && !p.requirements().isNull() && !p.requirements().isEmpty()) {
            out.add(new Refusal("content.requirements", "this node does not check node requirements"
                    + " (CPU, node hash); remove requirements"));
        }
        return out;
    }

    /** The data directory packed at stop is a drive of its own: it must be zip, and not inside another volume. */
    private static void export(ProgramContent p, List<Refusal> out) {
        Export e = p.export();
        if (e.knownEncoding().orElse(null) != Encoding.ZIP) {
            out.add(new Refusal("content.export.encoding", "is '" + e.encoding() + "'; this node packs data directories"
                    + " as zip only: set encoding to zip"));
        }
        if (e.mount() == null || !e.mount().startsWith("/") || e.mount().equals("/")) {
            out.add(new Refusal("content.export.mount", "is '" + e.mount() + "'; set it to the absolute directory"
                    + " to pack, e.g. /data"));
            return;
        }
        List<Volume> volumes = p.volumesOrEmpty();
        for (int i = 0; i < volumes.size(); i++) {
            String m = volumes.get(i).mount();
            if (m != null && (within(e.mount(), m) || within(m, e.mount()))) {
                out.add(new Refusal("content.export.mount", "'" + e.mount() + "' overlaps content.volumes[" + i
                        + "].mount '" + m + "'; the exported directory is a volume of its own: set export.mount to"
                        + " a directory outside the other volumes"));
                return;
            }
        }
    }

    private static boolean within(String path, String dir) {
        String d = dir.endsWith("/") ? dir.substring(0, dir.length() - 1) : dir;
        String q = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
        return q.equals(d) || q.startsWith(d + "/");
    }
}
