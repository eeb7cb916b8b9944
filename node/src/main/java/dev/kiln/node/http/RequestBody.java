package dev.kiln.node.http;

import java.io.IOException;
import java.io.InputStream;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The client's request body as the guest connection reads it, on its own uploader thread. When the
 * response is complete the handler {@link #finish()}es it: any read still running ends first, and
 * later reads see the end, so the uploader never touches the server's connection after the
 * handler has returned it to the webserver. The lock is this request's own.
 */
final class RequestBody extends InputStream {
    private final InputStream in;
    private final ReentrantLock lock = new ReentrantLock();
    private boolean finished;

    RequestBody(InputStream in) {
        this.in = in;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        lock.lock();
        try {
            if (finished) return -1;
            return in.read(b, off, len);
        } finally {
            lock.unlock();
        }
    }

    /** No more reads from the client's connection after this returns. */
    void finish() {
        lock.lock();
        try {
            finished = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        // The webserver owns the client's stream; the uploader closing its copy must not close it.
        finish();
    }
}
