"""The shared harness: recording, faults, latency, control API, and the subprocess (CLI) mode."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from Tests.fakes.qstash import FakeQStash

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture
def fake():
    f = FakeQStash(token="tok", deliver=False)
    f.start()
    yield f
    f.stop()


def publish(f, body=b"x", timeout=5):
    return requests.post(f.base_url + "/v2/publish/https://example.com/hook?a=1", data=body, timeout=timeout,
                         headers={"Authorization": "Bearer tok", "Upstash-Forward-X-Id": "7"})


def test_recording_and_counters(fake):
    publish(fake, b"\x00\xffraw")
    recs = requests.get(fake.base_url + "/__control/requests").json()["requests"]
    assert len(recs) == 1
    r = recs[0]
    assert r["method"] == "POST" and r["target"] == "/v2/publish/https://example.com/hook?a=1"
    assert r["query"] == {"a": ["1"]} and r["status"] == 200 and r["body"] is None
    assert ["Upstash-Forward-X-Id", "7"] in r["headers"]
    assert r["body_base64"] == "AP9yYXc="
    counters = requests.get(fake.base_url + "/__control/counters").json()
    assert counters["total"] == 1 and counters["by_route"] == {"POST /v2/publish/*": 1} and counters["messages"] == 1
    assert requests.get(fake.base_url + "/__control/requests?path_prefix=/nothing").json()["requests"] == []
    requests.post(fake.base_url + "/__control/reset", json={"state": True})
    assert requests.get(fake.base_url + "/__control/counters").json()["total"] == 0
    assert fake.messages == {}


def test_status_fault_skip_and_count(fake):
    ids = requests.post(fake.base_url + "/__control/faults", json={
        "status": 503, "body": {"error": "busy"}, "headers": {"Retry-After": "1"}, "count": 2, "skip": 1,
        "match": {"method": "POST", "path_prefix": "/v2/publish/"}}).json()["ids"]
    assert len(ids) == 1
    statuses = [publish(fake).status_code for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert requests.get(fake.base_url + "/__control/faults").json()["faults"] == []
    fake.add_fault(status=500, body="plain text", content_type="text/plain")
    r = publish(fake)
    assert r.status_code == 500 and r.text == "plain text"


def test_delay_close_reset_truncate_html_garbage(fake):
    fake.add_fault(delay_ms=800)
    with pytest.raises(requests.exceptions.ReadTimeout):
        publish(fake, timeout=0.2)
    fake.add_fault(action="close")
    with pytest.raises(requests.exceptions.ConnectionError):
        publish(fake)
    fake.add_fault(action="reset")
    with pytest.raises(requests.exceptions.ConnectionError):
        publish(fake)
    fake.add_fault(action="truncate")
    r = publish(fake)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        json.loads(r.text)
    fake.add_fault(action="html", status=502)
    r = publish(fake)
    assert r.status_code == 502 and "<html>" in r.text
    fake.add_fault(action="garbage")
    r = publish(fake)
    with pytest.raises(ValueError):
        r.json()
    fake.add_fault(action="slow_body", delay_after_ms=300)
    t0 = time.monotonic()
    assert publish(fake).status_code == 200 and time.monotonic() - t0 >= 0.25
    assert publish(fake).status_code == 200


def test_latency_and_clock_control(fake):
    requests.post(fake.base_url + "/__control/latency", json={"latency_ms": 150})
    t0 = time.monotonic()
    publish(fake)
    assert time.monotonic() - t0 >= 0.14
    requests.post(fake.base_url + "/__control/latency", json={"latency_ms": 0})
    c = requests.post(fake.base_url + "/__control/clock", json={"set": 1700000000, "freeze": True}).json()
    assert c == {"now": 1700000000, "frozen": True}
    c = requests.post(fake.base_url + "/__control/clock", json={"advance": 90}).json()
    assert c["now"] == 1700000090
    bad = requests.post(fake.base_url + "/__control/faults", json={"preset": "nope"})
    assert bad.status_code == 400
    assert requests.get(fake.base_url + "/__control/unknown").status_code == 404


def _spawn(tmp_path, module, *args):
    ready = tmp_path / ("%s.ready" % module)
    proc = subprocess.Popen([sys.executable, "-m", "Tests.fakes." + module, "--port", "0", "--ready-file",
                             str(ready), "--ready-json", str(ready) + ".json", *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 10
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "fake did not become ready"
        time.sleep(0.02)
    return proc, ready.read_text().strip(), json.loads((tmp_path / ("%s.ready.json" % module)).read_text())


def _stop(proc):
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    return out + err


def test_cli_mode_for_every_fake(tmp_path, redis_server):
    secret = "cli-secret-token-123"
    procs = []
    try:
        p, url, _ = _spawn(tmp_path, "upstash", "--redis-port", str(redis_server.port), "--token", secret)
        procs.append(p)
        assert url.startswith("http://127.0.0.1:")
        r = requests.post(url, json=["SET", "cli", "1"], headers={"Authorization": "Bearer " + secret})
        assert r.json() == {"result": "OK"}
        assert redis_server.client().execute("GET", "cli") == b"1"

        p, url, _ = _spawn(tmp_path, "qstash", "--token", secret)
        procs.append(p)
        r = requests.post(url + "/v2/publish/https://example.com/x", headers={"Authorization": "Bearer " + secret})
        assert r.status_code == 200

        p, url, _ = _spawn(tmp_path, "cloudinary", "--api-secret", secret)
        procs.append(p)
        assert requests.post(url + "/v1_1/demo-cloud/image/destroy", data={"public_id": "x"},
                             auth=("123456789012345", secret)).json() == {"result": "not found"}

        p, url, info = _spawn(tmp_path, "instagram", "--seed-account", "3", "--ig-app-secret", secret)
        procs.append(p)
        assert info["graph_url"] == url + "/graph" and info["cdn_url"] == url + "/cdn"
        acct = requests.get(url + "/__control/accounts").json()["accounts"][0]
        tok = requests.post(url + "/__control/tokens", json={"user": acct["ig_user_id"]}).json()["access_token"]
        assert len(requests.get(url + "/graph/v23.0/me/media", params={"access_token": tok}).json()["data"]) == 3

        p, url, _ = _spawn(tmp_path, "upstash", "--spawn-redis", "--token", secret)
        procs.append(p)
        r = requests.post(url, json=["PING"], headers={"Authorization": "Bearer " + secret})
        assert r.json() == {"result": "PONG"}
    finally:
        outputs = [_stop(p) for p in procs]
    for out in outputs:
        assert secret.encode() not in out and b"IGAA" not in out  # nothing logged, no secrets printed
