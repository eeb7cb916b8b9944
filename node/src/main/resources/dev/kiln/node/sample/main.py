"""Kiln's sample program: a plain ASGI app (standard library only, no framework), so it runs on
any Python runtime with asyncio. `kiln node` deploys it; the node's self check
(/status/check/fastapi) and the benchmark drive it through the whole request path."""
import asyncio
import hashlib
import json
import os
import platform
import time

STATE = {"lifespan": None, "requests": 0}


async def _send(send, status, body, content_type):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _json(send, value, status=200):
    await _send(send, status, json.dumps(value, sort_keys=True).encode(), b"application/json")


async def _read_body(receive):
    digest, length, chunks = hashlib.sha256(), 0, 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        part = message.get("body", b"")
        if part:
            chunks += 1
            length += len(part)
            digest.update(part)
        if not message.get("more_body"):
            break
    return {"length": length, "chunks": chunks, "sha256": digest.hexdigest()}


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            STATE["lifespan"] = "started"
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] != "http":
        return
    STATE["requests"] += 1
    path = scope["path"]
    if path == "/":
        return await _json(send, {"message": "Hello from Kiln", "python": platform.python_version(),
                                  "lifespan": STATE["lifespan"],
                                  "requests": STATE["requests"]})
    if path == "/ping":
        return await _send(send, 200, b"pong", b"text/plain")
    if path == "/environ":
        return await _json(send, {k: v for k, v in os.environ.items() if not k.startswith("_")})
    if path == "/echo":
        return await _json(send, await _read_body(receive))
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for i in range(3):
            await send({"type": "http.response.body", "body": b"chunk %d\n" % i, "more_body": True})
            await asyncio.sleep(0.05)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if path == "/slow":
        query = scope.get("query_string", b"").decode()
        ms = int(query.split("ms=")[1].split("&")[0]) if "ms=" in query else 1000
        await asyncio.sleep(ms / 1000)
        return await _send(send, 200, b"slow done", b"text/plain")
    if path == "/time":
        return await _json(send, {"time": time.time()})
    return await _json(send, {"error": "not found", "path": path}, 404)
