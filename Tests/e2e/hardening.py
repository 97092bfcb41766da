"""Shared pieces of the hardening suites (test_hostile_requests, test_faults, test_soak,
test_secrets_everywhere): raw HTTP, the loopback fakes wired into a stack, the `sync` CLI, exact
store reads, secret scans and load loops. Everything targets 127.0.0.1 only; every loop is
bounded by a deadline and a count.
"""

from __future__ import annotations

import http.client
import json
import secrets
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from harness import JSON_CONTENT_TYPE, Response, Stack, expect_success, wait_until
from tenant_helpers import Tenant, register_body

# --- raw HTTP --------------------------------------------------------------------------------


def raw_exchange(port: int, data: bytes, *, method: str = "GET", timeout: float = 15) -> Response:
    """Sends `data` byte for byte on a fresh connection and parses one answer (chunked, HEAD and
    close-delimited bodies included). Nothing is normalised: bad request lines, NUL bytes and
    repeated headers reach nginx exactly as written."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as conn:
        conn.sendall(data)
        reply = http.client.HTTPResponse(conn, method=method)
        reply.begin()
        body = reply.read()
        return Response(reply.status, reply.reason, reply.headers, body)


def raw_request(port: int, method: str, target: str, headers: Iterable[tuple[str, str]] = (),
                body: bytes = b"", *, content_length: bool = True, host: bool = True) -> Response:
    lines = [f"{method} {target} HTTP/1.1"]
    if host:
        lines.append("Host: localhost")
    lines += [f"{name}: {value}" for name, value in headers]
    if content_length and body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return raw_exchange(port, head + body, method=method)


def envelope_problems(response: Response, *, head: bool = False) -> list[str]:
    """Why `response` is not a 4xx JSON failure envelope (empty list: it is one)."""
    problems = []
    if not 400 <= response.status < 500:
        problems.append(f"status {response.status}")
    if response.header("Content-Type") != JSON_CONTENT_TYPE:
        problems.append(f"content type {response.header('Content-Type')!r}")
    if b"<html" in response.body.lower():
        problems.append("nginx HTML page")
    if head:
        if response.body:
            problems.append("HEAD answer with a body")
        return problems
    try:
        envelope = json.loads(response.body)
    except ValueError:
        return problems + [f"body is not JSON: {response.body[:120]!r}"]
    if not isinstance(envelope, dict) or envelope.get("success") is not False:
        problems.append("success is not false")
    elif not isinstance(envelope.get("code"), str) or not envelope["code"]:
        problems.append("no code")
    elif not isinstance(envelope.get("errorMessage"), str):
        problems.append("no errorMessage")
    return problems


# --- the store, exactly ----------------------------------------------------------------------


def store_bytes(stack: Stack, key: str) -> bytes | None:
    """The exact bytes of a string key (redis-cli would strip and re-encode)."""
    from Tests.fakes.resp import RespConnection
    conn = RespConnection("127.0.0.1", stack.redis.port, timeout=5)
    try:
        return conn.execute("GET", key)
    finally:
        conn.close()


def tenant_hash(stack: Stack, tenant_id: str) -> dict[str, str]:
    from Tests.fakes.resp import RespConnection
    conn = RespConnection("127.0.0.1", stack.redis.port, timeout=5)
    try:
        flat = conn.execute("HGETALL", f"tenant:{tenant_id}") or []
    finally:
        conn.close()
    return {flat[i].decode(): flat[i + 1].decode() for i in range(0, len(flat), 2)}


def feed_key(tenant_id: str) -> str:
    return f"instagram:{tenant_id}:photos"


# --- the loopback fakes ----------------------------------------------------------------------


class Fakes:
    """FakeInstagram + FakeCloudinary (+ FakeQStash) with fresh, recognisable credentials."""

    def __init__(self, *, qstash: bool = False):
        from Tests.fakes.cloudinary import FakeCloudinary
        from Tests.fakes.instagram import FakeInstagram
        self.ig_app_secret = "igappsecret" + secrets.token_hex(10)
        self.fb_app_secret = "fbappsecret" + secrets.token_hex(10)
        self.cloudinary_secret = "cldsecret" + secrets.token_hex(12)
        self.instagram = FakeInstagram(ig_app_secret=self.ig_app_secret, fb_app_secret=self.fb_app_secret).start()
        self.cloudinary = FakeCloudinary(cloud_name="hardening", api_key="918273645546372",
                                         api_secret=self.cloudinary_secret).start()
        self.qstash = None
        if qstash:
            from Tests.fakes.qstash import FakeQStash
            self.qstash = FakeQStash(token="qstashtoken" + secrets.token_hex(12), deliver=False).start()

    def env(self) -> dict[str, str]:
        env = {
            "INSTAGRAM_API_URL": self.instagram.api_url,
            "INSTAGRAM_GRAPH_URL": self.instagram.graph_url,
            "FACEBOOK_GRAPH_URL": self.instagram.facebook_url,
            "CLOUDINARY_API_URL": self.cloudinary.base_url,
            "CLOUDINARY_CLOUD_NAME": self.cloudinary.cloud_name,
            "CLOUDINARY_API_KEY": self.cloudinary.api_key,
            "CLOUDINARY_API_SECRET": self.cloudinary_secret,
        }
        if self.qstash is not None:
            env.update({
                "QSTASH_URL": self.qstash.base_url,
                "QSTASH_TOKEN": self.qstash.token,
                "QSTASH_CURRENT_SIGNING_KEY": self.qstash.current_signing_key,
                "QSTASH_NEXT_SIGNING_KEY": self.qstash.next_signing_key,
                "WEBHOOK_BASE_URL": "https://media.hardening.test",
            })
        return env

    def secrets(self) -> list[str]:
        values = [self.ig_app_secret, self.fb_app_secret, self.cloudinary_secret]
        if self.qstash is not None:
            values += [self.qstash.token, self.qstash.current_signing_key, self.qstash.next_signing_key]
        return values

    def reset_faults(self) -> None:
        for fake in (self.instagram, self.cloudinary, self.qstash):
            if fake is not None:
                fake.clear_faults()
                fake.set_latency(0)

    def stop(self) -> None:
        for fake in (self.qstash, self.cloudinary, self.instagram):
            if fake is not None:
                fake.stop()


@dataclass
class IGTenant(Tenant):
    ig_user_id: str = ""
    ig_token: str = ""
    media_ids: list[str] = field(default_factory=list)

    def secrets(self) -> list[str]:
        return super().secrets() + [self.ig_token]


def register_synced(stack: Stack, fakes: Fakes, media_count: int = 6, headers=None) -> IGTenant:
    """An Instagram account on the fake and a tenant registered with its long-lived token: the
    registration runs the first sync (Graph listing + Cloudinary uploads)."""
    account = fakes.instagram.create_account(media_count=media_count)
    token = fakes.instagram.mint_token(account["ig_user_id"], kind="long")
    body = register_body(instagramAccessToken=token, instagramAccountId=account["ig_user_id"])
    data = expect_success(stack.post("/register", body, headers=headers), 201)
    assert "note" not in data, data
    assert data["photosCount"] == media_count, data
    return IGTenant(data["tenantId"], data["authToken"], body, ig_user_id=account["ig_user_id"], ig_token=token,
                    media_ids=list(account["media_ids"]))


def run_sync(binary: Path, stack: Stack, *tenant_ids: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`igmedia-fcgi sync --tenant …` with the stack's configuration; output captured."""
    argv = [str(binary), "sync"]
    for tenant_id in tenant_ids:
        argv += ["--tenant", tenant_id]
    return subprocess.run(argv, env=stack.responder.env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def start_sync(binary: Path, stack: Stack, tenant_id: str, log: Path) -> subprocess.Popen:
    """The same, in the background (its own process group), output to `log`."""
    with open(log, "ab") as out:
        return subprocess.Popen([str(binary), "sync", "--tenant", tenant_id], env=stack.responder.env,
                                stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)


# --- secrets ---------------------------------------------------------------------------------


def leaks(texts: dict[str, str | bytes], values: Iterable[str]) -> list[str]:
    """`where: value…` for every secret value found in any of `texts` (values shown clipped)."""
    found = []
    values = sorted({v for v in values if v and len(v) >= 6})
    for where, text in texts.items():
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        for value in values:
            if value in text:
                found.append(f"{where}: {value[:8]}…")
        if "access_token=" in text:
            found.append(f"{where}: a URL with access_token=")
    return found


def stack_logs(stack: Stack) -> dict[str, str]:
    return {"responder log": stack.responder_log(), "nginx access log": stack.access_log(),
            "nginx error log": stack.error_log()}


# --- load ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    started: float
    finished: float
    status: int  # 0: no HTTP answer
    content_type: str | None
    body: bytes
    error: str | None = None
    n: int = -1  # the request's number, as given to make_request

    @property
    def elapsed(self) -> float:
        return self.finished - self.started


def hammer(port: int, make_request: Callable[[int], tuple[str, str, dict]], *, clients: int, seconds: float,
           max_requests: int, stop: threading.Event | None = None) -> list[Outcome]:
    """`clients` threads, each on its own kept-alive connection, send `make_request(n)` →
    (method, path, headers) until `seconds` pass, `max_requests` are sent or `stop` is set."""
    outcomes: list[Outcome] = []
    lock = threading.Lock()
    counter = iter(range(max_requests))
    deadline = time.monotonic() + seconds
    stop = stop or threading.Event()

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline and not stop.is_set():
            with lock:
                n = next(counter, None)
            if n is None:
                break
            method, path, headers = make_request(n)
            started = time.monotonic()
            try:
                conn.request(method, path, headers=headers)
                reply = conn.getresponse()
                body = reply.read()
                outcome = Outcome(started, time.monotonic(), reply.status, reply.getheader("Content-Type"), body, n=n)
                if reply.getheader("Connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException) as error:
                outcome = Outcome(started, time.monotonic(), 0, None, b"", error=type(error).__name__, n=n)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                outcomes.append(outcome)
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    return sorted(outcomes, key=lambda o: o.started)


def status_counts(outcomes: Iterable[Outcome]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return dict(sorted(counts.items()))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def wait_for_key(stack: Stack, key: str, *, present: bool, timeout: float) -> None:
    wait_until(lambda: (stack.redis_cli("EXISTS", key) == "1") == present, timeout=timeout,
               what=f"{key} {'to appear' if present else 'to disappear'}")
