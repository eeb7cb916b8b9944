"""A test ASGI program that misbehaves on request: crashes, slowness, streaming that breaks."""
import asyncio


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/crash":
        raise RuntimeError("secret internal detail 42")
    if path == "/crash-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("broke mid-body")
    if path == "/crash-before-body":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("broke before the body")
    if path == "/exit":
        import os
        os._exit(3)
    if path == "/cookies":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"two cookies"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})
