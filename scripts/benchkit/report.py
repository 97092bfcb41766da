"""The markdown report (bench/results/latest.md) and the README's Performance table."""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from .common import README, README_BEGIN, README_END, REPO, BenchError
from .measure import WrkResult
from .settings import TARGETS
from .tools import php_fpm_binary, version_of

if TYPE_CHECKING:
    from .run import Bench

def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def median_of(results: list[WrkResult], attribute: str) -> float:
    values = [getattr(r, attribute) if attribute != "rate" else r.rate for r in results]
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def report(bench: Bench, binary: Path) -> str:
    s = bench.s
    php = php_fpm_binary() or "php-fpm"
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "?"
    # The files a run rewrites do not count as local changes.
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!README.md", ":!bench/results"], capture_output=True, text=True).stdout.strip()
    build = "release" if "/release/" in str(binary) else ("debug" if "/debug/" in str(binary) else "custom")
    cpu = "?"
    try:
        cpu = re.search(r"^model name\s*:\s*(.*)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE).group(1)
    except (OSError, AttributeError):
        pass
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {version_of(argv, pattern)}" for name, argv, pattern in [
        ("nginx", ["nginx", "-v"], r"nginx/(\S+)"), ("redis", ["redis-server", "--version"], r"v=(\S+)"),
        ("PHP", [php, "-v"], r"PHP (\S+)"), ("wrk", ["wrk", "-v"], r"wrk (\S+)")])
    mode = "smoke run (numbers meaningless)" if s.smoke else "full run"
    responder_args = (f"`serve --workers {s.workers}`" if s.workers else
                      f"`serve` with its default workers (one per CPU: {os.cpu_count()})")
    gzip_bytes = bench.notes.get("gzip_body_bytes")
    gzip_note = f"; {gzip_bytes:,} with gzip" if gzip_bytes else ""
    lines = [
        f"`{'scripts/bench --smoke' if s.smoke else 'make bench'}`, {mode}: {when}, commit {commit}"
        f"{' (+ local changes)' if dirty else ''}, {build} build; {os.cpu_count()} × {cpu}, Linux {platform.release()}; "
        f"{versions.strip()}. "
        f"Load average before/after: {bench.notes['load_before'][0]:.2f} / {bench.notes['load_after'][0]:.2f}.",
        "",
        f"Every target: `wrk -t{s.threads} -c{s.connections} -d{s.duration}s` with `bench/photos.lua` spreading the "
        f"requests over {s.tenants} tenants' tokens, {s.media}-item feeds ({bench.notes['body_bytes']:,} bytes per "
        f"response{gzip_note}), {s.warmup} s warm-up, {s.rounds} interleaved round(s); medians over rounds, range = min–max "
        f"req/s. CPU = CPU time of every server process (nginx, responder, redis, php-fpm, fakes) per request. "
        f"Responder: {responder_args}; errors = wrk socket errors and non-2xx answers over all rounds.",
        "",
        "| target | req/s | range | p50 ms | p99 ms | CPU µs/req | errors |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    medians = {}
    for name in s.targets:
        results = bench.results[name]
        if not results:
            continue
        label = TARGETS[name][0]
        rate = median_of(results, "rate")
        medians[name] = rate
        rates = [r.rate for r in results]
        cpu_per = median_of(results, "cpu_us_per_request")
        kinds: dict[str, int] = {}
        for r in results:
            for kind, count in r.error_kinds().items():
                kinds[kind] = kinds.get(kind, 0) + count
        errors = str(sum(kinds.values())) + (" (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")"
                                             if kinds else "")
        lines.append(
            f"| {label} | {fmt_rate(rate)} | {fmt_rate(min(rates))}–{fmt_rate(max(rates))} | "
            f"{median_of(results, 'p50_ms'):.2f} | {median_of(results, 'p99_ms'):.2f} | "
            f"{cpu_per:.0f} | {errors} |")
    lines += ["", "| ratio (req/s) | value |", "|---|---:|"]
    for label, top, bottom in [
        ("/photos ÷ /health", "photos", "health"),
        ("/photos, gzip ÷ /health", "photos-gzip", "health"),
        ("/photos, feed cache off ÷ /health", "store", "health"),
        ("/photos, feed cache off ÷ php-fpm", "store", "php"),
        ("/photos ÷ php-fpm", "photos", "php"),
        ("/photos, gzip ÷ php-fpm", "photos-gzip", "php"),
        ("/photos, gzip ÷ /photos", "photos-gzip", "photos"),
        ("/photos with a 1 s /metrics scrape ÷ /photos", "photos-scraped", "photos"),
        ("/photos ÷ static", "photos", "static"),
        ("cached ÷ static", "cached", "static"),
        ("cached ÷ /photos", "cached", "photos"),
        ("Upstash ÷ native /photos", "upstash", "photos"),
    ]:
        if top in medians and bottom in medians and medians[bottom] > 0:
            lines.append(f"| {label} | {medians[top] / medians[bottom]:.2f} |")
    scraped = bench.results.get("photos-scraped") or []
    if scraped:
        scrapes = sum(r.extra.get("scrapes", 0) for r in scraped)
        size = max((r.extra.get("scrape_bytes", 0) for r in scraped), default=0)
        lines += ["", f"Scrapes during `photos-scraped`: {scrapes} in all, {size:,} bytes each."]
    cost = bench.notes.get("metrics_cost")
    if cost:
        lines += ["", f"Recording one request's metrics (`igmedia-fcgi metrics-cost`, release build): {cost}."]
    upstash = bench.results.get("upstash") or []
    if upstash:
        calls = sum(r.extra.get("rest_calls", 0) for r in upstash)
        requests = sum(r.extra.get("served", 0) for r in upstash) or 1
        completed = sum(r.requests for r in upstash)
        routes: dict[str, int] = {}
        for r in upstash:
            for route, count in r.extra.get("by_route", {}).items():
                routes[route] = routes.get(route, 0) + count
        detail = ", ".join(f"`{route}` {count / requests:.2f}" for route, count in sorted(routes.items()) if count)
        lines += ["", f"Upstash REST requests per GET /photos in steady state: **{calls / requests:.2f}** "
                      f"({calls:,} REST requests for the {requests:,} GET /photos the responder served, of which wrk counted "
                      f"{completed:,} before it stopped; {detail}). The Upstash target "
                      f"measures the Python FakeUpstash on this box as much as the responder."]
    cached = bench.results.get("cached") or []
    if cached and all("served" in r.extra for r in cached):
        served = sum(r.extra["served"] for r in cached)
        total = sum(r.requests for r in cached)
        lines += ["", f"Microcache: the responder answered {served:,} of the {total:,} GET /photos "
                      f"({served / total:.2%}); nginx answered the rest from its cache."]
    memory = bench.notes.get("memory")
    if memory:
        samples = memory["samples"]
        parts = [f"{label} {vm['VmRSS'] / 1024:.1f} MB" + (f" ({sent:,} requests)" if sent else "")
                 for label, sent, vm in samples]
        lines += ["", f"Responder memory over {memory['requests']:,} GET /photos "
                      f"({memory['seconds']:.0f} s, {memory['errors']} errors): VmRSS {', '.join(parts)}; "
                      f"peak VmHWM {samples[-1][2]['VmHWM'] / 1024:.1f} MB."]
    sync = bench.notes.get("sync")
    if sync:
        lines += ["", f"Sync of one {s.media}-media tenant, the fakes adding {s.sync_latency_ms} ms to every Instagram "
                      f"and Cloudinary call (`igmedia-fcgi sync --tenant`, default CLOUDINARY_CONCURRENCY = 16):", "",
                  "| sync | wall s | engine ms | uploads | deletes | kept | failed | Instagram calls | Cloudinary calls |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for run in sync:
            lines.append(f"| {run['label']} | {run['wall']:.2f} | {run['engine_ms']} | {run['uploaded']} | "
                         f"{run['deleted']} | {run['kept']} | {run['failed']} | {run['instagram_calls']} | "
                         f"{run['cloudinary_calls']} |")
        lines.append("")
        lines.append("Instagram calls include the CDN downloads the Cloudinary fake makes for remote uploads.")
    from .scale import scale_report
    lines += scale_report(bench.notes, s)
    lines += ["", "<details><summary>Every round</summary>", "",
              "| round | target | req/s | p50 ms | p99 ms | CPU µs/req | errors |", "|---:|---|---:|---:|---:|---:|---:|"]
    for index in range(s.rounds):
        for name in s.targets:
            results = bench.results[name]
            if index < len(results):
                r = results[index]
                cpu_text = f"{r.cpu_us_per_request:.0f}" if r.cpu_us_per_request is not None else "?"
                lines.append(f"| {index + 1} | {name} | {fmt_rate(r.rate)} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | "
                             f"{cpu_text} | {r.error_count} |")
    lines += ["", "</details>"]
    fill = bench.notes.get("fill")
    if fill:
        lines += ["", f"Setup: {fill['tenants']} tenants filled by `igmedia-fcgi sync --all --parallel {s.sync_parallel}` "
                      f"in {fill['seconds']:.1f} s ({fill['uploads']:,} uploads, no added latency). "
                      f"Whole run: {bench.notes['total_seconds']:.0f} s."]
    return "\n".join(lines) + "\n"


def update_readme(markdown: str) -> None:
    text = README.read_text()
    begin, end = text.find(README_BEGIN), text.find(README_END)
    if begin < 0 or end < begin:
        raise BenchError(f"README.md has no {README_BEGIN} … {README_END} block to update")
    text = text[:begin + len(README_BEGIN)] + "\n" + markdown + text[end:]
    README.write_text(text)
