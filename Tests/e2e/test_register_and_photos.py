"""POST /register and GET /photos end to end, on both storage backends (native Redis, Upstash REST).

Every test that takes `backend` runs twice: the responder talks RESP to redis-server, or REST to
an in-process FakeUpstash that executes the commands on that same redis-server. The tests read
and write redis-server directly with redis-cli either way.
"""

import base64
import http.client
import uuid

import time

import pytest

from fcgi_client import cgi_params, request as fcgi_request
from harness import expect_error, expect_success
from tenant_helpers import (
    SEALED, SECRET_FIELDS, assert_log_clean, bearer, dbsize, make_feed, photos_envelope,
    register, register_body, store_feed,
)


def test_register_then_empty_feed_then_the_stored_feed_byte_for_byte(stack, backend):
    tenant = register(stack)

    response = stack.get("/photos", headers=tenant.auth)
    assert expect_success(response) == {"photos": []}
    assert response.body == b'{"success":true,"data":{"photos":[]}}'

    feed, items = make_feed("acme")
    assert len(items) == 50
    store_feed(stack, tenant.id, feed)
    response = stack.get("/photos", headers=tenant.auth)
    assert expect_success(response) == {"photos": items}
    assert response.body == photos_envelope(feed), "the stored array must be served byte for byte"

    # A kept-alive connection sees the same thing twice (nothing cached per connection).
    with stack.session() as session:
        for _ in range(2):
            assert session.get("/photos", headers=tenant.auth).body == photos_envelope(feed)
    assert_log_clean(stack, *tenant.secrets())


def test_tenants_only_ever_see_their_own_feed(stack, backend):
    a = register(stack, name="Tenant A")
    b = register(stack, name="Tenant B")
    assert a.id != b.id and a.token != b.token
    assert len({a.id, a.token, b.id, b.token}) == 4

    feed_a, items_a = make_feed("alpha")
    feed_b, items_b = make_feed("bravo", count=7)
    store_feed(stack, a.id, feed_a)
    assert expect_success(stack.get("/photos", headers=b.auth)) == {"photos": []}, "B must not see A's feed"
    store_feed(stack, b.id, feed_b)

    for _ in range(2):  # interleaved, on one kept-alive connection
        with stack.session() as session:
            assert session.get("/photos", headers=a.auth).body == photos_envelope(feed_a)
            assert session.get("/photos", headers=b.auth).body == photos_envelope(feed_b)
    assert "bravo" not in stack.get("/photos", headers=a.auth).body.decode()
    assert "alpha" not in stack.get("/photos", headers=b.auth).body.decode()

    stack.redis_cli("DEL", f"instagram:{a.id}:photos")
    assert expect_success(stack.get("/photos", headers=a.auth)) == {"photos": []}
    assert expect_success(stack.get("/photos", headers=b.auth)) == {"photos": items_b}
    assert items_a != items_b
    assert_log_clean(stack, *a.secrets(), *b.secrets())


def test_concurrent_registrations_are_distinct_tenants(stack, backend):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=10) as pool:
        tenants = list(pool.map(lambda i: register(stack, name=f"Parallel {i}"), range(30)))
    assert len({t.id for t in tenants}) == len({t.token for t in tenants}) == 30
    assert set(stack.redis_cli("SMEMBERS", "tenants").splitlines()) == {t.id for t in tenants}
    # Per tenant: its hash, its auth token, its management token's hash and its account's blind
    # index; plus the tenant index and the set of tenants without an Instagram token.
    assert dbsize(stack) == 4 * 30 + 2
    for tenant in tenants[::7]:
        assert stack.redis_cli("GET", f"auth_token:{tenant.token}") == tenant.id
        expect_success(stack.get("/photos", headers=tenant.auth))


# --- Authentication ------------------------------------------------------------------------------
# One stack per backend for the read-only cases below: a tenant with a feed, so a leak would show.

@pytest.fixture(scope="module", params=["redis", "upstash"])
def shared(request, start_stack_in, tmp_path_factory):
    stack = start_stack_in(tmp_path_factory.mktemp("auth") / "stack", backend=request.param)
    try:
        tenant = register(stack)
        feed, _ = make_feed("secretfeed", count=3)
        store_feed(stack, tenant.id, feed)
        yield stack, tenant, feed
        assert_log_clean(stack, *tenant.secrets())
    finally:
        stack.stop()


UNAUTHORIZED_HEADERS = {
    "no header": lambda t: {},
    "empty header": lambda t: {"Authorization": ""},
    "Basic x": lambda t: {"Authorization": "Basic x"},
    "Basic with the token": lambda t: {"Authorization": "Basic " + base64.b64encode(f"{t.token}:".encode()).decode()},
    "Bearer without token": lambda t: {"Authorization": "Bearer"},
    "Bearer and spaces": lambda t: {"Authorization": "Bearer    "},
    "token without scheme": lambda t: {"Authorization": t.token},
    "Token scheme": lambda t: {"Authorization": f"Token {t.token}"},
    "Bearer: with colon": lambda t: {"Authorization": f"Bearer:{t.token}"},
    "unknown uuid": lambda t: bearer(str(uuid.uuid4())),
    "tenant id instead of token": lambda t: bearer(t.id),
    "token minus last char": lambda t: bearer(t.token[:-1]),
    "token plus a char": lambda t: bearer(t.token + "0"),
    "token then a second word": lambda t: {"Authorization": f"Bearer {t.token} extra"},
    "two tokens merged in one header": lambda t: {"Authorization": f"Bearer {t.token}, Bearer {t.token}"},
    "glob star": lambda t: bearer("*"),
    "glob after a prefix": lambda t: bearer(t.token[:8] + "*"),
    "key injection": lambda t: bearer(f"x tenant:{t.id}"),
    "colon in token": lambda t: bearer(f"auth_token:{t.token}"),
    "odd punctuation": lambda t: bearer("abc$%^&(){}[]|;'\"<>?def"),
    "path traversal": lambda t: bearer("../../../../etc/passwd"),
    "CRLF-looking text": lambda t: bearer("abcdefgh%0d%0aSET"),
    "latin-1 bytes": lambda t: bearer("t\xf6k\xe9n-12345678"),
    "very long": lambda t: bearer("a" * 4000),
    "tab inside": lambda t: {"Authorization": f"Bearer {t.token[:10]}\t{t.token[10:]}"},
}


@pytest.mark.parametrize("case", sorted(UNAUTHORIZED_HEADERS))
def test_photos_rejects_missing_malformed_and_unknown_tokens(shared, case):
    stack, tenant, _ = shared
    before = dbsize(stack)
    response = stack.get("/photos", headers=UNAUTHORIZED_HEADERS[case](tenant))
    expect_error(response, 401, "UNAUTHORIZED")
    assert b"secretfeed" not in response.body
    assert response.header("X-Request-Id"), "expected the responder's 401, not nginx's"
    assert dbsize(stack) == before


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_bearer_scheme_is_case_insensitive(shared, scheme):
    stack, tenant, feed = shared
    response = stack.get("/photos", headers={"Authorization": f"{scheme} {tenant.token}"})
    assert response.status == 200, response
    assert response.body == photos_envelope(feed)


def test_two_authorization_headers_never_authenticate(shared):
    """Both headers carry the valid token. nginx itself rejects the duplicate (400, its own JSON
    page); the responder is checked directly below. Either way: never a 200."""
    stack, tenant, _ = shared
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    try:
        conn.putrequest("GET", "/photos")
        conn.putheader("Authorization", f"Bearer {tenant.token}")
        conn.putheader("Authorization", f"Bearer {tenant.token}")
        conn.endheaders()
        reply = conn.getresponse()
        body = reply.read()
    finally:
        conn.close()
    assert reply.status in (400, 401), (reply.status, body)
    assert reply.getheader("Content-Type") == "application/json; charset=utf-8"
    assert b'"success":false' in body and b"secretfeed" not in body


def test_responder_itself_rejects_two_authorization_params(shared):
    """Straight to the FastCGI socket (as a proxy that does not reject duplicates would send it)."""
    stack, tenant, feed = shared
    auth = ("Authorization", f"Bearer {tenant.token}")
    status, _, body = fcgi_request(stack.responder.socket, cgi_params("GET", "/photos", [auth]))
    assert status == 200 and body == photos_envelope(feed), "control: one header works over FastCGI"
    status, headers, body = fcgi_request(stack.responder.socket, cgi_params("GET", "/photos", [auth, auth]))
    assert status == 401, (status, body)
    assert b'"code":"UNAUTHORIZED"' in body and b"secretfeed" not in body


# Keys removed by hand (not through the API, so not announced on the change stream): the bound is
# AUTH_CACHE_TTL_SECONDS when the stream is not followed.
@pytest.mark.stack_env(AUTH_CACHE_TTL_SECONDS="1", CACHE_CHANGES_POLL_MS="0")
def test_deleted_tenant_hash_is_404_and_deleted_token_is_401(stack, backend):
    kept = register(stack, name="Kept tenant")
    gone = register(stack, name="Deleted tenant")
    feed, _ = make_feed("orphan", count=2)
    store_feed(stack, gone.id, feed)

    assert stack.redis_cli("DEL", f"tenant:{gone.id}") == "1"
    envelope = expect_error(stack.get("/photos", headers=gone.auth), 404, "NOT_FOUND")
    assert "orphan" not in envelope["errorMessage"]
    expect_success(stack.get("/photos", headers=kept.auth))

    assert stack.redis_cli("DEL", f"auth_token:{kept.token}") == "1"
    # The responder caches token → tenant for AUTH_CACHE_TTL_SECONDS (documented bound).
    time.sleep(1.2)
    expect_error(stack.get("/photos", headers=kept.auth), 401, "UNAUTHORIZED")
    assert_log_clean(stack, *kept.secrets(), *gone.secrets())


# --- What /register stores ----------------------------------------------------------------------

def _open_sealed(key_b64: str, sealed: str, tenant_id: str, field: str) -> str:
    """SecretBox.open in Python: AES-256-GCM, iv(12) || ciphertext || tag(16), AAD binding tenant+field."""
    aesgcm = pytest.importorskip("cryptography.hazmat.primitives.ciphers.aead")
    raw = base64.b64decode(sealed[3:], validate=True)
    aad = f"igmedia/v1\0{len(tenant_id.encode())}\0{tenant_id}\0{field}".encode()
    return aesgcm.AESGCM(base64.b64decode(key_b64)).decrypt(raw[:12], raw[12:], aad).decode()


def test_stored_tenant_hash_has_sealed_secrets(stack, backend):
    tenant = register(stack, name="  Sealed Co  ", instagramAccountId=17841400000000001234,
                      apiType="FACEBOOK_LOGIN", instagramAppId="987654321012345", unknownField={"x": 1})
    body = tenant.body
    stored = _hgetall(stack, f"tenant:{tenant.id}")

    for name in ("name", "authToken", "apiType", "created_at"):
        assert stored.get(name), (name, sorted(stored))
    assert stored["name"] == "Sealed Co", "the name is stored trimmed"
    assert stored["authToken"] == tenant.token
    assert stored["apiType"] == "FACEBOOK_LOGIN"
    assert "unknownField" not in stored
    plaintexts = {
        "instagramAccountSecret": body["instagramAccountSecret"],
        "instagramAccountId": "17841400000000001234",
        "instagramAccessToken": body["instagramAccessToken"],
    }
    for field in SECRET_FIELDS:
        value = stored[field]
        assert SEALED.fullmatch(value), (field, value[:12])
    for value in stored.values():
        for plaintext in plaintexts.values():
            assert plaintext not in value
    # The sealed values open with the configured key: the integer id was kept as its digits.
    key = stack.responder.env["ENCRYPTION_KEY"]
    for field in SECRET_FIELDS:
        assert _open_sealed(key, stored[field], tenant.id, field) == plaintexts[field], field
    # Sealed per tenant and field: the same secret twice never gives the same ciphertext.
    other = register(stack, instagramAccountSecret=body["instagramAccountSecret"])
    assert _hgetall(stack, f"tenant:{other.id}")["instagramAccountSecret"] != stored["instagramAccountSecret"]

    assert stack.redis_cli("GET", f"auth_token:{tenant.token}") == tenant.id
    assert stack.redis_cli("SISMEMBER", "tenants", tenant.id) == "1"
    assert stack.redis_cli("SISMEMBER", "tenants", other.id) == "1"
    assert stack.redis_cli("TYPE", f"tenant:{tenant.id}") == "hash"
    # Nowhere in the store in plaintext, under any key.
    everything = _store_text(stack)
    for plaintext in (body["instagramAccountSecret"], body["instagramAccessToken"], "17841400000000001234"):
        assert plaintext not in everything
    assert_log_clean(stack, *tenant.secrets(), *other.secrets())


def test_access_token_is_optional_and_then_not_stored(stack, backend):
    tenant = register(stack, instagramAccessToken=None, instagramAccountId="plain_id-42")
    stored = _hgetall(stack, f"tenant:{tenant.id}")
    assert "instagramAccessToken" not in stored
    assert SEALED.fullmatch(stored["instagramAccountId"]) and "plain_id-42" not in stored["instagramAccountId"]
    expect_success(stack.get("/photos", headers=tenant.auth))


@pytest.mark.stack_env(REDIS_KEY_PREFIX="igm:test:")
def test_every_key_carries_the_prefix(stack, backend):
    tenant = register(stack)
    feed, _ = make_feed("prefixed", count=4)
    store_feed(stack, tenant.id, "[]")  # unprefixed: must be ignored
    store_feed(stack, tenant.id, feed, prefix="igm:test:")
    assert stack.get("/photos", headers=tenant.auth).body == photos_envelope(feed)
    keys = set(stack.redis_cli("--scan", "--pattern", "igm:test:*").splitlines())
    assert {f"igm:test:tenant:{tenant.id}", f"igm:test:auth_token:{tenant.token}", "igm:test:tenants"} <= keys
    assert set(stack.redis_cli("--scan").splitlines()) - keys == {f"instagram:{tenant.id}:photos"}


def _store_text(stack) -> str:
    """Every key and value in redis-server, as text."""
    out = []
    for key in stack.redis_cli("--scan").splitlines():
        kind = stack.redis_cli("TYPE", key)
        if kind == "zset":
            out += [key, stack.redis_cli("ZRANGE", key, "0", "-1", "WITHSCORES")]
            continue
        reader = {"string": "GET", "hash": "HGETALL", "set": "SMEMBERS"}[kind]
        out += [key, stack.redis_cli(reader, key)]
    return "\n".join(out)


def _hgetall(stack, key: str) -> dict[str, str]:
    lines = stack.redis_cli("HGETALL", key).split("\n")
    return dict(zip(lines[0::2], lines[1::2])) if lines != [""] else {}


# --- REGISTRATION_SECRET --------------------------------------------------------------------------

REGISTRATION_SECRET = "reg-" + "s3cr3t" * 6


@pytest.mark.stack_env(REGISTRATION_SECRET=REGISTRATION_SECRET)
@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer wrong-secret-value", f"Bearer {REGISTRATION_SECRET}x",
    f"Bearer {REGISTRATION_SECRET[:-1]}", f"Basic {REGISTRATION_SECRET}", REGISTRATION_SECRET,
    f"Bearer {REGISTRATION_SECRET.upper()}",
])
def test_registration_secret_is_required(stack, backend, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    before = dbsize(stack)
    expect_error(stack.post("/register", register_body(), headers=headers), 401, "UNAUTHORIZED")
    # Checked before the body: an invalid body without the secret is still a 401.
    expect_error(stack.post("/register", b"not json", headers=headers), 401, "UNAUTHORIZED")
    assert dbsize(stack) == before
    assert_log_clean(stack, REGISTRATION_SECRET)


@pytest.mark.stack_env(REGISTRATION_SECRET=REGISTRATION_SECRET)
def test_registration_secret_admits_the_right_bearer(stack, backend):
    tenant = register(stack, headers=bearer(REGISTRATION_SECRET))
    register(stack, headers={"Authorization": f"bearer {REGISTRATION_SECRET}"})
    expect_error(stack.post("/register", {"name": "x"}, headers=bearer(REGISTRATION_SECRET)), 400, "VALIDATION_FAILED")
    # The registration secret is not a tenant token, and a tenant token is not the secret.
    expect_error(stack.get("/photos", headers=bearer(REGISTRATION_SECRET)), 401, "UNAUTHORIZED")
    expect_error(stack.post("/register", register_body(), headers=tenant.auth), 401, "UNAUTHORIZED")
    expect_success(stack.get("/photos", headers=tenant.auth))
    assert_log_clean(stack, REGISTRATION_SECRET, *tenant.secrets())


@pytest.mark.parametrize("count", [50, 200], ids=["one-fastcgi-record", "several-fastcgi-records"])
def test_a_feed_larger_than_one_fastcgi_record_arrives_byte_exact(stack, count):
    """The responder frames its own FastCGI records: one record up to 65,528 bytes, several above
    (a 200-item feed is ~95 KB). Both must reach the client byte for byte, with HEAD too."""
    tenant = register(stack)
    feed, _ = make_feed(f"big{count}", count)
    store_feed(stack, tenant.id, feed)
    response = stack.get("/photos", headers=bearer(tenant.token))
    assert response.status == 200, response
    assert response.body == photos_envelope(feed)
    assert int(response.header("Content-Length")) == len(response.body)
    assert (len(response.body) > 65_528) == (count == 200)
    head = stack.request("HEAD", "/photos", headers=bearer(tenant.token))
    assert head.status == 200 and head.body == b"" and head.header("Content-Length") == str(len(response.body))
