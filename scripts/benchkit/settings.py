"""The run's sizes and the targets it measures."""

from __future__ import annotations

from dataclasses import dataclass, field

@dataclass
class Settings:
    smoke: bool
    tenants: int
    media: int
    duration: int
    warmup: int
    rounds: int
    requests: int
    requests_time_cap: int
    threads: int = 2
    connections: int = 64
    workers: int | None = None  # None: the responder's default (README, "Sizing --workers")
    sync_parallel: int = 8
    sync_latency_ms: int = 100
    targets: list[str] = field(default_factory=list)
    # The scale section (0 = skipped): tenants seeded for /photos and the fan-out, and real
    # tenants for the timer's tenants/s.
    scale_tenants: int = 100_000
    scale_sync_tenants: int = 3000


TARGETS = {
    # name: (label, nginx kind, path[, Accept-Encoding sent])
    "photos": ("GET /photos (nginx → responder → redis)", "main", "/photos"),
    "photos-gzip": ("GET /photos, Accept-Encoding: gzip (pre-compressed)", "main", "/photos", "gzip"),
    "photos-scraped": ("GET /photos while Prometheus scrapes /metrics every second", "main", "/photos"),
    "store": ("GET /photos, in-process feed cache off (1 Redis round trip)", "store", "/photos"),
    "health": ("GET /health, same nginx + responder (floor)", "main", "/health"),
    "static": ("nginx static file, same body (limit of the box)", "reference", "/photos.json"),
    "php": ("php-fpm (8 workers) + phpredis, same reads", "reference", "/photos"),
    "upstash": ("GET /photos, Upstash REST backend, feed cache off (FakeUpstash)", "upstash", "/photos"),
    "cached": ("GET /photos, nginx feed microcache on", "cached", "/photos"),
}
