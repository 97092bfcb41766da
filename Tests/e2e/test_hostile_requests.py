"""Hostile requests against every route, sent as raw bytes: each one is a 4xx JSON failure envelope
(`Content-Type: application/json; charset=utf-8`, `success:false`, a code) whoever answers it,
nginx or the responder; never a 5xx, never nginx's HTML, and the store's key count is unchanged.

One stack per backend takes the whole table, with every optional group on (QStash and Cloudinary
configured against a closed loopback port, REGISTRATION_SECRET set) so every route is live. The
/register body rules have their own table in test_register_validation.py: here /register only
meets transport-level and authorization attacks.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import pytest

from hardening import envelope_problems, raw_exchange, raw_request, stack_logs, leaks
from harness import UNREACHABLE_URL, expect_success
from tenant_helpers import bearer, dbsize, make_feed, register, store_feed

MAX_BODY_BYTES = 4096
REGISTRATION_SECRET = "regsecret" + secrets.token_hex(12)
JSON = ("Content-Type", "application/json")
ENV = {
    "MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    "REGISTRATION_SECRET": REGISTRATION_SECRET,
    "QSTASH_URL": UNREACHABLE_URL,
    "QSTASH_TOKEN": "qstashtoken" + secrets.token_hex(10),
    "QSTASH_CURRENT_SIGNING_KEY": "sig_" + secrets.token_hex(16),
    "QSTASH_NEXT_SIGNING_KEY": "sig_" + secrets.token_hex(16),
    "WEBHOOK_BASE_URL": "https://media.hardening.test",
    "CLOUDINARY_CLOUD_NAME": "hardening",
    "CLOUDINARY_API_KEY": "918273645546372",
    "CLOUDINARY_API_SECRET": "cldsecret" + secrets.token_hex(12),
    "ADMIN_SECRET": "adminsecret" + secrets.token_hex(16),
}


@dataclass
class Case:
    method: str
    target: str = "/"
    headers: tuple = ()
    body: bytes = b""
    status: int | tuple = 400
    raw: bytes | None = None  # the whole request, byte for byte
    length: bool = True       # send a Content-Length for `body`


def case(name, method, target="/", headers=(), body=b"", status=400, *, raw=None, length=True, xfail=None):
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(method, target, tuple(headers), body, status, raw, length), id=name, marks=marks)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


NONE_JWT = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJVcHN0YXNoIn0."  # {"alg":"none"}.{"iss":"Upstash"}.
REG = ("Authorization", "Bearer {REG}")
MGMT = ("Authorization", "Bearer {A_M}")
ADMIN = ("Authorization", "Bearer {ADMIN}")
SYNC = ("Authorization", "Bearer {SYNC}")
FORM = ("Content-Type", "application/x-www-form-urlencoded")
# The reference's TAMPERED vector (next-capabilities §4.5): well formed, signature does not verify.
TAMPERED = (b"signed_request=umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGly"
            b"ZXMiOjE3MDAwMDM2MDAsImlzc3VlZF9hdCI6MTcwMDAwMDAwMCwidXNlcl9pZCI6IjEwMjIzMzQ0NTU2Njc3ODgwIn0")

CASES = [
    # --- Malformed, mistyped and oversized bodies, per route -------------------------------------
    case("obtain-token truncated json", "POST", "/auth/obtain-token", [JSON], b'{"code":"x",'),
    case("sync truncated json", "POST", "/sync", [JSON], b'{"secret":'),
    case("register truncated json", "POST", "/register", [JSON, REG], b'{"name":'),
    case("obtain-token json array", "POST", "/auth/obtain-token", [JSON], b"[]"),
    case("sync json string", "POST", "/sync", [JSON], b'"secret"'),
    case("obtain-token text/plain", "POST", "/auth/obtain-token", [("Content-Type", "text/plain")],
         b'{"embedUrl":"https://x.test/","code":"c","instagramAppId":"1","instagramAppSecret":"s"}'),
    case("sync form-encoded", "POST", "/sync", [("Content-Type", "application/x-www-form-urlencoded")], b"secret=x"),
    case("sync multipart", "POST", "/sync", [("Content-Type", "multipart/form-data; boundary=b")],
         b'--b\r\nContent-Disposition: form-data; name="secret"\r\n\r\nx\r\n--b--\r\n'),
    case("sync no content type", "POST", "/sync", [], b'{"secret":"x"}'),
    case("obtain-token invalid utf-8", "POST", "/auth/obtain-token", [JSON], b'{"code":"\xff\xfe\xc3"}'),
    case("sync invalid utf-8", "POST", "/sync", [JSON], b'{"secret":"\xc3\x28"}'),
    case("sync NUL bytes", "POST", "/sync", [JSON], b"\x00\x00\x00\x00"),
    case("sync NUL inside a string", "POST", "/sync", [JSON], b'{"secret":"a\x00b"}'),
    case("obtain-token 1500-deep nesting", "POST", "/auth/obtain-token", [JSON], b'{"code":' + nested(1500) + b"}"),
    case("sync 2000-deep nesting", "POST", "/sync", [JSON], nested(2000)),
    case("obtain-token over MAX_BODY_BYTES", "POST", "/auth/obtain-token", [JSON],
         b'{"code":"' + b"c" * MAX_BODY_BYTES + b'"}', 413),
    case("webhook over client_max_body_size", "POST", "/sync/process/{B_ID}", [JSON], b"x" * (1024 * 1024 + 10), 413),
    # --- The security review (issue [2/6]; test_security_review.py reproduces each) -----------------
    case("webhook body over 4 KiB", "POST", "/sync/process/{B_ID}", [JSON], b'{"tenantId":"' + b"x" * 4100 + b'"}', 413),
    case("sync body over 4 KiB", "POST", "/sync", [JSON], b'{"secret":"x","pad":[' + b"0," * 2100 + b"0]}", 413),
    case("webhook dot segment", "POST", "/sync/./process/{B_ID}", [JSON], b"{}", 404),
    case("webhook merged slashes", "POST", "/sync//process/{B_ID}", [JSON], b"{}", 404),
    case("webhook encoded letter, unsigned", "POST", "/sync/process/%61{B_ID}", [JSON], b"{}", 401),
    case("refresh announcing 5 MB with Expect", "POST", "/auth/refresh-token",
         [JSON, ("Expect", "100-continue"), ("Content-Length", "5000000")], status=413, length=False),
    case("register chunked broken json", "POST", "/register", status=400, raw=(
        b"POST /register HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {REG}\r\nContent-Type: application/json"
        b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{\"na:\r\n0\r\n\r\n")),
    case("sync chunked bad chunk size", "POST", "/sync", raw=(
        b"POST /sync HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")),
    case("chunked plus content-length", "POST", "/register", raw=(
        b"POST /register HTTP/1.1\r\nHost: localhost\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n0\r\n\r\n")),
    case("content-length not a number", "POST", "/sync", raw=(
        b"POST /sync HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\nConnection: close\r\n\r\n")),
    case("content-length negative", "POST", "/sync", raw=(
        b"POST /sync HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\nConnection: close\r\n\r\n")),
    case("two content-lengths", "POST", "/sync", raw=(
        b"POST /sync HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nContent-Length: 3\r\n"
        b"Connection: close\r\n\r\n{}")),
    # --- Huge headers and long targets -------------------------------------------------------------
    case("one 20 KB header", "GET", "/photos", [("X-Padding", "a" * 20_000)]),
    case("40 headers of 1 KB", "GET", "/health", [(f"X-Padding-{i}", "a" * 1000) for i in range(40)]),
    case("12 KB Authorization", "POST", "/auth/refresh-token", [("Authorization", "Bearer " + "a" * 12_000)]),
    case("20 KB cookie", "GET", "/photos", [("Cookie", "session=" + "c" * 20_000)]),
    case("6 KB Authorization", "GET", "/photos", [("Authorization", "Bearer " + "a" * 6000)], status=401),
    case("20 KB query string", "GET", "/instagram-callback?code=" + "a" * 20_000, status=414),
    case("7 KB query string", "GET", "/photos?x=" + "a" * 7000, [("Authorization", "Bearer {A}x")], status=401),
    case("3000-char tenant id", "POST", "/sync/process/" + "a" * 3000, [JSON], b"{}", 401),
    # --- Paths: traversal, encoded slashes, NUL ----------------------------------------------------
    case("webhook ..%2F..%2Fetc", "POST", "/sync/process/..%2F..%2Fetc", [JSON], b"{}", 404),
    case("webhook %2e%2e", "POST", "/sync/process/%2e%2e", [JSON], b"{}", 404),
    case("webhook a%2Fb", "POST", "/sync/process/a%2Fb", [JSON], b"{}", 400),
    case("webhook %252e%252e", "POST", "/sync/process/%252e%252e", [JSON], b"{}", 401),
    case("webhook %00", "POST", "/sync/process/%00", [JSON], b"{}", 400),
    case("webhook id%00", "POST", "/sync/process/{B_ID}%00", [JSON], b"{}", 400),
    case("webhook invalid utf-8 id", "POST", "/sync/process/%ff%fe", [JSON], b"{}", 400),
    case("webhook tenant:*", "POST", "/sync/process/tenant:*", [JSON], b"{}", 401),
    case("raw /../../etc/passwd", "GET", "/../../etc/passwd"),
    case("photos/%2e%2e/health", "GET", "/photos/%2e%2e/health"),
    case("photos%00", "GET", "/photos%00", [("Authorization", "Bearer {A}")]),
    case("raw NUL in the path", "GET", raw=b"GET /pho\x00tos HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    case("raw space in the path", "GET", raw=b"GET /pho tos HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    case("internal error page by name", "GET", "/.igmedia-errors/400", status=404),
    # --- Authorization: repeated, empty, other tenants', injection-looking -------------------------
    case("two Authorization headers", "GET", "/photos", [("Authorization", "Bearer {A}"), ("Authorization", "Bearer {B}")]),
    case("refresh with two Authorization", "POST", "/auth/refresh-token",
         [("Authorization", "Bearer {A}"), ("Authorization", "Bearer {B}")]),
    case("empty Authorization", "GET", "/photos", [("Authorization", "")], status=401),
    case("Bearer and nothing", "GET", "/photos", [("Authorization", "Bearer ")], status=401),
    case("two tokens in one header", "GET", "/photos", [("Authorization", "Bearer {A} {B}")], status=401),
    case("Basic scheme", "POST", "/auth/refresh-token", [("Authorization", "Basic {A}")], status=401),
    case("token ' OR 1=1 --", "GET", "/photos", [("Authorization", "Bearer ' OR 1=1 --")], status=401),
    case('token {"$gt":""}', "GET", "/photos", [("Authorization", 'Bearer {"$gt":""}')], status=401),
    case("token *", "POST", "/auth/refresh-token", [("Authorization", "Bearer *")], status=401),
    case("token tenant:*", "GET", "/photos", [("Authorization", "Bearer tenant:*")], status=401),
    case("token auth_token:*", "GET", "/photos", [("Authorization", "Bearer auth_token:*")], status=401),
    case("tenant id as token", "GET", "/photos", [("Authorization", "Bearer {A_ID}")], status=401),
    case("tenant token as registration secret", "POST", "/register", [JSON, ("Authorization", "Bearer {A}")],
         b'{"name":"Mallory","instagramAccountId":"1","instagramAccountSecret":"s","apiType":"INSTAGRAM_LOGIN"}', 401),
    case("tenant token as sync secret", "POST", "/sync", [JSON], b'{"secret":"{A}"}', 401),
    case('sync secret {"$gt":""}', "POST", "/sync", [JSON], b'{"secret":{"$gt":""}}', 401),
    case("sync secret ' OR 1=1 --", "POST", "/sync", [JSON], b'{"secret":"\' OR 1=1 --"}', 401),
    case("sync secret *", "POST", "/sync", [JSON], b'{"secret":"*"}', 401),
    case("webhook with a tenant Bearer", "POST", "/sync/process/{B_ID}", [JSON, ("Authorization", "Bearer {A}")], b"{}", 401),
    case("webhook token as signature", "POST", "/sync/process/{B_ID}", [JSON, ("Upstash-Signature", "{A}")], b"{}", 401),
    case("webhook alg=none JWT", "POST", "/sync/process/{B_ID}", [JSON, ("Upstash-Signature", NONE_JWT)], b"{}", 401),
    case("obtain-token injection strings", "POST", "/auth/obtain-token", [JSON],
         b'{"embedUrl":"\' OR 1=1 --","code":{"$gt":""},"instagramAppId":"*","instagramAppSecret":"tenant:*"}'),
    # --- CRLF and NUL in query and header values ---------------------------------------------------
    case("CRLF in the query", "GET", "/photos?x=%0d%0aSet-Cookie:%20a=b", [("Authorization", "Bearer {A}x")], status=401),
    case("CRLF in error_description", "GET",
         "/instagram-callback?error=x&error_description=%0d%0aSet-Cookie:%20a=b%0d%0a", status=400),
    case("callback code with NUL", "GET", "/instagram-callback?code=a%00b", status=400),
    case("callback code with CRLF", "GET", "/instagram-callback?code=a%0d%0aSet-Cookie:%20x=y", status=400),
    case("raw obs-fold header", "GET", raw=(
        b"GET /photos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer x\r\n {A}\r\nConnection: close\r\n\r\n")),
    case("raw NUL in a header value", "GET", raw=(
        b"GET /photos HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {A}\x00\r\nConnection: close\r\n\r\n")),
    case("raw tab in a header name", "GET", raw=(
        b"GET /photos HTTP/1.1\r\nHost: localhost\r\nAuth\torization: Bearer {A}\r\nConnection: close\r\n\r\n")),
    # --- Methods and request targets ---------------------------------------------------------------
    case("HEAD photos without a token", "HEAD", "/photos", status=401),
    case("OPTIONS photos", "OPTIONS", "/photos", status=405),
    case("OPTIONS *", "OPTIONS", "*"),
    case("TRACE health", "TRACE", "/health", status=405),
    case("PATCH register", "PATCH", "/register", [JSON, REG], b"{}", 405),
    case("DELETE photos", "DELETE", "/photos", [("Authorization", "Bearer {A}")], status=405),
    case("PUT sync", "PUT", "/sync", [JSON], b'{"secret":"x"}', 405),
    case("GET sync", "GET", "/sync", status=405),
    case("GET webhook", "GET", "/sync/process/{B_ID}", status=405),
    case("made-up method", "FOO", "/health", status=405),
    case("lowercase method", "get", "/health"),
    case("CONNECT", "CONNECT", "localhost:443"),
    case("absolute-form photos", "GET", "http://evil.example/photos", status=401),
    case("absolute-form webhook", "POST", "https://evil.example/sync/process/{B_ID}", [JSON], b"{}", 401),
    case("absolute-form traversal", "GET", "http://evil.example/../../etc/passwd"),
    case("HTTP/1.1 without Host", "GET", raw=b"GET /health HTTP/1.1\r\nConnection: close\r\n\r\n"),
    # --- Tenant lifecycle: the auth token reads, only the management token changes -------------------
    case("replace token with the auth token", "PUT", "/tenant/instagram-token", [JSON, ("Authorization", "Bearer {A}")],
         b'{"instagramAccessToken":"IGAAx"}', 403),
    case("rotate with the auth token", "POST", "/tenant/rotate-auth-token", [("Authorization", "Bearer {A}")], status=403),
    case("delete with the auth token", "DELETE", "/tenant", [("Authorization", "Bearer {A}")], status=403),
    case("delete without a token", "DELETE", "/tenant", status=401),
    case("delete with a wildcard token", "DELETE", "/tenant", [("Authorization", "Bearer *")], status=401),
    case("tenant with the registration secret", "GET", "/tenant", [REG], status=401),
    case("replace token truncated json", "PUT", "/tenant/instagram-token", [JSON, MGMT], b'{"instagramAccessToken":'),
    case("replace token json array", "PUT", "/tenant/instagram-token", [JSON, MGMT], b"[]"),
    case("replace token text/plain", "PUT", "/tenant/instagram-token", [("Content-Type", "text/plain"), MGMT],
         b'{"instagramAccessToken":"IGAAx"}'),
    case("replace token with whitespace", "PUT", "/tenant/instagram-token", [JSON, MGMT], b'{"instagramAccessToken":"a b"}'),
    case("replace token 9 KB body", "PUT", "/tenant/instagram-token", [JSON, MGMT],
         b'{"instagramAccessToken":"' + b"A" * 9000 + b'"}', 413),
    case("PATCH tenant", "PATCH", "/tenant", [JSON, MGMT], b"{}", 405),
    case("GET rotate", "GET", "/tenant/rotate-auth-token", [MGMT], status=405),
    # --- Sync run status (Bearer: the sync secret) -------------------------------------------------------
    case("run status without a bearer", "GET", "/sync/runs/current", status=401),
    case("run status with a tenant token", "GET", "/sync/runs/last", [("Authorization", "Bearer {A}")], status=401),
    case("run status with the admin secret", "GET", "/sync/runs/last", [ADMIN], status=401),
    case("run status with the sync secret as Basic", "GET", "/sync/runs/last", [("Authorization", "Basic {SYNC}")],
         status=401),
    case("run status with the sync secret and more", "GET", "/sync/runs/last", [("Authorization", "Bearer {SYNC}x")],
         status=401),
    case("run status wildcard bearer", "GET", "/sync/runs/*", [("Authorization", "Bearer *")], status=401),
    case("run status unknown run", "GET", "/sync/runs/r1700000000000-000000000000", [SYNC], status=404),
    case("run status key injection", "GET", "/sync/runs/current:queue", [SYNC], status=404),
    case("run status uppercase id", "GET", "/sync/runs/R1700000000000-ABCDEF", [SYNC], status=404),
    case("run status 200-character id", "GET", "/sync/runs/" + "a" * 200, [SYNC], status=404),
    case("run status traversal", "GET", "/sync/runs/..%2F..%2Ftenants", [SYNC], status=(400, 404)),
    case("run status NUL in the id", "GET", "/sync/runs/a%00b", [SYNC], status=(400, 404)),
    case("POST run status", "POST", "/sync/runs/current", [JSON, SYNC], b"{}", 405),
    case("DELETE run status", "DELETE", "/sync/runs/last", [SYNC], status=405),
    case("run status 2 KB body", "GET", "/sync/runs/last", [JSON, SYNC], b'{"x":"' + b"A" * 2048 + b'"}', 413),
    # --- Admin API ---------------------------------------------------------------------------------------
    case("admin without the secret", "GET", "/admin/tenants", status=401),
    case("admin with the registration secret", "GET", "/admin/tenants", [REG], status=401),
    case("admin delete without the secret", "DELETE", "/admin/tenants/{A_ID}", status=401),
    case("admin bad limit", "GET", "/admin/tenants?limit=-1", [ADMIN]),
    case("admin bad state", "GET", "/admin/tenants?state=%00", [ADMIN]),
    case("admin forged cursor", "GET", "/admin/tenants?cursor=a:..%2F..", [ADMIN]),
    case("admin unknown tenant", "GET", "/admin/tenants/nope-nope-nope", [ADMIN], status=404),
    case("admin tenant id with a NUL", "GET", "/admin/tenants/a%00b", [ADMIN], status=(400, 404)),
    # --- Meta's callbacks: refused before anything changes -----------------------------------------------
    case("deauthorize forged signature", "POST", "/meta/deauthorize", [FORM], TAMPERED, 401),
    case("data deletion forged signature", "POST", "/meta/data-deletion", [FORM], TAMPERED, 401),
    case("deauthorize empty form", "POST", "/meta/deauthorize", [FORM], b""),
    case("deauthorize no dot", "POST", "/meta/deauthorize", [FORM], b"signed_request=abc"),
    case("deauthorize bad percent-encoding", "POST", "/meta/deauthorize", [FORM], b"signed_request=%zz"),
    case("deauthorize json array", "POST", "/meta/deauthorize", [JSON], b"[]"),
    case("deauthorize no content type", "POST", "/meta/deauthorize", [], TAMPERED),
    case("deauthorize invalid utf-8", "POST", "/meta/deauthorize", [FORM], b"signed_request=\xff\xfe.\xc3"),
    case("data deletion 9 KB body", "POST", "/meta/data-deletion", [FORM], b"signed_request=" + b"A" * 9000, 413),
    case("data deletion status of an unknown code", "GET", "/meta/data-deletion/del0123456789", status=404),
    case("data deletion status traversal", "GET", "/meta/data-deletion/%2e%2e", status=400),
    case("Host with a path", "GET", raw=b"GET /health HTTP/1.1\r\nHost: ../../x\r\nConnection: close\r\n\r\n"),
]

# Protocol refusals whose correct status is a 5xx (RFC 9110): still nginx's JSON envelope.
PROTOCOL_5XX = {
    "HTTP/2.0 request line": (b"GET /health HTTP/2.0\r\nHost: localhost\r\n\r\n", 505),
    "unknown Transfer-Encoding": (b"POST /sync HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n"
                                  b"Connection: close\r\n\r\n", 501),
}


@pytest.fixture(scope="module", params=["redis", "upstash"])
def target(request, start_stack_in, tmp_path_factory):
    stack = start_stack_in(tmp_path_factory.mktemp("hostile") / "stack", ENV, backend=request.param)
    try:
        a, b = (register(stack, headers=bearer(REGISTRATION_SECRET), instagramAccessToken=None) for _ in range(2))
        management = {"{A_M}": a.management, "{ADMIN}": ENV["ADMIN_SECRET"],
                      "{SYNC}": stack.responder.env["SYNC_INTERNAL_SECRET"]}
        for tenant in (a, b):
            store_feed(stack, tenant.id, make_feed(tenant.id[:8], count=3)[0])
        values = {"{A}": a.token, "{B}": b.token, "{A_ID}": a.id, "{B_ID}": b.id, "{REG}": REGISTRATION_SECRET,
                  **management}
        yield stack, values, (a, b)
        # Afterwards: the same responder still serves both tenants, nothing went wrong upstream
        # of nginx, and no token reached a log.
        assert stack.responder.process.poll() is None
        for tenant in (a, b):
            assert expect_success(stack.get("/photos", headers=tenant.auth))["photos"][0]["id"].startswith(tenant.id[:8])
        assert "upstream" not in stack.error_log(), stack.error_log()[-2000:]
        assert "unhandled error" not in stack.responder_log()
        assert leaks(stack_logs(stack), [a.token, b.token, a.management, REGISTRATION_SECRET, ENV["QSTASH_TOKEN"],
                                         ENV["ADMIN_SECRET"], stack.responder.env["SYNC_INTERNAL_SECRET"]]) == []
    finally:
        stack.stop()


def fill(text, values):
    for name, value in values.items():
        text = text.replace(name, value) if isinstance(text, str) else text.replace(name.encode(), value.encode())
    return text


@pytest.mark.parametrize("hostile", CASES)
def test_hostile_request_is_a_4xx_json_envelope(target, hostile: Case):
    stack, values, _ = target
    before = dbsize(stack)
    if hostile.raw is not None:
        response = raw_exchange(stack.port, fill(hostile.raw, values), method=hostile.method)
    else:
        headers = [(name, fill(value, values)) for name, value in hostile.headers]
        response = raw_request(stack.port, hostile.method, fill(hostile.target, values), headers,
                               fill(hostile.body, values), content_length=hostile.length)
    assert envelope_problems(response, head=hostile.method == "HEAD") == [], response
    expected = hostile.status if isinstance(hostile.status, tuple) else (hostile.status,)
    assert response.status in expected, response
    assert response.header("Set-Cookie") is None, response.headers
    request_id = response.header("X-Request-Id")
    assert request_id is None or re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    assert dbsize(stack) == before, "a rejected request wrote to the store"


@pytest.mark.parametrize("name", list(PROTOCOL_5XX))
def test_protocol_refusals_are_json_too(target, name):
    stack, _, _ = target
    data, status = PROTOCOL_5XX[name]
    before = dbsize(stack)
    response = raw_exchange(stack.port, data, method="GET")
    assert response.status == status, response
    assert envelope_problems(response) == [f"status {status}"], response
    assert dbsize(stack) == before


def test_a_client_request_id_is_never_echoed(target):
    stack, values, _ = target
    response = raw_request(stack.port, "GET", "/photos", [("X-Request-Id", "forged\tid"), ("Authorization", "Bearer *")])
    assert response.status == 401 and re.fullmatch(r"[0-9a-f]{32}", response.header("X-Request-Id")), response.headers


def test_the_table_is_large_and_covers_every_route():
    targets = {param.values[0].target.split("?")[0] for param in CASES}
    raw_targets = {param.values[0].raw.split(b" ")[1].decode("latin-1") for param in CASES if param.values[0].raw}
    routes = {"/health", "/instagram-callback", "/auth/obtain-token", "/auth/refresh-token", "/register", "/photos",
              "/sync", "/sync/process/{B_ID}", "/sync/runs/current"}
    assert routes <= targets | raw_targets, routes - targets - raw_targets
    assert len(CASES) >= 40
