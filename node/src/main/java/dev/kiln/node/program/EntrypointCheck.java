package dev.kiln.node.program;

import dev.kiln.core.message.CodeInterface;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Catches an entrypoint that names nothing in the program's directory before the program is
 * published, when the mistake costs a sentence instead of a VM boot that fails at configure.
 */
final class EntrypointCheck {
    private EntrypointCheck() {}

    /**
     * @param iface the interface given, or null when it will be inferred from the entrypoint
     *              (ASGI when it has a ':', as aleph infers it)
     */
    static void check(Path dir, String entrypoint, CodeInterface iface) throws PackagingException {
        boolean asgi = iface != null ? iface == CodeInterface.ASGI : entrypoint.contains(":");
        if (asgi) {
            // An attribute alone means main:<attribute>, as the agent reads it.
            String full = entrypoint.contains(":") ? entrypoint : "main:" + entrypoint;
            int colon = full.indexOf(':');
            if (colon <= 0 || colon == full.length() - 1) {
                throw new PackagingException("an ASGI entrypoint is module:attribute, e.g. main:app; got '" + entrypoint + "'");
            }
            // A malformed module name is the message validation's to explain (ProgramRules).
            String name = full.substring(0, colon);
            if (name.endsWith(".py") || !name.matches("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*")) return;
            String module = full.substring(0, colon).replace('.', '/');
            if (!Files.isRegularFile(dir.resolve(module + ".py")) && !Files.isRegularFile(dir.resolve(module).resolve("__init__.py"))) {
                throw new PackagingException("the entrypoint's module " + full.substring(0, colon) + " is not in " + dir
                        + " (no " + module + ".py or " + module + "/__init__.py)");
            }
            return;
        }
        Path program = dir.resolve(entrypoint).normalize();
        if (!program.startsWith(dir.normalize()) || !Files.isRegularFile(program)) {
            throw new PackagingException("the entrypoint '" + entrypoint + "' is not a file in " + dir
                    + (iface == null ? "; for an ASGI app give module:attribute (e.g. main:app), for a program its path"
                    + " relative to the directory" : ""));
        }
        if (!Files.isExecutable(program)) {
            throw new PackagingException("the entrypoint " + entrypoint + " is not executable: chmod +x it"
                    + " (an executable program is started as it is and must listen on port 8080)");
        }
    }
}
