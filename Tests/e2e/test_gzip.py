"""GET /photos with Accept-Encoding, through nginx: the responder's pre-compressed gzip body.

The gzip body is made when the responder's feed cache is filled, so these stacks turn that cache
on (the harness turns it off by default). What README "Compression" promises: gzip only for a
client that accepts it, byte-identical to the identity body once decoded; `Vary` on every 200 and
304; a strong ETag per representation (`"…-gz"` for gzip) and a 304 for each; HEAD; never gzip on
errors; and with nginx's microcache on, a client that cannot decode gzip never gets a cached gzip
body (the cache key carries Accept-Encoding).
"""

from __future__ import annotations

import hashlib
import http.client
import re
import uuid
import zlib

import pytest

from harness import JSON_CONTENT_TYPE, REPO, Response, expect_error
from tenant_helpers import make_feed, photos_envelope, register, store_feed

FEED_CACHE_ON = {"FEED_CACHE_TTL_MS": "1000"}


def gunzip(body: bytes) -> bytes:
    """The content of exactly one gzip member (no trailing data, complete)."""
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    content = decoder.decompress(body) + decoder.flush()
    assert decoder.eof and decoder.unused_data == b"", "not exactly one complete gzip member"
    return content


def get(stack, headers: dict[str, str], method: str = "GET") -> Response:
    """One request on its own connection. http.client adds `Accept-Encoding: identity` when the
    caller sends none; here no header means no header."""
    connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        connection.putrequest(method, "/photos", skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        reply = connection.getresponse()
        return Response(reply.status, reply.reason, reply.headers, reply.read())
    finally:
        connection.close()


def tenant_with_feed(stack, label: str = "gzip"):
    """A tenant whose stored feed (50 items, ~24 KB envelope) has the ETag a sync would write."""
    tenant = register(stack)
    feed, _ = make_feed(label)
    store_feed(stack, tenant.id, feed)
    etag = '"' + hashlib.sha256(feed.encode()).hexdigest()[:32] + '"'
    stack.redis_cli("SET", f"instagram:{tenant.id}:photos:etag", etag)
    return tenant, photos_envelope(feed), etag


def gz(etag: str) -> str:
    return etag[:-1] + '-gz"'


def assert_identity(response, body: bytes, etag: str) -> None:
    assert response.status == 200, response
    assert response.header("Content-Encoding") is None
    assert response.header("Vary") == "Accept-Encoding"
    assert response.header("ETag") == etag
    assert response.body == body


def assert_gzip(response, body: bytes, etag: str) -> None:
    assert response.status == 200, response
    assert response.header("Content-Encoding") == "gzip"
    assert response.header("Content-Type") == JSON_CONTENT_TYPE
    assert response.header("Vary") == "Accept-Encoding"
    assert response.header("ETag") == gz(etag)
    assert int(response.header("Content-Length")) == len(response.body)
    assert gunzip(response.body) == body


@pytest.mark.stack_env(**FEED_CACHE_ON)
def test_gzip_only_for_clients_that_accept_it(stack):
    tenant, body, etag = tenant_with_feed(stack)
    compressed = get(stack, {**tenant.auth, "Accept-Encoding": "gzip, deflate, br"})
    assert_gzip(compressed, body, etag)
    assert len(compressed.body) < len(body) / 3, (len(compressed.body), len(body))
    for accept in ("gzip", "GZIP", "x-gzip", "*", "br;q=1, gzip;q=0.5"):
        assert_gzip(get(stack, {**tenant.auth, "Accept-Encoding": accept}), body, etag)
    # Absent, not acceptable, preferred less than identity, or unreadable: identity, never an error.
    assert_identity(get(stack, tenant.auth), body, etag)
    for accept in ("", "gzip;q=0", "identity", "br", "gzip;q=0, *", "*;q=0", "gzip;q=0.5, identity",
                   "gzip;q=banana", "gzip deflate", "gzip;q=2"):
        assert_identity(get(stack, {**tenant.auth, "Accept-Encoding": accept}), body, etag)


@pytest.mark.stack_env(**FEED_CACHE_ON)
def test_each_representation_has_its_own_etag_and_304(stack):
    tenant, _, etag = tenant_with_feed(stack)
    accept_gzip = {**tenant.auth, "Accept-Encoding": "gzip"}
    with stack.session() as session:
        for headers, tag in ((accept_gzip, gz(etag)), (tenant.auth, etag)):
            for condition in (tag, f"W/{tag}", f'"nope", {tag}', "*"):
                response = session.get("/photos", headers={**headers, "If-None-Match": condition})
                assert response.status == 304, (headers, condition, response)
                assert response.body == b""
                assert response.header("ETag") == tag
                assert response.header("Vary") == "Accept-Encoding"
                assert response.header("Content-Encoding") is None
        # One representation's tag does not validate the other.
        crossed = session.get("/photos", headers={**accept_gzip, "If-None-Match": etag})
        assert crossed.status == 200 and crossed.header("Content-Encoding") == "gzip"
        crossed = session.get("/photos", headers={**tenant.auth, "If-None-Match": gz(etag)})
        assert crossed.status == 200 and crossed.header("Content-Encoding") is None


@pytest.mark.stack_env(**FEED_CACHE_ON)
def test_head_describes_the_representation_get_would_send(stack):
    tenant, body, etag = tenant_with_feed(stack)
    compressed = stack.get("/photos", headers={**tenant.auth, "Accept-Encoding": "gzip"}).body
    with stack.session() as session:
        head = session.request("HEAD", "/photos", headers={**tenant.auth, "Accept-Encoding": "gzip"})
        assert head.status == 200 and head.body == b""
        assert head.header("Content-Encoding") == "gzip"
        assert head.header("ETag") == gz(etag)
        assert head.header("Vary") == "Accept-Encoding"
        assert int(head.header("Content-Length")) == len(compressed)
        head = session.request("HEAD", "/photos", headers=tenant.auth)
        assert head.status == 200 and head.header("Content-Encoding") is None
        assert int(head.header("Content-Length")) == len(body)


@pytest.mark.stack_env(**FEED_CACHE_ON)
def test_errors_are_never_compressed(stack):
    accept = {"Accept-Encoding": "gzip"}
    for headers in ({}, {"Authorization": f"Bearer {uuid.uuid4()}"}):
        response = stack.get("/photos", headers={**headers, **accept})
        expect_error(response, 401, "UNAUTHORIZED")
        assert response.header("Content-Encoding") is None
    ghost_token, ghost_id = str(uuid.uuid4()), str(uuid.uuid4())
    stack.redis_cli("SET", f"auth_token:{ghost_token}", ghost_id)
    response = stack.get("/photos", headers={"Authorization": f"Bearer {ghost_token}", **accept})
    expect_error(response, 404, "NOT_FOUND")
    assert response.header("Content-Encoding") is None


def test_with_the_feed_cache_off_every_answer_is_identity(stack):
    tenant, body, etag = tenant_with_feed(stack)
    assert_identity(stack.get("/photos", headers={**tenant.auth, "Accept-Encoding": "gzip"}), body, etag)


def test_the_microcache_keeps_gzip_and_identity_apart(make_stack):
    stack = make_stack(FEED_CACHE_ON, microcache=True)
    tenant, body, etag = tenant_with_feed(stack)
    accept_gzip = {**tenant.auth, "Accept-Encoding": "gzip"}
    log_start = len(stack.responder_log())

    def served_by_responder() -> int:
        return stack.responder_log()[log_start:].count(" path=/photos ")

    # Within the entries' 2 s: a gzip fill, then a client without Accept-Encoding for the same token.
    assert_gzip(get(stack, accept_gzip), body, etag)
    assert_identity(get(stack, tenant.auth), body, etag)
    for _ in range(3):
        assert_gzip(get(stack, accept_gzip), body, etag)
        assert_identity(get(stack, tenant.auth), body, etag)
    # The cache is really on: one fill per variant, the rest answered by nginx (an entry that
    # expired meanwhile on a slow machine may add a refill or two).
    assert 2 <= served_by_responder() <= 4, served_by_responder()
    # nginx answers conditional requests from the cached variant's own ETag.
    assert get(stack, {**accept_gzip, "If-None-Match": gz(etag)}).status == 304
    assert get(stack, {**tenant.auth, "If-None-Match": etag}).status == 304
    crossed = get(stack, {**accept_gzip, "If-None-Match": etag})
    assert crossed.status == 200 and crossed.header("Content-Encoding") == "gzip"
    # nginx would also keep the two apart by the responder's Vary alone; the key does it without
    # relying on that (e.g. should Vary ever be added to fastcgi_ignore_headers).
    keys = set()
    for entry in (stack.nginx.run_dir / "microcache").rglob("*"):
        if entry.is_file():
            keys.update(re.findall(rb"\nKEY: ([^\n]*)\n", entry.read_bytes()[:4096]))
    assert keys == {f"GET|/photos|Bearer {tenant.token}|gzip".encode(), f"GET|/photos|Bearer {tenant.token}|".encode()}


def test_nginx_leaves_compression_to_the_responder():
    locations = (REPO / "nginx" / "igmedia-locations.conf").read_text()
    photos = re.search(r"^location = /photos \{\n(.*?)^\}", locations, re.MULTILINE | re.DOTALL)
    assert photos, "location = /photos not found"
    directives = [line.strip() for line in photos.group(1).splitlines() if line.strip() and not line.strip().startswith("#")]
    assert "gzip off;" in directives
    key = next(line for line in directives if line.startswith("fastcgi_cache_key "))
    assert "$http_accept_encoding" in key and "$http_authorization" in key
    for path in [*(REPO / "nginx").iterdir(), REPO / "bench" / "reference-nginx.conf.template"]:
        for line in path.read_text().splitlines():
            assert not re.match(r"\s*gzip\s+on\s*;", line), f"{path.name}: {line.strip()}"
