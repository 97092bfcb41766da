"""Measuring the targets: one checked request, then wrk, in rounds that interleave the targets."""

from __future__ import annotations

import gzip
import os
import threading
import time

from harness import Session

from .common import CLK_TCK, LOOPBACK, BenchError, log
from .measure import WrkResult, accept_encoding_of, cpu_ticks, run_wrk
from .settings import TARGETS
from .tenants import Tenants

class Scraper:
    """GET /metrics every second through nginx while wrk runs (as Prometheus would); bounded by
    the measurement's duration."""

    def __init__(self, port: int, seconds: float):
        self.port = port
        self.deadline = time.monotonic() + seconds + 1
        self.stop = threading.Event()
        self.scrapes = 0
        self.bytes = 0
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def loop(self) -> None:
        with Session(self.port, timeout=10) as session:
            while not self.stop.is_set() and time.monotonic() < self.deadline:
                response = session.get("/metrics")
                if response.status != 200:
                    raise BenchError(f"/metrics answered {response.status}")
                self.scrapes += 1
                self.bytes = len(response.body)
                self.stop.wait(1.0)

    def finish(self) -> tuple[int, int]:
        self.stop.set()
        self.thread.join(timeout=15)
        return self.scrapes, self.bytes


class TargetRounds(Tenants):
    """Filled tenants, measured target by target (settings.TARGETS) behind a fresh nginx each time."""

    def check_target(self, name: str, port: int, path: str) -> None:
        """One request before the load: the target answers, and the feed targets with the very
        bytes the responder serves (a gzip target: once decompressed)."""
        headers = {"Authorization": f"Bearer {self.tokens[0]}"}
        accept_encoding = accept_encoding_of(name)
        if accept_encoding:
            headers["Accept-Encoding"] = accept_encoding
        with Session(port) as session:
            response = session.get(path, headers=headers)
        if response.status != 200:
            raise BenchError(f"target {name}: {path} answered {response.status}: {response.body[:300]!r}")
        body = response.body
        if accept_encoding:
            if response.header("Content-Encoding") != "gzip":
                raise BenchError(f"target {name}: no gzip body (Content-Encoding {response.header('Content-Encoding')!r})")
            self.notes["gzip_body_bytes"] = len(body)
            body = gzip.decompress(body)
        if name != "health" and body != self.reference_body:
            raise BenchError(f"target {name}: the body differs from the responder's GET /photos body")

    def measure(self, name: str) -> WrkResult:
        s = self.s
        _, kind, path = TARGETS[name][:3]
        accept_encoding = accept_encoding_of(name)
        nginx = self.nginx(kind).start()
        try:
            url = f"http://{LOOPBACK}:{nginx.port}{path}"
            self.check_target(name, nginx.port, path)
            if s.warmup:
                run_wrk(s, url, self.tokens_file, s.warmup, accept_encoding=accept_encoding)
            extra = {}
            if name == "cached":
                cached_log = self.responder_redis.log_path
                cached_offset = cached_log.stat().st_size
            if name == "upstash":
                self.upstash.control("DELETE", "requests")  # the fake records every request: keep it small
                before_calls = self.upstash.control("GET", "counters")
                responder_log = self.responder_upstash.log_path
                log_offset = responder_log.stat().st_size
            groups = self.groups() | {nginx.pid}
            scraper = Scraper(nginx.port, s.duration) if name == "photos-scraped" else None
            ticks = cpu_ticks(groups)
            if scraper:
                scraper.start()
            result = run_wrk(s, url, self.tokens_file, s.duration, accept_encoding=accept_encoding)
            used = cpu_ticks(groups) - ticks
            if scraper:
                extra["scrapes"], extra["scrape_bytes"] = scraper.finish()
            if name == "upstash":
                # Requests still in flight when wrk stops reach both the fake and the responder's
                # log: let them finish, then divide REST calls by the requests the responder served.
                time.sleep(1.0)
                after_calls = self.upstash.control("GET", "counters")
                with open(responder_log, "rb") as handle:
                    handle.seek(log_offset)
                    extra["served"] = handle.read().count(b" path=/photos ")
                extra["rest_calls"] = after_calls["total"] - before_calls["total"]
                extra["by_route"] = {route: count - before_calls["by_route"].get(route, 0)
                                     for route, count in after_calls["by_route"].items()}
                self.upstash.control("DELETE", "requests")
            if name == "cached":
                # How many of the requests reached the responder (cache misses and refreshes).
                with open(cached_log, "rb") as handle:
                    handle.seek(cached_offset)
                    extra["served"] = handle.read().count(b" path=/photos ")
            result.cpu_us_per_request = used / CLK_TCK / result.requests * 1e6 if result.requests else None
            result.extra = extra
            return result
        finally:
            nginx.stop()
            self.trim_logs()

    def trim_logs(self, limit: int = 64 << 20) -> None:
        """The responder and nginx log a line per request: keep the run directory small."""
        for path in list(self.run_dir.glob("*/responder.log")) + list(self.run_dir.glob("nginx-*/nginx-access.log")):
            try:
                if path.stat().st_size > limit:
                    os.truncate(path, 0)  # both writers append (O_APPEND), so this is safe
            except FileNotFoundError:
                pass

    def rounds(self) -> None:
        s = self.s
        order = list(s.targets)
        for round_index in range(s.rounds):
            # Rotate the order each round so no target always runs first or last.
            shift = round_index % len(order)
            for name in order[shift:] + order[:shift]:
                result = self.measure(name)
                self.results[name].append(result)
                problems = f", {result.error_count} errors" if result.error_count else ""
                log(f"round {round_index + 1}/{s.rounds} {name:8s} {result.rate:9.0f} req/s  "
                    f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms{problems}")
