package dev.kiln.node.program;

import dev.kiln.core.message.ProgramContent;
import java.util.ArrayList;
import java.util.List;

/**
 * The fields of PROGRAM content this node does not honour yet, found before anything is fetched
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
        if (p.export() != null) {
            out.add(new Refusal("content.export", "packing the data directory into the store when the VM stops"
                    + " is not done by this node; remove export"));
        }
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
}
