"""Credential rotation with grace, the admin API and CLI, Meta's signed callbacks (the reference's
computed vectors) and encryption key rotation — all through nginx, against a real store."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse

import pytest

from harness import expect_error, expect_success
from lifecycle_support import ADMIN_SECRET, LifecycleWorld, json_lines

# next-capabilities §4.5
META_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
META_USER = "10223344556677889"
VALID = ("umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjE3MDAwMDM2MDAs"
         "Imlzc3VlZF9hdCI6MTcwMDAwMDAwMCwidXNlcl9pZCI6IjEwMjIzMzQ0NTU2Njc3ODg5In0")
TAMPERED = ("umwGkiS8s90yHsVsQEeASJTa94Jls3rJbLatxoBqEOg.eyJhbGdvcml0aG0iOiJITUFDLVNIQTI1NiIsImV4cGlyZXMiOjE3MDAwMDM2MDAs"
            "Imlzc3VlZF9hdCI6MTcwMDAwMDAwMCwidXNlcl9pZCI6IjEwMjIzMzQ0NTU2Njc3ODgwIn0")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def sign(payload: dict, secret: str, separators=(",", ":")) -> str:
    segment = b64(json.dumps(payload, separators=separators).encode())
    return b64(hmac.new(secret.encode(), segment.encode(), hashlib.sha256).digest()) + "." + segment


def form(signed: str) -> tuple[bytes, dict]:
    return (urllib.parse.urlencode({"signed_request": signed}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})


@pytest.fixture
def world(make_stack, igmedia_bin, request):
    marker = request.node.get_closest_marker("stack_env")
    world = LifecycleWorld(make_stack, igmedia_bin, env=dict(marker.kwargs) if marker else None)
    yield world
    world.stop()


def photos_status(world, token: str) -> int:
    return world.stack.get("/photos", headers={"Authorization": f"Bearer {token}"}).status


# ---- rotation ------------------------------------------------------------------------------------

@pytest.mark.stack_env(AUTH_TOKEN_GRACE_SECONDS="3", AUTH_CACHE_TTL_SECONDS="30")
def test_auth_token_rotation_keeps_one_previous_token_for_the_grace_only(world):
    tenant = world.register(media_count=2)
    first = tenant.auth_token
    assert photos_status(world, first) == 200  # cached for 30 s from here on
    second = expect_success(world.stack.post("/tenant/rotate-auth-token", headers=world.manage(tenant)))
    assert second["previousTokenValidUntil"] and second["authToken"] != first
    assert photos_status(world, second["authToken"]) == 200 and photos_status(world, first) == 200
    third = expect_success(world.stack.post("/tenant/rotate-auth-token", headers=world.manage(tenant)))
    # Two rotations inside the grace: only the newest previous one is still accepted.
    assert photos_status(world, first) == 401
    assert photos_status(world, second["authToken"]) == 200 and photos_status(world, third["authToken"]) == 200
    time.sleep(3.5)
    # Past the grace, also through the 30 s auth cache.
    assert photos_status(world, second["authToken"]) == 401
    assert photos_status(world, third["authToken"]) == 200


def test_management_token_rotation_has_no_grace(world):
    tenant = world.register(media_count=1)
    old = world.manage(tenant)
    new = expect_success(world.stack.post("/tenant/rotate-management-token", headers=old))["managementToken"]
    expect_error(world.stack.get("/tenant", headers=old), 401, "UNAUTHORIZED")
    expect_error(world.stack.post("/tenant/rotate-auth-token", headers=old), 401, "UNAUTHORIZED")
    assert world.tenant(tenant, {"Authorization": f"Bearer {new}"})["id"] == tenant.id
    assert new not in json.dumps(world.tenant_hash(tenant.id))


# ---- admin API and CLI -----------------------------------------------------------------------------

def test_admin_api_lists_by_state_with_cursor_paging_and_repairs(world):
    tenants = [world.register(media_count=1) for _ in range(5)]
    for broken in tenants[:3]:
        world.instagram.revoke_token(broken.access_token)
        assert world.cli("sync", "--tenant", broken.id).returncode == 1
    expect_error(world.stack.get("/admin/tenants"), 401, "UNAUTHORIZED")
    expect_error(world.stack.get("/admin/tenants", headers={"Authorization": "Bearer " + ADMIN_SECRET[:-1] + "x"}),
                 401, "UNAUTHORIZED")
    seen, cursor, pages = [], None, 0
    while True:
        path = "/admin/tenants?state=invalid&limit=1" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        page = expect_success(world.stack.get(path, headers=world.admin()))
        assert len(page["tenants"]) <= 1
        seen += [t["id"] for t in page["tenants"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
        assert pages < 20
    assert sorted(seen) == sorted(t.id for t in tenants[:3])
    everyone = expect_success(world.stack.get("/admin/tenants?limit=500", headers=world.admin()))
    assert {t["id"] for t in everyone["tenants"]} == {t.id for t in tenants}
    ok = expect_success(world.stack.get("/admin/tenants?state=ok", headers=world.admin()))
    assert {t["id"] for t in ok["tenants"]} == {t.id for t in tenants[3:]}
    for bad in ("state=broken", "limit=0", "limit=x", "cursor=zz"):
        expect_error(world.stack.get("/admin/tenants?" + bad, headers=world.admin()), 400, "VALIDATION_FAILED")

    one = expect_success(world.stack.get(f"/admin/tenants/{tenants[0].id}", headers=world.admin()))["tenant"]
    assert one["tokenState"] == "invalid" and one["lastErrorCode"] == "TOKEN_REVOKED"
    expect_error(world.stack.get("/admin/tenants/00000000-0000-4000-8000-000000000000", headers=world.admin()),
                 404, "NOT_FOUND")
    expect_error(world.stack.post(f"/admin/tenants/{tenants[0].id}/sync", headers=world.admin()), 409, "CONFLICT")
    synced = expect_success(world.stack.post(f"/admin/tenants/{tenants[4].id}/sync", headers=world.admin()))
    assert synced["result"]["photosCount"] == 1
    # A tenant from before management tokens gets one from the operator.
    issued = expect_success(world.stack.post(f"/admin/tenants/{tenants[3].id}/management-token", headers=world.admin()))
    assert world.tenant(tenants[3], {"Authorization": f"Bearer {issued['managementToken']}"})["id"] == tenants[3].id

    listed = world.cli("tenants", "list", "--state", "invalid", "--json")
    assert listed.returncode == 0 and {t["id"] for t in json_lines(listed.stdout)} == {t.id for t in tenants[:3]}
    shown = world.cli("tenants", "show", tenants[4].id)
    assert json.loads(shown.stdout)["tokenState"] == "ok"
    token = world.cli("tenants", "issue-management-token", tenants[4].id).stdout.strip()
    assert world.tenant(tenants[4], {"Authorization": f"Bearer {token}"})["id"] == tenants[4].id
    status = world.cli("status")
    assert status.returncode == 2 and status.stdout.startswith("CRITICAL"), status.stdout
    assert "5 tenants" in status.stdout and "3 invalid" in status.stdout


def test_status_is_critical_when_the_store_is_down_and_ok_when_all_is_well(world):
    world.register(media_count=1)
    run = world.cli("status")
    assert run.returncode == 0 and run.stdout.startswith("OK - 1 tenants: 1 ok"), run.stdout
    world.stack.redis.kill()
    run = world.cli("status")
    assert run.returncode == 2 and "store unreachable" in run.stdout
    # A configuration it cannot use is UNKNOWN for a monitoring plugin (not sysexits' 78).
    assert world.cli("status", env={"ENCRYPTION_KEY": "not-a-key"}).returncode == 3


def test_without_admin_secret_there_is_no_admin_api(make_stack):
    stack = make_stack()
    expect_error(stack.get("/admin/tenants", headers={"Authorization": "Bearer " + ADMIN_SECRET}), 404, "NOT_FOUND")


# ---- Meta's callbacks -------------------------------------------------------------------------------

def meta_tenant(world, *, account=META_USER, secret=META_SECRET) -> dict:
    """A tenant connected to the reference vector's user, with the vector's app secret."""
    # A working token of some fake account: the tenant syncs and is `ok` before the callback.
    owner = world.instagram.create_account(media_count=1)
    body = {"name": "meta vector", "instagramAccountId": account, "instagramAccountSecret": secret,
            "apiType": "INSTAGRAM_LOGIN", "instagramAccessToken": world.instagram.mint_token(owner["ig_user_id"])}
    return expect_success(world.stack.post("/register", body), 201)


def post_meta(world, path: str, signed: str, as_json: bool = False):
    if as_json:
        return world.stack.post(path, {"signed_request": signed})
    body, headers = form(signed)
    return world.stack.post(path, body, headers=headers)


def test_deauthorize_with_the_reference_vector_marks_the_token_invalid(world):
    data = meta_tenant(world)
    bystander = meta_tenant(world, secret="another-apps-secret-0000")  # same user id, other app
    assert sign({"algorithm": "HMAC-SHA256", "expires": 1700003600, "issued_at": 1700000000, "user_id": META_USER},
                META_SECRET) == VALID
    before = world.tenant_hash(data["tenantId"])
    for forged, status in [(TAMPERED, 401), (sign(json.loads(base64.urlsafe_b64decode(VALID.split(".")[1] + "=")),
                                                   META_SECRET[:-1] + "1"), 401),
                           ("no-dot-here", 400), ("." + VALID.split(".")[1], 400),
                           (sign({"algorithm": "HMAC-SHA1", "user_id": META_USER}, META_SECRET), 400)]:
        response = post_meta(world, "/meta/deauthorize", forged)
        assert response.status == status, (forged, response)
        assert world.tenant_hash(data["tenantId"]) == before
    expect_error(world.stack.post("/meta/deauthorize", b"x=1", headers={"Content-Type": "text/plain"}), 400,
                 "VALIDATION_FAILED")

    done = expect_success(post_meta(world, "/meta/deauthorize", VALID))
    assert done["deauthorized"] == 1
    view = expect_success(world.stack.get("/tenant", headers={"Authorization": f"Bearer {data['authToken']}"}))["tenant"]
    assert view["tokenState"] == "invalid" and view["lastErrorCode"] == "TOKEN_REVOKED"
    other = expect_success(world.stack.get("/tenant", headers={"Authorization": f"Bearer {bystander['authToken']}"}))
    assert other["tenant"]["lastErrorCode"] is None  # its secret did not sign it: untouched
    # Padded segments and a JSON body are accepted too (same event: deduplicated, still 200).
    head, tail = VALID.split(".")
    padded = head + "=" * (-len(head) % 4) + "." + tail + "=" * (-len(tail) % 4)
    assert expect_success(post_meta(world, "/meta/deauthorize", padded, as_json=True))["deauthorized"] == 1


def test_numeric_user_id_is_accepted(world):
    data = meta_tenant(world, account="9988776655")
    signed = sign({"algorithm": "hmac-sha256", "issued_at": 1700000001, "user_id": 9988776655}, META_SECRET)
    assert expect_success(post_meta(world, "/meta/deauthorize", signed))["deauthorized"] == 1
    assert world.tenant_hash(data["tenantId"])["token_invalid"] == "TOKEN_REVOKED"


def test_data_deletion_deletes_and_answers_a_status_url(world):
    data = meta_tenant(world)
    forged = post_meta(world, "/meta/data-deletion", TAMPERED)
    expect_error(forged, 401, "UNAUTHORIZED")
    assert world.tenant_hash(data["tenantId"])
    response = post_meta(world, "/meta/data-deletion", VALID)
    assert response.status == 200 and response.header("Content-Type").startswith("application/json")
    answer = response.json()
    assert set(answer) == {"url", "confirmation_code"} and answer["confirmation_code"].isalnum()
    assert answer["url"] == f"https://media.example.test/meta/data-deletion/{answer['confirmation_code']}"
    assert world.keys_naming(data["tenantId"]) == []
    expect_error(world.stack.get("/photos", headers={"Authorization": f"Bearer {data['authToken']}"}), 401, "UNAUTHORIZED")
    status = expect_success(world.stack.get(f"/meta/data-deletion/{answer['confirmation_code']}"))
    assert status["status"] == "completed" and status["tenants"] == 1 and status["completedAt"]
    expect_error(world.stack.get("/meta/data-deletion/del0000000000"), 404, "NOT_FOUND")
    # Meta repeating the request gets the same confirmation code.
    again = post_meta(world, "/meta/data-deletion", VALID)
    assert again.status in (200, 401)


# ---- encryption key rotation ------------------------------------------------------------------------

def test_rekey_from_a_to_b_while_a_sync_runs_then_only_b(world, make_stack):
    env = world.stack.responder.env
    key_a = env["ENCRYPTION_KEY"]
    key_b = base64.b64encode(bytes(range(32))).decode()
    tenants = [world.register(media_count=2) for _ in range(6)]
    meta_tenant(world)

    # Step 1: every process gets the ring b (seals), a (opens the old values).
    ring = {"ENCRYPTION_KEY": None, "ENCRYPTION_KEYS": f"b:{key_b},a:{key_a}"}
    dry = world.cli("rekey", "--dry-run", env=without(ring))
    assert dry.returncode == 0 and "key a: " in dry.stdout and "key b:" not in dry.stdout, dry.stdout

    # Step 2: rekey while syncs (with token refreshes: the tokens are old enough) write the same hashes.
    world.instagram.clock.advance(2 * 86_400)
    for tenant in tenants:
        world.stack.redis_cli("HSET", f"tenant:{tenant.id}", "token_update", "2020-01-01T00:00:00.000Z")
    syncing = threading.Thread(target=lambda: [world.cli("sync", "--all", "--parallel", "4", env=without(ring))
                                               for _ in range(2)])
    syncing.start()
    run = world.cli("rekey", env=without(ring))
    syncing.join(timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 unreadable" in run.stdout
    again = world.cli("rekey", "--dry-run", env=without(ring))
    assert "key a:" not in again.stdout and "key b: " in again.stdout, again.stdout

    # Step 3: only key b. Every tenant opens, syncs and serves; the refreshed tokens survived.
    only_b = {"ENCRYPTION_KEY": None, "ENCRYPTION_KEYS": f"b:{key_b}"}
    final = world.cli("sync", "--all", env=without(only_b))
    assert final.returncode == 0, final.stdout + final.stderr
    assert "7 synced" in final.stdout or "6 synced" in final.stdout, final.stdout
    listed = world.cli("tenants", "list", "--json", env=without(only_b))
    assert len(json_lines(listed.stdout)) == 7 and "UNREADABLE" not in listed.stdout
    # A responder started with only key b, on the same store: every feed serves, every tenant opens,
    # and Meta's callback finds its tenant through the blind index the rekey moved to key b.
    restarted = make_stack(dict(world_env(world), **only_b, REDIS_URL=world.stack.redis.url))
    for tenant in tenants:
        assert len(expect_success(restarted.get("/photos", headers=world.reads(tenant)))["photos"]) == 2
        assert expect_success(restarted.get("/tenant", headers=world.reads(tenant)))["tenant"]["tokenState"] == "ok"
    assert expect_success(post_meta_to(restarted, "/meta/deauthorize", VALID))["deauthorized"] == 1


def post_meta_to(stack, path: str, signed: str):
    body, headers = form(signed)
    return stack.post(path, body, headers=headers)


def without(overrides: dict) -> dict:
    """CLI environment overrides; a None value removes the variable."""
    return {k: v for k, v in overrides.items() if v is not None} | {k: "" for k, v in overrides.items() if v is None}


def world_env(world) -> dict:
    return {k: v for k, v in world.stack.responder.env.items() if k.startswith(("INSTAGRAM_", "FACEBOOK_"))}


def test_facebook_login_expiry_from_debug_token_and_callbacks_by_app_scoped_user(world):
    fake = world.instagram
    account = fake.create_account(media_count=2, facebook=True)
    token = fake.mint_token(account["fb_user_id"], product="facebook", kind="long")
    body = {"name": "fb tenant", "instagramAccountId": account["ig_user_id"], "instagramAccountSecret": fake.fb_app_secret,
            "apiType": "FACEBOOK_LOGIN", "instagramAppId": fake.fb_app_id, "instagramAccessToken": token}
    data = expect_success(world.stack.post("/register", body), 201)
    assert data["photosCount"] == 2
    assert len(fake.requests(path_prefix="/facebook/v23.0/debug_token")) == 1  # asked once
    view = expect_success(world.stack.get("/tenant", headers={"Authorization": f"Bearer {data['authToken']}"}))["tenant"]
    assert view["tokenExpiresAt"] is not None and view["tokenState"] == "ok"
    hash_ = world.tenant_hash(data["tenantId"])
    assert hash_["meta_user_id"].startswith("v1:") and account["fb_user_id"] not in json.dumps(hash_)
    # Meta names the app-scoped user, signed with the app secret: found through the blind index.
    signed = sign({"algorithm": "HMAC-SHA256", "issued_at": 1700000100, "user_id": account["fb_user_id"]}, fake.fb_app_secret)
    assert expect_success(post_meta(world, "/meta/deauthorize", signed))["deauthorized"] == 1
    view = expect_success(world.stack.get("/tenant", headers={"Authorization": f"Bearer {data['authToken']}"}))["tenant"]
    assert view["tokenState"] == "invalid"
    # Deleted: no index entry is left behind.
    expect_success(world.stack.request("DELETE", "/tenant", headers={"Authorization": f"Bearer {data['managementToken']}"}))
    assert [k for k in world.stack.redis_cli("--scan", "--pattern", "meta:account:*").split("\n") if k] == []
