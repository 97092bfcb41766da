"""Cloudinary fake: Upload API (upload, destroy) with signature checks, Admin API delete-by-tag with
Basic auth and an hourly rate limit, and delivery of stored assets (reference sections 3 and 5.3).

    fake = FakeCloudinary(cloud_name="demo", api_key="1234", api_secret="s3cr3t")
    fake.start(); fake.base_url  (use as the SDK's upload_prefix / our CLOUDINARY API URL); fake.stop()

CLI: python3 -m Tests.fakes.cloudinary --port 0 --ready-file F [--cloud-name C --api-key K --api-secret S]
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from .base import FakeServer, cli_main
from .cloudinary_admin import CloudinaryAdminMixin, cld_error
from .httpcore import Request, Response, is_loopback_url
from .media import CONTENT_TYPES, sniff

RESOURCE_TYPES = ("image", "video", "raw", "auto")
UNSIGNED = {"file", "api_key", "signature", "cloud_name", "resource_type"}


def string_to_sign(params: dict, signature_version: int = 2, exclude=UNSIGNED) -> str:
    """Section 3.2: drop excluded/empty params, join lists with ',', v2 escapes '&' as %26, sort, '&'-join."""
    pairs = []
    for k, v in params.items():
        if k in exclude:
            continue
        if isinstance(v, (list, tuple)):
            v = ",".join(str(x) for x in v)
        if v is None or v == "":
            continue
        pair = "%s=%s" % (k, v)
        if signature_version >= 2:
            pair = pair.replace("&", "%26")
        pairs.append(pair)
    return "&".join(sorted(pairs))


def sign(params: dict, secret: str, algorithm: str = "sha1", signature_version: int = 2, exclude=UNSIGNED) -> str:
    text = string_to_sign(params, signature_version, exclude) + secret
    return hashlib.new(algorithm, text.encode("utf-8")).hexdigest()


def signature_matches(params: dict, signature: str, secret: str, accept_v1: bool = False) -> bool:
    sig = (signature or "").strip().lower()
    algo = {40: "sha1", 64: "sha256"}.get(len(sig))
    if algo is None:
        return False
    versions = (2, 1) if accept_v1 else (2,)
    return any(hmac.compare_digest(sign(params, secret, algo, v), sig) for v in versions)


class FakeCloudinary(CloudinaryAdminMixin, FakeServer):
    name = "cloudinary"

    def __init__(self, cloud_name: str = "demo-cloud", api_key: str = "123456789012345",
                 api_secret: str = "test-api-secret", extra_credentials: dict | None = None,
                 delete_page_size: int = 1000, admin_rate_limit: int = 500, rate_limit_status: int = 420,
                 signature_error_status: int = 401, stale_seconds: int = 3600, remote_error_status: int = 400,
                 remote_fetch_timeout: float = 5.0, accept_signature_v1: bool = False, **kw):
        super().__init__(**kw)
        self.cloud_name = cloud_name
        self.credentials = {api_key: api_secret}
        self.credentials.update(extra_credentials or {})
        self.api_key = api_key
        self.delete_page_size = delete_page_size
        self.admin_rate_limit = admin_rate_limit
        self.rate_limit_status = rate_limit_status
        self.signature_error_status = signature_error_status
        self.stale_seconds = stale_seconds
        self.remote_error_status = remote_error_status
        self.remote_fetch_timeout = remote_fetch_timeout
        self.accept_signature_v1 = accept_signature_v1
        self._state_lock = threading.RLock()
        self._cursor_secret = secrets.token_bytes(16)  # signs Admin API cursors (cloudinary_admin.py)
        self._init_state()

    def _init_state(self):
        with self._state_lock:
            self.assets: dict[tuple, dict] = {}
            self.counts = {"uploads": 0, "upload_errors": 0, "overwrites": 0, "destroys": 0, "destroy_not_found": 0,
                           "admin_calls": 0, "deleted_by_tag": 0, "deleted_by_prefix": 0, "seeded": 0, "remote_fetches": 0,
                           "rate_limited": 0, "auth_errors": 0}
            self.remote_fetches: list[dict] = []
            self._window = (0, 0)  # (hour start, calls in this hour)

    @property
    def res_url(self) -> str:
        return self.base_url + "/res"

    def info(self):
        return {"cloud_name": self.cloud_name, "res_url": self.res_url, "delete_page_size": self.delete_page_size,
                "admin_rate_limit": self.admin_rate_limit, "rate_limit_status": self.rate_limit_status}

    def counters(self):
        with self._state_lock:
            return dict(self.counts, assets=len(self.assets))

    def reset_state(self):
        self._init_state()

    def presets(self):
        def err(msg, status):
            return lambda p: {"status": p.get("status", status), "body": {"error": {"message": p.get("message", msg)}}}

        def rate_limited(p):  # what an exhausted hour looks like, headers included (§6.7)
            limit, _, reset = self.rate_limit_headers()
            return dict(err("Rate Limit Exceeded", self.rate_limit_status)(p), headers=[limit, ("X-FeatureRateLimit-Remaining", "0"), reset])

        return {
            "general_error": err("General Error", 500),
            "unavailable": err("General Error", 503),
            "locked": err("Resource is still being processed, please try again later", 423),
            "rate_limited": rate_limited,
            "unauthorized": err("Invalid Signature", 401),
            "html": lambda p: {"action": "html", "status": p.get("status", 502)},
        }

    def route_of(self, req):
        parts = req.path.strip("/").split("/")
        if parts[0] == "res":
            return "/res/*"
        if len(parts) >= 4 and parts[0] == "v1_1":
            if parts[2] == "resources":
                return "/v1_1/<cloud>/resources/" + "/".join(parts[3:5]) + ("/*" if len(parts) > 5 else "")
            return "/v1_1/<cloud>/%s/%s" % (parts[2], parts[3])
        return req.path

    # ---- asset listing for tests -----------------------------------------------------------
    def list_assets(self, resource_type: str | None = None, tag: str | None = None,
                    prefix: str | None = None) -> list[dict]:
        with self._state_lock:
            out = [a for a in self.assets.values()
                   if (resource_type is None or a["resource_type"] == resource_type)
                   and (tag is None or tag in a["tags"]) and (prefix is None or a["public_id"].startswith(prefix))]
        return [self._public(a) for a in sorted(out, key=lambda a: (a["resource_type"], a["public_id"]))]

    def asset(self, public_id: str, resource_type: str = "image", type_: str = "upload") -> dict | None:
        with self._state_lock:
            a = self.assets.get((resource_type, type_, public_id))
            return dict(a) if a else None

    @staticmethod
    def _public(a: dict) -> dict:
        return {k: v for k, v in a.items() if k != "data"}

    # ---- HTTP ------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        resp = self._route(req)
        resp.set_header("X-Request-Id", secrets.token_hex(16))
        return resp

    def _route(self, req: Request) -> Response:
        parts = req.path.strip("/").split("/")
        if parts and parts[0] == "res":
            return self._deliver(req, parts[1:])
        if len(parts) < 4 or parts[0] != "v1_1":
            return cld_error("Not found", 404)
        cloud = urllib.parse.unquote(parts[1])
        if cloud != self.cloud_name:
            return cld_error("Invalid cloud_name %s" % cloud, 401)
        if parts[2] == "resources":
            return self._admin(req, [urllib.parse.unquote(p) for p in parts[3:]])
        rtype, action = parts[2], parts[3]
        if rtype not in RESOURCE_TYPES:
            return cld_error("Invalid resource type %s" % rtype, 400)
        if req.method != "POST":
            return cld_error("Not found", 404)
        try:
            params, file_field = self._params(req)
        except ValueError:
            return cld_error("Invalid request body", 400)
        problem = self._authenticate_upload_api(req, params)
        if problem is not None:
            with self._state_lock:
                self.counts["auth_errors"] += 1
            return problem
        if action == "upload":
            return self._upload(rtype, params, file_field)
        if action == "destroy":
            return self._destroy(rtype, params)
        return cld_error("Unsupported action %s" % action, 404)

    def _params(self, req: Request):
        """Form (multipart or urlencoded) or JSON body -> ({name: str | [str]}, file FormField | str | None)."""
        params: dict = {}
        file_field = None
        if req.content_type == "application/json" and req.body.strip():
            obj = json.loads(req.body)
            if not isinstance(obj, dict):
                raise ValueError("JSON body must be an object")
            for k, v in obj.items():
                if k == "file":
                    file_field = v
                elif isinstance(v, list):
                    params[k] = [str(x) for x in v]
                elif isinstance(v, bool):
                    params[k] = "true" if v else "false"
                elif v is not None:
                    params[k] = str(v)
            return params, file_field
        for f in req.form_fields():
            if f.name == "file":
                file_field = f if f.filename is not None else f.text
                continue
            if f.name.endswith("[]"):
                params.setdefault(f.name[:-2], []).append(f.text)
            else:
                params[f.name] = f.text
        for k, vals in req.query.items():
            params.setdefault(k, vals[0])
        return params, file_field

    def _authenticate_upload_api(self, req: Request, params: dict):
        basic = req.basic_auth()
        if basic is not None:
            key, secret = basic
            if key not in self.credentials:
                return cld_error("Invalid api_key %s" % key, 401)
            if not hmac.compare_digest(self.credentials[key], secret):
                return cld_error("api_secret mismatch", 401)
            return None
        key = params.get("api_key")
        if not key:
            return cld_error("Must supply api_key", 401)
        if key not in self.credentials:
            return cld_error("Invalid api_key %s" % key, 401)
        ts = params.get("timestamp")
        if not ts:
            return cld_error("Missing required parameter - timestamp", 400)
        try:
            ts_val = int(ts)
        except ValueError:
            return cld_error("Invalid timestamp - %s" % ts, 400)
        if ts_val < self.clock.now() - self.stale_seconds:
            reported = time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(ts_val))
            return cld_error("Stale request - reported time is %s which is more than 1 hour ago" % reported, 400)
        sig = params.get("signature")
        if not sig:
            return cld_error("Missing required parameter - signature", self.signature_error_status)
        if not signature_matches(params, sig, self.credentials[key], self.accept_signature_v1):
            return cld_error("Invalid Signature %s. String to sign - '%s'." % (sig, string_to_sign(params)),
                             self.signature_error_status)
        return None

    # ---- upload --------------------------------------------------------------------------
    def _fetch_remote(self, url: str):
        with self._state_lock:
            self.counts["remote_fetches"] += 1
        record = {"url": url, "status": None}
        self.remote_fetches.append(record)
        if not is_loopback_url(url):
            record["status"] = "refused (not loopback)"
            return None, cld_error("Resource not found - %s" % url, self.remote_error_status)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(urllib.request.Request(url, headers={"User-Agent": "Cloudinary"}),
                             timeout=self.remote_fetch_timeout) as r:
                data = r.read()
                record["status"] = r.status
                return data, None
        except urllib.error.HTTPError as e:
            record["status"] = e.code
            if e.code in (403, 404, 410):
                return None, cld_error("Resource not found - %s" % url, self.remote_error_status)
            return None, cld_error("Error in loading %s - HTTP %d" % (url, e.code), self.remote_error_status)
        except Exception as e:
            record["status"] = type(e).__name__
            return None, cld_error("Error in loading %s - %s" % (url, type(e).__name__), self.remote_error_status)

    def _upload(self, rtype: str, params: dict, file_field) -> Response:
        if file_field is None or file_field == "":
            return cld_error("Missing required parameter - file", 400)
        original = "file"
        if isinstance(file_field, str):
            if file_field.startswith(("http://", "https://")):
                data, err = self._fetch_remote(file_field)
                if err is not None:
                    with self._state_lock:
                        self.counts["upload_errors"] += 1
                    return err
                name = urllib.parse.urlsplit(file_field).path.rsplit("/", 1)[-1]
                original = name.rsplit(".", 1)[0] or "file"
            elif file_field.startswith("data:") and "," in file_field:
                head, payload = file_field.split(",", 1)
                data = base64.b64decode(payload) if head.endswith(";base64") else urllib.parse.unquote_to_bytes(payload)
            else:
                return cld_error("Invalid image file", 400)
        else:
            data = file_field.value
            if file_field.filename:
                original = file_field.filename.rsplit(".", 1)[0] or "file"
        kind, fmt, width, height = sniff(data)
        if rtype == "auto":
            rtype = kind
        if rtype in ("image", "video") and kind != rtype:
            with self._state_lock:
                self.counts["upload_errors"] += 1
            return cld_error("Invalid %s file" % rtype, 400)
        if rtype == "video":
            width, height = width or 1080, height or 1920
        public_id = params.get("public_id") or "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                                      for _ in range(20))
        folder = (params.get("folder") or "").strip("/")
        if folder:
            public_id = folder + "/" + public_id
        tags = params.get("tags") or []
        if isinstance(tags, str):
            tags = [t for t in tags.split(",") if t]
        overwrite = str(params.get("overwrite", "true")).lower() not in ("false", "0")
        key = (rtype, params.get("type") or "upload", public_id)
        now = self.clock.now()
        with self._state_lock:
            old = self.assets.get(key)
            if old is not None and not overwrite:
                resp = self._public(old)
                resp["existing"] = True
                return Response.json(resp)
            version = int(now)
            if old is not None and version <= old["version"]:
                version = old["version"] + 1
            secret = self.credentials[self.api_key]
            ext = ("." + fmt) if fmt else ""
            path = "%s/%s/%s/v%d/%s%s" % (self.cloud_name, rtype, key[1], version, public_id, ext)
            asset = {
                "asset_id": secrets.token_hex(16), "public_id": public_id, "version": version,
                "version_id": secrets.token_hex(16),
                "signature": hashlib.sha1(("public_id=%s&version=%d" % (public_id, version) + secret)
                                          .encode()).hexdigest(),
                "format": fmt or "", "resource_type": rtype,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
                "tags": tags, "bytes": len(data), "type": key[1], "etag": hashlib.md5(data).hexdigest(),
                "placeholder": False, "url": "%s/%s" % (self.res_url, path),
                "secure_url": "%s/%s" % (self.res_url, path), "asset_folder": folder,
                "display_name": public_id.rsplit("/", 1)[-1], "original_filename": original,
                "api_key": self.api_key, "data": data,
            }
            if width is not None:
                asset["width"], asset["height"] = width, height
            if rtype == "video":
                asset.update({"duration": 10.0, "bit_rate": 800000, "frame_rate": 30.0,
                              "playback_url": asset["secure_url"].rsplit(".", 1)[0] + ".m3u8"})
            if fmt is None:
                del asset["format"]
            self.assets[key] = asset
            self.counts["uploads"] += 1
            resp = self._public(asset)
            if old is not None:
                self.counts["overwrites"] += 1
                resp["overwritten"] = True
        return Response.json(resp)

    def _destroy(self, rtype: str, params: dict) -> Response:
        pid = params.get("public_id")
        if not pid:
            return cld_error("Missing required parameter - public_id", 400)
        key = (rtype, params.get("type") or "upload", pid)
        with self._state_lock:
            self.counts["destroys"] += 1
            if self.assets.pop(key, None) is None:
                self.counts["destroy_not_found"] += 1
                return Response.json({"result": "not found"})
        return Response.json({"result": "ok"})

    # ---- delivery (res.cloudinary.com) ------------------------------------------------------
    def _deliver(self, req: Request, parts: list) -> Response:
        if req.method not in ("GET", "HEAD") or len(parts) < 4 or parts[0] != self.cloud_name:
            return Response.text("Not found", 404, headers=[("X-Cld-Error", "Resource not found")])
        rtype, type_ = parts[1], parts[2]
        rest = [urllib.parse.unquote(p) for p in parts[3:]]
        if rest and rest[0][:1] == "v" and rest[0][1:].isdigit():
            rest = rest[1:]
        pid = "/".join(rest)
        with self._state_lock:
            asset = self.assets.get((rtype, type_, pid))
            if asset is None and "." in rest[-1]:
                asset = self.assets.get((rtype, type_, pid.rsplit(".", 1)[0]))
        if asset is None:
            return Response.text("Resource not found", 404, headers=[("X-Cld-Error", "Resource not found")])
        ctype = CONTENT_TYPES.get(asset.get("format", ""), "application/octet-stream")
        return Response.raw(asset["data"], 200, ctype, headers=[("ETag", '"%s"' % asset["etag"])])

    # ---- control -----------------------------------------------------------------------------
    def control(self, req: Request, sub: str):
        body = req.json() if req.body.strip() else {}
        if sub == "assets" and req.method == "GET":
            return Response.json({"assets": self.list_assets(req.q("resource_type"), req.q("tag"), req.q("prefix"))})
        if sub == "assets/count" and req.method == "GET":
            return Response.json({"count": self.count_assets(req.q("prefix", ""), req.q("resource_type"),
                                                             req.q("type"))})
        if sub == "assets/seed" and req.method == "POST":
            ids = self.seed_assets(body["prefix"], int(body.get("count", 1)), body.get("resource_type", "image"),
                                   body.get("tags"), int(body.get("start", 0)), body.get("type", "upload"))
            return Response.json({"count": len(ids), "first": ids[0] if ids else None,
                                  "last": ids[-1] if ids else None})
        if sub == "assets" and req.method == "DELETE":
            with self._state_lock:
                self.assets.clear()
            return Response.json({"ok": True})
        if sub == "remote-fetches" and req.method == "GET":
            return Response.json({"fetches": list(self.remote_fetches)})
        if sub == "config" and req.method in ("GET", "POST"):
            for key in ("delete_page_size", "admin_rate_limit", "rate_limit_status", "signature_error_status",
                        "stale_seconds", "remote_error_status", "accept_signature_v1"):
                if key in body:
                    setattr(self, key, body[key])
            if body.get("reset_rate_window"):
                with self._state_lock:
                    self._window = (0, 0)
            return Response.json(self.info())
        return None


def main(argv=None):
    def add(p):
        p.add_argument("--cloud-name", default=os.environ.get("CLOUDINARY_FAKE_CLOUD_NAME", "demo-cloud"))
        p.add_argument("--api-key", default=os.environ.get("CLOUDINARY_FAKE_API_KEY", "123456789012345"))
        p.add_argument("--api-secret", default=os.environ.get("CLOUDINARY_FAKE_API_SECRET", "test-api-secret"))
        p.add_argument("--delete-page-size", type=int, default=1000)
        p.add_argument("--admin-rate-limit", type=int, default=500)
        p.add_argument("--rate-limit-status", type=int, default=420, choices=(420, 429))
        p.add_argument("--signature-error-status", type=int, default=401, choices=(400, 401))

    def build(a, clock):
        return FakeCloudinary(cloud_name=a.cloud_name, api_key=a.api_key, api_secret=a.api_secret,
                              delete_page_size=a.delete_page_size, admin_rate_limit=a.admin_rate_limit,
                              rate_limit_status=a.rate_limit_status,
                              signature_error_status=a.signature_error_status, clock=clock)

    return cli_main("Cloudinary fake (upload/destroy/delete-by-tag + delivery)", add, build, argv)


if __name__ == "__main__":
    raise SystemExit(main())
