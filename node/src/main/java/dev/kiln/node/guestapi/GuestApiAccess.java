package dev.kiln.node.guestapi;

import dev.kiln.core.message.Environment;
import dev.kiln.core.message.ProgramContent;

/**
 * What of the guest API a program asked for: {@code environment.aleph_api} gives the aleph API
 * proxy, {@code /properties} and posting (where the operator allows it); {@code
 * environment.shared_cache} gives {@code /cache}. Either one starts the agent's listener; a
 * program with neither gets no socket at all.
 */
public record GuestApiAccess(boolean api, boolean cache) {
    public static final GuestApiAccess NONE = new GuestApiAccess(false, false);

    public static GuestApiAccess of(ProgramContent content) {
        return of(content.environment());
    }

    /** The same two flags of an INSTANCE's environment (null: none). */
    public static GuestApiAccess of(Environment env) {
        if (env == null) return NONE;
        return new GuestApiAccess(Boolean.TRUE.equals(env.alephApi()), Boolean.TRUE.equals(env.sharedCache()));
    }

    public boolean any() {
        return api || cache;
    }
}
