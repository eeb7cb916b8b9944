"""A test ASGI program that keeps files on its persistent volume, and can write to it nonstop."""
import json
import os
import threading
from urllib.parse import parse_qs

MOUNT = "/var/lib/example"
SCRATCH = "/tmp/scratch"


def _entries(path):
    return sorted(e for e in os.listdir(path) if e != "lost+found") if os.path.isdir(path) else None


def _write(name, text):
    with open(os.path.join(MOUNT, name), "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def _churn():
    """Writes and renames files until the VM dies: a kill lands in the middle of a write."""
    i = 0
    block = os.urandom(256 * 1024)
    while True:
        path = os.path.join(MOUNT, "churn-%d.tmp" % (i % 8))
        with open(path, "wb") as f:
            for _ in range(8):
                f.write(block)
        os.replace(path, os.path.join(MOUNT, "churn-%d" % (i % 8)))
        i += 1


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    query = parse_qs(scope.get("query_string", b"").decode())
    path = scope["path"]
    if path == "/write":
        _write(query["name"][0], query.get("text", ["kept"])[0])
    elif path == "/churn":
        threading.Thread(target=_churn, daemon=True).start()
    body = {"entries": _entries(MOUNT), "scratch": _entries(SCRATCH)}
    if path == "/read":
        with open(os.path.join(MOUNT, query["name"][0])) as f:
            body["text"] = f.read()
    st = os.statvfs(MOUNT)
    body["total_bytes"] = st.f_blocks * st.f_frsize
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
