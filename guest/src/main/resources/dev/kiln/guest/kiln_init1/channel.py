"""The byte stream under the frames: a virtio-serial port in a VM, a Unix or vsock socket in tests."""

import errno
import os
import socket
import time

DEFAULT_CHANNEL = "/dev/virtio-ports/kiln"


class SocketChannel:
    """unix: and vsock: channels. End of file means the host is gone."""
    host_can_return = False

    def __init__(self, sock, name):
        self.sock = sock
        self.name = name

    def read(self, n):
        return self.sock.recv(n)

    def write_all(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class DeviceChannel:
    """A virtio-serial port. End of file only means no host is connected right now."""
    host_can_return = True

    def __init__(self, fd, name):
        self.fd = fd
        self.name = name

    def read(self, n):
        while True:
            data = os.read(self.fd, n)
            if data:
                return data
            time.sleep(0.05)

    def write_all(self, data):
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.fd, view)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EINTR):
                    time.sleep(0.01)
                    continue
                raise
            view = view[written:]

    def close(self):
        os.close(self.fd)


def open_channel(spec):
    if spec.startswith("unix:"):
        path = spec[5:]
        deadline = time.monotonic() + 10
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return SocketChannel(sock, spec)
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    if spec.startswith("vsock:"):
        port = int(spec[6:])
        sock = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
        sock.connect((socket.VMADDR_CID_HOST, port))
        return SocketChannel(sock, spec)
    deadline = time.monotonic() + 5
    while not os.path.exists(spec):
        if time.monotonic() > deadline:
            raise OSError(errno.ENOENT, "channel device does not exist", spec)
        time.sleep(0.02)
    return DeviceChannel(os.open(spec, os.O_RDWR | os.O_CLOEXEC), spec)
