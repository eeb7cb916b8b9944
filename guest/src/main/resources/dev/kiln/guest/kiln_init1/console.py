"""The console (the VM's serial port, whose log the node keeps) and the guest's clock."""

import sys


def uptime():
    """Seconds since the guest kernel started (None outside Linux): comparable with init0's marks."""
    try:
        with open("/proc/uptime", "rb") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def say(message):
    """One line on the console. sys.__stderr__, not sys.stderr: an in-process program's stderr is
    captured apart from the console (output.py)."""
    err = sys.__stderr__ or sys.stderr
    try:
        err.write("kiln-init1: %s\n" % message)
        err.flush()
    except (OSError, ValueError):
        pass
