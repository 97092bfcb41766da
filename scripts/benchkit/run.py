"""One benchmark run on a started stack: tenants, interleaved rounds, the memory and sync checks."""

from __future__ import annotations

import gzip
import http.client
import math
import os
import re
import statistics
import subprocess
import time

from harness import Session

from .common import CLK_TCK, LOOPBACK, BenchError, log
from .measure import WrkResult, accept_encoding_of, cpu_ticks, run_wrk, vm_status
from .settings import TARGETS
from .stack import BenchStack

class Bench(BenchStack):
    """One benchmark run: tenants, rounds of every target, the memory check, the sync timing."""

    def new_account(self) -> tuple[str, str]:
        """A fake Instagram account with `media` posts and a fresh long-lived token."""
        account = self.instagram.control("POST", "accounts", {"media_count": self.s.media})
        token = self.instagram.control("POST", "tokens", {"user": account["ig_user_id"], "kind": "long"})
        return account["ig_user_id"], token["access_token"]

    def register(self, session: Session, count: int, prefix: str) -> list[dict]:
        """Registers tenants with a token but without their first sync: the fake refuses exactly
        `count` media reads (a permission error), so each tenant is created with an empty feed and
        the real sync fills it afterwards."""
        accounts = [self.new_account() for _ in range(count)]
        self.instagram.control("POST", "faults", {"preset": "permission", "match": {"path_regex": "/media$"},
                                                  "count": count})
        registered = []
        for index, (account_id, token) in enumerate(accounts):
            response = session.post("/register", {
                "name": f"{prefix}-{index:03d}", "instagramAccountId": account_id,
                "instagramAccountSecret": "bench-account-secret", "instagramAccessToken": token,
                "apiType": "INSTAGRAM_LOGIN",
            }, headers={"Authorization": f"Bearer {self.registration_secret}"})
            if response.status != 201:
                raise BenchError(f"POST /register answered {response.status}: {response.body[:300]!r}")
            data = response.json()["data"]
            if data["photosCount"] != 0:
                raise BenchError("the first sync was expected to be refused by the fake")
            registered.append(data)
        pending = self.instagram.control("GET", "faults")["faults"]
        if pending:
            self.instagram.control("DELETE", "faults")
            raise BenchError(f"{len(pending)} scripted fault(s) left unused: registration did not sync as expected")
        return registered

    def sync(self, *args: str, timeout: float) -> tuple[float, str]:
        started = time.monotonic()
        result = subprocess.run([str(self.binary), "sync", *args], env=self.env_redis, capture_output=True,
                                text=True, timeout=timeout)
        wall = time.monotonic() - started
        if result.returncode != 0:
            raise BenchError(f"igmedia-fcgi sync {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return wall, result.stdout

    def fill(self) -> None:
        s = self.s
        nginx = self.nginx("main").start()
        try:
            with Session(nginx.port) as session:
                registered = self.register(session, s.tenants, "bench-tenant")
                self.tokens = [entry["authToken"] for entry in registered]
                self.tenant_ids = [entry["tenantId"] for entry in registered]
                log(f"registered {len(registered)} tenants; filling them with "
                    f"`igmedia-fcgi sync --all --parallel {s.sync_parallel}`")
                wall, output = self.sync("--all", "--parallel", str(s.sync_parallel), timeout=max(120, 6 * s.tenants))
                uploads = sum(int(m) for m in re.findall(r"^ok .* uploaded=(\d+)", output, re.MULTILINE))
                self.notes["fill"] = {"seconds": wall, "uploads": uploads, "tenants": s.tenants}
                log(f"filled in {wall:.1f} s ({uploads} uploads)")
                cdn = self.cloudinary.info["res_url"]
                for token in self.tokens:
                    response = session.get("/photos", headers={"Authorization": f"Bearer {token}"})
                    photos = response.json()["data"]["photos"] if response.status == 200 else None
                    if photos is None or len(photos) != s.media:
                        raise BenchError(f"a tenant's feed is not {s.media} items after the sync: {response!r}")
                    if not all(item["mediaUrl"].startswith(cdn) for item in photos):
                        raise BenchError("feed items are not mirrored to the Cloudinary fake")
                self.reference_body = session.get(
                    "/photos", headers={"Authorization": f"Bearer {self.tokens[0]}"}).body
        finally:
            nginx.stop()
        self.tokens_file.write_text("".join(token + "\n" for token in self.tokens))
        self.tokens_file.chmod(0o600)
        static = self.run_dir / "static"
        static.mkdir(exist_ok=True)
        (static / "photos.json").write_bytes(self.reference_body)
        self.notes["body_bytes"] = len(self.reference_body)

    # -- targets --
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
            ticks = cpu_ticks(groups)
            result = run_wrk(s, url, self.tokens_file, s.duration, accept_encoding=accept_encoding)
            used = cpu_ticks(groups) - ticks
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

    # -- memory over many requests --
    def many_requests(self) -> None:
        s = self.s
        total_wanted = s.requests
        responder_pid = self.responder_redis.pid
        rates = [r.rate for r in self.results.get("photos", []) if r.rate > 0]
        rate = statistics.median(rates) if rates else 5000.0
        nginx = self.nginx("main").start()
        samples = [("before", 0, vm_status(responder_pid))]
        sent = 0
        errors = 0
        started = time.monotonic()
        deadline = started + s.requests_time_cap
        try:
            url = f"http://{LOOPBACK}:{nginx.port}/photos"
            self.check_target("photos", nginx.port, "/photos")
            for label, goal in (("half way", total_wanted // 2), ("after", total_wanted)):
                # Bounded loop: each wrk run is capped by count (per thread) and by time.
                for _ in range(20):
                    remaining = goal - sent
                    left = deadline - time.monotonic()
                    if remaining <= 0 or left < 2:
                        break
                    seconds = max(1, min(int(left), math.ceil(remaining / max(rate, 1) * 1.15) + 1))
                    per_thread = math.ceil(remaining / s.threads) + s.connections
                    result = run_wrk(s, url, self.tokens_file, seconds, per_thread_cap=per_thread)
                    sent += result.requests
                    errors += result.error_count
                    if result.requests and result.seconds:
                        rate = max(rate * 0.5, min(rate * 2, result.requests / result.seconds))
                samples.append((label, sent, vm_status(responder_pid)))
                self.trim_logs()
        finally:
            nginx.stop()
            self.trim_logs()
        self.notes["memory"] = {"requests": sent, "seconds": time.monotonic() - started, "samples": samples,
                                "errors": errors, "wanted": total_wanted}
        log(f"{sent} GET /photos: VmRSS " + ", ".join(f"{label} {vm['VmRSS'] / 1024:.1f} MB"
                                                      for label, _, vm in samples))

    # -- sync timing --
    def sync_timing(self) -> None:
        s = self.s
        nginx = self.nginx("main").start()
        try:
            with Session(nginx.port) as session:
                tenant = self.register(session, 1, "bench-sync")[0]
        finally:
            nginx.stop()
        fakes = (self.instagram, self.cloudinary)
        for fake in fakes:
            fake.control("POST", "latency", {"latency_ms": s.sync_latency_ms})
        runs = []
        try:
            for label in ("cold", "unchanged re-sync"):
                before = [fake.control("GET", "counters")["total"] for fake in fakes]
                wall, output = self.sync("--tenant", tenant["tenantId"], timeout=300)
                after = [fake.control("GET", "counters")["total"] for fake in fakes]
                match = re.search(r"^ok +\S+ photos=(\d+) uploaded=(\d+) deleted=(\d+) kept=(\d+) failed=(\d+) .* (\d+)ms$",
                                  output, re.MULTILINE)
                if not match:
                    raise BenchError(f"unexpected sync output: {output[-500:]}")
                photos, uploaded, deleted, kept, failed, engine_ms = map(int, match.groups())
                runs.append({"label": label, "wall": wall, "engine_ms": engine_ms, "photos": photos,
                             "uploaded": uploaded, "deleted": deleted, "kept": kept, "failed": failed,
                             "instagram_calls": after[0] - before[0], "cloudinary_calls": after[1] - before[1]})
                log(f"sync {label}: {wall:.2f} s, uploaded={uploaded} deleted={deleted} failed={failed}")
        finally:
            for fake in fakes:
                fake.control("POST", "latency", {"latency_ms": 0})
        self.notes["sync"] = runs

    # -- everything --
    def run(self) -> None:
        started = time.monotonic()
        self.notes["load_before"] = os.getloadavg()
        self.start_stack()
        self.fill()
        self.rounds()
        if "photos" in self.s.targets and self.s.requests > 0:
            self.many_requests()
        self.sync_timing()
        self.notes["load_after"] = os.getloadavg()
        self.notes["total_seconds"] = time.monotonic() - started
