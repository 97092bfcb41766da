"""Shared pieces for the tenant tests: registration bodies, feeds, UUIDs and the log check."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass

from harness import Stack, expect_success

UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
SEALED = re.compile(r"v1:[A-Za-z0-9+/]+={0,2}")
SECRET_FIELDS = ("instagramAccountSecret", "instagramAccountId", "instagramAccessToken")


def register_body(**overrides) -> dict:
    """A valid /register body with fresh, recognisable secrets; a None override drops the field."""
    body = {
        "name": "Acme Bakery",
        "instagramAccountId": "1784140" + str(secrets.randbelow(10**9)).zfill(9),
        "instagramAccountSecret": "acctsecret" + secrets.token_hex(12),
        "instagramAccessToken": "IGQVJ" + secrets.token_hex(24),
        "apiType": "INSTAGRAM_LOGIN",
    }
    for name, value in overrides.items():
        if value is None:
            body.pop(name, None)
        else:
            body[name] = value
    return body


MANAGEMENT_TOKEN = re.compile(r"igmt_[A-Za-z0-9_-]{43}")


@dataclass
class Tenant:
    id: str
    token: str
    body: dict
    management: str = ""

    @property
    def manage(self) -> dict[str, str]:
        return bearer(self.management)

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.token)

    def secrets(self) -> list[str]:
        """Values that must never appear in plaintext in logs or the store's hash."""
        values = [self.token, self.management, self.body.get("instagramAccountSecret"), self.body.get("instagramAccessToken")]
        return [str(v) for v in values if v]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def register(stack: Stack, headers: dict[str, str] | None = None, **overrides) -> Tenant:
    body = register_body(**overrides)
    data = expect_success(stack.post("/register", body, headers=headers), 201)
    # With an access token the tenant is synced at once; against the unreachable default Instagram
    # URL that first sync fails and `note` says so (the tenant is created all the same).
    expected = ["authToken", "managementToken", "photosCount", "tenantId"] + (["note"] if body.get("instagramAccessToken") else [])
    assert sorted(data) == sorted(expected), data
    assert data["photosCount"] == 0, data
    assert UUID_V4.fullmatch(data["authToken"]), data
    assert UUID_V4.fullmatch(data["tenantId"]), data
    assert data["authToken"] != data["tenantId"], data
    assert MANAGEMENT_TOKEN.fullmatch(data["managementToken"]), data
    return Tenant(data["tenantId"], data["authToken"], body, data["managementToken"])


def make_feed(label: str, count: int = 50) -> tuple[str, list]:
    """A feed as the sync would store it → (exact JSON text, parsed items).

    Deliberately not what json.dumps would write for the whole array: mixed escaping (`\\u00e9`
    next to raw UTF-8, `\\/`), newlines and spaces between items, so any re-serialisation on the
    way out shows up as a byte difference.
    """
    parts = []
    for index in range(count):
        item = {
            "id": f"{label}-{17900000000000000 + index}",
            "media_type": ("IMAGE", "VIDEO", "CAROUSEL_ALBUM")[index % 3],
            "media_url": f"https://res.cloudinary.com/demo/image/upload/v1/{label}/{index}.jpg",
            "permalink": f"https://www.instagram.com/p/{label}{index}/",
            "caption": f"{label} post {index} — café ☕ 日本語 🎉 \"quoted\" back\\slash",
            "timestamp": f"2024-05-{1 + index % 28:02d}T10:00:00+0000",
            "like_count": index * 7,
        }
        if index % 3 == 1:
            item["thumbnail_url"] = f"https://res.cloudinary.com/demo/video/upload/v1/{label}/{index}.jpg"
        text = json.dumps(item, ensure_ascii=index % 2 == 0, separators=(",", ":") if index % 4 else (", ", ": "))
        if index % 5 == 0:
            text = text.replace("/", "\\/")
        parts.append(text)
    feed = "[\n  " + ",\n  ".join(parts) + "\n]"
    return feed, json.loads(feed)


def store_feed(stack: Stack, tenant_id: str, feed: str, prefix: str = "") -> None:
    assert stack.redis_cli("SET", f"{prefix}instagram:{tenant_id}:photos", feed) == "OK"


def photos_envelope(feed: str) -> bytes:
    """The exact body of a GET /photos answer serving `feed`."""
    return b'{"success":true,"data":{"photos":' + feed.encode() + b"}}"


def dbsize(stack: Stack) -> int:
    return int(stack.redis_cli("DBSIZE"))


def assert_log_clean(stack: Stack, *values: str) -> None:
    """None of `values` (tokens, secrets) appears in the responder's log."""
    log = stack.responder_log()
    assert log, "the responder wrote no log at all"
    leaked = [value for value in values if value and value in log]
    assert not leaked, f"responder log contains {len(leaked)} secret value(s): {[v[:6] + '…' for v in leaked]}"
