"""Baseline for the guest-channel benchmark: the same ASGI app on the same Python, served over
localhost TCP by a minimal asyncio HTTP/1.1 keep-alive server (no framework, like the agent).
Usage: python3 asgi_tcp_server.py PORT"""
import asyncio
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_app import app  # noqa: E402


async def handle(reader, writer):
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, target, _ = line.decode("latin-1").split(" ", 2)
            headers = []
            length = 0
            while True:
                h = await reader.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                name, _, value = h.decode("latin-1").partition(":")
                name = name.strip().lower()
                headers.append((name.encode("latin-1"), value.strip().encode("latin-1")))
                if name == "content-length":
                    length = int(value)
            body = await reader.readexactly(length) if length else b""
            path, _, query = target.partition("?")
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                     "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
                     "root_path": "", "headers": headers, "client": None, "server": None}
            sent = []

            async def receive():
                return {"type": "http.request", "body": body, "more_body": False}

            async def send(message):
                sent.append(message)

            await app(scope, receive, send)
            payload = b"".join(m.get("body", b"") for m in sent[1:])
            out = [b"HTTP/1.1 %d OK\r\n" % sent[0]["status"]]
            for k, v in sent[0]["headers"]:
                if k.lower() != b"content-length":
                    out.append(k + b": " + v + b"\r\n")
            out.append(b"content-length: %d\r\n\r\n" % len(payload))
            writer.write(b"".join(out) + payload)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port):
    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
