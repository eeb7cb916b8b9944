package dev.kiln.node.control;

import dev.kiln.core.hash.ItemHash;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the operator API and {@code kiln instance list} show of one allocated machine.
 *
 * @param state    the machine's state as its owner sees it: {@code starting}, {@code running},
 *                 {@code restarting}, {@code stopped}, {@code failed}
 * @param since    when it entered that state
 * @param sshPort  the host port forwarded to the guest's port 22 (instances only)
 * @param detail   further facts for display, e.g. {@code restarts}, {@code last_failure}, {@code address}
 */
public record MachineInfo(ItemHash message, MachineKind kind, String state, Instant since,
                          Optional<Integer> sshPort, Map<String, String> detail) {
    public MachineInfo {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(sshPort, "sshPort");
        detail = Map.copyOf(detail);
    }
}
