"""File writing shared by the configuration steps."""

import os


def write_all(fd, data):
    """os.write until all of data is written (a write may be short)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
