"""System steps, done only in system mode (PID 1 in a VM): mounts, the network through ioctls,
the hostname, resolv.conf, power-off and reaping orphaned zombies."""

import errno
import fcntl
import os
import socket
import struct
import subprocess
import time

from .config import ConfigError
from .console import say


# Writable volumes mounted by this agent, in mount order: unmounted, last first, at halt.
WRITABLE_MOUNTS = []


def run_mount(args, timeout=30, program="mount"):
    """The external commands the agent runs (mount, umount), with arguments built here from validated values."""
    for candidate in ("/bin/" + program, "/usr/bin/" + program, "/sbin/" + program):
        if os.path.exists(candidate):
            break
    else:
        raise ConfigError("mount_failed", "no %s program in the runtime" % program)
    proc = subprocess.Popen([candidate] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, close_fds=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise ConfigError("mount_failed", "%s %s timed out" % (program, " ".join(args)))
    if proc.returncode != 0:
        raise ConfigError("mount_failed", "%s %s failed: %s" % (program, " ".join(args),
                                                                out.decode("utf-8", "replace").strip()))


def mount_volume(device, target, read_only, fs):
    run_mount((["-t", fs] if fs else []) + ["-o", "ro" if read_only else "rw", device, target])
    if not read_only:
        WRITABLE_MOUNTS.append(target)


def unmount_writable():
    """At halt, after the program's shutdown: sync, then unmount each writable volume so its
    filesystem is marked clean before power-off. A volume still busy (a file the program left open)
    is remounted read-only instead, which flushes it as well; only if both fail is it left mounted,
    synced, for the journal to settle at its next mount. Returns the mounts not detached."""
    try:
        os.sync()
    except OSError:
        pass
    left = []
    while WRITABLE_MOUNTS:
        target = WRITABLE_MOUNTS.pop()
        try:
            run_mount([target], timeout=20, program="umount")
            continue
        except ConfigError as e:
            first = e.message
        try:
            run_mount(["-o", "remount,ro", target], timeout=20)
            say("volume %s busy at halt (%s): remounted read-only" % (target, first))
        except ConfigError as e:
            say("volume %s could not be detached at halt: %s; %s" % (target, first, e.message))
            left.append(target)
    return left


def set_hostname(name):
    try:
        with open("/proc/sys/kernel/hostname", "w") as f:
            f.write(name)
    except OSError as e:
        raise ConfigError("network_failed", "cannot set the hostname: %s" % e)


def write_resolv_conf(path, servers):
    """Replaced, never written through: the image's file may be a link."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.unlink(path)
    except OSError:
        pass
    with open(path, "w") as f:
        f.write("".join("nameserver %s\n" % server for server in servers))


SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
SIOCSIFADDR = 0x8916
SIOCSIFNETMASK = 0x891C
SIOCADDRT = 0x890B
SIOCSIFHWADDR = 0x8924
ARPHRD_ETHER = 1
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


def interface_down(sock, name):
    flags = struct.unpack_from("=H", fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, _ifreq(name, b"")), 16)[0]
    fcntl.ioctl(sock.fileno(), SIOCSIFFLAGS, _ifreq(name, struct.pack("=H", flags & ~IFF_UP)))


def readdress(iface, mac):
    """For a restored copy, before configure_network gives it its own address: taking the link down
    drops what belonged to the saved VM's link (IPv4 routes through it, neighbour entries such as
    the old gateway's MAC, IPv6 addresses), then the NIC takes the copy's MAC (virtio-net passes it
    to the device, whose saved state brought back the old one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        interface_down(sock, iface)
        hwaddr = struct.pack("=H6s8x", ARPHRD_ETHER, bytes(int(part, 16) for part in mac.split(":")))
        fcntl.ioctl(sock.fileno(), SIOCSIFHWADDR, _ifreq(iface, hwaddr))
    finally:
        sock.close()


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


def configure_network6(iface, address, prefix, gateway):
    """IPv6 through ioctls (struct in6_ifreq, struct in6_rtmsg). Duplicate address detection is
    turned off first: the guest is alone on its /124 with the node, and a tentative address would
    make the program's first connections fail for a second."""
    try:
        with open("/proc/sys/net/ipv6/conf/%s/accept_dad" % iface, "w") as f:
            f.write("0")
    except OSError:
        pass
    index = socket.if_nametoindex(iface)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    try:
        in6_ifreq = struct.pack("@16sIi", socket.inet_pton(socket.AF_INET6, address), prefix, index)
        try:
            fcntl.ioctl(sock.fileno(), SIOCSIFADDR, in6_ifreq)
        except OSError as e:
            if e.errno != errno.EEXIST:
                raise
        if gateway:
            any6 = b"\x00" * 16
            # dst, src, gateway, type (RTN_UNICAST), dst_len, src_len, metric (0: the kernel's
            # default), info, flags, ifindex
            in6_rtmsg = struct.pack("@16s16s16sIHHILIi", any6, any6, socket.inet_pton(socket.AF_INET6, gateway),
                                    1, 0, 0, 0, 0, RTF_UP | RTF_GATEWAY, index)
            try:
                fcntl.ioctl(sock.fileno(), SIOCADDRT, in6_rtmsg)
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

