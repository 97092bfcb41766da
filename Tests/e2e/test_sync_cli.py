"""`igmedia-fcgi sync` (what the systemd timer runs) end to end, as a subprocess with the
responder's exact environment: `--all` (a shared sync run; ok lines with `--verbose`, which
`world.sync_cli` adds) with a failing tenant, the per-tenant lock between two concurrent syncs and
between the CLI and POST /sync's run, and the wall time of a cold and an unchanged sync with slow
upstreams. Several `sync --all` processes sharing one run: test_sync_runs.py.
"""

import base64
import re

import pytest

from harness import wait_until
from sync_support import LOCK_MESSAGE, cloudinary, instagram, ok_line, world  # noqa: F401 (fixtures)


def test_sync_all_with_one_revoked_token_syncs_the_others_and_exits_1(world):
    tenants = []
    for index in range(3):
        account, token = world.account(media_count=6)
        data = world.register(token, name=f"cli-tenant-{index}")
        assert data["photosCount"] == 6, data
        tenants.append((account, token, data))
    bad = tenants[1][2]["tenantId"]
    feed_before = world.photos_response(tenants[1][2]["authToken"])
    world.instagram.revoke_token(tenants[1][1])
    world.instagram.add_media(tenants[0][0]["ig_user_id"], {"media_type": "IMAGE", "caption": "fresh"})

    run = world.sync_cli("--all")  # also asserts: no token or secret on stdout or stderr
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    good = [t[2]["tenantId"] for t in tenants if t[2]["tenantId"] != bad]
    assert ok_line(run.stdout, good[0])["uploaded"] == "1"
    assert ok_line(run.stdout, good[1])["uploaded"] == "0"
    [failed] = [line for line in lines if line.startswith("FAILED ")]
    assert failed.startswith(f"FAILED {bad} fetching media failed: instagram auth (HTTP 400, code 190)"), failed
    assert "The session has been invalidated" in failed and "subcode 460" in failed
    [summary] = [line for line in lines if line.startswith("summary:")]
    assert re.fullmatch(r"summary: 3 tenants, 2 synced, 1 failed, 0 skipped \(token invalid\) in \d+ ms", summary), summary
    # The summary names the failing tenant on the line right after the counts.
    assert lines[lines.index(summary) + 1].startswith(f"  failed {bad}: fetching media failed"), run.stdout
    # The shared sync run this process started, and its totals (all workers: here only this one).
    [started] = [line for line in lines if line.startswith("run ") and line.endswith(": started")]
    run_id = started.split()[1].rstrip(":")
    assert f"run {run_id}: done, 3 queued, 2 synced, 1 failed, 0 deferred, 0 skipped (all workers)" in lines, run.stdout

    assert world.photos_response(tenants[1][2]["authToken"]).body == feed_before.body
    assert "code 190" in world.tenant_hash(bad).get("last_error", "")
    assert len(world.photos(tenants[0][2]["authToken"])) == 7

    # A new run: the dead token is skipped. Without --verbose there are no per-tenant ok lines.
    again = world.sync_cli("--all", verbose=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert not [line for line in again.stdout.splitlines() if line.startswith(("ok ", "FAILED "))], again.stdout
    assert re.search(r"^run (r\S+): started$", again.stdout, re.M) and run_id not in again.stdout, again.stdout
    assert re.search(r"^summary: 2 tenants, 2 synced, 0 failed, 1 skipped \(token invalid\) in \d+ ms$",
                     again.stdout, re.M), again.stdout


def test_a_tenant_without_a_token_fails_its_sync_and_records_why(world):
    data = world.register(None)
    assert data["photosCount"] == 0 and "note" not in data, data
    run = world.sync_cli("--all")
    assert run.returncode == 1
    assert f"FAILED {data['tenantId']} tenant has no Instagram access token" in run.stdout, run.stdout
    assert "no Instagram access token" in world.tenant_hash(data["tenantId"]).get("last_error", "")


def test_sync_with_another_encryption_key_fails_every_tenant_without_leaking(world):
    account, token = world.account(media_count=3)
    tenant = world.register(token)["tenantId"]
    other_key = base64.b64encode(bytes(range(32))).decode()
    run = world.sync_cli("--all", env={"ENCRYPTION_KEY": other_key})
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"FAILED {tenant} tenant {tenant}: field" in run.stdout and "failed to decrypt" in run.stdout, run.stdout
    assert other_key not in run.stdout + run.stderr


def test_sync_of_unknown_tenant_fails_and_arguments_are_checked(world):
    run = world.sync_cli("--tenant", "00000000-0000-4000-8000-000000000000")
    assert run.returncode == 1 and "FAILED 00000000-0000-4000-8000-000000000000 tenant not found" in run.stdout
    assert world.sync_cli().returncode != 0  # neither --all nor --tenant
    assert world.sync_cli("--all", "--tenant", "x").returncode != 0


def test_two_concurrent_syncs_of_one_tenant_one_completes_the_other_reports_the_lock(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    tenant = data["tenantId"]
    for caption in ("new one", "new two"):  # uploads to do: the sync holds its lock for a while
        world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE", "caption": caption})
    world.instagram.set_latency(300)
    world.cloudinary.set_latency(300)

    processes = [world.start_sync_cli("--tenant", tenant) for _ in range(2)]
    outputs = [process.communicate(timeout=60) for process in processes]
    for stdout, stderr in outputs:
        world.assert_no_secret(stdout + stderr, "sync output")
    codes = [process.returncode for process in processes]
    assert sorted(codes) == [0, 1], (codes, outputs)
    winner = outputs[codes.index(0)][0]
    loser = outputs[codes.index(1)][0]
    line = ok_line(winner, tenant)
    assert (line["photos"], line["uploaded"], line["failed"]) == ("8", "2", "0"), line
    assert f"FAILED {tenant} {LOCK_MESSAGE}" in loser, loser
    assert "summary: 1 tenants, 0 synced, 1 failed" in loser
    assert world.stack.redis_cli("EXISTS", f"lock:sync:{tenant}") == "0", "the owner released its lock"
    assert world.cloud_counters()["uploads"] == len(world.expected_assets(account["ig_user_id"], tenant))


def test_a_lock_held_by_someone_else_is_respected_left_alone_and_expires(world):
    account, token = world.account(media_count=3)
    tenant = world.register(token)["tenantId"]
    lock = f"lock:sync:{tenant}"
    world.stack.redis_cli("SET", lock, "another-owner", "PX", "1500")  # e.g. a crashed sync's lock
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 1 and f"FAILED {tenant} {LOCK_MESSAGE}" in run.stdout, run.stdout
    assert world.stack.redis_cli("GET", lock) == "another-owner", "only the owner may release a lock"
    wait_until(lambda: world.stack.redis_cli("EXISTS", lock) == "0", timeout=5, what="the lock's expiry")
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr


def listings(world) -> int:
    return len([r for r in world.instagram.requests(path_prefix="/graph/") if r.path.endswith("/me/media")])


def test_post_sync_while_the_cli_holds_the_lock_counts_that_sync_for_the_tenant(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    tenant = data["tenantId"]
    before = listings(world)
    world.instagram.set_latency(1500)  # the CLI's listing call: the lock is held meanwhile
    process = world.start_sync_cli("--tenant", tenant)
    try:
        wait_until(lambda: world.stack.redis_cli("EXISTS", f"lock:sync:{tenant}") == "1", timeout=10,
                   what="the CLI's sync lock")
        # The run finds the tenant locked: the sync in progress counts, nothing is done twice.
        _, run = world.sync_http_and_wait(timeout=10)
        assert (run["queued"], run["synced"], run["failed"], run["recentErrors"]) == (1, 1, 0, []), run
        assert LOCK_MESSAGE not in str(run)
        assert process.poll() is None, "the run ended while the CLI still held the lock"
    finally:
        stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and ok_line(stdout, tenant)["photos"] == "6", stdout
    assert listings(world) == before + 1, "only the CLI listed the media"
    world.instagram.set_latency(0)
    _, run = world.sync_http_and_wait()
    assert (run["synced"], run["failed"], run["recentErrors"]) == (1, 0, []), run
    assert listings(world) == before + 2, "the next run syncs the tenant itself"


@pytest.mark.parametrize("concurrency", [
    "16",  # the default
    pytest.param("8", marks=pytest.mark.stack_env(CLOUDINARY_CONCURRENCY="8")),
])
def test_sync_timing_cold_then_unchanged_with_100ms_upstream_latency(world, summary, concurrency):
    assert world.env.get("CLOUDINARY_CONCURRENCY", "16") == concurrency
    account, token = world.account(media_count=50)
    # The first sync (inside /register) fails, so the CLI below makes the cold sync.
    world.instagram.add_fault(path_regex=r"/me/media$", preset="unsupported_field", count=1)
    data = world.register(token)
    tenant = data["tenantId"]
    assert data["photosCount"] == 0 and "first sync failed" in data.get("note", ""), data
    assets = len(world.expected_assets(account["ig_user_id"], tenant))
    world.instagram.set_latency(100)  # every Graph call and every CDN fetch Cloudinary makes
    world.cloudinary.set_latency(100)  # every upload

    cold, run = world.timed_sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    line = ok_line(run.stdout, tenant)
    assert (line["photos"], line["uploaded"], line["failed"]) == ("50", str(assets), "0"), line
    before = world.cloud_counters()

    resync, run = world.timed_sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    line = ok_line(run.stdout, tenant)
    assert (line["uploaded"], line["deleted"], line["kept"], line["failed"]) == ("0", "0", str(assets), "0"), line
    after = world.cloud_counters()
    assert (after["uploads"], after["destroys"], after["total"]) == (before["uploads"], before["destroys"],
                                                                      before["total"])

    report = (f"SYNC-TIMING cold={cold:.2f}s resync={resync:.2f}s "
              f"(50 media, {assets} assets, +100 ms per Instagram/Cloudinary call, CLOUDINARY_CONCURRENCY={concurrency})")
    print(report)
    summary(report)
    assert cold <= 3.0, report
    assert resync <= 1.5, report
    assert len(world.photos(data["authToken"])) == 50
