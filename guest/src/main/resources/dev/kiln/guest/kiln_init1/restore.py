"""A restored copy refreshes what every copy of a snapshot shares (docs/guest-protocol.md §9, RESTORED):
the kernel's entropy pool, the wall clock, Python's `random`, the hostname, a networked copy's own
address, routes, resolvers and MAC, and tells an executable.
Run on the reader thread before the next frame is read, so no request can see the stale state."""

import binascii
import fcntl
import os
import re
import signal
import struct
import time

from . import system
from .config import ConfigError, parse_network
from .console import say
from .json_codec import json_object
from .wire import ProtocolError

# linux/random.h: _IOW('R', 0x03, int[2]) and _IO('R', 0x07).
RNDADDENTROPY = 0x40085203
RNDRESEEDCRNG = 0x5207
MARKER = "/run/kiln/restored"
MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def parse(payload):
    msg = json_object(payload)
    generation = msg.get("generation")
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 1:
        raise ProtocolError("bad_frame", "RESTORED needs a positive integer generation")
    try:
        entropy = binascii.a2b_base64((msg.get("entropy") or "").encode("ascii"))
    except (ValueError, TypeError, UnicodeError):
        raise ProtocolError("bad_frame", "RESTORED entropy must be base64")
    if not 32 <= len(entropy) <= 512:
        raise ProtocolError("bad_frame", "RESTORED entropy must be 32-512 bytes")
    host_time = msg.get("time")
    if not isinstance(host_time, (int, float)) or isinstance(host_time, bool):
        raise ProtocolError("bad_frame", "RESTORED time must be seconds since the epoch")
    hostname = msg.get("hostname")
    if hostname is not None and not isinstance(hostname, str):
        raise ProtocolError("bad_frame", "RESTORED hostname must be a string")
    network = msg.get("network")
    if network is not None:
        if not isinstance(network, dict):
            raise ProtocolError("bad_frame", "RESTORED network must be an object")
        mac = network.get("mac")
        if not isinstance(mac, str) or not MAC_RE.match(mac):
            raise ProtocolError("bad_frame", "RESTORED network.mac must be six lower-case hex pairs")
        try:
            v4, v6 = parse_network(network)
        except ConfigError as e:
            raise ProtocolError("bad_frame", "RESTORED " + e.message)
        network = (mac, v4, v6)
    return generation, entropy, float(host_time), hostname, network


def seed_kernel(entropy):
    # Credited, then a forced reseed: without RNDRESEEDCRNG the next getrandom() could still come
    # from the generator state every copy shares.
    with open("/dev/urandom", "wb", buffering=0) as f:
        fcntl.ioctl(f.fileno(), RNDADDENTROPY, struct.pack("ii", len(entropy) * 8, len(entropy)) + entropy)
        try:
            fcntl.ioctl(f.fileno(), RNDRESEEDCRNG)
        except OSError:
            pass  # older kernels reseed on their own once credited entropy arrives


def apply(agent, payload):
    """Returns the answer's JSON object. Steps that cannot run here are listed as skipped, the way
    CONFIGURE reports them; a step that fails is an error (the host then boots instead)."""
    generation, entropy, host_time, hostname, network = parse(payload)
    skipped = []
    if agent.system:
        seed_kernel(entropy)
    else:
        skipped.append({"step": "entropy", "reason": "not in system mode: kernel pool not re-seeded"})
    offset = host_time - time.time()
    if agent.system:
        time.clock_settime(time.CLOCK_REALTIME, host_time)
    else:
        skipped.append({"step": "clock", "reason": "not in system mode: clock unchanged"})
    # The in-process ASGI app uses this module's generator: seeded from the (re-seeded) kernel pool.
    # (python3-minimal has no random module: nothing to re-seed then.)
    try:
        import random
    except ImportError:
        random = None
    if random is not None:
        random.seed(os.urandom(32))
    if hostname:
        if agent.system:
            system.set_hostname(hostname)
        else:
            skipped.append({"step": "hostname", "reason": "not in system mode: hostname unchanged"})
    if network:
        if agent.system:
            readdress(agent, network)
        else:
            skipped.append({"step": "network", "reason": "not in system mode: network not reconfigured"})
    tell_executable(agent, generation, host_time, skipped)
    say("restored copy %d: clock moved by %.3f s%s" % (generation, offset,
                                                       ", now %s/%d" % network[1][1:3] if network else ""))
    return {"generation": generation, "clock_offset": round(offset, 6), "skipped": skipped}


def readdress(agent, network):
    """The copy runs on its own TAP with its own address, gateway and MAC: the saved VM's must go
    before the first request (the node's rules drop packets from any other address)."""
    mac, (iface, address, prefix, gateway, dns), v6 = network
    system.readdress(iface, mac)
    system.configure_network(iface, address, prefix, gateway)
    if v6:
        iface6, address6, prefix6, gateway6 = v6
        system.configure_network6(iface6, address6, prefix6, gateway6)
    if dns:
        system.write_resolv_conf(agent.path("/etc/resolv.conf"), dns)


def tell_executable(agent, generation, host_time, skipped):
    program = agent.program
    if getattr(program, "interface", None) != "executable":
        return
    path = agent.path(MARKER)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write('{"generation": %d, "time": %.6f}\n' % (generation, host_time))
        os.replace(tmp, path)
    except OSError as e:
        skipped.append({"step": "marker", "reason": "cannot write %s: %s" % (MARKER, e)})
    name = (program.env or {}).get("KILN_RESTORE_SIGNAL")
    if not name:
        return
    signum = getattr(signal, name if name.startswith("SIG") else "SIG" + name, None)
    proc = program.proc
    if not isinstance(signum, signal.Signals) or proc is None or proc.poll() is not None:
        skipped.append({"step": "signal", "reason": "KILN_RESTORE_SIGNAL=%s: no such signal or no process" % name[:40]})
        return
    os.killpg(proc.pid, signum)
