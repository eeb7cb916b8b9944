package dev.kiln.store;

import dev.kiln.store.records.RecordsException;
import dev.kiln.store.records.StoreRecords;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Objects;

/**
 * The directory under which Kiln keeps everything it stores: blobs, databases, temporary files,
 * quarantined blobs, and later kernels, runtimes and VM state.
 *
 * <p>Resolution order: an explicit value (the CLI's {@code --home}) &gt; {@code KILN_HOME} &gt;
 * {@code $XDG_DATA_HOME/kiln} &gt; {@code ~/.local/share/kiln}. See docs/store.md.
 *
 * @param root   absolute, normalised path of the home directory (it may not exist yet)
 * @param source where the value came from, so {@code kiln about} can explain a surprising home
 */
public record KilnHome(Path root, Source source) {

    public static final String ENV_VAR = "KILN_HOME";

    public enum Source { EXPLICIT, KILN_HOME_ENV, XDG_DATA_HOME, DEFAULT }

    public KilnHome {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(source, "source");
        root = root.toAbsolutePath().normalize();
    }

    /** A home at a known path, e.g. a test's temporary directory. */
    public static KilnHome of(Path root) {
        return new KilnHome(root, Source.EXPLICIT);
    }

    /** Resolves from the process environment and {@code user.home}; {@code explicit} may be null. */
    public static KilnHome resolve(String explicit) {
        return resolve(explicit, System.getenv(), Path.of(System.getProperty("user.home")));
    }

    /** Resolution with its inputs passed in, so it can be tested without touching the process. */
    public static KilnHome resolve(String explicit, Map<String, String> env, Path userHome) {
        if (isSet(explicit)) {
            return new KilnHome(expand(explicit, userHome), Source.EXPLICIT);
        }
        String fromEnv = env.get(ENV_VAR);
        if (isSet(fromEnv)) {
            return new KilnHome(expand(fromEnv, userHome), Source.KILN_HOME_ENV);
        }
        // The XDG base directory spec says a relative XDG_DATA_HOME is invalid and must be ignored.
        String xdg = env.get("XDG_DATA_HOME");
        if (isSet(xdg) && Path.of(xdg.strip()).isAbsolute()) {
            return new KilnHome(Path.of(xdg.strip()).resolve("kiln"), Source.XDG_DATA_HOME);
        }
        return new KilnHome(userHome.resolve(".local/share/kiln"), Source.DEFAULT);
    }

    /** Content-addressed blobs: {@code blobs/sha256/ab/abcd…}. */
    public Path blobs() {
        return root.resolve("blobs");
    }

    /** Scratch space on the same filesystem as the blobs, so finished files can be renamed in. */
    public Path tmp() {
        return root.resolve("tmp");
    }

    /** Blobs that failed verification, kept for inspection rather than deleted. */
    public Path quarantine() {
        return root.resolve("quarantine");
    }

    /** SQLite databases (each with its -wal and -shm companions). */
    public Path db() {
        return root.resolve("db");
    }

    /** A named area for other modules (kernels, runtimes, vms…), so they all stay under the home. */
    public Path dir(String name) {
        Path p = root.resolve(name).normalize();
        if (!p.getParent().equals(root)) {
            throw new IllegalArgumentException("not a direct child of the Kiln home: " + name);
        }
        return p;
    }

    /** Opens (creating the home, and the database and its schema if needed) the STORE message records kept here. */
    public StoreRecords openStoreRecords() throws RecordsException {
        try {
            create();
        } catch (IOException e) {
            throw new RecordsException("cannot create the Kiln home " + root + ": " + e.getMessage(), e);
        }
        return StoreRecords.open(db().resolve(StoreRecords.FILE_NAME));
    }

    /**
     * Creates the home if missing. A new home is made private (0700) as the XDG spec asks, because
     * VM state kept here later may hold program secrets; an existing one is left as the user set it.
     */
    public KilnHome create() throws IOException {
        if (!Files.isDirectory(root)) {
            Path parent = root.getParent();
            if (parent != null) Files.createDirectories(parent);
            try {
                if (FileSystemSupport.isPosix(parent == null ? root : parent)) {
                    Files.createDirectory(root,
                            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
                } else {
                    Files.createDirectory(root);
                }
            } catch (FileAlreadyExistsException raced) {
                if (!Files.isDirectory(root)) {
                    throw new FileAlreadyExistsException(root.toString(), null,
                            "the Kiln home exists but is not a directory: move it away or choose another with --home or KILN_HOME");
                }
            }
        }
        return this;
    }

    private static boolean isSet(String s) {
        return s != null && !s.isBlank();
    }

    /** Expands a leading {@code ~} (a service file's environment is not expanded by a shell). */
    private static Path expand(String value, Path userHome) {
        String s = value.strip();
        if (s.equals("~")) return userHome;
        if (s.startsWith("~/")) return userHome.resolve(s.substring(2));
        return Path.of(s);
    }
}
