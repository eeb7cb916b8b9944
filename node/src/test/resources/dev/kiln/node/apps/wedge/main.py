"""A test ASGI program whose /block handler blocks the event loop: every route stops answering."""
import asyncio
import time


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/block":
        time.sleep(600)  # blocks the loop, not just this request
    if scope["path"] == "/slow":
        await asyncio.sleep(600)  # slow, but the loop keeps serving other requests
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"pong"})
