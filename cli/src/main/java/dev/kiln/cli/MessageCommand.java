package dev.kiln.cli;

import dev.kiln.core.message.AlephMessage;
import dev.kiln.core.message.AlephMessages;
import dev.kiln.core.message.MessageFormatException;
import dev.kiln.core.message.MessageType;
import dev.kiln.core.message.ProgramContent;
import dev.kiln.core.message.ValidationError;
import dev.kiln.node.program.ProgramContract;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "message", mixinStandardHelpOptions = true, description = "Work with aleph messages.", subcommands = {MessageCommand.Validate.class, MessagePost.class, MessageDeliveries.class, MessagePublish.class})
final class MessageCommand {

    /** Far above any real message (aleph caps inline content at a few hundred KiB). */
    static final long MAX_MESSAGE_BYTES = 16L * 1024 * 1024;

    /** The file's text, refused with the reason when it cannot be a message (missing, huge, not UTF-8). */
    static String readMessageFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException("no such file: " + file);
        long size = Files.size(file);
        if (size > MAX_MESSAGE_BYTES) {
            throw new IOException(file + " is " + Bytes.human(size) + "; a message is at most "
                    + Bytes.human(MAX_MESSAGE_BYTES) + " — is this the right file?");
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file))).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + " is not UTF-8 text; a message is a JSON document");
        }
    }

    @Command(name = "validate", mixinStandardHelpOptions = true, description = "Check an aleph PROGRAM, INSTANCE or STORE message; prints every problem. Exit 1 if invalid.")
    static final class Validate implements Callable<Integer> {
        @Spec CommandSpec spec;
        @Parameters(paramLabel = "FILE.json") Path file;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            String json = readMessageFile(file);
            AlephMessage m;
            try {
                m = AlephMessages.parse(json);
            } catch (MessageFormatException e) {
                throw new IOException(file + ": " + e.getMessage());
            }
            List<ValidationError> errors = AlephMessages.check(m);
            String what = (m.type() == null ? "message" : m.type() + " message") + " " + m.itemHash();
            if (errors.isEmpty()) {
                out.println(file + ": valid " + what + (m.isInline() ? " (item_hash matches item_content)" : ""));
                if (m.messageType().orElse(null) == MessageType.PROGRAM) {
                    // Valid for aleph, but a Kiln node answers 400 unsupported for these: say so before publishing.
                    for (ProgramContract.Refusal r : ProgramContract.refusals(m.contentAs(ProgramContent.class))) {
                        err.println("warning: a Kiln node refuses " + r);
                    }
                }
                return Main.OK;
            }
            err.println(file + ": invalid " + what + ", " + errors.size() + (errors.size() == 1 ? " problem:" : " problems:"));
            for (ValidationError e : errors) err.println("  " + e);
            return Main.USER_ERROR;
        }
    }
}
