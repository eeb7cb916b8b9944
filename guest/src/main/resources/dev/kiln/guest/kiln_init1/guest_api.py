"""The guest API inside the VM (docs/guest-api.md): a small HTTP/1.1 server on a Unix socket (aleph's
programs find it through ALEPH_API_UNIX_SOCKET) that forwards each request to the host as an API
stream the agent opens (docs/guest-protocol.md section 6.6). Nothing is answered here but what
cannot be forwarded: malformed or oversized requests, a host that does not answer. Standard library
only, no http.server (python3-minimal has none)."""

import os
import socket
import threading

from .console import say
from .json_codec import JsonError, json_dumps, json_object
from .wire import CHUNK, Stream

MAX_LINE = 8192
MAX_HEADERS = 100
MAX_BODY = 1 << 20
MAX_DRAIN = 8 << 20
MAX_CONNECTIONS = 32
IDLE_TIMEOUT = 60.0
ANSWER_TIMEOUT = 60.0
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large", 429: "Too Many Requests",
           431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


class ApiStream(Stream):
    """A stream the agent opened: besides the body both ways, the host's API_RESPONSE head."""

    def __init__(self, outbox, sid):
        Stream.__init__(self, outbox, sid, "api")
        self.head = None

    def deliver_head(self, payload):
        with self.lock:
            if self.head is not None:
                return False
            self.head = payload
            self.inbound_cond.notify_all()
            # a sender still waiting for credit stops: the host has answered
            self.credit_cond.notify_all()
            return True

    def wait_head(self, timeout):
        import time
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.head is None and not self.cancelled:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.inbound_cond.wait(left)
            return self.head

    def send_request_body(self, data):
        """Sends the body within the host's window; stops early once the host has answered."""
        view = memoryview(data)
        while len(view):
            with self.lock:
                while self.credit <= 0 and not self.cancelled and self.head is None:
                    self.credit_cond.wait(ANSWER_TIMEOUT)
                if self.cancelled or self.head is not None:
                    return
                granted = min(len(view), CHUNK, self.credit)
                self.credit -= granted
            last = granted == len(view)
            self.outbox.send(0x13, 0x01 if last else 0, self.id, view[:granted])
            view = view[granted:]


class HttpError(Exception):
    def __init__(self, status, code, message):
        Exception.__init__(self, message)
        self.status = status
        self.code = code
        self.message = message


def error_body(code, message):
    return json_dumps({"error": {"code": code, "message": message}})


class GuestApiServer:
    def __init__(self, agent, socket_path):
        self.agent = agent
        self.path = socket_path
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.sock = None

    def start(self):
        parent = os.path.dirname(self.path)
        os.makedirs(parent, exist_ok=True)
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(self.path)
        # the program may drop root: any user in the VM may use its guest API, as with aleph's socket
        os.chmod(self.path, 0o666)
        sock.listen(64)
        self.sock = sock
        threading.Thread(target=self._accept_loop, name="guest-api", daemon=True).start()
        say("guest API listening on %s" % self.path)

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError as e:
                say("guest API stopped accepting: %s" % e)
                return
            if not self.slots.acquire(blocking=False):
                self._answer_and_close(conn, 503, "busy", "more than %d guest-API connections at once" % MAX_CONNECTIONS)
                continue
            threading.Thread(target=self._serve, args=(conn,), name="guest-api-conn", daemon=True).start()

    def _answer_and_close(self, conn, status, code, message):
        try:
            conn.settimeout(5)
            write_response(conn, status, [("content-type", "application/json")], error_body(code, message), True)
        except OSError:
            pass
        finally:
            conn.close()

    def _serve(self, conn):
        try:
            conn.settimeout(IDLE_TIMEOUT)
            reader = conn.makefile("rb")
            while True:
                try:
                    request = read_request(reader)
                except HttpError as e:
                    write_response(conn, e.status, [("content-type", "application/json")],
                                   error_body(e.code, e.message), True)
                    return
                if request is None:
                    return
                method, target, headers, body, close = request
                if not self.forward(conn, method, target, headers, body, close) or close:
                    return
        except (OSError, ValueError):
            pass
        finally:
            try:
                conn.close()
            finally:
                self.slots.release()

    def forward(self, conn, method, target, headers, body, close):
        """One request to the host and its answer to the client; False when the connection must end."""
        path, _, query = target.partition("?")
        head = json_dumps({"method": method, "path": path, "query": query, "headers": headers})
        stream = self.agent.open_api_stream(ApiStream, head, not body)
        if stream is None:
            write_response(conn, 503, [("content-type", "application/json")],
                           error_body("unavailable", "the agent is halting or has too many open streams"), True)
            return False
        try:
            if body:
                stream.send_request_body(body)
            raw = stream.wait_head(ANSWER_TIMEOUT)
            if raw is None:
                if not stream.cancelled:
                    self.agent.abort_stream(stream, "timeout")
                write_response(conn, 504, [("content-type", "application/json")],
                               error_body("timeout", "the node did not answer within %d s" % ANSWER_TIMEOUT), True)
                return False
            try:
                answer = json_object(raw)
                status = answer["status"]
                out_headers = [(str(n), str(v)) for n, v in answer.get("headers", [])]
            except (JsonError, KeyError, TypeError, ValueError):
                self.agent.abort_stream(stream, "bad_response")
                write_response(conn, 502, [("content-type", "application/json")],
                               error_body("bad_gateway", "the node's answer head was not understood"), True)
                return False
            has_length = any(n.lower() == "content-length" for n, _ in out_headers)
            close = close or not has_length
            conn.sendall(status_line(status, out_headers, close))
            while True:
                item = stream.take_inbound(ANSWER_TIMEOUT)
                if item is None:
                    return False  # cancelled mid-body: the client sees a short body and a closed connection
                data, end = item
                if data:
                    conn.sendall(data)
                    stream.consumed(len(data))
                if end:
                    return not close
        except Exception:
            if not stream.finished:
                self.agent.abort_stream(stream, "client_gone")
            raise
        finally:
            self.agent.finish_stream(stream)


def status_line(status, headers, close):
    lines = ["HTTP/1.1 %d %s" % (status, REASONS.get(status, "Status"))]
    for name, value in headers:
        if name.lower() == "connection" or "\r" in name + value or "\n" in name + value:
            continue
        lines.append("%s: %s" % (name, value))
    if close:
        lines.append("connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def write_response(conn, status, headers, body, close):
    conn.sendall(status_line(status, list(headers) + [("content-length", str(len(body)))], close) + body)


def read_line(reader):
    line = reader.readline(MAX_LINE + 1)
    if len(line) > MAX_LINE:
        raise HttpError(431, "header_too_large", "a request line or header is longer than %d bytes" % MAX_LINE)
    return line


def read_request(reader):
    """(method, target, headers, body, close), None at a clean end of the connection, or HttpError."""
    line = read_line(reader)
    while line in (b"\r\n", b"\n"):
        line = read_line(reader)
    if not line:
        return None
    try:
        method, target, version = line.decode("latin-1").rstrip("\r\n").split(" ")
    except ValueError:
        raise HttpError(400, "bad_request", "the request line is not 'METHOD /path HTTP/1.1'")
    if not method.isalpha() or not method.isupper() or not target.startswith("/") or not version.startswith("HTTP/1."):
        raise HttpError(400, "bad_request", "the request line is not 'METHOD /path HTTP/1.1'")
    headers = []
    while True:
        line = read_line(reader)
        if not line:
            raise HttpError(400, "bad_request", "the connection ended inside the headers")
        if line in (b"\r\n", b"\n"):
            break
        if len(headers) >= MAX_HEADERS:
            raise HttpError(431, "too_many_headers", "more than %d headers" % MAX_HEADERS)
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name.strip() != name:
            raise HttpError(400, "bad_request", "a header line has no name")
        headers.append([name.lower(), value.strip()])
    values = dict(headers)
    if "transfer-encoding" in values:
        raise HttpError(411, "length_required", "send the body with a content-length, not chunked")
    length = values.get("content-length", "0")
    if not length.isdigit():
        raise HttpError(400, "bad_request", "content-length is not a number")
    length = int(length)
    if length > MAX_BODY:
        # Read what a client still sends (up to a bound) before answering: a client that is told
        # and cut off mid-body sees a broken pipe instead of the 413.
        if length <= MAX_DRAIN:
            left = length
            while left > 0:
                chunk = reader.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        raise HttpError(413, "request_too_large", "guest-API request bodies are limited to %d bytes" % MAX_BODY)
    body = reader.read(length) if length else b""
    if len(body) != length:
        raise HttpError(400, "bad_request", "the body is shorter than its content-length")
    close = values.get("connection", "").lower() == "close" or version == "HTTP/1.0"
    return method, target, headers, body, close
