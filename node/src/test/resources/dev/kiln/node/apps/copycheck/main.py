"""A program that shows what a restored copy must not share: randomness, UUIDs, the clock; and what it
keeps: state made at start-up (SnapshotNodeTest)."""
import json
import os
import random
import time
import uuid

STARTUP = {"token": random.random(), "imported_at": time.time(), "lifespan": None}
SERVED = {"n": 0}


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                STARTUP["lifespan"] = "started"
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    SERVED["n"] += 1
    body = json.dumps({
        "urandom": os.urandom(16).hex(), "random": random.random(), "uuid": str(uuid.uuid4()),
        "time": time.time(), "token": STARTUP["token"], "lifespan": STARTUP["lifespan"],
        "variable": os.environ.get("COPY_LABEL"), "served": SERVED["n"],
    }).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
