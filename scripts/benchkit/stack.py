"""Starting and stopping one run's services: redis, the fakes, both responders, php-fpm, nginx per target."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path

from harness import Nginx, RedisServer, Responder, Service

from .common import LOOPBACK, BenchError, log
from .measure import WrkResult
from .processes import FakeProcess, PhpFpm, render_reference_nginx
from .settings import Settings
from .tools import php_fpm_binary

class BenchStack:
    """A run's services: started in order, stopped in reverse, reachable by name."""

    def __init__(self, settings: Settings, binary: Path, run_dir: Path):
        self.s = settings
        self.binary = binary
        self.run_dir = run_dir
        self.services: list[Service] = []
        self.tokens_file = run_dir / "tokens.txt"
        self.tokens: list[str] = []
        self.tenant_ids: list[str] = []
        self.reference_body = b""
        self.results: dict[str, list[WrkResult]] = {name: [] for name in settings.targets}
        self.notes: dict = {}
        self.registration_secret = secrets.token_hex(16)

    # -- lifecycle --
    def started(self, service):
        self.services.append(service)
        return service.start()

    def stop_all(self) -> None:
        for service in reversed(self.services):
            try:
                service.stop(timeout=10)
            except Exception as error:  # keep stopping the others
                log(f"stopping {service.name}: {error}")
        self.services.clear()

    def groups(self) -> set[int]:
        return {service.pid for service in self.services if service.process and service.process.poll() is None}

    # -- setup --
    def start_stack(self) -> None:
        s = self.s
        self.redis = self.started(RedisServer(self.run_dir))
        log(f"redis-server on {self.redis.url}")
        self.instagram = self.started(FakeProcess("instagram", self.run_dir))
        cloudinary_secret = secrets.token_hex(12)
        self.cloudinary = self.started(FakeProcess("cloudinary", self.run_dir, [
            "--cloud-name", "bench-cloud", "--api-key", "424242424242424", "--api-secret", cloudinary_secret]))
        upstash_token = secrets.token_hex(16)
        self.upstash = self.started(FakeProcess("upstash", self.run_dir, [
            "--redis-url", self.redis.url, "--token", upstash_token]))
        common = {
            "ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
            "SYNC_INTERNAL_SECRET": secrets.token_hex(16),
            "REGISTRATION_SECRET": self.registration_secret,
            "INSTAGRAM_API_URL": self.instagram.info["api_url"],
            "INSTAGRAM_GRAPH_URL": self.instagram.info["graph_url"],
            "FACEBOOK_GRAPH_URL": self.instagram.info["facebook_url"],
            "CLOUDINARY_API_URL": self.cloudinary.base_url,
            "CLOUDINARY_CLOUD_NAME": "bench-cloud",
            "CLOUDINARY_API_KEY": "424242424242424",
            "CLOUDINARY_API_SECRET": cloudinary_secret,
            "INSTAGRAM_MEDIA_LIMIT": str(s.media),
        }
        for name, value in common.items():
            if name.endswith("_URL") and not value.startswith(f"http://{LOOPBACK}:"):
                raise BenchError(f"{name} is not a loopback URL: {value}")
        self.env_redis = dict(common, REDIS_URL=self.redis.url)
        # The Upstash target reads the store on every request (feed cache off), so the REST calls
        # per request it reports are the store path's, not the cache's.
        self.env_upstash = dict(common, UPSTASH_REDIS_REST_URL=self.upstash.base_url,
                                UPSTASH_REDIS_REST_TOKEN=upstash_token, FEED_CACHE_TTL_MS="0")
        self.env_store = dict(self.env_redis, FEED_CACHE_TTL_MS="0")
        for kind, env in (("redis", self.env_redis), ("upstash", self.env_upstash), ("store", self.env_store)):
            workdir = self.run_dir / f"responder-{kind}"
            workdir.mkdir()
            responder = self.started(Responder(self.binary, workdir, env, workers=s.workers))
            setattr(self, f"responder_{kind}", responder)
        php = php_fpm_binary()
        assert php is not None
        self.php = self.started(PhpFpm(php, self.run_dir, self.redis.port))
        log("fakes, the three responders and php-fpm are up")

    def nginx(self, kind: str) -> Nginx:
        directory = self.run_dir / f"nginx-{kind}"
        directory.mkdir(exist_ok=True)
        local = {"main": (self.responder_redis, False), "cached": (self.responder_redis, True),
                 "upstash": (self.responder_upstash, False), "store": (self.responder_store, False)}
        if kind in local:
            responder, microcache = local[kind]
            return Nginx.local(directory, responder.socket, microcache=microcache, render_timeout=30)
        if kind == "reference":
            return Nginx(directory, render_reference_nginx(self.php.socket, self.run_dir / "static"), name="nginx")
        raise BenchError(f"unknown nginx kind {kind}")
