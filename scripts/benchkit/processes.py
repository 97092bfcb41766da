"""The processes only the benchmark starts: the loopback fakes as processes, php-fpm, and the
reference nginx config (the local one is the e2e harness's Nginx.local)."""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from pathlib import Path

from harness import Service, unix_socket_accepts, wait_until

from .common import LOOPBACK, PHP_SCRIPT, REFERENCE_TEMPLATE, REPO, BenchError

class FakeProcess(Service):
    """One loopback fake from Tests/fakes, run as `python3 -m Tests.fakes.<kind>`."""

    def __init__(self, kind: str, run_dir: Path, args: list[str] | None = None):
        super().__init__(f"fake-{kind}", run_dir / f"fake-{kind}.log")
        self.kind = kind
        self.ready = run_dir / f"fake-{kind}.json"
        self.args = args or []
        self.info: dict = {}

    def start(self) -> "FakeProcess":
        self.ready.unlink(missing_ok=True)
        env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
        self._spawn([sys.executable, "-m", f"Tests.fakes.{self.kind}", "--port", "0",
                     "--ready-json", str(self.ready), *self.args], env=env)
        wait_until(self.ready.exists, timeout=20, what=f"{self.name} to listen", service=self)
        self.info = json.loads(self.ready.read_text())
        if not self.base_url.startswith(f"http://{LOOPBACK}:"):
            raise BenchError(f"{self.name} is not on loopback: {self.base_url}")
        return self

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    def control(self, method: str, path: str, body=None):
        return http_json(method, self.base_url + "/__control/" + path, body)


class PhpFpm(Service):
    """php-fpm with a private pool: 8 static workers on a unix socket, phpredis to our redis."""

    def __init__(self, binary: str, run_dir: Path, redis_port: int):
        super().__init__("php-fpm", run_dir / "php-fpm.log")
        self.binary = binary
        self.dir = run_dir / "php-fpm"
        self.socket = self.dir / "php-fpm.sock"
        self.redis_port = redis_port

    def start(self) -> "PhpFpm":
        self.dir.mkdir(parents=True, exist_ok=True)
        conf = self.dir / "php-fpm.conf"
        conf.write_text(f"""; Written by scripts/bench: the php-fpm side of the "php" target.
[global]
pid = {self.dir}/php-fpm.pid
error_log = {self.dir}/php-fpm-error.log
daemonize = no

[bench]
listen = {self.socket}
listen.mode = 0660
pm = static
pm.max_children = 8
pm.max_requests = 0
clear_env = yes
env[IGMEDIA_REDIS_PORT] = {self.redis_port}
""")
        argv = [self.binary, "--nodaemonize", "--fpm-config", str(conf)]
        if os.geteuid() == 0:
            argv.append("--allow-to-run-as-root")
        self._spawn(argv)
        wait_until(lambda: unix_socket_accepts(self.socket), timeout=20, what="php-fpm's socket", service=self)
        return self


def http_json(method: str, url: str, body=None, headers: dict | None = None, timeout: float = 30):
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise BenchError(f"refusing a non-loopback URL: {url}")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = response.read()
    return json.loads(payload) if payload else None


def render_reference_nginx(php_socket: Path, static_dir: Path):
    def render(conf: Path, port: int) -> None:
        run_dir = conf.parent
        (run_dir / "nginx-tmp").mkdir(parents=True, exist_ok=True)
        user_line = "user root;" if os.geteuid() == 0 else "# not root: workers run as the invoking user"
        text = REFERENCE_TEMPLATE.read_text()
        for placeholder, value in {
            "@RUN_DIR@": str(run_dir), "@HTTP_PORT@": str(port), "@USER_LINE@": user_line,
            "@PHP_SOCKET@": str(php_socket), "@PHP_SCRIPT@": str(PHP_SCRIPT), "@STATIC_DIR@": str(static_dir),
        }.items():
            text = text.replace(placeholder, value)
        leftover = re.findall(r"@[A-Z_]+@", text)
        if leftover:
            raise BenchError(f"unrendered placeholders in the reference config: {leftover}")
        conf.write_text(text)
    return render
