"""The external tools a run needs (wrk, nginx, redis, php-fpm with phpredis), installed when missing."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from .common import REPO, BenchError, log

def php_fpm_binary() -> str | None:
    for name in ("php-fpm",):
        found = shutil.which(name)
        if found:
            return found
    candidates = sorted(Path("/usr/sbin").glob("php-fpm[0-9]*"), reverse=True)
    return str(candidates[0]) if candidates else None


def missing_tools() -> list[str]:
    missing = [tool for tool in ("wrk", "nginx", "redis-server", "redis-cli") if shutil.which(tool) is None]
    php = php_fpm_binary()
    if php is None:
        missing.append("php-fpm")
    else:
        modules = subprocess.run([php, "-m"], capture_output=True, text=True, timeout=30).stdout
        if not re.search(r"^redis$", modules, re.MULTILINE):
            missing.append("php-redis")
    return missing


def ensure_tools() -> None:
    missing = missing_tools()
    if not missing:
        return
    if os.geteuid() != 0:
        raise BenchError(f"missing {', '.join(missing)}: run `make deps` as root (scripts/install-deps)")
    log(f"missing {', '.join(missing)}: running scripts/install-deps")
    subprocess.run([str(REPO / "scripts" / "install-deps")], check=True, timeout=900)
    still = missing_tools()
    if still:
        raise BenchError(f"still missing after install-deps: {', '.join(still)}")


def version_of(argv: list[str], pattern: str) -> str:
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    match = re.search(pattern, result.stdout + result.stderr)
    return match.group(1) if match else "?"
