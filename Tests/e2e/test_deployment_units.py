"""systemd units and the example environment file: they verify, they are hardened, they
document every variable, and the responder tolerates MemoryDenyWriteExecute."""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness import REPO, expect_success

UNITS = REPO / "systemd"
INSTALLED_BINARY = "/usr/local/bin/igmedia-fcgi"
MAX_EXPOSURE = 3.0


@pytest.fixture(scope="module")
def systemd_analyze(tmp_path_factory) -> str:
    """systemd-analyze, once it has shown it can verify a trivial unit here."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (make deps installs package systemd)")
    probe = tmp_path_factory.mktemp("probe") / "igmedia-probe.service"
    probe.write_text("[Service]\nType=oneshot\nExecStart=/bin/true\n")
    result = subprocess.run([tool, "verify", str(probe)], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        pytest.skip(f"systemd-analyze cannot run in this environment: {result.stderr.strip()}")
    return tool


@pytest.fixture
def units(tmp_path, igmedia_bin) -> Path:
    """Copies of the units whose ExecStart names the built binary (verify wants it to exist)."""
    for unit in UNITS.glob("igmedia*.*"):
        if unit.suffix in (".service", ".socket", ".timer"):
            text = unit.read_text()
            (tmp_path / unit.name).write_text(text.replace(INSTALLED_BINARY, str(igmedia_bin)))
    return tmp_path


def verify(tool: str, directory: Path, *names: str) -> None:
    result = subprocess.run([tool, "verify", *names], cwd=directory, capture_output=True, text=True, timeout=60)
    # Unknown keys are only warnings (exit 0): any output at all fails the test.
    assert result.returncode == 0 and not result.stdout.strip() and not result.stderr.strip(), result


def test_fcgi_socket_and_service_verify(systemd_analyze, units):
    verify(systemd_analyze, units, "igmedia-fcgi.socket", "igmedia-fcgi.service")


def test_sync_timer_and_service_verify(systemd_analyze, units):
    verify(systemd_analyze, units, "igmedia-sync.timer", "igmedia-sync.service")


@pytest.mark.parametrize("unit", ["igmedia-fcgi.service", "igmedia-sync.service"])
def test_service_exposure_is_low(systemd_analyze, units, unit, summary):
    result = subprocess.run(
        [systemd_analyze, "security", "--offline=yes", "--no-pager", unit],
        cwd=units, capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", result.stdout)
    assert match, result.stdout + result.stderr
    exposure = float(match.group(1))
    summary(f"systemd-analyze security --offline=yes {unit}: {exposure} {match.group(2)}")
    assert exposure <= MAX_EXPOSURE, result.stdout


def test_units_keep_the_required_settings():
    service = (UNITS / "igmedia-fcgi.service").read_text()
    socket = (UNITS / "igmedia-fcgi.socket").read_text()
    for line in ("StandardInput=socket", "StandardOutput=journal", "EnvironmentFile=/etc/igmedia/igmedia.env",
                 f"ExecStart={INSTALLED_BINARY} serve --grace-seconds 10",
                 "KillSignal=SIGTERM", "TimeoutStopSec=15", "Restart=on-failure", "MemoryDenyWriteExecute=yes"):
        assert f"\n{line}\n" in service, line
    for line in ("ListenStream=/run/igmedia/fcgi.sock", "SocketMode=0660"):
        assert f"\n{line}\n" in socket, line


def deny_write_execute() -> None:
    """Runs in the child before exec: the kernel's form of MemoryDenyWriteExecute=yes."""
    pr_set_mdwe, pr_mdwe_refuse_exec_gain = 65, 1
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(pr_set_mdwe, pr_mdwe_refuse_exec_gain, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def test_responder_runs_with_memory_deny_write_execute(make_stack):
    try:
        subprocess.run(["true"], preexec_fn=deny_write_execute, check=True)
    except subprocess.SubprocessError:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    stack = make_stack(responder_preexec=deny_write_execute)
    assert expect_success(stack.get("/health")) == {"message": "ok"}
    assert expect_success(stack.get("/instagram-callback?code=AQB%23_")) == {"code": "AQB"}
    assert stack.post("/register", {"name": "mdwe"}).status < 500
