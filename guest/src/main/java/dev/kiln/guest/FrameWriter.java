package dev.kiln.guest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.locks.ReentrantLock;

/** Writes whole frames; the lock keeps concurrent writers from interleaving two frames' bytes. */
final class FrameWriter {
    private final WritableByteChannel channel;
    private final ReentrantLock lock = new ReentrantLock();

    FrameWriter(WritableByteChannel channel) {
        this.channel = channel;
    }

    void write(Frame frame) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(Frame.HEADER_BYTES + frame.payload().length);
        buf.putInt(frame.payload().length).put((byte) frame.type()).put((byte) frame.flags()).putInt(frame.stream());
        buf.put(frame.payload()).flip();
        writeRaw(buf);
    }

    /** Bytes as they are, for tests that must send what a correct writer never would. */
    void writeRaw(ByteBuffer buf) throws IOException {
        lock.lock();
        try {
            while (buf.hasRemaining()) channel.write(buf);
        } finally {
            lock.unlock();
        }
    }
}
