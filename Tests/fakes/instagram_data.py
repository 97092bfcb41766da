"""Model for the Instagram / Graph fake: accounts, media fixtures, tokens, the `fields` parser,
Graph error values and media rendering (reference section 4)."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, field

from .httpcore import Response

SHORT_IG_TTL = 3600
LONG_TTL = 5184000  # 60 days
FB_SHORT_TTL = 7200
FB_LONG_EXPIRES_IN = 5183944

MEDIA_FIELDS = {"id", "caption", "media_type", "media_url", "permalink", "thumbnail_url", "timestamp", "username",
                "shortcode", "media_product_type", "like_count", "comments_count", "is_comment_enabled",
                "children", "owner"}
CHILD_FIELDS = {"id", "media_type", "media_url", "permalink", "thumbnail_url", "timestamp", "username", "shortcode"}


class GraphError(Exception):
    """A Graph API error: {"error":{message,type,code,[error_subcode],fbtrace_id}}."""

    def __init__(self, code: int, message: str, type_: str = "OAuthException", status: int = 400,
                 subcode: int | None = None, headers=None, extra: dict | None = None):
        super().__init__(message)
        self.code, self.message, self.type, self.status = code, message, type_, status
        self.subcode, self.headers, self.extra = subcode, list(headers or []), dict(extra or {})

    def body(self) -> dict:
        err = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            err["error_subcode"] = self.subcode
        err.update(self.extra)
        err["fbtrace_id"] = "A" + secrets.token_urlsafe(16).replace("-", "x").replace("_", "y")
        return {"error": err}

    def response(self, escape_slashes: bool = False) -> Response:
        resp = Response.json(self.body(), self.status, escape_slashes=escape_slashes)
        for k, v in self.headers:
            resp.set_header(k, v)
        resp.set_header("WWW-Authenticate", 'OAuth "Facebook Platform" "%s" "%s"' % (
            "invalid_token" if self.code == 190 else "invalid_request", self.message.replace('"', "'")))
        return resp


def pdt(t: float) -> str:
    return time.strftime("%A, %d-%b-%y %H:%M:%S PDT", time.gmtime(t - 7 * 3600))


def err_expired(expired_at: float, now: float, subcode: int | None = 463) -> GraphError:
    """190 with subcode 463 (next-capabilities §2.2); captured real bodies also come without one
    (reference §4.6): `subcode=None`."""
    return GraphError(190, "Error validating access token: Session has expired on %s. The current time is %s."
                      % (pdt(expired_at), pdt(now)), subcode=subcode)


def err_invalidated() -> GraphError:
    return GraphError(190, DEAD_TOKEN_MESSAGES[460], subcode=460)


# Why a token died early (next-capabilities §2.2; wording as Meta's where known, else a close guess).
# 463 (expired) is `err_expired`; None = a plain 190 without `error_subcode`.
DEAD_TOKEN_MESSAGES = {
    458: "Error validating access token: The user has not authorized application %(app_id)s.",
    459: "Error validating access token: You cannot access the app till you log in to www.facebook.com and "
         "follow the instructions given.",
    460: "Error validating access token: The session has been invalidated because the user changed their "
         "password or Facebook has changed the session for security reasons.",
    464: "Error validating access token: Sessions for the user are not allowed because the user is not a "
         "confirmed user.",
    466: "Error validating access token: The session was invalidated explicitly using an API call.",
    467: "Error validating access token: The session is invalid because the user logged out.",
    492: "Error validating access token: The user must be an administrator, editor, or moderator of the page "
         "in order to impersonate it.",
    None: "Error validating access token: The session is invalid.",
}


def err_dead(subcode: int | None, app_id: str = "", message: str | None = None) -> GraphError:
    """A token killed early: 190 with `subcode` (no `error_subcode` key when None)."""
    text = message or DEAD_TOKEN_MESSAGES[subcode] % {"app_id": app_id}
    return GraphError(190, text, subcode=subcode)


PERMISSION_MESSAGES = {10: "(#10) Application does not have permission for this action",
                       200: "(#200) Permissions error"}


def err_permission(code: int = 10, message: str | None = None, type_: str = "OAuthException",
                   status: int = 400) -> GraphError:
    return GraphError(code, message or PERMISSION_MESSAGES.get(code, "(#%d) Permissions error" % code), type_,
                      status=status)


def err_cannot_parse() -> GraphError:
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def err_decrypt() -> GraphError:
    return GraphError(190, "The access token could not be decrypted")


def err_no_object(obj_id: str) -> GraphError:
    return GraphError(100, "Unsupported get request. Object with ID '%s' does not exist, cannot be loaded due to "
                      "missing permissions, or does not support this operation. Please read the Graph API "
                      "documentation at https://developers.facebook.com/docs/graph-api" % obj_id,
                      "GraphMethodException", subcode=33)


def err_field(name: str, node: str = "ShadowIGMedia") -> GraphError:
    return GraphError(100, "(#100) Tried accessing nonexisting field (%s) on node type (%s)" % (name, node),
                      "IGApiException" if node.startswith("ShadowIG") else "OAuthException")


THROTTLE_MESSAGES = {4: "(#4) Application request limit reached", 17: "(#17) User request limit reached",
                     32: "(#32) Page request limit reached",
                     613: "(#613) Calls to this api have exceeded the rate limit.",
                     80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try again.",
                     80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try "
                            "again."}


def usage_headers(app_pct: int, buc_pct: int, owner: str = "0", minutes: int = 0) -> list:
    app = {"call_count": app_pct, "total_time": app_pct, "total_cputime": app_pct}
    buc = {owner: [{"type": "instagram", "call_count": buc_pct, "total_cputime": buc_pct, "total_time": buc_pct,
                    "estimated_time_to_regain_access": minutes}]}
    return [("X-App-Usage", json.dumps(app, separators=(",", ":"))),
            ("X-Business-Use-Case-Usage", json.dumps(buc, separators=(",", ":")))]


# ---- fields parser ------------------------------------------------------------------------------

def parse_fields(text: str) -> list:
    """'id,children{id,media_url},x.fields(a,b)' -> [('id', None), ('children', [...]), ('x', [...])]."""
    pos = 0

    def parse_list(closer):
        nonlocal pos
        out = []
        while pos < len(text):
            if closer and text[pos] == closer:
                pos += 1
                return out
            start = pos
            while pos < len(text) and text[pos] not in ",{}().":
                pos += 1
            name = text[start:pos].strip()
            sub = None
            if pos < len(text) and text[pos] == "{":
                pos += 1
                sub = parse_list("}")
            while pos < len(text) and text[pos] == ".":
                pos += 1
                mstart = pos
                while pos < len(text) and text[pos] != "(":
                    pos += 1
                modifier = text[mstart:pos]
                if pos >= len(text):
                    raise ValueError("bad field modifier")
                pos += 1
                if modifier == "fields":
                    sub = parse_list(")")
                else:  # .limit(n) and friends: skip the argument
                    while pos < len(text) and text[pos] != ")":
                        pos += 1
                    pos += 1
            if name:
                out.append((name, sub))
            if pos < len(text) and text[pos] == ",":
                pos += 1
            elif closer and pos < len(text) and text[pos] == closer:
                continue
            elif pos < len(text):
                raise ValueError("unexpected %r in fields" % text[pos])
        if closer:
            raise ValueError("unbalanced fields expression")
        return out

    return parse_list(None)


# ---- model --------------------------------------------------------------------------------------

@dataclass
class Media:
    id: str
    media_type: str  # IMAGE | VIDEO | CAROUSEL_ALBUM
    created: float
    caption: str | None = None
    shortcode: str = ""
    children: list = field(default_factory=list)
    omit_media_url: bool = False
    deleted: bool = False
    like_count: int = 0
    comments_count: int = 0
    parent: "Media | None" = None

    @property
    def sort_key(self):
        return (self.created, int(self.id))


@dataclass
class Account:
    ig_user_id: str
    username: str
    media: list = field(default_factory=list)  # newest first
    fb_user_id: str | None = None
    fb_name: str = ""
    pages: list = field(default_factory=list)  # [{"id", "name", "ig": ig_user_id | None}]

    def visible_media(self) -> list:
        return sorted((m for m in self.media if not m.deleted), key=lambda m: m.sort_key, reverse=True)

    def summary(self) -> dict:
        return {"ig_user_id": self.ig_user_id, "username": self.username, "fb_user_id": self.fb_user_id,
                "pages": [{"id": p["id"], "name": p["name"], "instagram_business_account": p["ig"]}
                          for p in self.pages],
                "media_ids": [m.id for m in self.visible_media()],
                "media": [{"id": m.id, "media_type": m.media_type, "caption": m.caption,
                           "children": [c.id for c in m.children]} for m in self.visible_media()]}


@dataclass
class Token:
    value: str
    product: str  # instagram | facebook
    kind: str  # short | long
    user: str  # ig_user_id (instagram) or fb_user_id (facebook)
    issued_at: float
    expires_at: float
    scopes: list = field(default_factory=list)
    revoked: bool = False
    revoked_subcode: int | None = 460  # why, once revoked (DEAD_TOKEN_MESSAGES)
    revoked_message: str | None = None
    permission_error: dict | None = None  # {"code", "message", "type", "status"}: data calls fail with it

    def to_json(self, include_value: bool = False) -> dict:
        out = {"product": self.product, "kind": self.kind, "user": self.user, "issued_at": self.issued_at,
               "expires_at": self.expires_at, "scopes": self.scopes, "revoked": self.revoked,
               "revoked_subcode": self.revoked_subcode if self.revoked else None,
               "permission_error": self.permission_error}
        if include_value:
            out["access_token"] = self.value
        return out


@dataclass
class AuthCode:
    value: str
    product: str
    user: str
    redirect_uri: str | None
    scopes: list
    created: float
    used: bool = False


def new_token_value(product: str) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    rand = "".join(secrets.choice(alphabet) for _ in range(120))
    return ("IGAA" if product == "instagram" else "EAAB") + rand


def encode_cursor(m: Media) -> str:
    return base64.b64encode(("AQH%d:%s" % (int(m.created), m.id)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str):
    raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    if not raw.startswith("AQH"):
        raise ValueError("bad cursor")
    created, mid = raw[3:].split(":", 1)
    return (float(created), int(mid))


def default_media_plan(count: int) -> list:
    """A deterministic mix: IMAGE, VIDEO (thumbnail), CAROUSEL_ALBUM (IMAGE+VIDEO+IMAGE children),
    IMAGE without caption; newest first."""
    plan = []
    for i in range(count):
        r = i % 6
        if r == 1:
            plan.append({"media_type": "VIDEO", "caption": "Reel #%d 🎬" % i})
        elif r == 3:
            plan.append({"media_type": "CAROUSEL_ALBUM", "caption": "Carousel #%d — café ☕" % i,
                         "children": ["IMAGE", "VIDEO", "IMAGE"]})
        elif r == 4:
            plan.append({"media_type": "IMAGE", "caption": None})
        else:
            plan.append({"media_type": "IMAGE", "caption": "Post #%d #fake" % i})
    return plan
