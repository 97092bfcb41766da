"""The responder's in-process feed cache, through nginx: its staleness bounds are the documented
ones (FEED_CACHE_TTL_MS without the change stream; one CACHE_CHANGES_POLL_MS with it, entries then
living up to CACHE_MAX_AGE_SECONDS), it never mixes tenants, and errors are never cached."""
import json
import time

import pytest

from harness import expect_error, expect_success
from tenant_helpers import register, store_feed


def feed_ids(stack, tenant):
    return [item["id"] for item in expect_success(stack.get("/photos", headers=tenant.auth))["photos"]]


@pytest.mark.stack_env(FEED_CACHE_TTL_MS="1000", CACHE_CHANGES_POLL_MS="0")
def test_without_the_change_stream_a_feed_written_elsewhere_shows_within_the_ttl(stack):
    tenant = register(stack, name="Cached tenant")
    store_feed(stack, tenant.id, json.dumps([{"id": "1"}]))
    assert feed_ids(stack, tenant) == ["1"]
    store_feed(stack, tenant.id, json.dumps([{"id": "2"}]))
    # Inside the TTL the reused answer may still be the old one; after it, never.
    deadline = time.monotonic() + 1.5
    while feed_ids(stack, tenant) != ["2"]:
        assert time.monotonic() < deadline, "the new feed did not show within FEED_CACHE_TTL_MS"
        time.sleep(0.05)


@pytest.mark.stack_env(FEED_CACHE_TTL_MS="1000", CACHE_CHANGES_POLL_MS="100", CACHE_MAX_AGE_SECONDS="60")
def test_with_the_change_stream_a_recorded_change_shows_within_a_poll_and_entries_outlive_the_ttl(stack):
    tenant = register(stack, name="Followed tenant")
    store_feed(stack, tenant.id, json.dumps([{"id": "1"}]))
    assert feed_ids(stack, tenant) == ["1"]
    # Written by hand, without announcing it: the cached answer is kept past FEED_CACHE_TTL_MS
    # (the stream is followed, so entries live up to CACHE_MAX_AGE_SECONDS).
    store_feed(stack, tenant.id, json.dumps([{"id": "2"}]))
    time.sleep(1.5)
    assert feed_ids(stack, tenant) == ["1"]
    # Announced on the change stream (as every sync, deletion and rotation does, in the same
    # transaction as the write): served within one poll interval plus a round trip.
    stack.redis_cli("XADD", "changes", "*", "feed", tenant.id)
    deadline = time.monotonic() + 0.6
    while feed_ids(stack, tenant) != ["2"]:
        assert time.monotonic() < deadline, "the announced feed did not show within CACHE_CHANGES_POLL_MS"
        time.sleep(0.02)
    # A token removed and announced stops resolving as quickly.
    assert stack.redis_cli("DEL", f"auth_token:{tenant.token}") == "1"
    stack.redis_cli("XADD", "changes", "*", "token", tenant.token)
    deadline = time.monotonic() + 0.6
    while stack.get("/photos", headers=tenant.auth).status != 401:
        assert time.monotonic() < deadline, "the announced token removal did not show within CACHE_CHANGES_POLL_MS"
        time.sleep(0.02)


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
