"""A test ASGI program that reports what the network lets it do: its interfaces, a fetch, a connect."""
import os
import socket
import time
import urllib.parse
import urllib.request


def _query(scope):
    return dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode()))


def _answer(path, q):
    if path == "/interfaces":
        return " ".join(sorted(os.listdir("/sys/class/net")))
    if path == "/fetch":
        with urllib.request.urlopen(q["url"], timeout=10) as r:
            return r.read().decode()
    if path == "/download":
        start, size = time.monotonic(), 0
        with urllib.request.urlopen(q["url"], timeout=60) as r:
            while True:
                chunk = r.read(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
        return "%d %.3f" % (size, time.monotonic() - start)
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
