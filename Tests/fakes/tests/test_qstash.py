"""QStash fake: the official qstash SDK (client + Receiver) is the oracle."""

from __future__ import annotations

import datetime
import time

import pytest
import requests
from qstash import QStash, Receiver
from qstash.errors import DailyMessageLimitExceededError, RateLimitExceededError, SignatureError

from Tests.fakes.qstash_jwt import body_hash, decode_claims, sign_jwt

PUBLIC = "https://api.example.com/jobs/sync"
AUTH = {"Authorization": "Bearer qstash-token"}

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

GOLDEN_KEY = "sig_testcurrentkey"
GOLDEN_BODY = b'{"hello":"world"}'
GOLDEN_JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJVcHN0YXNoIiwic3ViIjoiaHR0cHM6Ly9leGFtcGxlLmNvbS9hcGkvcXN0YX"
    "NoIiwiZXhwIjoxNzAwMDAwMzAwLCJuYmYiOjE3MDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMCwianRpIjoiand0X3Rlc3QxMjMiLCJib2R5Ij"
    "oiazZJNWNha1U1ZXJMOEtqU1VWVE5vd25Ed2NjdnU1a1UxSHhnODh0b0ZZZz0ifQ.ZJFKqFYPfyVQXvv3EKOpUI2IC54iERlv6bEH5b4jMA8")


def client(fake):
    return QStash("qstash-token", base_url=fake.base_url, retry=False)


def _freeze_pyjwt(monkeypatch, t):
    """PyJWT reads datetime.now(); qstash-py passes clock_tolerance inside `options`, where PyJWT 2.x
    ignores it, so the only way to evaluate the vector at time T is to freeze PyJWT's clock."""
    import jwt.api_jwt

    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.fromtimestamp(t, tz)

    monkeypatch.setattr(jwt.api_jwt, "datetime", Frozen)


def test_golden_vector_is_reproduced_and_verified_by_the_sdk(monkeypatch):
    claims = {"iss": "Upstash", "sub": "https://example.com/api/qstash", "exp": 1700000300, "nbf": 1700000000,
              "iat": 1700000000, "jti": "jwt_test123", "body": body_hash(GOLDEN_BODY)}
    assert claims["body"] == "k6I5cakU5erL8KjSUVTNownDwccvu5kU1Hxg88toFYg="
    assert sign_jwt(claims, GOLDEN_KEY) == GOLDEN_JWT
    receiver = Receiver(GOLDEN_KEY, "sig_other")
    _freeze_pyjwt(monkeypatch, 1700000100)
    receiver.verify(signature=GOLDEN_JWT, body=GOLDEN_BODY.decode(), url="https://example.com/api/qstash")
    Receiver("sig_rotated_away", GOLDEN_KEY).verify(signature=GOLDEN_JWT, body=GOLDEN_BODY.decode())
    with pytest.raises(SignatureError):
        Receiver("sig_wrong", "sig_wrong2").verify(signature=GOLDEN_JWT, body=GOLDEN_BODY.decode())
    with pytest.raises(SignatureError):
        receiver.verify(signature=GOLDEN_JWT, body='{"hello":"World"}')
    _freeze_pyjwt(monkeypatch, 1700000300)  # exp <= now: expired
    with pytest.raises(SignatureError):
        receiver.verify(signature=GOLDEN_JWT, body=GOLDEN_BODY.decode(), url="https://example.com/api/qstash")


def test_sdk_publish_and_signed_delivery_verified_by_receiver(qstash_fake, target):
    res = client(qstash_fake).message.publish_json(url=PUBLIC, body={"tenant": "42", "job": "ig-sync"},
                                                   headers={"X-Tenant": "42"}, retries=2, delay="30s")
    assert res.message_id.startswith("msg_") and res.deduplicated is False
    msg = qstash_fake.wait_for(res.message_id)
    assert msg.state == "delivered" and len(target.received) == 1
    got = target.received[0]
    assert got["path"] == "/jobs/sync"
    h = got["headers"]
    assert h["Upstash-Message-Id"] == res.message_id and h["Upstash-Retried"] == "0"
    assert h["User-Agent"] == "Upstash-QStash" and h["Content-Type"] == "application/json"
    assert h["X-Tenant"] == "42"
    Receiver("sig_current_test_key", "sig_next_test_key").verify(
        signature=h["Upstash-Signature"], body=got["body"].decode(), url=PUBLIC)
    claims = decode_claims(h["Upstash-Signature"])
    assert claims["sub"] == PUBLIC and claims["iss"] == "Upstash" and claims["exp"] - claims["nbf"] == 300
    assert claims["body"].endswith("=") and claims["jti"].startswith("jwt_")
    with pytest.raises(SignatureError):  # wrong URL
        Receiver("sig_current_test_key", "sig_next_test_key").verify(
            signature=h["Upstash-Signature"], body=got["body"].decode(), url="https://api.example.com/other")
    pub = qstash_fake.requests("/v2/publish/")[0]
    assert pub.target == "/v2/publish/" + PUBLIC
    assert pub.header("Upstash-Retries") == "2" and pub.header("Upstash-Delay") == "30s"
    assert pub.header("Upstash-Forward-X-Tenant") == "42"
    assert msg.retries == 2 and msg.delay_s == 30.0


def test_signing_key_rotation(qstash_fake, target):
    old = Receiver("sig_current_test_key", "sig_next_test_key")
    qstash_fake.rotate_keys()  # current := next, next := fresh
    assert qstash_fake.current_signing_key == "sig_next_test_key"
    mid = client(qstash_fake).message.publish(url=PUBLIC, body="x").message_id
    qstash_fake.wait_for(mid)
    sig, body = target.received[-1]["headers"]["Upstash-Signature"], target.received[-1]["body"].decode()
    old.verify(signature=sig, body=body, url=PUBLIC)  # accepted via the next key
    Receiver(qstash_fake.current_signing_key, qstash_fake.next_signing_key).verify(signature=sig, body=body, url=PUBLIC)
    qstash_fake.rotate_keys()  # rolled twice: the old pair no longer verifies
    mid = client(qstash_fake).message.publish(url=PUBLIC, body="y").message_id
    qstash_fake.wait_for(mid)
    with pytest.raises(SignatureError):
        old.verify(signature=target.received[-1]["headers"]["Upstash-Signature"], body="y", url=PUBLIC)
    keys = client(qstash_fake).signing_key.get()
    assert keys.current == qstash_fake.current_signing_key


def test_dedup_and_raw_destination(qstash_fake):
    c = client(qstash_fake)
    a = c.message.publish(url=PUBLIC, body="1", deduplication_id="tenant-42-sync")
    b = c.message.publish(url=PUBLIC, body="2", deduplication_id="tenant-42-sync")
    assert b.deduplicated is True and b.message_id == a.message_id
    r = requests.post(qstash_fake.base_url + "/v2/publish/https://api.example.com/a//b?x=1", data=b"z", headers=AUTH)
    assert r.status_code == 200 and r.json()["url"] == "https://api.example.com/a//b?x=1"
    r = requests.post(qstash_fake.base_url + "/v2/publish/api.example.com/jobs", data=b"z", headers=AUTH)
    assert r.status_code == 400 and r.json() == {"error": "invalid destination url"}
    r = requests.post(qstash_fake.base_url + "/v2/publish/" + PUBLIC, data=b"z",
                      headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and "error" in r.json()
    r = requests.post(qstash_fake.base_url + "/v2/publish/" + PUBLIC, data=b"z",
                      headers=dict(AUTH, **{"Upstash-Method": "FETCH"}))
    assert r.status_code == 400


def test_retries_then_success(qstash_fake, target):
    target.script = [(500, {}), (503, {}), (200, {})]
    mid = client(qstash_fake).message.publish(url=PUBLIC, body="b", retries=3).message_id
    msg = qstash_fake.wait_for(mid)
    assert msg.state == "delivered"
    assert [a["status"] for a in msg.attempts] == [500, 503, 200]
    assert [r["headers"]["Upstash-Retried"] for r in target.received] == ["0", "1", "2"]
    assert len({r["headers"]["Upstash-Signature"] for r in target.received}) == 3  # fresh JWT per attempt


def test_489_non_retryable_stops_and_goes_to_dlq(qstash_fake, target):
    target.script = [(489, {"Upstash-NonRetryable-Error": "true"})]
    mid = client(qstash_fake).message.publish(url=PUBLIC, body="b", retries=3).message_id
    msg = qstash_fake.wait_for(mid)
    assert msg.state == "failed" and len(msg.attempts) == 1
    dlq = client(qstash_fake).dlq.list().messages
    assert [d.message_id for d in dlq] == [mid] and dlq[0].response_status == 489
    # 489 without the header is an ordinary failure: retried until exhausted
    target.script = [(489, {})] * 3
    mid2 = client(qstash_fake).message.publish(url=PUBLIC, body="c", retries=2).message_id
    msg2 = qstash_fake.wait_for(mid2)
    assert msg2.state == "failed" and len(msg2.attempts) == 3
    assert len(requests.get(qstash_fake.base_url + "/__control/dlq").json()["messages"]) == 2


def test_transport_failure_is_retried(qstash_fake):
    qstash_fake.set_deliver_to("http://127.0.0.1:1")  # nothing listens there
    mid = client(qstash_fake).message.publish(url=PUBLIC, body="b", retries=1).message_id
    msg = qstash_fake.wait_for(mid)
    assert msg.state == "failed" and [a["status"] for a in msg.attempts] == [None, None]
    assert all(a["error"] for a in msg.attempts)


def test_delivery_timeout_is_retried(qstash_fake, target):
    qstash_fake.delivery_timeout = 0.2
    target.script = [(200, {}, 0.6), (200, {})]
    mid = client(qstash_fake).message.publish(url=PUBLIC, body="slow", retries=1, timeout="1s").message_id
    msg = qstash_fake.wait_for(mid, timeout=5)
    assert msg.state == "delivered" and msg.timeout_s == 1.0
    assert msg.attempts[0]["status"] is None and "imeout" in msg.attempts[0]["error"]
    assert msg.attempts[1]["status"] == 200


def test_duplicate_delivery_and_pause_resume(qstash_fake, target):
    requests.post(qstash_fake.base_url + "/__control/pause")
    mid = client(qstash_fake).message.publish(url=PUBLIC, body="d").message_id
    time.sleep(0.2)
    assert target.received == [] and qstash_fake.messages[mid].state == "pending"
    requests.post(qstash_fake.base_url + "/__control/resume")
    qstash_fake.wait_for(mid)
    requests.post(qstash_fake.base_url + "/__control/messages/%s/redeliver" % mid)
    qstash_fake.wait_for(mid, attempts=2)
    ids = [r["headers"]["Upstash-Message-Id"] for r in target.received]
    assert ids == [mid, mid]
    deliveries = requests.get(qstash_fake.base_url + "/__control/deliveries").json()["deliveries"]
    assert [d["duplicate"] for d in deliveries] == [False, True]


def test_rate_limit_faults_surface_in_sdk(qstash_fake):
    qstash_fake.add_fault(preset="rate_limit_daily")
    with pytest.raises(DailyMessageLimitExceededError):
        client(qstash_fake).message.publish(url=PUBLIC, body="x")
    qstash_fake.add_fault(preset="rate_limit_burst", path_prefix="/v2/schedules")
    with pytest.raises(RateLimitExceededError):
        client(qstash_fake).schedule.list()
    qstash_fake.daily_limit = 1
    client(qstash_fake).message.publish(url=PUBLIC, body="x")
    r = requests.post(qstash_fake.base_url + "/v2/publish/" + PUBLIC, data=b"z", headers=AUTH)
    assert r.status_code == 429 and r.headers["RateLimit-Remaining"] == "0"


def test_schedules_with_sdk_and_trigger(qstash_fake, target):
    c = client(qstash_fake)
    sid = c.schedule.create(destination=PUBLIC, cron="0 4 * * *", body='{"job":"refresh"}',
                            content_type="application/json", schedule_id="refresh-tokens-daily", retries=1)
    assert sid == "refresh-tokens-daily"
    s = c.schedule.get(sid)
    assert s.cron == "0 4 * * *" and s.destination == PUBLIC and s.paused is False and s.retries == 1
    c.schedule.pause(sid)
    assert c.schedule.get(sid).paused is True
    c.schedule.resume(sid)
    assert [x.schedule_id for x in c.schedule.list()] == [sid]
    r = requests.post(qstash_fake.base_url + "/__control/schedules/%s/trigger" % sid)
    qstash_fake.wait_for(r.json()["messageId"])
    assert target.received[-1]["headers"]["Upstash-Schedule-Id"] == sid
    c.schedule.delete(sid)
    r = requests.get(qstash_fake.base_url + "/v2/schedules/" + sid, headers=AUTH)
    assert r.status_code == 404 and "error" in r.json()
    r = requests.post(qstash_fake.base_url + "/v2/schedules/" + PUBLIC, headers=AUTH)
    assert r.status_code == 400  # Upstash-Cron missing
