"""The store goes away and comes back: 503 SERVICE_UNAVAILABLE from the responder within
REDIS_TIMEOUT_MS (never nginx's 502/504, never a 500), then 200 again with no responder restart.

Upstash: the FakeUpstash stays up and answers 500 while its redis-server is gone, or misbehaves
on purpose (scripted faults: HTML 502, 503, dropped connections, a reply slower than the timeout).
"""

import json
import signal
import time
import uuid

import pytest

from harness import expect_error, expect_success, free_port
from tenant_helpers import Tenant, assert_log_clean, make_feed, photos_envelope, register, register_body, store_feed

TIMEOUT_MS = 500
BUDGET_S = TIMEOUT_MS / 1000 + 1.0
ENV = {"REDIS_TIMEOUT_MS": str(TIMEOUT_MS)}
# next-capabilities §4.5's VALID vector: well formed, so the callback must look its user up.
META_VALID = (b"signed_request=umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGly"
              b"ZXMiOjE3MDAwMDM2MDAsImlzc3VlZF9hdCI6MTcwMDAwMDAwMCwidXNlcl9pZCI6IjEwMjIzMzQ0NTU2Njc3ODg5In0")


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def expect_unavailable(stack, tenant, rounds: int = 3) -> None:
    """GET /photos and POST /register: the responder's 503 envelope, each within the budget."""
    for _ in range(rounds):
        for what, call in (
            ("GET /photos", lambda: stack.get("/photos", headers=tenant.auth)),
            ("POST /register", lambda: stack.post("/register", register_body())),
            # The lifecycle routes: 503 too, and nothing half done (the store is not there to write).
            ("GET /tenant", lambda: stack.get("/tenant", headers=tenant.auth)),
            ("GET /tenant (management)", lambda: stack.get("/tenant", headers=tenant.manage)),
            ("POST /tenant/rotate-auth-token", lambda: stack.post("/tenant/rotate-auth-token", headers=tenant.manage)),
            ("DELETE /tenant", lambda: stack.request("DELETE", "/tenant", headers=tenant.manage)),
            ("GET /meta/data-deletion/:code", lambda: stack.get("/meta/data-deletion/del0123456789")),
            ("POST /meta/deauthorize", lambda: stack.post("/meta/deauthorize", META_VALID,
                                                          headers={"Content-Type": "application/x-www-form-urlencoded"})),
        ):
            response, elapsed = timed(call)
            assert response.status not in (500, 502, 504), (what, response)
            expect_error(response, 503, "SERVICE_UNAVAILABLE")
            assert response.header("X-Request-Id"), f"{what}: expected the responder's 503, not nginx's"
            assert elapsed < BUDGET_S, f"{what} took {elapsed:.2f}s (REDIS_TIMEOUT_MS={TIMEOUT_MS})"
    # Requests that never touch the store keep working meanwhile.
    assert expect_success(stack.get("/health")) == {"message": "ok"}
    expect_error(stack.get("/photos"), 401, "UNAUTHORIZED")
    expect_error(stack.post("/register", b"[]"), 400, "VALIDATION_FAILED")


def expect_recovered(stack, tenant, feed) -> None:
    """The same token sees its feed again (several times: pooled connections were all replaced)."""
    for _ in range(3):
        response = stack.get("/photos", headers=tenant.auth)
        assert response.status == 200, response
        assert response.body == photos_envelope(feed)
    again = register(stack)
    expect_success(stack.get("/photos", headers=again.auth))


def seeded(make_stack, backend):
    stack = make_stack(ENV, backend=backend)
    tenant = register(stack)
    feed, _ = make_feed("outage", count=5)
    store_feed(stack, tenant.id, feed)
    # Warm the responder's connection pool, so dead pooled connections are met later.
    with stack.session() as session:
        for _ in range(10):
            assert session.get("/photos", headers=tenant.auth).status == 200
    # dump.rdb in the server's --dir: the restarted redis-server loads the same data.
    assert stack.redis_cli("SAVE") == "OK"
    return stack, tenant, feed


def test_redis_killed_then_restarted_on_the_same_port(make_stack, backend):
    stack, tenant, feed = seeded(make_stack, backend)
    responder_pid = stack.responder.pid

    stack.redis.kill()
    expect_unavailable(stack, tenant)

    stack.redis.restart()
    expect_recovered(stack, tenant, feed)
    assert stack.responder.pid == responder_pid and stack.responder.process.poll() is None
    assert_log_clean(stack, *tenant.secrets())


def test_redis_restarted_between_requests_costs_no_failed_request(make_stack, backend):
    """Every pooled connection dies while idle; the next requests must not be the ones to notice."""
    from concurrent.futures import ThreadPoolExecutor

    stack, tenant, feed = seeded(make_stack, backend)
    with ThreadPoolExecutor(max_workers=8) as pool:  # several pooled connections, not one
        assert all(r.status == 200 for r in pool.map(lambda _: stack.get("/photos", headers=tenant.auth), range(32)))
    stack.redis.kill()
    stack.redis.restart()
    if stack.upstash is not None:
        stack.upstash.pool.close()  # the fake's own stale connections (real Upstash has none)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: stack.get("/photos", headers=tenant.auth), range(32)))
    assert [r.status for r in responses] == [200] * 32, responses
    assert all(r.body == photos_envelope(feed) for r in responses)
    register(stack)


def test_redis_hung_then_resumed(make_stack, backend):
    """SIGSTOP: connections are accepted by the kernel but nothing answers, so only the timeout helps."""
    stack, tenant, feed = seeded(make_stack, backend)
    stack.redis.send(signal.SIGSTOP)
    try:
        expect_unavailable(stack, tenant, rounds=2)
    finally:
        stack.redis.send(signal.SIGCONT)
    expect_recovered(stack, tenant, feed)
    assert_log_clean(stack, *tenant.secrets())


def test_requests_during_the_outage_are_answered_concurrently(make_stack, backend):
    """Eight clients at once while redis hangs: each still answered within the budget."""
    from concurrent.futures import ThreadPoolExecutor

    stack, tenant, feed = seeded(make_stack, backend)
    stack.redis.send(signal.SIGSTOP)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda _: timed(lambda: stack.get("/photos", headers=tenant.auth)), range(8)))
    finally:
        stack.redis.send(signal.SIGCONT)
    for response, elapsed in results:
        expect_error(response, 503, "SERVICE_UNAVAILABLE")
        assert elapsed < BUDGET_S, f"{elapsed:.2f}s"
    expect_recovered(stack, tenant, feed)


# --- Upstash misbehaving on its own --------------------------------------------------------------

UPSTASH_FAULTS = {
    "html 502 page": {"action": "html", "status": 502},
    "503 json": {"status": 503, "body": {"error": "service unavailable"}},
    "500 json": {"status": 500, "body": {"error": "internal"}},
    "429 too many requests": {"status": 429, "body": {"error": "ERR max requests limit exceeded"}},
    "connection closed": {"action": "close"},
    "connection reset": {"action": "reset"},
    "slower than REDIS_TIMEOUT_MS": {"action": "delay", "delay_ms": TIMEOUT_MS * 4},
}


@pytest.mark.parametrize("fault", list(UPSTASH_FAULTS))
def test_upstash_failures_are_503_and_pass(make_stack, fault):
    stack, tenant, feed = seeded(make_stack, "upstash")
    stack.upstash.add_fault(dict(UPSTASH_FAULTS[fault], count=-1))
    expect_unavailable(stack, tenant, rounds=1)
    stack.upstash.clear_faults()
    expect_recovered(stack, tenant, feed)
    assert_log_clean(stack, *tenant.secrets(), stack.responder.env["UPSTASH_REDIS_REST_TOKEN"])


def test_upstash_endpoint_refusing_connections_then_listening(make_stack):
    """Nothing listens at UPSTASH_REDIS_REST_URL (connection refused) until an endpoint appears there.

    (Stopping a running FakeUpstash would not do: its handler threads keep serving the
    responder's kept-alive connections.)"""
    from Tests.fakes.upstash import FakeUpstash

    port = free_port()
    stack = make_stack(dict(ENV, UPSTASH_REDIS_REST_URL=f"http://127.0.0.1:{port}"), backend="upstash")
    token = stack.responder.env["UPSTASH_REDIS_REST_TOKEN"]
    unknown = Tenant(id="none", token=str(uuid.uuid4()), body={}, management="igmt_" + "A" * 43)
    expect_unavailable(stack, unknown, rounds=2)
    late = FakeUpstash(redis_host="127.0.0.1", redis_port=stack.redis.port, token=token, port=port).start()
    try:
        tenant = register(stack)
        feed, _ = make_feed("late", count=2)
        store_feed(stack, tenant.id, feed)
        assert stack.get("/photos", headers=tenant.auth).body == photos_envelope(feed)
        expect_error(stack.get("/photos", headers=unknown.auth), 401, "UNAUTHORIZED")
    finally:
        late.stop()
    assert_log_clean(stack, *tenant.secrets(), token)


def test_upstash_outage_writes_nothing_half_done(make_stack):
    """POST /register fails while the fake answers 503 to /multi-exec: no partial tenant appears."""
    stack, tenant, _ = seeded(make_stack, "upstash")
    keys_before = sorted(stack.redis_cli("--scan").splitlines())
    stack.upstash.add_fault({"match": {"path": "/multi-exec"}, "status": 503, "body": {"error": "busy"}, "count": -1})
    expect_error(stack.post("/register", register_body()), 503, "SERVICE_UNAVAILABLE")
    stack.upstash.clear_faults()
    assert sorted(stack.redis_cli("--scan").splitlines()) == keys_before
    sent = [json.loads(r.body) for r in stack.upstash.requests(path_prefix="/multi-exec")]
    assert sent, "registration goes through /multi-exec"
    assert_log_clean(stack, *tenant.secrets())
