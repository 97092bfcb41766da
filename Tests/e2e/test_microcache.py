"""The nginx feed microcache (nginx/igmedia-microcache.conf; off unless switched on).

With the cache on, nginx answers repeated GET /photos of one token from a cache keyed on the
method, the URI, the whole Authorization value and the Accept-Encoding value, storing only 200
responses for 2 s. These tests prove what README "Feed microcache" promises: a token only ever
receives its own feed, 401 and 404 are never cached, and a feed change or a deleted tenant is seen
within the bound, also while the token is under concurrent load. test_gzip.py shows that gzip and
identity answers never share an entry.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid

import pytest

from harness import REPO, Session, Stack, expect_error, expect_success
from test_nginx_config import nginx_test, render_production

# README "Feed microcache": entries live 2 s on nginx's whole-second clock, so a feed is at most
# 3 s stale (plus one in-flight request). The tests allow one more second of scheduling slack.
STALE_BOUND_SECONDS = 3
SLACK_SECONDS = 1


@pytest.fixture
def cached_stack(make_stack):
    """redis-server + igmedia-fcgi + nginx rendered with `render-nginx-conf --microcache`."""
    return make_stack(microcache=True)


def register(stack: Stack, name: str) -> tuple[str, str]:
    """A tenant without Instagram credentials (so no sync): (auth token, tenant id)."""
    data = expect_success(stack.post("/register", {
        "name": name, "instagramAccountId": "17841400000000001", "instagramAccountSecret": "s",
        "apiType": "INSTAGRAM_LOGIN",
    }), 201)
    return data["authToken"], data["tenantId"]


def feed(label: str) -> list[dict]:
    return [{"id": f"{label}-{n}", "mediaUrl": f"https://cdn.example/{label}/{n}.jpg", "caption": label,
             "mediaType": "IMAGE", "permalink": f"https://instagram.example/p/{label}{n}"} for n in range(3)]


def set_feed(stack: Stack, tenant_id: str, items: list[dict], etag: str) -> None:
    stack.redis_cli("SET", f"instagram:{tenant_id}:photos", json.dumps(items, separators=(",", ":")))
    stack.redis_cli("SET", f"instagram:{tenant_id}:photos:etag", f'"{etag}"')


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def photos(session: Session, token: str):
    return session.get("/photos", headers=bearer(token))


def test_each_token_always_gets_its_own_feed(cached_stack):
    tenants = {}
    for label in ("alpha", "bravo"):
        token, tenant_id = register(cached_stack, f"tenant {label}")
        set_feed(cached_stack, tenant_id, feed(label), label)
        tenants[label] = token
    wrong: list[str] = []

    def alternate(offset: int) -> None:
        labels = ["alpha", "bravo"] if offset % 2 == 0 else ["bravo", "alpha"]
        with cached_stack.session() as session:
            for n in range(150):
                label = labels[n % 2]
                response = photos(session, tenants[label])
                if response.status != 200 or response.json()["data"]["photos"] != feed(label):
                    wrong.append(f"{label}: {response.status} {response.body[:120]!r}")

    threads = [threading.Thread(target=alternate, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []


def test_the_cache_is_on_and_a_feed_change_appears_within_the_bound(cached_stack):
    token, tenant_id = register(cached_stack, "changing tenant")
    set_feed(cached_stack, tenant_id, feed("v1"), "v1")
    with cached_stack.session() as session:
        assert expect_success(photos(session, token))["photos"] == feed("v1")
        set_feed(cached_stack, tenant_id, feed("v2"), "v2")
        changed = time.monotonic()
        # Still the cached copy right after the change: the cache is really on.
        assert expect_success(photos(session, token))["photos"] == feed("v1")
        deadline = changed + STALE_BOUND_SECONDS + SLACK_SECONDS
        while time.monotonic() < deadline:
            if expect_success(photos(session, token))["photos"] == feed("v2"):
                break
            time.sleep(0.05)
        else:
            pytest.fail(f"the new feed did not appear within {STALE_BOUND_SECONDS + SLACK_SECONDS} s")


def test_401_is_never_cached(cached_stack):
    token, tenant_id = register(cached_stack, "401 tenant")
    set_feed(cached_stack, tenant_id, feed("t401"), "t401")
    with cached_stack.session() as session:
        expect_error(session.get("/photos"), 401, "UNAUTHORIZED")
        # An unknown token is a 401 ...
        future = str(uuid.uuid4())
        expect_error(photos(session, future), 401, "UNAUTHORIZED")
        expect_error(photos(session, future), 401, "UNAUTHORIZED")
        # ... and as soon as it maps to a tenant it reads that tenant's feed: nothing was cached.
        cached_stack.redis_cli("SET", f"auth_token:{future}", tenant_id)
        assert expect_success(photos(session, future))["photos"] == feed("t401")
        # The registered token, asked for after all those 401s, works too.
        assert expect_success(photos(session, token))["photos"] == feed("t401")


def test_404_is_never_cached(cached_stack):
    ghost_token, ghost_id = str(uuid.uuid4()), str(uuid.uuid4())
    cached_stack.redis_cli("SET", f"auth_token:{ghost_token}", ghost_id)
    with cached_stack.session() as session:
        expect_error(photos(session, ghost_token), 404, "NOT_FOUND")
        cached_stack.redis_cli("HSET", f"tenant:{ghost_id}", "name", "ghost")
        set_feed(cached_stack, ghost_id, feed("ghost"), "ghost")
        assert expect_success(photos(session, ghost_token))["photos"] == feed("ghost")


def test_a_deleted_tenant_stops_reading_within_the_bound_even_under_load(cached_stack):
    token, tenant_id = register(cached_stack, "deleted tenant")
    set_feed(cached_stack, tenant_id, feed("gone"), "gone")
    assert expect_success(cached_stack.get("/photos", headers=bearer(token)))["photos"] == feed("gone")
    # Concurrent readers of the same token keep the entry busy: a cache that served stale
    # copies while refreshing ("use_stale updating") would keep answering 200 indefinitely.
    observed: list[tuple[float, int]] = []
    stop = threading.Event()

    def reader() -> None:
        with cached_stack.session() as session:
            while not stop.is_set():
                response = photos(session, token)
                observed.append((time.monotonic(), response.status))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        cached_stack.redis_cli("DEL", f"auth_token:{token}", f"tenant:{tenant_id}")
        deleted = time.monotonic()
        time.sleep(STALE_BOUND_SECONDS + SLACK_SECONDS + 1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    late = [at - deleted for at, status in observed if status == 200 and at > deleted]
    statuses = {status for _, status in observed}
    # 404 while the responder's token cache (AUTH_CACHE_TTL_SECONDS) still maps the token to the
    # deleted tenant, 401 after; never a 200 past the bound.
    assert statuses <= {200, 401, 404}, statuses
    assert [status for at, status in observed if at > deleted + STALE_BOUND_SECONDS + SLACK_SECONDS], \
        "no request was observed after the bound"
    assert max(late, default=0) <= STALE_BOUND_SECONDS + SLACK_SECONDS, \
        f"a deleted tenant was still read {max(late):.2f} s after deletion"


def test_if_none_match_is_answered_from_the_cache(cached_stack):
    token, tenant_id = register(cached_stack, "etag tenant")
    set_feed(cached_stack, tenant_id, feed("etag"), "etag-1")
    with cached_stack.session() as session:
        first = photos(session, token)
        assert first.status == 200 and first.header("ETag") == '"etag-1"'
        again = session.get("/photos", headers={**bearer(token), "If-None-Match": '"etag-1"'})
        assert again.status == 304, again
        other = session.get("/photos", headers={**bearer(token), "If-None-Match": '"something-else"'})
        assert other.status == 200 and other.json()["data"]["photos"] == feed("etag")


def test_only_photos_is_cached(cached_stack):
    # /health passes every time: each answer carries its own request id.
    ids = {cached_stack.get("/health").header("X-Request-Id") for _ in range(3)}
    assert len(ids) == 3


def test_the_cache_is_off_by_default(stack):
    token, tenant_id = register(stack, "uncached tenant")
    set_feed(stack, tenant_id, feed("u1"), "u1")
    with stack.session() as session:
        assert expect_success(photos(session, token))["photos"] == feed("u1")
        set_feed(stack, tenant_id, feed("u2"), "u2")
        assert expect_success(photos(session, token))["photos"] == feed("u2")
        # The responder itself still answers conditional requests.
        assert session.get("/photos", headers={**bearer(token), "If-None-Match": '"u2"'}).status == 304


def test_render_with_microcache_passes_nginx_t(tmp_path):
    conf = tmp_path / "nginx.conf"
    subprocess.run([
        str(REPO / "scripts" / "render-nginx-conf"), "--http-port", "8080", "--fcgi-socket",
        str(tmp_path / "fcgi.sock"), "--run-dir", str(tmp_path), "--output", str(conf), "--microcache",
    ], check=True)
    text = conf.read_text()
    assert f"fastcgi_cache_path {tmp_path}/microcache " in text
    assert "/run/nginx-igmedia-microcache" not in text
    result = nginx_test(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def test_production_config_with_microcache_passes_nginx_t(tmp_path):
    wrapper = render_production(tmp_path, fcgi_socket=tmp_path / "fcgi.sock", http_port=8080, https_port=8443)
    on = (REPO / "nginx" / "igmedia-microcache.conf").read_text()
    assert on.count("/run/nginx-igmedia-microcache") == 1
    (tmp_path / "igmedia-microcache.conf").write_text(
        on.replace("/run/nginx-igmedia-microcache", str(tmp_path / "microcache")))
    site = tmp_path / "igmedia.conf"
    off_include = f"include {REPO / 'nginx' / 'igmedia-microcache-off.conf'};"
    assert site.read_text().count(off_include) == 1
    site.write_text(site.read_text().replace(off_include, f"include {tmp_path / 'igmedia-microcache.conf'};"))
    result = nginx_test(wrapper, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[emerg]" not in result.stderr, result.stderr
