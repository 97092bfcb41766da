"""`scripts/bench --smoke`: the benchmark machinery end to end, so `make bench` cannot rot.

Every target must be measured with no failed request, the sync timings must show a cold sync
that uploads and an unchanged re-sync that does not, and the run must leave nothing behind: no
process, no change in the repository (smoke results stay in the run directory).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from harness import REPO

ROWS = [
    "GET /photos (nginx → responder → redis)",
    "GET /photos, Accept-Encoding: gzip (pre-compressed)",
    "GET /photos, in-process feed cache off (1 Redis round trip)",
    "GET /health, same nginx + responder (floor)",
    "nginx static file, same body (limit of the box)",
    "php-fpm (8 workers) + phpredis, same reads",
    "GET /photos, Upstash REST backend, feed cache off (FakeUpstash)",
    "GET /photos, nginx feed microcache on",
]


def processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline[:200]}")
    return found


def test_bench_smoke_run(igmedia_bin, tmp_path):
    run_dir = tmp_path / "run"
    out = tmp_path / "smoke.md"
    watched = [REPO / "README.md", REPO / "bench" / "results" / "latest.md"]
    before = {path: path.stat().st_mtime_ns if path.exists() else None for path in watched}

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench"), "--smoke", "--bin", str(igmedia_bin),
         "--run-dir", str(run_dir), "--out", str(out)],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"{result.stderr[-4000:]}\n{result.stdout[-2000:]}"

    table = out.read_text()
    assert table.strip() in result.stdout
    for label in ROWS:
        row = re.search(rf"^\| {re.escape(label)} \| ([\d,]+) \| .* \| ([^|]+) \|$", table, re.MULTILINE)
        assert row, f"no row for {label}:\n{table}"
        assert int(row.group(1).replace(",", "")) > 0, row.group(0)
        assert row.group(2).strip() == "0", f"failed requests: {row.group(0)}"
    for ratio in ("/photos ÷ /health", "/photos ÷ php-fpm", "/photos, gzip ÷ /health", "/photos, gzip ÷ php-fpm",
                  "cached ÷ static"):
        assert f"| {ratio} |" in table
    # The token lookup is cached in-process (AUTH_CACHE_TTL_SECONDS), so a steady stream costs one
    # pipeline per request plus a token lookup per tenant every few seconds.
    upstash = re.search(r"Upstash REST requests per GET /photos in steady state: \*\*([\d.]+)\*\*", table)
    assert upstash and 1.0 <= float(upstash.group(1)) < 1.2, table
    memory = re.search(r"VmRSS before ([\d.]+) MB.*after ([\d.]+) MB \(([\d,]+) requests\)", table)
    assert memory and int(memory.group(3).replace(",", "")) >= 4000, table
    cold = re.search(r"^\| cold \| [\d.]+ \| \d+ \| (\d+) \| (\d+) \| 0 \| 0 \|", table, re.MULTILINE)
    resync = re.search(r"^\| unchanged re-sync \| [\d.]+ \| \d+ \| 0 \| 0 \| (\d+) \| 0 \|", table, re.MULTILINE)
    assert cold and int(cold.group(1)) >= 50 and cold.group(2) == "0", table
    assert resync and int(resync.group(1)) == int(cold.group(1)), table

    assert processes_mentioning(str(run_dir)) == []
    assert {path: path.stat().st_mtime_ns if path.exists() else None for path in watched} == before
