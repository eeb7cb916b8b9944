#!/usr/bin/python3
"""Test executable program: an HTTP/1.1 keep-alive server on $PORT (standard library only)."""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CONNECTIONS = set()
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body, content_type="text/plain"):
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("content-length", "0")))

    def do_GET(self):
        with LOCK:
            CONNECTIONS.add(self.client_address)
        if self.path == "/hello":
            return self._send(200, b"hello from executable")
        if self.path == "/connections":
            return self._send(200, str(len(CONNECTIONS)).encode())
        if self.path.startswith("/env"):
            return self._send(200, os.environ.get("GREETING", "<unset>").encode())
        if self.path == "/stream":
            self.send_response(200)
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            for i in range(4):
                part = b"part %d\n" % i
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
                time.sleep(0.1)
            self.wfile.write(b"0\r\n\r\n")
            return
        if self.path == "/slow":
            time.sleep(1)
            return self._send(200, b"slow done")
        if self.path == "/exit":
            self._send(200, b"bye")
            self.wfile.flush()
            os._exit(7)
        return self._send(404, b"not found")

    def do_POST(self):
        body = self._body()
        if self.path == "/aleph/message":
            message = json.loads(body)
            return self._send(200, json.dumps({"event": self.headers.get("x-aleph-event"),
                                               "item_hash": message.get("item_hash")}).encode(), "application/json")
        return self._send(200, json.dumps({"length": len(body), "te": self.headers.get("transfer-encoding"),
                                           "cl": self.headers.get("content-length")}).encode(), "application/json")


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler)
    server.daemon_threads = True
    sys.stderr.write("test server listening on %s\n" % os.environ["PORT"])
    server.serve_forever()
