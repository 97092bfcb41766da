"""Upstash REST fake against a real redis-server, with the official upstash_redis SDK as oracle."""

from __future__ import annotations

import base64

import requests
from upstash_redis import Redis

from Tests.fakes.resp import SimpleString

from .conftest import UPSTASH_RO_TOKEN, UPSTASH_TOKEN

AUTH = {"Authorization": "Bearer " + UPSTASH_TOKEN}


def sdk(fake, encoding="base64"):
    return Redis(url=fake.base_url, token=UPSTASH_TOKEN, rest_encoding=encoding, allow_telemetry=False)


def test_sdk_set_get_hset_hgetall_land_in_real_redis(upstash, redis_server):
    r = sdk(upstash)
    assert r.set("tenant:42:cfg", '{"a":1}', ex=3600) is True
    assert r.get("tenant:42:cfg") == '{"a":1}'
    assert r.hset("tenant:42:h", values={"f1": "v1", "f2": "välue ☕"}) == 2
    assert r.hgetall("tenant:42:h") == {"f1": "v1", "f2": "välue ☕"}
    raw = redis_server.client()
    assert raw.execute("GET", "tenant:42:cfg") == b'{"a":1}'
    assert raw.execute("HGET", "tenant:42:h", "f2") == "välue ☕".encode()
    assert 3500 < raw.execute("TTL", "tenant:42:cfg") <= 3600
    raw.close()


def test_sdk_pipeline_and_transaction(upstash, redis_server):
    r = sdk(upstash)
    p = r.pipeline()
    p.set("k1", "5")
    p.incr("k1")
    p.hset("h", values={"a": "b"})
    p.get("k1")
    assert p.exec() == [True, 6, 1, "6"]
    t = r.multi()
    t.set("k2", "x")
    t.append("k2", "yz")
    t.get("k2")
    assert t.exec() == [True, 3, "xyz"]
    raw = redis_server.client()
    assert raw.execute("GET", "k2") == b"xyz"
    raw.close()
    assert upstash.all_counters()["multi_exec"] == 1


def test_sdk_without_base64_encoding(upstash):
    r = sdk(upstash, encoding=None)
    r.set("plain", "hello")
    assert r.get("plain") == "hello"
    req = upstash.requests("/")[-1]
    assert req.header("Upstash-Encoding") is None


def test_base64_encoding_rules(upstash):
    h = dict(AUTH, **{"Upstash-Encoding": "base64"})
    assert requests.post(upstash.base_url, json=["SET", "foo", "bar"], headers=h).json() == {"result": "OK"}
    assert requests.post(upstash.base_url, json=["GET", "foo"], headers=h).json() == {"result": "YmFy"}
    assert requests.post(upstash.base_url, json=["PING"], headers=h).json() == {"result": "UE9ORw=="}
    requests.post(upstash.base_url, json=["HSET", "h", "f", "v"], headers=h)
    assert requests.post(upstash.base_url, json=["HGETALL", "h"], headers=h).json() == {"result": ["Zg==", "dg=="]}
    assert requests.post(upstash.base_url, json=["INCR", "n"], headers=h).json() == {"result": 1}
    assert requests.post(upstash.base_url, json=["GET", "missing"], headers=h).json() == {"result": None}
    scan = requests.post(upstash.base_url, json=["SCAN", "0"], headers=h).json()["result"]
    assert scan[0] == "MA=="  # cursor "0" is a string, hence base64
    # errors are never encoded
    bad = requests.post(upstash.base_url, json=["INCR", "foo"], headers=h)
    assert bad.status_code == 400 and bad.json()["error"].startswith("ERR value is not an integer")
    pipe = requests.post(upstash.base_url + "/pipeline", json=[["GET", "foo"], ["SET", "a", "b"]], headers=h)
    assert pipe.json() == [{"result": "YmFy"}, {"result": "OK"}]


def test_invalid_utf8_is_lossy_without_base64_and_exact_with_it(upstash, redis_server):
    raw = redis_server.client()
    assert raw.execute("SET", "bin", b"ok\xff\xfe-\xc3(") == SimpleString(b"OK")
    raw.close()
    plain = requests.post(upstash.base_url, json=["GET", "bin"], headers=AUTH).json()["result"]
    assert plain.startswith("ok\ufffd") and "\ufffd" in plain[3:]
    enc = requests.post(upstash.base_url, json=["GET", "bin"],
                        headers=dict(AUTH, **{"Upstash-Encoding": "base64"})).json()["result"]
    assert base64.b64decode(enc) == b"ok\xff\xfe-\xc3("


def test_numbers_as_arguments_and_url_form(upstash, redis_server):
    assert requests.post(upstash.base_url, json=["SET", "n", 10, "EX", 100], headers=AUTH).json() == {"result": "OK"}
    assert requests.post(upstash.base_url, json=["INCRBYFLOAT", "n", 1.5], headers=AUTH).json() == {"result": "11.5"}
    assert requests.get(upstash.base_url + "/get/n", headers=AUTH).json() == {"result": "11.5"}
    assert requests.post(upstash.base_url + "/set/u/ignored?EX=50", headers=AUTH).json() == {"result": "OK"}
    assert requests.post(upstash.base_url + "/set/u2", data=b"body-value", headers=AUTH).json() == {"result": "OK"}
    raw = redis_server.client()
    assert raw.execute("GET", "u2") == b"body-value"
    assert 0 < raw.execute("TTL", "u") <= 50
    raw.close()


def test_auth_and_method_errors(upstash):
    r = requests.post(upstash.base_url, json=["GET", "x"])
    assert r.status_code == 401 and r.json() == {"error": "WRONGPASS invalid or missing auth token"}
    r = requests.post(upstash.base_url, json=["GET", "x"], headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["error"].startswith("WRONGPASS")
    assert requests.post(upstash.base_url + "/?_token=" + UPSTASH_TOKEN, json=["PING"]).json() == {"result": "PONG"}
    for method in ("DELETE", "PATCH", "OPTIONS"):
        assert requests.request(method, upstash.base_url, headers=AUTH).status_code == 405
    assert requests.head(upstash.base_url + "/ping", headers=AUTH).status_code == 200


def test_command_errors_are_400(upstash):
    r = requests.post(upstash.base_url, json=["NOPE", "x"], headers=AUTH)
    assert r.status_code == 400 and r.json() == {"error": "ERR unknown command 'NOPE'"}
    r = requests.post(upstash.base_url, json=["GET"], headers=AUTH)
    assert r.status_code == 400 and r.json() == {"error": "ERR wrong number of arguments for 'get' command"}
    requests.post(upstash.base_url, json=["HSET", "h", "f", "v"], headers=AUTH)
    r = requests.post(upstash.base_url, json=["GET", "h"], headers=AUTH)
    assert r.status_code == 400 and r.json()["error"].startswith("WRONGTYPE")
    for body in (b"not json", b"[]", b'{"a":1}', b'["SET", true]', b"[1, 2]"):
        r = requests.post(upstash.base_url, data=body, headers=AUTH)
        assert r.status_code == 400 and "error" in r.json()
    r = requests.post(upstash.base_url, json=["BLPOP", "q", 1], headers=AUTH)
    assert r.status_code == 400 and "unsupported" in r.json()["error"]


def test_pipeline_keeps_going_and_multi_exec_discards_whole(upstash, redis_server):
    r = requests.post(upstash.base_url + "/pipeline", headers=AUTH,
                      json=[["SET", "k1", "v"], ["INCR", "k1"], ["HGETALL", "nope"], ["BOGUS"]])
    assert r.status_code == 200
    items = r.json()
    assert items[0] == {"result": "OK"} and items[2] == {"result": []}
    assert items[1]["error"].startswith("ERR") and items[3] == {"error": "ERR unknown command 'BOGUS'"}
    r = requests.post(upstash.base_url + "/multi-exec", headers=AUTH, json=[["SET", "t1", "v"], ["BOGUS", "x"]])
    assert r.status_code == 400 and r.json() == {"error": "ERR unknown command 'BOGUS'"}
    r = requests.post(upstash.base_url + "/multi-exec", headers=AUTH, json=[["SET", "t2", "v"], ["GET"]])
    assert r.status_code == 400 and "wrong number of arguments" in r.json()["error"]
    raw = redis_server.client()
    assert raw.execute("EXISTS", "t1", "t2") == 0  # nothing ran
    raw.close()
    # runtime errors do not roll back (Redis semantics)
    r = requests.post(upstash.base_url + "/multi-exec", headers=AUTH,
                      json=[["SET", "t3", "abc"], ["INCR", "t3"], ["GET", "t3"]])
    assert r.status_code == 200
    assert r.json()[0] == {"result": "OK"} and "error" in r.json()[1] and r.json()[2] == {"result": "abc"}


def test_readonly_token_refuses_writes_and_scan(upstash):
    ro = {"Authorization": "Bearer " + UPSTASH_RO_TOKEN}
    requests.post(upstash.base_url, json=["SET", "k", "v"], headers=AUTH)
    assert requests.post(upstash.base_url, json=["GET", "k"], headers=ro).json() == {"result": "v"}
    for cmd in (["SET", "k", "w"], ["SCAN", "0"], ["KEYS", "*"], ["DEL", "k"]):
        r = requests.post(upstash.base_url, json=cmd, headers=ro)
        assert r.status_code == 400 and r.json()["error"].startswith("NOPERM"), cmd


def test_scan_paging_with_clamped_count(redis_server):
    from Tests.fakes.upstash import FakeUpstash
    fake = FakeUpstash(redis_port=redis_server.port, token="t", scan_max_count=2).start()
    try:
        r = Redis(url=fake.base_url, token="t", allow_telemetry=False)
        for i in range(30):
            r.set("tenant:1:k%d" % i, "x")
            r.set("other:%d" % i, "y")
        cursor, seen, pages = 0, set(), 0
        while True:
            cursor, keys = r.scan(cursor, match="tenant:1:*", count=100)
            seen.update(keys)
            pages += 1
            if cursor == 0:
                break
        assert len(seen) == 30 and pages > 5
    finally:
        fake.stop()


def test_faults_daily_limit_html_and_reset_after_execute(upstash, redis_server):
    upstash.add_fault(preset="daily_limit", count=1)
    r = requests.post(upstash.base_url, json=["PING"], headers=AUTH)
    assert r.status_code == 400 and r.json() == {"error": "ERR max daily request limit exceeded"}
    upstash.add_fault(preset="html", params={"status": 503})
    r = requests.post(upstash.base_url, json=["PING"], headers=AUTH)
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("text/html")
    upstash.add_fault(action="reset_after", path="/")
    try:
        requests.post(upstash.base_url, json=["SET", "written", "1", "NX"], headers=AUTH, timeout=5)
        raise AssertionError("expected a transport error")
    except requests.exceptions.ConnectionError:
        pass
    raw = redis_server.client()
    assert raw.execute("GET", "written") == b"1"  # the write happened although the client saw a reset
    raw.close()
    assert requests.post(upstash.base_url, json=["PING"], headers=AUTH).json() == {"result": "PONG"}
