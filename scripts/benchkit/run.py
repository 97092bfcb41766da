"""One benchmark run on a started stack: tenants (tenants.py), interleaved rounds (targets.py), then
the memory and sync checks."""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import time

from harness import Session

from .common import LOOPBACK, BenchError, log
from .measure import run_wrk, vm_status
from .scale import Scale
from .targets import TargetRounds

class Bench(Scale, TargetRounds):
    """One benchmark run: tenants, rounds of every target, the memory check, the sync timing."""

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

    # -- what recording a request's metrics costs --
    def metrics_cost(self) -> None:
        iterations = "200000" if self.s.smoke else "4000000"
        out = subprocess.run([str(self.binary), "metrics-cost", "--iterations", iterations], capture_output=True,
                             text=True, timeout=300)
        if out.returncode != 0 or not out.stdout.startswith("metrics-cost: "):
            raise BenchError(f"metrics-cost failed: {out.stdout[-300:]} {out.stderr[-300:]}")
        self.notes["metrics_cost"] = out.stdout.strip()[len("metrics-cost: "):]
        log(out.stdout.strip())

    # -- everything --
    def run(self) -> None:
        started = time.monotonic()
        self.notes["load_before"] = os.getloadavg()
        self.start_stack()
        self.fill()
        self.rounds()
        self.metrics_cost()
        if "photos" in self.s.targets and self.s.requests > 0:
            self.many_requests()
        self.sync_timing()
        if self.s.scale_tenants:
            self.scale()
        self.notes["load_after"] = os.getloadavg()
        self.notes["total_seconds"] = time.monotonic() - started
