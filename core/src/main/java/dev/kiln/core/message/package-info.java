/**
 * The aleph message model: the envelope ({@link dev.kiln.core.message.AlephMessage}), the contents
 * Kiln acts on (PROGRAM, INSTANCE, STORE), their validation and the inline integrity check.
 *
 * <p>Entry points: {@link dev.kiln.core.message.AlephMessages} (parse, serialise, check),
 * {@link dev.kiln.core.message.MessageValidator}, {@link dev.kiln.core.message.IntegrityCheck},
 * {@link dev.kiln.core.message.AlephMessage#inline}. docs/messages.md explains the rules.
 *
 * <p>Wire values that a user can get wrong (message type, encodings, persistence, refs…) are kept
 * as the strings that were sent, so that a bad message still parses and the validator can report
 * every problem at once; typed accessors ({@code codeRef()}, {@code encoding()}…) convert them once
 * the message is known to be valid. Every record keeps the fields it does not know in
 * {@code unknownFields()}, so a message survives parse → serialise unchanged.
 */
package dev.kiln.core.message;
