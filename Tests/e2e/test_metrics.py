"""GET /metrics through nginx, parsed with the official Python client's parser (prometheus_client)
and checked with `promtool check metrics`: the values move as requests, syncs and failures
happen; no tenant id or token ever appears in a label; the shipped nginx config answers it only
for its allow-listed networks; METRICS_SECRET adds a Bearer check; `sync --metrics-textfile`
writes a file node_exporter's textfile collector can read."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import REPO, expect_error, expect_success
from sync_support import cloudinary, instagram, world  # noqa: F401 (fixtures)
from tenant_helpers import register, store_feed

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def scrape(stack, headers=None) -> tuple[str, dict]:
    response = stack.get("/metrics", headers=headers)
    assert response.status == 200, response
    assert response.header("Content-Type") == CONTENT_TYPE
    text = response.body.decode()
    return text, parse(text)


def parse(text: str) -> dict:
    """(name, frozenset(labels)) -> value, for every sample; families parse with the official parser."""
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, frozenset(sample.labels.items()))
            assert key not in samples, f"duplicate sample {key}"
            samples[key] = sample.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    want = set(labels.items())
    matching = [v for (n, ls), v in samples.items() if n == name and want <= set(ls)]
    return sum(matching)


def promtool_check(text: str, tmp_path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (scripts/install-deps installs Debian's prometheus)")
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.stack_env(FEED_CACHE_TTL_MS="1000")
def test_scrape_is_valid_and_counts_requests_cache_lookups_and_store_calls(stack, tmp_path):
    tenant = register(stack, name="Metrics tenant", instagramAccessToken=None)
    store_feed(stack, tenant.id, '[{"id":"1"}]')
    before_text, before = scrape(stack)
    promtool_check(before_text, tmp_path)
    for _ in range(5):
        expect_success(stack.get("/photos", headers=tenant.auth))
    expect_error(stack.get("/photos", headers={"Authorization": "Bearer 00000000-0000-4000-8000-000000000000"}), 401,
                 "UNAUTHORIZED")
    stack.get("/no-such-path")
    text, after = scrape(stack)
    promtool_check(text, tmp_path)

    photos = {"route": "/photos", "method": "GET"}
    assert value(after, "igmedia_http_requests_total", status_class="2xx", **photos) - \
        value(before, "igmedia_http_requests_total", status_class="2xx", **photos) == 5
    assert value(after, "igmedia_http_requests_total", status_class="4xx", **photos) - \
        value(before, "igmedia_http_requests_total", status_class="4xx", **photos) == 1
    assert value(after, "igmedia_http_request_duration_seconds_count", **photos) - \
        value(before, "igmedia_http_request_duration_seconds_count", **photos) == 6
    # The histogram resolves 50 µs … 5 s.
    buckets = {float(dict(ls)["le"]) for (n, ls) in after if n == "igmedia_http_request_duration_seconds_bucket"}
    assert min(buckets) == 5e-05 and {0.005, 5.0, float("inf")} <= buckets, buckets
    # nginx does not route unknown paths to the responder; what reaches it unrouted is counted apart.
    assert ("igmedia_http_requests_total", frozenset({("method", "any"), ("route", "unrouted"),
                                                      ("status_class", "4xx")})) in after
    # The first read missed the feed cache, the next ones hit it.
    assert value(after, "igmedia_feed_cache_lookups_total", result="hit") - \
        value(before, "igmedia_feed_cache_lookups_total", result="hit") >= 4
    assert value(after, "igmedia_auth_cache_lookups_total") > value(before, "igmedia_auth_cache_lookups_total")
    assert value(after, "igmedia_store_calls_total", backend="redis") > value(before, "igmedia_store_calls_total", backend="redis")
    assert value(after, "igmedia_feed_cache_entries") >= 1 and value(after, "igmedia_feed_cache_budget_bytes") > 0
    # Tenants from the store's indexes, the pools, the process, the build.
    assert value(after, "igmedia_tenants", state="total") == 1
    assert value(after, "igmedia_worker_pool_threads", pool="quick") >= 1
    assert value(after, "igmedia_outbound_queue_capacity") > 0
    assert value(after, "process_resident_memory_bytes") > 1 << 20
    assert value(after, "process_open_fds") > 3 and value(after, "process_start_time_seconds") > 1.6e9
    assert value(after, "process_cpu_seconds_total") > 0
    [build] = [dict(ls) for (n, ls) in after if n == "igmedia_build_info"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", build["version"]) and re.fullmatch(r"[0-9a-f]{7,40}|unknown", build["commit"])
    # Bounded cardinality: no tenant id, token or path in any label.
    for secret in (tenant.id, tenant.token, tenant.management):
        assert secret not in text
    assert "no-such-path" not in text


def test_metrics_secret_adds_a_bearer_check(make_stack):
    secret = "metrics-" + "s" * 24
    stack = make_stack({"METRICS_SECRET": secret})
    for headers in (None, {"Authorization": "Bearer wrong-" + "x" * 24}, {"Authorization": f"Basic {secret}"}):
        response = stack.get("/metrics", headers=headers)
        expect_error(response, 401, "UNAUTHORIZED")
        assert secret.encode() not in response.body
    scrape(stack, {"Authorization": f"Bearer {secret}"})


def test_the_shipped_nginx_config_allows_metrics_to_listed_networks_only():
    conf = (REPO / "nginx" / "igmedia-locations.conf").read_text()
    match = re.search(r"location = /metrics \{(.*?)\n\}", conf, re.S)
    assert match, "no location = /metrics"
    block = [line.strip() for line in match.group(1).splitlines() if line.strip() and not line.strip().startswith("#")]
    assert block[:3] == ["allow 127.0.0.0/8;", "allow ::1;", "deny all;"], block


def test_syncs_and_upstream_calls_are_counted_by_outcome(world, tmp_path):
    _, before = scrape(world.stack)
    account, token = world.account(media_count=3)
    data = world.register(token)  # the first sync runs inside the responder
    _, after = scrape(world.stack)
    assert value(after, "igmedia_syncs_total", outcome="synced") - value(before, "igmedia_syncs_total", outcome="synced") == 1
    assert value(after, "igmedia_sync_duration_seconds_count") - value(before, "igmedia_sync_duration_seconds_count") == 1
    assert value(after, "igmedia_sync_media_total", action="uploaded") - \
        value(before, "igmedia_sync_media_total", action="uploaded") >= 3
    assert value(after, "igmedia_upstream_requests_total", service="instagram", outcome="ok") > \
        value(before, "igmedia_upstream_requests_total", service="instagram", outcome="ok")
    assert value(after, "igmedia_upstream_requests_total", service="cloudinary", outcome="ok") - \
        value(before, "igmedia_upstream_requests_total", service="cloudinary", outcome="ok") >= 3
    assert value(after, "igmedia_upstream_request_duration_seconds_count", service="cloudinary") >= 3

    # Instagram failing: the background run's sync counts as failed, the 500s as server errors.
    world.instagram.add_fault({"match": {"path_regex": "/media$"}, "count": -1, "status": 500,
                               "body": {"error": {"message": "boom", "type": "OAuthException", "code": 1}}})
    try:
        _, run = world.sync_http_and_wait()
    finally:
        world.instagram.clear_faults()
    assert run["failed"] == 1, run
    _, failed = scrape(world.stack)
    assert value(failed, "igmedia_syncs_total", outcome="failed") - value(after, "igmedia_syncs_total", outcome="failed") == 1
    assert value(failed, "igmedia_upstream_requests_total", service="instagram", outcome="server_error") > \
        value(after, "igmedia_upstream_requests_total", service="instagram", outcome="server_error")
    text, _ = scrape(world.stack)
    assert data["tenantId"] not in text and token not in text


def test_sync_writes_a_textfile_for_node_exporter(world, tmp_path):
    account, token = world.account(media_count=2)
    world.register(token)
    path = tmp_path / "textfile" / "igmedia_sync.prom"
    path.parent.mkdir()
    run = world.sync_cli("--all", "--metrics-textfile", str(path))
    assert run.returncode == 0, run.stdout + run.stderr
    text = path.read_text()
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in path.parent.iterdir()] == ["igmedia_sync.prom"], "no temporary file left"
    samples = parse(text)
    assert value(samples, "igmedia_sync_run_success") == 1
    assert value(samples, "igmedia_sync_run_tenants", outcome="synced") == 1
    finished = value(samples, "igmedia_sync_run_last_run_timestamp_seconds")
    assert finished > 1.6e9 and value(samples, "igmedia_sync_run_last_success_timestamp_seconds") == finished
    assert value(samples, "igmedia_syncs_total", outcome="synced") == 1
    assert not [n for (n, _) in samples if n.startswith("process_")], "node_exporter has its own process_* metrics"
    promtool_check(text, tmp_path)

    # A failing run: success 0, the last success carried over from the previous file.
    world.instagram.add_fault({"match": {"path_regex": "/media$"}, "count": -1, "status": 500,
                               "body": {"error": {"message": "boom", "type": "OAuthException", "code": 1}}})
    try:
        run = world.sync_cli("--all", "--metrics-textfile", str(path))
    finally:
        world.instagram.clear_faults()
    assert run.returncode == 1, run.stdout
    samples = parse(path.read_text())
    assert value(samples, "igmedia_sync_run_success") == 0
    assert value(samples, "igmedia_sync_run_tenants", outcome="failed") == 1
    assert value(samples, "igmedia_sync_run_last_success_timestamp_seconds") == finished
    assert value(samples, "igmedia_sync_run_last_run_timestamp_seconds") >= finished
