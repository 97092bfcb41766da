"""The responder's in-process feed cache (FEED_CACHE_TTL_MS), through nginx: its staleness bound
is the documented one, it never mixes tenants, and errors are never cached."""
import json
import time

import pytest

from harness import expect_error, expect_success
from tenant_helpers import register, store_feed


def feed_ids(stack, tenant):
    return [item["id"] for item in expect_success(stack.get("/photos", headers=tenant.auth))["photos"]]


@pytest.mark.stack_env(FEED_CACHE_TTL_MS="1000")
def test_a_feed_written_elsewhere_shows_within_the_ttl(stack):
    tenant = register(stack, name="Cached tenant")
    store_feed(stack, tenant.id, json.dumps([{"id": "1"}]))
    assert feed_ids(stack, tenant) == ["1"]
    store_feed(stack, tenant.id, json.dumps([{"id": "2"}]))
    # Inside the TTL the reused answer may still be the old one; after it, never.
    deadline = time.monotonic() + 1.5
    while feed_ids(stack, tenant) != ["2"]:
        assert time.monotonic() < deadline, "the new feed did not show within FEED_CACHE_TTL_MS"
        time.sleep(0.05)


@pytest.mark.stack_env(FEED_CACHE_TTL_MS="60000")
def test_tenants_never_share_a_cached_feed_and_errors_are_not_cached(stack):
    a = register(stack, name="Tenant A")
    b = register(stack, name="Tenant B")
    store_feed(stack, a.id, json.dumps([{"id": "a"}]))
    store_feed(stack, b.id, json.dumps([{"id": "b"}]))
    for _ in range(20):
        assert feed_ids(stack, a) == ["a"]
        assert feed_ids(stack, b) == ["b"]
    stack.redis_cli("DEL", f"tenant:{b.id}")
    c = register(stack, name="Tenant C")
    expect_error(stack.get("/photos", headers={"Authorization": "Bearer 00000000-0000-4000-8000-000000000000"}),
                 401, "UNAUTHORIZED")
    # C had no feed and was never read before: its first read goes to the store.
    assert feed_ids(stack, c) == []
