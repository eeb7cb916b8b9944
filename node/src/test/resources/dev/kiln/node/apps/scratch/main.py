"""A test ASGI program that looks at its ephemeral volume: what is there, how big, can it be filled."""
import json
import os
from urllib.parse import parse_qs

MOUNT = "/scratch"


def _report():
    st = os.statvfs(MOUNT)
    entries = sorted(e for e in os.listdir(MOUNT) if e != "lost+found")
    with open("/proc/mounts") as f:
        mounts = [line.split()[:4] for line in f if line.split()[1] == MOUNT]
    return {"entries": entries, "total_bytes": st.f_blocks * st.f_frsize, "mounts": mounts}


def _fill():
    written = 0
    chunk = b"x" * (1024 * 1024)
    try:
        with open(os.path.join(MOUNT, "fill"), "wb") as f:
            while written < 4096 * 1024 * 1024:
                f.write(chunk)
                f.flush()
                written += len(chunk)
            os.fsync(f.fileno())
        error = None
    except OSError as e:
        error = e.strerror
    os.unlink(os.path.join(MOUNT, "fill"))
    return {"written": written, "error": error}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    query = parse_qs(scope.get("query_string", b"").decode())
    if scope["path"] == "/write":
        name = query["name"][0]
        with open(os.path.join(MOUNT, name), "w") as f:
            f.write("written by this VM")
        body = _report()
    elif scope["path"] == "/fill":
        body = _fill()
    else:
        body = _report()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(body).encode()})
