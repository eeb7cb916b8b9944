"""The program's stdout and stderr, sent to the host as OUTPUT frames apart from the console
(docs/guest-protocol.md, OUTPUT). Whoever produces lines (a pipe reader, the in-process writer
that replaces sys.stdout) only appends to a bounded buffer and never waits for the channel: when
the buffer is full the oldest lines go and are counted, so the newest output (the line before a
crash) survives. One sender thread drains the buffer at a bounded rate."""

import collections
import sys
import threading
import time

from .json_codec import json_dumps
from .wire import OUTPUT

MAX_LINE = 8192
BUFFER_LINES = 2000
BUFFER_BYTES = 512 * 1024
# A program may print bursts; sustained, the host gets at most this many lines a second.
LINES_PER_SECOND = 2000
BATCH_LINES = 200
STREAMS = ("stdout", "stderr")

_lock = threading.Lock()


def pump(agent):
    """The agent's one output pump (created on first use)."""
    with _lock:
        p = getattr(agent, "output_pump", None)
        if p is None:
            p = OutputPump(agent)
            agent.output_pump = p
        return p


class OutputPump:
    def __init__(self, agent):
        self.agent = agent
        self.cond = threading.Condition()
        self.lines = collections.deque()
        self.bytes = 0
        self.dropped = dict((s, 0) for s in STREAMS)
        self.sending = False
        threading.Thread(target=self._run, name="output", daemon=True).start()

    def line(self, stream, text):
        text = text[:MAX_LINE]
        with self.cond:
            self.lines.append((stream, text))
            self.bytes += len(text)
            while len(self.lines) > BUFFER_LINES or self.bytes > BUFFER_BYTES:
                old_stream, old = self.lines.popleft()
                self.bytes -= len(old)
                self.dropped[old_stream] += 1
            self.cond.notify()

    def flush(self, timeout):
        """Waits until what is buffered has gone to the outbox (at halt, so the last lines arrive)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while (self.lines or self.sending or any(self.dropped.values())) and time.monotonic() < deadline:
                self.cond.wait(0.02)

    def _run(self):
        budget = float(LINES_PER_SECOND)
        last = time.monotonic()
        while True:
            with self.cond:
                while not self.lines and not any(self.dropped.values()):
                    self.cond.wait()
                now = time.monotonic()
                budget = min(float(LINES_PER_SECOND), budget + (now - last) * LINES_PER_SECOND)
                last = now
                if budget < 1:
                    wait = (1 - budget) / LINES_PER_SECOND
                else:
                    wait = 0
                    take = min(len(self.lines), BATCH_LINES, int(budget))
                    batch = [self.lines.popleft() for _ in range(take)]
                    for _, text in batch:
                        self.bytes -= len(text)
                    dropped = self.dropped
                    self.dropped = dict((s, 0) for s in STREAMS)
                    budget -= take
                    self.sending = True
            if wait:
                time.sleep(wait)
                continue
            try:
                self._send(batch, dropped)
            finally:
                with self.cond:
                    self.sending = False
                    self.cond.notify_all()

    def _send(self, batch, dropped):
        # One frame per run of lines of the same stream keeps the order between stdout and stderr.
        outbox = self.agent.outbox
        if outbox is None:
            return
        runs = []
        for stream, text in batch:
            if runs and runs[-1][0] == stream:
                runs[-1][1].append(text)
            else:
                runs.append((stream, [text]))
        for stream in STREAMS:
            if dropped[stream] and not any(r[0] == stream for r in runs):
                runs.append((stream, []))
        for stream, lines in runs:
            frame = {"stream": stream, "lines": lines}
            if dropped[stream]:
                frame["dropped"] = dropped[stream]
                dropped[stream] = 0
            outbox.send(OUTPUT, 0, 0, json_dumps(frame))


class LineSplitter:
    """Bytes or text in, whole lines out to the pump (a last partial line on close)."""

    def __init__(self, pump_, stream):
        self.pump = pump_
        self.stream = stream
        self.partial = ""
        self.lock = threading.Lock()

    def feed(self, text):
        with self.lock:
            text = self.partial + text
            parts = text.split("\n")
            self.partial = parts.pop()
            if len(self.partial) >= MAX_LINE:
                parts.append(self.partial)
                self.partial = ""
        for p in parts:
            self.pump.line(self.stream, p.rstrip("\r"))

    def close(self):
        with self.lock:
            rest, self.partial = self.partial, ""
        if rest:
            self.pump.line(self.stream, rest)


def read_pipe(pipe, pump_, stream):
    """Reads a subprocess's pipe to its end on its own thread: the program never blocks on a full pipe."""

    def run():
        splitter = LineSplitter(pump_, stream)
        try:
            while True:
                data = pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536)
                if not data:
                    break
                splitter.feed(data.decode("utf-8", "replace"))
        except (OSError, ValueError):
            pass
        finally:
            splitter.close()
            try:
                pipe.close()
            except OSError:
                pass

    thread = threading.Thread(target=run, name="output-" + stream, daemon=True)
    thread.start()
    return thread


class StreamWriter:
    """Stands in for sys.stdout / sys.stderr of an in-process (ASGI) program."""

    def __init__(self, pump_, stream, original):
        self.splitter = LineSplitter(pump_, stream)
        self.original = original
        self.name = "<%s>" % stream

    def write(self, s):
        if isinstance(s, bytes):
            s = s.decode("utf-8", "replace")
        self.splitter.feed(s)
        return len(s)

    def writelines(self, lines):
        for s in lines:
            self.write(s)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        # Code that writes to the file descriptor itself reaches the console, as before.
        return self.original.fileno()

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "replace"


def capture_python(agent):
    """Routes the program's print() and its logging (whose default handlers write to sys.stderr)
    into the pump. The agent's own console lines use sys.__stderr__ and stay on the console."""
    p = pump(agent)
    if not isinstance(sys.stdout, StreamWriter):
        sys.stdout = StreamWriter(p, "stdout", sys.__stdout__)
    if not isinstance(sys.stderr, StreamWriter):
        sys.stderr = StreamWriter(p, "stderr", sys.__stderr__)
