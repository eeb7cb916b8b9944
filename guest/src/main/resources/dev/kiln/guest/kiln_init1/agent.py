"""The agent: the handshake, the read loop and the dispatch of every frame (docs/guest-protocol.md).
Configuration is applied by setup.ProgramSetup and requests are served by the configured program;
the agent owns the open streams and the agent-wide state (new, configuring, configured, failed,
halting)."""

import os
import struct
import sys
import threading
import time
import traceback

from . import START, asgi, restore, system
from .channel import open_channel
from .console import say, uptime
from .json_codec import JsonError, json_dumps, json_object
from .request_head import parse_request_head, safe_error_body, safe_error_head
from .setup import ProgramSetup
from .wire import (API_REQUEST, API_RESPONSE, CANCEL, CONFIGURE, CONFIGURED, DATA, ERROR, EVENT, FLAG_END, HALT, HALTED, HEADER, HELLO,
                   INITIAL_WINDOW, LOG, MAX_FRAME, MAX_STREAMS, PING, PONG, PROTOCOL_VERSIONS, REQUEST, RESPONSE, RESTORED,
                   WINDOW, FrameSource, Outbox, ProtocolError, Stream)

AGENT = "kiln-init1/1"


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
        self.last_api_id = 0

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
        caps = ["executable", "code:plain", "code:zip", "data:zip", "events", "cancel", "flow-control",
                "ssh-keys", "restore", "guest-api"]
        if asgi.available():
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
                     "init1_start": START, "init1_ready": uptime()},
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
        say("t=%s start (system=%s, pid1=%s)" % (START, self.system, self.pid1))
        if self.pid1:
            threading.Thread(target=system.reap_orphans_forever, name="reaper", daemon=True).start()
        if self.system:
            try:
                system.loopback_up()
            except OSError as e:
                say("cannot bring lo up: %s" % e)
        self.idle_cond = threading.Condition()
        self.channel = open_channel(self.options.channel)
        self.outbox = Outbox(self.channel, self.channel_dead)
        self.outbox.send(HELLO, 0, 0, json_dumps(self.hello()))
        say("t=%s ready on %s" % (uptime(), self.channel.name))
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
        if ftype == RESTORED:
            if sid != 0:
                raise ProtocolError("bad_frame", "RESTORED belongs on stream 0")
            with self.lock:
                if self.state != "configured":
                    raise ProtocolError("not_configured", "only a configured program can be a restored copy")
            try:
                answer = restore.apply(self, payload)
            except OSError as e:
                raise ProtocolError("restore_failed", "refreshing the restored copy failed: %s" % e)
            self.outbox.send(RESTORED, 0, 0, json_dumps(answer))
            return
        if ftype == API_RESPONSE:
            stream = self.streams.get(sid)
            if stream is not None and stream.kind == "api" and not stream.deliver_head(payload):
                raise ProtocolError("bad_frame", "a second API_RESPONSE on stream %d" % sid)
            if stream is not None and stream.kind == "api" and end:
                stream.deliver(b"", True)
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
            stream = Stream(self.outbox, sid, kind)
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

    def open_api_stream(self, stream_class, head, end):
        """A stream of the guest API (even ids, opened by the agent), or None when none can be opened."""
        with self.lock:
            if self.halting or len(self.streams) >= MAX_STREAMS or self.last_api_id >= (1 << 31) - 2:
                return None
            self.last_api_id += 2
            stream = stream_class(self.outbox, self.last_api_id)
            self.streams[stream.id] = stream
        self.outbox.send(API_REQUEST, FLAG_END if end else 0, stream.id, head)
        return stream

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
        program, result = ProgramSetup(self).apply(stream, raw)
        with self.lock:
            self.program = program
            self.state = "configured" if program is not None else "failed"
        if not stream.cancelled:
            self.outbox.send(CONFIGURED, FLAG_END, stream.id, json_dumps(result))
        self.forget(stream)


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
        if self.system and system.WRITABLE_MOUNTS:
            result["volumes_left_mounted"] = system.unmount_writable()
        say("t=%s halted (shutdown: %s)" % (uptime(), shutdown))
        if reply:
            self.outbox.send(HALTED, FLAG_END, 0, json_dumps(result))
            self.outbox.flush(5)
        if self.pid1:
            system.power_off()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(0)
