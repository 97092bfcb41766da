"""The command line and the main flow: check tools, prepare the run directory, run, report."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
from pathlib import Path

from harness import MAX_UNIX_SOCKET_PATH, ServiceError

from .common import REPO, RESULTS, BenchError, log
from .report import report, update_readme
from .run import Bench
from .settings import TARGETS, Settings
from .tools import ensure_tools

def default_binary() -> Path:
    env = os.environ.get("IGMEDIA_BIN")
    if env:
        return Path(env)
    bin_dir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO,
                             capture_output=True, text=True, timeout=120).stdout.strip()
    return Path(bin_dir) / "igmedia-fcgi"


def parse_args(argv=None) -> tuple[argparse.Namespace, Settings]:
    parser = argparse.ArgumentParser(
        description="igmedia benchmark (loopback only). `make bench` runs it after a release build.")
    parser.add_argument("--smoke", action="store_true", help="quick check of the machinery: ~1 s per target")
    parser.add_argument("--bin", type=Path, help="igmedia-fcgi binary (default $IGMEDIA_BIN, else the release build)")
    parser.add_argument("--run-dir", type=Path,
                        help="working directory (default .run/bench); one left by an earlier run is emptied first")
    parser.add_argument("--out", type=Path, help="markdown result file (full run default: bench/results/latest.md)")
    parser.add_argument("--no-readme", action="store_true", help="full run: leave README.md alone")
    parser.add_argument("--tenants", type=int)
    parser.add_argument("--duration", type=int, help="seconds per target per round")
    parser.add_argument("--warmup", type=int, help="warm-up seconds before each measurement")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--requests", type=int, help="GET /photos for the memory check (default 1,000,000)")
    parser.add_argument("--targets", help=f"comma-separated subset of {','.join(TARGETS)}")
    parser.add_argument("--workers", type=int, help="responder accepting threads (default: the responder's own default, one per CPU)")
    parser.add_argument("--scale-tenants", type=int, help="tenants seeded for the scale section's /photos spreads and "
                        "fan-out (default 100,000; 0 skips the scale section)")
    parser.add_argument("--scale-sync-tenants", type=int, help="real tenants for the timer's tenants/s (default 3,000)")
    args = parser.parse_args(argv)
    if args.smoke:
        settings = Settings(smoke=True, tenants=6, media=50, duration=1, warmup=0, rounds=1, requests=4000,
                            requests_time_cap=20)
    else:
        settings = Settings(smoke=False, tenants=100, media=50, duration=10, warmup=2, rounds=3,
                            requests=1_000_000, requests_time_cap=600)
    if args.smoke:
        settings.scale_tenants, settings.scale_sync_tenants = 2000, 60
    for name in ("tenants", "duration", "warmup", "rounds", "requests", "workers", "scale_tenants", "scale_sync_tenants"):
        value = getattr(args, name)
        if value is not None:
            setattr(settings, name, value)
    settings.targets = args.targets.split(",") if args.targets else list(TARGETS)
    unknown = [t for t in settings.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown targets: {', '.join(unknown)}")
    if not (1 <= settings.tenants <= 1000 and 1 <= settings.duration <= 120 and 0 <= settings.warmup <= 30
            and 1 <= settings.rounds <= 10 and 0 <= settings.requests <= 5_000_000 and (settings.workers is None or 1 <= settings.workers <= 256)
            and (settings.scale_tenants == 0 or 200 <= settings.scale_tenants <= 1_000_000)
            and 10 <= settings.scale_sync_tenants <= 100_000):
        parser.error("--tenants 1..1000, --duration 1..120, --warmup 0..30, --rounds 1..10, --requests 0..5000000, "
                     "--workers 1..256, --scale-tenants 0 or 200..1000000, --scale-sync-tenants 10..100000")
    return args, settings


def main(argv=None) -> int:
    args, settings = parse_args(argv)
    binary = args.bin or default_binary()
    if not os.access(binary, os.X_OK):
        log(f"{binary} is missing: run `make release` first (make bench does)")
        return 1
    run_dir = (args.run_dir or REPO / ".run" / "bench").resolve()
    if len(str(run_dir / "responder-upstash" / "fcgi.sock")) > MAX_UNIX_SOCKET_PATH:
        log(f"run directory path too long for unix sockets: {run_dir}")
        return 1
    try:
        ensure_tools()
    except BenchError as error:
        log(str(error))
        return 1
    marker = run_dir / ".igmedia-bench"
    if run_dir.exists() and any(run_dir.iterdir()):
        if not marker.exists():
            log(f"{run_dir} is not empty and was not made by scripts/bench: refusing to empty it")
            return 1
        shutil.rmtree(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    marker.write_text("scripts/bench empties this directory at the start of every run\n")

    # SIGTERM/SIGHUP stop the run like Ctrl-C does: every started process is stopped by pid.
    def interrupted(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGHUP, interrupted)

    bench = Bench(settings, binary, run_dir)
    log(f"{'smoke' if settings.smoke else 'full'} run in {run_dir} with {binary}")
    try:
        bench.run()
    except (BenchError, ServiceError, subprocess.SubprocessError, OSError) as error:
        log(f"FAILED: {error}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        bench.stop_all()

    markdown = report(bench, binary)
    print(markdown)
    out = args.out or (run_dir / "results.md" if settings.smoke else RESULTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown)
    log(f"wrote {out}")
    if not settings.smoke and not args.no_readme:
        update_readme(markdown)
        log("updated the Performance table in README.md")
    failures = [name for name in settings.targets
                if not bench.results[name] or any(r.requests == 0 or r.non_2xx or r.errors.get("status")
                                                  for r in bench.results[name])]
    if failures:
        log(f"targets with failed or non-2xx responses: {', '.join(failures)}")
        return 1
    return 0
