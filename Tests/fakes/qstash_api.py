"""QStash fake, part 2: the schedules and DLQ endpoints of the QStash API, and the QStash-specific
/__control endpoints (mixed into FakeQStash)."""

from __future__ import annotations

import base64
import re
import secrets
import urllib.parse

from .httpcore import Request, Response
from .qstash_delivery import Message

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
SCHEDULE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
CRON_FIELD = re.compile(r"^[0-9A-Za-z*/,?#LW-]+$")


def parse_duration(text: str) -> float:
    text = text.strip()
    if text.isdigit():
        return float(text)
    m = DURATION.match(text)
    if not text or not m:
        raise ValueError(text)
    d, h, mi, s = (int(x or 0) for x in m.groups())
    return float(((d * 24 + h) * 60 + mi) * 60 + s)


def valid_cron(cron: str) -> bool:
    cron = cron.strip()
    if cron.startswith("CRON_TZ=") or cron.startswith("TZ="):
        parts = cron.split(None, 1)
        if len(parts) != 2:
            return False
        cron = parts[1]
    fields = cron.split()
    return len(fields) == 5 and all(CRON_FIELD.match(f) for f in fields)


def _rand_id(prefix: str, n: int = 40) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789"
    # One draw of random bytes (secrets.choice reads the OS per character); the modulo bias is
    # irrelevant for an id.
    return prefix + "".join(alphabet[b % len(alphabet)] for b in secrets.token_bytes(n))


class QStashApiMixin:
    # ---- schedules ---------------------------------------------------------------------------
    def _schedules(self, req: Request) -> Response:
        p, m = req.path, req.method
        if p == "/v2/schedules" and m == "GET":
            with self._state_lock:
                return Response.json(list(self.schedules.values()))
        rest = req.target[len("/v2/schedules/"):] if req.target.startswith("/v2/schedules/") else ""
        if m == "POST" and (rest.startswith("http://") or rest.startswith("https://") or "%3A" in rest[:8]):
            return self._create_schedule(req, self._destination(rest))
        sid, _, action = rest.split("?", 1)[0].partition("/")
        sid = urllib.parse.unquote(sid)
        with self._state_lock:
            sched = self.schedules.get(sid)
            if sched is None:
                return Response.json({"error": "schedule not found"}, 404)
            if not action and m == "GET":
                return Response.json(sched)
            if not action and m == "DELETE":
                del self.schedules[sid]
                return Response(200, b"")
            if action in ("pause", "resume") and m in ("PATCH", "POST"):
                sched["isPaused"] = action == "pause"
                return Response(200, b"")
        if m == "POST" and not action:
            return Response.json({"error": "invalid destination url"}, 400)
        return Response.json({"error": "not found"}, 404)

    def _create_schedule(self, req: Request, dest: str) -> Response:
        cron = req.header("Upstash-Cron")
        if not cron:
            return Response.json({"error": "Upstash-Cron header is required"}, 400)
        if not valid_cron(cron):
            return Response.json({"error": "invalid cron expression"}, 400)
        try:
            opts = self._parse_publish_headers(req)
        except ValueError as exc:
            return Response.json({"error": str(exc)}, 400)
        sid = req.header("Upstash-Schedule-Id")
        if sid is not None and not SCHEDULE_ID.match(sid):
            return Response.json({"error": "invalid schedule id"}, 400)
        with self._state_lock:
            existing = self.schedules.get(sid) if sid else None
            if existing is None and self.max_schedules is not None and len(self.schedules) >= self.max_schedules:
                return Response.json({"error": "schedule quota exceeded"}, 412)
            sid = sid or _rand_id("scd_", 28)
            header: dict[str, list] = {}
            for k, v in req.headers:
                if k.lower().startswith("upstash-forward-"):
                    header.setdefault(k[len("Upstash-Forward-"):], []).append(v)
            if req.header("Content-Type"):
                header["Content-Type"] = [req.header("Content-Type")]
            try:
                body_text = req.body.decode("utf-8")
            except UnicodeDecodeError:
                body_text = None
            self.schedules[sid] = {
                "scheduleId": sid, "cron": cron, "destination": dest, "method": opts["method"],
                "header": header, "body": body_text, "bodyBase64": base64.b64encode(req.body).decode(),
                "retries": opts["retries"], "delay": int(opts.get("delay", 0)),
                "timeout": int(opts["timeout"]) if "timeout" in opts else None,
                "callback": req.header("Upstash-Callback"), "failureCallback": req.header("Upstash-Failure-Callback"),
                "label": req.header("Upstash-Label"),
                "createdAt": existing["createdAt"] if existing else int(self.clock.now() * 1000),
                "isPaused": existing["isPaused"] if existing else False,
            }
        return Response.json({"scheduleId": sid})

    def trigger_schedule(self, sid: str) -> str:
        """Fire a schedule once now (cron is not evaluated by the fake). Returns the message id."""
        with self._state_lock:
            s = self.schedules[sid]
            msg = Message(message_id=_rand_id("msg_", 56), url=s["destination"], method=s["method"],
                          body=base64.b64decode(s["bodyBase64"]),
                          content_type=(s["header"].get("Content-Type") or [None])[0],
                          forward_headers=[(k, v) for k, vs in s["header"].items() if k != "Content-Type" for v in vs],
                          retries=s["retries"], created_at=self.clock.now(), schedule_id=sid)
            self.messages[msg.message_id] = msg
            self.order.append(msg.message_id)
        self.engine.submit(msg, 0.0)
        return msg.message_id

    # ---- DLQ API -------------------------------------------------------------------------------
    def _dlq_api(self, req: Request) -> Response:
        with self._state_lock:
            if req.path == "/v2/dlq" and req.method == "GET":
                return Response.json({"messages": list(self.dlq)})
            dlq_id = urllib.parse.unquote(req.path[len("/v2/dlq/"):])
            entry = next((e for e in self.dlq if e["dlqId"] == dlq_id), None)
            if entry is None:
                return Response.json({"error": "dlq message not found"}, 404)
            if req.method == "GET":
                return Response.json(entry)
            if req.method == "DELETE":
                self.dlq.remove(entry)
                return Response(200, b"")
        return Response.json({"error": "not found"}, 404)

    # ---- control API ---------------------------------------------------------------------------
    def control(self, req: Request, sub: str):
        m = req.method
        body = req.json() if req.body.strip() else {}
        if sub == "messages" and m == "GET":
            with self._state_lock:
                return Response.json({"messages": [self.messages[i].to_json() for i in self.order]})
        if sub.startswith("messages/"):
            parts = sub.split("/")
            msg = self.messages.get(parts[1])
            if msg is None:
                return Response.json({"error": "unknown message"}, 404)
            if len(parts) == 2 and m == "GET":
                return Response.json(msg.to_json())
            if len(parts) == 3 and parts[2] in ("redeliver", "duplicate") and m == "POST":
                self.redeliver(msg.message_id)
                return Response.json({"ok": True})
        if sub == "flow-control" and m == "GET":
            return Response.json(self.engine.flow_state())
        if sub == "deliveries" and m == "GET":
            with self._state_lock:
                recs = [d for d in self.deliveries if not req.q("messageId") or d["messageId"] == req.q("messageId")]
            return Response.json({"deliveries": recs})
        if sub == "dlq":
            if m == "GET":
                with self._state_lock:
                    return Response.json({"messages": list(self.dlq)})
            if m == "DELETE":
                with self._state_lock:
                    self.dlq.clear()
                return Response.json({"ok": True})
        if sub == "signing-keys":
            if m == "POST":
                if body.get("rotate"):
                    self.rotate_keys()
                with self._state_lock:
                    self.current_signing_key = body.get("current", self.current_signing_key)
                    self.next_signing_key = body.get("next", self.next_signing_key)
                if "sign_with" in body:
                    self.sign_with = body["sign_with"]
            return Response.json({"current": self.current_signing_key, "next": self.next_signing_key,
                                  "sign_with": self.sign_with})
        if sub in ("pause", "resume") and m == "POST":
            self.engine.set_paused(sub == "pause")
            return Response.json({"paused": self.engine.paused})
        if sub == "delivery":
            if m == "POST" and "paused" in body:
                self.engine.set_paused(bool(body["paused"]))
            return Response.json({"paused": self.engine.paused, "pending": self.engine.pending_count()})
        if sub == "config" and m in ("GET", "POST"):
            if "deliver_to" in body:
                self.set_deliver_to(body["deliver_to"])
            if "retry_delay_ms" in body:
                self.retry_delay = float(body["retry_delay_ms"]) / 1000.0
            for key in ("duplicate_all", "sign_with", "daily_limit", "max_schedules", "delay_scale",
                        "max_retries", "delivery_timeout"):
                if key in body:
                    setattr(self, key, body[key])
            return Response.json(dict(self.info(), duplicate_all=self.duplicate_all))
        if sub.startswith("schedules/") and sub.endswith("/trigger") and m == "POST":
            sid = urllib.parse.unquote(sub[len("schedules/"):-len("/trigger")])
            if sid not in self.schedules:
                return Response.json({"error": "unknown schedule"}, 404)
            return Response.json({"messageId": self.trigger_schedule(sid)})
        if sub == "wait" and m in ("GET", "POST"):
            mid = body.get("messageId") or req.q("messageId")
            timeout = float(body.get("timeout_ms") or req.q("timeout_ms") or 5000) / 1000.0
            try:
                if mid:
                    msg = self.wait_for(mid, timeout=timeout)
                    return Response.json(msg.to_json())
                return Response.json({"idle": self.wait_idle(timeout)})
            except (TimeoutError, KeyError) as exc:
                return Response.json({"error": str(exc)}, 408)
        return None
