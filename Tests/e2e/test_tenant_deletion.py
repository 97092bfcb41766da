"""DELETE /tenant through nginx, against the Instagram and Cloudinary fakes: every key that names
the tenant and every mirrored asset goes (Cloudinary's delete by prefix, more than 1000 assets, so
paged), another tenant is untouched, and a failure injected half way leaves a state that a repeat
— or the next `sync --all` — finishes."""

from __future__ import annotations

import pytest

from harness import expect_error, expect_success
from sync_support import cloudinary, instagram, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.stack_env(AUTH_CACHE_TTL_SECONDS="0")


def manage(data: dict) -> dict:
    return {"Authorization": f"Bearer {data['managementToken']}"}


def keys_naming(world, tenant_id: str) -> list[str]:
    return sorted(k for k in world.stack.redis_cli("--scan", "--pattern", f"*{tenant_id}*").split("\n") if k)


def folder(tenant_id: str) -> str:
    return f"instagram-media/{tenant_id}/"


def synced_tenant(world, media: int = 5) -> dict:
    account, token = world.account(media_count=media)
    data = world.register(token, account_id=account["ig_user_id"])
    assert data["photosCount"] == media
    return data


def test_delete_removes_every_key_and_asset_with_paging_and_a_repeat_after_a_failure(world):
    doomed, kept = synced_tenant(world), synced_tenant(world, media=3)
    mirrored = world.cloudinary.count_assets(folder(doomed["tenantId"]))
    assert mirrored >= 5
    # More than one Admin API page (1000 originals per call).
    world.cloudinary.seed_assets(folder(doomed["tenantId"]) + "older-", 1500)
    # A delivery record for it exists too (as the webhook would leave one).
    world.stack.redis_cli("SET", f"qstash:seen:{doomed['tenantId']}:msg_1", "done", "EX", "600")
    world.stack.redis_cli("SADD", f"qstash:seen-index:{doomed['tenantId']}", "msg_1")
    kept_keys = keys_naming(world, kept["tenantId"])
    kept_assets = world.cloudinary.count_assets(folder(kept["tenantId"]))

    # The second Admin API call and every retry of it fail: the delete stops half way.
    world.cloudinary.add_fault({"match": {"method": "DELETE", "path_prefix": "/v1_1/"}, "skip": 1, "count": -1,
                                "status": 500, "body": {"error": {"message": "General Error"}}})
    failed = world.stack.request("DELETE", "/tenant", headers=manage(doomed))
    expect_error(failed, 503, "SERVICE_UNAVAILABLE")
    assert "repeat the request" in failed.json()["errorMessage"]
    left = world.cloudinary.count_assets(folder(doomed["tenantId"]))
    assert 0 < left < mirrored + 1500
    # Half deleted is already not served, not synced and not listed.
    expect_error(world.photos_response(doomed["authToken"]), 401, "UNAUTHORIZED")
    assert doomed["tenantId"] not in world.stack.redis_cli("SMEMBERS", "tenants")
    run = world.sync_cli("--all")
    assert doomed["tenantId"] not in run.stdout.replace("summary", "")

    world.cloudinary.clear_faults()
    done = expect_success(world.stack.request("DELETE", "/tenant", headers=manage(doomed)))
    assert done["deleted"]["assets"] == left
    assert done["deleted"]["keys"] >= 4
    assert keys_naming(world, doomed["tenantId"]) == []
    assert world.cloudinary.count_assets(folder(doomed["tenantId"])) == 0
    assert world.stack.redis_cli("SISMEMBER", "tenants:deleting", doomed["tenantId"]) == "0"
    # Nothing of the other tenant moved.
    assert keys_naming(world, kept["tenantId"]) == kept_keys
    assert world.cloudinary.count_assets(folder(kept["tenantId"])) == kept_assets
    assert len(world.photos(kept["authToken"])) == 3
    # The credentials are gone: a repeat is 401, the auth token too.
    expect_error(world.stack.request("DELETE", "/tenant", headers=manage(doomed)), 401, "UNAUTHORIZED")
    expect_error(world.photos_response(doomed["authToken"]), 401, "UNAUTHORIZED")


def test_an_interrupted_delete_is_finished_by_the_next_timer_run(world):
    doomed = synced_tenant(world)
    world.cloudinary.seed_assets(folder(doomed["tenantId"]) + "x-", 1200)
    world.cloudinary.add_fault({"match": {"method": "DELETE", "path_prefix": "/v1_1/"}, "skip": 1, "count": -1,
                                "status": 500, "body": {"error": {"message": "General Error"}}})
    expect_error(world.stack.request("DELETE", "/tenant", headers=manage(doomed)), 503, "SERVICE_UNAVAILABLE")
    world.cloudinary.clear_faults()
    run = world.sync_cli("--all")
    assert run.returncode == 0, run.stdout + run.stderr
    assert keys_naming(world, doomed["tenantId"]) == []
    assert world.cloudinary.count_assets(folder(doomed["tenantId"])) == 0


def test_delete_needs_the_management_token_and_a_quiet_tenant(world):
    data = synced_tenant(world, media=1)
    expect_error(world.stack.request("DELETE", "/tenant", headers={"Authorization": f"Bearer {data['authToken']}"}),
                 403, "FORBIDDEN")
    expect_error(world.stack.request("DELETE", "/tenant"), 401, "UNAUTHORIZED")
    # A sync holding the lock: 409 with Retry-After, and nothing is deleted.
    world.stack.redis_cli("SET", f"lock:sync:{data['tenantId']}", "someone", "PX", "30000")
    busy = world.stack.request("DELETE", "/tenant", headers=manage(data))
    expect_error(busy, 409, "CONFLICT")
    assert busy.header("Retry-After") == "5"
    assert len(world.photos(data["authToken"])) == 1
    world.stack.redis_cli("DEL", f"lock:sync:{data['tenantId']}")
    expect_success(world.stack.request("DELETE", "/tenant", headers=manage(data)))
    assert keys_naming(world, data["tenantId"]) == []
