"""Cloudinary fake, part 2: the Admin API (reference §3.6, next-capabilities §6.5–6.7): Basic auth,
an hourly rate limit with X-FeatureRateLimit-* headers (420/429 when exhausted), list by prefix or
tag and delete by prefix, tag or public ids, in pages with real cursors, plus in-process helpers
that seed and count assets."""

from __future__ import annotations

import email.utils
import hashlib
import hmac
import json
import secrets
import time

from .httpcore import Request, Response
from .media import fake_jpeg, fake_mp4

MAX_RESULTS_DEFAULT, MAX_RESULTS_MAX = 10, 500
LISTED_FIELDS = ("asset_id", "public_id", "asset_folder", "display_name", "format", "version", "resource_type",
                 "type", "created_at", "bytes", "width", "height", "access_mode", "url", "secure_url", "duration")


def cld_error(message: str, status: int, headers=None) -> Response:
    return Response.json({"error": {"message": message}}, status, headers=headers)


class BadParam(ValueError):
    """A bad Admin API parameter (bad cursor, several prefixes): 400."""


class CloudinaryAdminMixin:
    # ---- rate limit (§6.7) ----------------------------------------------------------------
    def _rate_headers(self, remaining: int, window_start: int):
        reset = email.utils.formatdate(window_start + 3600, usegmt=True)
        return [("X-FeatureRateLimit-Limit", str(self.admin_rate_limit)),
                ("X-FeatureRateLimit-Remaining", str(max(0, remaining))),
                ("X-FeatureRateLimit-Reset", reset)]

    def rate_limit_headers(self) -> list:
        """The headers the next Admin call would see (used by the `rate_limited` preset)."""
        now = int(self.clock.now())
        hour = now - now % 3600
        with self._state_lock:
            start, used = self._window
        used = used if start == hour else 0
        return self._rate_headers(self.admin_rate_limit - used, hour)

    # ---- dispatch -------------------------------------------------------------------------
    def _admin(self, req: Request, rest: list) -> Response:
        basic = req.basic_auth()
        if basic is None:
            return cld_error("Must supply api_key", 401)
        key, secret = basic
        if key not in self.credentials:
            return cld_error("Invalid api_key %s" % key, 401)
        if not hmac.compare_digest(self.credentials[key], secret):
            return cld_error("api_secret mismatch", 401)
        now = int(self.clock.now())
        hour = now - now % 3600
        with self._state_lock:
            start, used = self._window
            if start != hour:
                start, used = hour, 0
            if used >= self.admin_rate_limit:
                self.counts["rate_limited"] += 1
                self._window = (start, used)
                return cld_error("Rate Limit Exceeded", self.rate_limit_status, self._rate_headers(0, start))
            used += 1
            self._window = (start, used)
            self.counts["admin_calls"] += 1
        headers = self._rate_headers(self.admin_rate_limit - used, start)
        try:
            params = self._admin_params(req)
        except ValueError:
            return cld_error("Invalid request body", 400, headers)
        try:
            return self._admin_route(req.method, rest, params, headers)
        except BadParam as exc:
            return cld_error(str(exc), 400, headers)

    def _admin_route(self, method: str, rest: list, params: dict, headers) -> Response:
        if len(rest) == 3 and rest[1] == "tags":
            rtype, tag = rest[0], rest[2]
            if method == "DELETE":
                return self._paged_delete("tag", rtype, "upload", tag, params, headers,
                                          lambda a: tag in a["tags"], "deleted_by_tag")
            if method == "GET":
                return self._paged_list("tag", rtype, None, tag, params, headers, lambda a: tag in a["tags"])
        if len(rest) == 1 and method == "GET":
            if self._prefix(params):
                return cld_error("prefix requires the delivery type in the path (resources/%s/upload)" % rest[0],
                                 400, headers)
            return self._paged_list("all", rest[0], None, "", params, headers, lambda a: True)
        if len(rest) == 2 and method == "GET":
            prefix = self._prefix(params)
            return self._paged_list("prefix", rest[0], rest[1], prefix, params, headers,
                                    lambda a: a["public_id"].startswith(prefix))
        if len(rest) == 2 and method == "DELETE":
            rtype, type_ = rest
            prefix = self._prefix(params)
            if prefix:
                return self._paged_delete("prefix", rtype, type_, prefix, params, headers,
                                          lambda a: a["public_id"].startswith(prefix), "deleted_by_prefix")
            if self._flag(params, "all"):
                return self._paged_delete("all", rtype, type_, "", params, headers, lambda a: True,
                                          "deleted_by_prefix")
            return self._delete_public_ids(rtype, type_, params, headers)
        return cld_error("Not found", 404, headers)

    def _admin_params(self, req: Request) -> dict:
        """Query string, then a JSON or form body (body wins); `name[]` and JSON arrays are lists."""
        params: dict = {}
        for k, vals in req.query.items():
            name = k[:-2] if k.endswith("[]") else k
            params[name] = vals if k.endswith("[]") else vals[0]
        if req.content_type == "application/json" and req.body.strip():
            obj = json.loads(req.body)
            if isinstance(obj, dict):
                params.update({k[:-2] if k.endswith("[]") else k: v for k, v in obj.items() if v is not None})
        else:
            for f in req.form_fields():
                if f.name.endswith("[]"):
                    params.setdefault(f.name[:-2], []).append(f.text)
                else:
                    params[f.name] = f.text
        return params

    @staticmethod
    def _flag(params: dict, name: str) -> bool:
        value = params.get(name, False)
        return value is True or str(value).lower() in ("true", "1")

    @staticmethod
    def _prefix(params: dict) -> str:
        prefix = params.get("prefix") or ""
        if isinstance(prefix, list):  # the Go SDK sends a one-element array
            if len(prefix) > 1:
                raise BadParam("Only one prefix is allowed")
            prefix = prefix[0] if prefix else ""
        return str(prefix)

    # ---- cursors: opaque, tamper-proof, and they resume after the last public id served ------
    def _cursor(self, scope: str, last_id: str) -> str:
        raw = json.dumps([scope, last_id], separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        mac = hmac.new(self._cursor_secret, raw, hashlib.sha256).digest()[:8]
        return (mac + raw).hex()

    def _resume_after(self, scope: str, params: dict) -> str | None:
        cursor = params.get("next_cursor")
        if cursor in (None, ""):
            return None
        try:
            blob = bytes.fromhex(str(cursor))
            mac, raw = blob[:8], blob[8:]
            if not hmac.compare_digest(mac, hmac.new(self._cursor_secret, raw, hashlib.sha256).digest()[:8]):
                raise ValueError
            got_scope, last_id = json.loads(raw.decode("utf-8"))
        except (ValueError, TypeError, UnicodeDecodeError):
            raise BadParam("Invalid next_cursor - %s" % cursor)
        if got_scope != scope:
            raise BadParam("next_cursor %s does not belong to this request" % cursor)
        return last_id

    def _keys_after(self, rtype: str, type_: str | None, match, after: str | None) -> list:
        """Matching keys in public id order (Cloudinary sorts prefix listings by public id),
        starting after `after`; the caller holds the state lock."""
        keys = sorted((k for k, a in self.assets.items()
                       if k[0] == rtype and (type_ is None or k[1] == type_) and match(a)),
                      key=lambda k: (k[2], k[1]))
        if after is not None:
            keys = [k for k in keys if k[2] > after]
        return keys

    # ---- list (§6.5) ------------------------------------------------------------------------
    def _paged_list(self, kind: str, rtype: str, type_: str | None, what: str, params: dict, headers,
                    match) -> Response:
        try:
            limit = int(params.get("max_results", MAX_RESULTS_DEFAULT))
        except (TypeError, ValueError):
            return cld_error("Invalid max_results - %s" % params.get("max_results"), 400, headers)
        limit = max(1, min(MAX_RESULTS_MAX, limit))
        scope = "list:%s:%s:%s:%s" % (kind, rtype, type_ or "", what)
        after = self._resume_after(scope, params)
        with_tags, with_context = self._flag(params, "tags"), self._flag(params, "context")
        with self._state_lock:
            keys = self._keys_after(rtype, type_, match, after)
            page = [self._listed(self.assets[k], with_tags, with_context) for k in keys[:limit]]
        out: dict = {"resources": page}
        if len(keys) > limit:
            out["next_cursor"] = self._cursor(scope, page[-1]["public_id"])
        return Response.json(out, headers=headers)

    @staticmethod
    def _listed(a: dict, with_tags: bool, with_context: bool) -> dict:
        out = {k: a[k] for k in LISTED_FIELDS if k in a}
        out.setdefault("access_mode", "public")
        if with_tags:
            out["tags"] = list(a.get("tags") or [])
        if with_context and a.get("context"):
            out["context"] = a["context"]
        return out

    # ---- delete (§6.6, §3.6) ---------------------------------------------------------------------
    def _paged_delete(self, kind: str, rtype: str, type_: str, what: str, params: dict, headers, match,
                      counter: str) -> Response:
        """At most `delete_page_size` originals per call; `partial` + `next_cursor` while more remain.
        The cursor resumes after the last public id handled (which matters with keep_original)."""
        keep_original = self._flag(params, "keep_original")
        scope = "delete:%s:%s:%s:%s" % (kind, rtype, type_, what)
        after = self._resume_after(scope, params)
        size = max(1, int(self.delete_page_size))
        with self._state_lock:
            keys = self._keys_after(rtype, type_, match, after)
            batch, more = keys[:size], len(keys) > size
            deleted, counts = {}, {}
            for k in batch:
                if not keep_original:
                    del self.assets[k]
                    self.counts[counter] += 1
                deleted[k[2]] = "deleted"
                counts[k[2]] = {"original": 0 if keep_original else 1, "derived": 0}
        out: dict = {"deleted": deleted, "deleted_counts": counts, "partial": more}
        if more:
            out["next_cursor"] = self._cursor(scope, batch[-1][2])
        return Response.json(out, headers=headers)

    def _delete_public_ids(self, rtype: str, type_: str, params: dict, headers) -> Response:
        ids = params.get("public_ids") or []
        ids = ids if isinstance(ids, list) else [ids]
        if len(ids) > 100:
            return cld_error("Too many public_ids (max 100)", 400, headers)
        deleted, counts = {}, {}
        keep_original = self._flag(params, "keep_original")
        with self._state_lock:
            for pid in ids:
                pid = str(pid)
                found = (rtype, type_, pid) in self.assets
                if found and not keep_original:
                    del self.assets[(rtype, type_, pid)]
                deleted[pid] = "deleted" if found else "not_found"
                counts[pid] = {"original": int(found and not keep_original), "derived": 0}
        return Response.json({"deleted": deleted, "deleted_counts": counts, "partial": False}, headers=headers)

    # ---- helpers for tests ----------------------------------------------------------------------
    def seed_assets(self, prefix: str, count: int, resource_type: str = "image", tags=None, start: int = 0,
                    type_: str = "upload") -> list[str]:
        """Stores `count` assets `prefix + "%06d" % n` (n from `start`) as if each had been uploaded
        (same fields, fetchable from `res_url`), without an upload per asset; returns the public ids."""
        if resource_type not in ("image", "video", "raw"):
            raise ValueError("resource_type must be image, video or raw")
        tags = [t for t in (tags.split(",") if isinstance(tags, str) else (tags or [])) if t]
        now = self.clock.now()
        version = int(now)
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        fmt = {"image": "jpg", "video": "mp4", "raw": None}[resource_type]
        data = {"image": lambda: fake_jpeg("seeded", 1080, 1350), "video": lambda: fake_mp4("seeded"),
                "raw": lambda: b"seeded raw asset\n"}[resource_type]()
        etag = hashlib.md5(data).hexdigest()
        secret = self.credentials[self.api_key]
        ids = []
        with self._state_lock:
            for n in range(start, start + count):
                public_id = "%s%06d" % (prefix, n)
                path = "%s/%s/%s/v%d/%s%s" % (self.cloud_name, resource_type, type_, version, public_id,
                                              "." + fmt if fmt else "")
                folder, _, name = public_id.rpartition("/")
                asset = {
                    "asset_id": secrets.token_hex(16), "public_id": public_id, "version": version,
                    "version_id": secrets.token_hex(16),
                    "signature": hashlib.sha1(("public_id=%s&version=%d" % (public_id, version) + secret)
                                              .encode()).hexdigest(),
                    "resource_type": resource_type, "created_at": created, "tags": list(tags),
                    "bytes": len(data), "type": type_, "etag": etag, "placeholder": False,
                    "url": "%s/%s" % (self.res_url, path), "secure_url": "%s/%s" % (self.res_url, path),
                    "asset_folder": folder, "display_name": name, "original_filename": name,
                    "api_key": self.api_key, "data": data}
                if fmt:
                    asset["format"] = fmt
                if resource_type == "image":
                    asset["width"], asset["height"] = 1080, 1350
                elif resource_type == "video":
                    asset.update({"width": 1080, "height": 1920, "duration": 10.0, "bit_rate": 800000,
                                  "frame_rate": 30.0, "playback_url": asset["secure_url"].rsplit(".", 1)[0] + ".m3u8"})
                self.assets[(resource_type, type_, public_id)] = asset
                ids.append(public_id)
            self.counts["seeded"] += count
        return ids

    def count_assets(self, prefix: str = "", resource_type: str | None = None, type_: str | None = None) -> int:
        """Stored assets whose public id starts with `prefix` (a plain string match, like Cloudinary's)."""
        with self._state_lock:
            return sum(1 for (rt, ty, pid) in self.assets
                       if pid.startswith(prefix) and (resource_type is None or rt == resource_type)
                       and (type_ is None or ty == type_))
