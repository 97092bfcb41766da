"""Upstash Redis REST fake backed by a REAL redis-server (reference sections 1 and 5.1).

    fake = FakeUpstash(redis_host="127.0.0.1", redis_port=6390, token="t0k")
    fake.start(); fake.base_url; fake.stop()

CLI: python3 -m Tests.fakes.upstash --port 0 --ready-file F (--redis-port N | --spawn-redis) [--token T]
"""

from __future__ import annotations

import base64
import json
import os
import threading
import urllib.parse

from .base import FakeServer, cli_main
from .httpcore import Request, Response, is_loopback_host
from .redis_server import RedisServer
from .resp import RespError, RespPool, SimpleString

WRONGPASS = "WRONGPASS invalid or missing auth token"
ALLOWED_METHODS = {"HEAD", "GET", "POST", "PUT"}

# Commands Upstash does not serve over REST (transactions are /multi-exec, no blocking, no
# connection-state commands). The last group would also break the fake's pooled connections.
UNSUPPORTED = {
    "multi", "exec", "discard", "watch", "unwatch",
    "blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop",
    "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe",
    "monitor", "sync", "psync", "wait", "waitaof",
    "hello", "auth", "select", "quit", "reset", "client", "shutdown", "debug", "replicaof",
    "slaveof", "failover", "config", "acl", "module", "save", "bgsave", "bgrewriteaof",
}
SCAN_COMMANDS = {"scan": 2, "sscan": 3, "hscan": 3, "zscan": 3}  # index where options start


class RawNumber(str):
    """A JSON number kept as its literal text (the REST API passes numbers through as text)."""


class CommandError(Exception):
    pass


def _parse_command(value) -> list[bytes]:
    if not isinstance(value, list) or not value:
        raise CommandError("ERR failed to parse command")
    args = []
    for i, item in enumerate(value):
        if not isinstance(item, str):  # RawNumber is a str subclass
            raise CommandError("ERR failed to parse command")
        if i == 0 and isinstance(item, RawNumber):
            raise CommandError("ERR failed to parse command")
        args.append(item.encode("utf-8"))
    return args


def _reject_constant(name):
    raise ValueError("NaN/Infinity are not valid arguments")


def _loads(body: bytes):
    return json.loads(body.decode("utf-8"), parse_int=RawNumber, parse_float=RawNumber,
                      parse_constant=_reject_constant)


def to_json(value, b64: bool):
    """RESP reply -> JSON value (section 1.5 encoding rules)."""
    if isinstance(value, SimpleString):
        if b64 and value != b"OK":
            return base64.b64encode(value).decode("ascii")
        return value.decode("utf-8", "replace")
    if isinstance(value, bytes):
        if b64:
            return base64.b64encode(value).decode("ascii")
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [to_json(v, b64) for v in value]
    if isinstance(value, RespError):
        return value.message
    return value  # int or None


class FakeUpstash(FakeServer):
    name = "upstash"

    def __init__(self, redis_host: str = "127.0.0.1", redis_port: int | None = None, token: str = "test-token",
                 readonly_token: str | None = None, max_request_bytes: int = 10 * 1024 * 1024,
                 scan_max_count: int | None = None, spawn_redis: bool = False, **kw):
        super().__init__(**kw)
        if not is_loopback_host(redis_host):
            raise ValueError("redis_host must be a loopback address")
        if redis_port is None and not spawn_redis:
            raise ValueError("give redis_port or spawn_redis=True")
        self.redis_host = redis_host
        self.redis_port = redis_port
        self.token = token
        self.readonly_token = readonly_token
        self.max_request_bytes = max_request_bytes
        self.scan_max_count = scan_max_count
        self._spawn = spawn_redis
        self._redis_proc: RedisServer | None = None
        self.pool: RespPool | None = None
        self._cmd_info: dict[str, list | None] = {}
        self._counts_lock = threading.Lock()
        self._counts = {"commands": {}, "single": 0, "pipeline": 0, "multi_exec": 0}

    # ---- lifecycle ------------------------------------------------------------------------
    def on_start(self):
        if self._spawn and self._redis_proc is None:
            self._redis_proc = RedisServer(host=self.redis_host).start()
            self.redis_port = self._redis_proc.port
        self.pool = RespPool(self.redis_host, self.redis_port)

    def on_stop(self):
        if self.pool:
            self.pool.close()
        if self._redis_proc:
            self._redis_proc.stop()
            self._redis_proc = None

    def info(self):
        return {"redis": "%s:%d" % (self.redis_host, self.redis_port or 0),
                "readonly_token": self.readonly_token is not None, "scan_max_count": self.scan_max_count}

    def counters(self):
        with self._counts_lock:
            return json.loads(json.dumps(self._counts))

    def reset_state(self):
        self.pool.run(lambda c: c.execute("FLUSHALL"))
        with self._counts_lock:
            self._counts = {"commands": {}, "single": 0, "pipeline": 0, "multi_exec": 0}

    def presets(self):
        def err(msg, status=400):
            return lambda p: {"status": p.get("status", status), "body": {"error": msg}}
        return {
            "daily_limit": err("ERR max daily request limit exceeded"),
            "max_requests": err("ERR max requests limit exceeded"),
            "request_size": err("ERR max request size exceeded"),
            "record_size": err("ERR max single record size exceeded"),
            "unauthorized": err(WRONGPASS, 401),
            "html": lambda p: {"action": "html", "status": p.get("status", 502)},
        }

    def route_of(self, req):
        return req.path if req.path in ("/", "/pipeline", "/multi-exec") else "/<command-path>"

    # ---- command plumbing -----------------------------------------------------------------
    def _command_flags(self, name: str):
        if name not in self._cmd_info:
            reply = self.pool.run(lambda c: c.execute("COMMAND", "INFO", name))
            entry = reply[0] if isinstance(reply, list) and reply else None
            self._cmd_info[name] = [bytes(f).decode().lower() for f in entry[2]] if entry else None
        return self._cmd_info[name]

    def _check(self, args: list[bytes], readonly: bool):
        """None if the command may run, else the error text."""
        shown = args[0].decode("utf-8", "replace")
        name = shown.lower()
        if name in UNSUPPORTED:
            return "ERR unsupported command '%s'" % shown
        if name in ("xread", "xreadgroup") and any(a.lower() == b"block" for a in args[1:]):
            return "ERR unsupported command '%s' (blocking)" % shown
        flags = self._command_flags(name)
        if flags is None:
            return "ERR unknown command '%s'" % shown
        if readonly and ("write" in flags or name in ("scan", "keys")):
            return "NOPERM this user has no permissions to run the '%s' command" % shown
        return None

    def _rewrite(self, args: list[bytes]) -> list[bytes]:
        name = args[0].decode("utf-8", "replace").lower()
        if self.scan_max_count is None or name not in SCAN_COMMANDS:
            return args
        start = SCAN_COMMANDS[name]
        out, i, seen = list(args[:start]), start, False
        while i < len(args):
            if args[i].lower() == b"count" and i + 1 < len(args):
                try:
                    n = min(int(args[i + 1]), self.scan_max_count)
                except ValueError:
                    n = args[i + 1]
                out += [b"COUNT", str(n).encode() if isinstance(n, int) else n]
                seen = True
                i += 2
            else:
                out.append(args[i])
                i += 1
        if not seen:
            out += [b"COUNT", str(self.scan_max_count).encode()]
        return out

    def _count(self, kind: str, commands):
        with self._counts_lock:
            self._counts[kind] += 1
            for c in commands:
                n = c[0].decode("utf-8", "replace").upper()
                self._counts["commands"][n] = self._counts["commands"].get(n, 0) + 1

    # ---- HTTP -------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.method not in ALLOWED_METHODS:
            return Response.json({"error": "method not allowed"}, 405, headers=[("Allow", "HEAD, GET, POST, PUT")])
        token = req.bearer() or req.q("_token")
        readonly = False
        if token is None or token not in (self.token, self.readonly_token):
            return Response.json({"error": WRONGPASS}, 401)
        if token != self.token:
            readonly = True
        if len(req.body) > self.max_request_bytes:
            return Response.json({"error": "ERR max request size exceeded"}, 400)
        b64 = (req.header("Upstash-Encoding") or "").strip().lower() == "base64"
        if req.path == "/pipeline":
            return self._pipeline(req, readonly, b64)
        if req.path == "/multi-exec":
            return self._multi_exec(req, readonly, b64)
        try:
            args = self._args_single(req)
        except (CommandError, ValueError, UnicodeDecodeError) as exc:
            msg = str(exc) if isinstance(exc, CommandError) else "ERR failed to parse command"
            return Response.json({"error": msg}, 400)
        problem = self._check(args, readonly)
        if problem:
            return Response.json({"error": problem}, 400)
        self._count("single", [args])
        reply = self.pool.run(lambda c: c.execute(*self._rewrite(args)))
        if isinstance(reply, RespError):
            return Response.json({"error": reply.message}, 400)
        return Response.json({"result": to_json(reply, b64)})

    def _args_single(self, req: Request) -> list[bytes]:
        if req.path == "/":
            if not req.body.strip():
                raise CommandError("ERR failed to parse command")
            return _parse_command(_loads(req.body))
        # URL form: /set/foo/bar?EX=100, POST body = last argument (section 1.2)
        segs = req.path.lstrip("/").split("/")
        while segs and segs[-1] == "":
            segs.pop()
        args = [urllib.parse.unquote_to_bytes(s) for s in segs]
        if req.method in ("POST", "PUT") and req.body:
            args.append(req.body)
        for k, vals in req.query.items():
            if k == "_token":
                continue
            for v in vals:
                args.append(k.encode("utf-8"))
                if v != "":
                    args.append(v.encode("utf-8"))
        if not args or not args[0]:
            raise CommandError("ERR failed to parse command")
        return args

    def _batch(self, req: Request):
        if req.method not in ("POST", "PUT"):
            raise CommandError("ERR failed to parse command")
        value = _loads(req.body)
        if not isinstance(value, list) or not value:
            raise CommandError("ERR failed to parse pipeline request")
        return [_parse_command(v) for v in value]

    def _pipeline(self, req, readonly, b64):
        try:
            commands = self._batch(req)
        except (CommandError, ValueError, UnicodeDecodeError) as exc:
            msg = str(exc) if isinstance(exc, CommandError) else "ERR failed to parse pipeline request"
            return Response.json({"error": msg}, 400)
        self._count("pipeline", commands)
        items: list = [None] * len(commands)
        runnable = []
        for i, args in enumerate(commands):
            problem = self._check(args, readonly)
            if problem:
                items[i] = {"error": problem}
            else:
                runnable.append(i)
        replies = self.pool.run(lambda c: c.execute_many([self._rewrite(commands[i]) for i in runnable]))
        for i, reply in zip(runnable, replies):
            items[i] = {"error": reply.message} if isinstance(reply, RespError) else {"result": to_json(reply, b64)}
        return Response.json(items)

    def _multi_exec(self, req, readonly, b64):
        try:
            commands = self._batch(req)
        except (CommandError, ValueError, UnicodeDecodeError) as exc:
            msg = str(exc) if isinstance(exc, CommandError) else "ERR failed to parse multi-exec request"
            return Response.json({"error": msg}, 400)
        for args in commands:
            problem = self._check(args, readonly)
            if problem:
                return Response.json({"error": problem}, 400)
        self._count("multi_exec", commands)
        wire = [[b"MULTI"]] + [self._rewrite(a) for a in commands] + [[b"EXEC"]]
        replies = self.pool.run(lambda c: c.execute_many(wire))
        queued, exec_reply = replies[1:-1], replies[-1]
        for r in queued:
            if isinstance(r, RespError):
                return Response.json({"error": r.message}, 400)
        if isinstance(exec_reply, RespError) or exec_reply is None:
            msg = exec_reply.message if isinstance(exec_reply, RespError) else "ERR transaction aborted"
            return Response.json({"error": msg}, 400)
        return Response.json([{"error": r.message} if isinstance(r, RespError) else {"result": to_json(r, b64)}
                              for r in exec_reply])


def main(argv=None):
    def add(p):
        p.add_argument("--redis-host", default="127.0.0.1")
        p.add_argument("--redis-port", type=int, default=None)
        p.add_argument("--redis-url", default=None, help="redis://127.0.0.1:PORT (alternative to host/port)")
        p.add_argument("--spawn-redis", action="store_true", help="start a private redis-server (stopped on exit)")
        p.add_argument("--token", default=os.environ.get("UPSTASH_FAKE_TOKEN", "test-token"),
                       help="REST token (default: $UPSTASH_FAKE_TOKEN or 'test-token')")
        p.add_argument("--readonly-token", default=os.environ.get("UPSTASH_FAKE_READONLY_TOKEN"))
        p.add_argument("--scan-max-count", type=int, default=None, help="clamp SCAN COUNT (exercises paging)")
        p.add_argument("--max-request-bytes", type=int, default=10 * 1024 * 1024)

    def build(a, clock):
        host, port = a.redis_host, a.redis_port
        if a.redis_url:
            u = urllib.parse.urlsplit(a.redis_url)
            host, port = u.hostname, u.port or 6379
        return FakeUpstash(redis_host=host, redis_port=port, token=a.token, readonly_token=a.readonly_token,
                           max_request_bytes=a.max_request_bytes, scan_max_count=a.scan_max_count,
                           spawn_redis=a.spawn_redis, clock=clock)

    return cli_main("Upstash Redis REST fake (backed by redis-server)", add, build, argv)


if __name__ == "__main__":
    raise SystemExit(main())
