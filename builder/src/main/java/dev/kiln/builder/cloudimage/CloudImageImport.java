package dev.kiln.builder.cloudimage;

import dev.kiln.builder.runtime.LocalRuntimes;
import dev.kiln.store.LocalPublisher;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code kiln runtime import}: a cloud image downloaded by the user (or built here) becomes a
 * qemu-disk-image runtime. The file is checked ({@link CloudImage#inspect}), then published like
 * a built runtime: its SHA-256 is its item hash, the store keeps it verified, and the STORE
 * message's hash is what an INSTANCE message's {@code rootfs.parent.ref} names.
 */
public final class CloudImageImport {

    private CloudImageImport() {
    }

    /** What was imported: the checked image and its publication. */
    public record Imported(CloudImage image, LocalRuntimes.Publication publication) {
    }

    /**
     * @param name the name to list it under, or null for {@code local/<file name without extension>}
     * @throws CloudImageException if the file is not an importable disk image
     */
    public static Imported importImage(LocalRuntimes runtimes, LocalPublisher publisher, Path file,
                                                        String name) throws CloudImageException, IOException, InterruptedException {
        CloudImage image = CloudImage.inspect(file);
        LocalRuntimes.Publication p = runtimes.publish(publisher, image.file(), name, null);
        if (p.diskFormat() == null || !p.diskFormat().equals(image.format())) {
            // qemu-img and the publisher's own look at the first bytes disagree: refuse rather than guess.
            throw new CloudImageException(file + " looks like a " + image.format() + " disk to qemu-img but was published as "
                    + p.filesystem());
        }
        return new Imported(image, p);
    }
}
