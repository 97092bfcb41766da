"""Tenants' webhooks end to end: PUT/GET/DELETE /tenant/webhook through nginx, events a real sync
causes delivered to a loopback receiver, every delivery verified with the official
`standardwebhooks` package; retried after a 500 with the same id, never sent again after a
success, kept across a responder restart; SSRF attempts refused (an IP literal, a name that
resolves to loopback, a redirect)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from harness import expect_error, expect_success, free_port, wait_until
from sync_support import cloudinary, instagram, world  # noqa: F401 (fixtures)

LOOPBACK_ENV = {"WEBHOOK_ALLOW_PRIVATE": "1", "WEBHOOK_ALLOW_INSECURE": "1", "WEBHOOK_RETRY_BASE_MS": "200"}


class Receiver:
    """A loopback endpoint: records every request; answers `plan` statuses in turn, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.plan: list[int] = []
        self.redirect_to: str | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                              "body": body})
                    status = receiver.plan.pop(0) if receiver.plan else 200
                self.send_response(302 if receiver.redirect_to else status)
                if receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, path: str = "/hook") -> list[dict]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def manage(data: dict) -> dict:
    return {"Authorization": f"Bearer {data['managementToken']}"}


def put_webhook(world, data, url, events=("feed.updated", "token.invalid", "sync.failed", "tenant.deleted"), status=201):
    response = world.stack.request("PUT", "/tenant/webhook", {"url": url, "events": list(events)}, headers=manage(data))
    return expect_success(response, status)


def verify(delivery: dict, secret: str) -> dict:
    """The official library's verification (signature, timestamp tolerance); returns the payload."""
    return Webhook(secret).verify(delivery["body"], delivery["headers"])


def loopback_name() -> str | None:
    """A name other than localhost that /etc/hosts maps to a loopback address, if any."""
    try:
        lines = open("/etc/hosts").read().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and (fields[0].startswith("127.") or fields[0] == "::1"):
            for name in fields[1:]:
                if "localhost" not in name and not name.endswith((".local", ".internal")) and name.replace("-", "").replace(".", "").isalnum():
                    return name
    return None


def registered(world, media_count=2):
    account, token = world.account(media_count=media_count)
    return account, world.register(token)


@pytest.mark.stack_env(**LOOPBACK_ENV)
def test_the_webhook_api_validates_shows_the_secret_once_and_needs_the_management_token(world, receiver):
    _, data = registered(world)
    for body, fragment in [
        ({"url": "ftp://example.com/x", "events": ["feed.updated"]}, "https://"),
        ({"url": "https://user:pw@example.com/x", "events": ["feed.updated"]}, "credentials"),
        ({"url": receiver.url(), "events": ["feed.exploded"]}, "events may only name"),
        ({"url": receiver.url(), "events": []}, "events is required"),
        ({"events": ["feed.updated"]}, "url is required"),
    ]:
        envelope = expect_error(world.stack.request("PUT", "/tenant/webhook", body, headers=manage(data)), 400, "VALIDATION_FAILED")
        assert fragment in envelope["errorMessage"], envelope
    expect_error(world.stack.get("/tenant/webhook", headers=manage(data)), 404, "NOT_FOUND")
    # The auth token (what embeds carry) cannot manage the webhook.
    expect_error(world.stack.request("PUT", "/tenant/webhook", {"url": receiver.url(), "events": ["feed.updated"]},
                                     headers={"Authorization": f"Bearer {data['authToken']}"}), 403, "FORBIDDEN")

    created = put_webhook(world, data, receiver.url())
    assert created["secret"].startswith("whsec_") and created["url"] == receiver.url(), created
    shown = expect_success(world.stack.get("/tenant/webhook", headers=manage(data)))
    assert "secret" not in shown and created["secret"] not in json.dumps(shown)
    assert shown["events"] == ["feed.updated", "token.invalid", "sync.failed", "tenant.deleted"]
    changed = put_webhook(world, data, receiver.url("/other"), events=["feed.updated"], status=200)
    assert "secret" not in changed and changed["url"] == receiver.url("/other")
    assert created["secret"] not in world.stack.responder_log()
    assert expect_success(world.stack.request("DELETE", "/tenant/webhook", None, headers=manage(data))) == {"deleted": True}
    expect_error(world.stack.request("DELETE", "/tenant/webhook", None, headers=manage(data)), 404, "NOT_FOUND")


@pytest.mark.stack_env(**LOOPBACK_ENV)
def test_a_sync_that_changes_the_feed_sends_one_signed_feed_updated(world, receiver):
    account, data = registered(world)
    secret = put_webhook(world, data, receiver.url())["secret"]
    # Unchanged: no event.
    assert world.sync_cli("--tenant", data["tenantId"]).returncode == 0
    time.sleep(1.0)
    assert receiver.received() == []
    world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE", "caption": "new"})
    assert world.sync_cli("--tenant", data["tenantId"]).returncode == 0
    wait_until(lambda: len(receiver.received()) == 1, timeout=10, what="the feed.updated delivery")
    [delivery] = receiver.received()
    payload = verify(delivery, secret)
    assert payload["type"] == "feed.updated" and payload["data"]["tenantId"] == data["tenantId"], payload
    assert payload["data"]["photosCount"] == 3 and payload["data"]["uploaded"] >= 1, payload
    assert delivery["headers"]["webhook-id"].startswith("evt_")
    # A tampered body does not verify.
    tampered = dict(delivery, body=delivery["body"].replace(b"feed.updated", b"feed.updatef"))
    with pytest.raises(Exception):
        verify(tampered, secret)
    listed = expect_success(world.stack.get("/tenant/webhook/deliveries", headers=manage(data)))["deliveries"]
    wait_until(lambda: expect_success(world.stack.get("/tenant/webhook/deliveries", headers=manage(data)))["deliveries"][0]["status"]
               == "delivered", timeout=5, what="the delivery recorded")
    listed = expect_success(world.stack.get("/tenant/webhook/deliveries", headers=manage(data)))["deliveries"]
    assert listed[0]["id"] == delivery["headers"]["webhook-id"] and listed[0]["attempts"] == 1, listed
    assert listed[0]["lastStatus"] == 200 and listed[0]["type"] == "feed.updated", listed


@pytest.mark.stack_env(**LOOPBACK_ENV)
def test_retried_after_500s_with_the_same_id_and_never_sent_again_after_a_success(world, receiver):
    account, data = registered(world)
    secret = put_webhook(world, data, receiver.url())["secret"]
    receiver.plan = [500, 503]
    world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE"})
    assert world.sync_cli("--tenant", data["tenantId"]).returncode == 0
    wait_until(lambda: len(receiver.received()) == 3, timeout=20, what="two retries after the 500 and the 503")
    ids = {r["headers"]["webhook-id"] for r in receiver.received()}
    assert len(ids) == 1, ids
    stamps = [int(r["headers"]["webhook-timestamp"]) for r in receiver.received()]
    assert stamps == sorted(stamps)
    for delivery in receiver.received():
        assert verify(delivery, secret)["type"] == "feed.updated"  # each attempt signed anew
    time.sleep(2.5)
    assert len(receiver.received()) == 3, "a delivered event was sent again"
    [entry] = expect_success(world.stack.get("/tenant/webhook/deliveries", headers=manage(data)))["deliveries"]
    assert (entry["status"], entry["attempts"], entry["lastStatus"]) == ("delivered", 3, 200), entry


@pytest.mark.stack_env(**LOOPBACK_ENV)
def test_a_queued_event_survives_a_responder_restart(world, receiver):
    account, data = registered(world)
    secret = put_webhook(world, data, receiver.url())["secret"]
    receiver.plan = [500] * 1000  # down
    world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE"})
    assert world.sync_cli("--tenant", data["tenantId"]).returncode == 0
    wait_until(lambda: len(receiver.received()) >= 1, timeout=10, what="a first, failing attempt")
    world.stack.responder.stop()
    receiver.plan = []  # back
    seen = len(receiver.received())
    world.stack.responder.start()
    wait_until(lambda: len(receiver.received()) > seen, timeout=30, what="the delivery after the restart")
    last = receiver.received()[-1]
    assert verify(last, secret)["type"] == "feed.updated"
    assert {r["headers"]["webhook-id"] for r in receiver.received()} == {last["headers"]["webhook-id"]}


@pytest.mark.stack_env(**LOOPBACK_ENV)
def test_secret_rotation_signs_with_both_during_the_grace(world, receiver):
    account, data = registered(world)
    old = put_webhook(world, data, receiver.url())["secret"]
    rotated = expect_success(world.stack.post("/tenant/webhook/rotate-secret", None, headers=manage(data)))
    new = rotated["secret"]
    assert new != old and rotated["previousSecretValidUntil"]
    world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE"})
    assert world.sync_cli("--tenant", data["tenantId"]).returncode == 0
    wait_until(lambda: len(receiver.received()) == 1, timeout=10, what="the delivery")
    [delivery] = receiver.received()
    assert len(delivery["headers"]["webhook-signature"].split(" ")) == 2
    assert verify(delivery, new)["type"] == "feed.updated"
    assert verify(delivery, old)["type"] == "feed.updated"


@pytest.mark.stack_env(**LOOPBACK_ENV)
def test_deleting_the_tenant_sends_tenant_deleted_and_removes_the_webhook(world, receiver):
    _, data = registered(world)
    secret = put_webhook(world, data, receiver.url())["secret"]
    expect_success(world.stack.request("DELETE", "/tenant", None, headers=manage(data)))
    wait_until(lambda: len(receiver.received()) == 1, timeout=10, what="tenant.deleted")
    payload = verify(receiver.received()[0], secret)
    assert payload["type"] == "tenant.deleted" and payload["data"]["tenantId"] == data["tenantId"]
    assert world.stack.redis_cli("EXISTS", f"webhook:{data['tenantId']}") == "0"


@pytest.mark.stack_env(**LOOPBACK_ENV)
def test_a_redirect_is_not_followed(world, receiver):
    account, data = registered(world)
    put_webhook(world, data, receiver.url())
    receiver.redirect_to = receiver.url("/elsewhere")
    world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE"})
    assert world.sync_cli("--tenant", data["tenantId"]).returncode == 0
    wait_until(lambda: len(receiver.received()) >= 2, timeout=15, what="a retry after the redirect")
    assert receiver.received("/elsewhere") == []
    entry = expect_success(world.stack.get("/tenant/webhook/deliveries", headers=manage(data)))["deliveries"][0]
    assert entry["status"] == "retrying" and "redirect" in entry["lastError"] and entry["lastStatus"] == 302, entry


@pytest.mark.stack_env(WEBHOOK_ALLOW_INSECURE="1")
def test_ssrf_targets_are_refused_when_set_and_when_connecting(world, receiver):
    account, data = registered(world)
    for url in ("http://127.0.0.1:9/x", "http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data", "http://localhost/x",
                "http://[::1]/x", "http://metadata.internal/x"):
        envelope = expect_error(world.stack.request("PUT", "/tenant/webhook", {"url": url, "events": ["feed.updated"]},
                                                    headers=manage(data)), 400, "VALIDATION_FAILED")
        assert "must not" in envelope["errorMessage"], (url, envelope)
    # Refused at the address connected (curl's open-socket check, after DNS): hosts the PUT check
    # lets through that are loopback all the same: the integer form of 127.0.0.1, and a DNS name
    # that resolves to loopback (this machine's own name in /etc/hosts, as Debian writes it).
    urls = [f"http://2130706433:{receiver.port}/hook"]
    name = loopback_name()
    if name:
        urls.append(f"http://{name}:{receiver.port}/hook")
    for url in urls:
        response = world.stack.request("PUT", "/tenant/webhook", {"url": url, "events": ["feed.updated"]}, headers=manage(data))
        assert response.status in (200, 201), response
        world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE"})
        assert world.sync_cli("--tenant", data["tenantId"]).returncode == 0
        def refused():
            entries = expect_success(world.stack.get("/tenant/webhook/deliveries", headers=manage(data)))["deliveries"]
            return entries and entries[0]["status"] == "failed"
        wait_until(refused, timeout=10, what=f"the delivery to {url} refused")
        entry = expect_success(world.stack.get("/tenant/webhook/deliveries", headers=manage(data)))["deliveries"][0]
        assert "not allowed" in entry["lastError"], entry
    assert receiver.received() == [], "nothing reached the loopback receiver"
