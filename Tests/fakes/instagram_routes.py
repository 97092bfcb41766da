"""HTTP routes of the Instagram fake (mixed into FakeInstagram): OAuth on api.instagram.com and
graph.facebook.com, token exchange/refresh and media edges on both Graph hosts, authorize pages,
CDN, and the /__control endpoints specific to Instagram."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse

from .httpcore import Request, Response
from .instagram_data import (FB_LONG_EXPIRES_IN, LONG_TTL, GraphError, err_field, err_no_object, parse_fields,
                             usage_headers)

VERSION = re.compile(r"^v\d+\.\d+$")
IG_USER_FIELDS = {"id", "user_id", "username", "name", "account_type", "media_count", "profile_picture_url"}
FB_USER_FIELDS = {"id", "name"}
PAGE_FIELDS = {"id", "name", "category", "instagram_business_account"}


def ig_oauth_error(message: str) -> Response:
    """Error shape of api.instagram.com (not the Graph shape)."""
    return Response.json({"error_type": "OAuthException", "code": 400, "error_message": message}, 400)


def _with_query(url: str, params: list, fragment: str) -> str:
    sep = "&" if "?" in url else "?"
    return url + sep + urllib.parse.urlencode(params) + fragment


class InstagramRoutes:
    # ---- dispatch --------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        segs = [urllib.parse.unquote(s) for s in req.path.split("/") if s]
        if not segs:
            return Response.text("Not Found", 404)
        prefix = segs[0]
        try:
            if prefix == "cdn":
                if req.method not in ("GET", "HEAD"):
                    return Response.text("Method Not Allowed", 405)
                return self.serve_cdn(req)
            if prefix == "www" and segs[1:] == ["oauth", "authorize"]:
                return self._authorize(req, "instagram")
            if prefix == "fbwww" and len(segs) >= 3 and segs[-2:] == ["dialog", "oauth"]:
                return self._authorize(req, "facebook")
            if prefix == "api":
                if segs[1:] == ["oauth", "authorize"]:
                    return self._authorize(req, "instagram")
                if segs[1:] == ["oauth", "access_token"]:
                    return self._ig_code_exchange(req)
                return ig_oauth_error("Invalid request: unknown path")
            if prefix in ("graph", "facebook"):
                return self._graph(req, prefix, segs[1:])
        except GraphError as err:
            with self._state_lock:
                self.counts["graph_errors"] += 1
            resp = err.response(self.escape_slashes)
            self._add_usage(resp)
            return resp
        return Response.text("Not Found", 404)

    def _params(self, req: Request) -> dict:
        params = {k: v[0] for k, v in req.query.items()}
        if req.method == "POST":
            for f in req.form_fields():
                params.setdefault(f.name, f.text)
        return params

    # ---- authorize pages -------------------------------------------------------------------
    def _authorize(self, req: Request, product: str) -> Response:
        p = self._params(req)
        app_id = self.ig_app_id if product == "instagram" else self.fb_app_id
        if p.get("client_id") != app_id:
            return Response.text("Invalid Request: Request parameters are invalid: Invalid platform app", 400,
                                 "text/html; charset=utf-8")
        redirect = p.get("redirect_uri")
        if not redirect:
            return Response.text("Invalid Request: redirect_uri is required", 400, "text/html; charset=utf-8")
        if product == "instagram" and p.get("response_type", "code") != "code":
            return Response.text("Invalid Request: response_type must be code", 400, "text/html; charset=utf-8")
        fragment = "#_" if product == "instagram" else "#_=_"
        state = [("state", p["state"])] if "state" in p else []
        if self.authorize_deny:
            return Response(302, b"", [("Location", _with_query(redirect, [
                ("error", "access_denied"), ("error_reason", "user_denied"),
                ("error_description", "The user denied your request.")] + state, fragment))])
        with self._state_lock:
            acct = self.accounts.get(self.authorize_as or "")
        user = None if acct is None else (acct.ig_user_id if product == "instagram" else acct.fb_user_id)
        if user is None:
            return Response.text("No fake account can authorize (create one with a Facebook link)", 400)
        scopes = [s for s in re.split(r"[,\s]+", p.get("scope", "")) if s] or None
        code = self.mint_code(user, product, redirect, scopes)
        return Response(302, b"", [("Location", _with_query(redirect, [("code", code)] + state, fragment))])

    # ---- api.instagram.com/oauth/access_token -------------------------------------------------
    def _ig_code_exchange(self, req: Request) -> Response:
        if req.method != "POST":
            return ig_oauth_error("Invalid request method, POST is required")
        p = {f.name: f.text for f in req.form_fields()}
        if p.get("client_id") != self.ig_app_id:
            return ig_oauth_error("Invalid platform app")
        if p.get("client_secret") != self.ig_app_secret:
            return ig_oauth_error("Error validating client secret.")
        if p.get("grant_type") != "authorization_code":
            return ig_oauth_error("Unsupported grant_type")
        if not p.get("redirect_uri"):
            return ig_oauth_error("Missing required parameter: redirect_uri")
        with self._state_lock:
            code = self.codes.get(p.get("code") or "")
            if code is None or code.product != "instagram":
                return ig_oauth_error("Invalid authorization code")
            if code.used:
                return ig_oauth_error("This authorization code has been used")
            if self.clock.now() - code.created > self.code_ttl:
                return ig_oauth_error("This authorization code has expired")
            if code.redirect_uri is not None and code.redirect_uri != p["redirect_uri"]:
                return ig_oauth_error("Error validating verification code. Please make sure your redirect_uri is "
                                      "identical to the one you used in the OAuth dialog request")
            code.used = True
            self.counts["codes_exchanged"] += 1
        token = self.mint_token(code.user, "instagram", "short", scopes=code.scopes)
        if self.token_style == "flat":
            body = {"access_token": token, "user_id": int(code.user), "permissions": list(code.scopes)}
        else:
            body = {"data": [{"access_token": token, "user_id": code.user, "permissions": ",".join(code.scopes)}]}
        return Response.json(body)

    # ---- Graph hosts -------------------------------------------------------------------------
    def _graph(self, req: Request, host: str, rest: list) -> Response:
        product = "instagram" if host == "graph" else "facebook"
        host_url = self.graph_url if host == "graph" else self.facebook_url
        version = rest.pop(0) if rest and VERSION.match(rest[0]) else None
        p = self._params(req)
        if req.method not in ("GET", "HEAD"):
            raise GraphError(100, "Unsupported %s request." % req.method.lower(), "GraphMethodException")
        if host == "graph" and rest == ["access_token"]:
            return self._ig_exchange(p)
        if host == "graph" and rest == ["refresh_access_token"]:
            return self._ig_refresh(p)
        if host == "facebook" and rest == ["oauth", "access_token"]:
            return self._fb_oauth(p)
        if host == "facebook" and rest == ["debug_token"]:
            return self._debug_token(p)
        if not rest:
            raise GraphError(100, "Unsupported get request.", "GraphMethodException")
        tok = self.check_token(p.get("access_token"), product, me_path=rest[0] == "me")
        if product == "facebook":
            self._check_proof(p, tok.value)
        self.check_permission(tok)
        if len(rest) == 1:
            return self.graph_response(self._node(tok, product, rest[0], p))
        if len(rest) == 2 and rest[1] == "media":
            acct = self._media_owner(tok, product, rest[0])
            return self.graph_response(self.media_page(acct, req, host_url, version or self.default_version,
                                                       tok.value))
        if len(rest) == 2 and rest[1] == "children":
            m, acct = self._media_for(tok, product, rest[0])
            fields = self._fields(p, child=True)
            return self.graph_response({"data": [self.render_media(c, fields, acct, child=True)
                                                 for c in m.children if not c.deleted]})
        if product == "facebook" and rest == ["me", "accounts"]:
            return self.graph_response(self._accounts(tok, p))
        raise GraphError(2500, "Unknown path components: /%s" % "/".join(rest[1:]))

    def _check_proof(self, p: dict, token: str):
        proof = p.get("appsecret_proof")
        if proof is None:
            if self.require_appsecret_proof:
                raise GraphError(100, "API calls from the server require an appsecret_proof argument",
                                 "GraphMethodException")
            return
        want = hmac.new(self.fb_app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, proof.lower()):
            raise GraphError(100, "Invalid appsecret_proof provided in the API argument", "GraphMethodException")

    def _fields(self, p: dict, child: bool = False, default: str = "id") -> list:
        try:
            fields = parse_fields(p.get("fields") or default)
        except ValueError:
            raise GraphError(100, "(#100) Syntax error in fields parameter")
        self.validate_fields(fields, child=child)
        return fields

    def _media_owner(self, tok, product: str, owner: str):
        with self._state_lock:
            if product == "instagram":
                if owner not in ("me", tok.user):
                    raise err_no_object(owner)
                acct = self.accounts.get(tok.user)
                if acct is None:
                    raise err_no_object(owner)
                return acct
            if owner == "me":
                raise err_field("media", "User")
            fb = self.fb_users.get(tok.user)
            if fb is None or not any(pg["ig"] == owner for pg in fb.pages) or owner not in self.accounts:
                raise err_no_object(owner)
            return self.accounts[owner]

    def _media_for(self, tok, product: str, media_id: str):
        with self._state_lock:
            entry = self.media_index.get(media_id)
        if entry is None or entry[0].deleted:
            raise err_no_object(media_id)
        self._media_owner(tok, product, entry[1].ig_user_id)
        return entry

    def _node(self, tok, product: str, node: str, p: dict) -> dict:
        with self._state_lock:
            if product == "facebook":
                fb = self.fb_users.get(tok.user)
                if node in ("me", tok.user):
                    fields = self._simple_fields(p, FB_USER_FIELDS, "User", "id,name")
                    full = {"id": tok.user, "name": fb.fb_name if fb else "Fake User"}
                    return {k: full[k] for k in fields}
                page = next((pg for pg in (fb.pages if fb else []) if pg["id"] == node), None)
                if page is not None:
                    return dict(self._render_page(page, self._simple_fields(p, PAGE_FIELDS, "Page", "id,name")),
                                id=page["id"])
            acct_id = tok.user if (product == "instagram" and node == "me") else node
            if acct_id in self.accounts and (product == "facebook" or acct_id == tok.user):
                if product == "facebook":
                    self._media_owner(tok, product, acct_id)
                acct = self.accounts[acct_id]
                fields = self._simple_fields(p, IG_USER_FIELDS, "User", "id")
                full = {"id": acct.ig_user_id, "user_id": acct.ig_user_id, "username": acct.username,
                        "name": acct.username.replace("_", " ").title(), "account_type": "BUSINESS",
                        "media_count": len(acct.visible_media()),
                        "profile_picture_url": self.cdn_link(acct.media[0]) if acct.media else None}
                return {k: full[k] for k in fields if full.get(k) is not None}
        m, acct = self._media_for(tok, product, node)
        child = m.parent is not None
        return self.render_media(m, self._fields(p, child=child), acct, child=child)

    def _simple_fields(self, p: dict, allowed: set, node_type: str, default: str) -> list:
        names = [n for n, _ in self._parse_plain(p.get("fields") or default)]
        for n in names:
            if n not in allowed:
                raise err_field(n, node_type)
        return names

    @staticmethod
    def _parse_plain(text: str):
        try:
            return parse_fields(text)
        except ValueError:
            raise GraphError(100, "(#100) Syntax error in fields parameter")

    @staticmethod
    def _render_page(page: dict, fields: list) -> dict:
        out = {}
        for f in fields:
            if f == "instagram_business_account":
                if page["ig"]:
                    out[f] = {"id": page["ig"]}
            elif f == "category":
                out[f] = "Brand"
            else:
                out[f] = page[f]
        return out

    def _accounts(self, tok, p: dict) -> dict:
        fields = self._simple_fields(p, PAGE_FIELDS, "Page", "id,name")
        with self._state_lock:
            fb = self.fb_users.get(tok.user)
            pages = list(fb.pages) if fb else []
        data = [self._render_page(pg, fields) for pg in pages]
        out = {"data": data}
        if data:
            out["paging"] = {"cursors": {"before": "QVFIUmFjY291bnRzYmVmb3Jl", "after": "QVFIUmFjY291bnRzYWZ0ZXI"}}
        return out

    # ---- token exchange / refresh ---------------------------------------------------------------
    def _debug_token(self, p: dict) -> Response:
        """next-capabilities §1.5. The inspector must be the Facebook app's token `app_id|app_secret`
        (else HTTP 400, code 100). The input token's state is HTTP 200 either way: `is_valid:true`
        with scopes and `granular_scopes`, or `is_valid:false` and `error:{code, message, subcode}`
        (the same code/subcode a Graph call with it would get; no `subcode` key for a plain 190)."""
        if p.get("access_token") != "%s|%s" % (self.fb_app_id, self.fb_app_secret):
            raise GraphError(100, "You must provide an app access token, or a user access token that is an owner "
                                  "or developer of the app")
        value = p.get("input_token")
        if not value:
            raise GraphError(100, "(#100) The parameter input_token is required")
        with self._state_lock:
            tok = self.tokens.get(value)
        if tok is None:
            return self.graph_response({"data": {"error": {"code": 190, "message": "The access token could not be "
                                                                                 "decrypted"},
                                                 "is_valid": False, "scopes": []}})
        # Instagram Login tokens: what Meta answers is UNVERIFIED (§1.6); the fake reports them for
        # the Instagram app's id, which a client checking `app_id` sees is not its Facebook app.
        data = {"app_id": self.fb_app_id if tok.product == "facebook" else self.ig_app_id, "type": "USER",
                "application": self.app_name, "data_access_expires_at": int(tok.issued_at + 90 * 86400),
                "expires_at": int(tok.expires_at), "is_valid": True, "issued_at": int(tok.issued_at),
                "scopes": list(tok.scopes), "user_id": tok.user}
        try:
            self.check_token(value, tok.product)
        except GraphError as error:
            data["is_valid"] = False
            data["error"] = {"code": error.code, "message": error.message}
            if error.subcode is not None:
                data["error"]["subcode"] = error.subcode
        else:
            data["granular_scopes"] = self._granular_scopes(tok)
        return self.graph_response({"data": data})

    def _granular_scopes(self, tok) -> list:
        """Which Pages / Instagram accounts each scope covers (`target_ids`), §1.5."""
        with self._state_lock:
            if tok.product == "instagram":
                pages, igs = [], [tok.user]
            else:
                fb = self.fb_users.get(tok.user)
                pages = [pg["id"] for pg in (fb.pages if fb else [])]
                igs = [pg["ig"] for pg in (fb.pages if fb else []) if pg["ig"]]
        out = []
        for scope in tok.scopes:
            if scope.startswith("pages_") and pages:
                out.append({"scope": scope, "target_ids": list(pages)})
            elif scope.startswith("instagram_") and igs:
                out.append({"scope": scope, "target_ids": list(igs)})
            else:
                out.append({"scope": scope})
        return out

    def _ig_exchange(self, p: dict) -> Response:
        if p.get("grant_type") != "ig_exchange_token":
            raise GraphError(100, "(#100) Unsupported grant_type: expected ig_exchange_token")
        if p.get("client_secret") != self.ig_app_secret:
            raise GraphError(101, "Error validating client secret.")
        tok = self.check_token(p.get("access_token"), "instagram")
        if tok.kind != "short":
            raise GraphError(100, "(#100) Only short-lived tokens can be exchanged for long-lived tokens")
        new = self.mint_token(tok.user, "instagram", "long", scopes=tok.scopes)
        return self.graph_response({"access_token": new, "token_type": "bearer", "expires_in": LONG_TTL})

    def _ig_refresh(self, p: dict) -> Response:
        if p.get("grant_type") != "ig_refresh_token":
            raise GraphError(100, "(#100) Unsupported grant_type: expected ig_refresh_token")
        tok = self.check_token(p.get("access_token"), "instagram")
        if tok.kind != "long":
            raise GraphError(100, "(#100) Only long-lived tokens can be refreshed")
        if self.clock.now() - tok.issued_at < 86400:
            raise GraphError(100, "(#100) The access token is less than 24 hours old and cannot be refreshed yet")
        new = self.mint_token(tok.user, "instagram", "long", scopes=tok.scopes)
        with self._state_lock:
            self.counts["refreshes"] += 1
        return self.graph_response({"access_token": new, "token_type": "bearer", "expires_in": LONG_TTL})

    def _fb_oauth(self, p: dict) -> Response:
        if p.get("client_id") != self.fb_app_id:
            raise GraphError(101, "Error validating application. Invalid application ID.")
        if p.get("client_secret") != self.fb_app_secret:
            raise GraphError(1, "Error validating client secret.")
        if p.get("grant_type") == "fb_exchange_token":
            tok = self.check_token(p.get("fb_exchange_token"), "facebook")
            new = self.mint_token(tok.user, "facebook", "long", expires_in=FB_LONG_EXPIRES_IN, scopes=tok.scopes)
            body = {"access_token": new, "token_type": "bearer"}
            if not self.fb_omit_expires_in:
                body["expires_in"] = FB_LONG_EXPIRES_IN
            return self.graph_response(body)
        if not p.get("redirect_uri"):
            raise GraphError(100, "Missing redirect_uri parameter.")
        with self._state_lock:
            code = self.codes.get(p.get("code") or "")
            if code is None or code.product != "facebook":
                raise GraphError(100, "Invalid verification code format.")
            if code.used:
                raise GraphError(100, "This authorization code has been used.", subcode=36009)
            if self.clock.now() - code.created > self.code_ttl:
                raise GraphError(100, "This authorization code has expired.", subcode=36007)
            if code.redirect_uri is not None and code.redirect_uri != p["redirect_uri"]:
                raise GraphError(100, "Error validating verification code. Please make sure your redirect_uri is "
                                      "identical to the one you used in the OAuth dialog request", subcode=36008)
            code.used = True
            self.counts["codes_exchanged"] += 1
        new = self.mint_token(code.user, "facebook", "short", scopes=code.scopes)
        tok = self.tokens[new]
        return self.graph_response({"access_token": new, "token_type": "bearer",
                                    "expires_in": int(tok.expires_at - tok.issued_at)})

    # ---- control API ----------------------------------------------------------------------------
    def control(self, req: Request, sub: str):
        m = req.method
        body = req.json() if req.body.strip() else {}
        parts = sub.split("/")
        if sub == "accounts":
            if m == "POST":
                return Response.json(self.create_account(**body))
            if m == "GET":
                with self._state_lock:
                    return Response.json({"accounts": [a.summary() for a in self.accounts.values()]})
        if len(parts) == 3 and parts[0] == "accounts" and parts[2] == "media" and m == "POST":
            if parts[1] not in self.accounts:
                return Response.json({"error": "unknown account"}, 404)
            return Response.json({"id": self.add_media(parts[1], body)})
        if len(parts) == 2 and parts[0] == "media":
            if m == "DELETE":
                ok = self.delete_media(parts[1])
            elif m in ("PATCH", "POST"):
                ok = self.patch_media(parts[1], body)
            else:
                return None
            return Response.json({"ok": ok}, 200 if ok else 404)
        if sub == "tokens" and m == "POST":
            user = str(body.pop("user", body.pop("ig_user_id", "")))
            token = self.mint_token(user, **body)
            return Response.json(dict(self.token_info(token), access_token=token))
        if sub in ("tokens/revoke", "tokens/expire") and m == "POST":
            fn = self.revoke_token if sub.endswith("revoke") else self.expire_token
            return Response.json({"affected": fn(body.get("access_token"), body.get("user"))})
        if sub == "tokens/invalidate" and m == "POST":
            return Response.json({"affected": self.invalidate_token(
                body.get("access_token"), body.get("user"), body.get("subcode", 460), body.get("message"))})
        if sub == "tokens/revoke-permission" and m == "POST":
            return Response.json({"affected": self.revoke_permission(
                body.get("access_token"), body.get("user"), int(body.get("code", 10)), body.get("message"),
                int(body.get("status", 400)), body.get("type", "OAuthException"), body.get("scope"))})
        if sub == "tokens/info" and m == "POST":
            info = self.token_info(body.get("access_token", ""))
            return Response.json(info or {"error": "unknown token"}, 200 if info else 404)
        if sub == "codes" and m == "POST":
            user = str(body.pop("user", body.pop("ig_user_id", "")))
            return Response.json({"code": self.mint_code(user, **body)})
        if sub == "config" and m in ("GET", "POST"):
            for key in ("token_style", "page_size", "max_limit", "cdn_ttl", "require_appsecret_proof",
                        "escape_slashes", "authorize_as", "authorize_deny", "fb_omit_expires_in", "code_ttl",
                        "expired_subcode", "app_name"):
                if key in body:
                    setattr(self, key, body[key])
            return Response.json(dict(self.info(), authorize_as=self.authorize_as, authorize_deny=self.authorize_deny))
        if sub == "usage" and m in ("GET", "POST"):
            if "app_pct" in body or "buc_pct" in body:
                hdrs = dict(usage_headers(int(body.get("app_pct", 0)), int(body.get("buc_pct", 0)),
                                          body.get("owner", "0"), int(body.get("minutes", 0))))
                self.app_usage = json.loads(hdrs["X-App-Usage"])
                self.buc_usage = json.loads(hdrs["X-Business-Use-Case-Usage"])
            if "app" in body:
                self.app_usage = body["app"]
            if "buc" in body:
                self.buc_usage = body["buc"]
            return Response.json({"app": self.app_usage, "buc": self.buc_usage})
        return None
