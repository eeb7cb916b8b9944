"""``python3 -m kiln_init1 [--channel C] [--root R] [--system auto|on|off]``: the agent's entry."""

import argparse
import os
import sys
import time
import traceback

from .agent import Agent
from .channel import DEFAULT_CHANNEL
from .console import say
from .system import power_off


def parse_options(argv):
    parser = argparse.ArgumentParser(prog="init1", description="Kiln guest agent (see docs/guest-protocol.md)")
    parser.add_argument("--channel", default=os.environ.get("KILN_CHANNEL", DEFAULT_CHANNEL),
                        help="unix:PATH, vsock:PORT or a device path (default %s)" % DEFAULT_CHANNEL)
    parser.add_argument("--root", default=os.environ.get("KILN_ROOT", "/"),
                        help="directory under which code, data, keys and volumes go (default /)")
    parser.add_argument("--system", choices=("auto", "on", "off"), default=os.environ.get("KILN_SYSTEM", "auto"),
                        help="mounts, network, hostname: auto = only when PID 1")
    return parser.parse_args(argv)


def main(argv):
    options = parse_options(argv)
    agent = Agent(options)
    try:
        agent.run()
        # The reader returned (end of stream): the halt thread finishes the process.
        agent.stopping.wait()
        while True:
            time.sleep(60)
    except BaseException:
        say("fatal error:\n%s" % traceback.format_exc())
        if os.getpid() == 1:
            power_off()
        os._exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
