"""Fixtures: a private redis-server + igmedia-fcgi + nginx per test.

    def test_health(stack):                         # default configuration
        expect_success(stack.get("/health"))

    @pytest.mark.stack_env(MAX_BODY_BYTES="2048")   # extra variables (None removes one)
    def test_small_bodies(stack): ...

    def test_custom(make_stack):                    # full control
        stack = make_stack({"REDIS_TIMEOUT_MS": "5000"}, grace_seconds=5)

    def test_both(stack, backend): ...              # runs twice: native REDIS_URL, then Upstash REST
    stack = make_stack(env, backend="upstash")      # responder -> in-process FakeUpstash -> redis-server
    stack = make_stack(env, microcache=True)        # nginx with the GET /photos microcache on

The binary is $IGMEDIA_BIN (make test sets it), else the debug build's.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from harness import REPO, Nginx, RedisServer, Responder, Stack, responder_env

# Storage backends a stack can use: native RESP (REDIS_URL), or Upstash REST (an in-process
# FakeUpstash executing the commands on the stack's redis-server).
BACKENDS = ("redis", "upstash")

if str(REPO) not in sys.path:  # for Tests.fakes
    sys.path.insert(0, str(REPO))

# Lines for the end-of-run summary (e.g. systemd exposure scores), added through `summary`.
SUMMARY: list[str] = []


def pytest_configure(config):
    config.addinivalue_line("markers", "stack_env(**variables): extra responder environment for the `stack` fixture")


def pytest_terminal_summary(terminalreporter):
    if SUMMARY:
        terminalreporter.section("igmedia")
        for line in SUMMARY:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def summary():
    """`summary(line)` prints the line in the igmedia section at the end of the run."""
    return SUMMARY.append


@pytest.fixture(scope="session")
def igmedia_bin() -> Path:
    configured = os.environ.get("IGMEDIA_BIN")
    if configured:
        binary = Path(configured)
    else:
        bin_dir = subprocess.run(
            ["swift", "build", "--show-bin-path"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.strip()
        binary = Path(bin_dir) / "igmedia-fcgi"
    if not os.access(binary, os.X_OK):
        pytest.fail(f"{binary} is missing: run `make build` first (or set IGMEDIA_BIN)")
    return binary


@pytest.fixture
def make_stack(igmedia_bin, tmp_path):
    """Starts stacks on demand; every one is stopped when the test ends."""
    started: list[Stack] = []

    def make(env=None, *, backend: str = "redis", workers: int | None = None, grace_seconds: int = 10,
             responder_preexec=None, keep_conn: bool = False, microcache: bool = False,
             responder_args=()) -> Stack:
        stack = start_stack(igmedia_bin, tmp_path / f"stack{len(started)}", env, backend=backend,
                            workers=workers, grace_seconds=grace_seconds, responder_preexec=responder_preexec,
                            keep_conn=keep_conn, microcache=microcache, responder_args=responder_args)
        started.append(stack)
        return stack

    yield make
    for stack in reversed(started):
        stack.stop()


def start_stack(igmedia_bin: Path, workdir: Path, env=None, *, backend: str = "redis", workers: int | None = None,
                grace_seconds: int = 10, responder_preexec=None, keep_conn: bool = False,
                microcache: bool = False, responder_args=()) -> Stack:
    """redis-server (+ FakeUpstash for backend="upstash") + igmedia-fcgi + nginx; the caller stops it."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    workdir.mkdir()
    redis = RedisServer(workdir)
    upstash = responder = nginx = None
    try:
        redis.start()
        env = dict(env or {})
        if backend == "upstash":
            from Tests.fakes.upstash import FakeUpstash
            token = secrets.token_hex(16)
            upstash = FakeUpstash(redis_host="127.0.0.1", redis_port=redis.port, token=token).start()
            env = {"REDIS_URL": None, "UPSTASH_REDIS_REST_URL": upstash.base_url,
                   "UPSTASH_REDIS_REST_TOKEN": token, **env}
        responder = Responder(
            igmedia_bin, workdir, responder_env(redis.url, env),
            workers=workers, grace_seconds=grace_seconds, preexec_fn=responder_preexec, extra_args=responder_args)
        responder.start()
        nginx = Nginx.local(workdir, responder.socket, keep_conn=keep_conn, microcache=microcache).start()
    except BaseException:
        for service in (nginx, responder, upstash, redis):
            if service is not None:
                service.stop()
        raise
    return Stack(redis, responder, nginx, upstash=upstash)


@pytest.fixture(scope="session")
def start_stack_in(igmedia_bin):
    """`start_stack_in(workdir, env, backend=...)` for stacks a fixture shares (e.g. per module and
    backend); the caller stops them."""
    return lambda workdir, env=None, **options: start_stack(igmedia_bin, workdir, env, **options)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Requested by a test (next to `stack`), runs it once per storage backend."""
    return request.param


@pytest.fixture
def stack(make_stack, request) -> Stack:
    marker = request.node.get_closest_marker("stack_env")
    backend = request.getfixturevalue("backend") if "backend" in request.fixturenames else "redis"
    return make_stack(dict(marker.kwargs) if marker else None, backend=backend)
