"""After a whole working session (registrations good and bad, feeds, every 401/404 path, an
outage and the recovery), no auth token, account secret, access token or configured secret is in
the responder's log, and no error message echoes one back."""

import http.client
import json
import signal

from harness import expect_error, expect_success
from tenant_helpers import bearer, make_feed, register, register_body, store_feed

REGISTRATION_SECRET = "regsecret-" + "q7" * 12


def test_nothing_secret_reaches_the_log_or_an_error_message(make_stack, backend):
    stack = make_stack({"REDIS_TIMEOUT_MS": "500", "REGISTRATION_SECRET": REGISTRATION_SECRET}, backend=backend)
    admin = bearer(REGISTRATION_SECRET)
    secrets: list[str] = [REGISTRATION_SECRET, stack.responder.env["ENCRYPTION_KEY"],
                          stack.responder.env["SYNC_INTERNAL_SECRET"]]
    if backend == "upstash":
        secrets.append(stack.responder.env["UPSTASH_REDIS_REST_TOKEN"])
    messages: list[str] = []

    def failed(response, status, code):
        messages.append(expect_error(response, status, code)["errorMessage"])

    tenants = [register(stack, headers=admin) for _ in range(2)]
    for tenant in tenants:
        secrets += tenant.secrets()
        feed, _ = make_feed(tenant.id[:8], count=3)
        store_feed(stack, tenant.id, feed)
        expect_success(stack.get("/photos", headers=tenant.auth))
        expect_success(stack.get("/photos", headers={"Authorization": f"bearer {tenant.token}"}))
    a, b = tenants

    # Rejected registrations that carry secrets, for every kind of reason.
    for body in (
        register_body(name="ab"),
        register_body(apiType="nope"),
        register_body(instagramAccessToken="IGQVJ has spaces " + "z" * 20),
        register_body(instagramAccountSecret="acctsecret" + "x" * 600),
        register_body(instagramAccessToken="IGQVJ" + "t" * 5000),
        register_body(instagramAccountId="acct id with spaces"),
    ):
        secrets += [body["instagramAccountSecret"], body["instagramAccessToken"]]
        failed(stack.post("/register", body, headers=admin), 400, "VALIDATION_FAILED")
    broken = register_body()
    secrets += [broken["instagramAccountSecret"], broken["instagramAccessToken"]]
    failed(stack.post("/register", json.dumps(broken)[:-3], headers=admin), 400, "VALIDATION_FAILED")
    failed(stack.post("/register", json.dumps(broken) + "garbage", headers=admin), 400, "VALIDATION_FAILED")
    # Registration secret wrong or reused elsewhere.
    failed(stack.post("/register", register_body(), headers=bearer(REGISTRATION_SECRET + "x")), 401, "UNAUTHORIZED")
    failed(stack.post("/register", register_body(), headers=a.auth), 401, "UNAUTHORIZED")
    failed(stack.get("/photos", headers=admin), 401, "UNAUTHORIZED")

    # Every 401 path with real tokens in the header.
    for value in (f"Basic {a.token}", f"Bearer {a.token} {b.token}", f"Bearer {a.token}x", f"Token {a.token}",
                  f"Bearer {a.token},Bearer {b.token}", f"Bearer {a.token}*", f"Bearer {REGISTRATION_SECRET}"):
        failed(stack.get("/photos", headers={"Authorization": value}), 401, "UNAUTHORIZED")
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=10)
    conn.putrequest("GET", "/photos")
    conn.putheader("Authorization", f"Bearer {a.token}")
    conn.putheader("Authorization", f"Bearer {b.token}")
    conn.endheaders()
    assert conn.getresponse().status in (400, 401)
    conn.close()

    # A tenant whose hash is gone.
    stack.redis_cli("DEL", f"tenant:{b.id}")
    failed(stack.get("/photos", headers=b.auth), 404, "NOT_FOUND")

    # Outage: hung, then killed, then back.
    stack.redis.send(signal.SIGSTOP)
    try:
        failed(stack.get("/photos", headers=a.auth), 503, "SERVICE_UNAVAILABLE")
        failed(stack.post("/register", register_body(), headers=admin), 503, "SERVICE_UNAVAILABLE")
    finally:
        stack.redis.send(signal.SIGCONT)
    stack.redis_cli("SAVE")
    stack.redis.kill()
    failed(stack.get("/photos", headers=a.auth), 503, "SERVICE_UNAVAILABLE")
    outage_body = register_body()
    secrets += [outage_body["instagramAccountSecret"], outage_body["instagramAccessToken"]]
    failed(stack.post("/register", outage_body, headers=admin), 503, "SERVICE_UNAVAILABLE")
    stack.redis.restart()
    expect_success(stack.get("/photos", headers=a.auth))
    late = register(stack, headers=admin)
    secrets += late.secrets()

    log = stack.responder_log()
    assert "tenant registered" in log and "status=503" in log, "the log has the session in it"
    leaked = [s for s in secrets if s in log]
    assert not leaked, f"{len(leaked)} secret value(s) in the responder log, e.g. {leaked[0][:8]}…"
    echoed = [m for m in messages if any(s in m for s in secrets)]
    assert not echoed, echoed
    # The ids are fine to log, and are: that is how an operator finds a tenant.
    assert a.id in log
