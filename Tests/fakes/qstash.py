"""QStash fake: publish API, schedules, signing keys, DLQ, plus a delivery simulator
(reference sections 2 and 5.2).

    fake = FakeQStash(token="qs-token", current_signing_key="sig_cur", next_signing_key="sig_next",
                      deliver_to="http://127.0.0.1:8080")
    fake.start(); fake.base_url; fake.stop()

CLI: python3 -m Tests.fakes.qstash --port 0 --ready-file F [--deliver-to URL] [--retry-delay-ms 200]
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import threading
import urllib.parse

from .base import FakeServer, cli_main
from .httpcore import Request, Response, is_loopback_url
from .qstash_delivery import DeliveryEngine, Message
from .qstash_api import METHODS, QStashApiMixin, _rand_id, parse_duration
from .qstash_jwt import new_signing_key

class FakeQStash(QStashApiMixin, FakeServer):
    name = "qstash"

    def __init__(self, token: str = "qstash-test-token", current_signing_key: str | None = None,
                 next_signing_key: str | None = None, deliver_to: str | None = None, retry_delay: float = 0.2,
                 delivery_timeout: float = 5.0, max_retries: int = 5, default_retries: int = 3,
                 delay_scale: float = 0.0, dedup_window: float = 600.0, daily_limit: int | None = None,
                 max_schedules: int | None = None, deliver: bool = True, duplicate_all: bool = False,
                 sign_with: str = "current", max_batch_items: int = 1000, **kw):
        super().__init__(**kw)
        self.token = token
        self.current_signing_key = current_signing_key or new_signing_key()
        self.next_signing_key = next_signing_key or new_signing_key()
        self.deliver_to = None
        self.set_deliver_to(deliver_to)
        self.retry_delay = retry_delay
        self.delivery_timeout = delivery_timeout
        self.max_retries = max_retries
        self.default_retries = default_retries
        self.delay_scale = delay_scale
        self.dedup_window = dedup_window
        self.daily_limit = daily_limit
        self.max_schedules = max_schedules
        self.duplicate_all = duplicate_all
        self.sign_with = sign_with
        self._autostart_delivery = deliver
        self.max_batch_items = max_batch_items
        self._state_lock = threading.RLock()
        self.engine = DeliveryEngine(self)
        self._init_state()

    def _init_state(self):
        with self._state_lock:
            self.messages: dict[str, Message] = {}
            self.order: list[str] = []
            self.dedup: dict[str, tuple[str, float]] = {}
            self.schedules: dict[str, dict] = {}
            self.dlq: list[dict] = []
            self.deliveries: list[dict] = []
            self.published_per_day: dict[int, int] = {}
            self.batch_calls = 0

    # ---- lifecycle / config ----------------------------------------------------------------
    def on_start(self):
        self.engine.start()
        if not self._autostart_delivery:
            self.engine.set_paused(True)

    def on_stop(self):
        self.engine.stop()

    def set_deliver_to(self, url: str | None):
        if url and not is_loopback_url(url):
            raise ValueError("deliver_to must be an http(s) URL on a loopback address")
        self.deliver_to = url.rstrip("/") if url else None

    def delivery_url(self, public_url: str) -> str | None:
        """Public destination -> loopback URL we actually call (keeps path and query)."""
        if self.deliver_to:
            parts = urllib.parse.urlsplit(public_url)
            return self.deliver_to + (parts.path or "/") + ("?" + parts.query if parts.query else "")
        return public_url if is_loopback_url(public_url) else None

    def signing_key_for_delivery(self) -> str:
        if self.sign_with == "next":
            return self.next_signing_key
        if self.sign_with == "bogus":
            return "sig_bogus_key_not_known_to_anyone"
        return self.current_signing_key

    def rotate_keys(self):
        with self._state_lock:
            self.current_signing_key, self.next_signing_key = self.next_signing_key, new_signing_key()

    def info(self):
        return {"deliver_to": self.deliver_to, "retry_delay": self.retry_delay, "paused": self.engine.paused,
                "sign_with": self.sign_with, "max_retries": self.max_retries}

    def counters(self):
        with self._state_lock:
            states: dict[str, int] = {}
            for m in self.messages.values():
                states[m.state] = states.get(m.state, 0) + 1
            return {"messages": len(self.messages), "batch_calls": self.batch_calls, "states": states,
                    "deliveries": len(self.deliveries),
                    "dlq": len(self.dlq), "schedules": len(self.schedules)}

    def reset_state(self):
        self.engine.clear()
        self._init_state()

    def presets(self):
        def rl_daily(p):
            reset = int(self.clock.now()) + 3600
            return {"status": p.get("status", 429), "body": {"error": "daily message limit exceeded"},
                    "headers": [("RateLimit-Limit", str(p.get("limit", 500))), ("RateLimit-Remaining", "0"),
                                ("RateLimit-Reset", str(p.get("reset", reset)))]}

        def rl_burst(p):
            reset = int(self.clock.now()) + 1
            return {"status": p.get("status", 429), "body": {"error": "too many requests"},
                    "headers": [("Burst-RateLimit-Limit", str(p.get("limit", 100))),
                                ("Burst-RateLimit-Remaining", "0"),
                                ("Burst-RateLimit-Reset", str(p.get("reset", reset)))]}
        return {
            "rate_limit_daily": rl_daily,
            "rate_limit_burst": rl_burst,
            "unauthorized": lambda p: {"status": 401, "body": {"error": "Unauthorized"}},
            "server_error": lambda p: {"status": p.get("status", 500), "body": {"error": "internal server error"}},
            "html": lambda p: {"action": "html", "status": p.get("status", 502)},
        }

    def route_of(self, req):
        p = req.path
        for prefix in ("/v2/publish/", "/v2/enqueue/", "/v2/schedules/", "/v2/dlq/", "/v2/messages/"):
            if p.startswith(prefix):
                return prefix + "*"
        return p

    # ---- recording hooks used by the engine ------------------------------------------------
    def record_delivery(self, record: dict):
        with self._state_lock:
            self.deliveries.append(record)

    def dead_letter(self, msg: Message, record: dict):
        with self._state_lock:
            entry = msg.to_json()
            entry.update({"dlqId": "dlq_" + secrets.token_hex(10), "responseStatus": record["status"] or 0,
                          "responseBody": record["responseBody"], "error": record["error"],
                          "header": self._header_map(msg), "maxRetries": msg.retries,
                          "notBefore": msg.not_before or 0, "responseHeader": {}})
            self.dlq.append(entry)

    @staticmethod
    def _header_map(msg: Message) -> dict:
        out: dict[str, list] = {}
        for k, v in msg.forward_headers:
            out.setdefault(k, []).append(v)
        if msg.content_type:
            out.setdefault("Content-Type", []).append(msg.content_type)
        return out

    # ---- in-process helpers ------------------------------------------------------------------
    def message(self, message_id: str) -> Message:
        return self.messages[message_id]

    def wait_for(self, message_id: str, states=("delivered", "failed", "undeliverable"), timeout: float = 5.0,
                 attempts: int | None = None) -> Message:
        def done():
            m = self.messages.get(message_id)
            if m is None:
                return False
            if attempts is not None:
                return len(m.attempts) >= attempts
            return m.state in states
        if not self.engine.wait(done, timeout):
            m = self.messages.get(message_id)
            raise TimeoutError("message %s still %s" % (message_id, m.state if m else "unknown"))
        return self.messages[message_id]

    def wait_idle(self, timeout: float = 5.0) -> bool:
        return self.engine.wait(lambda: self.engine.pending_count() == 0, timeout)

    def redeliver(self, message_id: str):
        self.engine.submit(self.messages[message_id], 0.0, 0, duplicate=True)

    # ---- HTTP: QStash API ------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if not req.path.startswith("/v2/"):
            return Response.json({"error": "not found"}, 404)
        token = req.bearer() or req.q("qstash_token")
        if token != self.token:
            return Response.json({"error": "Unauthorized"}, 401)
        p, m = req.path, req.method
        if p == "/v2/batch" and m == "POST":
            return self._batch(req)
        if p.startswith("/v2/flowControl") and m == "GET":
            return self._flow_control_api(req)
        if p.startswith("/v2/publish/") and m == "POST":
            return self._publish(req, req.target[len("/v2/publish/"):], None)
        if p.startswith("/v2/enqueue/") and m == "POST":
            rest = req.target[len("/v2/enqueue/"):]
            queue, _, dest = rest.partition("/")
            return self._publish(req, dest, urllib.parse.unquote(queue))
        if p.startswith("/v2/schedules"):
            return self._schedules(req)
        if p == "/v2/keys" and m == "GET":
            return Response.json({"current": self.current_signing_key, "next": self.next_signing_key})
        if p == "/v2/keys/rotate" and m == "POST":
            self.rotate_keys()
            return Response.json({"current": self.current_signing_key, "next": self.next_signing_key})
        if p.startswith("/v2/dlq"):
            return self._dlq_api(req)
        if p.startswith("/v2/messages/"):
            mid = urllib.parse.unquote(p[len("/v2/messages/"):])
            msg = self.messages.get(mid)
            if msg is None:
                return Response.json({"error": "message not found"}, 404)
            if m == "GET":
                j = msg.to_json()
                j["header"] = self._header_map(msg)
                return Response.json(j)
            if m == "DELETE":
                msg.state = "cancelled"
                return Response(202, b"")
        return Response.json({"error": "not found"}, 404)

    def _destination(self, raw: str) -> str:
        if "?" in raw:
            path, query = raw.split("?", 1)
            kept = [kv for kv in query.split("&") if kv and not kv.startswith("qstash_token=")]
            raw = path + ("?" + "&".join(kept) if kept else "")
        if re.match(r"^https?%3A", raw, re.I):
            raw = urllib.parse.unquote(raw)
        return raw

    def _parse_publish_headers(self, req: Request) -> dict:
        h = {}
        method = (req.header("Upstash-Method") or "POST").upper()
        if method not in METHODS:
            raise ValueError("invalid Upstash-Method header")
        h["method"] = method
        retries = req.header("Upstash-Retries")
        if retries is None:
            h["retries"] = self.default_retries
        else:
            if not retries.strip().isdigit():
                raise ValueError("invalid Upstash-Retries header")
            h["retries"] = int(retries)
            if h["retries"] > self.max_retries:
                raise ValueError("Upstash-Retries cannot exceed %d for this plan" % self.max_retries)
        for name, key in (("Upstash-Delay", "delay"), ("Upstash-Timeout", "timeout")):
            val = req.header(name)
            if val is not None:
                try:
                    h[key] = parse_duration(val)
                except ValueError:
                    raise ValueError("invalid %s header" % name) from None
        flow_key = req.header("Upstash-Flow-Control-Key")
        flow_value = req.header("Upstash-Flow-Control-Value")
        if flow_key is not None or flow_value is not None:
            if not flow_key or not flow_value:
                raise ValueError("Upstash-Flow-Control-Key and Upstash-Flow-Control-Value go together")
            fields = {}
            for part in flow_value.split(","):
                name, sep, value = part.strip().partition("=")
                if not sep or name not in ("parallelism", "rate", "period"):
                    raise ValueError("invalid Upstash-Flow-Control-Value header")
                fields[name] = value.strip()
            try:
                for name in ("parallelism", "rate"):
                    if name in fields:
                        fields[name] = int(fields[name])
                        if fields[name] < 1:
                            raise ValueError
                if "period" in fields:
                    fields["period"] = parse_duration(fields["period"])
            except ValueError:
                raise ValueError("invalid Upstash-Flow-Control-Value header") from None
            h["flow_key"] = flow_key
            h["parallelism"] = fields.get("parallelism")
            h["rate"] = fields.get("rate")
            h["period"] = fields.get("period")
        nb = req.header("Upstash-Not-Before")
        if nb is not None:
            if not nb.strip().isdigit():
                raise ValueError("invalid Upstash-Not-Before header")
            h["not_before"] = int(nb)
        return h

    def _publish(self, req: Request, raw_dest: str, queue: str | None) -> Response:
        dest = self._destination(raw_dest)
        if not (dest.startswith("http://") or dest.startswith("https://")):
            return Response.json({"error": "invalid destination url"}, 400)
        try:
            opts = self._parse_publish_headers(req)
        except ValueError as exc:
            return Response.json({"error": str(exc)}, 400)
        now = self.clock.now()
        day = int(now // 86400)
        with self._state_lock:
            if self.daily_limit is not None and self.published_per_day.get(day, 0) >= self.daily_limit:
                return Response.json({"error": "daily message limit exceeded"}, 429, headers=[
                    ("RateLimit-Limit", str(self.daily_limit)), ("RateLimit-Remaining", "0"),
                    ("RateLimit-Reset", str((day + 1) * 86400))])
        forward = [(k[len("Upstash-Forward-"):], v) for k, v in req.headers
                   if k.lower().startswith("upstash-forward-")]
        upstash = {k: v for k, v in req.headers if k.lower().startswith("upstash-")}
        dedup_id = req.header("Upstash-Deduplication-Id")
        if dedup_id is None and (req.header("Upstash-Content-Based-Deduplication") or "").lower() == "true":
            h = hashlib.sha256(dest.encode() + b"\0" + req.body + b"\0" +
                               json.dumps(sorted(forward)).encode()).hexdigest()
            dedup_id = "content:" + h
        with self._state_lock:
            if dedup_id is not None:
                old = self.dedup.get(dedup_id)
                if old and now - old[1] < self.dedup_window:
                    return Response.json({"messageId": old[0], "url": dest, "deduplicated": True})
            msg = Message(message_id=_rand_id("msg_", 56), url=dest, method=opts["method"], body=req.body,
                          content_type=req.header("Content-Type"), forward_headers=forward,
                          upstash_headers=upstash, retries=opts["retries"],
                          retry_delay_expr=req.header("Upstash-Retry-Delay"), delay_s=opts.get("delay", 0.0),
                          not_before=opts.get("not_before"), timeout_s=opts.get("timeout"), created_at=now,
                          queue=queue, dedup_id=dedup_id, callback=req.header("Upstash-Callback"),
                          failure_callback=req.header("Upstash-Failure-Callback"),
                          label=req.header("Upstash-Label"), caller_ip=req.client or "127.0.0.1",
                          flow_key=opts.get("flow_key"), parallelism=opts.get("parallelism"))
            self.messages[msg.message_id] = msg
            self.order.append(msg.message_id)
            if dedup_id is not None:
                self.dedup[dedup_id] = (msg.message_id, now)
            self.published_per_day[day] = self.published_per_day.get(day, 0) + 1
        self._enqueue(msg, now)
        return Response.json({"messageId": msg.message_id, "url": dest})

    # ---- batch (next-capabilities 7.1) and flow control (7.2) -----------------------------------
    def _batch(self, req: Request) -> Response:
        try:
            items = json.loads(req.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return Response.json({"error": "invalid request body: expected a JSON array"}, 400)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            return Response.json({"error": "invalid request body: expected an array of messages"}, 400)
        if len(items) > self.max_batch_items:
            return Response.json({"error": "too many messages in one batch"}, 400)
        for item in items:
            if not isinstance(item.get("destination"), str) or not item["destination"]:
                return Response.json({"error": "destination is required"}, 400)
            headers = item.get("headers") or {}
            if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
                return Response.json({"error": "headers must be an object of strings"}, 400)
            if item.get("body") is not None and not isinstance(item["body"], str):
                return Response.json({"error": "body must be a string"}, 400)
        out = []
        # One hold of the (reentrant) state lock for the whole batch: taken per message by
        # concurrent batch calls, the lock and the GIL hand off in a convoy (about 0.4 ms a message).
        with self._state_lock:
            self.batch_calls += 1
            for item in items:
                headers = list((item.get("headers") or {}).items())
                body = (item.get("body") or "").encode("utf-8")
                sub = Request(method="POST", target="/v2/publish/" + item["destination"], headers=headers, body=body,
                              client=req.client)
                queue = item.get("queue")
                response = self._publish(sub, item["destination"], queue if isinstance(queue, str) else None)
                try:
                    answer = json.loads(response.body.decode("utf-8"))
                except ValueError:
                    answer = {"error": "not published"}
                out.append(answer if response.status == 200 else {"error": answer.get("error", "not published")})
        return Response.json(out)

    def _flow_control_api(self, req: Request) -> Response:
        state = self.engine.flow_state()
        def view(key, entry):
            return {"flowControlKey": key, "waitListSize": entry["waiting"], "parallelismMax": None,
                    "parallelismCount": entry["inFlight"], "rateMax": None, "rateCount": 0, "ratePeriod": None,
                    "ratePeriodStart": 0, "isPaused": False, "isPinnedParallelism": False, "isPinnedRate": False}
        if req.path == "/v2/flowControl":
            return Response.json([view(k, v) for k, v in sorted(state.items())])
        key = urllib.parse.unquote(req.path[len("/v2/flowControl/"):])
        if key not in state:
            return Response.json({"error": "flow control key not found"}, 404)
        return Response.json(view(key, state[key]))

    def _enqueue(self, msg: Message, now: float):
        wait = msg.delay_s
        if msg.not_before is not None:
            wait = max(0.0, msg.not_before - now)
        self.engine.submit(msg, wait * self.delay_scale)


def main(argv=None):
    def add(p):
        p.add_argument("--token", default=os.environ.get("QSTASH_FAKE_TOKEN", "qstash-test-token"))
        p.add_argument("--current-signing-key", default=os.environ.get("QSTASH_FAKE_CURRENT_SIGNING_KEY"))
        p.add_argument("--next-signing-key", default=os.environ.get("QSTASH_FAKE_NEXT_SIGNING_KEY"))
        p.add_argument("--deliver-to", default=None, help="loopback base URL replacing scheme+host of destinations")
        p.add_argument("--retry-delay-ms", type=float, default=200.0)
        p.add_argument("--delivery-timeout-ms", type=float, default=5000.0)
        p.add_argument("--max-retries", type=int, default=5)
        p.add_argument("--delay-scale", type=float, default=0.0, help="multiply Upstash-Delay (0 = ignore)")
        p.add_argument("--daily-limit", type=int, default=None)
        p.add_argument("--max-schedules", type=int, default=None)
        p.add_argument("--paused", action="store_true", help="start with delivery paused")

    def build(a, clock):
        return FakeQStash(token=a.token, current_signing_key=a.current_signing_key,
                          next_signing_key=a.next_signing_key, deliver_to=a.deliver_to,
                          retry_delay=a.retry_delay_ms / 1000.0, delivery_timeout=a.delivery_timeout_ms / 1000.0,
                          max_retries=a.max_retries, delay_scale=a.delay_scale, daily_limit=a.daily_limit,
                          max_schedules=a.max_schedules, deliver=not a.paused, clock=clock)

    return cli_main("QStash fake (publish + delivery simulator)", add, build, argv)


if __name__ == "__main__":
    raise SystemExit(main())
