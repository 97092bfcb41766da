"""Fixtures: a private redis-server + igmedia-fcgi + nginx per test.

    def test_health(stack):                         # default configuration
        expect_success(stack.get("/health"))

    @pytest.mark.stack_env(MAX_BODY_BYTES="2048")   # extra variables (None removes one)
    def test_small_bodies(stack): ...

    def test_custom(make_stack):                    # full control
        stack = make_stack({"REDIS_TIMEOUT_MS": "5000"}, grace_seconds=5)

The binary is $IGMEDIA_BIN (make test sets it), else the debug build's.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from harness import REPO, Nginx, RedisServer, Responder, Stack, responder_env

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

    def make(env=None, *, workers: int = 32, grace_seconds: int = 10, responder_preexec=None) -> Stack:
        workdir = tmp_path / f"stack{len(started)}"
        workdir.mkdir()
        redis = RedisServer(workdir)
        responder = None
        nginx = None
        try:
            redis.start()
            responder = Responder(
                igmedia_bin, workdir, responder_env(redis.url, env),
                workers=workers, grace_seconds=grace_seconds, preexec_fn=responder_preexec)
            responder.start()
            nginx = Nginx.local(workdir, responder.socket).start()
        except BaseException:
            for service in (nginx, responder, redis):
                if service is not None:
                    service.stop()
            raise
        stack = Stack(redis, responder, nginx)
        started.append(stack)
        return stack

    yield make
    for stack in reversed(started):
        stack.stop()


@pytest.fixture
def stack(make_stack, request) -> Stack:
    marker = request.node.get_closest_marker("stack_env")
    return make_stack(dict(marker.kwargs) if marker else None)
