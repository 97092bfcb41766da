"""Cloudinary fake, part 2: the Admin API (Basic auth, hourly rate limit with X-FeatureRateLimit-*
headers, delete resources by tag or by prefix in pages of `delete_page_size` with `partial` and
`next_cursor`, list by tag or by prefix with cursor paging, delete by public ids)."""

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
        if len(rest) == 2 and req.method == "GET":
            return self._list_by_prefix(rest[0], rest[1], params, headers)
        if len(rest) == 2 and req.method == "DELETE" and params.get("prefix"):
            return self._delete_by_prefix(rest[0], rest[1], params, headers)
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

    # ---- by prefix (next-capabilities §6.5, §6.6) ------------------------------------------------
    @staticmethod
    def _prefix(params: dict) -> str:
        prefix = params.get("prefix") or ""
        # The Go SDK sends a one-element array.
        return prefix[0] if isinstance(prefix, list) and prefix else str(prefix)

    def _matching(self, rtype: str, type_: str, prefix: str) -> list:
        """Plain string prefix match, as Cloudinary does (`t1` matches `t10/...`); public id order."""
        return sorted((k for k, a in self.assets.items()
                       if a["resource_type"] == rtype and a["type"] == type_ and a["public_id"].startswith(prefix)),
                      key=lambda k: k[2])

    def _list_by_prefix(self, rtype: str, type_: str, params: dict, headers) -> Response:
        prefix = self._prefix(params)
        try:
            limit = max(1, min(500, int(params.get("max_results", 10))))
        except ValueError:
            return cld_error("Invalid max_results", 400, headers)
        cursor = params.get("next_cursor") or ""
        with self._state_lock:
            keys = [k for k in self._matching(rtype, type_, prefix) if k[2] > cursor]
            page = [self._public(self.assets[k]) for k in keys[:limit]]
        out = {"resources": page}
        if len(keys) > limit:
            out["next_cursor"] = page[-1]["public_id"]  # opaque to clients; resumes after it
        return Response.json(out, headers=headers)

    def _delete_by_prefix(self, rtype: str, type_: str, params: dict, headers) -> Response:
        prefix = self._prefix(params)
        keep_original = str(params.get("keep_original", "false")).lower() in ("true", "1")
        with self._state_lock:
            matching = self._matching(rtype, type_, prefix)
            batch, more = matching[: self.delete_page_size], len(matching) > self.delete_page_size
            deleted, counts = {}, {}
            for k in batch:
                if not keep_original:
                    del self.assets[k]
                    self.counts["deleted_by_prefix"] += 1
                deleted[k[2]] = "deleted"
                counts[k[2]] = {"original": 0 if keep_original else 1, "derived": 0}
        out = {"deleted": deleted, "deleted_counts": counts, "partial": more}
        if more:
            out["next_cursor"] = secrets.token_hex(16)
        return Response.json(out, headers=headers)

    # ---- helpers for tests ----------------------------------------------------------------------
    def seed_assets(self, prefix: str, count: int, resource_type: str = "image") -> list[str]:
        """`count` uploaded assets `prefix + n` without uploading each (a tenant with thousands)."""
        ids = []
        with self._state_lock:
            for n in range(count):
                public_id = "%s%06d" % (prefix, n)
                path = "%s/%s/upload/v1/%s" % (self.cloud_name, resource_type, public_id)
                self.assets[(resource_type, "upload", public_id)] = {
                    "asset_id": secrets.token_hex(16), "public_id": public_id, "version": 1, "format": "jpg",
                    "resource_type": resource_type, "type": "upload", "created_at": "2026-01-01T00:00:00Z",
                    "tags": [], "bytes": 1, "url": "%s/%s" % (self.res_url, path),
                    "secure_url": "%s/%s" % (self.res_url, path), "data": b"x"}
                ids.append(public_id)
        return ids

    def count_assets(self, prefix: str = "") -> int:
        with self._state_lock:
            return sum(1 for a in self.assets.values() if a["public_id"].startswith(prefix))
