"""A minimal FastCGI client: one request straight to the responder's socket, bypassing nginx.

For requests nginx would never pass on (e.g. two Authorization headers, which nginx rejects with
its own 400), so the responder's own defences can be checked too.
"""

from __future__ import annotations

import socket
import struct
from pathlib import Path

FCGI_VERSION = 1
BEGIN_REQUEST, END_REQUEST, PARAMS, STDIN, STDOUT, STDERR = 1, 3, 4, 5, 6, 7
RESPONDER_ROLE = 1
REQUEST_ID = 1


def _record(kind: int, content: bytes) -> bytes:
    padding = (8 - len(content) % 8) % 8
    return struct.pack(">BBHHBx", FCGI_VERSION, kind, REQUEST_ID, len(content), padding) + content + b"\0" * padding


def _length(n: int) -> bytes:
    return bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)


def _pairs(params: list[tuple[str, str]]) -> bytes:
    out = b""
    for name, value in params:
        name_bytes, value_bytes = name.encode(), value.encode()
        out += _length(len(name_bytes)) + _length(len(value_bytes)) + name_bytes + value_bytes
    return out


def _recv_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("responder closed the connection mid-record")
        data += chunk
    return data


def request(sock_path: Path | tuple[str, int], params: list[tuple[str, str]], body: bytes = b"",
            timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Sends one request (params may repeat a name) → (status, headers lower-cased, body), over a
    unix socket path or a loopback (host, port)."""
    payload = _record(BEGIN_REQUEST, struct.pack(">HB5x", RESPONDER_ROLE, 0))
    encoded = _pairs(params)
    for start in range(0, len(encoded), 65535):
        payload += _record(PARAMS, encoded[start:start + 65535])
    payload += _record(PARAMS, b"")
    for start in range(0, len(body), 65535):
        payload += _record(STDIN, body[start:start + 65535])
    payload += _record(STDIN, b"")

    stdout = b""
    family = socket.AF_INET if isinstance(sock_path, tuple) else socket.AF_UNIX
    with socket.socket(family, socket.SOCK_STREAM) as conn:
        conn.settimeout(timeout)
        conn.connect(sock_path if isinstance(sock_path, tuple) else str(sock_path))
        conn.sendall(payload)
        while True:
            _, kind, _, length, padding = struct.unpack(">BBHHBx", _recv_exactly(conn, 8))
            content = _recv_exactly(conn, length + padding)[:length]
            if kind == STDOUT:
                stdout += content
            elif kind == END_REQUEST:
                break

    head, _, response_body = stdout.partition(b"\r\n\r\n")
    headers: dict[str, str] = {}
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    status = int(headers.get("status", "200").split()[0])
    return status, headers, response_body


def cgi_params(method: str, path: str, headers: list[tuple[str, str]] = (), body: bytes = b"") -> list[tuple[str, str]]:
    """The params nginx's fastcgi_params would send, with `headers` as HTTP_* (repeats kept)."""
    params = [
        ("GATEWAY_INTERFACE", "CGI/1.1"), ("SERVER_PROTOCOL", "HTTP/1.1"), ("REQUEST_METHOD", method),
        ("REQUEST_URI", path), ("DOCUMENT_URI", path), ("SCRIPT_NAME", path), ("QUERY_STRING", ""),
        ("REMOTE_ADDR", "127.0.0.1"), ("SERVER_NAME", "localhost"), ("SERVER_PORT", "80"),
        ("CONTENT_LENGTH", str(len(body)) if body else ""), ("REQUEST_ID", "0" * 32),
    ]
    for name, value in headers:
        if name.lower() == "content-type":
            params.append(("CONTENT_TYPE", value))
        else:
            params.append(("HTTP_" + name.upper().replace("-", "_"), value))
    return params
