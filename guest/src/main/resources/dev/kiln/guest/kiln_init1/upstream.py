"""The HTTP/1.1 client to an executable program: one keep-alive connection with a bounded,
buffered reader, on raw sockets (python3-minimal has no http.client)."""

import socket

from .wire import CHUNK


class UpstreamError(Exception):
    pass


class Upstream:
    """One keep-alive connection to the program, with a bounded buffered reader."""

    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.reused = False

    def alive(self):
        """A pooled connection the program closed shows EOF (or stray bytes): don't reuse it."""
        try:
            self.sock.setblocking(False)
            try:
                self.sock.recv(1, socket.MSG_PEEK)
                return False
            except (BlockingIOError, InterruptedError):
                return True
            finally:
                self.sock.setblocking(True)
        except OSError:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _more(self):
        data = self.sock.recv(CHUNK)
        if not data:
            raise UpstreamError("the program closed the connection")
        self.buf += data

    def read_line(self, limit=65536):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line.rstrip(b"\r\n")
            if len(self.buf) > limit:
                raise UpstreamError("line too long in the program's response")
            self._more()

    def read_some(self, limit):
        if not self.buf:
            data = self.sock.recv(min(limit, CHUNK))
            return data
        data = bytes(self.buf[:limit])
        del self.buf[:limit]
        return data

    def read_exact(self, n):
        while len(self.buf) < n:
            self._more()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

