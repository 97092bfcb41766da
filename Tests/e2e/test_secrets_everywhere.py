"""Secrets through every error path: tokens, app secrets, the Cloudinary API secret, the QStash
token and signing keys, the Upstash token and Graph URLs carrying `access_token=` never appear in
a response body, the responder's log, nginx's access and error logs, or the output of
`igmedia-fcgi sync`, whatever fails (bad registrations, a code exchange with a wrong app secret,
refreshes, syncs under every fault, forged webhooks, QStash and Upstash failures), including when
the failing service echoes the secret back in its error message.

Then tenant isolation: with tenant A's token no request reads, refreshes or syncs tenant B.
"""

from __future__ import annotations

import base64
import json
import secrets
import time

import pytest

from hardening import Fakes, feed_key, leaks, register_synced, run_sync, stack_logs, store_bytes, tenant_hash
from harness import expect_error, expect_success
from tenant_helpers import bearer, register_body

REGISTRATION_SECRET = "regsecret" + secrets.token_hex(12)
EMBED_URL = "https://client.hardening.test/embed"


class World:
    """One stack (Upstash backend, QStash + Cloudinary + Instagram fakes) and everything every
    failed request or sync printed."""

    def __init__(self, stack, fakes, igmedia_bin):
        self.stack, self.fakes, self.bin = stack, fakes, igmedia_bin
        self.outputs: dict[str, str | bytes] = {}
        self.extra: list[str] = []

    def failed(self, label: str, response, status: int | tuple | None = None):
        assert response.status >= 400, (label, response)
        if status is not None:
            assert response.status in (status if isinstance(status, tuple) else (status,)), (label, response)
        self.outputs[f"{label} ({response.status})"] = response.body
        return response

    def sync_cli(self, label: str, tenant_id: str):
        result = run_sync(self.bin, self.stack, tenant_id)
        self.outputs[f"{label}: stdout"] = result.stdout
        self.outputs[f"{label}: stderr"] = result.stderr
        return result

    def signed(self, path: str, body: bytes, *, key: str | None = None, sub: str | None = None,
               signature: str | None = None, now: int | None = None) -> dict[str, str]:
        """The headers of a QStash delivery of `body` to `path` (signed with the current key)."""
        from Tests.fakes.qstash_jwt import signature_for
        if signature is None:
            signature = signature_for(sub or self.env["WEBHOOK_BASE_URL"] + path, body,
                                      key or self.env["QSTASH_CURRENT_SIGNING_KEY"], now or int(time.time()))
        return {"Content-Type": "application/json", "Upstash-Signature": signature,
                "Upstash-Message-Id": "msg_" + secrets.token_hex(8)}

    def webhook(self, label: str, tenant_id: str, *, key: str | None = None, sub: str | None = None,
                signature: str | None = None, body: bytes = b'{"tenantId":"x"}', now: int | None = None):
        path = f"/sync/process/{tenant_id}"
        headers = self.signed(path, body, key=key, sub=sub, signature=signature, now=now)
        return self.failed(label, self.stack.post(path, body, headers=headers))

    @property
    def env(self) -> dict[str, str]:
        return self.stack.responder.env

    @property
    def cloudinary_basic(self) -> str:
        return base64.b64encode(f"{self.env['CLOUDINARY_API_KEY']}:{self.env['CLOUDINARY_API_SECRET']}".encode()).decode()

    def secrets(self) -> list[str]:
        env = self.env
        with self.fakes.instagram._state_lock:
            minted = list(self.fakes.instagram.tokens) + list(self.fakes.instagram.codes)
        return [env[name] for name in ("ENCRYPTION_KEY", "SYNC_INTERNAL_SECRET", "REGISTRATION_SECRET",
                                       "UPSTASH_REDIS_REST_TOKEN")] + \
            self.fakes.secrets() + [self.cloudinary_basic] + minted + self.extra

    def assert_clean(self) -> None:
        found = leaks({**self.outputs, **stack_logs(self.stack)}, self.secrets())
        assert found == [], found


@pytest.fixture(scope="module")
def world(start_stack_in, tmp_path_factory, igmedia_bin):
    fakes = Fakes(qstash=True)
    env = dict(fakes.env(), REGISTRATION_SECRET=REGISTRATION_SECRET, INSTAGRAM_API_TIMEOUT_MS="800",
               REDIS_TIMEOUT_MS="800")
    stack = start_stack_in(tmp_path_factory.mktemp("secrets") / "stack", env, backend="upstash")
    try:
        yield World(stack, fakes, igmedia_bin)
    finally:
        stack.stop()
        fakes.stop()


@pytest.fixture(scope="module")
def tenant(world):
    return register_synced(world.stack, world.fakes, media_count=4, headers=bearer(REGISTRATION_SECRET))


def ig_echo(token: str, world, path: str = "/v23.0/me/media") -> dict:
    """A Graph error whose message quotes the token and a Graph URL holding it."""
    url = f"{world.fakes.instagram.graph_url}{path}?access_token={token}&client_secret={world.fakes.fb_app_secret}"
    return {"status": 400, "body": {"error": {"message": f"Bad token {token} in {url}", "type": "OAuthException",
                                              "code": 190, "fbtrace_id": token}}}


IG_FAULTS = {
    # Meta's throttle for one account (a Business Use Case code, no X-App-Usage): the tenant is
    # deferred. (An app-wide one, code 4 or X-App-Usage at the threshold, would pause every sync of
    # this module's responder for minutes.)
    "throttled": {"status": 429, "headers": {"X-Business-Use-Case-Usage": '{"0":[{"type":"instagram",'
                                             '"call_count":100,"total_cputime":1,"total_time":1}]}'},
                  "body": {"error": {"message": "(#80002) There have been too many calls to this Instagram account",
                                     "type": "OAuthException", "code": 80002, "is_transient": True}}},
    "transient 500": {"preset": "transient"},
    "html 502": {"action": "html"},
    "garbage": {"action": "garbage"},
    "truncated": {"action": "truncate"},
    "timeout": {"action": "delay", "delay_ms": 1500},
    "reset": {"action": "reset"},
    "revoked": {"preset": "token_invalidated"},
}


def test_registration_and_token_exchange_errors(world):
    stack, fakes, admin = world.stack, world.fakes, bearer(REGISTRATION_SECRET)
    for label, body in {
        "short name": register_body(name="ab"),
        "bad apiType": register_body(apiType="NOPE"),
        "token with spaces": register_body(instagramAccessToken="IGQVJ with spaces " + secrets.token_hex(16)),
        "bad account id": register_body(instagramAccountId="id with spaces " + secrets.token_hex(8)),
        "long secret": register_body(instagramAccountSecret="acctsecret" + secrets.token_hex(300)),
    }.items():
        world.extra += [body["instagramAccountSecret"], body["instagramAccessToken"]]
        world.failed(f"register {label}", stack.post("/register", body, headers=admin), 400)
    body = register_body()
    world.extra += [body["instagramAccountSecret"], body["instagramAccessToken"]]
    world.failed("register truncated", stack.post("/register", json.dumps(body)[:-4], headers=admin), 400)
    for label, header in {"wrong secret": bearer(REGISTRATION_SECRET + "x"),
                          "sync secret": bearer(world.env["SYNC_INTERNAL_SECRET"]),
                          "upstash token": bearer(world.env["UPSTASH_REDIS_REST_TOKEN"])}.items():
        world.failed(f"register with the {label}", stack.post("/register", register_body(), headers=header), 401)

    account = fakes.instagram.create_account(media_count=2)
    wrong = "wrongappsecret" + secrets.token_hex(10)
    world.extra.append(wrong)

    def obtain(label, secret, code=None, status=500):
        code = code or fakes.instagram.mint_code(account["ig_user_id"], redirect_uri=EMBED_URL)
        response = stack.post("/auth/obtain-token", {"embedUrl": EMBED_URL, "code": code, "instagramAppSecret": secret,
                                                     "instagramAppId": fakes.instagram.ig_app_id})
        return world.failed(f"obtain-token {label}", response, status) if status else response

    obtain("wrong app secret", wrong)
    code = fakes.instagram.mint_code(account["ig_user_id"], redirect_uri=EMBED_URL)
    ok = obtain("ok", fakes.ig_app_secret, code, status=None)
    assert expect_success(ok)["longLivedToken"] in fakes.instagram.tokens  # handed to the caller, on purpose
    obtain("code reused", fakes.ig_app_secret, code)
    echo = {"status": 400, "body": {"error_type": "OAuthException", "code": 400,
                                    "error_message": f"client_secret={fakes.ig_app_secret} is wrong"}}
    for label, fault, prefix in [("echoing the app secret", echo, "/api/"), ("garbage", {"action": "garbage"}, "/api/"),
                                 ("timeout", {"action": "delay", "delay_ms": 1500}, "/api/"),
                                 ("long-lived exchange echoing", ig_echo(fakes.ig_app_secret, world, "/access_token"),
                                  "/graph/")]:
        fakes.instagram.add_fault(dict(fault, path_prefix=prefix, count=-1))
        try:
            response = obtain(label, fakes.ig_app_secret)
        finally:
            fakes.reset_faults()
        assert "echoing" not in label or b"[redacted]" in response.body, response
    world.assert_clean()


def test_refresh_errors(world, tenant):
    stack, fakes = world.stack, world.fakes
    faults = dict(IG_FAULTS, echo=ig_echo(tenant.ig_token, world, "/refresh_access_token"))
    for label, fault in faults.items():
        fakes.instagram.add_fault(dict(fault, path_prefix="/graph/refresh_access_token", count=-1))
        try:
            response = world.failed(f"refresh {label}", stack.post("/auth/refresh-token", b"", headers=tenant.auth))
        finally:
            fakes.reset_faults()
        assert label != "echo" or b"[redacted]" in response.body, response  # the echo did go through
    # FACEBOOK_LOGIN refreshes send the app secret as client_secret: a wrong one, and an echo.
    account = fakes.instagram.create_account(media_count=2, facebook=True)
    for label, app_secret, echo in [("facebook wrong app secret", "wrongfbsecret" + secrets.token_hex(8), False),
                                    ("facebook echo", fakes.fb_app_secret, True)]:
        token = fakes.instagram.mint_token(account["ig_user_id"], product="facebook")
        fault = ig_echo(token, world, "/v23.0/oauth/access_token") if echo else None
        body = register_body(apiType="FACEBOOK_LOGIN", instagramAccountId=account["ig_user_id"], instagramAccessToken=token,
                             instagramAppId=fakes.instagram.fb_app_id, instagramAccountSecret=app_secret)
        world.extra.append(app_secret)
        data = expect_success(stack.post("/register", body, headers=bearer(REGISTRATION_SECRET)), 201)
        if fault:
            fakes.instagram.add_fault(dict(fault, path_prefix="/facebook/v23.0/oauth", count=-1))
        try:
            response = world.failed(f"refresh {label}", stack.post("/auth/refresh-token", b"",
                                                                   headers=bearer(data["authToken"])))
        finally:
            fakes.reset_faults()
        assert not echo or b"[redacted]" in response.body, response
    world.assert_clean()


def test_failed_syncs_cli_and_webhook(world, tenant):
    stack, fakes = world.stack, world.fakes
    # A token due for refresh: every sync also runs (and fails) the refresh first.
    stack.redis_cli("HSET", f"tenant:{tenant.id}", "token_update", "2020-01-01T00:00:00.000Z")
    feed = store_bytes(stack, feed_key(tenant.id))
    faults = dict(IG_FAULTS, echo=ig_echo(tenant.ig_token, world))
    for label, fault in faults.items():
        fakes.instagram.add_fault(dict(ig_echo(tenant.ig_token, world, "/refresh_access_token"),
                                       path_prefix="/graph/refresh_access_token", count=-1))
        fakes.instagram.add_fault(dict(fault, path_prefix="/graph/v23.0/me/media", count=-1))
        try:
            # A failure exits 1; a throttle that is reached (the refresh's 190 may mark the token
            # dead first) is a deferral: exit 0 and a `later` line.
            run = world.sync_cli(f"sync {label}", tenant.id)
            assert run.returncode == 1 or (label == "throttled" and run.returncode == 0
                                           and f"later  {tenant.id} deferred" in run.stdout), run.stdout
            if label == "throttled":
                # A deferral: the delivery is answered 200 (QStash must not retry into the throttle).
                response = world.stack.post(f"/sync/process/{tenant.id}", b'{"tenantId":"x"}', headers=world.signed(
                    f"/sync/process/{tenant.id}", b'{"tenantId":"x"}'))
                world.outputs[f"webhook {label} ({response.status})"] = response.body
                assert response.status in (200, 489), response
            else:
                response = world.webhook(f"webhook {label}", tenant.id)
                assert response.status in (489, 503), response
        finally:
            fakes.reset_faults()
        last_error = world.outputs[f"last_error {label}"] = tenant_hash(stack, tenant.id).get("last_error", "")
        if label == "throttled" and "deferred: Meta's rate limit" in last_error:
            pass  # the deferral's record (the webhook deferred it again, from the stored pause)
        else:
            assert "instagram" in last_error and (label != "echo" or "[redacted]" in last_error), last_error
        # A Graph 190 marks the token dead and a throttle defers the tenant for minutes (both as
        # they should): the next fault must reach Instagram again.
        stack.redis_cli("HDEL", f"tenant:{tenant.id}", "rate_limited_until", "rate_limit_strikes", "token_invalid")
        stack.redis_cli("SREM", "tenants:invalid", tenant.id)
    assert store_bytes(stack, feed_key(tenant.id)) == feed
    # The echo fault was a Graph 190: the token is now recorded dead. Give it back for the next part.
    stack.redis_cli("HDEL", f"tenant:{tenant.id}", "token_invalid")
    stack.redis_cli("SREM", "tenants:invalid", tenant.id)
    # Cloudinary failing on a new post, echoing its secret and the Basic credentials.
    fakes.instagram.add_media(tenant.ig_user_id, {"media_type": "VIDEO"})
    fakes.cloudinary.add_fault({"path_prefix": "/v1_1/", "count": -1, "status": 401, "body": {"error": {
        "message": f"Invalid api_key/secret {world.env['CLOUDINARY_API_SECRET']} Basic {world.cloudinary_basic}"}}})
    try:
        assert "failed=2" in world.sync_cli("sync cloudinary echo", tenant.id).stdout
    finally:
        fakes.reset_faults()
    world.assert_clean()


def test_forged_webhooks(world, tenant):
    from Tests.fakes.qstash_jwt import sign_jwt, make_claims
    env, now = world.env, int(time.time())
    current, nxt = env["QSTASH_CURRENT_SIGNING_KEY"], env["QSTASH_NEXT_SIGNING_KEY"]
    sub = env["WEBHOOK_BASE_URL"] + f"/sync/process/{tenant.id}"
    forged = {
        "the signing key itself": current,
        "the QStash token": env["QSTASH_TOKEN"],
        "a key-bearing garbage JWT": f"{current}.{nxt}.{env['QSTASH_TOKEN']}",
        "unknown key": sign_jwt(make_claims(sub, b'{"tenantId":"x"}', now), "sig_" + secrets.token_hex(16)),
        "HS512 header": sign_jwt(make_claims(sub, b'{"tenantId":"x"}', now), current, {"alg": "HS512", "typ": "JWT"}),
        "claims quoting the keys": sign_jwt(dict(make_claims(sub, b"{}", now), iss=current, jti=nxt), current),
    }
    for label, signature in forged.items():
        world.webhook(f"forged {label}", tenant.id, signature=signature)
    world.webhook("forged other path", tenant.id, sub=env["WEBHOOK_BASE_URL"] + "/sync/process/other")
    world.webhook("forged expired", tenant.id, now=now - 3600)
    world.webhook("forged future", tenant.id, now=now + 3600)
    world.webhook("forged body", tenant.id, signature=sign_jwt(make_claims(sub, b"another body", now), current))
    assert all(world.outputs[k] for k in world.outputs if k.startswith("forged"))
    assert all(json.loads(world.outputs[k])["code"] == "UNAUTHORIZED" for k in world.outputs if k.startswith("forged"))
    world.assert_clean()


QSTASH_FAULTS = {
    "401 echoing the token": "ECHO",
    "500 html": {"action": "html", "status": 500},
    "429": {"preset": "rate_limit_daily"},
    "garbage": {"action": "garbage"},
    "reset": {"action": "reset"},
}


@pytest.mark.parametrize("label", list(QSTASH_FAULTS))
def test_qstash_publish_failures(world, tenant, label):
    fault = QSTASH_FAULTS[label]
    if fault == "ECHO":
        fault = {"status": 401, "body": {"error": f"token {world.env['QSTASH_TOKEN']} is not valid"}}
    # POST /sync fans out through QStash's batch API (one call per 100 messages).
    world.fakes.qstash.add_fault(dict(fault, path_prefix="/v2/batch", count=-1))
    try:
        response = world.stack.post("/sync", {"secret": world.env["SYNC_INTERNAL_SECRET"]})
    finally:
        world.fakes.reset_faults()
    summary = expect_success(response)["summary"]
    assert summary["errors"] and summary["queuedTasks"] == [], summary
    assert summary["errorCount"] == len(summary["errors"]) == summary["totalTenants"] and summary["queuedCount"] == 0, \
        summary
    # Checked on its own (not added to world.outputs), so a leak here fails this case only.
    found = leaks({f"POST /sync summary, QStash {label}": response.body, **stack_logs(world.stack)}, world.secrets())
    assert found == [], found


# A rejected Upstash token is a configuration error (500 by design); the others are outages (503).
UPSTASH_FAULTS = {
    "unauthorized": {"preset": "unauthorized"},
    "html 502": {"action": "html"},
    "500 echoing the token": "ECHO",
    "reset": {"action": "reset"},
    "slower than REDIS_TIMEOUT_MS": {"action": "delay", "delay_ms": 1600},
}


@pytest.mark.parametrize("label", list(UPSTASH_FAULTS))
def test_upstash_failures(world, tenant, label):
    fault = UPSTASH_FAULTS[label]
    if fault == "ECHO":
        fault = {"status": 500, "body": {"error": f"WRONGPASS {world.env['UPSTASH_REDIS_REST_TOKEN']}"}}
    world.stack.upstash.add_fault(dict(fault, count=-1))
    try:
        status = 500 if label == "unauthorized" else 503
        world.failed(f"upstash {label} photos", world.stack.get("/photos", headers=tenant.auth), status)
        world.failed(f"upstash {label} register", world.stack.post(
            "/register", register_body(), headers=bearer(REGISTRATION_SECRET)), status)
        assert world.sync_cli(f"upstash {label} sync", tenant.id).returncode == 1
    finally:
        world.stack.upstash.clear_faults()
    world.assert_clean()


# --- Tenant isolation --------------------------------------------------------------------------

def test_tenant_a_cannot_read_refresh_or_sync_tenant_b(world, tenant):
    stack, fakes, env = world.stack, world.fakes, world.env
    a = tenant
    b = register_synced(stack, fakes, media_count=3, headers=bearer(REGISTRATION_SECRET))
    a_feed = expect_success(stack.get("/photos", headers=a.auth))
    b_before = (tenant_hash(stack, b.id), store_bytes(stack, feed_key(b.id)))
    graph_before = len(fakes.instagram.requests(path_prefix="/graph"))

    for path, extra in [("/photos", {}), (f"/photos?tenantId={b.id}", {}), (f"/photos?authToken={b.token}", {}),
                        ("/photos", {"X-Tenant-Id": b.id}), ("/photos", {"Cookie": f"tenant={b.id}"})]:
        assert expect_success(stack.get(path, headers={**a.auth, **extra})) == a_feed, path
    for token in (b.id, f"{a.token}:{b.token}", f"{b.id}*", "*"):
        expect_error(stack.get("/photos", headers=bearer(token)), 401, "UNAUTHORIZED")
    expect_error(stack.get(f"/photos/{b.id}", headers=a.auth), 404, "NOT_FOUND")

    # A refresh with A's token refreshes A, whatever names B.
    expect_error(stack.post(f"/auth/refresh-token?tenantId={b.id}", {"tenantId": b.id},
                            headers={**a.auth, "X-Tenant-Id": b.id}), 500, "INTERNAL_ERROR")  # A's token is too young
    refreshes = fakes.instagram.requests(path_prefix="/graph/refresh_access_token")
    assert refreshes and all(r.query["access_token"] == [a.ig_token] for r in refreshes)

    # B's webhook without B's valid QStash signature: nothing runs.
    for label, headers in [("A's bearer", a.auth), ("A's token as signature", {"Upstash-Signature": a.token})]:
        world.failed(f"isolation {label}", stack.post(f"/sync/process/{b.id}", b"{}",
                                                      headers={"Content-Type": "application/json", **headers}), 401)
    world.webhook("isolation A's signature replayed to B", b.id, sub=env["WEBHOOK_BASE_URL"] + f"/sync/process/{a.id}")
    world.webhook("isolation wrong key", b.id, key="sig_" + secrets.token_hex(16))
    expect_error(stack.post("/sync", {"secret": a.token}), 401, "UNAUTHORIZED")
    expect_error(stack.post("/register", register_body(), headers=a.auth), 401, "UNAUTHORIZED")

    assert (tenant_hash(stack, b.id), store_bytes(stack, feed_key(b.id))) == b_before, "B changed"
    graph_calls = fakes.instagram.requests(path_prefix="/graph")[graph_before:]
    assert all(b.ig_token not in r.target for r in graph_calls), "B's Instagram token was used"

    # A deleted tenant's token answers 404 and never falls through to anyone else.
    stack.redis_cli("DEL", f"tenant:{a.id}")
    expect_error(stack.get("/photos", headers=a.auth), 404, "NOT_FOUND")
    assert expect_success(stack.get("/photos", headers=b.auth))["photos"]
    world.assert_clean()
