"""Sync runs end to end: one run syncs every syncable tenant once, whoever works on it.

- POST /sync without QStash answers 202 at once with the run's id (a second trigger joins the
  same run); the responder syncs in the background; GET /sync/runs/<id> (`current`, `last`;
  Bearer: SYNC_INTERNAL_SECRET) shows it progress to done; `igmedia-fcgi status` shows it.
- Several `igmedia-fcgi sync --all` processes share the run (a Redis stream with a consumer
  group): every tenant is synced by exactly one of them.
- A worker SIGKILLed half way: the tenants it held are taken over by the next worker after
  `--reclaim-after`, and each is counted once.

Instagram and Cloudinary are the loopback fakes (sync_support.py); the Instagram fake's latency
knob makes each tenant's sync slow enough for the run to outlast the request. Every wait and
every subprocess is bounded.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import subprocess
import time
import urllib.request

import pytest

from harness import expect_error, expect_success, wait_until
from sync_support import (RUN_ID, check_run_shape, cloudinary, expect_accepted_run, instagram,  # noqa: F401
                          ok_lines, summary_counts, wait_for_run, world)

MEDIA_LISTING = "/graph/v23.0/me/media"
TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z"


class Tenants:
    """Registered tenants (one Instagram account each) and the post each must show after a sync."""

    def __init__(self, world, count: int, media_count: int = 1):
        self.world = world
        self.ids: list[str] = []
        self.auth: dict[str, str] = {}
        self.user: dict[str, str] = {}  # tenant id -> ig_user_id
        self.fresh: dict[str, str] = {}
        for index in range(count):
            account, token = world.account(media_count=media_count)
            data = world.register(token, name=f"run-tenant-{index}")
            assert data["photosCount"] == media_count, data
            self.ids.append(data["tenantId"])
            self.auth[data["tenantId"]] = data["authToken"]
            self.user[data["tenantId"]] = account["ig_user_id"]

    def add_posts(self) -> None:
        """A new newest post on every account: only a sync brings it into the feed."""
        for tenant in self.ids:
            self.fresh[tenant] = self.world.instagram.add_media(self.user[tenant], {"media_type": "IMAGE"})

    def first_photo(self, tenant: str) -> str | None:
        feed = self.world.stack.redis_cli("GET", f"instagram:{tenant}:photos")
        items = json.loads(feed) if feed else []
        return items[0]["id"] if items else None

    def not_updated(self) -> list[str]:
        return [t for t in self.ids if self.first_photo(t) != self.fresh[t]]


def control(world, method: str, path: str):
    """The Instagram fake's control API, over loopback HTTP."""
    request = urllib.request.Request(world.instagram.base_url + "/__control/" + path, method=method)
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def listings_per_tenant(world, tenants: Tenants) -> collections.Counter:
    """Media-list requests the Instagram fake recorded (GET /__control/requests) per tenant, by
    the account whose token each request carried."""
    recorded = control(world, "GET", "requests?path_prefix=" + MEDIA_LISTING)["requests"]
    with world.instagram._state_lock:
        owner = {value: token.user for value, token in world.instagram.tokens.items()}
    tenant_of = {user: tenant for tenant, user in tenants.user.items()}
    counts: collections.Counter = collections.Counter()
    for request in recorded:
        [token] = request["query"]["access_token"]
        counts[tenant_of.get(owner.get(token), "someone else")] += 1
    return counts


def run_id_of(stdout: str) -> tuple[str, str]:
    """`run <id>: started|joined` → (id, "started"|"joined")."""
    match = re.search(r"^run (\S+): (started|joined)$", stdout, re.M)
    assert match, stdout
    assert RUN_ID.fullmatch(match.group(1)), match.group(1)
    return match.group(1), match.group(2)


def finish(process: subprocess.Popen, timeout: float) -> tuple[str, str]:
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=10)
        raise AssertionError(f"`sync --all` still running after {timeout}s:\n{stdout}\n{stderr[-2000:]}")


def kill_once_synced(world, victim: subprocess.Popen, count: int) -> str:
    """SIGKILLs the `sync --all` process once the run in progress has `count` tenants synced
    (or when waiting fails); returns what it printed."""
    try:
        def some_synced() -> bool:
            response = world.run_status("current")
            return response.status == 200 and expect_success(response)["synced"] >= count
        wait_until(some_synced, timeout=60, what="the first worker's first tenants")
    finally:
        os.killpg(victim.pid, signal.SIGKILL)
        stdout, _ = victim.communicate(timeout=10)
    return stdout


# ---- POST /sync: 202 at once, the run in the background -------------------------------------------

def test_post_sync_answers_202_at_once_and_the_run_syncs_every_tenant_in_the_background(world):
    tenants = Tenants(world, 5)
    tenants.add_posts()
    control(world, "DELETE", "requests")
    world.instagram.set_latency(1000)  # each Graph call and CDN fetch: the run takes seconds

    started = time.monotonic()
    first = world.sync_http()
    answered = time.monotonic() - started
    assert answered < 1.0, f"POST /sync took {answered:.2f}s: it must not sync inside the request"
    world.assert_no_secret(first.body, "the /sync response")
    accepted = expect_accepted_run(first)
    assert accepted["started"] is True and accepted["summary"]["totalTenants"] == 5, accepted
    run_id = accepted["runId"]

    # A second trigger while the run goes on joins it.
    started = time.monotonic()
    second = world.sync_http()
    assert time.monotonic() - started < 1.0
    joined = expect_accepted_run(second)
    assert (joined["runId"], joined["started"]) == (run_id, False), joined

    running = check_run_shape(expect_success(world.run_status(run_id)))
    assert running["state"] == "running" and running["trigger"] == "http", running
    assert running["finishedAt"] is None and re.fullmatch(TIMESTAMP, running["startedAt"]), running
    assert running["synced"] < 5, running
    assert expect_success(world.run_status("current"))["runId"] == run_id
    status = world.cli("status")
    assert re.search(rf"^sync run in progress: {run_id} \(http, started {TIMESTAMP}\): running, ", status.stdout,
                     re.M), status.stdout

    done = wait_for_run(world.stack, world.sync_secret, run_id, timeout=30)
    elapsed = time.monotonic() - started
    assert elapsed > 1.0 > answered, f"the run ({elapsed:.2f}s) should outlast the request ({answered:.2f}s)"
    assert (done["queued"], done["synced"], done["failed"], done["deferred"], done["skipped"]) == (5, 5, 0, 0, 0), done
    assert done["recentErrors"] == [] and done["remaining"] == 0 and done["tenantIndexRead"], done
    assert re.fullmatch(TIMESTAMP, done["finishedAt"]) and done["finishedAt"] >= done["startedAt"], done
    assert tenants.not_updated() == [], "every feed has its tenant's new post"
    # Triggered twice, synced once each.
    assert listings_per_tenant(world, tenants) == {t: 1 for t in tenants.ids}

    # Finished: no run in progress; `last` names it.
    expect_error(world.run_status("current"), 404, "NOT_FOUND")
    last = expect_success(world.run_status("last"))
    assert last == done, (last, done)
    status = world.cli("status")
    assert status.returncode in (0, 1), status.stdout + status.stderr
    assert "sync run in progress" not in status.stdout, status.stdout
    assert re.search(rf"^last sync run: {run_id} \(http, started {TIMESTAMP}, finished {TIMESTAMP}\): done, "
                     r"5/5 done, 5 synced, 0 failed, 0 deferred, 0 skipped$", status.stdout, re.M), status.stdout

    # The next trigger starts a new run.
    world.instagram.set_latency(0)
    again, run = world.sync_http_and_wait()
    assert again["started"] is True and again["runId"] != run_id, again
    assert (run["synced"], run["failed"]) == (5, 0), run
    assert expect_success(world.run_status("last"))["runId"] == again["runId"]
    assert expect_success(world.run_status(run_id)) == done, "a finished run stays readable"


def test_run_status_needs_the_sync_secret_and_an_unknown_run_is_404(world):
    tenants = Tenants(world, 1)
    accepted, done = world.sync_http_and_wait()
    run_id = accepted["runId"]
    assert done["synced"] == 1, done
    secret = world.sync_secret

    refused = [
        world.run_status(run_id, bearer=None),
        world.run_status("last", bearer=None),
        world.run_status("current", bearer=None),
        world.run_status(run_id, bearer=secret + "x"),
        world.run_status(run_id, bearer=secret[:-1]),
        world.run_status(run_id, bearer=secret.upper() if secret != secret.upper() else secret.lower()),
        world.run_status(run_id, bearer="x" * 32),
        world.run_status(run_id, bearer=tenants.auth[tenants.ids[0]]),  # a tenant's token
        world.stack.get(f"/sync/runs/{run_id}", headers={"Authorization": f"Basic {secret}"}),
        world.stack.get(f"/sync/runs/{run_id}?secret={secret}"),
        # Authentication comes first: an unknown id is not told apart without the secret.
        world.run_status("r1700000000000-000000000000", bearer="x" * 32),
    ]
    for response in refused:
        expect_error(response, 401, "UNAUTHORIZED")
        assert secret not in response.body.decode(), "the sync secret was echoed"
        world.assert_no_secret(response.body, "a refused GET /sync/runs")
    for unknown in ("r1700000000000-000000000000", "nope", run_id + "0", "current-run", "a" * 65):
        expect_error(world.run_status(unknown), 404, "NOT_FOUND")
    assert expect_success(world.run_status(run_id))["state"] == "done"


# ---- `sync --all`: workers sharing one run ------------------------------------------------------

def test_two_concurrent_sync_all_processes_sync_every_tenant_exactly_once(world):
    tenants = Tenants(world, 40)
    tenants.add_posts()
    control(world, "DELETE", "requests")
    world.instagram.set_latency(100)
    # --parallel 4: each process takes 16 tenants at a time from the run's queue, so both get a
    # share of 40 (with the default 32 the first to read would take all of them at once).
    processes = [world.start_sync_cli("--all", "--parallel", "4", verbose=True) for _ in range(2)]
    outputs = [finish(process, timeout=120) for process in processes]
    for stdout, stderr in outputs:
        world.assert_no_secret(stdout + stderr, "sync --all output")
    assert [p.returncode for p in processes] == [0, 0], outputs

    ids = [run_id_of(stdout) for stdout, _ in outputs]
    assert ids[0][0] == ids[1][0], ids
    run_id = ids[0][0]
    assert sorted(how for _, how in ids) == ["joined", "started"], ids
    shares = [summary_counts(stdout) for stdout, _ in outputs]
    for (stdout, _), share in zip(outputs, shares):
        assert (f"run {run_id}: done, 40 queued, 40 synced, 0 failed, 0 deferred, 0 skipped (all workers)"
                in stdout.splitlines()), stdout
        assert share["tenants"] == share["synced"] > 0 and share["failed"] == 0, (share, stdout)
        assert share["tenants"] == len(ok_lines(stdout)), stdout  # --verbose: one ok line per own tenant
    assert shares[0]["tenants"] + shares[1]["tenants"] == 40, shares
    synced_by = [set(ok_lines(stdout)) for stdout, _ in outputs]
    assert not synced_by[0] & synced_by[1], "a tenant was synced by both processes"
    assert synced_by[0] | synced_by[1] == set(tenants.ids)

    # The Instagram fake saw exactly one media listing per tenant.
    assert listings_per_tenant(world, tenants) == {t: 1 for t in tenants.ids}
    assert tenants.not_updated() == []
    run = expect_success(world.run_status("last"))
    assert (run["runId"], run["trigger"], run["state"]) == (run_id, "timer", "done"), run
    assert (run["queued"], run["synced"], run["failed"]) == (40, 40, 0), run


@pytest.mark.stack_env(SYNC_LOCK_TTL_SECONDS="5")
def test_a_worker_killed_half_way_leaves_its_tenants_to_the_next_one_each_counted_once(world):
    tenants = Tenants(world, 20)
    tenants.add_posts()
    control(world, "DELETE", "requests")
    world.instagram.set_latency(300)
    stdout = kill_once_synced(world, world.start_sync_cli("--all", "--parallel", "2", "--progress-every", "1"), 3)
    run_id, how = run_id_of(stdout)
    assert how == "started", stdout
    at_kill = check_run_shape(expect_success(world.run_status(run_id)))
    assert at_kill["state"] == "running" and 3 <= at_kill["synced"] < 20, at_kill
    # The tenants it was syncing stay locked until SYNC_LOCK_TTL_SECONDS; once their locks expired
    # nobody is syncing them, and the next worker must really sync them.
    wait_until(lambda: world.stack.redis_cli("KEYS", "lock:sync:*") == "", timeout=10, what="the dead worker's locks")

    world.instagram.set_latency(0)
    started = time.monotonic()
    rescue = world.sync_cli("--all", "--reclaim-after", "2", "--progress-every", "1", timeout=90)
    elapsed = time.monotonic() - started
    assert rescue.returncode == 0, rescue.stdout + rescue.stderr
    assert run_id_of(rescue.stdout) == (run_id, "joined"), rescue.stdout
    assert f"run {run_id}: done, 20 queued, 20 synced, 0 failed, 0 deferred, 0 skipped (all workers)" in \
        rescue.stdout.splitlines(), rescue.stdout
    share = summary_counts(rescue.stdout)
    assert share["tenants"] == share["synced"] == 20 - at_kill["synced"], (share, at_kill)
    assert elapsed < 60, f"the takeover took {elapsed:.1f}s"

    done = expect_success(world.run_status(run_id))
    assert (done["state"], done["queued"], done["synced"], done["failed"], done["remaining"]) == ("done", 20, 20, 0, 0), done
    assert tenants.not_updated() == [], "every tenant was synced, the dead worker's included"
    # Each tenant once in the run's counters; its own Instagram listing at least once (a tenant the
    # victim was syncing when it died was listed again by the next worker).
    counts = listings_per_tenant(world, tenants)
    assert set(counts) == set(tenants.ids) and all(counts[t] >= 1 for t in tenants.ids), counts
    assert sum(counts.values()) <= 20 + 2, counts  # at most --parallel 2 were in flight at the kill
    expect_error(world.run_status("current"), 404, "NOT_FOUND")


@pytest.mark.stack_env(SYNC_LOCK_TTL_SECONDS="30")
def test_a_tenant_the_dead_worker_was_syncing_is_synced_by_the_run_not_only_counted(world):
    """Taken over while the dead worker's lock still lives (SYNC_LOCK_TTL_SECONDS outlasts
    --reclaim-after): nobody is syncing the tenant, so the run must not count it as synced
    without syncing it, nor print it as failed while counting it synced."""
    tenants = Tenants(world, 12)
    tenants.add_posts()
    world.instagram.set_latency(300)
    stdout = kill_once_synced(world, world.start_sync_cli("--all", "--parallel", "2"), 2)
    run_id, _ = run_id_of(stdout)
    held = [key.split(":", 2)[2] for key in world.stack.redis_cli("KEYS", "lock:sync:*").split() if key]
    assert held, "the victim died holding no tenant: nothing to take over"

    world.instagram.set_latency(0)
    rescue = world.sync_cli("--all", "--reclaim-after", "2", timeout=90)
    assert run_id_of(rescue.stdout) == (run_id, "joined"), rescue.stdout
    done = wait_for_run(world.stack, world.sync_secret, run_id, timeout=60)
    share = summary_counts(rescue.stdout)
    problems = []
    never_synced = tenants.not_updated()
    if never_synced and done["synced"] + done["failed"] + done["deferred"] == 12 and done["failed"] == 0:
        problems.append(f"the run counts every tenant synced, yet {never_synced} were never synced "
                        f"(the dead worker held the locks of {held}): {done}")
    failed_lines = [line for line in rescue.stdout.splitlines() if line.startswith(("  failed ", "FAILED "))]
    if failed_lines and share["failed"] == 0:
        problems.append(f"`sync --all` prints {failed_lines} but counts 0 failed")
    assert problems == [], "\n".join(problems) + "\n" + rescue.stdout


# ---- freshness: a feed a sync process writes reaches the responder's cache through the stream ----

@pytest.mark.stack_env(FEED_CACHE_TTL_MS="60000")
def test_a_feed_written_by_a_sync_process_is_served_within_one_change_poll(world):
    tenants = Tenants(world, 1)
    [tenant] = tenants.ids
    before = [p["id"] for p in world.photos(tenants.auth[tenant])]
    assert [p["id"] for p in world.photos(tenants.auth[tenant])] == before  # cached now
    tenants.add_posts()
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    synced = time.monotonic()
    # The responder did not write this feed (another process did): only the change stream, polled
    # every CACHE_CHANGES_POLL_MS (100 ms), tells its cache; the 60 s TTL would not.
    while world.photos(tenants.auth[tenant])[0]["id"] != tenants.fresh[tenant]:
        assert time.monotonic() - synced < 0.6, "the synced feed was not served within one change poll"
        time.sleep(0.02)
