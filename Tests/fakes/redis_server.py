"""Start a throw-away redis-server on a free loopback port (tests and the Upstash fake CLI).

    with RedisServer() as rs:          # or rs = RedisServer(); rs.start(); ...; rs.stop()
        rs.host, rs.port, rs.url

Also runnable: `python3 -m Tests.fakes.redis_server --ready-file PATH` writes redis://127.0.0.1:PORT.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from .resp import RespConnection, SimpleString


def free_port(host: str = "127.0.0.1") -> int:
    """Bind port 0 on loopback, read the port the kernel picked, release it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class RedisServer:
    def __init__(self, directory: str | None = None, executable: str = "redis-server",
                 host: str = "127.0.0.1", extra_args=None):
        self.host = host
        self.executable = shutil.which(executable) or executable
        self._own_dir = directory is None
        self.directory = directory
        self.extra_args = list(extra_args or [])
        self.port = None
        self.proc = None

    @property
    def url(self) -> str:
        return "redis://%s:%d" % (self.host, self.port)

    def start(self, attempts: int = 5, timeout: float = 10.0):
        if self.directory is None:
            self.directory = tempfile.mkdtemp(prefix="fake-redis-")
        last = None
        for _ in range(attempts):
            self.port = free_port(self.host)
            log = open(os.path.join(self.directory, "redis-%d.log" % self.port), "wb")
            self.proc = subprocess.Popen(
                [self.executable, "--port", str(self.port), "--bind", self.host, "--save", "",
                 "--appendonly", "no", "--dir", self.directory, "--daemonize", "no",
                 "--protected-mode", "yes"] + self.extra_args,
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            log.close()
            deadline = time.time() + timeout
            while time.time() < deadline:
                if self.proc.poll() is not None:
                    break  # e.g. the port was taken meanwhile: try another one
                try:
                    conn = RespConnection(self.host, self.port, timeout=1.0)
                    try:
                        if conn.execute("PING") == SimpleString(b"PONG"):
                            return self
                    finally:
                        conn.close()
                except OSError as exc:
                    last = exc
                time.sleep(0.02)
            self._kill()
        raise RuntimeError("redis-server did not start: %s" % last)

    def _kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def stop(self):
        self._kill()
        if self._own_dir and self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def client(self) -> RespConnection:
        return RespConnection(self.host, self.port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    p = argparse.ArgumentParser(description="Run a throw-away redis-server on a free loopback port")
    p.add_argument("--ready-file", required=True)
    p.add_argument("--dir", default=None)
    args = p.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    rs = RedisServer(directory=args.dir).start()
    try:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(rs.url + "\n")
        os.replace(args.ready_file + ".tmp", args.ready_file)
        while not stop.wait(0.5):
            if rs.proc.poll() is not None:
                return 1
    finally:
        rs.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
