"""Zip archives (python3-minimal has no zipfile): stored and deflated entries, checked CRCs, no
escaping names, no symlinks, no file/directory clashes, and bounded sizes. Everything that can be
known from the central directory is checked before anything is written, so a bad archive fails
fast and names its cause; while writing, no entry grows past the size its header declares."""

import collections
import errno
import os
import re
import stat
import struct
import zlib

from .files import write_all

MAX_ZIP_ENTRIES = 100000
MAX_ZIP_TOTAL = 4 << 30
CHUNK = 64 * 1024

BAD_ZIP = "bad_zip"
TOO_LARGE = "zip_too_large"

_EOCD = struct.Struct("<IHHHHIIH")
_CENTRAL = struct.Struct("<IHHHHHHIIIHHHHHII")
_LOCAL = struct.Struct("<IHHHHHIIIHH")

Entry = collections.namedtuple("Entry", "name parts target is_dir mode method crc csize usize local_at")


class ZipError(Exception):
    """An archive that cannot be unpacked: `code` is bad_zip (a broken or hostile archive) or
    zip_too_large (it would not fit); both are the program owner's to fix."""

    def __init__(self, message, code=BAD_ZIP):
        Exception.__init__(self, message)
        self.code = code


def unzip(archive, dest, in_memory=False):
    """Unpacks archive into dest; in_memory: dest keeps its files in RAM (a VM's tmpfs overlay)."""
    with open(archive, "rb") as f:
        base, entries = _read_directory(f, dest)
        _check_layout(entries)
        check_fits(space_needed(entries, _block_size(dest)), len(entries), dest, in_memory=in_memory)
        os.makedirs(dest, exist_ok=True)
        for entry in entries:
            try:
                _write_entry(f, base, entry, dest)
            except OSError as e:
                raise _write_error(entry, e)


def _read_directory(f, dest):
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
        raise ZipError("the archive has %d entries, more than the %d allowed" % (n_total, MAX_ZIP_ENTRIES), TOO_LARGE)
    eocd_at = size - tail_len + pos
    base = eocd_at - cd_size - cd_offset
    if base < 0:
        raise ZipError("corrupt central directory offset")
    f.seek(base + cd_offset)
    central = f.read(cd_size)
    if len(central) != cd_size:
        raise ZipError("truncated central directory")
    entries = []
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
        is_dir = bool(name.endswith("/") or (mode and stat.S_ISDIR(mode)))
        parts = _safe_parts(name)
        entries.append(Entry(name, parts, os.path.join(dest, *parts), is_dir, mode, method, crc, csize, usize,
                             local_at))
    return base, entries


def _safe_parts(name):
    if "\x00" in name or name.startswith("/") or not name.strip("/"):
        raise ZipError("entry %r: absolute or empty name" % name)
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if any(p == ".." for p in parts):
        raise ZipError("entry %r escapes the target directory" % name)
    if re.match(r"^[A-Za-z]:", name):
        raise ZipError("entry %r: drive letter" % name)
    if not parts:
        raise ZipError("entry %r: empty name" % name)
    return parts


def _check_layout(entries):
    """A path is a file or a directory, never both (`x` then `x/y`, or `x/` then `x`)."""
    kinds = {}
    for entry in entries:
        for i in range(1, len(entry.parts)):
            prefix = entry.parts[:i]
            if kinds.get(prefix) == "file":
                raise ZipError("entry %r is inside %r, which the archive also has as a file"
                               % (entry.name, "/".join(prefix)))
            kinds[prefix] = "dir"
        kind = "dir" if entry.is_dir else "file"
        if kinds.get(entry.parts, kind) != kind:
            raise ZipError("entry %r is both a file and a directory in the archive" % entry.name)
        kinds[entry.parts] = kind


def _existing(path):
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return path


def _block_size(dest):
    try:
        return os.statvfs(_existing(dest)).f_frsize or 4096
    except OSError:
        return 4096


def space_needed(entries, block):
    """Bytes the entries take once written: each file's declared size rounded up to whole blocks,
    a block per directory."""
    need = 0
    for entry in entries:
        need += block if entry.is_dir else -(-entry.usize // block) * block
    return need


def check_fits(need, count, dest, limit=MAX_ZIP_TOTAL, in_memory=False):
    """Refuses, before anything is written, an archive larger than the limit, than the memory
    available when its files are kept in memory, or than the space (and inodes) free where it is
    unpacked. A tmpfs reports half the RAM as free whatever the programs use: filling it past the
    available memory would leave the VM thrashing, not failing."""
    if need > limit:
        raise ZipError("the archive expands to %d bytes, more than the %d allowed" % (need, limit), TOO_LARGE)
    available = memory_available() if in_memory else None
    if available is not None and need > available:
        raise ZipError("the archive expands to %.1f MB but the VM, which keeps these files in memory, has only"
                       " %.1f MB available: give the program more memory or make the archive smaller"
                       % (need / 1e6, available / 1e6), TOO_LARGE)
    try:
        st = os.statvfs(_existing(dest))
    except OSError:
        return
    free = st.f_bavail * st.f_frsize
    if need > free:
        raise ZipError("the archive expands to %.1f MB but only %.1f MB are free for it: make it smaller"
                       " or give the program more memory" % (need / 1e6, free / 1e6), TOO_LARGE)
    if st.f_files and count > st.f_favail:
        raise ZipError("the archive has %d entries but only %d files can be created" % (count, st.f_favail),
                       TOO_LARGE)


def memory_available():
    """MemAvailable from /proc/meminfo in bytes, or None."""
    try:
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                if line.startswith(b"MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _write_entry(f, base, entry, dest):
    real_dest = os.path.realpath(dest)
    parent = entry.target if entry.is_dir else os.path.dirname(entry.target)
    os.makedirs(parent, exist_ok=True)
    real_parent = os.path.realpath(parent)
    if real_parent != real_dest and not real_parent.startswith(real_dest + os.sep):
        raise ZipError("entry %r escapes the target directory" % entry.name)
    if entry.is_dir:
        return
    f.seek(base + entry.local_at)
    local = f.read(_LOCAL.size)
    if len(local) != _LOCAL.size or _LOCAL.unpack(local)[0] != 0x04034B50:
        raise ZipError("entry %r: bad local header" % entry.name)
    lnlen, lxlen = _LOCAL.unpack(local)[9:11]
    f.seek(base + entry.local_at + _LOCAL.size + lnlen + lxlen)
    perm = (entry.mode & 0o755) | 0o600 if entry.mode else 0o644
    fd = os.open(entry.target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, perm)
    try:
        _extract(f, fd, entry)
    finally:
        os.close(fd)
    os.chmod(entry.target, perm)


def _write_error(entry, e):
    """What the file system refused, said as the archive's fault where it is."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return ZipError("no space left while writing entry %r: make the archive smaller" % entry.name, TOO_LARGE)
    if e.errno in (errno.EEXIST, errno.ENOTDIR, errno.EISDIR, errno.ELOOP):
        return ZipError("entry %r clashes with what is already at %s (%s)" % (entry.name, entry.target, e.strerror))
    return e


def _extract(f, fd, entry):
    if entry.method == 0 and entry.csize != entry.usize:
        raise ZipError("entry %r: stored sizes disagree" % entry.name)
    written = 0
    check = 0
    for out in _contents(f, entry):
        written += len(out)
        if written > entry.usize:
            raise ZipError("entry %r expands beyond the %d bytes its header declares" % (entry.name, entry.usize))
        check = zlib.crc32(out, check)
        write_all(fd, out)
    if written != entry.usize:
        raise ZipError("entry %r has %d bytes, its header declares %d" % (entry.name, written, entry.usize))
    if check & 0xFFFFFFFF != entry.crc:
        raise ZipError("entry %r fails its CRC check" % entry.name)


def _contents(f, entry):
    """The entry's bytes in pieces of at most CHUNK, so that a bomb is stopped before it costs
    more than one piece of memory or disk."""
    inflater = zlib.decompressobj(-15) if entry.method == 8 else None
    left = entry.csize
    while left:
        data = f.read(min(CHUNK, left))
        if not data:
            raise ZipError("entry %r is truncated" % entry.name)
        left -= len(data)
        if inflater is None:
            yield data
            continue
        while data:
            yield inflater.decompress(data, CHUNK)
            data = inflater.unconsumed_tail
    while inflater is not None and not inflater.eof:
        out = inflater.decompress(b"", CHUNK)
        if not out:
            break
        yield out
