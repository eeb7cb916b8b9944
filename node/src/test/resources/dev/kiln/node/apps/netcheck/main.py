"""A test ASGI program that reports what the network lets it do: its interfaces, a fetch, a connect.
It also listens on TCP 9000 itself, so that another VM's attempt to reach it means something."""
import os
import socket
import socketserver
import struct
import threading
import time
import urllib.parse
import urllib.request


LISTENER_PORT = 9000


class _Hello(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"hi")


def _listen():
    server = socketserver.ThreadingTCPServer(("0.0.0.0", LISTENER_PORT), _Hello)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()


_listen()


def _gateway():
    with open("/proc/net/route") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":
                return socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
    return "none"


def _address():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect((_gateway(), 9))
        return s.getsockname()[0]
    finally:
        s.close()


def _query(scope):
    return dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode()))


def _answer(path, q):
    if path == "/interfaces":
        return " ".join(sorted(os.listdir("/sys/class/net")))
    if path == "/fetch":
        with urllib.request.urlopen(q["url"], timeout=10) as r:
            return r.read().decode()
    if path == "/gateway":
        return _gateway()
    if path == "/address":
        return _address()
    if path == "/hostname":
        return socket.gethostname()
    if path == "/mac":
        with open("/sys/class/net/eth0/address") as f:
            return f.read().strip()
    if path == "/download":
        start, size = time.monotonic(), 0
        with urllib.request.urlopen(q["url"], timeout=60) as r:
            while True:
                chunk = r.read(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
        return "%d %.3f" % (size, time.monotonic() - start)
    if path == "/whoami":
        # the peer answers what it saw as our address: a NATed or routed source
        with socket.create_connection((q["host"], int(q["port"])), timeout=5) as c:
            return c.recv(256).decode()
    if path == "/connect":
        try:
            with socket.create_connection((q["host"], int(q["port"])), timeout=3):
                return "connected"
        except OSError as e:
            return "refused: %s" % e
    return "ok"


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    try:
        status, body = 200, _answer(scope["path"], _query(scope))
    except Exception as e:
        status, body = 502, "%s: %s" % (type(e).__name__, e)
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body.encode()})
