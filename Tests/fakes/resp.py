"""Minimal RESP2 client (standard library only) used by the Upstash fake and the tests.

Replies map to Python values:
  simple string  -> SimpleString (a bytes subclass, so "+OK" can be told apart from a bulk "OK")
  error          -> RespError (returned as a value, never raised, also when nested in arrays)
  integer        -> int
  bulk string    -> bytes;  null bulk / null array -> None
  array          -> list
"""

from __future__ import annotations

import socket
import threading


class SimpleString(bytes):
    """A RESP simple-string (status) reply such as +OK or +PONG."""


class RespError:
    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __repr__(self):
        return "RespError(%r)" % self.message

    def __eq__(self, other):
        return isinstance(other, RespError) and other.message == self.message

    def __hash__(self):
        return hash(self.message)


class RespProtocolError(Exception):
    pass


def encode_command(args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode("utf-8")
        elif isinstance(a, bool):
            b = b"1" if a else b"0"
        elif isinstance(a, (int, float)):
            b = repr(a).encode("ascii")
        else:
            raise TypeError("unsupported RESP argument type %s" % type(a).__name__)
        out.append(b"$%d\r\n" % len(b))
        out.append(b)
        out.append(b"\r\n")
    return b"".join(out)


class RespConnection:
    def __init__(self, host: str = "127.0.0.1", port: int = 6379, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def send(self, *commands):
        self.sock.sendall(b"".join(encode_command(c) for c in commands))

    def read_reply(self):
        line = self.rfile.readline()
        if not line.endswith(b"\r\n"):
            raise RespProtocolError("connection closed by redis")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return SimpleString(rest)
        if kind == b"-":
            return RespError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rfile.read(n + 2)
            if len(data) != n + 2:
                raise RespProtocolError("short bulk read")
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self.read_reply() for _ in range(n)]
        raise RespProtocolError("unexpected RESP type byte %r" % kind)

    def execute(self, *args):
        self.send(list(args))
        return self.read_reply()

    def execute_many(self, commands):
        """Pipeline: send all commands, then read one reply per command."""
        self.send(*commands)
        return [self.read_reply() for _ in commands]

    def close(self):
        try:
            self.rfile.close()
            self.sock.close()
        except OSError:
            pass


class RespPool:
    """Tiny thread-safe connection pool."""

    def __init__(self, host: str, port: int, size: int = 8, timeout: float = 10.0):
        self.host, self.port, self.size, self.timeout = host, port, size, timeout
        self._idle: list[RespConnection] = []
        self._lock = threading.Lock()

    def acquire(self) -> RespConnection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return RespConnection(self.host, self.port, self.timeout)

    def release(self, conn: RespConnection, broken: bool = False):
        if broken:
            conn.close()
            return
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append(conn)
                return
        conn.close()

    def run(self, fn):
        """Call fn(conn) with a pooled connection; a failing connection is discarded."""
        conn = self.acquire()
        try:
            result = fn(conn)
        except BaseException:
            self.release(conn, broken=True)
            raise
        self.release(conn)
        return result

    def close(self):
        with self._lock:
            idle, self._idle = self._idle, []
        for c in idle:
            c.close()
