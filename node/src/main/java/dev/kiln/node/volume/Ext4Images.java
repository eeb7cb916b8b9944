package dev.kiln.node.volume;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes empty ext4 filesystems in sparse files with e2fsprogs' {@code mkfs.ext4}: the file has
 * the volume's full size (so the guest can never write more than {@code size_mib}) but takes
 * disk space only for what is written.
 */
public final class Ext4Images {
    /** e2fsprogs lives in sbin, which an ordinary user's PATH often lacks. */
    private static final List<Path> SBIN = List.of(Path.of("/usr/sbin"), Path.of("/sbin"));
    private static final long MKFS_TIMEOUT_SECONDS = 120;

    private Ext4Images() {}

    /**
     * An empty ext4 filesystem of {@code sizeMib} MiB at {@code file} (replaced if it exists).
     *
     * @param journal false for scratch space, which is thrown away anyway after a crash
     */
    public static void create(Path file, long sizeMib, boolean journal) throws VolumeException {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.deleteIfExists(file);
            try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
                raf.setLength(sizeMib * 1024 * 1024);
            }
        } catch (IOException e) {
            throw new VolumeException("cannot create the volume image " + file + ": " + e.getMessage(), e);
        }
        List<String> command = new ArrayList<>(List.of(tool("mkfs.ext4").toString(), "-q", "-F", "-m", "0",
                // Lazy init keeps mkfs fast on big sparse files; the guest kernel finishes it in the background.
                "-E", "lazy_itable_init=1,lazy_journal_init=1,nodiscard"));
        if (!journal) command.addAll(List.of("-O", "^has_journal"));
        command.add(file.toString());
        run(command, "mkfs.ext4 on " + file);
    }

    /**
     * Checks an image that is not attached with {@code e2fsck -p} unless its superblock shows a
     * clean unmount; problems beyond what -p fixes are an error naming the command to run.
     */
    public static void checkUnattended(Path image, String what) throws VolumeException {
        if (!Ext4State.cleanlyDetached(image)) preen(image, what);
    }

    /**
     * {@code e2fsck -p}: replays the journal and fixes what is safe to fix unattended; anything
     * worse is left to a person, with the command to run, rather than guessed at with -y.
     */
    static void preen(Path image, String what) throws VolumeException {
        int status = status(List.of(tool("e2fsck").toString(), "-p", image.toString()), "e2fsck -p on " + image);
        // 0: clean, 1: errors fixed, 2: fixed and "reboot" (meaningless for an unmounted image).
        if (status > 2) {
            throw new VolumeException(what + " has filesystem errors e2fsck -p will not fix (exit " + status
                    + "); while no VM uses it, run: e2fsck -f -y " + image, null);
        }
    }

    /**
     * Copies every file of the (unattached) image into {@code into} with {@code debugfs rdump},
     * which reads the filesystem itself: no mount, no privileges.
     */
    public static void dumpTree(Path image, Path into) throws VolumeException {
        if (into.toString().contains("\"") || image.toString().contains("\"")) {
            throw new VolumeException("cannot dump " + image + " into " + into + ": a path contains a double quote", null);
        }
        String out = run(List.of(tool("debugfs").toString(), "-R", "rdump / \"" + into + "\"", image.toString()),
                "debugfs rdump of " + image);
        // debugfs exits 0 even when a request fails; it reports on its output instead.
        for (String line : out.lines().toList()) {
            if (line.startsWith("rdump:") || line.contains("while ")) {
                throw new VolumeException("debugfs could not read " + image + ": " + line, null);
            }
        }
    }

    /** The path of an e2fsprogs tool, or a clear error naming the package to install. */
    public static Path tool(String name) throws VolumeException {
        String path = System.getenv("PATH");
        List<Path> dirs = new ArrayList<>();
        if (path != null) for (String d : path.split(":")) if (!d.isEmpty()) dirs.add(Path.of(d));
        dirs.addAll(SBIN);
        for (Path d : dirs) {
            Path candidate = d.resolve(name);
            if (Files.isExecutable(candidate)) return candidate;
        }
        throw new VolumeException(name + " was not found: install e2fsprogs (scripts/setup.sh does) to use"
                + " ephemeral or persistent volumes", null);
    }

    /** Runs a tool to completion; its output goes into the error when it fails. */
    static String run(List<String> command, String what) throws VolumeException {
        Result r = execute(command, what);
        if (r.status() != 0) {
            throw new VolumeException(what + " failed (exit " + r.status() + ")"
                    + (r.output().isEmpty() ? "" : ": " + r.output()), null);
        }
        return r.output();
    }

    /** Runs a tool whose exit status means something (e2fsck); returns it. */
    static int status(List<String> command, String what) throws VolumeException {
        Result r = execute(command, what);
        if (r.status() != 0) System.getLogger(Ext4Images.class.getName()).log(System.Logger.Level.INFO,
                what + ": exit " + r.status() + (r.output().isEmpty() ? "" : ": " + r.output()));
        return r.status();
    }

    private record Result(int status, String output) {
    }

    private static Result execute(List<String> command, String what) throws VolumeException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(MKFS_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new VolumeException(what + " did not finish in " + MKFS_TIMEOUT_SECONDS + " s", null);
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
        } catch (IOException e) {
            throw new VolumeException(what + " could not be run: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VolumeException(what + " was interrupted", e);
        }
    }
}
