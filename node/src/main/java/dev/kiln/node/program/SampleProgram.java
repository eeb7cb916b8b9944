package dev.kiln.node.program;

import dev.kiln.core.hash.ItemHash;
import dev.kiln.core.message.CodeInterface;
import dev.kiln.core.message.Encoding;
import dev.kiln.core.message.Resources;
import dev.kiln.store.records.RecordsException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The bundled sample ASGI program ({@code dev/kiln/node/sample/main.py}): what {@code kiln node}
 * deploys on first start, what the self check and the benchmark drive. Standard library only, so
 * it runs on any runtime whose Python has asyncio.
 */
public final class SampleProgram {
    /** The local name it is recorded under. */
    public static final String NAME = "sample";
    public static final String ENTRYPOINT = "main:app";
    /** Small enough to fit many on a node; plenty for the app. */
    public static final Resources RESOURCES = Resources.of(1, 128, 30);

    private SampleProgram() {
    }

    /** The app's source. */
    public static byte[] source() {
        try (InputStream in = SampleProgram.class.getResourceAsStream("/dev/kiln/node/sample/main.py")) {
            if (in == null) throw new IllegalStateException("missing resource dev/kiln/node/sample/main.py in the node jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes the program's directory (main.py) under {@code parent}. */
    public static Path writeTo(Path parent) throws IOException {
        Path dir = Files.createDirectories(parent.resolve("sample-program"));
        Files.write(dir.resolve("main.py"), source());
        return dir;
    }

    /**
     * Deploys the sample on this node with the given runtime, or returns the one already deployed
     * with it (same code, same runtime).
     *
     * @param encoding zip (inline over the guest channel) or squashfs (a drive)
     */
    public static PublishedProgram deploy(ProgramPublisher publisher, ItemHash runtime, Encoding encoding, Path scratch)
            throws IOException, PackagingException, RecordsException, InterruptedException {
        Path dir = writeTo(Files.createTempDirectory(Files.createDirectories(scratch), "sample-"));
        try {
            return publisher.publish(new ProgramSpec(dir, encoding, ENTRYPOINT, CodeInterface.ASGI, runtime,
                    "Kiln's default runtime", RESOURCES, Map.of("KILN_SAMPLE", "1"), NAME));
        } finally {
            Files.deleteIfExists(dir.resolve("main.py"));
            Files.deleteIfExists(dir);
            Files.deleteIfExists(dir.getParent());
        }
    }
}
