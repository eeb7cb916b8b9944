"""The wire: frame layout and types, the frame reader, the outbox (the channel's only writer) and
streams with their flow-control windows (docs/guest-protocol.md sections 2 and 3)."""

import collections
import struct
import threading
import time

from .console import say

PROTOCOL_VERSIONS = (1,)
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
RESTORED = 0x04
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
OUTPUT = 0x41
API_REQUEST = 0x50
API_RESPONSE = 0x51


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

    def __init__(self, outbox, sid, kind):
        self.outbox = outbox
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
            self.outbox.send(WINDOW, 0, self.id, struct.pack(">I", grant))

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
            self.outbox.send(DATA, FLAG_END if last else 0, self.id, view[:granted])
            view = view[granted:]
        if end and not len(data):
            self.outbox.send(DATA, FLAG_END, self.id)
        return not self.cancelled

