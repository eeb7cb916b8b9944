#!/usr/bin/python3
"""Test executable program for the VM tests: a tiny HTTP/1.1 server on raw sockets, because the
minimal runtime's python3-minimal has no http.server. Answers every request with where it runs
(kernel release, hostname) so the test can tell it really ran inside the VM."""
import os
import socket

server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(os.environ.get("PORT", "8080"))))
server.listen(16)
while True:
    conn, _ = server.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    request_line = data.split(b"\r\n", 1)[0].decode("latin-1")
    u = os.uname()
    body = ("kernel=%s host=%s greeting=%s request=%s\n"
            % (u.release, u.nodename, os.environ.get("GREETING", "?"), request_line)).encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
                 % len(body) + body)
    conn.close()
