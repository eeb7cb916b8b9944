package dev.kiln.vm.instance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the host tools instances need (qemu-img, genisoimage), turning failures into messages. */
final class Tools {

    private Tools() {
    }

    /** Runs {@code argv} to completion; {@code what} names the tool and its package for errors. */
    static String run(List<String> argv, String what) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + what + ": " + e.getMessage(), e);
        }
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IOException(what + " did not finish in 2 minutes");
        }
        String text = new String(out, StandardCharsets.UTF_8).strip();
        if (p.exitValue() != 0) throw new IOException(what + " failed (exit " + p.exitValue() + "): " + text);
        return text;
    }
}
