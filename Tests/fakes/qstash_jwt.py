"""QStash `Upstash-Signature` JWTs (reference section 2.5), standard library only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets


def b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def body_hash(body: bytes, padded: bool = True) -> str:
    """base64url(SHA-256(body)); QStash keeps the '=' padding (doc sample)."""
    h = base64.urlsafe_b64encode(hashlib.sha256(body).digest()).decode("ascii")
    return h if padded else h.rstrip("=")


def sign_jwt(claims: dict, key: str, header: dict | None = None) -> str:
    """Compact JSON (no spaces, keys in insertion order) like QStash; HMAC key = UTF-8 bytes."""
    header = header or {"alg": "HS256", "typ": "JWT"}
    h = b64url_nopad(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    p = b64url_nopad(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    mac = hmac.new(key.encode("utf-8"), ("%s.%s" % (h, p)).encode("ascii"), hashlib.sha256).digest()
    return "%s.%s.%s" % (h, p, b64url_nopad(mac))


def make_claims(sub: str, body: bytes, now: int, lifetime: int = 300, jti: str | None = None) -> dict:
    return {
        "iss": "Upstash",
        "sub": sub,
        "exp": int(now) + lifetime,
        "nbf": int(now),
        "iat": int(now),
        "jti": jti or "jwt_" + secrets.token_hex(12),
        "body": body_hash(body),
    }


def signature_for(sub: str, body: bytes, key: str, now: int, lifetime: int = 300, jti: str | None = None) -> str:
    return sign_jwt(make_claims(sub, body, now, lifetime, jti), key)


def decode_claims(token: str) -> dict:
    """Payload of a JWT without verification (for assertions)."""
    payload = token.split(".")[1]
    payload += "=" * (-len(payload) % 4)
    return json.loads(base64.urlsafe_b64decode(payload))


def new_signing_key() -> str:
    return "sig_" + secrets.token_urlsafe(21).replace("-", "x").replace("_", "y")
