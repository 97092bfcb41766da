"""The responder's two worker pools, and how it stops on a socket it shares with systemd.

- Accepting threads (one per CPU by default) answer the store-only routes; routes that wait on
  Instagram, Cloudinary or QStash are handed to a bounded outbound pool. Slow outbound calls must
  not hold up GET /photos, and a full outbound queue answers 503 with Retry-After at once.
- A listening socket inherited on fd 0 (systemd `StandardInput=socket`) is shared with the socket
  unit: after SIGTERM it must still listen, so the next instance serves what queued meanwhile.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from harness import JSON_CONTENT_TYPE, Nginx, RedisServer, Session, expect_error, expect_success, responder_env, \
    wait_until
from sync_support import cloudinary, instagram, sync_env  # noqa: F401 - fixtures

SLOW_MS = 1200
# A well-formed obtain-token request: the responder calls the Instagram fake, which answers after
# SLOW_MS (the code is unknown, so the exchange fails; what matters here is how long it waits).
OBTAIN = {"embedUrl": "https://example.com/embed", "code": "unknown-code", "instagramAppSecret": "app-secret",
          "instagramAppId": "1234567890"}


def timed(call):
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


def test_slow_outbound_requests_do_not_hold_up_the_feed_and_a_full_queue_answers_503(make_stack, instagram,
                                                                                       cloudinary):  # noqa: F811
    stack = make_stack(sync_env(instagram, cloudinary), workers=1,
                       responder_args=("--outbound-workers", "2", "--outbound-queue", "2"))
    registered = expect_success(stack.post("/register", {
        "name": "pools", "instagramAccountId": "17841400000000001", "instagramAccountSecret": "s3cret-account",
        "apiType": "INSTAGRAM_LOGIN"}), 201)
    bearer = {"Authorization": f"Bearer {registered['authToken']}"}
    expect_success(stack.get("/photos", headers=bearer))

    instagram.set_latency(SLOW_MS)
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            # 2 run, 2 wait in the queue, the other 2 find it full.
            outbound = [pool.submit(timed, lambda: stack.post("/auth/obtain-token", OBTAIN)) for _ in range(6)]
            time.sleep(0.3)
            # One accepting thread, and it is never the one waiting on Instagram.
            feed_times = []
            for _ in range(20):
                elapsed, response = timed(lambda: stack.get("/photos", headers=bearer))
                expect_success(response)
                feed_times.append(elapsed)
            results = [future.result(timeout=60) for future in outbound]
    finally:
        instagram.set_latency(0)

    busy = [response for _, response in results if response.status == 503]
    answered = [(elapsed, response) for elapsed, response in results if response.status != 503]
    assert len(busy) == 2, [response for _, response in results]
    for response in busy:
        expect_error(response, 503, "SERVICE_UNAVAILABLE")
        assert response.header("Retry-After") == "5", response.headers
        assert response.header("X-Request-Id"), response.headers
    assert len(answered) == 4
    for elapsed, response in answered:
        assert response.header("Content-Type") == JSON_CONTENT_TYPE and response.status < 502, response
        assert elapsed >= SLOW_MS / 1000 * 0.9, (elapsed, response)
    # The queued two waited for a running one: two rounds of SLOW_MS.
    assert max(elapsed for elapsed, _ in answered) >= 2 * SLOW_MS / 1000 * 0.9
    assert max(feed_times) < 0.5, feed_times
    assert "upstream" not in stack.error_log(), stack.error_log()


def test_sigterm_on_an_inherited_socket_leaves_it_listening_for_the_next_instance(igmedia_bin, tmp_path):
    redis = RedisServer(tmp_path).start()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    socket_path = tmp_path / "fcgi.sock"
    listener.bind(str(socket_path))
    os.chmod(socket_path, 0o660)
    listener.listen(64)
    nginx = None
    instances: list[subprocess.Popen] = []

    def start_instance() -> subprocess.Popen:
        log = open(tmp_path / f"responder{len(instances)}.log", "ab")
        # As systemd's StandardInput=socket does: the listening socket is fd 0.
        process = subprocess.Popen([str(igmedia_bin), "serve", "--grace-seconds", "5"], stdin=listener.fileno(),
                                   stdout=log, stderr=log, env=responder_env(redis.url), start_new_session=True)
        log.close()
        instances.append(process)
        return process

    def health():
        with Session(nginx.port, timeout=30) as session:
            return session.get("/health")

    try:
        (tmp_path / "nginx").mkdir()
        nginx = Nginx.local(tmp_path / "nginx", socket_path).start()
        first = start_instance()
        wait_until(lambda: health().status == 200, timeout=20, what="the first instance")

        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=15) == 0
        # Still listening: before, shutdown() on the shared socket made this refuse.
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        probe.connect(str(socket_path))
        probe.close()

        # A request that arrives between the two instances waits in the queue...
        with ThreadPoolExecutor(max_workers=1) as pool:
            waiting = pool.submit(health)
            time.sleep(0.5)
            assert not waiting.done()
            # ...and the next instance answers it.
            start_instance()
            expect_success(waiting.result(timeout=30))
    finally:
        for process in instances:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        if nginx is not None:
            nginx.stop()
        listener.close()
        redis.stop()
