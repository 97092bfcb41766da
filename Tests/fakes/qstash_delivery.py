"""Delivery side of the QStash fake: POSTs published messages to a loopback target with
`Upstash-Signature`, retries with compressed delays, stops on 489 + Upstash-NonRetryable-Error,
dead-letters exhausted messages (reference sections 2.3 and 5.2)."""

from __future__ import annotations

import base64
import heapq
import http.client
import itertools
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from .qstash_jwt import signature_for


@dataclass
class Message:
    message_id: str
    url: str  # the ORIGINAL (public) destination; signed as `sub`
    method: str = "POST"
    body: bytes = b""
    content_type: str | None = None
    forward_headers: list = field(default_factory=list)  # [(name, value)] without the prefix
    upstash_headers: dict = field(default_factory=dict)  # every Upstash-* header as received
    retries: int = 3
    retry_delay_expr: str | None = None
    delay_s: float = 0.0
    not_before: int | None = None
    timeout_s: float | None = None
    created_at: float = 0.0
    schedule_id: str | None = None
    queue: str | None = None
    dedup_id: str | None = None
    callback: str | None = None
    failure_callback: str | None = None
    label: str | None = None
    flow_key: str | None = None
    parallelism: int | None = None
    caller_ip: str = "127.0.0.1"
    state: str = "pending"  # pending | delivering | retrying | delivered | failed | undeliverable | cancelled
    attempts: list = field(default_factory=list)

    def to_json(self) -> dict:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "messageId": self.message_id, "url": self.url, "method": self.method,
            "body": text, "bodyBase64": base64.b64encode(self.body).decode("ascii"),
            "contentType": self.content_type,
            "forwardHeaders": [[k, v] for k, v in self.forward_headers],
            "upstashHeaders": self.upstash_headers,
            "retries": self.retries, "retryDelay": self.retry_delay_expr, "delay": self.delay_s,
            "notBefore": self.not_before, "timeout": self.timeout_s, "createdAt": int(self.created_at * 1000),
            "scheduleId": self.schedule_id, "queueName": self.queue, "deduplicationId": self.dedup_id,
            "callback": self.callback, "failureCallback": self.failure_callback, "label": self.label,
            "flowControlKey": self.flow_key, "parallelism": self.parallelism,
            "state": self.state, "attempts": list(self.attempts),
        }


class DeliveryEngine:
    def __init__(self, fake):
        self.fake = fake
        self._heap: list = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._changed = threading.Condition()
        self._paused = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._inflight = 0
        # Flow control: deliveries in flight per key, messages waiting for a slot, the most seen.
        self.flow_inflight: dict = {}
        self.flow_waiting: dict = {}
        self.flow_max: dict = {}
        self.flow_delivered: dict = {}

    # ---- control -------------------------------------------------------------------------
    def start(self):
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name="qstash-delivery", daemon=True)
        self._thread.start()

    def stop(self):
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool):
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def clear(self):
        with self._cond:
            self._heap.clear()
            self.flow_waiting.clear()

    def submit(self, msg: Message, delay_s: float = 0.0, retried: int = 0, duplicate: bool = False):
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay_s), next(self._seq), msg, retried, duplicate))
            if not self._paused:  # paused, the loop has nothing to do (unpausing wakes it)
                self._cond.notify_all()

    def pending_count(self) -> int:
        with self._cond:
            return len(self._heap) + self._inflight + sum(len(w) for w in self.flow_waiting.values())

    def flow_state(self) -> dict:
        with self._cond:
            keys = set(self.flow_max) | set(self.flow_waiting)
            return {k: {"maxInFlight": self.flow_max.get(k, 0), "inFlight": self.flow_inflight.get(k, 0),
                        "waiting": len(self.flow_waiting.get(k, [])), "delivered": self.flow_delivered.get(k, 0)}
                    for k in keys}

    def wait(self, predicate, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.05))
        return True

    def _notify(self):
        with self._changed:
            self._changed.notify_all()

    # ---- loop ----------------------------------------------------------------------------
    def _loop(self):
        while True:
            with self._cond:
                while not self._stopped:
                    if self._heap and not self._paused:
                        due = self._heap[0][0] - time.monotonic()
                        if due <= 0:
                            break
                        self._cond.wait(due)
                    else:
                        self._cond.wait(0.5)
                if self._stopped:
                    return
                entry = heapq.heappop(self._heap)
                _, _, msg, retried, duplicate = entry
                key = msg.flow_key
                if key is not None and msg.parallelism:
                    if self.flow_inflight.get(key, 0) >= msg.parallelism:
                        # Waits for a slot without consuming a retry.
                        self.flow_waiting.setdefault(key, []).append(entry)
                        continue
                    self.flow_inflight[key] = self.flow_inflight.get(key, 0) + 1
                    self.flow_max[key] = max(self.flow_max.get(key, 0), self.flow_inflight[key])
                self._inflight += 1
            threading.Thread(target=self._attempt_safely, args=(msg, retried, duplicate), daemon=True).start()

    def _attempt_safely(self, msg, retried, duplicate):
        try:
            self._attempt(msg, retried, duplicate)
        finally:
            with self._cond:
                self._inflight -= 1
                key = msg.flow_key
                if key is not None and msg.parallelism:
                    self.flow_inflight[key] -= 1
                    self.flow_delivered[key] = self.flow_delivered.get(key, 0) + 1
                    waiting = self.flow_waiting.get(key)
                    if waiting:
                        heapq.heappush(self._heap, waiting.pop(0))
                    self._cond.notify_all()
            self._notify()

    def _attempt(self, msg: Message, retried: int, duplicate: bool):
        fake = self.fake
        target = fake.delivery_url(msg.url)
        if target is None:
            msg.state = "undeliverable"
            return
        if msg.state == "cancelled":
            return
        if not duplicate:
            msg.state = "delivering"
        now = int(fake.clock.now())
        key = fake.signing_key_for_delivery()
        sig = signature_for(msg.url, msg.body, key, now)
        headers = [("Upstash-Signature", sig), ("Upstash-Message-Id", msg.message_id),
                   ("Upstash-Retried", str(retried)), ("Upstash-Caller-Ip", msg.caller_ip),
                   ("User-Agent", "Upstash-QStash")]
        if msg.schedule_id:
            headers.append(("Upstash-Schedule-Id", msg.schedule_id))
        if msg.content_type:
            headers.append(("Content-Type", msg.content_type))
        headers += list(msg.forward_headers)
        timeout = msg.timeout_s if msg.timeout_s else fake.delivery_timeout
        timeout = min(timeout, fake.delivery_timeout)
        record = {"messageId": msg.message_id, "retried": retried, "duplicate": duplicate, "url": target,
                  "sub": msg.url, "method": msg.method, "time": fake.clock.now(), "status": None, "error": None,
                  "nonRetryable": False, "responseBody": None, "retryAfter": None}
        started = time.monotonic()
        status, rheaders, rbody = None, [], b""
        try:
            parts = urllib.parse.urlsplit(target)
            path = (parts.path or "/") + ("?" + parts.query if parts.query else "")
            if parts.scheme == "https":
                conn = http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout,
                                                   context=ssl._create_unverified_context())
            else:
                conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)
            try:
                conn.putrequest(msg.method, path, skip_accept_encoding=True)
                for k, v in headers:
                    conn.putheader(k, v)
                conn.putheader("Content-Length", str(len(msg.body)))
                conn.endheaders(msg.body)
                resp = conn.getresponse()
                rbody = resp.read()
                status, rheaders = resp.status, resp.getheaders()
            finally:
                conn.close()
        except Exception as exc:  # transport failure or timeout
            record["error"] = type(exc).__name__
        record["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        record["status"] = status
        record["responseBody"] = rbody[:2048].decode("utf-8", "replace")
        hmap = {k.lower(): v for k, v in rheaders}
        record["retryAfter"] = hmap.get("retry-after") or hmap.get("x-ratelimit-reset")
        record["nonRetryable"] = status == 489 and hmap.get("upstash-nonretryable-error", "").lower() == "true"
        msg.attempts.append(record)
        fake.record_delivery(record)
        if duplicate:
            return
        if status is not None and 200 <= status < 300:
            msg.state = "delivered"
            if fake.duplicate_all:
                self.submit(msg, 0.0, 0, duplicate=True)
        elif record["nonRetryable"]:
            msg.state = "failed"
            fake.dead_letter(msg, record)
        elif retried < msg.retries:
            msg.state = "retrying"
            self.submit(msg, fake.retry_delay, retried + 1)
        else:
            msg.state = "failed"
            fake.dead_letter(msg, record)
