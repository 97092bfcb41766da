"""What every part of the benchmark shares: paths, the loopback rule, logging."""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent.parent

LUA = REPO / "bench" / "photos.lua"
PHP_SCRIPT = REPO / "bench" / "php" / "photos.php"
REFERENCE_TEMPLATE = REPO / "bench" / "reference-nginx.conf.template"
RESULTS = REPO / "bench" / "results" / "latest.md"
README = REPO / "README.md"
README_BEGIN = "<!-- bench:begin -->"
README_END = "<!-- bench:end -->"
LOOPBACK = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    pass
