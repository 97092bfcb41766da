"""Plain HTTP values shared by the fakes: Request, Response, form parsing, a clock.

Standard library only. Nothing here prints request data (it may hold secrets).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field


def is_loopback_host(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost' (never resolves other names)."""
    if host is None:
        return False
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback_host(parts.hostname or "")


class Clock:
    """Injectable clock. Follows real time plus an offset unless frozen.

    `set(t)` makes now() == t (and keeps ticking unless frozen), `advance(s)` moves it forward.
    """

    def __init__(self, start: float | None = None, frozen: bool = False):
        self._lock = threading.Lock()
        self._offset = 0.0 if start is None else start - time.time()
        self._frozen_at: float | None = None
        if frozen:
            self._frozen_at = self.now()

    def now(self) -> float:
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def set(self, t: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = float(t)
            else:
                self._offset = float(t) - time.time()

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += float(seconds)
            else:
                self._offset += float(seconds)

    def freeze(self, frozen: bool = True) -> None:
        now = self.now()
        with self._lock:
            if frozen:
                self._frozen_at = now
            else:
                self._frozen_at = None
                self._offset = now - time.time()

    def real(self) -> None:
        with self._lock:
            self._frozen_at = None
            self._offset = 0.0

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def to_json(self) -> dict:
        return {"now": self.now(), "frozen": self.frozen}


@dataclass
class FormField:
    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None

    @property
    def text(self) -> str:
        return self.value.decode("utf-8", "replace")


def _parse_header_params(value: str) -> tuple[str, dict]:
    """Parse 'type/sub; a=b; c="d"' -> ('type/sub', {'a': 'b', 'c': 'd'})."""
    parts = []
    cur, quoted, i = "", False, 0
    while i < len(value):
        ch = value[i]
        if ch == '"':
            quoted = not quoted
            cur += ch
        elif ch == "\\" and quoted and i + 1 < len(value):
            cur += value[i : i + 2]
            i += 1
        elif ch == ";" and not quoted:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    main = parts[0].strip().lower()
    params = {}
    for p in parts[1:]:
        if "=" not in p:
            continue
        k, v = p.split("=", 1)
        v = v.strip()
        if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        params[k.strip().lower()] = v
    return main, params


def parse_multipart(body: bytes, boundary: str) -> list[FormField]:
    if not boundary:
        raise ValueError("multipart without boundary")
    delim = b"\r\n--" + boundary.encode("latin-1")
    data = b"\r\n" + body
    chunks = data.split(delim)
    fields: list[FormField] = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        if chunk.startswith(b"\r\n"):
            chunk = chunk[2:]
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("malformed multipart part")
        headers = {}
        for line in head.split(b"\r\n"):
            if b":" in line:
                k, v = line.split(b":", 1)
                headers[k.strip().lower().decode("latin-1")] = v.strip().decode("utf-8", "replace")
        _, disp = _parse_header_params(headers.get("content-disposition", ""))
        if "name" not in disp:
            continue
        fields.append(
            FormField(
                name=disp["name"],
                value=content,
                filename=disp.get("filename"),
                content_type=headers.get("content-type"),
            )
        )
    return fields


@dataclass
class Request:
    method: str
    target: str  # raw request target as received, e.g. "/v2/publish/https://x/y?z=1"
    headers: list  # [(name, value), ...] in wire order and case
    body: bytes
    client: str = ""
    seq: int = 0
    received_at: float = 0.0
    status: int | None = None  # filled in after the response is sent (recording)
    route: str = ""  # set by the fake (counters)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query_string(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @property
    def query(self) -> dict:
        return urllib.parse.parse_qs(self.query_string, keep_blank_values=True)

    def q(self, name: str, default=None):
        """First value of a query parameter."""
        vals = self.query.get(name)
        return vals[0] if vals else default

    def header(self, name: str, default=None):
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return default

    def header_all(self, name: str) -> list:
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    @property
    def content_type(self) -> str:
        return _parse_header_params(self.header("Content-Type", "") or "")[0]

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def form_fields(self) -> list[FormField]:
        """Parse an urlencoded or multipart body (empty list for other bodies)."""
        ctype_raw = self.header("Content-Type", "") or ""
        ctype, params = _parse_header_params(ctype_raw)
        if ctype == "multipart/form-data":
            return parse_multipart(self.body, params.get("boundary", ""))
        if ctype == "application/x-www-form-urlencoded" or (not ctype and b"=" in self.body):
            pairs = urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True)
            return [FormField(k, v.encode("utf-8")) for k, v in pairs]
        return []

    def basic_auth(self):
        """(user, password) from an Authorization: Basic header, or None."""
        auth = self.header("Authorization", "") or ""
        if not auth.lower().startswith("basic "):
            return None
        try:
            raw = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
        except Exception:
            return None
        if ":" not in raw:
            return None
        user, pw = raw.split(":", 1)
        return user, pw

    def bearer(self):
        auth = self.header("Authorization", "") or ""
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None

    def to_json(self) -> dict:
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {
            "seq": self.seq,
            "time": self.received_at,
            "method": self.method,
            "target": self.target,
            "path": self.path,
            "query_string": self.query_string,
            "query": self.query,
            "headers": [[k, v] for k, v in self.headers],
            "body": text,
            "body_base64": base64.b64encode(self.body).decode("ascii"),
            "status": self.status,
            "route": self.route,
        }


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: list = field(default_factory=list)  # [(name, value)]
    # Special behaviours (set by faults): "close" (FIN, no response), "reset" (RST)
    abort: str | None = None
    # Seconds to sleep after headers are sent, before the body (slow body)
    body_delay: float = 0.0

    @classmethod
    def json(cls, obj, status: int = 200, headers=None, escape_slashes: bool = False):
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        if escape_slashes:
            text = text.replace("/", "\\/")
        return cls(status, text.encode("utf-8"), [("Content-Type", "application/json; charset=utf-8")] + list(headers or []))

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain; charset=utf-8", headers=None):
        return cls(status, text.encode("utf-8"), [("Content-Type", content_type)] + list(headers or []))

    @classmethod
    def raw(cls, body: bytes, status: int = 200, content_type: str = "application/octet-stream", headers=None):
        return cls(status, body, [("Content-Type", content_type)] + list(headers or []))

    def header(self, name: str, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def set_header(self, name: str, value: str) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        self.headers.append((name, value))


def html_error_page(status: int) -> str:
    reason = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
              504: "Gateway Timeout"}.get(status, "Error")
    return (
        "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n" % (status, reason, status, reason)
    )
