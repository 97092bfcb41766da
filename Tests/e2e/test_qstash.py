"""QStash background sync end to end: POST /sync publishes to the QStash fake, which delivers
signed webhooks to nginx -> igmedia-fcgi -> Instagram fake -> redis, retrying, dead-lettering
and rotating keys like QStash (README "Background sync"; reference sections 2 and 5.2).

The fake delivers to the stack's loopback nginx but signs `sub` with the public URL
https://media.example.test/sync/process/<tenantId> (WEBHOOK_BASE_URL), as QStash would.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest

from harness import expect_error, expect_success
from sync_support import expect_accepted_run, wait_for_run
from qstash_world import (
    PUBLIC_BASE_URL, QSTASH_TOKEN, QStashWorld, body_hash, hour_safe, response_json, sign_jwt, unknown_key,
    unsigned_token,
)

NON_RETRYABLE = 489


@pytest.fixture
def world(make_stack):
    started: list[QStashWorld] = []

    def make(**kw) -> QStashWorld:
        started.append(QStashWorld(make_stack, **kw))
        return started[-1]

    yield make
    for w in started:
        w.stop()


def queued_ids(response) -> list[str]:
    summary = expect_success(response)["summary"]
    assert summary["errors"] == [] and summary["errorCount"] == 0, summary
    assert summary["queuedCount"] == len(summary["queuedTasks"]), summary
    return summary["queuedTasks"]


# ---- 1. fan-out, deliveries, feeds ---------------------------------------------------------------
def test_sync_publishes_one_signed_message_per_tenant_and_every_feed_updates(world):
    w = world()
    tenants = [w.register() for _ in range(3)]
    fresh = {t.id: w.new_post(t) for t in tenants}
    assert all(fresh[t.id] not in w.photo_ids(t) for t in tenants)

    response = w.sync()
    assert response.status == 200, response
    summary = expect_success(response)["summary"]
    assert set(summary) == {"totalTenants", "queuedTasks", "errors", "queuedCount", "errorCount"}, summary
    assert summary["totalTenants"] == 3 and summary["errors"] == [], summary
    assert (summary["queuedCount"], summary["errorCount"]) == (3, 0), summary
    assert len(summary["queuedTasks"]) == 3 and all(m.startswith("msg_") for m in summary["queuedTasks"]), summary
    assert "results" not in summary, summary

    # One batch call carries the three messages (no per-tenant /v2/publish).
    assert len(w.batch_calls()) == 1 and w.qstash.requests(path_prefix="/v2/publish/") == []
    publishes = w.publishes()
    assert len(publishes) == 3
    by_tenant = {}
    for request in publishes:
        destination = request.destination
        assert destination.startswith(PUBLIC_BASE_URL + "/sync/process/"), destination
        tenant_id = destination.rsplit("/", 1)[1]
        by_tenant[tenant_id] = request
        assert request.authorization == f"Bearer {QSTASH_TOKEN}"
        assert request.header("Upstash-Retries") == "3"
        assert (request.header("Upstash-Flow-Control-Value") or "").startswith("parallelism=")
        assert request.header("Upstash-Method") in (None, "POST")
        assert request.header("Content-Type", "").startswith("application/json")
        assert json.loads(request.body) == {"tenantId": tenant_id}
        assert request.header("Upstash-Deduplication-Id")
    assert set(by_tenant) == {t.id for t in tenants}
    assert len({r.header("Upstash-Deduplication-Id") for r in publishes}) == 3, "one deduplication id per tenant"

    messages = {m.message_id: m for m in w.qstash.messages.values()}
    assert set(summary["queuedTasks"]) == set(messages)
    for message_id in summary["queuedTasks"]:
        message = w.wait_done(message_id)
        assert message.state == "delivered", message.attempts
        [delivery] = w.deliveries(message_id)
        assert delivery["status"] == 200 and delivery["retried"] == 0, delivery
        assert delivery["sub"] == message.url and delivery["url"].startswith(w.stack.base_url + "/sync/process/")
        result = response_json(delivery)["data"]
        assert result["result"]["photosCount"] == 4, result
    for t in tenants:
        assert w.photo_ids(t)[0] == fresh[t.id], "the delivery synced the new post into the feed"
        assert w.tenant_field(t, "last_sync")


@pytest.mark.parametrize("body", [{"secret": "not-the-sync-secret-at-all"}, {}, {"secret": ""}])
def test_sync_with_a_wrong_or_missing_secret_is_401_and_publishes_nothing(world, body):
    w = world()
    w.register()
    expect_error(w.sync(body), 401, "UNAUTHORIZED")
    assert w.publishes() == [] and w.qstash.messages == {}


# ---- 2. deduplication within the hour -------------------------------------------------------------
def test_a_second_sync_within_the_hour_is_deduplicated_and_not_delivered_again(world):
    w = world()
    w.register(), w.register()
    hour_safe()
    first = queued_ids(w.sync())
    for message_id in first:
        assert w.wait_done(message_id).state == "delivered"
    listings = w.media_listings()

    second = queued_ids(w.sync())
    assert sorted(second) == sorted(first), "QStash answered with the earlier message ids"
    publishes = w.publishes()
    assert len(publishes) == 4 and len(w.qstash.messages) == 2
    assert len({r.header("Upstash-Deduplication-Id") for r in publishes}) == 2, "the same id per tenant again"
    assert w.qstash.wait_idle(timeout=5)
    assert len(w.qstash.deliveries) == 2, "no second delivery"
    assert w.media_listings() == listings


# ---- 3. a transient failure is retried ----------------------------------------------------------
def test_a_delivery_answered_503_is_retried_and_the_retry_succeeds(world):
    w = world(retry_delay=1.0)  # room to lift the fault between attempt 0 and attempt 1
    tenant = w.register()
    fresh = w.new_post(tenant)
    # Instagram answers 500 (Graph code 1, is_transient) to every media listing until lifted; the
    # client's own retries give up and the webhook must answer 503 so QStash retries.
    w.instagram.add_fault(preset="transient", path_prefix="/graph/", count=-1)
    [message_id] = queued_ids(w.sync())

    w.qstash.wait_for(message_id, attempts=1, timeout=30)
    w.instagram.clear_faults()
    assert w.wait_done(message_id).state == "delivered"

    first, second = w.deliveries(message_id)
    assert (first["retried"], first["status"]) == (0, 503), first
    assert response_json(first)["code"] == "SERVICE_UNAVAILABLE"
    assert not first["nonRetryable"]
    assert (second["retried"], second["status"]) == (1, 200), second
    assert w.photo_ids(tenant)[0] == fresh
    assert w.dlq_entry(message_id) is None


# ---- 4. at-least-once: a duplicate delivery does no work ---------------------------------------
def test_the_same_message_delivered_twice_does_the_work_once(world):
    w = world()
    tenant = w.register()
    [message_id] = queued_ids(w.sync())
    assert w.wait_done(message_id).state == "delivered"
    listings = w.media_listings()
    feed = w.photo_ids(tenant)
    w.new_post(tenant)  # would show up if the duplicate synced again

    w.qstash.redeliver(message_id)
    w.qstash.wait_for(message_id, attempts=2, timeout=30)
    first, again = w.deliveries(message_id)
    assert again["duplicate"] and again["status"] == 200, again
    assert response_json(again)["data"]["result"] == {"duplicate": True}
    assert w.media_listings() == listings, "the duplicate never called Instagram"
    assert w.photo_ids(tenant) == feed
    assert first["status"] == 200


# ---- 5. signing keys --------------------------------------------------------------------------
@pytest.mark.parametrize("rotation", ["rolled_once", "mid_rotation"])
def test_deliveries_signed_with_the_next_key_verify(world, rotation):
    """The responder holds current + next. Rolling once in the console makes QStash sign with
    what was `next` (current := next, a brand-new next): still verified, no redeploy needed."""
    w = world()
    tenant = w.register()
    fresh = w.new_post(tenant)
    if rotation == "rolled_once":
        w.qstash.rotate_keys()
        assert w.qstash.current_signing_key == w.next_key
        assert w.qstash.next_signing_key not in (w.current_key, w.next_key)
    else:
        w.qstash.sign_with = "next"

    [message_id] = queued_ids(w.sync())
    assert w.wait_done(message_id).state == "delivered"
    assert w.statuses(message_id) == [200]
    assert w.photo_ids(tenant)[0] == fresh


@pytest.mark.parametrize("break_keys", ["bogus", "rolled_twice"])
def test_a_delivery_signed_with_an_unknown_key_is_401_and_dead_letters_after_the_retries(world, break_keys):
    w = world()
    tenant = w.register()
    feed = w.photo_ids(tenant)
    listings = w.media_listings()
    if break_keys == "bogus":
        w.qstash.sign_with = "bogus"
    else:  # rolled twice without updating the environment: signs with a key the responder lacks
        w.qstash.rotate_keys()
        w.qstash.rotate_keys()
    w.new_post(tenant)

    [message_id] = queued_ids(w.sync())
    assert w.wait_done(message_id).state == "failed"
    deliveries = w.deliveries(message_id)
    assert [d["status"] for d in deliveries] == [401] * 4, "the first attempt plus Upstash-Retries: 3"
    assert [d["retried"] for d in deliveries] == [0, 1, 2, 3]
    assert response_json(deliveries[0])["code"] == "UNAUTHORIZED"
    entry = w.dlq_entry(message_id)
    assert entry is not None and entry["responseStatus"] == 401, entry
    assert w.media_listings() == listings, "nothing was done for an unverified delivery"
    assert w.photo_ids(tenant) == feed
    assert w.stack.redis_cli("KEYS", "qstash:seen:*") == ""


# ---- 6. and 7. permanent failures go to the DLQ at once ---------------------------------------
@pytest.mark.parametrize("tenant_id", [
    pytest.param("3f2b8c1e-9d4a-4e6b-8a7c-5d1e2f3a4b5c", id="unknown-uuid"),
    pytest.param("not-a-tenant", id="malformed-id")])
def test_an_unknown_tenant_answers_489_non_retryable_and_dead_letters_at_once(world, tenant_id):
    w = world()
    path = f"/sync/process/{tenant_id}"
    message_id = w.publish(PUBLIC_BASE_URL + path, json.dumps({"tenantId": tenant_id}).encode())
    assert w.wait_done(message_id).state == "failed"
    [delivery] = w.deliveries(message_id)
    assert delivery["status"] == NON_RETRYABLE and delivery["nonRetryable"], delivery
    envelope = response_json(delivery)
    assert envelope["success"] is False and envelope["code"] in ("NOT_FOUND", "SYNC_FAILED"), envelope
    assert w.dlq_entry(message_id)["responseStatus"] == NON_RETRYABLE

    # The header itself, as a client sees it through nginx.
    response = w.forged_delivery(path, b"{}", key=w.current_key)
    assert response.status == NON_RETRYABLE
    assert response.header("Upstash-NonRetryable-Error") == "true"
    assert w.media_listings() == 0


@pytest.mark.parametrize("failure,reason", [
    ("revoked", "code 190"), ("expired", "code 190"), ("no token", "no Instagram access token")])
def test_a_token_a_retry_cannot_fix_answers_489_and_records_last_error(world, failure, reason):
    w = world()
    tenant = w.register(with_token=failure != "no token")
    feed = w.photo_ids(tenant)
    assert w.tenant_field(tenant, "last_error") == ""
    if failure == "revoked":
        w.instagram.revoke_token(tenant.access_token)
    elif failure == "expired":
        w.instagram.expire_token(tenant.access_token)

    [message_id] = queued_ids(w.sync())
    assert w.wait_done(message_id).state == "failed"
    [delivery] = w.deliveries(message_id)
    assert delivery["status"] == NON_RETRYABLE and delivery["nonRetryable"], delivery
    assert response_json(delivery)["code"] == "SYNC_FAILED"
    assert w.dlq_entry(message_id) is not None, "the DLQ is where an operator sees who must reconnect"
    last_error = w.tenant_field(tenant, "last_error")
    assert reason in last_error, last_error
    assert tenant.access_token not in last_error and tenant.access_token not in delivery["responseBody"]
    assert w.photo_ids(tenant) == feed, "the stored feed is left as it was"


# ---- 8. the body reaches the responder byte-exact -----------------------------------------------
BODIES = {
    "unicode-whitespace": (
        "application/json; charset=utf-8",
        ' \t{ "tenantId" :\t"%s" ,\r\n  "note": "café ☕ — 🚀 \u2028 \u00a0 zero\u200bwidth",'
        '\n"nfd": "e\u0301"   }\r\n\r\n  \t'.encode()),
    "non-utf8-bytes": ("application/octet-stream", b"\x00\xff\xfe{\r\n}\x80 %s \x1b[0m\n"),
    # /sync/process/* takes at most 4 KiB (nginx and the responder): exactly that much.
    "at-the-4k-limit": ("application/json", b'{"pad":"' + b"x \t\xc3\xa9" * 804 + b'","tenantId":"%s"}\n'),
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_an_unusual_body_signed_by_qstash_verifies_byte_exact_through_nginx(world, kind):
    w = world()
    tenant = w.register()
    content_type, template = BODIES[kind]
    body = template.replace(b"%s", tenant.id.encode())
    assert len(body) <= 4096
    message_id = w.publish(tenant.public_url, body, content_type=content_type)
    assert w.wait_done(message_id).state == "delivered"
    assert w.statuses(message_id) == [200]
    assert w.qstash.messages[message_id].body == body
    # And one changed byte does not verify (same token, same everything else).
    tampered = w.forged_delivery(tenant.path, body[:-1] + bytes([body[-1] ^ 1]), key=w.current_key,
                                 claims={"body": body_hash(body)})
    expect_error(tampered, 401, "UNAUTHORIZED")


# ---- 9. without QStash ----------------------------------------------------------------------------
def test_without_qstash_sync_runs_directly_and_the_webhook_is_off(world):
    w = world(qstash=False)
    tenants = [w.register() for _ in range(2)]
    fresh = {t.id: w.new_post(t) for t in tenants}

    # Without QStash: 202 at once, the sync run goes on inside the responder.
    accepted = expect_accepted_run(w.sync())
    assert accepted["summary"]["totalTenants"] == 2 and accepted["started"] is True, accepted
    run = wait_for_run(w.stack, w.sync_secret, accepted["runId"], timeout=30)
    assert (run["queued"], run["synced"], run["failed"], run["trigger"]) == (2, 2, 0, "http"), run
    for t in tenants:
        assert w.photo_ids(t)[0] == fresh[t.id]
        assert w.tenant_field(t, "photos_count") == "4"

    expect_error(w.stack.post("/sync/process/x", b"{}"), 404, "NOT_FOUND")
    expect_error(w.stack.post(f"/sync/process/{tenants[0].id}", b"{}",
                              headers={"Upstash-Signature": "a.b.c"}), 404, "NOT_FOUND")
    expect_error(w.sync({"secret": "wrong-secret-wrong-secret"}), 401, "UNAUTHORIZED")


# ---- 10. deliveries forged by the test itself -------------------------------------------------
def test_forged_deliveries_are_401_and_do_nothing(world):
    w = world()
    tenant = w.register()
    listings = w.media_listings()
    fresh = w.new_post(tenant)
    body = json.dumps({"tenantId": tenant.id}).encode()
    message_id = "msg_forged_" + uuid.uuid4().hex
    now = int(time.time())
    forged = {
        "wrong key": dict(key=unknown_key()),
        "no signature": dict(key=None),
        "sub rebuilt from Host": dict(key=w.current_key, sub=w.stack.base_url + tenant.path),
        "sub of another tenant": dict(key=w.current_key, sub=f"{PUBLIC_BASE_URL}/sync/process/{uuid.uuid4()}"),
        "wrong issuer": dict(key=w.current_key, claims={"iss": "Mallory"}),
        "expired": dict(key=w.current_key, claims={"exp": 1_700_000_000, "nbf": 1_699_999_700}),
        "body of another body": dict(key=w.next_key, claims={"body": body_hash(body + b" ")}),
        "not yet valid": dict(key=w.current_key, claims={"nbf": now + 3600, "iat": now + 3600, "exp": now + 3900}),
        "alg none, no signature": dict(key=None, raw_signature=unsigned_token(tenant.public_url, body)),
        "alg none, signed anyway": dict(key=w.current_key, jwt_header={"alg": "none", "typ": "JWT"}),
        "alg HS512 in the header": dict(key=w.current_key, jwt_header={"alg": "HS512", "typ": "JWT"}),
        "4-part token": dict(key=None, raw_signature=sign_jwt({"iss": "Upstash"}, w.current_key) + ".x"),
    }
    for case, spec in forged.items():
        response = w.forged_delivery(tenant.path, body, message_id=message_id, **spec)
        assert response.status == 401, (case, response)
        expect_error(response, 401, "UNAUTHORIZED")
    assert w.media_listings() == listings, "Instagram saw no call"
    assert w.stack.redis_cli("KEYS", "qstash:seen:*") == "", "no message id was claimed"
    assert fresh not in w.photo_ids(tenant)

    # Control: the same helper with a key the responder holds (here `next`, and a body claim
    # without `=` padding) is accepted, and the message id the forgeries used was never claimed.
    accepted = w.forged_delivery(tenant.path, body, key=w.next_key, message_id=message_id,
                                 claims={"body": body_hash(body, padded=False)})
    data = expect_success(accepted)
    assert data["result"]["photosCount"] == 4, data
    assert w.photo_ids(tenant)[0] == fresh


# ---- publishing failures and configuration edges -------------------------------------------
def test_a_batch_refused_by_qstash_is_reported_per_tenant_and_the_next_sync_queues_them(world):
    w = world()
    tenants = [w.register() for _ in range(2)]
    fresh = {t.id: w.new_post(t) for t in tenants}
    hour_safe()
    # The one batch call (both tenants' messages) fails: each of its tenants is reported.
    w.qstash.add_fault(preset="server_error", path_prefix="/v2/batch", count=1)
    response = w.sync()
    summary = expect_success(response)["summary"]
    assert summary["totalTenants"] == 2 and summary["queuedTasks"] == [], summary
    assert (summary["queuedCount"], summary["errorCount"]) == (0, 2), summary
    assert {e["tenantId"] for e in summary["errors"]} == {t.id for t in tenants}, summary
    assert all(e["error"] for e in summary["errors"]), summary
    assert QSTASH_TOKEN not in response.body.decode()
    assert w.qstash.messages == {}, "nothing was published"

    # Nothing was deduplicated: the next sync publishes both and they are delivered.
    queued = queued_ids(w.sync())
    assert len(queued) == 2, queued
    for message_id in queued:
        assert w.wait_done(message_id).state == "delivered"
    for t in tenants:
        assert w.photo_ids(t)[0] == fresh[t.id]


def test_a_webhook_base_url_with_a_trailing_slash_still_signs_and_verifies(world):
    w = world(env={"WEBHOOK_BASE_URL": PUBLIC_BASE_URL + "/"})
    tenant = w.register()
    [message_id] = queued_ids(w.sync())
    assert w.qstash.messages[message_id].url == tenant.public_url
    assert w.wait_done(message_id).state == "delivered"
    assert w.statuses(message_id) == [200]


def test_the_readme_hourly_schedule_drives_the_whole_chain(world):
    """README "Background sync": an hourly QStash schedule POSTs {"secret"} to /sync, which fans
    out one signed webhook per tenant. The fake does not run cron: the test fires it once."""
    w = world()
    tenants = [w.register() for _ in range(2)]
    fresh = {t.id: w.new_post(t) for t in tenants}
    schedule = w.qstash_api("/v2/schedules/" + PUBLIC_BASE_URL + "/sync",
                            json.dumps({"secret": w.sync_secret}).encode(), {
                                "Content-Type": "application/json", "Upstash-Cron": "0 * * * *",
                                "Upstash-Schedule-Id": "igmedia-hourly-sync"})
    assert schedule == {"scheduleId": "igmedia-hourly-sync"}

    trigger = w.qstash.trigger_schedule("igmedia-hourly-sync")
    assert w.wait_done(trigger).state == "delivered"
    [delivery] = w.deliveries(trigger)
    summary = response_json(delivery)["data"]["summary"]
    assert summary["totalTenants"] == 2 and len(summary["queuedTasks"]) == 2, summary
    assert (summary["queuedCount"], summary["errorCount"]) == (2, 0), summary
    for message_id in summary["queuedTasks"]:
        assert w.wait_done(message_id).state == "delivered"
        assert w.statuses(message_id) == [200]
    for t in tenants:
        assert w.photo_ids(t)[0] == fresh[t.id]
