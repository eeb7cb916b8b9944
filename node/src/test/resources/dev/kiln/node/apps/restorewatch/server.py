#!/usr/bin/python3
"""A test executable that learns it was restored (SnapshotNodeTest): it counts the signal named in
KILN_RESTORE_SIGNAL and serves /run/kiln/restored, which the agent writes in a restored copy."""
import json
import os
import signal
import socket
import threading

SIGNALS = {"n": 0}


def on_restore(signum, frame):
    SIGNALS["n"] += 1


signal.signal(getattr(signal, os.environ.get("KILN_RESTORE_SIGNAL", "SIGUSR2")), on_restore)


def handle(conn):
    with conn:
        data = b""
        while b"\r\n\r\n" not in data:
            part = conn.recv(65536)
            if not part:
                return
            data += part
        try:
            with open("/run/kiln/restored") as f:
                marker = json.load(f)
        except (OSError, ValueError):
            marker = None
        body = json.dumps({"signals": SIGNALS["n"], "restored": marker}).encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                     % len(body) + body)


server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", 8080))
server.listen(64)
while True:
    c, _ = server.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
