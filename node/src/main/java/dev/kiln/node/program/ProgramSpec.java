package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.core.message.Volume;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What {@code kiln program create} asks for: code (a directory to pack, or an already packed
 * file), how to start it, and the runtime it runs in.
 *
 * @param source         a directory (packed with {@code encoding}) or a file used as is
 * @param codeInterface  ASGI or an executable; null: inferred from the entrypoint as aleph does
 * @param runtime        the runtime's STORE message hash
 * @param runtimeComment a human description of the runtime, kept in the message
 * @param name           a local label for {@code kiln program list}, or null
 * @param internet       {@code environment.internet}: the VM gets a NIC and NAT on a node started with networking
 * @param persistent     {@code on.persistent}: the node runs it from allocation on, not from the first request
 * @param volumes        {@code volumes}, written into the message as given
 */
public record ProgramSpec(Path source, Encoding encoding, String entrypoint, CodeInterface codeInterface,
                          ItemHash runtime, String runtimeComment, Resources resources, Map<String, String> variables,
                          String name, boolean internet, boolean persistent, List<Volume> volumes) {

    /** An on-demand program with volumes. */
    public ProgramSpec(Path source, Encoding encoding, String entrypoint, CodeInterface codeInterface, ItemHash runtime,
                       String runtimeComment, Resources resources, Map<String, String> variables, String name,
                       boolean internet, List<Volume> volumes) {
        this(source, encoding, entrypoint, codeInterface, runtime, runtimeComment, resources, variables, name, internet,
                false, volumes);
    }

    /** A program without volumes. */
    public ProgramSpec(Path source, Encoding encoding, String entrypoint, CodeInterface codeInterface, ItemHash runtime,
                       String runtimeComment, Resources resources, Map<String, String> variables, String name,
                       boolean internet, boolean persistent) {
        this(source, encoding, entrypoint, codeInterface, runtime, runtimeComment, resources, variables, name, internet,
                persistent, List.of());
    }

    /** A program without internet access (environment.internet false). */
    public ProgramSpec(Path source, Encoding encoding, String entrypoint, CodeInterface codeInterface, ItemHash runtime,
                       String runtimeComment, Resources resources, Map<String, String> variables, String name) {
        this(source, encoding, entrypoint, codeInterface, runtime, runtimeComment, resources, variables, name, false);
    }

    /** An on-demand program (on.persistent false). */
    public ProgramSpec(Path source, Encoding encoding, String entrypoint, CodeInterface codeInterface, ItemHash runtime,
                       String runtimeComment, Resources resources, Map<String, String> variables, String name,
                       boolean internet) {
        this(source, encoding, entrypoint, codeInterface, runtime, runtimeComment, resources, variables, name, internet,
                false);
    }

    /** The same program, persistent or not. */
    public ProgramSpec persistent(boolean on) {
        return new ProgramSpec(source, encoding, entrypoint, codeInterface, runtime, runtimeComment, resources, variables,
                name, internet, on, volumes);
    }

    public ProgramSpec {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(encoding, "encoding");
        Objects.requireNonNull(entrypoint, "entrypoint");
        Objects.requireNonNull(runtime, "runtime");
        resources = resources == null ? Resources.of(Resources.DEFAULT_VCPUS, Resources.DEFAULT_MEMORY_MIB,
                Resources.DEFAULT_SECONDS) : resources;
        variables = variables == null ? Map.of() : Map.copyOf(variables);
        volumes = volumes == null ? List.of() : List.copyOf(volumes);
    }
}
