"""QStash fake: the batch API and flow control, with the official qstash SDK as the oracle."""

from __future__ import annotations

import http.server
import threading
import time

import pytest
import requests
from qstash import QStash

from Tests.fakes.qstash import FakeQStash

AUTH = {"Authorization": "Bearer qstash-token"}
DEST = "https://api.example.com/sync/process/"


@pytest.fixture
def fake():
    with FakeQStash(token="qstash-token", deliver=False) as f:
        yield f


def client(fake):
    return QStash("qstash-token", base_url=fake.base_url, retry=False)


def test_sdk_batch_of_250_in_three_calls(fake):
    sdk = client(fake)
    ids = []
    for start in range(0, 250, 100):
        answers = sdk.message.batch_json([
            {"url": DEST + f"t{i}", "body": {"tenantId": f"t{i}"}, "deduplication_id": f"sync-t{i}"}
            for i in range(start, min(start + 100, 250))])
        ids += [a.message_id for a in answers]
    assert len(ids) == 250 and len(set(ids)) == 250
    assert all(fake.message(i).url.startswith(DEST) for i in ids)
    assert fake.counters()["batch_calls"] == 3
    # The same dedup ids again: accepted, deduplicated, nothing new stored.
    again = sdk.message.batch_json([{"url": DEST + "t0", "body": {"tenantId": "t0"}, "deduplication_id": "sync-t0"}])
    assert again[0].message_id == ids[0] and again[0].deduplicated
    assert fake.counters()["messages"] == 250


def test_bad_item_and_malformed_batch(fake):
    url = fake.base_url + "/v2/batch"
    reply = requests.post(url, headers=AUTH, json=[
        {"destination": DEST + "a", "body": "{}"},
        {"destination": "not-a-url", "body": "{}"},
        {"destination": DEST + "b", "headers": {"Upstash-Retries": "x"}},
        {"destination": DEST + "c"}])
    assert reply.status_code == 200
    answers = reply.json()
    assert "messageId" in answers[0] and "messageId" in answers[3]
    assert answers[1] == {"error": "invalid destination url"}
    assert answers[2] == {"error": "invalid Upstash-Retries header"}
    for body in (b"{}", b"[1,2]", b"not json", b'[{"body":"x"}]'):
        bad = requests.post(url, headers=dict(AUTH, **{"Content-Type": "application/json"}), data=body)
        assert bad.status_code == 400 and "error" in bad.json()
    assert requests.post(url, json=[]).status_code == 401
    assert fake.counters()["messages"] == 2


def test_a_fault_fails_one_batch_call_only(fake):
    fake.add_fault({"path_prefix": "/v2/batch", "status": 500, "body": {"error": "internal server error"}, "count": 1})
    url = fake.base_url + "/v2/batch"
    first = requests.post(url, headers=AUTH, json=[{"destination": DEST + "a"}])
    second = requests.post(url, headers=AUTH, json=[{"destination": DEST + "b"}])
    assert first.status_code == 500 and second.status_code == 200 and "messageId" in second.json()[0]


class Slow(http.server.ThreadingHTTPServer):
    daemon_threads = True


def test_flow_control_bounds_deliveries_in_flight(fake):
    state = {"now": 0, "max": 0, "count": 0}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            time.sleep(0.2)
            with lock:
                state["now"] -= 1
                state["count"] += 1
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = Slow(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        fake.set_deliver_to(f"http://127.0.0.1:{server.server_address[1]}")
        sdk = client(fake)
        for i in range(10):
            sdk.message.publish_json(url=DEST + f"t{i}", body={"i": i},
                                     flow_control={"key": "igmedia-sync", "parallelism": 2})
        fake.engine.set_paused(False)
        assert fake.wait_idle(timeout=10)
        assert state["count"] == 10 and state["max"] == 2
        control = requests.get(fake.base_url + "/__control/flow-control").json()
        assert control["igmedia-sync"]["maxInFlight"] == 2 and control["igmedia-sync"]["delivered"] == 10
        view = requests.get(fake.base_url + "/v2/flowControl/igmedia-sync", headers=AUTH).json()
        assert view["flowControlKey"] == "igmedia-sync" and view["waitListSize"] == 0
        bad = requests.post(fake.base_url + "/v2/publish/" + DEST + "x", headers=dict(
            AUTH, **{"Upstash-Flow-Control-Key": "k", "Upstash-Flow-Control-Value": "parallelism=zero"}))
        assert bad.status_code == 400
    finally:
        server.shutdown()
