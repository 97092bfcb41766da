"""Scripted faults for the fakes (see README.md, "Faults")."""

from __future__ import annotations

import itertools
import re

from .httpcore import Request, Response, html_error_page


class Fault:
    """One scripted fault. See README.md ("Faults") for the JSON shape."""

    _ids = itertools.count(1)

    def __init__(self, spec: dict, presets: dict):
        spec = dict(spec)
        self.id = next(Fault._ids)
        self.spec = spec
        count = spec.get("count", spec.get("times", 1))
        self.remaining = -1 if count is None or int(count) < 0 else int(count)
        self.skip = int(spec.get("skip", 0))
        self.match = spec.get("match") or {}
        for key in ("method", "path", "path_prefix", "path_regex", "query_has", "body_contains", "header"):
            if key in spec and key not in self.match:
                self.match[key] = spec[key]
        self.delay = float(spec.get("delay_ms", 0)) / 1000.0
        self.delay_after = float(spec.get("delay_after_ms", 0)) / 1000.0
        self.status = spec.get("status")
        self.body = spec.get("body")
        self.headers = [tuple(h) for h in spec.get("headers", [])] if isinstance(spec.get("headers"), list) \
            else list((spec.get("headers") or {}).items())
        self.content_type = spec.get("content_type")
        preset = spec.get("preset")
        if preset:
            if preset not in presets:
                raise ValueError("unknown preset %r (known: %s)" % (preset, ", ".join(sorted(presets))))
            made = presets[preset](dict(spec.get("params") or {}, **{k: v for k, v in spec.items()
                                                                    if k in ("status",)}))
            self.status = spec.get("status", made.get("status"))
            if self.body is None:
                self.body = made.get("body")
            self.headers = list(made.get("headers", [])) + self.headers
            self.content_type = self.content_type or made.get("content_type")
            spec.setdefault("action", made.get("action", "respond"))
        action = spec.get("action")
        if action is None:
            if self.status is not None or self.body is not None:
                action = "respond"
            elif self.delay_after:
                action = "delay_after"
            else:
                action = "delay"
        allowed = {"respond", "delay", "close", "reset", "close_after", "reset_after", "html",
                   "truncate", "garbage", "delay_after", "slow_body"}
        if action not in allowed:
            raise ValueError("unknown fault action %r (known: %s)" % (action, ", ".join(sorted(allowed))))
        self.action = action

    def matches(self, req: Request) -> bool:
        m = self.match
        if "method" in m and req.method.upper() != str(m["method"]).upper():
            return False
        if "path" in m and req.path != m["path"]:
            return False
        if "path_prefix" in m and not req.path.startswith(m["path_prefix"]):
            return False
        if "path_regex" in m and not re.search(m["path_regex"], req.path):
            return False
        if "query_has" in m:
            names = m["query_has"] if isinstance(m["query_has"], list) else [m["query_has"]]
            q = req.query
            if not all(n in q for n in names):
                return False
        if "body_contains" in m and str(m["body_contains"]).encode("utf-8") not in req.body:
            return False
        if "header" in m:
            for k, v in (m["header"] or {}).items():
                got = req.header(k)
                if got is None or (v not in (None, "*") and got != v):
                    return False
        return True

    def build_response(self, base_url: str) -> Response:
        status = int(self.status if self.status is not None else (502 if self.action == "html" else 500))
        if self.action == "html":
            body = self.body if isinstance(self.body, str) else html_error_page(status)
            resp = Response.text(body, status, "text/html")
        elif self.action == "garbage":
            resp = Response.raw(b"\x00\xffnot json{", int(self.status or 200), "application/json")
        elif isinstance(self.body, (dict, list, int, float, bool)) or (self.body is None and self.content_type is None):
            resp = Response.json(self.body if self.body is not None else {"error": "injected fault"}, status)
        else:
            text = self.body if isinstance(self.body, str) else ""
            resp = Response.text(text, status, self.content_type or "text/plain; charset=utf-8")
        if self.content_type:
            resp.set_header("Content-Type", self.content_type)
        for k, v in self.headers:
            resp.set_header(k, str(v))
        return resp

    def to_json(self) -> dict:
        return {"id": self.id, "remaining": self.remaining, "skip": self.skip, "action": self.action,
                "match": self.match, "status": self.status}
