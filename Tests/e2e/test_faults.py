"""Faults end to end through nginx: the store dies under load, Instagram and Cloudinary misbehave
during syncs, a sync is SIGKILLed half way, the responder gets SIGTERM under load.

Every load loop is bounded by a deadline and a request count; every address is loopback.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from hardening import (Fakes, feed_key, hammer, leaks, register_synced, run_sync, stack_logs, start_sync,
                       status_counts, store_bytes, tenant_hash, wait_for_key)
from harness import JSON_CONTENT_TYPE, expect_success, wait_until
from sync_support import expect_accepted_run, run_status, wait_for_run
from tenant_helpers import make_feed, photos_envelope, register, store_feed

TIMEOUT_MS = 500
IG_TIMEOUT_MS = 800


def timeline(events: list[tuple[float, callable]]) -> threading.Thread:
    """Runs each `(seconds from now, action)` in order on a thread of its own."""
    start = time.monotonic()

    def run():
        for at, action in events:
            time.sleep(max(0.0, start + at - time.monotonic()))
            action()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --- The store dies under load ---------------------------------------------------------------------

@pytest.mark.parametrize("fault,backend", [("sigkill", "redis"), ("sigkill", "upstash"), ("sigstop", "redis")])
def test_store_outage_under_load_is_503_within_the_timeout_then_200(make_stack, fault, backend, summary):
    stack = make_stack({"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)}, backend=backend)
    tenants, bodies = [], []
    for index in range(8):
        tenant = register(stack, instagramAccessToken=None)  # no first sync: nothing calls Instagram
        feed, _ = make_feed(f"load{index}", count=4)
        store_feed(stack, tenant.id, feed)
        tenants.append(tenant)
        bodies.append(photos_envelope(feed))
    assert stack.redis_cli("SAVE") == "OK"  # the restarted redis-server loads the same data
    pid = stack.responder.pid
    marks = {}

    def down():
        marks["down"] = time.monotonic()
        stack.redis.kill() if fault == "sigkill" else stack.redis.send(signal.SIGSTOP)

    def up():
        if fault == "sigkill":
            stack.redis.restart()
            if stack.upstash is not None:
                stack.upstash.pool.close()  # the fake's own dead connections (real Upstash keeps none)
        else:
            stack.redis.send(signal.SIGCONT)
        marks["up"] = time.monotonic()

    events = timeline([(1.5, down), (3.5, up)])
    try:
        outcomes = hammer(stack.port, lambda n: ("GET", "/photos", tenants[n % 8].auth), clients=32, seconds=6,
                          max_requests=60_000)
    finally:
        events.join(timeout=15)
        stack.redis.send(signal.SIGCONT)
    counts = status_counts(outcomes)
    failures = [o for o in outcomes if o.status != 200]
    slowest = max((o.elapsed for o in failures), default=0.0)
    summary(f"store {fault} under load ({backend}): {len(outcomes)} requests {counts}, "
            f"slowest non-200 {slowest * 1000:.0f} ms (REDIS_TIMEOUT_MS={TIMEOUT_MS})")
    assert set(counts) <= {200, 503}, counts  # no 500, no nginx 502/504, no dropped connection
    assert counts.get(503, 0) > 0, "the outage was not seen"
    assert slowest < TIMEOUT_MS / 1000 + 0.5, f"a 503 took {slowest:.2f}s"
    for outcome in failures:
        assert outcome.content_type == JSON_CONTENT_TYPE and json.loads(outcome.body)["code"] == "SERVICE_UNAVAILABLE"
    # Every 200 is the requesting tenant's own feed, byte for byte: no reply crossed over from a
    # connection that timed out.
    wrong = [o.n for o in outcomes if o.status == 200 and o.body != bodies[o.n % 8]]
    assert wrong == [], f"{len(wrong)} answers carried another tenant's or a garbled feed"
    assert any(o.status == 200 for o in outcomes if o.finished < marks["down"])
    settled = [o for o in outcomes if o.started > marks["up"] + 1.0]
    assert settled and all(o.status == 200 for o in settled), status_counts(settled)
    assert stack.responder.pid == pid and stack.responder.process.poll() is None
    assert "upstream" not in stack.error_log()


# --- Instagram and Cloudinary misbehave during syncs ---------------------------------------------------

@pytest.fixture(scope="module")
def synced(start_stack_in, tmp_path_factory, igmedia_bin):
    """A stack wired to FakeInstagram + FakeCloudinary and a tenant whose first sync succeeded."""
    fakes = Fakes()
    stack = start_stack_in(tmp_path_factory.mktemp("faults") / "stack",
                           dict(fakes.env(), INSTAGRAM_API_TIMEOUT_MS=str(IG_TIMEOUT_MS)))
    try:
        tenant = register_synced(stack, fakes, media_count=6)
        yield stack, fakes, tenant
    finally:
        stack.stop()
        fakes.stop()


GRAPH_URL_ECHO = "GRAPH_URL_ECHO"
INSTAGRAM_FAULTS = {
    "429 throttled": {"preset": "throttle", "params": {"status": 429}},
    "500 transient": {"preset": "transient"},
    "503 plain": {"status": 503, "body": {"error": "unavailable"}},
    "502 html": {"action": "html"},
    "garbage 200": {"action": "garbage"},
    "truncated json": {"action": "truncate"},
    "wrong shape 200": {"status": 200, "body": {"data": "not a list", "paging": 7}},
    "graph error inside a 200": {"status": 200, "body": {"error": {"message": "boom", "code": 2}}},
    "timeout": {"action": "delay", "delay_ms": IG_TIMEOUT_MS + 700},
    "headers then a slow body": {"action": "slow_body", "delay_after_ms": IG_TIMEOUT_MS + 700},
    "connection reset": {"action": "reset"},
    "connection closed": {"action": "close"},
    "token revoked on page 2": {"preset": "token_invalidated", "match": {"query_has": ["after"]}},
    "error echoing the token and url": GRAPH_URL_ECHO,
}


def revive(stack, tenant_id: str) -> None:
    """These tests share one tenant; a fault that was a Graph 190 marked its token dead (as it
    should), and a throttle paused the app and deferred the tenant (as it should): either would
    keep every later sync from calling Instagram at all."""
    stack.redis_cli("HDEL", f"tenant:{tenant_id}", "token_invalid", "rate_limited_until", "rate_limit_strikes")
    stack.redis_cli("SREM", "tenants:invalid", tenant_id)
    stack.redis_cli("DEL", "ratelimit:graph:app")


# Meta's throttle defers the tenant (RATE_LIMITED), it does not fail it.
RATE_LIMITED_FAULTS = {"429 throttled"}


def instagram_fault(name: str, tenant, fakes) -> dict:
    spec = INSTAGRAM_FAULTS[name]
    if spec == GRAPH_URL_ECHO:
        url = f"{fakes.instagram.graph_url}/v23.0/me/media?access_token={tenant.ig_token}&limit=50"
        spec = {"status": 400, "body": {"error": {"message": f"Invalid token {tenant.ig_token} for {url}",
                                                  "type": "OAuthException", "code": 190}}}
    return dict(spec, path_prefix="/graph", count=-1)


def check_sync_failed(stack, fakes, tenant, before: tuple, outputs: dict) -> str:
    """The feed and its ETag are byte-for-byte what they were; last_error says why; no secret
    in `outputs` or in any log."""
    assert (store_bytes(stack, feed_key(tenant.id)), store_bytes(stack, feed_key(tenant.id) + ":etag")) == before
    last_error = tenant_hash(stack, tenant.id).get("last_error", "")
    assert "instagram" in last_error, last_error
    secrets = tenant.secrets() + fakes.secrets() + [stack.responder.env["ENCRYPTION_KEY"]]
    assert leaks(dict(outputs, **stack_logs(stack), last_error=last_error), secrets) == []
    return last_error


@pytest.mark.parametrize("name", list(INSTAGRAM_FAULTS))
def test_instagram_fault_during_a_cli_sync_leaves_the_feed_untouched(synced, igmedia_bin, name):
    stack, fakes, tenant = synced
    fakes.reset_faults()
    fakes.instagram.max_limit = 3 if name == "token revoked on page 2" else 100  # paging only there
    stack.redis_cli("HDEL", f"tenant:{tenant.id}", "last_error")
    revive(stack, tenant.id)
    before = (store_bytes(stack, feed_key(tenant.id)), store_bytes(stack, feed_key(tenant.id) + ":etag"))
    assert before[0] and before[1]
    fakes.instagram.add_fault(instagram_fault(name, tenant, fakes))
    try:
        started = time.monotonic()
        result = run_sync(igmedia_bin, stack, tenant.id)
        elapsed = time.monotonic() - started
    finally:
        fakes.reset_faults()
        fakes.instagram.max_limit = 100
    if name in RATE_LIMITED_FAULTS:  # deferred, not failed: exit 0
        assert result.returncode == 0, (result.stdout, result.stderr)
        assert f"later  {tenant.id} deferred: Meta's rate limit" in result.stdout and "FAILED" not in result.stdout, \
            result.stdout
        assert "1 deferred (rate limited)" in result.stdout, result.stdout
    else:
        assert result.returncode == 1, (result.stdout, result.stderr)
        assert f"FAILED {tenant.id}" in result.stdout
    last_error = check_sync_failed(stack, fakes, tenant, before, {"stdout": result.stdout, "stderr": result.stderr})
    if name in RATE_LIMITED_FAULTS:
        assert "deferred: Meta's rate limit" in last_error, last_error
        assert tenant_hash(stack, tenant.id).get("last_error_code") == "RATE_LIMITED"
    assert elapsed < 3 * (IG_TIMEOUT_MS / 1000 + 0.8) + 2, f"{elapsed:.1f}s: the timeout did not bound the sync"


@pytest.mark.parametrize("name", ["500 transient", "garbage 200", "timeout", "error echoing the token and url"])
def test_instagram_fault_during_post_sync_direct_mode(synced, name):
    stack, fakes, tenant = synced
    fakes.reset_faults()
    stack.redis_cli("HDEL", f"tenant:{tenant.id}", "last_error")
    revive(stack, tenant.id)
    before = (store_bytes(stack, feed_key(tenant.id)), store_bytes(stack, feed_key(tenant.id) + ":etag"))
    fakes.instagram.add_fault(instagram_fault(name, tenant, fakes))
    secret = stack.responder.env["SYNC_INTERNAL_SECRET"]
    try:
        # 202 at once; the fault stays until the background run is done.
        response = stack.post("/sync", {"secret": secret})
        accepted = expect_accepted_run(response)
        run = wait_for_run(stack, secret, accepted["runId"], timeout=30)
        status = run_status(stack, secret, accepted["runId"])
    finally:
        fakes.reset_faults()
    assert (run["queued"], run["synced"], run["failed"], run["deferred"]) == (1, 0, 1, 0), run
    [error] = run["recentErrors"]
    assert error.startswith(f"{tenant.id}: ") and "instagram" in error, run
    check_sync_failed(stack, fakes, tenant, before, {"response": response.body, "run status": status.body})


CLOUDINARY_FAULTS = {
    "420 rate limited": {"preset": "rate_limited"},
    "500 general error": {"preset": "general_error"},
    "503 unavailable": {"preset": "unavailable"},
    "401 unauthorized": {"preset": "unauthorized"},
    "502 html": {"action": "html"},
    "garbage 200": {"action": "garbage"},
    "truncated json": {"action": "truncate"},
    "connection reset": {"action": "reset"},
    "error echoing the secret": "ECHO",
}


@pytest.mark.parametrize("name", list(CLOUDINARY_FAULTS))
def test_cloudinary_fault_keeps_instagram_urls_for_new_items_only(synced, igmedia_bin, name):
    """An upload failure is per item: the new post is served from Instagram's URL, every mirrored
    post keeps its CDN URL, the sync succeeds, and the next sync mirrors the new post."""
    stack, fakes, tenant = synced
    fakes.reset_faults()
    revive(stack, tenant.id)
    old = {item["id"]: item for item in json.loads(store_bytes(stack, feed_key(tenant.id)))}
    new_id = fakes.instagram.add_media(tenant.ig_user_id, {"media_type": "IMAGE", "caption": f"new {name}"})
    spec = CLOUDINARY_FAULTS[name]
    if spec == "ECHO":
        spec = {"status": 400, "body": {"error": {"message": f"Invalid Signature. String to sign - "
                                                             f"'public_id=x{fakes.cloudinary_secret}'."}}}
    fakes.cloudinary.add_fault(dict(spec, path_prefix="/v1_1/", count=-1))
    try:
        result = run_sync(igmedia_bin, stack, tenant.id)
    finally:
        fakes.reset_faults()
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert "failed=1" in result.stdout, result.stdout
    feed = {item["id"]: item for item in json.loads(store_bytes(stack, feed_key(tenant.id)))}
    assert set(feed) == set(old) | {new_id}
    assert all(feed[i] == old[i] for i in old), "a failed upload changed an already mirrored item"
    assert feed[new_id]["mediaUrl"].startswith(fakes.instagram.cdn_url), feed[new_id]
    secrets = tenant.secrets() + fakes.secrets()
    assert leaks({"stdout": result.stdout, "stderr": result.stderr, **stack_logs(stack)}, secrets) == []

    retry = run_sync(igmedia_bin, stack, tenant.id)
    assert retry.returncode == 0 and "uploaded=1" in retry.stdout and "failed=0" in retry.stdout, retry.stdout
    mirrored = {item["id"]: item for item in json.loads(store_bytes(stack, feed_key(tenant.id)))}
    assert mirrored[new_id]["mediaUrl"].startswith(fakes.cloudinary.base_url), mirrored[new_id]


# --- A sync killed half way ------------------------------------------------------------------------

def photos_reader(stack, tenant, stop: threading.Event) -> tuple[threading.Thread, list]:
    seen: list = []
    thread = threading.Thread(target=lambda: seen.extend(
        hammer(stack.port, lambda n: ("GET", "/photos", tenant.auth), clients=2, seconds=40, max_requests=40_000,
               stop=stop)), daemon=True)
    thread.start()
    return thread, seen


def check_reader(seen: list, counts: set[int]) -> None:
    ok = [o for o in seen if o.status == 200]
    assert ok, status_counts(seen)
    lengths = set()
    for outcome in ok:
        photos = json.loads(outcome.body)["data"]["photos"]  # complete JSON, or this raises
        lengths.add(len(photos))
    assert lengths <= counts, f"a reader saw feeds of {sorted(lengths)} items; only {sorted(counts)} were ever stored"


@pytest.mark.parametrize("victim", ["sync subprocess", "responder"])
def test_sync_killed_half_way_lock_expires_next_sync_completes(make_stack, igmedia_bin, tmp_path, victim):
    fakes = Fakes()
    try:
        stack = make_stack(dict(fakes.env(), SYNC_LOCK_TTL_SECONDS="5", INSTAGRAM_API_TIMEOUT_MS="10000"))
        tenant = register_synced(stack, fakes, media_count=6)
        old = store_bytes(stack, feed_key(tenant.id))
        for _ in range(2):
            fakes.instagram.add_media(tenant.ig_user_id, {"media_type": "IMAGE"})
        fakes.cloudinary.add_fault({"path_prefix": "/v1_1/", "delay_ms": 4000, "count": -1})  # slow uploads
        lock = f"lock:sync:{tenant.id}"
        stop = threading.Event()
        reader, seen = photos_reader(stack, tenant, stop)
        posted: list = []
        try:
            if victim == "sync subprocess":
                process = start_sync(igmedia_bin, stack, tenant.id, tmp_path / "sync.log")
            else:
                # POST /sync answers 202 at once; the run syncs the tenant inside the responder.
                secret = stack.responder.env["SYNC_INTERNAL_SECRET"]
                posted.append(stack.post("/sync", {"secret": secret}))
                accepted = expect_accepted_run(posted[0])
            wait_until(lambda: fakes.cloudinary.requests(path_prefix="/v1_1/"), timeout=10, what="the first upload")
            wait_for_key(stack, lock, present=True, timeout=1)
            if victim == "sync subprocess":
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
            else:
                stack.responder.process.kill()
                stack.responder.process.wait(timeout=5)
                stack.responder.start()
            ttl = int(stack.redis_cli("PTTL", lock))
            assert 0 < ttl <= 5000, ttl
            assert store_bytes(stack, feed_key(tenant.id)) == old, "a killed sync changed the feed"
            fakes.reset_faults()
            wait_for_key(stack, lock, present=False, timeout=7)
            if victim == "sync subprocess":
                result = run_sync(igmedia_bin, stack, tenant.id)
                assert result.returncode == 0 and "photos=8" in result.stdout, result.stdout
            else:
                # The dead responder's run is still in progress: a new trigger joins it.
                again = expect_accepted_run(stack.post("/sync", {"secret": secret}))
                assert (again["runId"], again["started"]) == (accepted["runId"], False), again
                # Its tenant is taken over once idle for --reclaim-after (the timer's command).
                result = subprocess.run(
                    [str(igmedia_bin), "sync", "--all", "--reclaim-after", "1", "--verbose"], env=stack.responder.env,
                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
                assert result.returncode == 0, (result.stdout, result.stderr)
                assert f"run {accepted['runId']}: joined" in result.stdout, result.stdout
                assert f"ok     {tenant.id} photos=8" in result.stdout, result.stdout
                run = wait_for_run(stack, secret, accepted["runId"], timeout=10)
                assert (run["queued"], run["synced"], run["failed"]) == (1, 1, 0), run
            time.sleep(0.5)  # the reader sees the new feed
        finally:
            stop.set()
            reader.join(timeout=30)
        check_reader(seen, {6, 8})
        assert any(len(json.loads(o.body)["data"]["photos"]) == 8 for o in seen if o.status == 200)
        assert set(status_counts(seen)) <= ({200} if victim == "sync subprocess" else {200, 502}), status_counts(seen)
        if victim == "responder":  # answered before the responder died
            assert [r.status for r in posted] == [202] and posted[0].header("Content-Type") == JSON_CONTENT_TYPE
    finally:
        fakes.stop()


# --- SIGTERM under load ----------------------------------------------------------------------------

def test_sigterm_under_load_finishes_in_flight_requests(make_stack, summary):
    grace = 8
    stack = make_stack({"REDIS_TIMEOUT_MS": "5000"}, grace_seconds=grace)
    tenant = register(stack, instagramAccessToken=None)
    feed, _ = make_feed("term", count=3)
    store_feed(stack, tenant.id, feed)
    stop = threading.Event()

    def sleeper():  # redis answers nothing for 0.3 s at a time: every request is slow
        for _ in range(40):
            if stop.is_set():
                return
            stack.redis.cli("DEBUG", "SLEEP", "0.3")

    slow = threading.Thread(target=sleeper, daemon=True)
    slow.start()
    marks = {}

    def term():
        marks["term"] = time.monotonic()
        stack.responder.send(signal.SIGTERM)

    events = timeline([(1.5, term)])
    outcomes = hammer(stack.port, lambda n: ("GET", "/photos", tenant.auth), clients=12, seconds=3.5,
                      max_requests=5000)
    events.join(timeout=5)
    exit_status = stack.responder.wait(timeout=grace + 5)
    stop.set()
    slow.join(timeout=5)
    in_flight = [o for o in outcomes if o.started < marks["term"] - 0.05]
    later = [o for o in outcomes if o.started >= marks["term"] - 0.05]
    summary(f"SIGTERM under load: {len(in_flight)} in flight {status_counts(in_flight)}, "
            f"{len(later)} after {status_counts(later)}, exit {exit_status}")
    assert exit_status == 0, stack.responder_log()[-2000:]
    assert "stopped cleanly" in stack.responder_log()
    assert in_flight and max(o.elapsed for o in in_flight) > 0.2, "the requests were not slow"
    assert status_counts(in_flight) == {200: len(in_flight)}, status_counts(in_flight)
    assert all(o.body == photos_envelope(feed) for o in in_flight)
    # Requests that arrive once the responder stopped listening are nginx's JSON 502: never a
    # dropped connection, never HTML.
    assert set(status_counts(later)) <= {200, 502}, status_counts(later)
    assert all(o.content_type == JSON_CONTENT_TYPE for o in later)
