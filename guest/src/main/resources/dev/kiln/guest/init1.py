#!/usr/bin/env python3
"""Kiln init1: the guest agent.

Started by init0 (as PID 1, through exec) inside a VM, or as an ordinary process in tests. It
announces itself to the host, receives the program's configuration, sets up the program and then
serves requests and events over one multiplexed channel. The protocol is specified in
docs/guest-protocol.md; this file must follow it.

Constraints that shape this file:
- Python >= 3.9 with the standard library only, and its core must run on python3-minimal, which
  has no json, asyncio, zipfile, shutil, queue, http or ctypes. Hence the small JSON codec, the own
  zip reader and the raw-socket HTTP client below. asyncio is imported only for ASGI programs.
- No input from the channel may kill the agent, and nothing received may run a command.
"""

import os
import sys
import time


def _uptime():
    try:
        with open("/proc/uptime", "rb") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


INIT1_START = _uptime()

import argparse  # noqa: E402  (imported after the first timing marker on purpose)
import collections  # noqa: E402
import errno  # noqa: E402
import fcntl  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import stat  # noqa: E402
import struct  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import traceback  # noqa: E402
import zlib  # noqa: E402

AGENT = "kiln-init1/1"
PROTOCOL_VERSIONS = (1,)
DEFAULT_CHANNEL = "/dev/virtio-ports/kiln"

HEADER = struct.Struct(">IBBI")
MAX_FRAME = 1 << 20
CHUNK = 64 * 1024
INITIAL_WINDOW = 256 * 1024
MAX_WINDOW = (1 << 31) - 1
MAX_STREAMS = 256
MAX_HEADERS = 256
FLAG_END = 0x01

HELLO = 0x01
CONFIGURE = 0x02
CONFIGURED = 0x03
REQUEST = 0x10
EVENT = 0x11
RESPONSE = 0x12
DATA = 0x13
WINDOW = 0x14
CANCEL = 0x15
ERROR = 0x16
PING = 0x20
PONG = 0x21
HALT = 0x30
HALTED = 0x31
LOG = 0x40

MAX_ZIP_ENTRIES = 100000
MAX_ZIP_TOTAL = 4 << 30
MAX_ATTACHMENTS = 2 << 30

TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$")
TARGET_RE = re.compile(r"^[\x21-\x7e]*$")
HEADER_VALUE_RE = re.compile(r"^[^\x00\r\n]*$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEVICE_RE = re.compile(r"^/dev/[A-Za-z0-9._/-]+$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
SSH_KEY_RE = re.compile(r"^(ssh-|ecdsa-|sk-)[^\x00\r\n]{1,16000}$")
HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")

HOP_BY_HOP = frozenset(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                        "trailer", "upgrade", "expect"])


# --------------------------------------------------------------------------------------------
# Console

def say(message):
    """One line on the console (the VM's serial port); the node keeps the console log."""
    try:
        sys.stderr.write("kiln-init1: %s\n" % message)
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


# --------------------------------------------------------------------------------------------
# JSON. The json module is preferred; python3-minimal lacks it, hence the small codec, which is
# strict (RFC 8259), bounded in depth and produces ASCII only.

try:
    import json as _json
except ImportError:
    _json = None

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
            "\f": "\\f"}
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\\x7f-\U0010ffff]')
_UNESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
              "t": "\t"}
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_PLAIN = re.compile(r'[^"\\\x00-\x1f]*')
_WS = re.compile(r"[ \t\n\r]*")
_HEX4 = re.compile(r"^[0-9a-fA-F]{4}$")
MAX_JSON_DEPTH = 64


class JsonError(ValueError):
    pass


def _escape_char(match):
    ch = match.group()
    esc = _ESCAPES.get(ch)
    if esc:
        return esc
    code = ord(ch)
    if code < 0x10000:
        return "\\u%04x" % code
    code -= 0x10000
    return "\\u%04x\\u%04x" % (0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF))


def _mini_encode(value, out, depth):
    if depth > MAX_JSON_DEPTH:
        raise JsonError("nesting too deep")
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append('"' + _NEEDS_ESCAPE.sub(_escape_char, value) + '"')
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise JsonError("NaN and infinities are not JSON")
        out.append(repr(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise JsonError("object keys must be strings")
            if not first:
                out.append(",")
            first = False
            _mini_encode(key, out, depth + 1)
            out.append(":")
            _mini_encode(item, out, depth + 1)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _mini_encode(item, out, depth + 1)
        out.append("]")
    else:
        raise JsonError("not JSON-serialisable: %s" % type(value).__name__)


def mini_dumps(value):
    out = []
    _mini_encode(value, out, 0)
    return "".join(out)


class _MiniParser:
    def __init__(self, text):
        self.s = text
        self.i = 0

    def fail(self, what):
        raise JsonError("%s at offset %d" % (what, self.i))

    def ws(self):
        self.i = _WS.match(self.s, self.i).end()

    def value(self, depth):
        if depth > MAX_JSON_DEPTH:
            self.fail("nesting too deep")
        self.ws()
        s, i = self.s, self.i
        if i >= len(s):
            self.fail("unexpected end")
        c = s[i]
        if c == "{":
            return self.obj(depth)
        if c == "[":
            return self.arr(depth)
        if c == '"':
            return self.string()
        if s.startswith("true", i):
            self.i = i + 4
            return True
        if s.startswith("false", i):
            self.i = i + 5
            return False
        if s.startswith("null", i):
            self.i = i + 4
            return None
        m = _NUMBER.match(s, i)
        if not m or m.end() == i:
            self.fail("unexpected character")
        self.i = m.end()
        if m.group(1) or m.group(2):
            return float(m.group())
        return int(m.group())

    def obj(self, depth):
        self.i += 1
        result = {}
        self.ws()
        if self.s.startswith("}", self.i):
            self.i += 1
            return result
        while True:
            self.ws()
            if not self.s.startswith('"', self.i):
                self.fail("expected a string key")
            key = self.string()
            self.ws()
            if not self.s.startswith(":", self.i):
                self.fail("expected ':'")
            self.i += 1
            result[key] = self.value(depth + 1)
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith("}", self.i):
                self.i += 1
                return result
            self.fail("expected ',' or '}'")

    def arr(self, depth):
        self.i += 1
        result = []
        self.ws()
        if self.s.startswith("]", self.i):
            self.i += 1
            return result
        while True:
            result.append(self.value(depth + 1))
            self.ws()
            if self.s.startswith(",", self.i):
                self.i += 1
                continue
            if self.s.startswith("]", self.i):
                self.i += 1
                return result
            self.fail("expected ',' or ']'")

    def string(self):
        s = self.s
        i = self.i + 1
        parts = []
        while True:
            m = _PLAIN.match(s, i)
            parts.append(m.group())
            i = m.end()
            if i >= len(s):
                self.i = i
                self.fail("unterminated string")
            c = s[i]
            if c == '"':
                self.i = i + 1
                return "".join(parts)
            if c != "\\":
                self.i = i
                self.fail("control character in string")
            e = s[i + 1:i + 2]
            if e in _UNESCAPES:
                parts.append(_UNESCAPES[e])
                i += 2
                continue
            if e != "u" or not _HEX4.match(s[i + 2:i + 6]):
                self.i = i
                self.fail("bad escape")
            code = int(s[i + 2:i + 6], 16)
            i += 6
            if 0xD800 <= code < 0xDC00 and s[i:i + 2] == "\\u" and _HEX4.match(s[i + 2:i + 6]):
                low = int(s[i + 2:i + 6], 16)
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
            parts.append(chr(code))


def mini_loads(text):
    parser = _MiniParser(text)
    value = parser.value(0)
    parser.ws()
    if parser.i != len(text):
        parser.fail("trailing data")
    return value


def json_dumps(value):
    if _json is not None:
        return _json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode("ascii")
    return mini_dumps(value).encode("ascii")


def json_loads(data):
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise JsonError("not UTF-8: %s" % e)
    if _json is not None:
        try:
            return _json.loads(text)
        except (ValueError, RecursionError) as e:
            raise JsonError(str(e))
    return mini_loads(text)


def json_object(data):
    value = json_loads(data)
    if not isinstance(value, dict):
        raise JsonError("expected a JSON object")
    return value


# --------------------------------------------------------------------------------------------
# Channels: the byte stream under the frames.

class SocketChannel:
    """unix: and vsock: channels. End of file means the host is gone."""
    host_can_return = False

    def __init__(self, sock, name):
        self.sock = sock
        self.name = name

    def read(self, n):
        return self.sock.recv(n)

    def write_all(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class DeviceChannel:
    """A virtio-serial port. End of file only means no host is connected right now."""
    host_can_return = True

    def __init__(self, fd, name):
        self.fd = fd
        self.name = name

    def read(self, n):
        while True:
            data = os.read(self.fd, n)
            if data:
                return data
            time.sleep(0.05)

    def write_all(self, data):
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EINTR):
                    time.sleep(0.01)
                    continue
                raise
            view = view[written:]

    def close(self):
        os.close(self.fd)


def open_channel(spec):
    if spec.startswith("unix:"):
        path = spec[5:]
        deadline = time.monotonic() + 10
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return SocketChannel(sock, spec)
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    if spec.startswith("vsock:"):
        port = int(spec[6:])
        sock = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        sock.connect((socket.VMADDR_CID_HOST, port))
        return SocketChannel(sock, spec)
    deadline = time.monotonic() + 5
    while not os.path.exists(spec):
        if time.monotonic() > deadline:
            raise OSError(errno.ENOENT, "channel device does not exist", spec)
        time.sleep(0.02)
    return DeviceChannel(os.open(spec, os.O_RDWR | os.O_CLOEXEC), spec)


class FrameSource:
    """Reads whole frames from a channel through one buffer (few system calls per frame)."""

    def __init__(self, channel):
        self.channel = channel
        self.buf = bytearray()
        self.pos = 0

    def _fill(self, n):
        while len(self.buf) - self.pos < n:
            if self.pos:
                del self.buf[:self.pos]
                self.pos = 0
            data = self.channel.read(262144)
            if not data:
                return False
            self.buf += data
        return True

    def take(self, n):
        if not self._fill(n):
            raise EOFError()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return data

    def skip(self, n):
        while n > 0:
            if len(self.buf) - self.pos == 0 and not self._fill(1):
                raise EOFError()
            step = min(n, len(self.buf) - self.pos)
            self.pos += step
            n -= step


class Outbox:
    """The only writer of the channel: frames are queued whole and written by one thread, which
    batches whatever is queued into one write."""

    def __init__(self, channel, on_dead):
        self.channel = channel
        self.on_dead = on_dead
        self.queue = collections.deque()
        self.cond = threading.Condition()
        self.busy = False
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self.thread.start()

    def send(self, ftype, flags, stream, payload=b""):
        if len(payload) > MAX_FRAME:
            raise ValueError("frame payload too large")
        frame = HEADER.pack(len(payload), ftype, flags, stream) + bytes(payload)
        with self.cond:
            if self.closed:
                return False
            self.queue.append(frame)
            self.cond.notify_all()
        return True

    def flush(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while (self.queue or self.busy) and not self.closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def _run(self):
        while True:
            with self.cond:
                while not self.queue and not self.closed:
                    self.cond.wait()
                if self.closed:
                    return
                batch = []
                size = 0
                while self.queue and size < 262144:
                    frame = self.queue.popleft()
                    batch.append(frame)
                    size += len(frame)
                self.busy = True
            try:
                self.channel.write_all(b"".join(batch))
            except OSError as e:
                if not self.channel.host_can_return:
                    with self.cond:
                        self.closed = True
                        self.busy = False
                        self.cond.notify_all()
                    self.on_dead("write failed: %s" % e)
                    return
                say("channel write failed (%s); %d bytes dropped until a host connects" % (e, size))
            with self.cond:
                self.busy = False
                self.cond.notify_all()


# --------------------------------------------------------------------------------------------
# Streams

class ProtocolError(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


class Stream:
    """One host-opened stream: the inbound body (bounded by the window we grant) and the outbound
    credit (the window the host grants). Handlers are threads or asyncio tasks; the two wake-up
    hooks let both kinds wait without polling."""

    def __init__(self, agent, sid, kind):
        self.agent = agent
        self.id = sid
        self.kind = kind
        self.lock = threading.Lock()
        self.recv_allowed = INITIAL_WINDOW
        self.recv_unacked = 0
        self.credit = INITIAL_WINDOW
        self.credit_cond = threading.Condition(self.lock)
        self.inbound = collections.deque()
        self.inbound_cond = threading.Condition(self.lock)
        self.end_received = False
        self.cancelled = False
        self.finished = False
        self.on_inbound = None
        self.on_credit = None
        self.on_cancel = None
        self.request_id = None

    # --- called by the reader thread
    def deliver(self, payload, end):
        with self.lock:
            if self.end_received:
                return
            if len(payload) > self.recv_allowed:
                raise ProtocolError("flow_control", "DATA beyond the granted window")
            self.recv_allowed -= len(payload)
            self.inbound.append((payload, end))
            if end:
                self.end_received = True
            self.inbound_cond.notify_all()
            hook = self.on_inbound
        if hook:
            hook()

    def add_credit(self, increment):
        with self.lock:
            if self.credit + increment > MAX_WINDOW:
                raise ProtocolError("flow_control", "window over 2^31-1")
            self.credit += increment
            self.credit_cond.notify_all()
            hook = self.on_credit
        if hook:
            hook()

    def cancel(self):
        with self.lock:
            if self.cancelled:
                return
            self.cancelled = True
            self.inbound_cond.notify_all()
            self.credit_cond.notify_all()
            hook = self.on_cancel
        if hook:
            hook()

    # --- called by handlers
    def consumed(self, n):
        """The consumer took n bytes: grant them again, in batches of half a window."""
        grant = 0
        with self.lock:
            self.recv_unacked += n
            if self.recv_unacked >= INITIAL_WINDOW // 2 and not self.end_received and not self.cancelled:
                grant = self.recv_unacked
                self.recv_unacked = 0
                self.recv_allowed += grant
        if grant:
            self.agent.outbox.send(WINDOW, 0, self.id, struct.pack(">I", grant))

    def take_inbound(self, timeout=None):
        """Blocking (thread handlers): next (bytes, end), or None when cancelled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.lock:
            while not self.inbound and not self.cancelled:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise ProtocolError("timeout", "timed out waiting for data from the host")
                self.inbound_cond.wait(left)
            if self.cancelled:
                return None
            return self.inbound.popleft()

    def poll_inbound(self):
        with self.lock:
            if self.inbound:
                return self.inbound.popleft()
            return None

    def try_take_credit(self, want):
        with self.lock:
            if self.credit <= 0:
                return 0
            granted = min(want, self.credit)
            self.credit -= granted
            return granted

    def take_credit(self, want):
        """Blocking (thread handlers): some credit > 0, or 0 when cancelled."""
        with self.lock:
            while self.credit <= 0 and not self.cancelled:
                self.credit_cond.wait()
            if self.cancelled:
                return 0
            granted = min(want, self.credit)
            self.credit -= granted
            return granted

    def send_body_blocking(self, data, end):
        view = memoryview(data)
        while len(view):
            granted = self.take_credit(min(len(view), CHUNK))
            if not granted:
                return False
            last = end and granted == len(view)
            self.agent.outbox.send(DATA, FLAG_END if last else 0, self.id, view[:granted])
            view = view[granted:]
        if end and not len(data):
            self.agent.outbox.send(DATA, FLAG_END, self.id)
        return not self.cancelled


# --------------------------------------------------------------------------------------------
# Zip archives (python3-minimal has no zipfile): stored and deflated entries, checked CRCs,
# no escaping names, no symlinks, bounded sizes.

class ZipError(Exception):
    pass


_EOCD = struct.Struct("<IHHHHIIH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<IHHHHHIIIHH")


def _safe_target(dest, name):
    if "\x00" in name or name.startswith("/") or not name.strip("/"):
        raise ZipError("entry %r: absolute or empty name" % name)
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ZipError("entry %r escapes the target directory" % name)
    if re.match(r"^[A-Za-z]:", name):
        raise ZipError("entry %r: drive letter" % name)
    return os.path.join(dest, *parts)


def unzip(archive, dest):
    """Unpacks archive into dest. All names are checked before anything is written."""
    with open(archive, "rb") as f:
        size = f.seek(0, 2)
        tail_len = min(size, _EOCD.size + 65535)
        f.seek(size - tail_len)
        tail = f.read(tail_len)
        pos = tail.rfind(b"PK\x05\x06")
        if pos < 0 or pos + _EOCD.size > len(tail):
            raise ZipError("not a zip archive (no end of central directory record)")
        _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, _ = _EOCD.unpack_from(tail, pos)
        if disk or cd_disk or n_disk != n_total:
            raise ZipError("multi-disk archives are not supported")
        if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
            raise ZipError("zip64 archives are not supported")
        if n_total > MAX_ZIP_ENTRIES:
            raise ZipError("too many entries (%d > %d)" % (n_total, MAX_ZIP_ENTRIES))
        eocd_at = size - tail_len + pos
        base = eocd_at - cd_size - cd_offset
        if base < 0:
            raise ZipError("corrupt central directory offset")
        f.seek(base + cd_offset)
        central = f.read(cd_size)
        if len(central) != cd_size:
            raise ZipError("truncated central directory")
        entries = []
        total = 0
        p = 0
        for _ in range(n_total):
            if p + _CENTRAL.size > len(central):
                raise ZipError("truncated central directory")
            (sig, made_by, _, flags, method, _, _, crc, csize, usize, nlen, xlen, clen, _, _,
             ext_attr, local_at) = _CENTRAL.unpack_from(central, p)
            if sig != 0x02014B50:
                raise ZipError("bad central directory signature")
            raw_name = central[p + _CENTRAL.size:p + _CENTRAL.size + nlen]
            p += _CENTRAL.size + nlen + xlen + clen
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
            if flags & 0x1:
                raise ZipError("entry %r is encrypted" % name)
            if method not in (0, 8):
                raise ZipError("entry %r: compression method %d not supported" % (name, method))
            if usize == 0xFFFFFFFF or csize == 0xFFFFFFFF or local_at == 0xFFFFFFFF:
                raise ZipError("zip64 archives are not supported")
            mode = (ext_attr >> 16) & 0xFFFF if (made_by >> 8) == 3 else 0
            if mode and stat.S_ISLNK(mode):
                raise ZipError("entry %r is a symbolic link" % name)
            is_dir = name.endswith("/") or (mode and stat.S_ISDIR(mode))
            target = _safe_target(dest, name)
            total += usize
            if total > MAX_ZIP_TOTAL:
                raise ZipError("archive expands beyond %d bytes" % MAX_ZIP_TOTAL)
            entries.append((name, target, is_dir, mode, method, crc, csize, usize, local_at))
        os.makedirs(dest, exist_ok=True)
        real_dest = os.path.realpath(dest)
        for name, target, is_dir, mode, method, crc, csize, usize, local_at in entries:
            parent = target if is_dir else os.path.dirname(target)
            os.makedirs(parent, exist_ok=True)
            real_parent = os.path.realpath(parent)
            if real_parent != real_dest and not real_parent.startswith(real_dest + os.sep):
                raise ZipError("entry %r escapes the target directory" % name)
            if is_dir:
                continue
            f.seek(base + local_at)
            local = f.read(_LOCAL.size)
            if len(local) != _LOCAL.size or _LOCAL.unpack(local)[0] != 0x04034B50:
                raise ZipError("entry %r: bad local header" % name)
            lnlen, lxlen = _LOCAL.unpack(local)[9:11]
            f.seek(base + local_at + _LOCAL.size + lnlen + lxlen)
            perm = (mode & 0o755) | 0o600 if mode else 0o644
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, perm)
            try:
                _extract(f, fd, name, method, crc, csize, usize)
            finally:
                os.close(fd)
            os.chmod(target, perm)


def _extract(f, fd, name, method, crc, csize, usize):
    """Copies or inflates one entry, never producing more than its declared size (zip bombs)."""
    if method == 0 and csize != usize:
        raise ZipError("entry %r: stored sizes disagree" % name)
    inflater = zlib.decompressobj(-15) if method == 8 else None
    left = csize
    written = 0
    check = 0
    while True:
        data = f.read(min(CHUNK, left)) if left else b""
        if left and not data:
            raise ZipError("entry %r is truncated" % name)
        left -= len(data)
        outputs = []
        if inflater is None:
            outputs.append(data)
        else:
            pending = data
            while True:
                outputs.append(inflater.decompress(pending, CHUNK))
                pending = inflater.unconsumed_tail
                if not pending:
                    break
                if written + sum(len(o) for o in outputs) > usize:
                    break
            if not left:
                outputs.append(inflater.flush())
        for out in outputs:
            written += len(out)
            if written > usize:
                raise ZipError("entry %r is larger than declared" % name)
            check = zlib.crc32(out, check)
            _write_all(fd, out)
        if not left:
            break
    if written != usize:
        raise ZipError("entry %r has the wrong size" % name)
    if check & 0xFFFFFFFF != crc:
        raise ZipError("entry %r fails its CRC check" % name)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# --------------------------------------------------------------------------------------------
# Configuration

class ConfigError(Exception):
    def __init__(self, code, message, tb=None):
        Exception.__init__(self, message)
        self.code = code
        self.message = message
        self.tb = tb


def _require(cond, message, code="bad_config"):
    if not cond:
        raise ConfigError(code, message)


def _get(d, key, kind, default=None, required=False):
    if key not in d or d[key] is None:
        _require(not required, "%s is required" % key)
        return default
    value = d[key]
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    _require(ok, "%s must be %s" % (key, getattr(kind, "__name__", "of another type")))
    return value


def _guest_abs_path(value, what):
    _require(isinstance(value, str) and value.startswith("/") and "\x00" not in value
             and ".." not in value.split("/") and len(value) < 4096,
             "%s must be an absolute path without '..'" % what)
    return value


class Config:
    """The validated program configuration (docs/guest-protocol.md section 5)."""

    def __init__(self, raw):
        _require(isinstance(raw, dict), "configuration must be a JSON object")
        version = _get(raw, "version", int, 1)
        _require(version in PROTOCOL_VERSIONS, "protocol version %r not supported" % version)
        self.item_hash = _get(raw, "item_hash", str, "")
        _require(len(self.item_hash) <= 128, "item_hash too long")
        self.interface = _get(raw, "interface", str, required=True)
        _require(self.interface in ("asgi", "executable"), "interface must be asgi or executable")
        code = _get(raw, "code", dict, required=True)
        self.encoding = _get(code, "encoding", str, required=True)
        _require(self.encoding in ("plain", "zip", "squashfs"), "code.encoding must be plain, zip or squashfs")
        self.entrypoint = _get(code, "entrypoint", str, required=True)
        _require(0 < len(self.entrypoint) <= 512, "code.entrypoint must not be empty")
        self.code_size = _get(code, "size", int, 0)
        self.code_device = code.get("device")
        if self.code_device is not None:
            _require(isinstance(self.code_device, str) and DEVICE_RE.match(self.code_device)
                     and ".." not in self.code_device, "code.device must be a /dev path")
        self.code_path = code.get("path")
        if self.code_path is not None:
            _guest_abs_path(self.code_path, "code.path")
        if self.code_path is None:
            if self.encoding == "squashfs":
                _require(self.code_device is not None, "squashfs code needs code.device or code.path")
            else:
                _require(self.code_size > 0, "%s code needs its bytes (code.size > 0)" % self.encoding)
        data = _get(raw, "data", dict, None)
        self.data_size = _get(data, "size", int, 0) if data else 0
        self.data_mount = _guest_abs_path(data.get("mount") or "/data", "data.mount") if data else "/data"
        _require(self.code_size >= 0 and self.data_size >= 0, "sizes must not be negative")
        _require(self.code_size + self.data_size <= MAX_ATTACHMENTS, "attachments too large")
        variables = _get(raw, "variables", dict, {})
        _require(len(variables) <= 1024, "too many variables")
        for name, value in variables.items():
            _require(ENV_NAME_RE.match(name) is not None, "variable name %r is not valid" % name)
            _require(isinstance(value, str) and "\x00" not in value and len(value) <= 65536,
                     "variable %s must be a string without NUL" % name)
        self.variables = variables
        self.volumes = []
        for vol in _get(raw, "volumes", list, []):
            _require(isinstance(vol, dict), "volumes must be objects")
            device = _get(vol, "device", str, required=True)
            _require(DEVICE_RE.match(device) is not None and ".." not in device,
                     "volume device %r must be a /dev path" % device)
            mount = _guest_abs_path(_get(vol, "mount", str, required=True), "volume mount")
            _require(mount.rstrip("/") != "", "a volume cannot be mounted on /")
            fs = _get(vol, "fs", str, None)
            _require(fs is None or re.match(r"^[a-z0-9]{1,16}$", fs), "volume fs %r is not valid" % fs)
            self.volumes.append((device, mount, bool(_get(vol, "read_only", bool, True)), fs))
        net = _get(raw, "network", dict, None)
        self.network = None
        if net:
            iface = _get(net, "interface", str, "eth0")
            _require(re.match(r"^[A-Za-z0-9._-]{1,15}$", iface) is not None, "network.interface is not valid")
            address = _get(net, "address", str, required=True)
            m = re.match(r"^(\d{1,3}(?:\.\d{1,3}){3})/(\d{1,2})$", address)
            _require(m is not None and int(m.group(2)) <= 32, "network.address must be IPv4 a.b.c.d/prefix")
            _check_ipv4(m.group(1), "network.address")
            gateway = _get(net, "gateway", str, None)
            if gateway:
                _check_ipv4(gateway, "network.gateway")
            dns = _get(net, "dns", list, [])
            for server in dns:
                _require(isinstance(server, str) and re.match(r"^[0-9A-Fa-f:.]{2,45}$", server),
                         "network.dns entries must be addresses")
            self.network = (iface, m.group(1), int(m.group(2)), gateway, dns)
        self.hostname = _get(raw, "hostname", str, None)
        _require(self.hostname is None or HOSTNAME_RE.match(self.hostname), "hostname is not valid")
        self.ssh_keys = _get(raw, "ssh_authorized_keys", list, [])
        _require(len(self.ssh_keys) <= 100, "too many SSH keys")
        for key in self.ssh_keys:
            _require(isinstance(key, str) and SSH_KEY_RE.match(key.strip()), "an SSH key is not valid")
        self.port = _get(raw, "port", int, 8080)
        _require(0 < self.port < 65536, "port must be 1-65535")
        self.startup_timeout = _get(raw, "startup_timeout", (int, float), 30)
        _require(1 <= self.startup_timeout <= 300, "startup_timeout must be 1-300 seconds")


def _check_ipv4(text, what):
    try:
        socket.inet_aton(text)
        _require(all(0 <= int(p) <= 255 for p in text.split(".")), "%s is not an IPv4 address" % what)
    except (OSError, ValueError):
        raise ConfigError("bad_config", "%s is not an IPv4 address" % what)


# --------------------------------------------------------------------------------------------
# System steps (system mode only): mounts, network, hostname, power-off, zombie reaping.

def run_mount(args, timeout=30):
    """The one external command the agent runs, with arguments built here from validated values."""
    for candidate in ("/bin/mount", "/usr/bin/mount", "/sbin/mount"):
        if os.path.exists(candidate):
            break
    else:
        raise ConfigError("mount_failed", "no mount program in the runtime")
    proc = subprocess.Popen([candidate] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, close_fds=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ConfigError("mount_failed", "mount %s timed out" % " ".join(args))
    if proc.returncode != 0:
        raise ConfigError("mount_failed", "mount %s failed: %s" % (" ".join(args), out.decode("utf-8", "replace").strip()))


SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCSIFADDR = 0x8916
SIOCSIFNETMASK = 0x891C
SIOCADDRT = 0x890B
IFF_UP = 0x1
RTF_UP = 0x1
RTF_GATEWAY = 0x2


def _sockaddr_in(address):
    return struct.pack("=HH4s8x", socket.AF_INET, 0, socket.inet_aton(address))


def _ifreq(name, body):
    return struct.pack("16s", name.encode("ascii")) + body + b"\x00" * (24 - len(body))


def interface_up(sock, name):
    flags = struct.unpack_from("=H", fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, _ifreq(name, b"")), 16)[0]
    fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, _ifreq(name, struct.pack("=H", flags | IFF_UP)))


def configure_network(iface, address, prefix, gateway):
    """IPv4 through ioctls: minimal runtimes have no ip(8) and python3-minimal no ctypes."""
    netmask = socket.inet_ntoa(struct.pack(">I", (0xFFFFFFFF << (32 - prefix)) & 0xFFFFFFFF))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        fcntl.ioctl(sock.fileno(), SIOCSIFADDR, _ifreq(iface, _sockaddr_in(address)))
        fcntl.ioctl(sock.fileno(), SIOCSIFNETMASK, _ifreq(iface, _sockaddr_in(netmask)))
        interface_up(sock, iface)
        if gateway:
            any_addr = _sockaddr_in("0.0.0.0")
            rtentry = struct.pack("@L16s16s16sHhLPhPLLH", 0, any_addr, _sockaddr_in(gateway), any_addr,
                                  RTF_UP | RTF_GATEWAY, 0, 0, 0, 0, 0, 0, 0, 0)
            rtentry += b"\x00" * (120 - len(rtentry))
            try:
                fcntl.ioctl(sock.fileno(), SIOCADDRT, rtentry)
            except OSError as e:
                if e.errno != errno.EEXIST:
                    raise
    finally:
        sock.close()


def loopback_up():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        interface_up(sock, "lo")
    finally:
        sock.close()


def power_off():
    """PID 1 stops the VM. Without ctypes there is no reboot(2): see docs/guest-protocol.md §8."""
    try:
        os.sync()
    except OSError:
        pass
    try:
        with open("/proc/sysrq-trigger", "w") as f:
            f.write("o")
        time.sleep(5)
    except OSError as e:
        say("power-off through /proc/sysrq-trigger failed: %s" % e)
    for path, args in (("/sbin/poweroff", ["-f"]), ("/usr/sbin/poweroff", ["-f"]),
                       ("/bin/busybox", ["poweroff", "-f"])):
        if os.path.exists(path):
            try:
                os.execv(path, [path] + args)
            except OSError as e:
                say("%s failed: %s" % (path, e))
    say("no way to power off: exiting PID 1 (the kernel panics; use panic=-1 and -no-reboot)")
    os._exit(1)


def reap_orphans_forever():
    """PID 1 inherits orphans. Only zombies seen twice, a second apart, are reaped, so a Popen
    that waits for its own child (the program, mount) always gets the real exit status."""
    seen = set()
    while True:
        time.sleep(1)
        zombies = set()
        try:
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    with open("/proc/%s/stat" % entry, "rb") as f:
                        fields = f.read().rsplit(b")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if fields[0] == b"Z" and fields[1] == b"1":
                    zombies.add(int(entry))
        except OSError:
            continue
        for pid in zombies & seen:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        seen = zombies


# --------------------------------------------------------------------------------------------
# Requests: validation shared by both interfaces.

def parse_request_head(raw):
    head = json_object(raw)
    method = head.get("method")
    path = head.get("path")
    query = head.get("query", "")
    headers = head.get("headers", [])
    if not isinstance(method, str) or not TOKEN_RE.match(method):
        raise ProtocolError("bad_request", "method is not a valid token")
    if not isinstance(path, str) or not path.startswith("/") or len(path) > 65536 or not TARGET_RE.match(path):
        raise ProtocolError("bad_request", "path must start with / and contain no spaces or controls")
    if not isinstance(query, str) or len(query) > 65536 or not TARGET_RE.match(query):
        raise ProtocolError("bad_request", "query must contain no spaces or controls")
    if not isinstance(headers, list) or len(headers) > MAX_HEADERS:
        raise ProtocolError("bad_request", "headers must be a list of at most %d pairs" % MAX_HEADERS)
    clean = []
    for pair in headers:
        if (not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str)
                or not isinstance(pair[1], str) or not TOKEN_RE.match(pair[0])
                or not HEADER_VALUE_RE.match(pair[1]) or max(map(ord, pair[1]), default=0) > 255):
            raise ProtocolError("bad_request", "a header is not a [name, value] pair of HTTP bytes")
        clean.append((pair[0], pair[1]))
    scheme = head.get("scheme", "http")
    if scheme not in ("http", "https"):
        raise ProtocolError("bad_request", "scheme must be http or https")
    client = head.get("client")
    if client is not None and not (isinstance(client, list) and len(client) == 2
                                   and isinstance(client[0], str) and isinstance(client[1], int)):
        raise ProtocolError("bad_request", "client must be [host, port]")
    request_id = head.get("request_id")
    if request_id is not None and (not isinstance(request_id, str) or not REQUEST_ID_RE.match(request_id)):
        raise ProtocolError("bad_request", "request_id must match [A-Za-z0-9._-]{1,64}")
    return {"method": method, "path": path, "query": query, "headers": clean, "scheme": scheme,
            "client": tuple(client) if client else None, "request_id": request_id}


def safe_error_body(status, request_id):
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Error")
    return ("%s (request id: %s)\n" % (reason, request_id)).encode("ascii")


def safe_error_head(status, body, request_id):
    return {"status": status, "headers": [["content-type", "text/plain; charset=utf-8"],
                                          ["content-length", str(len(body))],
                                          ["x-kiln-request-id", request_id]]}


# --------------------------------------------------------------------------------------------
# ASGI programs (asyncio imported here only: python3-minimal has none)

class AsgiProgram:
    interface = "asgi"

    def __init__(self, agent, app):
        import asyncio
        self.asyncio = asyncio
        self.agent = agent
        self.app = app
        self.state = {}
        self.loop = asyncio.new_event_loop()
        self.lifespan = "unsupported"
        self.lifespan_inbox = None
        self.startup_done = None
        self.shutdown_done = None
        self.thread = threading.Thread(target=self._run_loop, name="asgi", daemon=True)
        self.thread.start()

    def _run_loop(self):
        self.asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _call(self, coro, timeout):
        return self.asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # --- lifespan
    def start_lifespan(self, timeout):
        try:
            result = self._call(self._startup(timeout), timeout + 1)
        except ConfigError:
            raise
        except Exception as e:
            raise ConfigError("lifespan_failed", "lifespan startup did not complete: %s" % (str(e) or type(e).__name__))
        self.lifespan = result

    async def _startup(self, timeout):
        asyncio = self.asyncio
        self.lifespan_inbox = asyncio.Queue()
        self.startup_done = self.loop.create_future()
        self.shutdown_done = self.loop.create_future()
        self.lifespan_inbox.put_nowait({"type": "lifespan.startup"})
        self.loop.create_task(self._lifespan_task())
        try:
            return await asyncio.wait_for(asyncio.shield(self.startup_done), timeout)
        except asyncio.TimeoutError:
            raise ConfigError("lifespan_failed", "lifespan startup did not finish within %ss" % timeout)

    async def _lifespan_task(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": self.state}

        async def receive():
            return await self.lifespan_inbox.get()

        async def send(message):
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "lifespan.startup.complete" and not self.startup_done.done():
                self.startup_done.set_result("supported")
            elif kind == "lifespan.startup.failed" and not self.startup_done.done():
                self.startup_done.set_exception(ConfigError("lifespan_failed", "the app's startup failed: %s" % message.get("message", "")))
            elif kind == "lifespan.shutdown.complete" and not self.shutdown_done.done():
                self.shutdown_done.set_result("complete")
            elif kind == "lifespan.shutdown.failed" and not self.shutdown_done.done():
                self.shutdown_done.set_result("failed: %s" % message.get("message", ""))

        try:
            await self.app(scope, receive, send)
        except BaseException as e:
            if not self.startup_done.done():
                # The ASGI spec: an app that raises on the lifespan scope does not support it.
                say("lifespan not supported by the app (%s: %s)" % (type(e).__name__, e))
                self.startup_done.set_result("unsupported")
            elif not self.shutdown_done.done():
                self.agent.log("error", "lifespan shutdown raised", tb=traceback.format_exc(), kind="app_error")
                self.shutdown_done.set_result("failed: %s" % type(e).__name__)
            if isinstance(e, (KeyboardInterrupt, SystemExit)):
                return
        finally:
            if not self.startup_done.done():
                self.startup_done.set_result("unsupported")
            if not self.shutdown_done.done():
                self.shutdown_done.set_result("none")

    def shutdown(self, timeout):
        if self.lifespan != "supported":
            return "none", None
        try:
            result = self._call(self._shutdown(timeout), timeout + 1)
        except Exception as e:
            return "timeout", str(e)
        if result.startswith("failed"):
            return "failed", result[8:]
        return result, None

    async def _shutdown(self, timeout):
        self.lifespan_inbox.put_nowait({"type": "lifespan.shutdown"})
        try:
            return await self.asyncio.wait_for(self.asyncio.shield(self.shutdown_done), timeout)
        except self.asyncio.TimeoutError:
            return "timeout"

    # --- requests and events (called from the reader thread)
    def serve(self, stream, head, event=None):
        self.loop.call_soon_threadsafe(self._spawn, stream, head, event)

    def _spawn(self, stream, head, event):
        asyncio = self.asyncio
        stream.aqueue = asyncio.Queue()
        stream.credit_event = asyncio.Event()
        stream.on_inbound = lambda: self.loop.call_soon_threadsafe(self._pump_inbound, stream)
        stream.on_credit = lambda: self.loop.call_soon_threadsafe(stream.credit_event.set)
        stream.on_cancel = lambda: self.loop.call_soon_threadsafe(self._cancel, stream)
        stream.task = self.loop.create_task(self._handle(stream, head, event))
        self._pump_inbound(stream)
        if stream.cancelled:
            self._cancel(stream)

    def _pump_inbound(self, stream):
        while True:
            item = stream.poll_inbound()
            if item is None:
                return
            stream.aqueue.put_nowait(item)

    def _cancel(self, stream):
        stream.aqueue.put_nowait(None)
        stream.credit_event.set()
        task = getattr(stream, "task", None)
        if task is not None and not task.done():
            task.cancel()

    async def _handle(self, stream, head, event):
        asyncio = self.asyncio
        agent = self.agent
        rid = stream.request_id
        state = {"started": False, "done": False, "body_done": False}
        if event is None:
            raw_path = head["path"]
            from urllib.parse import unquote
            scope = {
                "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                "method": head["method"], "scheme": head["scheme"],
                "path": unquote(raw_path), "raw_path": raw_path.encode("ascii"),
                "query_string": head["query"].encode("ascii"), "root_path": "",
                "headers": [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in head["headers"]],
                "client": head["client"], "server": ("127.0.0.1", 8080), "state": dict(self.state),
            }
        else:
            scope = {"type": "aleph.message", "asgi": {"version": "3.0", "spec_version": "2.3"},
                     "message": event.get("message"), "state": dict(self.state)}
            state["body_done"] = True

        async def receive():
            if stream.cancelled:
                return {"type": "http.disconnect"}
            if event is not None:
                if not state.get("event_read"):
                    state["event_read"] = True
                    return {"type": "aleph.message", "body": json_dumps(event.get("message")), "more_body": False}
            elif not state["body_done"]:
                item = await stream.aqueue.get()
                if item is not None:
                    chunk, end = item
                    stream.consumed(len(chunk))
                    if end:
                        state["body_done"] = True
                    return {"type": "http.request", "body": chunk, "more_body": not end}
            # After the body, receive() waits for a disconnect (the ASGI spec).
            while not stream.cancelled:
                item = await stream.aqueue.get()
                if item is None:
                    break
            return {"type": "http.disconnect"}

        async def send_body(data, end):
            view = memoryview(data)
            while len(view):
                granted = stream.try_take_credit(min(len(view), CHUNK))
                if not granted:
                    stream.credit_event.clear()
                    if stream.cancelled:
                        raise ConnectionResetError("stream cancelled")
                    granted = stream.try_take_credit(min(len(view), CHUNK))
                    if not granted:
                        await stream.credit_event.wait()
                        continue
                last = end and granted == len(view)
                agent.outbox.send(DATA, FLAG_END if last else 0, stream.id, view[:granted])
                view = view[granted:]
            if end and not len(data):
                agent.outbox.send(DATA, FLAG_END, stream.id)

        async def send(message):
            if stream.cancelled or state["done"]:
                return
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "http.response.start":
                if state["started"]:
                    raise RuntimeError("http.response.start sent twice")
                status = message.get("status")
                if not isinstance(status, int) or not 100 <= status <= 599:
                    raise RuntimeError("bad status %r" % (status,))
                headers = []
                for name, value in message.get("headers", []):
                    name = bytes(name).decode("latin-1")
                    value = bytes(value).decode("latin-1")
                    if not TOKEN_RE.match(name) or not HEADER_VALUE_RE.match(value):
                        raise RuntimeError("bad response header %r" % name)
                    headers.append([name, value])
                if len(headers) > MAX_HEADERS:
                    raise RuntimeError("too many response headers")
                state["started"] = True
                agent.outbox.send(RESPONSE, 0, stream.id, json_dumps({"status": status, "headers": headers}))
            elif kind == "http.response.body":
                if not state["started"]:
                    raise RuntimeError("http.response.body before http.response.start")
                more = bool(message.get("more_body", False))
                body = message.get("body", b"")
                if not isinstance(body, (bytes, bytearray, memoryview)):
                    raise RuntimeError("body must be bytes")
                if more and not len(body):
                    return
                if not more:
                    state["done"] = True
                await send_body(bytes(body), not more)
                if not more:
                    agent.finish_stream(stream)
            elif event is not None and not state["started"]:
                payload = json_dumps(message)
                state["started"] = state["done"] = True
                agent.outbox.send(RESPONSE, 0, stream.id, json_dumps(
                    {"status": 200, "headers": [["content-type", "application/json"],
                                                ["content-length", str(len(payload))]]}))
                await send_body(payload, True)
                agent.finish_stream(stream)
            else:
                raise RuntimeError("unexpected ASGI message %r" % (kind,))

        try:
            await self.app(scope, receive, send)
            if state["done"] or stream.cancelled:
                return
            if state["started"]:
                agent.log("error", "the app returned before finishing its response", request_id=rid, kind="app_error")
                agent.abort_stream(stream, "app_error")
            elif event is not None:
                agent.outbox.send(RESPONSE, FLAG_END, stream.id, json_dumps({"status": 204, "headers": []}))
                agent.finish_stream(stream)
            else:
                agent.log("error", "the app returned without a response", request_id=rid, kind="app_error")
                agent.send_safe_error(stream, 500)
        except asyncio.CancelledError:
            agent.finish_stream(stream, quiet=True)
        except Exception:
            tb = traceback.format_exc()
            say("request %s failed:\n%s" % (rid, tb))
            agent.log("error", "unhandled exception in the app", request_id=rid, tb=tb, kind="app_error")
            if stream.cancelled:
                agent.finish_stream(stream, quiet=True)
            elif state["started"]:
                agent.abort_stream(stream, "app_error")
            else:
                agent.send_safe_error(stream, 500)


def load_asgi_app(code_dir, entrypoint):
    module_name, _, attr = entrypoint.partition(":") if ":" in entrypoint else ("main", ":", entrypoint)
    if not MODULE_RE.match(module_name) or not ATTR_RE.match(attr):
        raise ConfigError("bad_config", "entrypoint %r must look like module:app" % entrypoint)
    import importlib
    if code_dir not in sys.path:
        sys.path.insert(0, code_dir)
    importlib.invalidate_caches()
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise ConfigError("module_not_found", "cannot import %s: %s" % (module_name, e), traceback.format_exc())
    except BaseException as e:
        raise ConfigError("import_failed", "importing %s raised %s: %s" % (module_name, type(e).__name__, e),
                          traceback.format_exc())
    app = module
    for part in attr.split("."):
        if not hasattr(app, part):
            raise ConfigError("entrypoint_not_found", "module %r has no attribute %r" % (module_name, attr))
        app = getattr(app, part)
    if not callable(app):
        raise ConfigError("entrypoint_not_found", "%s is not callable" % entrypoint)
    return app


# --------------------------------------------------------------------------------------------
# Executable programs: a process listening on a port, reached through a keep-alive HTTP/1.1
# client written on raw sockets (python3-minimal has no http.client).

class UpstreamError(Exception):
    pass


class Upstream:
    """One keep-alive connection to the program, with a bounded buffered reader."""

    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.reused = False

    def alive(self):
        """A pooled connection the program closed shows EOF (or stray bytes): don't reuse it."""
        try:
            self.sock.setblocking(False)
            try:
                self.sock.recv(1, socket.MSG_PEEK)
                return False
            except (BlockingIOError, InterruptedError):
                return True
            finally:
                self.sock.setblocking(True)
        except OSError:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _more(self):
        data = self.sock.recv(CHUNK)
        if not data:
            raise UpstreamError("the program closed the connection")
        self.buf += data

    def read_line(self, limit=65536):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line.rstrip(b"\r\n")
            if len(self.buf) > limit:
                raise UpstreamError("line too long in the program's response")
            self._more()

    def read_some(self, limit):
        if not self.buf:
            data = self.sock.recv(min(limit, CHUNK))
            return data
        data = bytes(self.buf[:limit])
        del self.buf[:limit]
        return data

    def read_exact(self, n):
        while len(self.buf) < n:
            self._more()
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data


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
                                         close_fds=True, start_new_session=True)
        except OSError as e:
            raise ConfigError("program_exited", "cannot start %s: %s" % (self.path, e))
        deadline = time.monotonic() + timeout
        while True:
            status = self.proc.poll()
            if status is not None:
                self.exit_status = status
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
        return self._stop(timeout), None

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


# --------------------------------------------------------------------------------------------
# The agent

class Agent:
    def __init__(self, options):
        self.options = options
        self.root = os.path.abspath(options.root)
        self.pid1 = os.getpid() == 1
        if options.system == "auto":
            self.system = self.pid1
        else:
            self.system = options.system == "on"
        self.lock = threading.Lock()
        self.streams = {}
        self.state = "new"
        self.halting = False
        self.program = None
        self.outbox = None
        self.channel = None
        self.stopping = threading.Event()

    def path(self, guest_path):
        return os.path.join(self.root, guest_path.lstrip("/"))

    # --- hello
    def runtime_info(self):
        name = os.environ.get("KILN_RUNTIME_NAME")
        runtime_hash = os.environ.get("KILN_RUNTIME_HASH")
        if name is None:
            try:
                with open(self.path("/etc/kiln/runtime"), "r", encoding="utf-8") as f:
                    for line in f:
                        if line.startswith("name="):
                            name = line[5:].strip()[:200]
            except OSError:
                pass
        if runtime_hash is None and self.pid1:
            try:
                with open("/proc/cmdline", "r") as f:
                    for word in f.read().split():
                        if word.startswith("kiln.runtime="):
                            runtime_hash = word[13:][:128]
            except OSError:
                pass
        return {"name": name, "hash": runtime_hash}

    def hello(self):
        import importlib.util
        caps = ["executable", "code:plain", "code:zip", "data:zip", "events", "cancel", "flow-control",
                "ssh-keys"]
        if importlib.util.find_spec("asyncio") is not None:
            caps.insert(0, "asgi")
        if self.system:
            caps += ["code:squashfs", "mount", "network", "hostname"]
        if self.pid1:
            caps.append("poweroff")

        def env_time(name):
            try:
                return float(os.environ.get(name, ""))
            except ValueError:
                return None

        return {
            "versions": list(PROTOCOL_VERSIONS), "agent": AGENT, "runtime": self.runtime_info(),
            "python": "%d.%d.%d" % sys.version_info[:3], "capabilities": caps, "system": self.system,
            "pid1": self.pid1, "max_streams": MAX_STREAMS, "max_frame": MAX_FRAME,
            "initial_window": INITIAL_WINDOW, "configured": self.state == "configured",
            "boot": {"init0_start": env_time("KILN_INIT0_START"), "init0_exec": env_time("KILN_INIT0_EXEC"),
                     "init1_start": INIT1_START, "init1_ready": _uptime()},
        }

    # --- frames out
    def log(self, level, message, request_id=None, tb=None, kind=None):
        entry = {"level": level, "message": message[:4096]}
        if request_id:
            entry["request_id"] = request_id
        if tb:
            entry["traceback"] = tb[-60000:]
        if kind:
            entry["kind"] = kind
        if self.outbox is not None:
            self.outbox.send(LOG, 0, 0, json_dumps(entry))

    def send_error(self, sid, code, message, request_id=None):
        body = {"code": code, "message": message[:2000]}
        if request_id:
            body["request_id"] = request_id
        self.outbox.send(ERROR, 0, sid, json_dumps(body))
        with self.lock:
            stream = self.streams.get(sid)
        if stream is not None:
            self.forget(stream)
            stream.cancel()

    def send_safe_error(self, stream, status):
        body = safe_error_body(status, stream.request_id)
        self.outbox.send(RESPONSE, 0, stream.id, json_dumps(safe_error_head(status, body, stream.request_id)))
        self.outbox.send(DATA, FLAG_END, stream.id, body)
        self.finish_stream(stream)

    def abort_stream(self, stream, reason):
        self.outbox.send(CANCEL, 0, stream.id, json_dumps({"reason": reason}))
        self.forget(stream)
        stream.cancel()

    def finish_stream(self, stream, quiet=False):
        self.forget(stream)

    def forget(self, stream):
        with self.lock:
            if self.streams.get(stream.id) is stream:
                del self.streams[stream.id]
            stream.finished = True
        self.lock_notify()

    def lock_notify(self):
        cond = getattr(self, "idle_cond", None)
        if cond is not None:
            with cond:
                cond.notify_all()

    # --- main loop
    def run(self):
        say("t=%s start (system=%s, pid1=%s)" % (INIT1_START, self.system, self.pid1))
        if self.pid1:
            threading.Thread(target=reap_orphans_forever, name="reaper", daemon=True).start()
        if self.system:
            try:
                loopback_up()
            except OSError as e:
                say("cannot bring lo up: %s" % e)
        self.idle_cond = threading.Condition()
        self.channel = open_channel(self.options.channel)
        self.outbox = Outbox(self.channel, self.channel_dead)
        self.outbox.send(HELLO, 0, 0, json_dumps(self.hello()))
        say("t=%s ready on %s" % (_uptime(), self.channel.name))
        source = FrameSource(self.channel)
        while not self.stopping.is_set():
            try:
                length, ftype, flags, sid = HEADER.unpack(source.take(HEADER.size))
                if length > MAX_FRAME:
                    source.skip(length)
                    self.outbox.send(ERROR, 0, sid, json_dumps(
                        {"code": "frame_too_large", "message": "frame of %d bytes exceeds %d" % (length, MAX_FRAME)}))
                    with self.lock:
                        stream = self.streams.get(sid)
                    if stream is not None:
                        self.forget(stream)
                        stream.cancel()
                    continue
                payload = source.take(length)
            except EOFError:
                self.channel_dead("end of stream")
                return
            except OSError as e:
                self.channel_dead("read failed: %s" % e)
                return
            try:
                self.dispatch(ftype, flags, sid, payload)
            except ProtocolError as e:
                self.send_error(sid, e.code, e.message)
            except JsonError as e:
                self.send_error(sid, "bad_frame", "payload is not a valid JSON object: %s" % e)
            except Exception as e:
                say("internal error on frame type %d:\n%s" % (ftype, traceback.format_exc()))
                self.send_error(sid, "internal", "internal agent error: %s" % type(e).__name__)

    def channel_dead(self, why):
        if self.stopping.is_set():
            return
        say("channel closed (%s): shutting down" % why)
        # Nobody can receive answers any more: no grace for open streams.
        threading.Thread(target=self.halt, args=(0.0, False), name="halt", daemon=True).start()

    def dispatch(self, ftype, flags, sid, payload):
        end = bool(flags & FLAG_END)
        if ftype == DATA:
            stream = self.streams.get(sid)
            if stream is not None:
                try:
                    stream.deliver(payload, end)
                except ProtocolError:
                    self.abort_stream(stream, "flow_control")
                    raise
            return
        if ftype == WINDOW:
            stream = self.streams.get(sid)
            if stream is not None:
                if len(payload) != 4:
                    raise ProtocolError("bad_frame", "WINDOW payload must be 4 bytes")
                increment = struct.unpack(">I", payload)[0]
                stream.add_credit(increment)
            return
        if ftype == CANCEL:
            with self.lock:
                stream = self.streams.pop(sid, None)
            if stream is not None:
                stream.finished = True
                stream.cancel()
                self.lock_notify()
            return
        if ftype == PING:
            if len(payload) > 64:
                raise ProtocolError("bad_frame", "PING payload over 64 bytes")
            self.outbox.send(PONG, 0, sid, payload)
            return
        if ftype == PONG:
            return
        if ftype == HELLO:
            self.rehello()
            return
        if ftype == HALT:
            if sid != 0:
                raise ProtocolError("bad_frame", "HALT belongs on stream 0")
            grace = json_object(payload).get("grace_seconds", 10) if payload else 10
            if not isinstance(grace, (int, float)) or isinstance(grace, bool) or not 0 <= grace <= 120:
                raise ProtocolError("bad_frame", "grace_seconds must be 0-120")
            with self.lock:
                if self.halting:
                    return
                self.halting = True
            threading.Thread(target=self.halt, args=(float(grace), True), name="halt", daemon=True).start()
            return
        if ftype in (CONFIGURE, REQUEST, EVENT):
            self.open_stream(ftype, sid, end, payload)
            return
        raise ProtocolError("unknown_frame_type", "unknown frame type 0x%02x" % ftype)

    def open_stream(self, ftype, sid, end, payload):
        if sid == 0:
            raise ProtocolError("bad_frame", "stream 0 cannot carry requests")
        with self.lock:
            if sid in self.streams:
                raise ProtocolError("stream_in_use", "stream %d is already open" % sid)
            if self.halting:
                raise ProtocolError("halting", "the agent is halting")
            if len(self.streams) >= MAX_STREAMS:
                raise ProtocolError("too_many_streams", "more than %d open streams" % MAX_STREAMS)
            if ftype == CONFIGURE:
                if self.state != "new":
                    raise ProtocolError("already_configured", "the program is already configured")
            elif self.state != "configured":
                raise ProtocolError("not_configured", "no program is configured yet")
            kind = {CONFIGURE: "configure", REQUEST: "request", EVENT: "event"}[ftype]
            stream = Stream(self, sid, kind)
            if ftype == CONFIGURE:
                self.state = "configuring"
            self.streams[sid] = stream
        try:
            if ftype == CONFIGURE:
                try:
                    raw = json_object(payload)
                except JsonError as e:
                    raw = e
                if end:
                    stream.deliver(b"", True)
                threading.Thread(target=self.configure, args=(stream, raw), name="configure", daemon=True).start()
                return
            if ftype == REQUEST:
                head = parse_request_head(payload)
                event = None
            else:
                event = json_object(payload)
                if event.get("type") != "message" or not isinstance(event.get("message"), dict):
                    raise ProtocolError("bad_request", "an event must be {type: message, message: {...}}")
                head = None
                end = True
            stream.request_id = (head and head["request_id"]) or "%d-%s" % (sid, os.urandom(4).hex())
            if end:
                stream.deliver(b"", True)
            self.program.serve(stream, head, event)
        except (ProtocolError, JsonError):
            self.forget(stream)
            raise

    def rehello(self):
        with self.lock:
            streams = list(self.streams.values())
            self.streams.clear()
        for stream in streams:
            stream.cancel()
        if streams:
            say("a host said hello: %d open streams dropped" % len(streams))
        self.outbox.send(HELLO, 0, 0, json_dumps(self.hello()))

    # --- configure
    def configure(self, stream, raw):
        started = time.monotonic()
        skipped = []
        staging = None
        try:
            if isinstance(raw, Exception):
                raise ConfigError("bad_config", "configuration is not a JSON object: %s" % raw)
            conf = Config(raw)
            staging = self.path("/tmp/kiln-attachments-%d" % os.getpid())
            os.makedirs(staging, mode=0o700, exist_ok=True)
            code_file = os.path.join(staging, "code")
            data_file = os.path.join(staging, "data")
            self.receive_attachments(stream, [(code_file, conf.code_size), (data_file, conf.data_size)])
            self.setup_volumes(conf, skipped)
            self.setup_network(conf, skipped)
            self.write_ssh_keys(conf)
            code_dir = self.setup_code(conf, code_file)
            if conf.data_size:
                try:
                    unzip(data_file, self.path(conf.data_mount))
                except ZipError as e:
                    raise ConfigError("bad_zip", "data archive: %s" % e)
            env = dict((k, v) for k, v in os.environ.items() if not k.startswith("KILN_"))
            env.update(conf.variables)
            if conf.interface == "asgi":
                if "asgi" not in self.hello()["capabilities"]:
                    raise ConfigError("asgi_unavailable", "this runtime's Python has no asyncio (python3-minimal?): "
                                                          "use the executable interface or a full Python runtime")
                os.environ.update(conf.variables)
                app = load_asgi_app(code_dir, conf.entrypoint if ":" in conf.entrypoint else "main:" + conf.entrypoint)
                program = AsgiProgram(self, app)
                program.start_lifespan(conf.startup_timeout)
                result_extra = {"lifespan": program.lifespan}
            else:
                program = ExecutableProgram(self, self.executable_path(conf, code_dir), code_dir, env, conf.port)
                program.start(conf.startup_timeout)
                result_extra = {"port": conf.port}
            with self.lock:
                self.program = program
                self.state = "configured"
            result = {"ok": True, "interface": conf.interface, "skipped": skipped,
                      "timings": {"configure": round(time.monotonic() - started, 4)}}
            result.update(result_extra)
            say("t=%s configured (%s)" % (_uptime(), conf.interface))
        except ConfigError as e:
            result = {"ok": False, "code": e.code, "message": e.message}
            if e.tb:
                result["traceback"] = e.tb[-60000:]
            say("configuration failed: %s: %s" % (e.code, e.message))
            with self.lock:
                self.state = "failed"
        except Exception as e:
            result = {"ok": False, "code": "internal", "message": "%s: %s" % (type(e).__name__, e),
                      "traceback": traceback.format_exc()[-60000:]}
            say("configuration failed:\n%s" % result["traceback"])
            with self.lock:
                self.state = "failed"
        finally:
            if staging:
                for name in ("code", "data"):
                    try:
                        os.unlink(os.path.join(staging, name))
                    except OSError:
                        pass
                try:
                    os.rmdir(staging)
                except OSError:
                    pass
        if not stream.cancelled:
            self.outbox.send(CONFIGURED, FLAG_END, stream.id, json_dumps(result))
        self.forget(stream)

    def receive_attachments(self, stream, targets):
        """Streams the inline attachments to files, checking their declared sizes exactly."""
        ended = False
        pending = b""
        for path, size in targets:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
            try:
                left = size
                while left > 0:
                    if not pending:
                        if ended:
                            raise ConfigError("attachment", "attachments ended %d bytes early" % left)
                        pending, ended = self._next_attachment_chunk(stream)
                        stream.consumed(len(pending))
                        continue
                    chunk, pending = pending[:left], pending[left:]
                    _write_all(fd, chunk)
                    left -= len(chunk)
            finally:
                os.close(fd)
        while True:
            if pending:
                raise ConfigError("attachment", "more attachment bytes than code.size + data.size")
            if ended:
                return
            pending, ended = self._next_attachment_chunk(stream)

    def _next_attachment_chunk(self, stream):
        try:
            item = stream.take_inbound(timeout=120)
        except ProtocolError:
            raise ConfigError("attachment", "no attachment bytes for 120 s")
        if item is None:
            raise ConfigError("attachment", "the configure stream was cancelled")
        return item

    def setup_volumes(self, conf, skipped):
        if not conf.volumes:
            return
        if not self.system:
            skipped.append({"step": "volumes", "reason": "not in system mode (not PID 1): nothing mounted"})
            return
        for device, mount, read_only, fs in conf.volumes:
            target = self.path(mount)
            os.makedirs(target, exist_ok=True)
            args = (["-t", fs] if fs else []) + ["-o", "ro" if read_only else "rw", device, target]
            run_mount(args)

    def setup_network(self, conf, skipped):
        if conf.hostname:
            if self.system:
                try:
                    with open("/proc/sys/kernel/hostname", "w") as f:
                        f.write(conf.hostname)
                except OSError as e:
                    raise ConfigError("network_failed", "cannot set the hostname: %s" % e)
            else:
                skipped.append({"step": "hostname", "reason": "not in system mode (not PID 1): hostname unchanged"})
        if not conf.network:
            return
        if not self.system:
            skipped.append({"step": "network", "reason": "not in system mode (not PID 1): network not configured"})
            return
        iface, address, prefix, gateway, dns = conf.network
        try:
            configure_network(iface, address, prefix, gateway)
        except OSError as e:
            raise ConfigError("network_failed", "configuring %s failed: %s" % (iface, e))
        if dns:
            resolv = self.path("/etc/resolv.conf")
            os.makedirs(os.path.dirname(resolv), exist_ok=True)
            try:
                os.unlink(resolv)
            except OSError:
                pass
            with open(resolv, "w") as f:
                f.write("".join("nameserver %s\n" % server for server in dns))

    def write_ssh_keys(self, conf):
        if not conf.ssh_keys:
            return
        ssh_dir = self.path("/root/.ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        os.chmod(ssh_dir, 0o700)
        target = os.path.join(ssh_dir, "authorized_keys")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            _write_all(fd, "".join(key.strip() + "\n" for key in conf.ssh_keys).encode("utf-8"))
        finally:
            os.close(fd)

    def setup_code(self, conf, code_file):
        if conf.code_path:
            if not os.path.isdir(conf.code_path):
                raise ConfigError("bad_config", "code.path %s is not a directory" % conf.code_path)
            return conf.code_path
        code_dir = self.path("/opt/code")
        os.makedirs(code_dir, exist_ok=True)
        if conf.encoding == "squashfs":
            if not self.system:
                raise ConfigError("mount_failed", "squashfs code needs system mode (PID 1) to mount %s" % conf.code_device)
            run_mount(["-t", "squashfs", "-o", "ro", conf.code_device, code_dir])
        elif conf.encoding == "zip":
            try:
                unzip(code_file, code_dir)
            except ZipError as e:
                raise ConfigError("bad_zip", "code archive: %s" % e)
        else:
            if conf.interface == "asgi":
                module = conf.entrypoint.split(":", 1)[0] if ":" in conf.entrypoint else "main"
                if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", module):
                    raise ConfigError("bad_config", "plain code needs an entrypoint like module:app (no package)")
                target = os.path.join(code_dir, module + ".py")
            else:
                target = os.path.join(code_dir, "program")
            with open(code_file, "rb") as src, open(target, "wb") as dst:
                while True:
                    block = src.read(CHUNK)
                    if not block:
                        break
                    dst.write(block)
            os.chmod(target, 0o755 if conf.interface == "executable" else 0o644)
        return code_dir

    def executable_path(self, conf, code_dir):
        if conf.encoding == "plain" and not conf.code_path:
            return os.path.join(code_dir, "program")
        entry = conf.entrypoint
        parts = [p for p in entry.split("/") if p not in ("", ".")]
        if entry.startswith("/") or not parts or ".." in parts or "\x00" in entry:
            raise ConfigError("bad_config", "executable entrypoint %r must be a relative path inside the code" % entry)
        return os.path.join(code_dir, *parts)

    # --- halt
    def halt(self, grace, reply):
        with self.lock:
            self.halting = True
            if self.stopping.is_set():
                return
            self.stopping.set()
        deadline = time.monotonic() + grace
        with self.idle_cond:
            while True:
                with self.lock:
                    busy = [s for s in self.streams.values() if s.kind != "configure"]
                if not busy or time.monotonic() >= deadline:
                    break
                self.idle_cond.wait(min(0.05, max(0.0, deadline - time.monotonic())))
        with self.lock:
            leftover = list(self.streams.values())
            self.streams.clear()
        for stream in leftover:
            if reply:
                self.outbox.send(CANCEL, 0, stream.id, json_dumps({"reason": "halting"}))
            stream.cancel()
        shutdown, message = "none", None
        if self.program is not None:
            try:
                shutdown, message = self.program.shutdown(max(1.0, deadline - time.monotonic()))
            except Exception as e:
                shutdown, message = "failed", "%s: %s" % (type(e).__name__, e)
                say("shutdown failed:\n%s" % traceback.format_exc())
        result = {"ok": shutdown in ("complete", "none"), "shutdown": shutdown, "cancelled_streams": len(leftover)}
        if message:
            result["message"] = message
        say("t=%s halted (shutdown: %s)" % (_uptime(), shutdown))
        if reply:
            self.outbox.send(HALTED, FLAG_END, 0, json_dumps(result))
            self.outbox.flush(5)
        if self.pid1:
            power_off()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(0)


def parse_options(argv):
    parser = argparse.ArgumentParser(prog="init1", description="Kiln guest agent (see docs/guest-protocol.md)")
    parser.add_argument("--channel", default=os.environ.get("KILN_CHANNEL", DEFAULT_CHANNEL),
                        help="unix:PATH, vsock:PORT or a device path (default %s)" % DEFAULT_CHANNEL)
    parser.add_argument("--root", default=os.environ.get("KILN_ROOT", "/"),
                        help="directory under which code, data, keys and volumes go (default /)")
    parser.add_argument("--system", choices=("auto", "on", "off"), default=os.environ.get("KILN_SYSTEM", "auto"),
                        help="mounts, network, hostname: auto = only when PID 1")
    return parser.parse_args(argv)


def main(argv):
    options = parse_options(argv)
    agent = Agent(options)
    try:
        agent.run()
        # The reader returned (end of stream): the halt thread finishes the process.
        agent.stopping.wait()
        while True:
            time.sleep(60)
    except BaseException:
        say("fatal error:\n%s" % traceback.format_exc())
        if os.getpid() == 1:
            power_off()
        os._exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
