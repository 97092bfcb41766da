"""Cloudinary fake, part 2: the Admin API (Basic auth, hourly rate limit with X-FeatureRateLimit-*
headers, delete resources by tag in pages, list by tag, delete by public ids)."""

from __future__ import annotations

import email.utils
import hmac
import json
import secrets

from .httpcore import Request, Response


def cld_error(message: str, status: int, headers=None) -> Response:
    return Response.json({"error": {"message": message}}, status, headers=headers)


class CloudinaryAdminMixin:
    # ---- admin API ------------------------------------------------------------------------
    def _rate_headers(self, remaining: int, window_start: int):
        reset = email.utils.formatdate(window_start + 3600, usegmt=True)
        return [("X-FeatureRateLimit-Limit", str(self.admin_rate_limit)),
                ("X-FeatureRateLimit-Remaining", str(max(0, remaining))),
                ("X-FeatureRateLimit-Reset", reset)]

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
        if len(rest) == 3 and rest[1] == "tags":
            rtype, tag = rest[0], rest[2]
            if req.method == "DELETE":
                return self._delete_by_tag(rtype, tag, params, headers)
            if req.method == "GET":
                items = self.list_assets(rtype, tag)
                return Response.json({"resources": items}, headers=headers)
        if len(rest) == 2 and req.method == "DELETE":
            rtype, type_ = rest
            ids = params.get("public_ids") or []
            ids = ids if isinstance(ids, list) else [ids]
            deleted = {}
            with self._state_lock:
                for pid in ids:
                    found = self.assets.pop((rtype, type_, pid), None) is not None
                    deleted[pid] = "deleted" if found else "not_found"
            return Response.json({"deleted": deleted, "partial": False}, headers=headers)
        return cld_error("Not found", 404, headers)

    def _admin_params(self, req: Request) -> dict:
        params: dict = {}
        for k, vals in req.query.items():
            name = k[:-2] if k.endswith("[]") else k
            params[name] = vals if k.endswith("[]") else vals[0]
        if req.content_type == "application/json" and req.body.strip():
            obj = json.loads(req.body)
            if isinstance(obj, dict):
                params.update({k: v for k, v in obj.items() if v is not None})
        else:
            for f in req.form_fields():
                if f.name.endswith("[]"):
                    params.setdefault(f.name[:-2], []).append(f.text)
                else:
                    params[f.name] = f.text
        return params

    def _delete_by_tag(self, rtype: str, tag: str, params: dict, headers) -> Response:
        keep_original = str(params.get("keep_original", "false")).lower() in ("true", "1")
        with self._state_lock:
            matching = sorted((k for k, a in self.assets.items()
                               if a["resource_type"] == rtype and a["type"] == "upload" and tag in a["tags"]),
                              key=lambda k: k[2])
            batch, more = matching[: self.delete_page_size], len(matching) > self.delete_page_size
            deleted, counts = {}, {}
            for k in batch:
                if not keep_original:
                    del self.assets[k]
                    self.counts["deleted_by_tag"] += 1
                deleted[k[2]] = "deleted"
                counts[k[2]] = {"original": 0 if keep_original else 1, "derived": 0}
        out = {"deleted": deleted, "deleted_counts": counts, "partial": more}
        if more:
            out["next_cursor"] = secrets.token_hex(16)
        return Response.json(out, headers=headers)
