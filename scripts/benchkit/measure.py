"""Measuring: wrk runs (bench/photos.lua) and what /proc says about CPU and memory."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .common import LOOPBACK, LUA, BenchError
from .settings import TARGETS, Settings

def cpu_ticks(groups: set[int]) -> int:
    """utime + stime of every process in the given process groups (the services we started)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
        if int(fields[2]) in groups:
            total += int(fields[11]) + int(fields[12])
    return total


def vm_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM in kB from /proc/<pid>/status."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: dict
    non_2xx: int
    cpu_us_per_request: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values()) + self.non_2xx - self.errors.get("status", 0)

    def error_kinds(self) -> dict[str, int]:
        kinds = {kind: count for kind, count in self.errors.items() if count and kind != "status"}
        if self.non_2xx:
            kinds["non-2xx"] = self.non_2xx
        return kinds


def accept_encoding_of(name: str) -> str:
    """The Accept-Encoding a target's requests carry ("" = none)."""
    target = TARGETS[name]
    return target[3] if len(target) > 3 else ""


def run_wrk(settings: Settings, url: str, tokens: Path, seconds: int, per_thread_cap: int = 0,
            accept_encoding: str = "") -> WrkResult:
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise BenchError(f"refusing to load a non-loopback URL: {url}")
    argv = ["wrk", f"-t{settings.threads}", f"-c{settings.connections}", f"-d{seconds}s", "--timeout", "5s",
            "-s", str(LUA), url, "--", str(tokens), str(per_thread_cap), accept_encoding]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
    if result.returncode != 0:
        raise BenchError(f"wrk failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    match = re.search(r"^WRK_JSON (\{.*\})$", result.stdout, re.MULTILINE)
    if not match:
        raise BenchError(f"no WRK_JSON line in wrk's output:\n{result.stdout[-1000:]}")
    data = json.loads(match.group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    return WrkResult(
        requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000, errors=data["errors"], non_2xx=int(non_2xx.group(1)) if non_2xx else 0)
