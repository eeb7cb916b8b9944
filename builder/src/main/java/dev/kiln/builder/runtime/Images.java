package dev.kiln.builder.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/** Small file operations on the image tree shared by the steps. */
final class Images {

    private Images() {
    }

    /** Creates missing directories up to {@code dir} (which must be inside the tree), mode 0755. */
    static void createDirectories(RootFs root, Path dir) throws IOException {
        if (!dir.startsWith(root.dir())) throw new IOException(dir + " is outside the image");
        if (Files.isDirectory(dir)) return;
        createDirectories(root, dir.getParent());
        Files.createDirectory(dir);
        setMode(dir, 0755);
    }

    /** Sets the permission bits exactly (the umask of the JVM must not leak into the image). */
    static void setMode(Path file, int mode) throws IOException {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
                PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
                PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
                PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < order.length; bit++) {
            if ((mode & (1 << bit)) != 0) perms.add(order[bit]);
        }
        Files.setPosixFilePermissions(file, perms);
        if ((mode & 07000) != 0) Files.setAttribute(file, "unix:mode", mode, LinkOption.NOFOLLOW_LINKS);
    }
}
