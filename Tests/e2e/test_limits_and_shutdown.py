"""Body limits, concurrency over kept-alive connections, and a graceful stop under load."""

import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import JSON_CONTENT_TYPE, expect_error

REGISTER_BODY = {
    "name": "load-test", "instagramAccountId": "178", "instagramAccountSecret": "s",
    "apiType": "INSTAGRAM_LOGIN",
}


@pytest.mark.stack_env(MAX_BODY_BYTES="2048")
def test_body_over_max_body_bytes_is_the_responders_413(stack):
    response = stack.post("/register", b"x" * 4096)
    envelope = expect_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "2048" in envelope["errorMessage"]
    assert response.header("X-Request-Id"), "expected the responder's answer, not nginx's"


def test_body_over_client_max_body_size_is_nginxs_413(stack):
    response = stack.post("/register", b"x" * (1024 * 1024 + 1))
    expect_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.header("X-Request-Id") is None, "expected nginx's answer, not the responder's"


@pytest.mark.parametrize("keep_conn", [True, False], ids=["fastcgi_keep_conn-on", "fastcgi_keep_conn-off"])
def test_500_mixed_requests_over_keepalive_all_succeed(make_stack, keep_conn):
    """50 clients x 10 requests on kept-alive connections: GETs, bodies the responder must drain.
    With fastcgi_keep_conn on, nginx also reuses its FastCGI connections (the drain matters), and
    every kept connection pins a worker: sized as the README says (2 nginx workers x keepalive 8
    + 16 concurrent = 32), not the one-per-CPU default meant for keep_conn off."""
    stack = make_stack(keep_conn=keep_conn, workers=32 if keep_conn else None)
    if keep_conn:
        assert "fastcgi_keep_conn on;" in stack.nginx.conf.read_text()

    def client(index: int) -> list[tuple[str, object]]:
        outcomes = []
        with stack.session() as session:
            for turn in range(10):
                kind = ("get", "post-405", "register")[(index + turn) % 3]
                try:
                    if kind == "get":
                        response = session.get("/health")
                    elif kind == "post-405":
                        response = session.post("/health", b'{"ping":true}')
                    else:
                        response = session.post("/register", REGISTER_BODY)
                except Exception as error:  # noqa: BLE001 - every failure is counted, none hidden
                    outcomes.append((kind, error))
                    session.close()
                    continue
                outcomes.append((kind, response))
        return outcomes

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = [outcome for batch in pool.map(client, range(50)) for outcome in batch]

    assert len(outcomes) == 500
    errors = [(kind, result) for kind, result in outcomes if isinstance(result, Exception)]
    assert errors == []
    wrong = []
    for kind, response in outcomes:
        expected_ok = {
            "get": response.status == 200,
            "post-405": response.status == 405,
            # Whatever /register decides (404 until it lands, 201/400/401 after), never a 5xx.
            "register": response.status < 500,
        }[kind]
        answered_by_responder = response.header("X-Request-Id") is not None
        kept_alive = (response.header("Connection") or "").lower() != "close"
        if not (expected_ok and answered_by_responder and kept_alive
                and response.header("Content-Type") == JSON_CONTENT_TYPE):
            wrong.append((kind, response))
    assert wrong == []
    assert "upstream" not in stack.error_log(), stack.error_log()


def test_sigterm_lets_slow_requests_finish(make_stack):
    grace_seconds = 8
    # The token lookups must outlast DEBUG SLEEP rather than time out into a 503.
    stack = make_stack({"REDIS_TIMEOUT_MS": "6000"}, grace_seconds=grace_seconds)
    headers = {"Authorization": "Bearer 00000000-0000-4000-8000-000000000000"}

    # Redis answers nothing for 2 s, so every GET /photos waits on its token lookup.
    sleeper = stack.redis.cli_background("DEBUG", "SLEEP", "2")
    time.sleep(0.1)
    with ThreadPoolExecutor(max_workers=10) as pool:
        started = time.monotonic()
        futures = [pool.submit(stack.get, "/photos", headers) for _ in range(10)]
        time.sleep(0.3)
        stack.responder.send(signal.SIGTERM)
        responses = [future.result(timeout=30) for future in futures]
        finished = time.monotonic() - started
    exit_status = stack.responder.wait(timeout=grace_seconds + 5)
    stopped_after = time.monotonic() - started
    sleeper.wait(timeout=10)

    assert exit_status == 0, stack.responder_log()
    assert stopped_after < grace_seconds + 2
    for response in responses:
        assert response.status < 500, response
        assert response.header("Content-Type") == JSON_CONTENT_TYPE, response
        assert response.json()["success"] in (True, False)

    if all(response.status == 404 for response in responses):
        pytest.xfail("GET /photos is not routed yet: the requests were not slow, so this only "
                     "showed a clean exit")
    assert finished >= 1.5, f"requests took {finished:.2f}s: they did not wait on Redis"
    assert "stopped cleanly" in stack.responder_log()
