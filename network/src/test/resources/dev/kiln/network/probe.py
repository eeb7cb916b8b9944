"""Stand-in traffic for the network tests: run inside a namespace with `ip netns exec NS`.

  fetch URL TIMEOUT                   print the body of an HTTP GET (exit 1 on failure)
  connect HOST PORT TIMEOUT [SOURCE]  print what a TCP server says on connect (exit 1 if unreachable)
  serve HOST PORT TEXT                answer each TCP connection with "TEXT <peer address>"
  udp-send HOST PORT TEXT [SOURCE]    send one datagram
  udp-sink HOST PORT FILE             append each datagram's text to FILE, one per line
"""
import socket
import sys
import urllib.request


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def fetch(url, timeout):
    with urllib.request.urlopen(url, timeout=float(timeout)) as r:
        sys.stdout.write(r.read().decode())


def connect(host, port, timeout, source=None):
    s = socket.socket(family(host))
    s.settimeout(float(timeout))
    if source:
        s.bind((source, 0))
    s.connect((host, int(port)))
    sys.stdout.write(s.recv(1024).decode())
    s.close()


def serve(host, port, text):
    srv = socket.socket(family(host))
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, int(port)))
    srv.listen(16)
    while True:
        conn, peer = srv.accept()
        conn.sendall(("%s %s" % (text, peer[0])).encode())
        conn.close()


def udp_send(host, port, text, source=None):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    if source:
        s.bind((source, 0))
    s.sendto(text.encode(), (host, int(port)))


def udp_sink(host, port, path):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    while True:
        data, _ = s.recvfrom(2048)
        with open(path, "a") as f:
            f.write(data.decode() + "\n")


COMMANDS = {"fetch": fetch, "connect": connect, "serve": serve, "udp-send": udp_send, "udp-sink": udp_sink}

if __name__ == "__main__":
    try:
        COMMANDS[sys.argv[1]](*sys.argv[2:])
    except OSError as e:
        sys.stderr.write("%s\n" % e)
        sys.exit(1)
