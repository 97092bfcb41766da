"""The scale section: GET /photos over 100 / 10,000 / 100,000 tenants (uniform and Zipf), memory
per tenant, the timer's tenants/s with one and two processes, the QStash fan-out, and a
rate-limit deferral. Its own redis-servers, responders and nginx; the fakes of the main stack."""

from __future__ import annotations

import bisect
import hashlib
import json
import random
import re
import secrets
import subprocess
import time
import uuid

from harness import Nginx, RedisServer, Responder, Session

from .common import LOOPBACK, BenchError, log
from .measure import cpu_ticks, run_wrk, vm_status
from .processes import FakeProcess


def resp(*args) -> bytes:
    """One command in RESP (the redis-cli --pipe input)."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def zipf_sample(n: int, count: int, rng: random.Random) -> list[int]:
    """`count` ranks in 0..n-1 drawn with P(k) ∝ 1/(k+1) (Zipf, s = 1.0)."""
    cumulative = []
    total = 0.0
    for k in range(1, n + 1):
        total += 1.0 / k
        cumulative.append(total)
    return [bisect.bisect_left(cumulative, rng.random() * total) for _ in range(count)]


class Scale:
    """Mixed into Bench; uses its settings, fakes and binary."""

    def redis_info(self, redis: RedisServer, section: str = "memory") -> dict[str, str]:
        text = subprocess.run(["redis-cli", "-p", str(redis.port), "INFO", section], capture_output=True, text=True,
                              timeout=30).stdout
        return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)

    def redis_cmd(self, redis: RedisServer, *args: str) -> str:
        result = subprocess.run(["redis-cli", "-p", str(redis.port), *args], capture_output=True, text=True, timeout=60)
        return result.stdout.strip()

    # -- Redis memory per tenant, on the tenants the real sync wrote --
    def redis_per_tenant(self) -> None:
        totals, feeds = [], []
        for tenant_id in self.tenant_ids:
            tenant_hash = self.redis_cmd(self.redis, "HGETALL", f"tenant:{tenant_id}").split("\n")
            fields = dict(zip(tenant_hash[0::2], tenant_hash[1::2]))
            keys = [f"tenant:{tenant_id}", f"instagram:{tenant_id}:photos", f"instagram:{tenant_id}:photos:etag",
                    f"instagram:{tenant_id}:assets", f"auth_token:{fields.get('authToken', '')}"]
            if fields.get("management_token_hash"):
                keys.append(f"mgmt_token:{fields['management_token_hash']}")
            total = 0
            for key in keys:
                value = self.redis_cmd(self.redis, "MEMORY", "USAGE", key, "SAMPLES", "0")
                total += int(value) if value.isdigit() else 0
            # Its share of the index sets: a member costs about its length plus 8 bytes.
            total += len(tenant_id) + 8
            totals.append(total)
            feeds.append(int(self.redis_cmd(self.redis, "STRLEN", f"instagram:{tenant_id}:photos") or 0))
        per_tenant = sum(totals) / len(totals)
        feed = sum(feeds) / len(feeds)
        self.notes.setdefault("scale", {})["redis"] = {"per_tenant": per_tenant, "feed_json": feed,
                                                       "ratio": per_tenant / feed if feed else float("nan")}
        log(f"redis per tenant: {per_tenant:,.0f} bytes for a {feed:,.0f}-byte feed ({per_tenant / feed:.2f} x)")

    # -- seeding a large tenant set straight into a store --
    def seed(self, redis: RedisServer, count: int, feed: bytes) -> list[str]:
        etag = '"' + hashlib.sha256(feed).hexdigest()[:32] + '"'
        tokens = []
        started = time.monotonic()
        proc = subprocess.Popen(["redis-cli", "-p", str(redis.port), "--pipe"], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        rng = random.Random(7)
        batch = []
        for index in range(count):
            tenant_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            token = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            tokens.append(token)
            batch.append(resp("HSET", f"tenant:{tenant_id}", "name", f"scale-{index}", "authToken", token,
                              "apiType", "INSTAGRAM_LOGIN", "created_at", "2026-12-01T00:00:00.000Z"))
            batch.append(resp("SET", f"auth_token:{token}", tenant_id))
            batch.append(resp("SET", f"instagram:{tenant_id}:photos", feed))
            batch.append(resp("SET", f"instagram:{tenant_id}:photos:etag", etag))
            batch.append(resp("SADD", "tenants", tenant_id))
            if len(batch) >= 5000:
                proc.stdin.write(b"".join(batch))
                batch.clear()
        batch.append(resp("SET", "tenants:indexed", "1"))
        proc.stdin.write(b"".join(batch))
        proc.stdin.close()
        output = proc.stdout.read().decode(errors="replace")
        if proc.wait(timeout=600) != 0 or "errors: 0" not in output:
            raise BenchError(f"seeding {count} tenants failed: {output[-500:]}")
        log(f"seeded {count:,} tenants in {time.monotonic() - started:.1f} s")
        return tokens

    def write_tokens(self, name: str, tokens: list[str]):
        path = self.run_dir / f"scale-{name}.txt"
        path.write_text("".join(t + "\n" for t in tokens))
        path.chmod(0o600)
        return path

    # -- GET /photos over many tenants --
    def photos_spreads(self, store: RedisServer, tokens: list[str]) -> None:
        s = self.s
        n = len(tokens)
        rng = random.Random(11)
        permutation = list(range(n))
        rng.shuffle(permutation)
        spreads = {"100": self.write_tokens("100", tokens[:100])}
        if n >= 10_000:
            spreads["10,000"] = self.write_tokens("10k", tokens[:10_000])
        spreads[f"{n:,}"] = self.write_tokens("all", tokens)
        spreads[f"{n:,}, Zipf(1.0)"] = self.write_tokens(
            "zipf", [tokens[permutation[k]] for k in zipf_sample(n, max(200_000, 2 * n), rng)])
        workdir = self.run_dir / "responder-scale"
        workdir.mkdir(exist_ok=True)
        env = dict(self.env_redis, REDIS_URL=store.url)
        responder = self.started(Responder(self.binary, workdir, env, workers=s.workers))
        nginx = self.started(Nginx.local(self.run_dir / "nginx-scale", responder.socket, render_timeout=30))
        results: dict[str, dict] = {}
        try:
            with Session(nginx.port) as session:
                probe = session.get("/photos", headers={"Authorization": f"Bearer {tokens[-1]}"})
                if probe.status != 200:
                    raise BenchError(f"scale responder: /photos answered {probe.status}: {probe.body[:200]!r}")
            url = f"http://{LOOPBACK}:{nginx.port}/photos"
            rounds = 1 if s.smoke else min(2, s.rounds)
            for round_index in range(rounds):
                for label, path in spreads.items():
                    if s.warmup:
                        run_wrk(s, url, path, s.warmup)
                    groups = {responder.pid, nginx.pid, store.pid}
                    ticks = cpu_ticks(groups)
                    result = run_wrk(s, url, path, s.duration)
                    cpu = (cpu_ticks(groups) - ticks) / 100 * 1e6 / max(1, result.requests)
                    rss = vm_status(responder.pid)["VmRSS"]
                    entry = results.setdefault(label, {"rates": [], "p99": [], "cpu": [], "errors": 0, "rss_kb": 0})
                    entry["rates"].append(result.rate)
                    entry["p99"].append(result.p99_ms)
                    entry["cpu"].append(cpu)
                    entry["errors"] += result.error_count
                    entry["rss_kb"] = max(entry["rss_kb"], rss)
                    log(f"scale /photos over {label}: {result.rate:,.0f} req/s, VmRSS {rss / 1024:.0f} MB")
        finally:
            nginx.stop()
            self.services.remove(nginx)
            responder.stop()
            self.services.remove(responder)
        self.notes.setdefault("scale", {})["photos"] = results
        self.notes["scale"]["tenants"] = n

    # -- the QStash fan-out over the same store --
    def fan_out(self, store: RedisServer, count: int) -> None:
        fakes_dir = self.run_dir / "scale-fakes"
        fakes_dir.mkdir(exist_ok=True)
        rows = []
        qstash = None
        try:
            for backend in ("redis", "upstash"):
                # A fresh fake per backend: both runs publish new messages (none deduplicated).
                qstash = self.started(FakeProcess("qstash", fakes_dir, ["--paused", "--token", "bench-qstash-token"]))
                env_q = {"QSTASH_TOKEN": "bench-qstash-token", "QSTASH_URL": qstash.base_url,
                         "QSTASH_CURRENT_SIGNING_KEY": "sig_bench_current", "QSTASH_NEXT_SIGNING_KEY": "sig_bench_next",
                         "WEBHOOK_BASE_URL": "https://igmedia.bench.example"}
                workdir = self.run_dir / f"responder-fanout-{backend}"
                workdir.mkdir(exist_ok=True)
                if backend == "redis":
                    env = dict(self.env_redis, REDIS_URL=store.url, **env_q)
                    upstash = None
                else:
                    upstash = self.started(FakeProcess("upstash", fakes_dir, ["--redis-url", store.url, "--token", "bench-up"]))
                    env = {k: v for k, v in self.env_redis.items() if k != "REDIS_URL"}
                    env.update(env_q, UPSTASH_REDIS_REST_URL=upstash.base_url, UPSTASH_REDIS_REST_TOKEN="bench-up")
                responder = self.started(Responder(self.binary, workdir, env, workers=self.s.workers))
                nginx = self.started(Nginx.local(self.run_dir / f"nginx-fanout-{backend}", responder.socket, render_timeout=30))
                try:
                    qstash.control("DELETE", "requests")
                    before = qstash.control("GET", "counters")
                    rest_before = upstash.control("GET", "counters")["total"] if upstash else 0
                    ours = {responder.pid, nginx.pid}
                    theirs = {qstash.pid, store.pid} | ({upstash.pid} if upstash else set())
                    ticks = (cpu_ticks(ours), cpu_ticks(theirs))
                    started = time.monotonic()
                    with Session(nginx.port, timeout=600) as session:
                        response = session.post("/sync", {"secret": env["SYNC_INTERNAL_SECRET"]})
                    seconds = time.monotonic() - started
                    cpu_ours = (cpu_ticks(ours) - ticks[0]) / 100
                    cpu_theirs = (cpu_ticks(theirs) - ticks[1]) / 100
                    if response.status != 200:
                        raise BenchError(f"fan-out ({backend}): POST /sync answered {response.status}: {response.body[:300]!r}")
                    summary = response.json()["data"]["summary"]
                    after = qstash.control("GET", "counters")
                    batch_calls = after["by_route"].get("POST /v2/batch", 0) - before["by_route"].get("POST /v2/batch", 0)
                    publish_calls = (after["by_route"].get("POST /v2/publish/*", 0)
                                     - before["by_route"].get("POST /v2/publish/*", 0))
                    rest_calls = (upstash.control("GET", "counters")["total"] - rest_before) if upstash else None
                    rows.append({"backend": backend, "seconds": seconds, "queued": summary.get("queuedCount"),
                                 "errors": summary.get("errorCount"), "total": summary.get("totalTenants"),
                                 "batch_calls": batch_calls, "publish_calls": publish_calls, "rest_calls": rest_calls,
                                 "cpu_ours": cpu_ours, "cpu_fakes": cpu_theirs})
                    log(f"fan-out ({backend}): {summary.get('queuedCount')} queued in {seconds:.1f} s, "
                        f"{batch_calls} batch calls" + (f", {rest_calls} REST calls" if rest_calls is not None else ""))
                finally:
                    for service in (nginx, responder, qstash) + ((upstash,) if upstash else ()):
                        service.stop()
                        self.services.remove(service)
                    qstash = None
        finally:
            if qstash is not None:
                qstash.stop()
                self.services.remove(qstash)
        self.notes.setdefault("scale", {})["fanout"] = rows

    # -- the timer: sync --all with unchanged feeds, +100 ms per Instagram call --
    def timer(self, count: int) -> None:
        s = self.s
        (self.run_dir / "timer-redis").mkdir(exist_ok=True)
        store = self.started(RedisServer(self.run_dir / "timer-redis"))
        env = {k: v for k, v in self.env_redis.items() if not k.startswith("CLOUDINARY_")}
        env["REDIS_URL"] = store.url
        env["INSTAGRAM_MEDIA_LIMIT"] = "10"
        workdir = self.run_dir / "responder-timer"
        workdir.mkdir(exist_ok=True)
        responder = self.started(Responder(self.binary, workdir, env, workers=s.workers))
        nginx = self.started(Nginx.local(self.run_dir / "nginx-timer", responder.socket, render_timeout=30))
        media_before = self.s.media
        rows = []
        try:
            self.s.media = 10
            with Session(nginx.port) as session:
                started = time.monotonic()
                for offset in range(0, count, 500):
                    self.register(session, min(500, count - offset), f"timer-{offset}")
                log(f"registered {count} timer tenants in {time.monotonic() - started:.1f} s")

            def run(*extra: str, processes: int = 1) -> tuple[float, list[str]]:
                started = time.monotonic()
                procs = [subprocess.Popen([str(self.binary), "sync", "--all", *extra], env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True) for _ in range(processes)]
                outputs = []
                for index, proc in enumerate(procs):
                    out, err = proc.communicate(timeout=1800)
                    outputs.append(out)
                    runs_done = len(list(self.run_dir.glob("timer-*.out")))
                    (self.run_dir / f"timer-{runs_done:02d}-{index}.out").write_text(out + "\n--- stderr\n" + err[-20000:])
                    if proc.returncode not in (0, 1):
                        raise BenchError(f"sync --all exited {proc.returncode}: {out[-1000:]} {err[-1000:]}")
                return time.monotonic() - started, outputs

            wall, _ = run("--parallel", "32")
            log(f"filled {count} timer tenants in {wall:.1f} s")
            self.instagram.control("POST", "latency", {"latency_ms": s.sync_latency_ms})
            try:
                for processes in (1, 2):
                    before = self.instagram.control("GET", "counters")["total"]
                    wall, outputs = run(processes=processes)
                    calls = self.instagram.control("GET", "counters")["total"] - before
                    synced = 0
                    for out in outputs:
                        match = re.search(r"^summary: (\d+) tenants, (\d+) synced", out, re.MULTILINE)
                        synced += int(match.group(2)) if match else 0
                    rows.append({"processes": processes, "seconds": wall, "synced": synced, "calls": calls,
                                 "rate": synced / wall if wall else 0.0})
                    log(f"timer, {processes} process(es): {synced} tenants in {wall:.1f} s ({synced / wall:.0f}/s), "
                        f"{calls} Instagram calls")
                # Meta throttles the app (code 4) part way through a round: the rest is deferred.
                skip = min(200, count // 3)
                self.notes.setdefault("scale", {})["deferral_after"] = skip
                self.instagram.control("POST", "faults", {"preset": "throttle", "params": {"code": 4}, "skip": skip, "count": 1,
                                                          "match": {"path_regex": "/media$"}})
                before = self.instagram.control("GET", "counters")["total"]
                wall, outputs = run()
                calls = self.instagram.control("GET", "counters")["total"] - before
                run_line = re.search(r"^run \S+: done, (\d+) queued, (\d+) synced, (\d+) failed, (\d+) deferred",
                                     outputs[0], re.MULTILINE)
                if not run_line:
                    raise BenchError(f"no run line in: {outputs[0][-800:]}")
                queued, synced, failed, deferred = map(int, run_line.groups())
                block = self.redis_cmd(store, "PTTL", "ratelimit:graph:app")
                self.notes.setdefault("scale", {})["deferral"] = {
                    "seconds": wall, "queued": queued, "synced": synced, "failed": failed, "deferred": deferred,
                    "calls": calls, "block_ms": int(block) if block.lstrip("-").isdigit() else None}
                log(f"rate limit: {synced} synced, {deferred} deferred, {calls} Instagram calls in {wall:.1f} s")
            finally:
                self.instagram.control("POST", "latency", {"latency_ms": 0})
                self.instagram.control("DELETE", "faults")
        finally:
            self.s.media = media_before
            for service in (nginx, responder, store):
                service.stop()
                self.services.remove(service)
        self.notes.setdefault("scale", {})["timer"] = rows
        self.notes["scale"]["timer_tenants"] = count

    def scale(self) -> None:
        s = self.s
        self.redis_per_tenant()
        feed = self.raw_get(self.redis, f"instagram:{self.tenant_ids[0]}:photos")
        (self.run_dir / "scale-redis").mkdir(exist_ok=True)
        store = self.started(RedisServer(self.run_dir / "scale-redis"))
        try:
            before = int(self.redis_info(store)["used_memory"])
            tokens = self.seed(store, s.scale_tenants, feed)
            after = int(self.redis_info(store)["used_memory"])
            self.notes.setdefault("scale", {})["seeded_per_tenant"] = (after - before) / s.scale_tenants
            self.notes["scale"]["feed_bytes"] = len(feed)
            self.photos_spreads(store, tokens)
            self.fan_out(store, s.scale_tenants)
        finally:
            store.stop()
            self.services.remove(store)
        self.timer(s.scale_sync_tenants)

    def raw_get(self, redis: RedisServer, key: str) -> bytes:
        import socket
        with socket.create_connection((LOOPBACK, redis.port), timeout=30) as sock:
            sock.sendall(resp("GET", key))
            data = b""
            while b"\r\n" not in data:
                data += sock.recv(65536)
            header, _, rest = data.partition(b"\r\n")
            length = int(header[1:])
            while len(rest) < length + 2:
                rest += sock.recv(1 << 20)
            return rest[:length]


def scale_report(notes: dict, settings) -> list[str]:
    """The scale section of the markdown report, with each target of issue [4/6] and its figure."""
    scale = notes.get("scale")
    if not scale:
        return []
    lines = ["", f"### Scale: {scale.get('tenants', 0):,} tenants", ""]
    photos = scale.get("photos", {})
    if photos:
        base = statistics_median(photos.get("100", {}).get("rates", []))
        lines += [f"`GET /photos` on one responder (default config: `FEED_CACHE_MAX_MB=256`, change stream followed "
                  f"every 100 ms), the same {scale.get('feed_bytes', 0):,}-byte feed seeded for every tenant; "
                  f"`wrk -t{settings.threads} -c{settings.connections} -d{settings.duration}s`, median of rounds:", "",
                  "| spread over | req/s | ÷ 100 tenants | target | p99 ms | CPU µs/req | responder VmRSS MB | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        targets = {"10,000": 0.8, f"{scale.get('tenants', 0):,}": 0.6, f"{scale.get('tenants', 0):,}, Zipf(1.0)": 0.85}
        for label, entry in photos.items():
            rate = statistics_median(entry["rates"])
            ratio = rate / base if base else float("nan")
            target = targets.get(label)
            mark = "" if target is None else (f"≥ {target} {'✓' if ratio >= target else '✗'}")
            lines.append(f"| {label} tenants | {rate:,.0f} | {ratio:.2f} | {mark} | {statistics_median(entry['p99']):.2f} | "
                         f"{statistics_median(entry['cpu']):.0f} | {entry['rss_kb'] / 1024:.0f} | {entry['errors']} |")
    redis = scale.get("redis")
    if redis:
        lines += ["", f"Redis memory per tenant written by the real sync (`MEMORY USAGE` of its keys, index share "
                      f"included, mean over the main run's tenants): **{redis['per_tenant']:,.0f} bytes** for a "
                      f"{redis['feed_json']:,.0f}-byte stored feed = **{redis['ratio']:.2f} ×** (target ≤ 1.3 "
                      f"{'✓' if redis['ratio'] <= 1.3 else '✗'}); seeded tenants (hash, token, feed, ETag, index) "
                      f"cost {scale.get('seeded_per_tenant', 0):,.0f} bytes each in `used_memory`."]
    fanout = scale.get("fanout")
    if fanout:
        lines += ["", f"`POST /sync` with QStash (fake, delivery paused) over the {scale.get('tenants', 0):,} tenants:", "",
                  "| store backend | seconds | queued | errors | batch calls | single publishes | store REST calls "
                  "| responder + nginx CPU s | fakes + redis CPU s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for row in fanout:
            rest = "—" if row["rest_calls"] is None else f"{row['rest_calls']:,}"
            lines.append(f"| {row['backend']} | {row['seconds']:.1f} | {row['queued']:,} | {row['errors']} | "
                         f"{row['batch_calls']:,} | {row['publish_calls']} | {rest} | {row.get('cpu_ours', 0):.1f} | "
                         f"{row.get('cpu_fakes', 0):.1f} |")
        lines.append("")
        lines.append("Targets: ≤ 10 s, ≤ 1 call per 100 messages, with Upstash ≤ 1 REST call per 100 tenants. "
                     "Both sides share the box's 2 cores: the CPU columns say where the time goes (the Python "
                     "QStash fake storing each message, the Upstash fake relaying each pipeline).")
    timer = scale.get("timer")
    if timer:
        lines += ["", f"Timer: `igmedia-fcgi sync --all` with default flags over {scale.get('timer_tenants', 0):,} real "
                      f"tenants (10 media each, no CDN), unchanged feeds, the Instagram fake adding "
                      f"{settings.sync_latency_ms} ms to every call:", "",
                  "| processes | seconds | tenants synced | tenants/s | Instagram calls |", "|---:|---:|---:|---:|---:|"]
        for row in timer:
            lines.append(f"| {row['processes']} | {row['seconds']:.1f} | {row['synced']:,} | {row['rate']:.0f} | {row['calls']:,} |")
        if len(timer) == 2 and timer[0]["seconds"]:
            ratio = timer[1]["seconds"] / timer[0]["seconds"]
            lines += ["", f"Two processes ÷ one: **{ratio:.2f} ×** the time (target ≤ 0.6 {'✓' if ratio <= 0.6 else '✗'}); "
                          f"one process: {timer[0]['rate']:.0f} tenants/s (target ≥ 150 {'✓' if timer[0]['rate'] >= 150 else '✗'}), "
                          f"so 100,000 tenants take {100_000 / max(1, timer[0]['rate']) / 60:.1f} min."]
    deferral = scale.get("deferral")
    if deferral:
        lines += ["", f"Rate limit: the fake answers Graph code 4 (app throttled, `estimated_time_to_regain_access` 5 min) "
                      f"on media call {scale.get('deferral_after', 200) + 1} of a round: {deferral['synced']:,} synced, {deferral['deferred']:,} "
                      f"deferred (recorded `RATE_LIMITED`), {deferral['failed']} failed, {deferral['calls']:,} Instagram "
                      f"calls in {deferral['seconds']:.1f} s; the app's pause in the store: "
                      f"{(deferral['block_ms'] or 0) / 1000:.0f} s left."]
    return lines


def statistics_median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
