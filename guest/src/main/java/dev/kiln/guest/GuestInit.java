package dev.kiln.guest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * The two programs of Kiln's custom init, as the runtime builder installs them: init0 at
 * {@value #INIT0_PATH} (PID 1, POSIX sh) and init1, the agent, as the Python package
 * {@value #INIT1_PACKAGE} in {@value #INIT1_HOME} (init0 runs {@code python3 -m kiln_init1} from
 * there, so the bytecode the builder precompiles is used).
 */
public final class GuestInit {
    public static final String INIT0_PATH = "/sbin/init";
    /** The directory init0 runs the agent from; the package is a directory in it. */
    public static final String INIT1_HOME = "/root";
    public static final String INIT1_PACKAGE = "kiln_init1";
    /** The agent's package directory in an image. */
    public static final String INIT1_PATH = INIT1_HOME + "/" + INIT1_PACKAGE;
    /** Name of the virtio-serial port; the agent opens /dev/virtio-ports/{@value}. */
    public static final String PORT_NAME = "kiln";
    /** Where the runtime builder writes {@code name=<runtime name>} for the agent's HELLO. */
    public static final String RUNTIME_INFO_PATH = "/etc/kiln/runtime";
    /** Kernel command-line key carrying the runtime's item hash (an image cannot contain its own hash). */
    public static final String RUNTIME_HASH_CMDLINE_KEY = "kiln.runtime";

    /** The package's modules: a jar's resources cannot be listed, so they are named here (a test checks the list). */
    static final List<String> INIT1_MODULES = List.of("__init__.py", "__main__.py", "agent.py", "asgi.py", "channel.py",
            "config.py", "console.py", "executable.py", "files.py", "guest_api.py", "json_codec.py", "output.py", "request_head.py",
            "restore.py", "setup.py", "system.py", "upstream.py", "wire.py", "zip_reader.py");

    /** What runs the package from inside a zip application: the archive's root is on sys.path. */
    private static final String ZIPAPP_MAIN = "import runpy\nrunpy.run_module(\"" + INIT1_PACKAGE
            + "\", run_name=\"__main__\", alter_sys=True)\n";

    /** One file of the agent: {@code path} relative to {@value #INIT1_HOME}, e.g. {@code kiln_init1/agent.py}. */
    public record Init1File(String path, byte[] bytes) {
    }

    private GuestInit() {
    }

    public static byte[] init0() {
        return resource("init0.sh");
    }

    /** The agent's files, in a fixed order, as an image gets them under {@value #INIT1_HOME}. */
    public static List<Init1File> init1Files() {
        List<Init1File> files = new ArrayList<>();
        for (String module : INIT1_MODULES) {
            String path = INIT1_PACKAGE + "/" + module;
            files.add(new Init1File(path, resource(path)));
        }
        return List.copyOf(files);
    }

    /**
     * Writes the package into {@code home} (as {@code home/kiln_init1/}) and returns its directory;
     * {@code python3 -m kiln_init1} run in {@code home} starts the agent.
     */
    public static Path writeInit1(Path home) throws IOException {
        for (Init1File f : init1Files()) {
            Path target = home.resolve(f.path());
            Files.createDirectories(target.getParent());
            Files.write(target, f.bytes());
        }
        return home.resolve(INIT1_PACKAGE);
    }

    /**
     * The agent as one file: a Python zip application holding the package ({@code python3 FILE}
     * runs it, whatever the file is named). For running the agent as a host process from one file,
     * and the agent's fingerprint: the same bytes for the same package (fixed times, stored entries).
     */
    public static byte[] init1() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            stored(zip, "__main__.py", ZIPAPP_MAIN.getBytes(StandardCharsets.UTF_8));
            for (Init1File f : init1Files()) stored(zip, f.path(), f.bytes());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void stored(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        CRC32 crc = new CRC32();
        crc.update(bytes);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(bytes.length);
        entry.setCrc(crc.getValue());
        entry.setTimeLocal(LocalDateTime.of(1980, 1, 1, 0, 0));
        zip.putNextEntry(entry);
        zip.write(bytes);
        zip.closeEntry();
    }

    private static byte[] resource(String name) {
        try (InputStream in = GuestInit.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource dev/kiln/guest/" + name + " in the guest jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
