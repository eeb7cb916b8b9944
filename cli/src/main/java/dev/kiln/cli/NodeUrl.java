package dev.kiln.cli;

import dev.kiln.node.NodeConfig;
import java.net.URI;
import picocli.CommandLine.Option;

/** The {@code --node-url} option of every command that talks to a running node, and what it says when none answers. */
final class NodeUrl {
    @Option(names = "--node-url", paramLabel = "URL", defaultValue = "http://127.0.0.1:" + NodeConfig.DEFAULT_PORT,
            description = "The node (default: ${DEFAULT-VALUE}).")
    String value;

    /** The URL without a trailing slash, to append paths that start with one. */
    String base() {
        return value.endsWith("/") ? value.substring(0, value.length() - 1) : value;
    }

    /** The URL with a trailing slash, to resolve relative paths against. */
    URI root() {
        return URI.create(base() + "/");
    }

    /** The line a command prints when nothing listens there. */
    String unreachable() {
        return "kiln: no node answers at " + value + "; start one with `kiln node` or give --node-url";
    }
}
