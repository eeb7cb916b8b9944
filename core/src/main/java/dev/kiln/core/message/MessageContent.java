package dev.kiln.core.message;

/**
 * The {@code content} of a message; which record it is follows from the envelope's {@code type}.
 * {@link OtherContent} holds the content of message types Kiln does not model, so such messages
 * still parse, round-trip and reach the validator, which refuses them by name.
 */
public sealed interface MessageContent permits ExecutableContent, StoreContent, OtherContent {}
