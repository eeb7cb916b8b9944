"""Executable programs: a process listening on a port, reached through keep-alive HTTP/1.1
connections (upstream); requests and events are proxied to it, one thread per stream."""

import os
import re
import signal
import socket
import subprocess
import threading
import time

from .config import ConfigError
from . import output
from .console import say
from .json_codec import json_dumps
from .request_head import TOKEN_RE
from .upstream import Upstream, UpstreamError
from .wire import CHUNK, MAX_HEADERS, RESPONSE

HOP_BY_HOP = frozenset(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                        "trailer", "upgrade", "expect"])


class ExecutableProgram:
    interface = "executable"

    def __init__(self, agent, path, code_dir, env, port):
        self.agent = agent
        self.path = path
        self.code_dir = code_dir
        self.env = env
        self.port = port
        self.proc = None
        self.exit_status = None
        self.pool = []
        self.pool_lock = threading.Lock()

    def start(self, timeout):
        if not os.path.isfile(self.path):
            raise ConfigError("entrypoint_not_found", "executable %s does not exist" % self.path)
        if not os.access(self.path, os.X_OK):
            # Archives made without Unix permissions (Java's zip, Windows) lose the x bit: the
            # configured entrypoint is meant to be run, so it gets it.
            try:
                os.chmod(self.path, os.stat(self.path).st_mode | 0o111)
            except OSError as e:
                raise ConfigError("entrypoint_not_found", "%s is not executable: %s" % (self.path, e))
        try:
            self.proc = subprocess.Popen([self.path], cwd=self.code_dir, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=True,
                                         start_new_session=True)
        except OSError as e:
            raise ConfigError("program_exited", "cannot start %s: %s" % (self.path, e))
        pump = output.pump(self.agent)
        readers = [output.read_pipe(self.proc.stdout, pump, "stdout"), output.read_pipe(self.proc.stderr, pump, "stderr")]
        deadline = time.monotonic() + timeout
        while True:
            status = self.proc.poll()
            if status is not None:
                self.exit_status = status
                # Its last words (a traceback, "address in use") reach the host before the failure does.
                for reader in readers:
                    reader.join(1.0)
                pump.flush(1.0)
                raise ConfigError("program_exited", "the program exited with status %s before listening on port %d"
                                  % (status, self.port))
            try:
                probe = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
                probe.close()
                break
            except OSError:
                pass
            if time.monotonic() > deadline:
                self._stop(0.5)
                raise ConfigError("program_not_listening", "the program did not listen on port %d within %ss"
                                  % (self.port, timeout))
            time.sleep(0.05)
        threading.Thread(target=self._watch, name="program-watch", daemon=True).start()

    def _watch(self):
        status = self.proc.wait()
        self.exit_status = status
        if not self.agent.halting:
            say("the program exited with status %s" % status)
            self.agent.log("error", "the program exited with status %s" % status, kind="program_exited")

    def _stop(self, grace):
        if self.proc is None or self.proc.poll() is not None:
            return "complete" if self.proc is not None else "none"
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except OSError:
            pass
        try:
            self.proc.wait(max(grace, 0.1))
            return "complete"
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
            return "timeout"

    def shutdown(self, timeout):
        with self.pool_lock:
            for conn in self.pool:
                conn.close()
            self.pool = []
        stopped = self._stop(timeout)
        output.pump(self.agent).flush(0.5)
        return stopped, None

    def serve(self, stream, head, event=None):
        threading.Thread(target=self._proxy, args=(stream, head, event), name="proxy-%d" % stream.id,
                         daemon=True).start()

    def _connection(self):
        with self.pool_lock:
            while self.pool:
                conn = self.pool.pop()
                if conn.alive():
                    conn.reused = True
                    return conn
                conn.close()
        return Upstream(self.port, 30)

    def _release(self, conn):
        with self.pool_lock:
            if len(self.pool) < 64 and not self.agent.halting:
                self.pool.append(conn)
                return
        conn.close()

    def _proxy(self, stream, head, event):
        agent = self.agent
        rid = stream.request_id
        if self.exit_status is not None:
            agent.log("error", "request while the program is not running", request_id=rid, kind="program_exited")
            agent.send_safe_error(stream, 502)
            return
        if event is not None:
            body = json_dumps(event.get("message"))
            head = {"method": "POST", "path": "/aleph/message", "query": "",
                    "headers": [("content-type", "application/json"), ("x-aleph-event", "message")]}
            pending_body = [(body, True)]
        else:
            pending_body = None
        conn = None
        started = False
        try:
            conn = self._connection()
            stream.on_cancel = lambda c=conn: _shutdown_socket(c.sock)
            if stream.cancelled:
                return
            self._send_request(conn, stream, head, pending_body)
            status, headers, framing, keep = self._read_head(conn, head["method"])
            if stream.cancelled:
                return
            started = True
            agent.outbox.send(RESPONSE, 0, stream.id, json_dumps({"status": status, "headers": headers}))
            complete = self._relay_body(conn, stream, framing)
            if not complete:
                return
            agent.finish_stream(stream)
            if keep:
                self._release(conn)
                conn = None
        except (OSError, UpstreamError, ValueError) as e:
            if stream.cancelled:
                agent.finish_stream(stream, quiet=True)
                return
            agent.log("error", "proxying to the program failed: %s" % e, request_id=rid, kind="upstream_error")
            if started:
                agent.abort_stream(stream, "upstream_error")
            else:
                agent.send_safe_error(stream, 502)
        finally:
            if conn is not None:
                conn.close()

    def _send_request(self, conn, stream, head, pending_body):
        lines = ["%s %s%s HTTP/1.1" % (head["method"], head["path"], "?" + head["query"] if head["query"] else "")]
        length = None
        connection_tokens = set()
        for name, value in head["headers"]:
            if name.lower() == "connection":
                connection_tokens.update(t.strip().lower() for t in value.split(","))
        has_host = False
        for name, value in head["headers"]:
            low = name.lower()
            if low in HOP_BY_HOP or low in connection_tokens:
                continue
            if low == "content-length":
                if length is not None or not value.isdigit():
                    raise UpstreamError("bad content-length")
                length = int(value)
            if low == "host":
                has_host = True
            lines.append("%s: %s" % (name, value))
        if not has_host:
            lines.append("host: 127.0.0.1:%d" % self.port)
        if pending_body is not None:
            length = len(pending_body[0][0])
            lines.append("content-length: %d" % length)
        with stream.lock:
            no_body = pending_body is None and stream.end_received and not any(c for c, _ in stream.inbound)
        if no_body and length is None and head["method"] in ("POST", "PUT", "PATCH"):
            lines.append("content-length: 0")
        chunked = length is None and not no_body
        if chunked:
            lines.append("transfer-encoding: chunked")
        conn.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        if pending_body is not None:
            conn.sock.sendall(pending_body[0][0])
            return
        if no_body:
            return
        sent = 0
        while True:
            item = stream.take_inbound(timeout=300)
            if item is None:
                raise UpstreamError("cancelled")
            chunk, end = item
            stream.consumed(len(chunk))
            if chunk:
                sent += len(chunk)
                if length is not None and sent > length:
                    raise UpstreamError("request body longer than its content-length")
                if chunked:
                    conn.sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                else:
                    conn.sock.sendall(chunk)
            if end:
                break
        if chunked:
            conn.sock.sendall(b"0\r\n\r\n")
        elif length is not None and sent != length:
            raise UpstreamError("request body shorter than its content-length")

    def _read_head(self, conn, method):
        while True:
            line = conn.read_line()
            m = re.match(rb"^HTTP/1\.([01]) (\d{3})(?: .*)?$", line)
            if not m:
                raise UpstreamError("bad status line from the program")
            http10 = m.group(1) == b"0"
            status = int(m.group(2))
            headers = []
            raw_headers = []
            while True:
                line = conn.read_line()
                if not line:
                    break
                if len(raw_headers) >= MAX_HEADERS:
                    raise UpstreamError("too many headers from the program")
                name, sep, value = line.partition(b":")
                if not sep:
                    raise UpstreamError("bad header line from the program")
                raw_headers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
            if 100 <= status < 200:
                continue
            break
        lowered = {}
        for name, value in raw_headers:
            lowered.setdefault(name.lower(), []).append(value)
        connection_tokens = set()
        for value in lowered.get("connection", []):
            connection_tokens.update(t.strip().lower() for t in value.split(","))
        for name, value in raw_headers:
            low = name.lower()
            if low in HOP_BY_HOP or low in connection_tokens or not TOKEN_RE.match(name):
                continue
            headers.append([name, value])
        keep = not http10 and "close" not in connection_tokens
        if method == "HEAD" or status in (204, 304):
            framing = ("length", 0)
        elif "chunked" in ",".join(lowered.get("transfer-encoding", [])).lower():
            framing = ("chunked", None)
        elif "content-length" in lowered:
            values = set(lowered["content-length"])
            if len(values) != 1 or not next(iter(values)).isdigit():
                raise UpstreamError("bad content-length from the program")
            framing = ("length", int(next(iter(values))))
        else:
            framing = ("close", None)
            keep = False
        return status, headers, framing, keep

    def _relay_body(self, conn, stream, framing):
        kind, length = framing
        if kind == "length":
            left = length
            if left == 0:
                return stream.send_body_blocking(b"", True)
            while left > 0:
                data = conn.read_some(min(left, CHUNK))
                if not data:
                    raise UpstreamError("the program closed the connection mid-body")
                left -= len(data)
                if not stream.send_body_blocking(data, left == 0):
                    return False
            return True
        if kind == "chunked":
            while True:
                size_line = conn.read_line(1024).split(b";")[0].strip()
                if not re.match(rb"^[0-9a-fA-F]{1,8}$", size_line):
                    raise UpstreamError("bad chunk size from the program")
                size = int(size_line, 16)
                if size == 0:
                    while conn.read_line():
                        pass
                    return stream.send_body_blocking(b"", True)
                while size > 0:
                    data = conn.read_exact(min(size, CHUNK))
                    size -= len(data)
                    if not stream.send_body_blocking(data, False):
                        return False
                conn.read_exact(2)
        while True:
            data = conn.read_some(CHUNK)
            if not data:
                return stream.send_body_blocking(b"", True)
            if not stream.send_body_blocking(data, False):
                return False


def _shutdown_socket(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass

