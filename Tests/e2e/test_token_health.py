"""Token health through nginx: what every sync and token call records, the derived tokenState,
the transitions ok → invalid (Graph 190/460 during a sync) → not synced by the timer, the QStash
fan-out or the webhook → ok after PUT /tenant/instagram-token, and ok → expiring → ok after a
refresh. The two kinds of credential: the auth token reads, the management token changes."""

from __future__ import annotations

import time

import pytest

from harness import expect_error, expect_success
from lifecycle_support import LifecycleWorld
from qstash_world import MEDIA_LISTING, response_json

DAY = 86_400
VIEW_FIELDS = {"id", "name", "apiType", "createdAt", "photosCount", "tokenState", "tokenExpiresAt", "lastSyncAt",
               "lastSyncOutcome", "lastErrorCode", "lastErrorAt", "consecutiveFailures"}


@pytest.fixture
def world(make_stack, igmedia_bin):
    world = LifecycleWorld(make_stack, igmedia_bin)
    yield world
    world.stop()


def listings_for(world, token: str) -> int:
    return sum(1 for r in world.instagram.requests(path_prefix=MEDIA_LISTING) if r.query.get("access_token") == [token])


def test_get_tenant_with_either_credential_never_shows_a_secret(world):
    tenant = world.register(media_count=3)
    by_auth = world.tenant(tenant)
    by_management = world.tenant(tenant, world.manage(tenant))
    assert by_auth == by_management
    assert set(by_auth) == VIEW_FIELDS
    assert by_auth["id"] == tenant.id and by_auth["photosCount"] == 3 and by_auth["tokenState"] == "ok"
    assert by_auth["lastSyncOutcome"] == "ok" and by_auth["lastErrorCode"] is None
    assert by_auth["consecutiveFailures"] == 0
    body = world.stack.get("/tenant", headers=world.reads(tenant)).body.decode()
    for secret in (tenant.access_token, tenant.auth_token, world.management[tenant.id], world.instagram.ig_app_secret):
        assert secret not in body
    expect_error(world.stack.get("/tenant", headers={"Authorization": "Bearer nope-nope-nope"}), 401, "UNAUTHORIZED")
    expect_error(world.stack.get("/tenant"), 401, "UNAUTHORIZED")


def test_the_auth_token_cannot_change_or_delete_the_tenant(world):
    tenant = world.register(media_count=1)
    reads = world.reads(tenant)
    for method, path, body in [
        ("PUT", "/tenant/instagram-token", {"instagramAccessToken": "IGAAnew"}),
        ("POST", "/tenant/rotate-auth-token", None),
        ("POST", "/tenant/rotate-management-token", None),
        ("DELETE", "/tenant", None),
    ]:
        expect_error(world.stack.request(method, path, body, headers=reads), 403, "FORBIDDEN")
    assert world.tenant(tenant)["tokenState"] == "ok"
    assert world.tenant_hash(tenant.id)["authToken"] == tenant.auth_token


def test_revoked_during_sync_is_invalid_and_skipped_everywhere_until_a_new_token(world):
    broken, healthy = world.register(media_count=3), world.register(media_count=2)
    world.instagram.revoke_token(broken.access_token)  # Graph 190 / 460 (password changed)

    # The fan-out queues both; the broken tenant's delivery records the dead token and is not retried.
    summary = expect_success(world.sync())["summary"]
    assert summary["totalTenants"] == 2 and summary["errors"] == []
    for message_id in summary["queuedTasks"]:
        world.wait_done(message_id)
    state = world.tenant(broken)
    assert state["tokenState"] == "invalid", state
    assert state["lastErrorCode"] == "TOKEN_REVOKED" and state["lastSyncOutcome"] == "failed"
    assert state["consecutiveFailures"] == 1 and state["lastErrorAt"]
    assert world.tenant(healthy)["tokenState"] == "ok"
    assert world.photo_ids(broken) != []  # the feed stays as it was

    calls = listings_for(world, broken.access_token)
    # The next fan-out does not queue it at all.
    world.qstash.reset()
    summary = expect_success(world.sync())["summary"]
    destinations = [p.path for p in world.publishes()]
    assert summary["totalTenants"] == 1 and len(summary["queuedTasks"]) == 1, summary
    assert not any(broken.id in d for d in destinations) and any(healthy.id in d for d in destinations)
    for message_id in summary["queuedTasks"]:
        world.wait_done(message_id)
    # A delivery that still arrives (an old message, a retry) is 489 at once, without Instagram.
    delivery = world.forged_delivery(broken.path, b'{"tenantId":"%s"}' % broken.id.encode(), key=world.current_key)
    expect_error(delivery, 489, "SYNC_FAILED")
    assert delivery.header("Upstash-NonRetryable-Error") == "true"
    # Nor by the timer's command.
    run = world.cli("sync", "--all")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 skipped (token invalid)" in run.stdout and broken.id not in run.stdout
    assert listings_for(world, broken.access_token) == calls
    assert world.tenant(broken)["consecutiveFailures"] == 1

    # Instagram refusing the replacement changes nothing; a good one revives the tenant at once.
    before = world.tenant_hash(broken.id)
    refused = expect_error(world.put_token(broken, broken.access_token), 400, "VALIDATION_FAILED")
    assert "TOKEN_REVOKED" in refused["errorMessage"] and "subcode 460" in refused["errorMessage"]
    assert world.tenant_hash(broken.id) == before
    fresh = world.instagram.mint_token(broken.ig_user_id)
    data = expect_success(world.put_token(broken, fresh))
    assert data["tenant"]["tokenState"] == "ok" and data["tenant"]["lastErrorCode"] is None
    assert data["tenant"]["consecutiveFailures"] == 0 and data["sync"]["photosCount"] == 3
    world.qstash.reset()
    summary = expect_success(world.sync())["summary"]
    assert summary["totalTenants"] == 2


def test_a_token_of_another_account_is_refused(world):
    tenant, other = world.register(media_count=1), world.register(media_count=1)
    before = world.tenant_hash(tenant.id)
    refused = expect_error(world.put_token(tenant, other.access_token), 400, "VALIDATION_FAILED")
    assert "another Instagram account" in refused["errorMessage"]
    assert world.tenant_hash(tenant.id) == before
    assert world.photo_ids(tenant) != world.photo_ids(other)


def test_instagram_down_during_replacement_keeps_the_old_token(world):
    tenant = world.register(media_count=2)
    before = world.tenant_hash(tenant.id)["instagramAccessToken"]
    world.instagram.add_fault({"match": {"path_regex": "/me$"}, "count": -1, "status": 503,
                               "body": {"error": {"message": "Service temporarily unavailable", "type": "OAuthException",
                                                  "code": 2, "is_transient": True}}})
    new = world.instagram.mint_token(tenant.ig_user_id)
    expect_error(world.put_token(tenant, new), 503, "SERVICE_UNAVAILABLE")
    assert world.tenant_hash(tenant.id)["instagramAccessToken"] == before
    world.instagram.clear_faults()
    expect_success(world.put_token(tenant, new))
    assert world.tenant_hash(tenant.id)["instagramAccessToken"] != before


@pytest.mark.parametrize("body, message", [
    ({}, "instagramAccessToken is required"),
    ({"instagramAccessToken": 7}, "must be a string"),
    ({"instagramAccessToken": "  "}, "must not be empty"),
    ({"instagramAccessToken": "IGAA a"}, "must not contain whitespace"),
    ({"instagramAccessToken": "I" * 5000}, "at most 4096 bytes"),
])
def test_replacement_validation_names_the_field(world, body, message):
    tenant = world.register(media_count=1)
    calls = len(world.instagram.requests())
    envelope = expect_error(world.stack.request("PUT", "/tenant/instagram-token", body, headers=world.manage(tenant)),
                            400, "VALIDATION_FAILED")
    assert message in envelope["errorMessage"]
    assert len(world.instagram.requests()) == calls


def test_expiring_after_a_failed_refresh_then_ok_after_a_good_one(world):
    tenant = world.register(media_count=1, age_seconds=2 * DAY)
    assert world.tenant(tenant)["tokenExpiresAt"] is None  # Instagram Login: unknown until a refresh says

    # A refresh answers a token that lives three more days: known expiry, still ok (it refreshed).
    short = world.instagram.mint_token(tenant.ig_user_id, kind="long", age_seconds=2 * DAY, expires_in=5 * DAY)
    world.instagram.add_fault({"match": {"path_regex": "refresh_access_token$"}, "status": 200,
                               "body": {"access_token": short, "token_type": "bearer", "expires_in": 3 * DAY}})
    expect_success(world.stack.post("/auth/refresh-token", headers=world.reads(tenant)))
    state = world.tenant(tenant)
    assert state["tokenState"] == "ok" and state["tokenExpiresAt"] is not None

    # The next refresh fails (not a dead token): three days left and no refresh → expiring.
    world.instagram.add_fault({"match": {"path_regex": "refresh_access_token$"}, "status": 400,
                               "body": {"error": {"message": "(#100) Temporarily cannot refresh", "type": "OAuthException",
                                                  "code": 100, "fbtrace_id": "Fk1"}}})
    assert world.stack.post("/auth/refresh-token", headers=world.reads(tenant)).status == 500
    assert world.tenant(tenant)["tokenState"] == "expiring"
    run = world.cli("status")
    assert run.returncode == 1 and run.stdout.startswith("WARNING"), run.stdout
    listed = expect_success(world.stack.get("/admin/tenants?state=expiring", headers=world.admin()))
    assert [t["id"] for t in listed["tenants"]] == [tenant.id]

    # A good refresh moves the expiry 60 days out and clears it.
    expect_success(world.stack.post("/auth/refresh-token", headers=world.reads(tenant)))
    state = world.tenant(tenant)
    assert state["tokenState"] == "ok", state
    assert world.cli("status").returncode == 0


def test_an_expired_token_is_invalid_without_asking_instagram(world):
    tenant = world.register(media_count=1, age_seconds=2 * DAY)
    world.instagram.expire_token(tenant.access_token)
    run = world.cli("sync", "--tenant", tenant.id)
    assert run.returncode == 1
    state = world.tenant(tenant)
    assert state["tokenState"] == "invalid" and state["lastErrorCode"] in ("TOKEN_EXPIRED", "TOKEN_REVOKED"), state
    assert world.cli("status").returncode == 2
    calls = listings_for(world, tenant.access_token)
    assert world.cli("sync", "--tenant", tenant.id).returncode == 1
    assert listings_for(world, tenant.access_token) == calls


def test_rate_limits_and_outages_never_mark_a_token_invalid(world):
    tenant = world.register(media_count=1)
    world.instagram.add_fault({"match": {"path_regex": "/media$"}, "count": 1, "status": 400, "headers": {
        "X-Business-Use-Case-Usage": '{"1":[{"type":"instagram","call_count":100,"total_cputime":1,"total_time":1,"estimated_time_to_regain_access":5}]}'},
        "body": {"error": {"message": "Application request limit reached", "type": "OAuthException", "code": 80002}}})
    run = world.cli("sync", "--tenant", tenant.id)
    assert run.returncode == 0 and "0 failed, 0 skipped (token invalid), 1 deferred (rate limited)" in run.stdout, \
        run.stdout  # a deferral is not a failure
    state = world.tenant(tenant)
    assert state["tokenState"] == "ok" and state["lastErrorCode"] == "RATE_LIMITED"
    # Deferred while Meta's pause lasts: the next sync does not call Instagram at all.
    calls = listings_for(world, tenant.access_token)
    run = world.cli("sync", "--tenant", tenant.id)
    assert f"later  {tenant.id} deferred: Meta's rate limit" in run.stdout, run.stdout
    assert listings_for(world, tenant.access_token) == calls
    assert world.tenant(tenant)["tokenState"] == "ok"
    world.stack.redis_cli("HDEL", f"tenant:{tenant.id}", "rate_limited_until")  # the pause is over
    world.instagram.add_fault({"match": {"path_regex": "/media$"}, "count": -1, "action": "close"})
    assert world.cli("sync", "--tenant", tenant.id).returncode == 1
    state = world.tenant(tenant)
    assert state["tokenState"] == "ok" and state["lastErrorCode"] == "UPSTREAM_UNAVAILABLE"
    assert state["consecutiveFailures"] == 1, "a rate limit is a deferral, not a failure"
    world.instagram.clear_faults()
    assert world.cli("sync", "--tenant", tenant.id).returncode == 0
    state = world.tenant(tenant)
    assert state["lastErrorCode"] is None and state["consecutiveFailures"] == 0 and state["lastSyncOutcome"] == "ok"
