"""A test ASGI program for a networked node: /fetch?url=... returns that page; it also listens on
TCP 9000 itself (answering "hi"), the port the test publishes."""
import socketserver
import threading
import urllib.parse
import urllib.request


class _Hello(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(b"hi")


_server = socketserver.ThreadingTCPServer(("0.0.0.0", 9000), _Hello)
_server.daemon_threads = True
threading.Thread(target=_server.serve_forever, daemon=True).start()


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    query = dict(urllib.parse.parse_qsl(scope.get("query_string", b"").decode()))
    if scope["path"] == "/fetch":
        with urllib.request.urlopen(query["url"], timeout=10) as r:
            body = r.read()
    else:
        body = b"ok"
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
