"""ASGI programs, served in the agent's process on an asyncio loop of their own thread (asyncio is
imported only here, when an ASGI program is configured: python3-minimal has none)."""

import importlib.util
import re
import sys
import threading
import traceback

from .config import ConfigError
from .console import say
from .json_codec import json_dumps
from .request_head import HEADER_VALUE_RE, TOKEN_RE
from .wire import CHUNK, DATA, FLAG_END, MAX_HEADERS, RESPONSE

MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
ATTR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def available():
    """Whether this Python can serve ASGI programs (python3-minimal has no asyncio)."""
    return importlib.util.find_spec("asyncio") is not None


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

