"""A test program that uses the guest API the way aleph's programs do: over the Unix socket named by
ALEPH_API_UNIX_SOCKET. GET /call?method=M&path=P (request body forwarded) answers with what the
guest API answered; POST /raw sends the body as raw bytes to the socket and answers with the reply."""

import base64
import http.client
import json
import os
import socket
import time
import urllib.parse

SOCKET = os.environ.get("ALEPH_API_UNIX_SOCKET", "/tmp/socat-socket")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        http.client.HTTPConnection.__init__(self, "localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(self.unix_path)
        self.sock = s


def call(method, path, body):
    try:
        c = UnixConnection(SOCKET)
        c.request(method, path, body=body if body else None)
        r = c.getresponse()
        data = r.read()
        c.close()
        return {"status": r.status, "type": r.getheader("content-type"), "body": base64.b64encode(data).decode()}
    except OSError as e:
        return {"error": type(e).__name__, "message": str(e)}


def raw(data):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(60)
        s.connect(SOCKET)
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        s.close()
        return {"reply": out.decode("latin-1")}
    except OSError as e:
        return {"error": type(e).__name__, "message": str(e)}


def bench(path, n):
    """n sequential GETs on one kept-alive connection; each round trip's seconds, measured in the guest."""
    c = UnixConnection(SOCKET)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        times.append(time.perf_counter() - started)
        if r.status != 200:
            return {"error": "status", "message": "%s answered %d" % (path, r.status)}
    c.close()
    return {"times": times}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    query = urllib.parse.parse_qs(scope["query_string"].decode())
    if scope["path"] == "/raw":
        result = raw(body)
    elif scope["path"] == "/bench":
        result = bench(query.get("path", ["/properties"])[0], int(query.get("n", ["100"])[0]))
    elif scope["path"] == "/env":
        result = {"socket": os.environ.get("ALEPH_API_UNIX_SOCKET"), "host": os.environ.get("ALEPH_API_HOST")}
    else:
        result = call(query.get("method", ["GET"])[0], query.get("path", ["/properties"])[0], body)
    payload = json.dumps(result).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})
