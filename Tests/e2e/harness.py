"""Private processes for end-to-end tests: redis-server, igmedia-fcgi and nginx.

Every process listens on a free loopback port or a unix socket in the test's own directory,
runs in its own process group (so nginx's workers go with their master), and is stopped by
process id. Nothing here touches a fixed port or a shared path.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path
from typing import Callable, Mapping

REPO = Path(__file__).resolve().parents[2]
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# sockaddr_un.sun_path is 108 bytes including the terminating NUL.
MAX_UNIX_SOCKET_PATH = 107


def free_port() -> int:
    """A loopback port nobody listens on right now (callers retry if they lose the race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, service: "Service | None" = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if service is not None and service.process is not None and service.process.poll() is not None:
            raise ServiceError(f"{service.name} exited with {service.process.returncode} before {what}", service)
        time.sleep(0.02)
    raise ServiceError(f"timed out after {timeout}s waiting for {what}", service)


class ServiceError(RuntimeError):
    def __init__(self, message: str, service: "Service | None" = None):
        if service is not None:
            message += f"\n--- {service.name} log ({service.log_path}) ---\n{service.log()[-4000:]}"
        super().__init__(message)


class Service:
    """A child process we started, with its output in a log file."""

    stop_signal = signal.SIGTERM

    def __init__(self, name: str, log_path: Path):
        self.name = name
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def _spawn(self, argv: list[str], env: Mapping[str, str] | None = None, preexec_fn=None) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True, preexec_fn=preexec_fn)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def send(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 15) -> int | None:
        """Stops gracefully; after `timeout`, kills the process group this service leads."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                # Not reaped yet, so the group id is still ours: this reaches the child and
                # its workers, nothing else.
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        return self.process.returncode


class RedisServer(Service):
    def __init__(self, workdir: Path):
        super().__init__("redis-server", workdir / "redis.log")
        self.dir = workdir / "redis"
        self.port = 0

    def start(self) -> "RedisServer":
        self.dir.mkdir(exist_ok=True)
        for _ in range(5):
            self.port = free_port()
            self._spawn_on_port()
            try:
                wait_until(self._answers_ping, timeout=10, what="redis PING", service=self)
                return self
            except ServiceError:
                self.stop()
                if "Address already in use" not in self.log():
                    raise
        raise ServiceError("no free port for redis-server after 5 tries", self)

    def _spawn_on_port(self) -> None:
        self._spawn([
            "redis-server", "--bind", "127.0.0.1", "--port", str(self.port),
            "--save", "", "--appendonly", "no", "--dir", str(self.dir),
            "--enable-debug-command", "local",
        ])

    def kill(self) -> None:
        """SIGKILL, no shutdown: the port closes at once and clients see refused connections."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def restart(self) -> "RedisServer":
        """A new redis-server on the same port and --dir (after `kill` or `stop`). It starts empty
        unless a `SAVE` wrote dump.rdb there before, which it then loads."""
        self.kill()
        self._spawn_on_port()
        wait_until(self._answers_ping, timeout=10, what="redis PING after restart", service=self)
        return self

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def cli(self, *args: str, timeout: float = 10) -> str:
        result = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            capture_output=True, text=True, timeout=timeout, check=True)
        return result.stdout.strip()

    def cli_background(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


UNREACHABLE_URL = "http://127.0.0.1:9"
OUTBOUND_URL_VARIABLES = (
    "INSTAGRAM_API_URL", "INSTAGRAM_GRAPH_URL", "FACEBOOK_GRAPH_URL", "QSTASH_URL", "CLOUDINARY_API_URL",
)


def responder_env(redis_url: str, overrides: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """A complete, valid configuration; a None override removes the variable."""
    env = {
        "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        "SYNC_INTERNAL_SECRET": secrets.token_hex(16),
        "REDIS_URL": redis_url,
        # Nothing may leave the machine: every outbound base URL defaults to a closed loopback port
        # (connection refused at once); tests that need a service point it at a fake.
        **{name: UNREACHABLE_URL for name in OUTBOUND_URL_VARIABLES},
        # Tests write feeds straight into Redis and read them back at once; the in-process feed
        # cache (default 1 s) has its own tests that turn it on.
        "FEED_CACHE_TTL_MS": "0",
        # Registration is closed by default; most tests register without a secret, so they choose
        # open registration explicitly. Tests that set REGISTRATION_SECRET get closed registration.
        "REGISTRATION_OPEN": "1",
    }
    for name, value in (overrides or {}).items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def unix_socket_accepts(path: Path) -> bool:
    """Whether something accepts connections on the unix socket at `path`."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        try:
            conn.connect(str(path))
            return True
        except OSError:
            return False


class Responder(Service):
    def __init__(self, binary: Path, workdir: Path, env: Mapping[str, str], *,
                 workers: int | None = None, grace_seconds: int = 10, preexec_fn=None, extra_args=()):
        super().__init__("igmedia-fcgi", workdir / "responder.log")
        self.binary = binary
        self.socket = workdir / "fcgi.sock"
        if len(str(self.socket)) > MAX_UNIX_SOCKET_PATH:
            raise ServiceError(f"socket path too long for AF_UNIX: {self.socket}")
        self.env = dict(env)
        self.workers = workers  # None: the responder's own default
        self.extra_args = list(extra_args)
        self.grace_seconds = grace_seconds
        self.preexec_fn = preexec_fn

    def start(self) -> "Responder":
        self._spawn([
            str(self.binary), "serve", "--socket", str(self.socket), "--socket-mode", "0660",
            *(["--workers", str(self.workers)] if self.workers is not None else []),
            "--grace-seconds", str(self.grace_seconds), *self.extra_args,
        ], env=self.env, preexec_fn=self.preexec_fn)
        try:
            wait_until(self._accepts, timeout=15, what="the FastCGI socket", service=self)
        except ServiceError:
            self.stop()
            raise
        return self

    def _accepts(self) -> bool:
        return unix_socket_accepts(self.socket)


class Nginx(Service):
    """A private nginx: `daemon off`, everything under `run_dir`."""

    stop_signal = signal.SIGQUIT

    def __init__(self, run_dir: Path, render: Callable[[Path, int], None], name: str = "nginx"):
        """`render(conf_path, port)` writes the configuration for a given port."""
        super().__init__(name, run_dir / f"{name}-error.log")
        self.run_dir = run_dir
        self.conf = run_dir / f"{name}.conf"
        self.render = render
        self.port = 0

    def start(self) -> "Nginx":
        for _ in range(5):
            self.port = free_port()
            self.render(self.conf, self.port)
            self._spawn(["nginx", "-p", str(self.run_dir), "-e", str(self.log_path), "-c", str(self.conf)])
            try:
                wait_until(self._listens, timeout=10, what=f"nginx on port {self.port}", service=self)
                return self
            except ServiceError:
                self.stop()
                if "Address already in use" not in self.log():
                    raise
        raise ServiceError("no free port for nginx after 5 tries", self)

    def _listens(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    @staticmethod
    def local(run_dir: Path, fcgi_socket: Path, keep_conn: bool = False, microcache: bool = False,
              render_timeout: float | None = None) -> "Nginx":
        """nginx/local.conf.template rendered by scripts/render-nginx-conf (scripts/bench bounds
        the render with `render_timeout`; the tests leave it unbounded)."""
        def render(conf: Path, port: int) -> None:
            subprocess.run([
                str(REPO / "scripts" / "render-nginx-conf"), "--http-port", str(port),
                "--fcgi-socket", str(fcgi_socket), "--run-dir", str(run_dir), "--output", str(conf),
                *(["--keep-conn"] if keep_conn else []), *(["--microcache"] if microcache else []),
            ], check=True, capture_output=True, timeout=render_timeout)
        return Nginx(run_dir, render)

    def access_log(self) -> str:
        path = self.run_dir / "nginx-access.log"
        return path.read_text(errors="replace") if path.exists() else ""


class Response:
    def __init__(self, status: int, reason: str, headers: http.client.HTTPMessage, body: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.body[:200]!r}>"


def encode_body(body: bytes | str | dict | list | None, headers: dict[str, str]) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, (dict, list)):
        headers.setdefault("Content-Type", "application/json")
        return json.dumps(body).encode()
    if isinstance(body, str):
        body = body.encode()
    headers.setdefault("Content-Type", "application/json")
    return body


class Session:
    """One HTTP/1.1 connection reused for every request (keep-alive)."""

    def __init__(self, port: int, *, tls: ssl.SSLContext | None = None, timeout: float = 30):
        if tls is not None:
            self.connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=tls)
        else:
            self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def request(self, method: str, path: str, body=None, headers: Mapping[str, str] | None = None) -> Response:
        headers = dict(headers or {})
        payload = encode_body(body, headers)
        self.connection.request(method, path, body=payload, headers=headers)
        reply = self.connection.getresponse()
        data = reply.read()
        return Response(reply.status, reply.reason, reply.headers, data)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, body=b"", headers: Mapping[str, str] | None = None) -> Response:
        return self.request("POST", path, body=body, headers=headers)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Stack:
    """redis-server + igmedia-fcgi + nginx (local template), all private to one test."""

    def __init__(self, redis: RedisServer, responder: Responder, nginx: Nginx, upstash=None):
        self.redis = redis
        self.responder = responder
        self.nginx = nginx
        # With the Upstash backend: the in-process FakeUpstash between the responder and redis.
        self.upstash = upstash

    @property
    def backend(self) -> str:
        return "redis" if self.upstash is None else "upstash"

    @property
    def port(self) -> int:
        return self.nginx.port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def session(self) -> Session:
        return Session(self.port)

    def request(self, method: str, path: str, body=None, headers: Mapping[str, str] | None = None) -> Response:
        with self.session() as session:
            return session.request(method, path, body=body, headers=headers)

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post(self, path: str, body=b"", headers: Mapping[str, str] | None = None) -> Response:
        return self.request("POST", path, body=body, headers=headers)

    def responder_log(self) -> str:
        return self.responder.log()

    def redis_cli(self, *args: str) -> str:
        return self.redis.cli(*args)

    def access_log(self) -> str:
        return self.nginx.access_log()

    def error_log(self) -> str:
        return self.nginx.log()

    def stop(self) -> None:
        for service in (self.nginx, self.responder):
            service.stop()
        if self.upstash is not None:
            self.upstash.stop()
        self.redis.stop()


def expect_error(response: Response, status: int, code: str) -> dict:
    """Asserts the failure envelope and returns it."""
    assert response.status == status, response
    assert response.header("Content-Type") == JSON_CONTENT_TYPE, response.headers
    envelope = response.json()
    assert envelope["success"] is False, envelope
    assert envelope["code"] == code, envelope
    assert isinstance(envelope["errorMessage"], str) and envelope["errorMessage"], envelope
    return envelope


def expect_success(response: Response, status: int = 200):
    """Asserts the success envelope and returns its data."""
    assert response.status == status, response
    assert response.header("Content-Type") == JSON_CONTENT_TYPE, response.headers
    envelope = response.json()
    assert envelope["success"] is True, envelope
    return envelope["data"]
