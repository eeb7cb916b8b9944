"""The program configuration, validated before anything is done with it (docs/guest-protocol.md
section 5), and ConfigError, how every configuration step reports a failure."""

import re
import socket

from .wire import PROTOCOL_VERSIONS

MAX_ATTACHMENTS = 2 << 30
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DEVICE_RE = re.compile(r"^/dev/[A-Za-z0-9._/-]+$")
SSH_KEY_RE = re.compile(r"^(ssh-|ecdsa-|sk-)[^\x00\r\n]{1,16000}$")
HOSTNAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


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
        self.network, self.network6 = parse_network(_get(raw, "network", dict, None))
        self.hostname = _get(raw, "hostname", str, None)
        _require(self.hostname is None or HOSTNAME_RE.match(self.hostname), "hostname is not valid")
        self.ssh_keys = _get(raw, "ssh_authorized_keys", list, [])
        _require(len(self.ssh_keys) <= 100, "too many SSH keys")
        for key in self.ssh_keys:
            _require(isinstance(key, str) and SSH_KEY_RE.match(key.strip()), "an SSH key is not valid")
        self.port = _get(raw, "port", int, 8080)
        _require(0 < self.port < 65536, "port must be 1-65535")
        api = _get(raw, "guest_api", dict, None)
        self.guest_api_socket = None
        if api:
            self.guest_api_socket = _guest_abs_path(_get(api, "socket", str, required=True), "guest_api.socket")
            _require(len(self.guest_api_socket) <= 100, "guest_api.socket is too long")
        self.startup_timeout = _get(raw, "startup_timeout", (int, float), 30)
        _require(1 <= self.startup_timeout <= 300, "startup_timeout must be 1-300 seconds")


def _check_ipv6(text, what):
    try:
        socket.inet_pton(socket.AF_INET6, text)
    except (OSError, ValueError):
        raise ConfigError("bad_config", "%s is not an IPv6 address" % what)


def _check_ipv4(text, what):
    try:
        socket.inet_aton(text)
        _require(all(0 <= int(p) <= 255 for p in text.split(".")), "%s is not an IPv4 address" % what)
    except (OSError, ValueError):
        raise ConfigError("bad_config", "%s is not an IPv4 address" % what)


def parse_network(net):
    """CONFIGURE's (and RESTORED's) network object: ((iface, address, prefix, gateway, dns) or None,
    (iface, address6, prefix6, gateway6) or None)."""
    if not net:
        return None, None
    network6 = None
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
    address6 = _get(net, "address6", str, None)
    if address6:
        m6 = re.match(r"^([0-9A-Fa-f:]{2,39})/(\d{1,3})$", address6)
        _require(m6 is not None and int(m6.group(2)) <= 128, "network.address6 must be IPv6 address/prefix")
        _check_ipv6(m6.group(1), "network.address6")
        gateway6 = _get(net, "gateway6", str, None)
        if gateway6:
            _check_ipv6(gateway6, "network.gateway6")
        network6 = (iface, m6.group(1), int(m6.group(2)), gateway6)
    return (iface, m.group(1), int(m.group(2)), gateway, dns), network6
