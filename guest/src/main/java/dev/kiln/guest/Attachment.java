package dev.kiln.guest;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Bytes sent inline after CONFIGURE (code, data zip): from memory or streamed from a file. */
public sealed interface Attachment {
    long size();

    InputStream open() throws IOException;

    static Attachment of(byte[] bytes) {
        return new InMemory(bytes.clone());
    }

    static Attachment of(Path file) {
        try {
            return new OnDisk(file, Files.size(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read attachment " + file, e);
        }
    }

    record InMemory(byte[] bytes) implements Attachment {
        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public InputStream open() {
            return new ByteArrayInputStream(bytes);
        }
    }

    record OnDisk(Path file, long size) implements Attachment {
        @Override
        public InputStream open() throws IOException {
            return Files.newInputStream(file);
        }
    }
}
