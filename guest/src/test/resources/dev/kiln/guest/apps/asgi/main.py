"""Test ASGI program for the guest agent: lifespan, streaming, chunked bodies, crashes, slowness,
cancellation and aleph message events. No framework: the raw ASGI protocol."""
import asyncio
import hashlib
import json
import os
from urllib.parse import parse_qs

CANCELLED = []
STARTED = {}


async def _text(send, status, text, content_type="text/plain"):
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            STARTED["at"] = "startup"
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            marker = os.environ.get("SHUTDOWN_MARKER")
            if marker:
                with open(marker, "w") as f:
                    f.write("shutdown hook ran")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(receive, send)
    if scope["type"] == "aleph.message":
        message = await receive()
        body = json.loads(message["body"])
        await send({"received": body.get("item_hash"), "scope_has_message": scope["message"] == body})
        return
    path = scope["path"]
    query = parse_qs(scope["query_string"].decode())
    if path == "/hello":
        return await _text(send, 200, "hello")
    if path == "/state":
        return await _text(send, 200, json.dumps({"lifespan": STARTED.get("at"), "cancelled": len(CANCELLED),
                                                  "headers": {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
                                                  "path": scope["path"], "query": scope["query_string"].decode(),
                                                  "method": scope["method"]}), "application/json")
    if path == "/env":
        return await _text(send, 200, os.environ.get(query["name"][0], "<unset>"))
    if path == "/file":
        with open(query["path"][0]) as f:
            return await _text(send, 200, f.read())
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for i in range(5):
            await send({"type": "http.response.body", "body": b"chunk %d\n" % i, "more_body": True})
            await asyncio.sleep(0.15)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    if path == "/big":
        size = int(query["size"][0])
        block = b"x" * 65536
        await send({"type": "http.response.start", "status": 200, "headers": []})
        sent = 0
        while sent < size:
            part = block[:min(len(block), size - sent)]
            sent += len(part)
            await send({"type": "http.response.body", "body": part, "more_body": sent < size})
        return
    if path == "/echo":
        chunks = 0
        digest = hashlib.sha256()
        length = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            if message.get("body"):
                chunks += 1
                length += len(message["body"])
                digest.update(message["body"])
            if not message.get("more_body"):
                break
        return await _text(send, 200, json.dumps({"chunks": chunks, "length": length, "sha256": digest.hexdigest()}),
                           "application/json")
    if path == "/slow":
        await asyncio.sleep(int(query.get("ms", ["1000"])[0]) / 1000)
        return await _text(send, 200, "slow done")
    if path == "/wait-forever":
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            CANCELLED.append(scope["path"])
            raise
    if path == "/crash":
        raise RuntimeError("secret internal detail 42")
    if path == "/crash-after-start":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("broke mid-body")
    return await _text(send, 404, "not found")
