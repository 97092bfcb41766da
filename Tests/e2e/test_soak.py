"""Soak: SOAK_SECONDS (default 60) of wrk at 256 connections over a mix of endpoints, through nginx
to one responder. No 5xx, no socket error, no crash, and the responder's resident memory grows by
less than 10 MB between the end of a warm-up and the end of the run.

The Lua script rotates requests: GET /photos for 64 tenants (most of the load), /health, POST
/register (valid and broken), bad tokens, wrong methods (405) and unknown paths; every response
status is counted per wrk thread and printed by done().
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from hardening import rss_kb
from harness import expect_success
from tenant_helpers import make_feed, photos_envelope, register, store_feed

SOAK_SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
WARMUP_SECONDS = min(5, max(1, SOAK_SECONDS // 10))
CONNECTIONS = 256
MAX_RSS_GROWTH_KB = 10 * 1024
TENANTS = 64

LUA = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counts = {}
  local photos = {}
  for token in io.lines(args[1]) do
    table.insert(photos, wrk.format("GET", "/photos", {["Authorization"] = "Bearer " .. token}))
  end
  local json = {["Content-Type"] = "application/json"}
  local others = {
    wrk.format("GET", "/health"),
    wrk.format("GET", "/health"),
    wrk.format("POST", "/register", json,
      '{"name":"Soak Bakery","instagramAccountId":"17841400000000001","instagramAccountSecret":"soak","apiType":"INSTAGRAM_LOGIN"}'),
    wrk.format("POST", "/register", json, '{"name":"ab","apiType":"NOPE"}'),
    wrk.format("POST", "/register", json, '{"name":'),
    wrk.format("GET", "/photos", {["Authorization"] = "Bearer 00000000-0000-4000-8000-000000000000"}),
    wrk.format("GET", "/photos", {["Authorization"] = "Bearer ' OR 1=1 --"}),
    wrk.format("GET", "/photos"),
    wrk.format("POST", "/health", json, "{}"),
    wrk.format("DELETE", "/photos"),
    wrk.format("GET", "/sync"),
    wrk.format("GET", "/nope"),
    wrk.format("GET", "/instagram-callback?code=AQBsoak%23_"),
    wrk.format("POST", "/sync", json, '{"secret":"wrong-secret-wrong-secret"}'),
  }
  -- 2 of every 3 requests are a tenant's feed, the rest rotate through the others.
  requests = {}
  local o = 1
  for i = 1, #photos do
    table.insert(requests, photos[i])
    if i % 2 == 0 then
      table.insert(requests, others[o])
      o = o % #others + 1
    end
  end
  for i = 1, #others do table.insert(requests, others[i]) end
  n = 0
end

function request()
  n = n % #requests + 1
  return requests[n]
end

function response(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("counts")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("STATUS %d %d\n", status, count))
  end
  local e = summary.errors
  io.write(string.format("ERRORS connect=%d read=%d write=%d timeout=%d status=%d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
  io.write(string.format("TOTAL requests=%d p99_ms=%.1f max_ms=%.1f\n",
    summary.requests, latency:percentile(99) / 1000, latency.max / 1000))
end
"""


def run_wrk(port: int, seconds: int, script, tokens_file) -> dict:
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
         f"http://127.0.0.1:{port}/", "--", str(tokens_file)],
        capture_output=True, text=True, timeout=seconds + 60)
    assert result.returncode == 0, result.stderr
    statuses = {int(s): int(c) for s, c in re.findall(r"^STATUS (\d+) (\d+)$", result.stdout, re.MULTILINE)}
    errors = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", re.search(r"^ERRORS .*$", result.stdout,
                                                                                  re.MULTILINE).group(0)))
    total = re.search(r"^TOTAL requests=(\d+) p99_ms=([\d.]+) max_ms=([\d.]+)$", result.stdout, re.MULTILINE)
    return {"statuses": statuses, "errors": errors, "requests": int(total.group(1)),
            "p99_ms": float(total.group(2)), "max_ms": float(total.group(3)), "output": result.stdout}


def test_soak_mixed_load_no_5xx_no_crash_bounded_memory(make_stack, tmp_path, summary):
    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (make deps installs it)")
    stack = make_stack({"REDIS_TIMEOUT_MS": "2000"})
    tenants, feeds = [], []
    for index in range(TENANTS):
        tenant = register(stack, instagramAccessToken=None)  # no first sync: no Instagram call
        feed, _ = make_feed(f"soak{index}", count=12)
        store_feed(stack, tenant.id, feed)
        tenants.append(tenant)
        feeds.append(feed)
    tokens_file = tmp_path / "tokens.txt"
    tokens_file.write_text("".join(t.token + "\n" for t in tenants))
    script = tmp_path / "soak.lua"
    script.write_text(LUA)
    pid = stack.responder.pid
    rss_boot = rss_kb(pid)

    warmup = run_wrk(stack.port, WARMUP_SECONDS, script, tokens_file)
    rss_start = rss_kb(pid)
    soak = run_wrk(stack.port, SOAK_SECONDS, script, tokens_file)
    rss_end = rss_kb(pid)

    statuses = soak["statuses"]
    non2xx = sum(c for s, c in statuses.items() if not 200 <= s < 300)
    fivexx = sum(c for s, c in statuses.items() if s >= 500) + sum(c for s, c in warmup["statuses"].items() if s >= 500)
    line = (f"SOAK requests={soak['requests']} non2xx={non2xx} 5xx={fivexx} rss_start={rss_start}kB "
            f"rss_end={rss_end}kB")
    print(line)
    summary(line)
    summary(f"SOAK detail: {SOAK_SECONDS}s x {CONNECTIONS} connections, {soak['requests'] / SOAK_SECONDS:.0f} req/s, "
            f"statuses {dict(sorted(statuses.items()))}, socket errors {soak['errors']}, p99 {soak['p99_ms']} ms, "
            f"max {soak['max_ms']} ms, rss_boot={rss_boot}kB (before a {WARMUP_SECONDS}s warm-up)")

    assert fivexx == 0, statuses
    assert set(statuses) <= {200, 201, 400, 401, 404, 405}, statuses
    assert all(statuses.get(s) for s in (200, 201, 400, 401, 404, 405)), f"the mix did not reach every kind: {statuses}"
    assert sum(statuses.values()) == soak["requests"], "wrk counted answers the script did not see"
    for kind in ("connect", "read", "write", "timeout", "status"):
        assert soak["errors"][kind] == 0 or (kind == "status" and soak["errors"][kind] == non2xx), soak["errors"]
    # No crash: the same process still answers, with the right feed.
    assert stack.responder.process.poll() is None and stack.responder.pid == pid
    assert expect_success(stack.get("/health")) == {"message": "ok"}
    for index in (0, TENANTS - 1):
        assert stack.get("/photos", headers=tenants[index].auth).body == photos_envelope(feeds[index])
    error_log = stack.error_log()
    assert "upstream" not in error_log and "worker_connections" not in error_log, error_log[-2000:]
    assert rss_end - rss_start < MAX_RSS_GROWTH_KB, line
