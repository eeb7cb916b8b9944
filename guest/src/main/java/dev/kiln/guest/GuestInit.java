package dev.kiln.guest;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * The two programs of Kiln's custom init, as the runtime builder installs them: init0 at
 * {@value #INIT0_PATH} (PID 1, POSIX sh) and init1 at {@value #INIT1_PATH} (the agent).
 */
public final class GuestInit {
    public static final String INIT0_PATH = "/sbin/init";
    public static final String INIT1_PATH = "/root/init1.py";
    /** Name of the virtio-serial port; the agent opens /dev/virtio-ports/{@value}. */
    public static final String PORT_NAME = "kiln";
    /** Where the runtime builder writes {@code name=<runtime name>} for the agent's HELLO. */
    public static final String RUNTIME_INFO_PATH = "/etc/kiln/runtime";
    /** Kernel command-line key carrying the runtime's item hash (an image cannot contain its own hash). */
    public static final String RUNTIME_HASH_CMDLINE_KEY = "kiln.runtime";

    private GuestInit() {
    }

    public static byte[] init0() {
        return resource("init0.sh");
    }

    public static byte[] init1() {
        return resource("init1.py");
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
