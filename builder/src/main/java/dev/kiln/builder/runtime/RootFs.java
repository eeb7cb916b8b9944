package dev.kiln.builder.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/**
 * The root filesystem tree being built, seen from the host. Paths inside it are resolved the way
 * the guest would resolve them ({@code chroot} semantics): an absolute symbolic link such as
 * {@code /etc/resolv.conf -> /run/...} points into the tree, never into the host.
 */
record RootFs(Path dir) {

    private static final int MAX_LINKS = 40;

    /**
     * The host path of {@code guestPath} ("/usr/share/doc"), following links in every component but
     * the last (so the last can be deleted or replaced as itself).
     */
    Path resolve(String guestPath) throws IOException {
        if (!guestPath.startsWith("/")) throw new IllegalArgumentException("not an absolute guest path: " + guestPath);
        return resolve(guestPath, 0);
    }

    private Path resolve(String guestPath, int hopsSoFar) throws IOException {
        Path current = dir;
        String[] parts = guestPath.substring(1).split("/");
        int hops = hopsSoFar;
        for (int i = 0; i < parts.length; i++) {
            String part = parts[i];
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) {
                if (!current.equals(dir)) current = current.getParent();
                continue;
            }
            Path next = current.resolve(part);
            boolean last = i == parts.length - 1;
            if (!last && Files.isSymbolicLink(next)) {
                if (++hops > MAX_LINKS) throw new IOException("too many symbolic links resolving " + guestPath + " in the image");
                String target = Files.readSymbolicLink(next).toString();
                String rest = String.join("/", java.util.Arrays.copyOfRange(parts, i + 1, parts.length));
                String base = target.startsWith("/") ? target : guestPathOf(current) + "/" + target;
                return resolve(normalise(base + "/" + rest), hops);
            }
            current = next;
        }
        return current;
    }

    /** Like {@link #resolve}, following a link in the last component too (inside the tree). */
    Path followed(String guestPath) throws IOException {
        return resolve(guestPath + "/x").getParent();
    }

    /** The guest path of a host path inside the tree. */
    String guestPathOf(Path host) {
        Path rel = dir.relativize(host);
        return rel.toString().isEmpty() ? "" : "/" + rel;
    }

    boolean exists(String guestPath) throws IOException {
        return Files.exists(resolve(guestPath), LinkOption.NOFOLLOW_LINKS);
    }

    private static String normalise(String p) {
        java.util.Deque<String> out = new java.util.ArrayDeque<>();
        for (String part : p.split("/")) {
            if (part.isEmpty() || part.equals(".")) continue;
            if (part.equals("..")) {
                if (!out.isEmpty()) out.removeLast();
            } else {
                out.addLast(part);
            }
        }
        return "/" + String.join("/", out);
    }
}
