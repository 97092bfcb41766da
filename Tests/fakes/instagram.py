"""Instagram Platform fake: api.instagram.com, graph.instagram.com, graph.facebook.com, the
authorize pages and the media CDN on one loopback server with distinct base URLs (section 4, 5.4).

    fake = FakeInstagram(ig_app_id="ig-app", ig_app_secret="ig-secret")
    fake.start()
    acct = fake.create_account(media_count=80, facebook=True)
    tok = fake.mint_token(acct["ig_user_id"], kind="long")
    fake.api_url, fake.graph_url, fake.facebook_url, fake.cdn_url, fake.instagram_www_url, fake.facebook_www_url

CLI: python3 -m Tests.fakes.instagram --port 0 --ready-file F [--ig-app-id ... --token-style flat]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
import threading
import time
import urllib.parse

from .base import FakeServer, cli_main
from .httpcore import Request, Response
from .instagram_data import (CHILD_FIELDS, DEAD_TOKEN_MESSAGES, FB_SHORT_TTL, LONG_TTL, MEDIA_FIELDS,
                             SHORT_IG_TTL, THROTTLE_MESSAGES, Account, AuthCode, GraphError, Media, Token,
                             decode_cursor, default_media_plan, encode_cursor, err_cannot_parse, err_dead,
                             err_decrypt, err_expired, err_field, err_invalidated, err_permission,
                             new_token_value, parse_fields, usage_headers)
from .instagram_routes import InstagramRoutes
from .media import fake_jpeg, fake_mp4

VERSION = re.compile(r"^v\d+\.\d+$")
PREFIXES = ("api", "graph", "facebook", "cdn", "www", "fbwww")


class FakeInstagram(InstagramRoutes, FakeServer):
    name = "instagram"

    def __init__(self, ig_app_id: str = "1234567890123456", ig_app_secret: str = "ig-test-app-secret",
                 fb_app_id: str = "6543210987654321", fb_app_secret: str = "fb-test-app-secret",
                 token_style: str = "data", page_size: int = 25, max_limit: int = 100, cdn_ttl: float = 3 * 86400,
                 require_appsecret_proof: bool = False, escape_slashes: bool = False, code_ttl: float = 3600,
                 default_version: str = "v23.0", fb_omit_expires_in: bool = False, expired_subcode: int | None = 463,
                 app_name: str = "igmedia fake", **kw):
        super().__init__(**kw)
        if token_style not in ("data", "flat"):
            raise ValueError("token_style must be 'data' or 'flat'")
        self.ig_app_id, self.ig_app_secret = ig_app_id, ig_app_secret
        self.fb_app_id, self.fb_app_secret = fb_app_id, fb_app_secret
        self.token_style = token_style
        self.page_size, self.max_limit = page_size, max_limit
        self.cdn_ttl = cdn_ttl
        self.require_appsecret_proof = require_appsecret_proof
        self.escape_slashes = escape_slashes
        self.code_ttl = code_ttl
        self.default_version = default_version
        self.fb_omit_expires_in = fb_omit_expires_in
        self.expired_subcode = expired_subcode  # 463, or None like the captured body of reference §4.6
        self.app_name = app_name  # debug_token's `application`
        self._cdn_key = secrets.token_bytes(16)
        self._state_lock = threading.RLock()
        self._init_state()

    def _init_state(self):
        with self._state_lock:
            self.accounts: dict[str, Account] = {}
            self.fb_users: dict[str, Account] = {}
            self.media_index: dict[str, tuple] = {}  # media id -> (Media, Account)
            self.tokens: dict[str, Token] = {}
            self.codes: dict[str, AuthCode] = {}
            self.authorize_as: str | None = None
            self.authorize_deny = False
            self.app_usage: dict | None = None
            self.buc_usage: dict | None = None
            self._n_accounts = 0
            self._n_media = 0
            self.counts = {"tokens_minted": 0, "codes_exchanged": 0, "refreshes": 0, "media_pages": 0,
                           "cdn_hits": 0, "cdn_expired": 0, "graph_errors": 0}

    # ---- URLs -------------------------------------------------------------------------------
    @property
    def api_url(self):
        return self.base_url + "/api"  # api.instagram.com

    @property
    def graph_url(self):
        return self.base_url + "/graph"  # graph.instagram.com

    @property
    def facebook_url(self):
        return self.base_url + "/facebook"  # graph.facebook.com

    @property
    def cdn_url(self):
        return self.base_url + "/cdn"  # scontent-*.cdninstagram.com

    @property
    def instagram_www_url(self):
        return self.base_url + "/www"  # www.instagram.com (authorize page)

    @property
    def facebook_www_url(self):
        return self.base_url + "/fbwww"  # www.facebook.com (dialog/oauth)

    def info(self):
        return {"api_url": self.api_url, "graph_url": self.graph_url, "facebook_url": self.facebook_url,
                "cdn_url": self.cdn_url, "instagram_www_url": self.instagram_www_url,
                "facebook_www_url": self.facebook_www_url, "ig_app_id": self.ig_app_id, "fb_app_id": self.fb_app_id,
                "token_style": self.token_style, "page_size": self.page_size, "max_limit": self.max_limit,
                "require_appsecret_proof": self.require_appsecret_proof, "expired_subcode": self.expired_subcode,
                "app_name": self.app_name}

    def counters(self):
        with self._state_lock:
            return dict(self.counts, accounts=len(self.accounts), tokens=len(self.tokens))

    def reset_state(self):
        self._init_state()

    def route_of(self, req):
        segs = [s for s in req.path.split("/") if s]
        if not segs:
            return "/"
        if segs[0] == "cdn":
            return "/cdn/*"
        rest = segs[1:]
        if rest and VERSION.match(rest[0]):
            rest = ["vX"] + rest[1:]
        return "/" + "/".join([segs[0]] + [s if not s.isdigit() else "<id>" for s in rest])

    # ---- presets (Graph-shaped faults) --------------------------------------------------------
    def presets(self):
        def graph(err: GraphError, p: dict):
            if "status" in p:
                err.status = int(p["status"])
            return {"status": err.status, "body": err.body(), "headers": err.headers}

        def throttle(p):
            code = int(p.get("code", 4))
            minutes = int(p.get("minutes", 5))
            err = GraphError(code, THROTTLE_MESSAGES.get(code, "(#%d) Rate limit reached" % code),
                             "OAuthException" if code in (4, 17, 32) else "IGApiException",
                             headers=usage_headers(100, 100, p.get("owner", "0"), minutes),
                             extra={"is_transient": True})
            return graph(err, p)

        def transient(p):
            code = int(p.get("code", 1))
            msg = ("An unknown error occurred" if code == 1 else
                   "An unexpected error has occurred. Please retry your request later.")
            return graph(GraphError(code, msg, status=500, extra={"is_transient": True}), p)

        def dead(p):
            subcode = p.get("subcode", 460)
            subcode = None if subcode is None else int(subcode)
            if subcode == 463:
                return graph(err_expired(self.clock.now() - 86400, self.clock.now()), p)
            return graph(err_dead(subcode, self.ig_app_id, p.get("message")), p)

        def permission(p):
            return graph(err_permission(int(p.get("code", 10)), p.get("message"), p.get("type", "IGApiException"),
                                        int(p.get("status", 403))), p)

        return {
            "token_expired": lambda p: graph(err_expired(self.clock.now() - 86400, self.clock.now(),
                                                         self.expired_subcode), p),
            "token_invalidated": lambda p: graph(err_invalidated(), p),
            "token_dead": dead,
            "token_decrypt": lambda p: graph(err_decrypt(), p),
            "token_invalid": lambda p: graph(err_cannot_parse(), p),
            "permission": permission,
            "unsupported_field": lambda p: graph(err_field(p.get("field", "bogus")), p),
            "throttle": throttle,
            "transient": transient,
            "oauth_code_used": lambda p: {"status": 400, "body": {"error_type": "OAuthException", "code": 400,
                                                                  "error_message": "This authorization code has "
                                                                                   "been used"}},
            "html": lambda p: {"action": "html", "status": p.get("status", 502)},
        }

    # ---- state API (in-process and via /__control) --------------------------------------------
    def _new_media(self, spec: dict, created: float, parent=None) -> Media:
        self._n_media += 1
        mid = str(17900000000000000 + self._n_media * 37)
        mtype = spec.get("media_type", "IMAGE")
        m = Media(id=mid, media_type=mtype, created=created, caption=spec.get("caption"),
                  shortcode="C" + hashlib.sha1(mid.encode()).hexdigest()[:10],
                  omit_media_url=bool(spec.get("omit_media_url", False)),
                  like_count=int(spec.get("like_count", self._n_media % 50)),
                  comments_count=int(spec.get("comments_count", self._n_media % 7)), parent=parent)
        if mtype == "CAROUSEL_ALBUM":
            kids = spec.get("children") or ["IMAGE", "VIDEO"]
            m.children = [self._new_media(k if isinstance(k, dict) else {"media_type": k}, created, m) for k in kids]
        return m

    def create_account(self, media_count: int = 0, username: str | None = None, media: list | None = None,
                       facebook: bool = False, page_without_ig: bool = True, ig_user_id: str | None = None) -> dict:
        with self._state_lock:
            self._n_accounts += 1
            n = self._n_accounts
            uid = str(ig_user_id or 17841400000000000 + n * 1009)
            acct = Account(ig_user_id=uid, username=username or "fake_user_%d" % n)
            plan = list(media) if media is not None else default_media_plan(media_count)
            base = self.clock.now() - 3600
            for i, spec in enumerate(plan):
                m = self._new_media(spec, base - i * 5400 - n)
                acct.media.append(m)
            self._index_account(acct)
            if facebook:
                acct.fb_user_id = str(10150000000000000 + n * 7)
                acct.fb_name = "Fake Owner %d" % n
                acct.pages = [{"id": str(100000000000000 + n * 10), "name": "Fake Page %d" % n, "ig": uid}]
                if page_without_ig:
                    acct.pages.append({"id": str(100000000000000 + n * 10 + 1), "name": "Unlinked Page %d" % n,
                                       "ig": None})
                self.fb_users[acct.fb_user_id] = acct
            self.accounts[uid] = acct
            if self.authorize_as is None or facebook:
                self.authorize_as = uid
            return acct.summary()

    def _index_account(self, acct: Account):
        for m in acct.media:
            self.media_index[m.id] = (m, acct)
            for c in m.children:
                self.media_index[c.id] = (c, acct)

    def add_media(self, ig_user_id: str, spec: dict) -> str:
        with self._state_lock:
            acct = self.accounts[ig_user_id]
            m = self._new_media(spec, float(spec.get("created", self.clock.now())))
            acct.media.insert(0, m)
            self._index_account(acct)
            return m.id

    def delete_media(self, media_id: str) -> bool:
        with self._state_lock:
            entry = self.media_index.get(media_id)
            if entry is None:
                return False
            entry[0].deleted = True
            for c in entry[0].children:
                c.deleted = True
            return True

    def patch_media(self, media_id: str, changes: dict) -> bool:
        with self._state_lock:
            entry = self.media_index.get(media_id)
            if entry is None:
                return False
            m = entry[0]
            for key in ("caption", "omit_media_url", "like_count", "comments_count"):
                if key in changes:
                    setattr(m, key, changes[key])
            return True

    def mint_token(self, user: str, product: str = "instagram", kind: str = "long", age_seconds: float = 0,
                   expires_in: float | None = None, scopes=None) -> str:
        now = self.clock.now()
        issued = now - age_seconds
        if expires_in is None:
            expires_in = {("instagram", "short"): SHORT_IG_TTL, ("facebook", "short"): FB_SHORT_TTL}.get(
                (product, kind), LONG_TTL)
        default_scopes = ["instagram_business_basic"] if product == "instagram" else \
            ["instagram_basic", "pages_show_list", "pages_read_engagement"]
        tok = Token(new_token_value(product), product, kind, str(user), issued, issued + expires_in,
                    list(scopes or default_scopes))
        with self._state_lock:
            self.tokens[tok.value] = tok
            self.counts["tokens_minted"] += 1
        return tok.value

    def mint_code(self, user: str, product: str = "instagram", redirect_uri: str | None = None, scopes=None) -> str:
        code = "AQ" + secrets.token_urlsafe(48).replace("-", "A").replace("_", "B")
        default_scopes = ["instagram_business_basic"] if product == "instagram" else \
            ["instagram_basic", "pages_show_list", "pages_read_engagement"]
        with self._state_lock:
            self.codes[code] = AuthCode(code, product, str(user), redirect_uri, list(scopes or default_scopes),
                                        self.clock.now())
        return code

    def _tokens_of(self, token: str | None, user: str | None) -> list:
        """Tokens equal to `token`, or belonging to `user`: an Instagram user id also matches the
        Facebook tokens of the account's linked Facebook user. Call with the state lock held."""
        users = set()
        if user is not None:
            users.add(str(user))
            acct = self.accounts.get(str(user))
            if acct is not None and acct.fb_user_id:
                users.add(acct.fb_user_id)
        return [t for t in self.tokens.values() if (token is not None and t.value == token) or t.user in users]

    def revoke_token(self, token: str | None = None, user: str | None = None) -> int:
        """Revoked like a password change: every later call gets 190/460."""
        return self.invalidate_token(token, user, subcode=460)

    def invalidate_token(self, token: str | None = None, user: str | None = None, subcode: int | None = 460,
                         message: str | None = None) -> int:
        """Kills matching tokens the way Meta does (next-capabilities §2.2); every later Graph call
        with them (media, /me, nodes, exchange, refresh, debug_token's `error`) answers 190 with
        `error_subcode` = `subcode`: 458 app removed, 459 checkpoint, 460 password changed, 464
        unconfirmed user, 466 invalidated via API, 467 logged out, 492 Page role lost, None = no
        subcode at all; 463 = expired (same as `expire_token`). Returns how many tokens."""
        if subcode is not None:
            subcode = int(subcode)
        if subcode == 463:
            return self.expire_token(token, user)
        if subcode not in DEAD_TOKEN_MESSAGES:
            raise ValueError("unsupported subcode %r (known: 463, %s)" % (
                subcode, ", ".join(str(k) for k in DEAD_TOKEN_MESSAGES)))
        with self._state_lock:
            hits = self._tokens_of(token, user)
            for t in hits:
                t.revoked, t.revoked_subcode, t.revoked_message = True, subcode, message
            return len(hits)

    def expire_token(self, token: str | None = None, user: str | None = None) -> int:
        """Moves the expiry of matching tokens to the past: 190/463 (`expired_subcode`)."""
        now = self.clock.now()
        with self._state_lock:
            hits = self._tokens_of(token, user)
            for t in hits:
                t.expires_at = min(t.expires_at, now - 1)
            return len(hits)

    def revoke_permission(self, token: str | None = None, user: str | None = None, code: int = 10,
                          message: str | None = None, status: int = 400, type_: str = "OAuthException",
                          scope: str | None = None) -> int:
        """The user took a permission back: the token stays valid (refresh works, debug_token says
        is_valid without `scope`), but every data call (media, /me, nodes, /me/accounts) answers
        `status` with Graph code `code` (10 "Application does not have permission for this action",
        or 200–299). `scope` defaults to the media scope of the token's product."""
        with self._state_lock:
            hits = self._tokens_of(token, user)
            for t in hits:
                t.permission_error = err_permission(int(code), message, type_, int(status)).body()["error"]
                t.permission_error["status"] = int(status)
                t.permission_error.pop("fbtrace_id", None)
                drop = scope or ("instagram_business_basic" if t.product == "instagram" else "instagram_basic")
                t.scopes = [s for s in t.scopes if s != drop]
            return len(hits)

    def token_info(self, token: str) -> dict | None:
        with self._state_lock:
            t = self.tokens.get(token)
            return t.to_json() if t else None

    # ---- token checks -----------------------------------------------------------------------
    def check_token(self, value: str | None, product: str, me_path: bool = False) -> Token:
        if not value:
            if me_path:
                raise GraphError(2500, "An active access token must be used to query information about the "
                                       "current user.")
            raise GraphError(104, "An access token is required to request this resource.")
        with self._state_lock:
            tok = self.tokens.get(value)
        if tok is None or tok.product != product:
            raise err_cannot_parse() if product == "instagram" else err_decrypt()
        if tok.revoked:
            raise err_dead(tok.revoked_subcode, self.ig_app_id if product == "instagram" else self.fb_app_id,
                           tok.revoked_message)
        now = self.clock.now()
        if now >= tok.expires_at:
            raise err_expired(tok.expires_at, now, self.expired_subcode)
        return tok

    @staticmethod
    def check_permission(tok: Token):
        """Data calls with a token whose permission was taken back (`revoke_permission`)."""
        err = tok.permission_error
        if err:
            raise GraphError(err["code"], err["message"], err["type"], status=err["status"])

    # ---- media rendering -----------------------------------------------------------------------
    def cdn_link(self, m: Media, thumbnail: bool = False) -> str:
        oe = "%08X" % int(self.clock.now() + self.cdn_ttl)
        if m.media_type == "VIDEO" and not thumbnail:
            path = "/o1/v/t16/f2/m86/%s.mp4" % m.id
        else:
            path = "/v/t51.29350-15/%s_%s_n.jpg" % (m.id, "thumb" if thumbnail else "img")
        oh = self._cdn_sig(path, oe)
        if path.endswith(".mp4"):
            return "%s%s?efg=eyJ2ZW5jb2RlX3RhZyI6ImZha2UifQ&_nc_cat=10&oh=%s&oe=%s&_nc_sid=ea0b6e" % (
                self.cdn_url, path, oh, oe)
        return "%s%s?stp=dst-jpg_e35&_nc_cat=10&_nc_sid=18de74&oh=%s&oe=%s" % (self.cdn_url, path, oh, oe)

    def _cdn_sig(self, path: str, oe: str) -> str:
        mac = hmac.new(self._cdn_key, ("%s|%s" % (path, oe)).encode(), hashlib.sha256).hexdigest()
        return "00_" + mac[:40]

    def render_media(self, m: Media, fields: list, acct: Account, child: bool = False) -> dict:
        out = {}
        for name, sub in fields:
            if name == "id":
                out["id"] = m.id
            elif name == "caption":
                if m.caption and not child:
                    out["caption"] = m.caption
            elif name == "media_type":
                out["media_type"] = m.media_type
            elif name == "media_url":
                if not m.omit_media_url:
                    first = m.children[0] if m.media_type == "CAROUSEL_ALBUM" and m.children else m
                    out["media_url"] = self.cdn_link(first)
            elif name == "thumbnail_url":
                if m.media_type == "VIDEO":
                    out["thumbnail_url"] = self.cdn_link(m, thumbnail=True)
            elif name == "permalink":
                kind = "reel" if m.media_type == "VIDEO" and not child else "p"
                out["permalink"] = "https://www.instagram.com/%s/%s/" % (kind, (m.parent or m).shortcode)
            elif name == "timestamp":
                out["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(m.created))
            elif name == "username":
                out["username"] = acct.username
            elif name == "shortcode":
                out["shortcode"] = m.shortcode
            elif name == "media_product_type":
                out["media_product_type"] = "REELS" if m.media_type == "VIDEO" else "FEED"
            elif name in ("like_count", "comments_count"):
                out[name] = getattr(m, name)
            elif name == "is_comment_enabled":
                out[name] = True
            elif name == "owner":
                out["owner"] = {"id": acct.ig_user_id}
            elif name == "children":
                if m.media_type == "CAROUSEL_ALBUM":
                    subfields = sub or [("id", None)]
                    out["children"] = {"data": [self.render_media(c, subfields, acct, child=True)
                                                for c in m.children if not c.deleted]}
        return out

    def validate_fields(self, fields: list, child: bool = False):
        allowed = CHILD_FIELDS if child else MEDIA_FIELDS
        for name, sub in fields:
            if name not in allowed:
                raise err_field(name)
            if sub is not None:
                if name != "children":
                    raise err_field(name)
                self.validate_fields(sub, child=True)

    def media_page(self, acct: Account, req: Request, host_url: str, version: str | None, token: str) -> dict:
        try:
            fields = parse_fields(req.q("fields") or "id")
        except ValueError:
            raise GraphError(100, "(#100) Syntax error in fields parameter", "OAuthException")
        self.validate_fields(fields)
        limit_raw = req.q("limit")
        try:
            limit = int(limit_raw) if limit_raw not in (None, "") else self.page_size
        except ValueError:
            raise GraphError(100, "(#100) Param limit must be a number", "OAuthException")
        limit = max(1, min(limit, self.max_limit))
        with self._state_lock:
            items = acct.visible_media()
            start, end = 0, None
            try:
                if req.q("after"):
                    key = decode_cursor(req.q("after"))
                    start = next((i for i, m in enumerate(items) if m.sort_key < key), len(items))
                elif req.q("before"):
                    key = decode_cursor(req.q("before"))
                    end = next((i for i, m in enumerate(items) if m.sort_key <= key), len(items))
                    start = max(0, end - limit)
            except (ValueError, UnicodeDecodeError):
                raise GraphError(100, "(#100) Invalid cursor", "OAuthException")
            page = items[start:start + limit] if end is None else items[start:end]
            data = [self.render_media(m, fields, acct) for m in page]
            self.counts["media_pages"] += 1
        out: dict = {"data": data}
        if page:
            out["paging"] = {"cursors": {"before": encode_cursor(page[0]), "after": encode_cursor(page[-1])}}
            base = "%s/%s%s/media?" % (host_url, (version + "/") if version else "", acct.ig_user_id)
            common = [("access_token", token), ("fields", req.q("fields") or "id"), ("limit", str(limit))]
            if start + len(page) < len(items):
                out["paging"]["next"] = base + urllib.parse.urlencode(
                    common + [("after", encode_cursor(page[-1]))], quote_via=urllib.parse.quote)
            if start > 0:
                out["paging"]["previous"] = base + urllib.parse.urlencode(
                    common + [("before", encode_cursor(page[0]))], quote_via=urllib.parse.quote)
        return out

    # ---- CDN ------------------------------------------------------------------------------------
    def serve_cdn(self, req: Request) -> Response:
        path = req.path[len("/cdn"):]
        oe, oh = req.q("oe"), req.q("oh")
        text = "text/plain"
        if not oe:
            return Response.text("Bad URL timestamp", 403, text)
        try:
            expiry = int(oe, 16)
        except ValueError:
            return Response.text("Bad URL timestamp", 403, text)
        if not oh or not hmac.compare_digest(self._cdn_sig(path, oe), oh):
            return Response.text("URL signature mismatch", 403, text)
        if self.clock.now() >= expiry:
            with self._state_lock:
                self.counts["cdn_expired"] += 1
            return Response.text("URL signature expired", 403, text)
        m = re.search(r"/(\d+)(?:_(thumb|img)_n\.jpg|\.mp4)$", path)
        entry = self.media_index.get(m.group(1)) if m else None
        if entry is None or entry[0].deleted:
            return Response.text("Not Found", 404, text)
        with self._state_lock:
            self.counts["cdn_hits"] += 1
        if path.endswith(".mp4"):
            return Response.raw(fake_mp4(entry[0].id), 200, "video/mp4")
        return Response.raw(fake_jpeg(entry[0].id + (m.group(2) or "")), 200, "image/jpeg")

    def graph_response(self, obj, status: int = 200) -> Response:
        resp = Response.json(obj, status, escape_slashes=self.escape_slashes)
        self._add_usage(resp)
        return resp

    def _add_usage(self, resp: Response):
        if self.app_usage is not None:
            resp.set_header("X-App-Usage", json.dumps(self.app_usage, separators=(",", ":")))
        if self.buc_usage is not None:
            resp.set_header("X-Business-Use-Case-Usage", json.dumps(self.buc_usage, separators=(",", ":")))


def main(argv=None):
    def add(p):
        p.add_argument("--ig-app-id", default=os.environ.get("IG_FAKE_APP_ID", "1234567890123456"))
        p.add_argument("--ig-app-secret", default=os.environ.get("IG_FAKE_APP_SECRET", "ig-test-app-secret"))
        p.add_argument("--fb-app-id", default=os.environ.get("FB_FAKE_APP_ID", "6543210987654321"))
        p.add_argument("--fb-app-secret", default=os.environ.get("FB_FAKE_APP_SECRET", "fb-test-app-secret"))
        p.add_argument("--token-style", choices=("data", "flat"), default="data")
        p.add_argument("--page-size", type=int, default=25)
        p.add_argument("--cdn-ttl", type=float, default=3 * 86400, help="seconds until CDN links expire")
        p.add_argument("--require-appsecret-proof", action="store_true")
        p.add_argument("--escape-slashes", action="store_true")
        p.add_argument("--expired-subcode", default="463", choices=("463", "none"),
                       help="error_subcode of expired tokens ('none': a plain 190)")
        p.add_argument("--seed-account", type=int, default=None, metavar="N",
                       help="create one account with N media (Instagram and Facebook login)")

    def build(a, clock):
        fake = FakeInstagram(ig_app_id=a.ig_app_id, ig_app_secret=a.ig_app_secret, fb_app_id=a.fb_app_id,
                             fb_app_secret=a.fb_app_secret, token_style=a.token_style, page_size=a.page_size,
                             cdn_ttl=a.cdn_ttl, require_appsecret_proof=a.require_appsecret_proof,
                             escape_slashes=a.escape_slashes, clock=clock,
                             expired_subcode=None if a.expired_subcode == "none" else int(a.expired_subcode))
        if a.seed_account is not None:
            fake.create_account(media_count=a.seed_account, facebook=True)
        return fake

    return cli_main("Instagram / Graph / CDN fake", add, build, argv)


if __name__ == "__main__":
    raise SystemExit(main())
