"""FakeServer: a loopback ThreadingHTTPServer with recording, scripted faults, latency and a
JSON control API under /__control/. Each concrete fake subclasses it and implements `handle`.

Standard library only. Never prints request contents (they carry tokens and secrets).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .faults import Fault
from .httpcore import Clock, Request, Response, is_loopback_host

CONTROL_PREFIX = "/__control/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake"
    sys_version = ""
    fake: "FakeServer" = None  # set per server class

    def log_message(self, format, *args):  # noqa: A002 - never log (query strings carry tokens)
        pass

    def setup(self):
        super().setup()
        try:  # headers and body go out in separate writes: avoid Nagle + delayed-ACK stalls
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = bytearray()
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(3)
            return bytes(out)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self):
        fake = self.fake
        try:
            body = self._read_body()
        except Exception:
            self.close_connection = True
            return
        req = Request(method=self.command, target=self.path, headers=list(self.headers.items()), body=body,
                      client=self.client_address[0], received_at=time.time())
        if req.path.startswith(CONTROL_PREFIX) or req.path == CONTROL_PREFIX.rstrip("/"):
            resp = fake._control(req)
            self._send(req, resp)
            return
        resp = fake._serve(req)
        if resp is None:
            return
        if resp.abort:
            self._abort(resp.abort)
            return
        self._send(req, resp)

    def _abort(self, kind: str):
        self.close_connection = True
        try:
            if kind == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.wfile.close()
            self.rfile.close()
            self.connection.close()
        except OSError:
            pass

    def _send(self, req: Request, resp: Response):
        try:
            self.send_response(resp.status)
            names = {k.lower() for k, _ in resp.headers}
            for k, v in resp.headers:
                self.send_header(k, v)
            if "content-length" not in names:
                self.send_header("Content-Length", str(len(resp.body)))
            if "date" not in names:
                self.send_header("Date", self.date_time_string())
            self.end_headers()
            if req.method != "HEAD":
                if resp.body_delay:
                    self.wfile.flush()
                    self.fake._sleep(resp.body_delay)
                self.wfile.write(resp.body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class FakeServer:
    """Base class. Subclasses implement `handle(req) -> Response` and may override
    `control(req, sub) -> Response | None`, `reset_state()`, `presets()`, `info()`, `route_of(req)`."""

    name = "fake"

    def __init__(self, port: int = 0, host: str = "127.0.0.1", clock: Clock | None = None,
                 latency_ms: float = 0):
        if not is_loopback_host(host):
            raise ValueError("fakes bind loopback addresses only")
        self.host = host
        self.requested_port = port
        self.clock = clock or Clock()
        self.latency = float(latency_ms) / 1000.0
        self._lock = threading.RLock()
        self._records: list[Request] = []
        self._seq = itertools.count(1)
        self._faults: list[Fault] = []
        self._route_counts: dict[str, int] = {}
        self._stop = threading.Event()
        self._server = None
        self._thread = None
        self.port = None

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self):
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = _Server((self.host, self.requested_port), handler)
        self.port = self._server.server_address[1]
        self._stop.clear()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="%s-http" % self.name, daemon=True)
        self._thread.start()
        self.on_start()
        return self

    def stop(self):
        self._stop.set()
        self.on_stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def on_start(self):
        pass

    def on_stop(self):
        pass

    @property
    def base_url(self) -> str:
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    # ---- subclass hooks ----------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def control(self, req: Request, sub: str):
        return None

    def reset_state(self):
        pass

    def presets(self) -> dict:
        return {}

    def info(self) -> dict:
        return {}

    def counters(self) -> dict:
        return {}

    def route_of(self, req: Request) -> str:
        return req.path

    # ---- in-process API ---------------------------------------------------------------------
    def add_fault(self, spec: dict | None = None, **kw) -> int:
        fault = Fault(dict(spec or {}, **kw), self.presets())
        with self._lock:
            self._faults.append(fault)
        return fault.id

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    def set_latency(self, ms: float):
        self.latency = float(ms) / 1000.0

    def requests(self, path_prefix: str | None = None, method: str | None = None) -> list[Request]:
        with self._lock:
            out = list(self._records)
        if path_prefix:
            out = [r for r in out if r.path.startswith(path_prefix)]
        if method:
            out = [r for r in out if r.method.upper() == method.upper()]
        return out

    def clear_requests(self):
        with self._lock:
            self._records.clear()
            self._route_counts.clear()

    def reset(self, state: bool = False):
        with self._lock:
            self._records.clear()
            self._route_counts.clear()
            self._faults.clear()
            self.latency = 0.0
        if state:
            self.reset_state()

    def all_counters(self) -> dict:
        with self._lock:
            out = {"total": sum(self._route_counts.values()), "by_route": dict(self._route_counts)}
        out.update(self.counters())
        return out

    # ---- internals --------------------------------------------------------------------------
    def _sleep(self, seconds: float):
        if seconds > 0:
            self._stop.wait(seconds)

    def _take_fault(self, req: Request):
        with self._lock:
            for fault in self._faults:
                if fault.remaining == 0 or not fault.matches(req):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                if fault.remaining > 0:
                    fault.remaining -= 1
                self._faults = [f for f in self._faults if f.remaining != 0]
                return fault
        return None

    def _run_handler(self, req: Request) -> Response:
        try:
            return self.handle(req)
        except Exception as exc:  # a bug in the fake: report it, never the request
            sys.stderr.write("[%s] internal error on %s %s: %s\n" % (self.name, req.method, req.path,
                                                                   type(exc).__name__))
            traceback.print_exc(file=sys.stderr)
            return Response.json({"error": "fake internal error: %s" % type(exc).__name__}, 500)

    def _serve(self, req: Request) -> Response | None:
        try:
            route = self.route_of(req)
        except Exception:
            route = req.path
        req.route = route
        with self._lock:
            req.seq = next(self._seq)
            self._records.append(req)
            key = "%s %s" % (req.method, route)
            self._route_counts[key] = self._route_counts.get(key, 0) + 1
        self._sleep(self.latency)
        fault = self._take_fault(req)
        if fault is None:
            resp = self._run_handler(req)
        else:
            self._sleep(fault.delay)
            act = fault.action
            if act in ("close", "reset"):
                req.status = 0
                return Response(abort=act)
            if act in ("respond", "html", "garbage"):
                resp = fault.build_response(self.base_url)
            else:
                resp = self._run_handler(req)
                if act in ("close_after", "reset_after"):
                    self._sleep(fault.delay_after)
                    req.status = 0
                    return Response(abort=act.split("_")[0])
                if act == "truncate":
                    resp.body = resp.body[: max(1, len(resp.body) // 2)]
                elif act == "delay_after":
                    self._sleep(fault.delay_after)
                elif act == "slow_body":
                    resp.body_delay = fault.delay_after or fault.delay or 1.0
                for k, v in fault.headers:
                    resp.set_header(k, str(v))
        req.status = resp.status
        return resp

    def _control(self, req: Request) -> Response:
        sub = req.path[len(CONTROL_PREFIX):].strip("/") if req.path.startswith(CONTROL_PREFIX) else ""
        try:
            body = req.json() if req.body.strip() else {}
        except ValueError:
            return Response.json({"error": "control body must be JSON"}, 400)
        try:
            resp = self._control_common(req, sub, body)
            if resp is None:
                resp = self.control(req, sub)
            if resp is None:
                resp = Response.json({"error": "unknown control endpoint %s %s" % (req.method, req.path)}, 404)
            return resp
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json({"error": "%s: %s" % (type(exc).__name__, exc)}, 400)

    def _control_common(self, req: Request, sub: str, body):
        m = req.method
        if sub == "info" and m == "GET":
            out = {"name": self.name, "base_url": self.base_url, "port": self.port}
            out.update(self.info())
            return Response.json(out)
        if sub == "requests":
            if m == "GET":
                recs = self.requests(req.q("path_prefix"), req.q("method"))
                since = int(req.q("since", "0"))
                return Response.json({"requests": [r.to_json() for r in recs if r.seq > since]})
            if m == "DELETE":
                self.clear_requests()
                return Response.json({"ok": True})
        if sub == "counters" and m == "GET":
            return Response.json(self.all_counters())
        if sub == "faults":
            if m == "POST":
                specs = body.get("faults") if isinstance(body, dict) and "faults" in body else body
                specs = specs if isinstance(specs, list) else [specs]
                return Response.json({"ids": [self.add_fault(s) for s in specs]})
            if m == "GET":
                with self._lock:
                    return Response.json({"faults": [f.to_json() for f in self._faults],
                                          "presets": sorted(self.presets())})
            if m == "DELETE":
                self.clear_faults()
                return Response.json({"ok": True})
        if sub == "latency":
            if m in ("POST", "PUT"):
                self.set_latency(float(body.get("latency_ms", 0)))
            return Response.json({"latency_ms": self.latency * 1000.0})
        if sub == "reset" and m == "POST":
            self.reset(state=bool(body.get("state", False)))
            return Response.json({"ok": True})
        if sub == "clock":
            if m in ("POST", "PUT"):
                if body.get("real"):
                    self.clock.real()
                if "freeze" in body:
                    self.clock.freeze(bool(body["freeze"]))
                if "set" in body:
                    self.clock.set(float(body["set"]))
                if "advance" in body:
                    self.clock.advance(float(body["advance"]))
            return Response.json(self.clock.to_json())
        return None


# ---- command line --------------------------------------------------------------------------

def cli_main(description: str, add_arguments, build, argv=None):
    """Shared CLI: `--port`, `--ready-file`, clock options, then fake-specific options.

    `add_arguments(parser)` adds options; `build(args, clock)` returns an unstarted fake.
    The ready file receives the base URL (one line) once the server listens; the process runs
    until SIGTERM/SIGINT.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    parser.add_argument("--ready-file", help="write the base URL here once listening")
    parser.add_argument("--ready-json", help="also write a JSON object with all URLs/info here")
    parser.add_argument("--clock-start", type=float, default=None, help="unix time the fake clock starts at")
    parser.add_argument("--frozen-clock", action="store_true", help="freeze the fake clock")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="latency added to every request")
    add_arguments(parser)
    args = parser.parse_args(argv)
    clock = Clock(args.clock_start, frozen=args.frozen_clock)
    fake = build(args, clock)
    fake.requested_port = args.port
    fake.latency = args.latency_ms / 1000.0
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    fake.start()
    try:
        if args.ready_json:
            info = {"name": fake.name, "base_url": fake.base_url, "pid": os.getpid()}
            info.update(fake.info())
            _atomic_write(args.ready_json, json.dumps(info, indent=2) + "\n")
        if args.ready_file:
            _atomic_write(args.ready_file, fake.base_url + "\n")
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


def _atomic_write(path: str, text: str):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)
