"""A QStash end-to-end world: FakeInstagram + FakeQStash + a private stack wired to them.

    world = QStashWorld(make_stack)            # QStash group configured
    tenant = world.register(media_count=3)     # POST /register through nginx (first sync included)
    summary = world.sync()                     # POST /sync with the right secret (QStash batch fan-out)
    world.publishes()                          # every message handed to QStash (batch items)
    world.qstash.wait_for(message_id)          # the fake delivers to nginx, signing `sub` with
                                               # the PUBLIC url https://media.example.test/...

Everything listens on loopback: the fakes bind 127.0.0.1:0, the stack is the conftest's, and the
fake QStash rewrites every delivery to the stack's nginx (`deliver_to`).
"""

from __future__ import annotations

import http.client
import json
import secrets
import sys
import time
from dataclasses import dataclass

from harness import REPO, Response, Stack, expect_success

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from Tests.fakes.instagram import FakeInstagram  # noqa: E402
from Tests.fakes.qstash import FakeQStash  # noqa: E402
from Tests.fakes.qstash_jwt import (  # noqa: E402,F401
    b64url_nopad, body_hash, make_claims, new_signing_key, sign_jwt)

PUBLIC_BASE_URL = "https://media.example.test"
QSTASH_TOKEN = "qstash-e2e-token"
# The media edge of an INSTAGRAM_LOGIN tenant on the Instagram fake (graph.instagram.com).
MEDIA_LISTING = "/graph/v23.0/me/media"


@dataclass
class Tenant:
    id: str
    auth_token: str
    ig_user_id: str
    access_token: str

    @property
    def public_url(self) -> str:
        return f"{PUBLIC_BASE_URL}/sync/process/{self.id}"

    @property
    def path(self) -> str:
        return f"/sync/process/{self.id}"


class QStashWorld:
    def __init__(self, make_stack, *, qstash: bool = True, retry_delay: float = 0.2, env: dict | None = None):
        self.instagram = FakeInstagram().start()
        self.qstash: FakeQStash | None = None
        try:
            stack_env = {
                "INSTAGRAM_API_URL": self.instagram.api_url,
                "INSTAGRAM_GRAPH_URL": self.instagram.graph_url,
                "FACEBOOK_GRAPH_URL": self.instagram.facebook_url,
                "INSTAGRAM_API_TIMEOUT_MS": "5000",
            }
            if qstash:
                self.qstash = FakeQStash(token=QSTASH_TOKEN, retry_delay=retry_delay, delivery_timeout=20.0).start()
                # The responder holds the pair the console shows right now: current + next.
                self.current_key = self.qstash.current_signing_key
                self.next_key = self.qstash.next_signing_key
                stack_env.update({
                    "QSTASH_URL": self.qstash.base_url,
                    "QSTASH_TOKEN": QSTASH_TOKEN,
                    "QSTASH_CURRENT_SIGNING_KEY": self.current_key,
                    "QSTASH_NEXT_SIGNING_KEY": self.next_key,
                    "WEBHOOK_BASE_URL": PUBLIC_BASE_URL,
                })
            stack_env.update(env or {})
            self.stack: Stack = make_stack(stack_env)
            if self.qstash is not None:
                self.qstash.set_deliver_to(self.stack.base_url)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        # The conftest stops the stack; the fakes are ours.
        if self.qstash is not None:
            self.qstash.stop()
        self.instagram.stop()

    # ---- tenants and feeds -------------------------------------------------------------------
    @property
    def sync_secret(self) -> str:
        return self.stack.responder.env["SYNC_INTERNAL_SECRET"]

    def register(self, media_count: int = 3, with_token: bool = True) -> Tenant:
        """A fake Instagram account with `media_count` posts, registered with a long-lived token
        (so POST /register syncs it once) or without any token."""
        account = self.instagram.create_account(media_count=media_count)
        token = self.instagram.mint_token(account["ig_user_id"])
        body = {
            "name": f"tenant {account['username']}",
            "instagramAccountId": account["ig_user_id"],
            "instagramAccountSecret": self.instagram.ig_app_secret,
            "apiType": "INSTAGRAM_LOGIN",
        }
        if with_token:
            body["instagramAccessToken"] = token
        data = expect_success(self.stack.post("/register", body), 201)
        assert data["photosCount"] == (media_count if with_token else 0), data
        return Tenant(data["tenantId"], data["authToken"], account["ig_user_id"], token)

    def new_post(self, tenant: Tenant) -> str:
        """Adds a newest post on Instagram; it reaches the feed only through a later sync."""
        return self.instagram.add_media(tenant.ig_user_id, {"media_type": "IMAGE", "caption": "fresh ✓ post"})

    def photo_ids(self, tenant: Tenant) -> list[str]:
        data = expect_success(self.stack.get("/photos", headers={"Authorization": f"Bearer {tenant.auth_token}"}))
        return [photo["id"] for photo in data["photos"]]

    def media_listings(self) -> int:
        """How many media pages the Instagram fake has served (or refused) so far."""
        return len(self.instagram.requests(path_prefix=MEDIA_LISTING))

    def tenant_field(self, tenant: Tenant, field: str) -> str:
        return self.stack.redis_cli("HGET", f"tenant:{tenant.id}", field)

    # ---- QStash --------------------------------------------------------------------------------
    def sync(self, body=None) -> Response:
        return self.stack.post("/sync", {"secret": self.sync_secret} if body is None else body)

    def publishes(self) -> list["Published"]:
        """Every message the responder asked QStash to publish, in order: one per item of each
        `POST /v2/batch` call (how POST /sync fans out), and one per `POST /v2/publish/…`."""
        assert self.qstash is not None
        out: list[Published] = []
        for request in self.qstash.requests(method="POST"):
            if request.path == "/v2/batch":
                try:
                    items = json.loads(request.body)
                except ValueError:
                    continue
                for item in items if isinstance(items, list) else []:
                    out.append(Published(
                        destination=item.get("destination", ""), headers=list((item.get("headers") or {}).items()),
                        body=(item.get("body") or "").encode(), authorization=request.header("Authorization"),
                        call=request))
            elif request.path.startswith("/v2/publish/"):
                out.append(Published(
                    destination=request.target[len("/v2/publish/"):],
                    headers=[(k, v) for k, v in request.headers if k.lower() != "authorization"], body=request.body,
                    authorization=request.header("Authorization"), call=request))
        return out

    def batch_calls(self) -> list:
        """The recorded `POST /v2/batch` calls."""
        assert self.qstash is not None
        return self.qstash.requests(path_prefix="/v2/batch", method="POST")

    def qstash_api(self, path: str, body: bytes, headers: dict) -> dict:
        """Calls the QStash fake's API like any QStash client would (here: the test itself)."""
        assert self.qstash is not None
        conn = http.client.HTTPConnection("127.0.0.1", self.qstash.port, timeout=10)
        try:
            conn.request("POST", path, body=body, headers={"Authorization": f"Bearer {QSTASH_TOKEN}", **headers})
            reply = conn.getresponse()
            answer = json.loads(reply.read())
        finally:
            conn.close()
        assert reply.status == 200, answer
        return answer

    def publish(self, destination: str, body: bytes, content_type: str = "application/json",
                retries: int = 3) -> str:
        answer = self.qstash_api("/v2/publish/" + destination, body, {
            "Content-Type": content_type, "Upstash-Retries": str(retries)})
        return answer["messageId"]

    def deliveries(self, message_id: str) -> list[dict]:
        assert self.qstash is not None
        return [d for d in list(self.qstash.deliveries) if d["messageId"] == message_id]

    def statuses(self, message_id: str) -> list[int | None]:
        return [d["status"] for d in self.deliveries(message_id)]

    def wait_done(self, message_id: str, timeout: float = 30.0):
        """Until the message is delivered, or failed (in the DLQ)."""
        assert self.qstash is not None
        return self.qstash.wait_for(message_id, timeout=timeout)

    def dlq_entry(self, message_id: str) -> dict | None:
        assert self.qstash is not None
        return next((e for e in list(self.qstash.dlq) if e["messageId"] == message_id), None)

    # ---- deliveries the test forges itself -----------------------------------------------------
    def forged_delivery(self, tenant_path: str, body: bytes, *, key: str | None, sub: str | None = None,
                        claims: dict | None = None, message_id: str | None = None,
                        jwt_header: dict | None = None, raw_signature: str | None = None) -> Response:
        """POSTs to nginx like QStash would, with a token the test signs (HMAC-SHA256 over the
        compact JSON, like QStash). `key=None` sends no `Upstash-Signature` at all;
        `raw_signature` sends that header value verbatim."""
        headers = {
            "Content-Type": "application/json", "User-Agent": "Upstash-QStash", "Upstash-Retried": "0",
            "Upstash-Message-Id": message_id or "msg_forged_" + secrets.token_hex(12),
        }
        if raw_signature is not None:
            headers["Upstash-Signature"] = raw_signature
        elif key is not None:
            payload = make_claims(sub or PUBLIC_BASE_URL + tenant_path, body, int(time.time()))
            payload.update(claims or {})
            headers["Upstash-Signature"] = sign_jwt(payload, key, jwt_header)
        return self.stack.post(tenant_path, body, headers=headers)


@dataclass
class Published:
    """One message as the responder handed it to QStash (an item of a batch call, or a publish)."""
    destination: str
    headers: list  # [(name, value), …]: the message's own headers (`Upstash-*`, `Content-Type`)
    body: bytes
    authorization: str | None  # of the API call that carried it
    call: object  # the recorded request (the batch call, or the publish)

    @property
    def path(self) -> str:
        return self.destination

    def header(self, name: str, default=None):
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), default)


def unknown_key() -> str:
    return new_signing_key()


def unsigned_token(sub: str, body: bytes) -> str:
    """`alg: none` with an empty signature part: the classic JWT downgrade."""
    header = b64url_nopad(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = b64url_nopad(json.dumps(make_claims(sub, body, int(time.time()))).encode())
    return f"{header}.{payload}."


def response_json(delivery: dict) -> dict:
    return json.loads(delivery["responseBody"])


def hour_safe() -> None:
    """The deduplication id is per tenant and UTC hour: never start a dedup check 10 s before the
    hour turns."""
    now = time.time()
    left = 3600 - now % 3600
    if left < 10:
        time.sleep(left + 1)
