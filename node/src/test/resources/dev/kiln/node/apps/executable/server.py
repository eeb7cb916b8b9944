#!/usr/bin/python3
"""A test executable program: a tiny HTTP/1.1 server on port 8080 (aleph's convention), with the
socket module only, answering each request on its own thread."""
import json
import os
import socket
import threading


def handle(conn):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            part = conn.recv(65536)
            if not part:
                return
            data += part
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            part = conn.recv(65536)
            if not part:
                break
            rest += part
        if path == "/hello":
            body = b"hello from an executable"
            ctype = b"text/plain"
        else:
            body = json.dumps({"method": method, "path": path, "body_length": len(rest),
                               "greeting": os.environ.get("GREETING", "")}).encode()
            ctype = b"application/json"
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: " + ctype + b"\r\ncontent-length: "
                     + str(len(body)).encode() + b"\r\nconnection: close\r\n\r\n" + body)


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 8080))
server.listen(64)
while True:
    client, _ = server.accept()
    threading.Thread(target=handle, args=(client,), daemon=True).start()
