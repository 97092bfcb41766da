"""Small media byte helpers shared by the Instagram CDN fake and the Cloudinary fake:
deterministic JPEG-ish / MP4-ish payloads and a sniffer that reports kind, format and size."""

from __future__ import annotations

import hashlib
import struct


def fake_jpeg(seed: str, width: int = 1080, height: int = 1350) -> bytes:
    """A tiny JPEG-shaped payload: SOI, JFIF APP0, SOF0 with real dimensions, a comment, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    comment = ("fake media " + seed).encode("utf-8") + hashlib.sha256(seed.encode()).digest()
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
            + b"\xff\xc0" + struct.pack(">H", len(sof0) + 2) + sof0
            + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + b"\xff\xd9")


def fake_mp4(seed: str) -> bytes:
    """An MP4-shaped payload: an `ftyp` box followed by a small `free` box."""
    ftyp = b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2avc1mp41"
    free = ("fake video " + seed).encode("utf-8") + hashlib.sha256(seed.encode()).digest()
    return struct.pack(">I", len(ftyp) + 4) + ftyp + struct.pack(">I", len(free) + 8) + b"free" + free


def _jpeg_size(data: bytes):
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        seglen = struct.unpack(">H", data[i + 2:i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3) and i + 9 <= len(data):
            h, w = struct.unpack(">HH", data[i + 5:i + 9])
            return w, h
        i += 2 + seglen
    return None


def sniff(data: bytes):
    """-> (kind, format, width, height); kind is image | video | raw."""
    if data[:3] == b"\xff\xd8\xff":
        size = _jpeg_size(data) or (None, None)
        return "image", "jpg", size[0], size[1]
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return "image", "png", w, h
    if data[:4] == b"GIF8" and len(data) >= 10:
        w, h = struct.unpack("<HH", data[6:10])
        return "image", "gif", w, h
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image", "webp", None, None
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        return "video", "mov" if brand == b"qt  " else "mp4", None, None
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video", "webm", None, None
    return "raw", None, None, None


CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif", "webp": "image/webp",
                 "mp4": "video/mp4", "mov": "video/quicktime", "webm": "video/webm"}
