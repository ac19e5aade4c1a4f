"""ports.py - free loopback TCP ports.

A port is free when we can bind it; ports handed out once are never handed
out again by this process, so two peers of one test never collide.
"""

import socket
import threading

_lock = threading.Lock()
_given = set()


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with _lock:
        for _ in range(200):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            finally:
                s.close()
            if port not in _given and port > 1024:
                _given.add(port)
                return port
    raise RuntimeError("no free loopback port found")


def free_ports(n):
    return [free_port() for _ in range(n)]


def is_listening(port, host="127.0.0.1", timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def listening_ports():
    """Ports in LISTEN state on this host (from /proc/net/tcp{,6}),
    found without connecting (a probe connection may start work in the
    server, e.g. a Dovecot login process)."""
    found = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if len(parts) > 3 and parts[3] == "0A":
                        found.add(int(parts[1].rsplit(":", 1)[1], 16))
        except OSError:
            pass
    return found


def is_bound(port):
    return port in listening_ports()
