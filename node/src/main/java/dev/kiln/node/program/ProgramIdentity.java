package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.hash.ProgramHostname;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who a program is inside its VM, as aleph's init tells it: the hostname is the base32 label of
 * its item hash (the same label that routes requests to it by Host header), and the environment
 * carries that name and the hash. docs/guest-protocol.md ("Identity") lists the variables.
 */
public final class ProgramIdentity {
    /** aleph-vm's init exports the hostname under this name (aleph-client reads it). */
    public static final String ADDRESS_VARIABLE = "ALEPH_ADDRESS_TO_USE";
    /** The program's item hash in hex; Kiln's addition, aleph programs otherwise only know the label. */
    public static final String ITEM_HASH_VARIABLE = "ALEPH_ITEM_HASH";

    private ProgramIdentity() {}

    /** The guest's hostname; none for a hash that is not SHA-256 (it has no 52-letter label). */
    public static Optional<String> hostname(ItemHash program) {
        return program.isSha256() ? Optional.of(ProgramHostname.label(program)) : Optional.empty();
    }

    /**
     * The identity variables, then the message's {@code variables} over them: aleph's init sets
     * its own first and the program's after, so a program that names one of them wins.
     */
    public static Map<String, String> environment(ItemHash program, Map<String, String> variables) {
        Map<String, String> env = new LinkedHashMap<>();
        hostname(program).ifPresent(h -> env.put(ADDRESS_VARIABLE, h));
        env.put(ITEM_HASH_VARIABLE, program.value());
        env.putAll(variables);
        return env;
    }
}
