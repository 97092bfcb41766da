"""Instagram tokens end to end, through nginx: the refresh a sync does when the token is old, the
refresh-token endpoint (success, expired, revoked) and obtain-token with both answer styles of
api.instagram.com's code exchange.
"""

import json
import time

import pytest

from harness import expect_error, expect_success
from sync_support import IG_APP_ID, IG_APP_SECRET, cloudinary, instagram, ok_line, world  # noqa: F401 (fixtures)

HOUR = 3600
EMBED_URL = "http://127.0.0.1:9/instagram-embed"  # only a string here: nothing ever connects to it


def iso_utc(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + ".000Z"


def parse_iso(text: str) -> float:
    import calendar
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%dT%H:%M:%S"))


def refresh_requests(world):
    return [r for r in world.instagram.requests(path_prefix="/graph/") if r.path.endswith("/refresh_access_token")]


def tokens_of(world, ig_user_id: str) -> list[str]:
    with world.instagram._state_lock:
        found = [t for t in world.instagram.tokens.values() if t.user == ig_user_id and t.kind == "long"]
    return [t.value for t in sorted(found, key=lambda t: t.issued_at)]


def test_a_sync_refreshes_a_token_older_than_24_hours(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    tenant = data["tenantId"]
    before = world.tenant_hash(tenant)
    assert parse_iso(before["token_update"]) > time.time() - 120, before["token_update"]

    # Not due yet: the sync must not try (Instagram refuses tokens younger than 24 h).
    run = world.sync_cli("--tenant", tenant)
    assert ok_line(run.stdout, tenant)["token"] == "not_due", run.stdout
    assert refresh_requests(world) == []

    world.instagram.clock.advance(25 * HOUR)
    stale = iso_utc(time.time() - 25 * HOUR)
    world.stack.redis_cli("HSET", f"tenant:{tenant}", "token_update", stale)
    refreshes = world.instagram.all_counters()["refreshes"]
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    line = ok_line(run.stdout, tenant)
    assert line["token"] == "success" and line["photos"] == "6", line
    assert world.instagram.all_counters()["refreshes"] == refreshes + 1
    [call] = refresh_requests(world)
    assert call.query["grant_type"] == ["ig_refresh_token"] and call.query["access_token"] == [token]

    issued = tokens_of(world, account["ig_user_id"])
    assert len(issued) == 2 and issued[0] == token
    fresh = issued[1]
    after = world.tenant_hash(tenant)
    assert after["instagramAccessToken"] != before["instagramAccessToken"]
    assert after["instagramAccessToken"].startswith("v1:")
    assert all(token not in value and fresh not in value for value in after.values()), "tokens are sealed"
    assert parse_iso(after["token_update"]) > parse_iso(stale) + 24 * HOUR
    assert parse_iso(after["token_update"]) > time.time() - 120
    # The same sync already listed media with the refreshed token.
    listing = [r for r in world.instagram.requests(path_prefix="/graph/") if r.path.endswith("/me/media")][-1]
    assert listing.query["access_token"] == [fresh]

    # And the next sync keeps using it, without refreshing again.
    run = world.sync_cli("--tenant", tenant)
    assert ok_line(run.stdout, tenant)["token"] == "not_due", run.stdout
    assert world.instagram.all_counters()["refreshes"] == refreshes + 1


def test_a_failed_refresh_is_reported_and_the_sync_goes_on(world):
    account, token = world.account(media_count=3)
    data = world.register(token)
    tenant = data["tenantId"]
    # Due by our clock, but Instagram knows the token is minutes old and refuses to refresh it.
    stale = iso_utc(time.time() - 25 * HOUR)
    world.stack.redis_cli("HSET", f"tenant:{tenant}", "token_update", stale)
    before = world.tenant_hash(tenant)
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    assert ok_line(run.stdout, tenant)["photos"] == "3"
    assert "token=failed: " in run.stdout and "less than 24 hours old" in run.stdout, run.stdout
    assert len(refresh_requests(world)) == 1
    after = world.tenant_hash(tenant)
    assert after["instagramAccessToken"] == before["instagramAccessToken"] and after["token_update"] == stale


def test_refresh_token_endpoint_refreshes_and_stores_the_new_token(world):
    account, token = world.account(media_count=3)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    before = world.tenant_hash(tenant)
    world.instagram.clock.advance(25 * HOUR)  # a long-lived token can be refreshed after 24 h
    time.sleep(0.01)  # token_update has millisecond resolution

    response = world.stack.post("/auth/refresh-token", b"", headers={"Authorization": f"Bearer {auth}"})
    assert expect_success(response) == {"result": "success"}
    world.assert_no_secret(response.body, "the refresh-token response")
    assert world.instagram.all_counters()["refreshes"] == 1
    after = world.tenant_hash(tenant)
    assert after["instagramAccessToken"] != before["instagramAccessToken"]
    assert after["instagramAccessToken"].startswith("v1:")
    assert after["token_update"] > before["token_update"]
    fresh = tokens_of(world, account["ig_user_id"])[-1]
    assert fresh != token and all(fresh not in value for value in after.values())

    # The stored token is the refreshed one: a sync lists media with it.
    world.instagram.clear_requests()
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    listing = [r for r in world.instagram.requests(path_prefix="/graph/") if r.path.endswith("/me/media")]
    assert listing and all(r.query["access_token"] == [fresh] for r in listing)


def test_refresh_token_endpoint_needs_a_valid_bearer(world):
    expect_error(world.stack.post("/auth/refresh-token", b""), 401, "UNAUTHORIZED")
    expect_error(world.stack.post("/auth/refresh-token", b"", headers={"Authorization": "Bearer nope"}),
                 401, "UNAUTHORIZED")
    assert world.instagram.requests() == []


@pytest.mark.parametrize("how, message", [
    ("expire", "Session has expired"),
    ("revoke", "The session has been invalidated"),
])
def test_refresh_token_with_an_expired_or_revoked_token_answers_500_with_instagrams_message(world, how, message):
    account, token = world.account(media_count=3)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    before = world.tenant_hash(tenant)
    world.instagram.clock.advance(25 * HOUR)
    if how == "expire":
        world.instagram.expire_token(token)
    else:
        world.instagram.revoke_token(token)

    response = world.stack.post("/auth/refresh-token", b"", headers={"Authorization": f"Bearer {auth}"})
    envelope = expect_error(response, 500, "INTERNAL_ERROR")
    assert message in envelope["errorMessage"], envelope
    world.assert_no_secret(response.body, "the refresh-token error")
    after = world.tenant_hash(tenant)
    assert (after["instagramAccessToken"], after["token_update"]) == (
        before["instagramAccessToken"], before["token_update"]), "a refused refresh changes nothing"


# ---- obtain-token ----------------------------------------------------------------------------

def obtain(world, code: str, **overrides):
    body = {"embedUrl": EMBED_URL, "code": code, "instagramAppId": IG_APP_ID, "instagramAppSecret": IG_APP_SECRET}
    body.update(overrides)
    return world.stack.post("/auth/obtain-token", {k: v for k, v in body.items() if v is not None})


@pytest.mark.parametrize("style", ["data", "flat"])
def test_obtain_token_exchanges_a_code_in_both_answer_styles(world, style):
    account = world.instagram.create_account(media_count=5)
    world.instagram.token_style = style
    code = world.instagram.mint_code(account["ig_user_id"], redirect_uri=EMBED_URL)

    response = obtain(world, code + "#_")  # pasted straight from the redirect, fragment included
    data = expect_success(response)
    assert set(data) == {"success", "longLivedToken", "testData"} and data["success"] is True, data
    long_lived = data["longLivedToken"]
    info = world.instagram.token_info(long_lived)
    assert info and info["kind"] == "long" and info["product"] == "instagram", info
    assert info["user"] == account["ig_user_id"]

    assert isinstance(data["testData"], str)
    test_data = json.loads(data["testData"])
    media_ids = world.instagram.accounts[account["ig_user_id"]].visible_media()
    assert [m["id"] for m in test_data["data"]] == [m.id for m in media_ids[:3]]
    assert "next" not in test_data.get("paging", {}) and "previous" not in test_data.get("paging", {})
    assert "access_token" not in data["testData"] and long_lived not in data["testData"]
    body = response.body.decode()
    assert IG_APP_SECRET not in body and code not in body
    short = [t for t in world.instagram.tokens.values() if t.kind == "short"]
    assert len(short) == 1 and short[0].value not in body

    [exchange] = world.instagram.requests(path_prefix="/api/oauth/access_token")
    fields = {f.name: f.text for f in exchange.form_fields()}
    assert fields["redirect_uri"] == EMBED_URL and fields["code"] == code and fields["client_id"] == IG_APP_ID
    assert world.instagram.all_counters()["codes_exchanged"] == 1


@pytest.mark.stack_env(REDIRECT_URI="http://127.0.0.1:9/configured-callback")
def test_obtain_token_uses_redirect_uri_when_configured(world):
    account = world.instagram.create_account(media_count=2)
    code = world.instagram.mint_code(account["ig_user_id"], redirect_uri="http://127.0.0.1:9/configured-callback")
    data = expect_success(obtain(world, code))  # embedUrl differs: REDIRECT_URI wins
    assert world.instagram.token_info(data["longLivedToken"])["kind"] == "long"
    [exchange] = world.instagram.requests(path_prefix="/api/oauth/access_token")
    assert {f.name: f.text for f in exchange.form_fields()}["redirect_uri"] == "http://127.0.0.1:9/configured-callback"


@pytest.mark.parametrize("case, expected", [
    ("unknown-code", "Invalid authorization code"),
    ("used-code", "This authorization code has been used"),
    ("wrong-secret", "Error validating client secret."),
])
def test_obtain_token_failures_answer_500_with_instagrams_message_and_no_secret(world, case, expected):
    account = world.instagram.create_account(media_count=1)
    code = world.instagram.mint_code(account["ig_user_id"], redirect_uri=EMBED_URL)
    secret = IG_APP_SECRET
    if case == "unknown-code":
        code = "AQ" + "x" * 60
    elif case == "used-code":
        expect_success(obtain(world, code))
    else:
        secret = "a-wrong-app-secret-0123456789"
    response = obtain(world, code, instagramAppSecret=secret)
    envelope = expect_error(response, 500, "INTERNAL_ERROR")
    assert expected in envelope["errorMessage"], envelope
    body = response.body.decode()
    assert secret not in body and IG_APP_SECRET not in body and code not in body, body
    world.assert_no_secret(response.body, "the obtain-token error")


@pytest.mark.parametrize("body, fields", [
    ({}, ["embedUrl", "code", "instagramAppId", "instagramAppSecret"]),
    ({"embedUrl": "ftp://example.invalid/x", "code": "AQB", "instagramAppId": IG_APP_ID,
      "instagramAppSecret": "s"}, ["embedUrl"]),
    ({"embedUrl": EMBED_URL, "code": "  ", "instagramAppId": IG_APP_ID, "instagramAppSecret": "s"}, ["code"]),
    ({"embedUrl": EMBED_URL, "code": "AQB", "instagramAppId": IG_APP_ID, "instagramAppSecret": 42},
     ["instagramAppSecret"]),
])
def test_obtain_token_validation_errors_are_400_and_never_reach_instagram(world, body, fields):
    response = world.stack.post("/auth/obtain-token", body)
    envelope = expect_error(response, 400, "VALIDATION_FAILED")
    for field in fields:
        assert field in envelope["errorMessage"], envelope
    assert world.instagram.requests() == []


def test_obtain_token_rejects_a_body_that_is_not_json(world):
    response = world.stack.post("/auth/obtain-token", b"code=AQB", headers={"Content-Type": "text/plain"})
    expect_error(response, 400, "VALIDATION_FAILED")
    assert world.instagram.requests() == []
