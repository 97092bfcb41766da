"""Meta's app callbacks, the sending side (next-capabilities §4): build a `signed_request` the way
Meta does and POST it to a Deauthorize or Data Deletion callback URL on loopback.

    sr = sign_request({"algorithm": "HMAC-SHA256", "issued_at": 1700000000, "user_id": "1022"}, app_secret)
    status, headers, body = post_callback(service_url + "/meta/deauthorize", sr)

Format (§4.3): `<S>.<P>`, P = base64url(JSON payload), S = base64url(HMAC-SHA256(key = app secret,
msg = P as ASCII)) — over the *encoded* segment, both unpadded. Standard library only; nothing is
logged; only loopback URLs are called.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from .httpcore import is_loopback_url


def b64url(data: bytes, padded: bool = False) -> str:
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if padded else text.rstrip("=")


def b64url_decode(text: str) -> bytes:
    """Accepts padded and unpadded segments (re-pads, `-`→`+`, `_`→`/`); raises ValueError."""
    text = text.strip()
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=" for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))


def encode_payload(payload) -> str:
    """P: the payload as compact JSON (keys in the dict's order, `separators=(',', ':')`), UTF-8,
    base64url without padding. A str/bytes payload is taken as already-serialized JSON text."""
    if isinstance(payload, bytes):
        raw = payload
    elif isinstance(payload, str):
        raw = payload.encode("utf-8")
    else:
        raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return b64url(raw)


def signature_for(encoded_payload: str, secret: str) -> str:
    """S for an encoded payload segment: base64url(HMAC-SHA256(secret, P)), unpadded."""
    return b64url(hmac.new(secret.encode("utf-8"), encoded_payload.encode("ascii"), hashlib.sha256).digest())


def sign_request(payload, secret: str, padded: bool = False) -> str:
    """`S.P` exactly as Meta builds it (§4.3). `padded=True` re-adds `=` padding to both segments
    (receivers should accept it, §4.5); the signature is always computed over the unpadded P."""
    p = encode_payload(payload)
    s = signature_for(p, secret)
    if padded:
        p, s = p + "=" * (-len(p) % 4), s + "=" * (-len(s) % 4)
    return "%s.%s" % (s, p)


def make_payload(user_id, issued_at: int | None = None, expires: int | None = None,
                 algorithm: str = "HMAC-SHA256", **extra) -> dict:
    """A callback payload in Meta's key order (§4.3): algorithm, [expires], issued_at, user_id, extras.
    `user_id` is kept as given (a str normally; an int tests the numeric case)."""
    out: dict = {"algorithm": algorithm}
    if expires is not None:
        out["expires"] = int(expires)
    out["issued_at"] = int(time.time()) if issued_at is None else int(issued_at)
    out["user_id"] = user_id
    out.update(extra)
    return out


def parse_signed_request(signed_request: str, secret: str) -> dict:
    """The receiving side, as a reference for tests (§4.3 steps 1–5): the decoded payload, or
    ValueError (no `.`, empty part, signature not 32 bytes, mismatch, algorithm not HMAC-SHA256)."""
    s, sep, p = (signed_request or "").partition(".")
    if not sep or not s or not p:
        raise ValueError("signed_request must be <signature>.<payload>")
    sig = b64url_decode(s)
    if len(sig) != 32:
        raise ValueError("signature is not 32 bytes")
    want = hmac.new(secret.encode("utf-8"), p.encode("ascii"), hashlib.sha256).digest()
    # §4.3/3: over the encoded segment as received; a padded P is also tried unpadded.
    alt = hmac.new(secret.encode("utf-8"), p.rstrip("=").encode("ascii"), hashlib.sha256).digest()
    if not (hmac.compare_digest(sig, want) or hmac.compare_digest(sig, alt)):
        raise ValueError("signature mismatch")
    payload = json.loads(b64url_decode(p).decode("utf-8"))
    if not isinstance(payload, dict) or str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise ValueError("unsupported algorithm")
    return payload


def post_callback(url: str, signed_request: str, as_json: bool = False, timeout: float = 10.0,
                  headers: dict | None = None):
    """POSTs `signed_request=<sr>` as `application/x-www-form-urlencoded` (what Meta sends, §4.2),
    or `{"signed_request": sr}` as JSON with `as_json=True`, to a loopback URL; no proxy, no
    redirects followed. Returns `(status, headers, body)`: int, the response's
    `http.client.HTTPMessage` (case-insensitive `.get`), bytes — also for 4xx/5xx answers."""
    if not is_loopback_url(url):
        raise ValueError("post_callback only calls loopback URLs")
    if as_json:
        body = json.dumps({"signed_request": signed_request}, separators=(",", ":")).encode("utf-8")
        ctype = "application/json"
    else:
        body = urllib.parse.urlencode({"signed_request": signed_request}).encode("ascii")
        ctype = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=body, method="POST", headers=dict(
        {"Content-Type": ctype, "User-Agent": "facebookexternalua", "Accept": "*/*"}, **(headers or {})))
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(req, timeout=timeout) as resp:
            return resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.headers, err.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None
