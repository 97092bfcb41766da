"""POST /sync with QStash at scale, end to end: the fan-out goes through QStash's batch API (one
call per 100 messages), every message carries the flow-control key that bounds how many
deliveries QStash sends at once, and a batch call that fails reports its tenants while the rest
still go out."""

from __future__ import annotations

import json

import pytest

from harness import expect_success
from qstash_world import QSTASH_TOKEN, QStashWorld, hour_safe


@pytest.fixture
def world(make_stack):
    started: list[QStashWorld] = []

    def make(**kw) -> QStashWorld:
        started.append(QStashWorld(make_stack, **kw))
        return started[-1]

    yield make
    for w in started:
        w.stop()


def batch_calls(w: QStashWorld) -> list:
    return w.qstash.requests(path_prefix="/v2/batch", method="POST")


def test_fan_out_uses_full_batches_and_flow_control_bounds_deliveries(world):
    hour_safe()
    w = world(env={"QSTASH_FLOW_CONTROL_PARALLELISM": "2"})
    tenants = [w.register(media_count=1) for _ in range(120)]
    fresh = {t.id: w.new_post(t) for t in tenants[:5]}
    w.qstash.engine.set_paused(True)

    summary = expect_success(w.sync())["summary"]
    assert summary["totalTenants"] == 120 and summary["queuedCount"] == 120 and summary["errorCount"] == 0, summary
    assert len(summary["queuedTasks"]) == 120 and summary["errors"] == []
    calls = batch_calls(w)
    assert sorted(len(json.loads(c.body)) for c in calls) == [20, 100], "one call per 100 messages"
    assert w.qstash.requests(path_prefix="/v2/publish/") == [], "nothing is published one by one"
    destinations = set()
    for call in calls:
        for item in json.loads(call.body):
            headers = item["headers"]
            assert headers["Upstash-Flow-Control-Key"] == "igmedia-sync"
            assert headers["Upstash-Flow-Control-Value"] == "parallelism=2"
            assert headers["Upstash-Deduplication-Id"].startswith("sync-")
            assert json.loads(item["body"])["tenantId"] == item["destination"].rsplit("/", 1)[1]
            destinations.add(item["destination"])
    assert destinations == {t.public_url for t in tenants}

    w.qstash.engine.set_paused(False)
    assert w.qstash.wait_idle(timeout=60), "every delivery done"
    flow = w.qstash.engine.flow_state()["igmedia-sync"]
    assert flow["delivered"] == 120 and flow["maxInFlight"] == 2, flow
    for message_id in summary["queuedTasks"]:
        assert w.qstash.message(message_id).state == "delivered"
    for tenant in tenants[:5]:
        assert fresh[tenant.id] in w.photo_ids(tenant)


def test_a_failing_batch_call_reports_its_tenants_and_the_others_still_go_out(world):
    hour_safe()
    w = world()
    tenants = [w.register(media_count=1) for _ in range(130)]
    w.qstash.engine.set_paused(True)
    w.qstash.add_fault({"path_prefix": "/v2/batch", "status": 500, "body": {"error": "internal server error"}, "count": 1})
    response = w.sync()
    summary = expect_success(response)["summary"]
    # The two calls (100 and 30 messages) go out together: the fault hits whichever arrives first.
    assert summary["totalTenants"] == 130 and summary["errorCount"] in (100, 30), summary
    assert summary["queuedCount"] == 130 - summary["errorCount"]
    failed = {e["tenantId"] for e in summary["errors"]}
    assert len(failed) == summary["errorCount"] and failed <= {t.id for t in tenants}
    assert all("HTTP 500" in e["error"] for e in summary["errors"]), summary["errors"][:2]
    assert QSTASH_TOKEN.encode() not in response.body
    # The next trigger queues everyone (the 30 already queued are deduplicated by QStash).
    again = expect_success(w.sync())["summary"]
    assert again["errorCount"] == 0 and again["queuedCount"] == 130


def test_invalid_and_deleting_tenants_are_not_published(world):
    hour_safe()
    w = world()
    tenants = [w.register(media_count=1) for _ in range(4)]
    w.qstash.engine.set_paused(True)
    w.stack.redis_cli("SADD", "tenants:invalid", tenants[0].id)
    w.stack.redis_cli("SADD", "tenants:deleting", tenants[1].id)
    summary = expect_success(w.sync())["summary"]
    assert summary["totalTenants"] == 2 and summary["queuedCount"] == 2, summary
    published = {item["destination"] for c in batch_calls(w) for item in json.loads(c.body)}
    assert published == {tenants[2].public_url, tenants[3].public_url}
