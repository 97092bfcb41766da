"""Meta's rate limits end to end: the Instagram fake answers throttle errors and usage headers on
demand; the sync defers the tenants concerned (recorded RATE_LIMITED, never invalid), makes no
Graph call for them until the pause ends, and the rest of the round goes on. An app-wide pause
is shared through the store, so a second process holds off too."""

from __future__ import annotations

import json
import re
import time

from sync_support import cloudinary, instagram, world  # noqa: F401 (fixtures)


def media_calls(world) -> int:
    return sum(1 for r in world.instagram.requests() if r.path.endswith("/media"))


def tenants(world, count: int) -> list[dict]:
    made = []
    for _ in range(count):
        account, token = world.account(media_count=2)
        made.append(world.register(token, account_id=account["ig_user_id"]))
    return made


def run_counts(stdout: str) -> tuple[int, int, int]:
    match = re.search(r"^run \S+: done, \d+ queued, (\d+) synced, (\d+) failed, (\d+) deferred", stdout, re.MULTILINE)
    assert match, stdout
    return tuple(int(x) for x in match.groups())


def test_an_account_throttle_defers_that_tenant_only_and_never_invalidates_it(world):
    throttled, other = tenants(world, 2)
    feed_before = world.photos_response(throttled["authToken"]).body
    # Instagram's BUC throttle for this account only (the app's own usage is fine).
    buc = json.dumps({"17841405822304914": [{"type": "instagram", "call_count": 100, "total_cputime": 31,
                                             "total_time": 40, "estimated_time_to_regain_access": 19}]})
    world.instagram.add_fault({
        "status": 400, "count": 1, "match": {"path_regex": "/media$"},
        "body": {"error": {"message": "Application request limit reached", "type": "IGApiException", "code": 80002,
                           "is_transient": True, "fbtrace_id": "A1b2C3"}},
        "headers": [["X-Business-Use-Case-Usage", buc],
                    ["X-App-Usage", json.dumps({"call_count": 12, "total_cputime": 5, "total_time": 8})]]})
    run = world.sync_cli("--tenant", throttled["tenantId"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 deferred (rate limited)" in run.stdout, run.stdout
    record = world.tenant_hash(throttled["tenantId"])
    assert record["last_error_code"] == "RATE_LIMITED" and "token_invalid" not in record, record
    assert record["rate_limit_strikes"] == "1"
    assert abs(int(record["rate_limited_until"]) - time.time() - 19 * 60) < 60, (record, time.time())
    assert world.stack.redis_cli("SISMEMBER", "tenants:invalid", throttled["tenantId"]) == "0"

    before = media_calls(world)
    run = world.sync_cli("--all")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run_counts(run.stdout) == (1, 0, 1)
    assert media_calls(world) - before == 1, "no Graph call for the paused account"
    assert world.photos_response(throttled["authToken"]).body == feed_before

    # Once the pause is over the tenant syncs again and its strikes start over.
    world.stack.redis_cli("HSET", f"tenant:{throttled['tenantId']}", "rate_limited_until", str(int(time.time()) - 1))
    run = world.sync_cli("--tenant", throttled["tenantId"])
    assert run.returncode == 0 and "1 synced" in run.stdout, run.stdout
    record = world.tenant_hash(throttled["tenantId"])
    assert "rate_limit_strikes" not in record and "rate_limited_until" not in record, record


def test_an_app_throttle_pauses_every_tenant_and_a_second_process_holds_off_too(world):
    made = tenants(world, 3)
    world.instagram.add_fault({"preset": "throttle", "params": {"code": 4}, "count": 1, "match": {"path_regex": "/media$"}})
    before = media_calls(world)
    run = world.sync_cli("--all", "--parallel", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run_counts(run.stdout) == (0, 0, 3)
    assert media_calls(world) - before == 1, "the round goes on without calling Graph"
    ttl = int(world.stack.redis_cli("PTTL", "ratelimit:graph:app"))
    assert 290_000 < ttl <= 330_000, ttl
    for tenant in made:
        assert world.tenant_hash(tenant["tenantId"])["last_error_code"] == "RATE_LIMITED"

    before = media_calls(world)
    run = world.sync_cli("--all")
    assert run_counts(run.stdout) == (0, 0, 3) and media_calls(world) == before, run.stdout


def test_usage_over_the_threshold_pauses_the_app_after_the_answer_that_said_so(world):
    tenants(world, 3)
    world.instagram.app_usage = {"call_count": 95, "total_cputime": 20, "total_time": 30}
    before = media_calls(world)
    run = world.sync_cli("--all", "--parallel", "1")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run_counts(run.stdout) == (1, 0, 2), run.stdout
    assert media_calls(world) - before == 1
    assert int(world.stack.redis_cli("PTTL", "ratelimit:graph:app")) > 0
