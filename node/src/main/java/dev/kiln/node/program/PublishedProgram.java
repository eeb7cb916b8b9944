package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;

/**
 * A PROGRAM message published on this node.
 *
 * @param message  the PROGRAM message's item hash: {@code /vm/<message>/}
 * @param code     the code's STORE message
 * @param codeFile the packed code's file hash
 * @param reused   true if an identical program was already published and is returned instead
 */
public record PublishedProgram(ItemHash message, ItemHash code, ItemHash codeFile, ItemHash runtime, boolean reused) {
}
