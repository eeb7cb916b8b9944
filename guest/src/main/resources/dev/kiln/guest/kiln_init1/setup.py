"""A configuration applied, in the documented order: attachments, volumes, network, hostname, SSH
keys, code, data, environment, program start (docs/guest-protocol.md section 5). The agent
dispatches CONFIGURE here and only records the outcome."""

import os
import re
import time
import traceback

from . import asgi, system
from .asgi import AsgiProgram, load_asgi_app
from .config import Config, ConfigError
from .console import say, uptime
from .executable import ExecutableProgram
from .guest_api import GuestApiServer
from .output import capture_python
from .wire import CHUNK, ProtocolError
from .files import write_all
from .zip_reader import ZipError, unzip


class ProgramSetup:
    """Sets up one program for an agent: `agent.path` maps guest paths under its root, and
    `agent.system` says whether system steps are done or reported as skipped."""

    def __init__(self, agent):
        self.agent = agent
        self.system = agent.system
        self.path = agent.path

    def apply(self, stream, raw):
        """(program, result): the started program (None on failure) and the CONFIGURED payload."""
        started = time.monotonic()
        skipped = []
        staging = None
        program = None
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
                data_dir = self.path(conf.data_mount)
                _unzip(data_file, data_dir, "data archive", self.in_memory(conf, data_dir))
            if conf.guest_api_socket:
                self.start_guest_api(conf)
            env = dict((k, v) for k, v in os.environ.items() if not k.startswith("KILN_"))
            env.update(conf.variables)
            if conf.interface == "asgi":
                if not asgi.available():
                    raise ConfigError("asgi_unavailable", "this runtime's Python has no asyncio (python3-minimal?): "
                                                          "use the executable interface or a full Python runtime")
                os.environ.update(conf.variables)
                capture_python(self.agent)
                app = load_asgi_app(code_dir, conf.entrypoint if ":" in conf.entrypoint else "main:" + conf.entrypoint)
                program = AsgiProgram(self.agent, app)
                program.start_lifespan(conf.startup_timeout)
                result_extra = {"lifespan": program.lifespan}
            else:
                program = ExecutableProgram(self.agent, self.executable_path(conf, code_dir), code_dir, env, conf.port)
                program.start(conf.startup_timeout)
                result_extra = {"port": conf.port}
            result = {"ok": True, "interface": conf.interface, "skipped": skipped,
                      "timings": {"configure": round(time.monotonic() - started, 4)}}
            result.update(result_extra)
            say("t=%s configured (%s)" % (uptime(), conf.interface))
            return program, result
        except ConfigError as e:
            result = {"ok": False, "code": e.code, "message": e.message}
            if e.tb:
                result["traceback"] = e.tb[-60000:]
            say("configuration failed: %s: %s" % (e.code, e.message))
            return None, result
        except Exception as e:
            result = {"ok": False, "code": "internal", "message": "%s: %s" % (type(e).__name__, e),
                      "traceback": traceback.format_exc()[-60000:]}
            say("configuration failed:\n%s" % result["traceback"])
            return None, result
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

    def start_guest_api(self, conf):
        """The listener first, then the variables aleph's runtimes set, unless the program sets its own."""
        socket_path = self.path(conf.guest_api_socket)
        GuestApiServer(self.agent, socket_path).start()
        for name, value in (("ALEPH_API_HOST", "http://localhost"), ("ALEPH_API_UNIX_SOCKET", socket_path),
                            ("ALEPH_REMOTE_CRYPTO_HOST", "http://localhost"),
                            ("ALEPH_REMOTE_CRYPTO_UNIX_SOCKET", socket_path)):
            conf.variables.setdefault(name, value)

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
                    write_all(fd, chunk)
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
            system.mount_volume(device, target, read_only, fs)

    def setup_network(self, conf, skipped):
        if conf.hostname:
            if self.system:
                system.set_hostname(conf.hostname)
            else:
                skipped.append({"step": "hostname", "reason": "not in system mode (not PID 1): hostname unchanged"})
        if not conf.network:
            return
        if not self.system:
            skipped.append({"step": "network", "reason": "not in system mode (not PID 1): network not configured"})
            return
        iface, address, prefix, gateway, dns = conf.network
        try:
            system.configure_network(iface, address, prefix, gateway)
        except OSError as e:
            raise ConfigError("network_failed", "configuring %s failed: %s" % (iface, e))
        if conf.network6:
            iface6, address6, prefix6, gateway6 = conf.network6
            try:
                system.configure_network6(iface6, address6, prefix6, gateway6)
            except OSError as e:
                raise ConfigError("network_failed", "configuring IPv6 on %s failed: %s" % (iface6, e))
        if dns:
            system.write_resolv_conf(self.path("/etc/resolv.conf"), dns)

    def write_ssh_keys(self, conf):
        if not conf.ssh_keys:
            return
        ssh_dir = self.path("/root/.ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        os.chmod(ssh_dir, 0o700)
        target = os.path.join(ssh_dir, "authorized_keys")
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            write_all(fd, "".join(key.strip() + "\n" for key in conf.ssh_keys).encode("utf-8"))
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
            system.run_mount(["-t", "squashfs", "-o", "ro", conf.code_device, code_dir])
        elif conf.encoding == "zip":
            _unzip(code_file, code_dir, "code archive", self.in_memory(conf, code_dir))
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

    def in_memory(self, conf, target):
        """In a VM every path but a volume is on the root's tmpfs overlay: its files take memory."""
        if not self.system:
            return False
        for _, mount, _, _ in conf.volumes:
            volume = self.path(mount).rstrip("/")
            if target == volume or target.startswith(volume + "/"):
                return False
        return True

    def executable_path(self, conf, code_dir):
        if conf.encoding == "plain" and not conf.code_path:
            return os.path.join(code_dir, "program")
        entry = conf.entrypoint
        parts = [p for p in entry.split("/") if p not in ("", ".")]
        if entry.startswith("/") or not parts or ".." in parts or "\x00" in entry:
            raise ConfigError("bad_config", "executable entrypoint %r must be a relative path inside the code" % entry)
        return os.path.join(code_dir, *parts)


def _unzip(archive, dest, what, in_memory):
    try:
        unzip(archive, dest, in_memory)
    except ZipError as e:
        raise ConfigError(e.code, "%s: %s" % (what, e))
