"""Kiln init1: the guest agent, a package run as ``python3 -m kiln_init1``.

Started by init0 (as PID 1, through exec) inside a VM, or as an ordinary process in tests. It
announces itself to the host, receives the program's configuration, sets up the program and then
serves requests and events over one multiplexed channel. The protocol is specified in
docs/guest-protocol.md; this package must follow it.

Constraints that shape the package:
- Python >= 3.9 with the standard library only, and its core must run on python3-minimal, which
  has no json, asyncio, zipfile, shutil, queue, http or ctypes. Hence the small JSON codec
  (json_codec), the own zip reader (zip_reader) and the raw-socket HTTP client (upstream).
  asyncio is imported only for ASGI programs.
- No input from the channel may kill the agent, and nothing received may run a command.
- It is run as a module (never as a script) so that the bytecode the runtime builder precompiled
  into __pycache__ is used: a script is compiled on every start.

Modules: console (the console line, uptime), json_codec, channel (the byte stream), wire
(frames, the outbox, streams and their windows), config, zip_reader, system (mounts, network,
hostname, power-off, reaping), setup (a configuration applied: attachments, code, data, program
start), request_head, asgi, upstream, executable, restore (a restored copy refreshes itself), agent
(protocol dispatch), __main__.
"""

from .console import uptime

# The first timing marker, taken before the rest of the package is imported (HELLO's boot times).
START = uptime()
