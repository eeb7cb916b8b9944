#!/usr/bin/python3
"""Test executable for snapshot benchmarks: answers every request with what a copy of a VM must
not share with its siblings (kernel randomness, Python's random state) and with the guest's clock,
so that a benchmark can show what a restore carries over."""
import os
import random
import socket
import time

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
    body = ("urandom=%s random=%.12f time=%.3f\n" % (os.urandom(8).hex(), random.random(), time.time())).encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
                 % len(body) + body)
    conn.close()
