# Counts its requests in memory and says which boot of the kernel answers (NodeRestartIT).
count = 0


def read(path):
    with open(path) as f:
        return f.read().strip()


async def app(scope, receive, send):
    global count
    if scope["type"] != "http":
        return
    count += 1
    body = '{"count": %d, "boot_id": "%s"}' % (count, read("/proc/sys/kernel/random/boot_id"))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body.encode()})
