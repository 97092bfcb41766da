"""The security review's findings (issue [2/6]), each reproduced as an attacker on loopback would,
through nginx: written first against the service as it was (where each one failed), kept so none
comes back. Smaller single-request cases are rows of test_hostile_requests.py's table too.
"""

from __future__ import annotations

import json
import re
import os
import resource
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import JSON_CONTENT_TYPE, expect_error, expect_success
from qstash_world import PUBLIC_BASE_URL, QStashWorld, make_claims, sign_jwt
from tenant_helpers import bearer, register

SLOW_MS = 1500
OBTAIN = {"embedUrl": "https://example.com/embed", "code": "unknown-code", "instagramAppSecret": "app-secret",
          "instagramAppId": "1234567890"}


@pytest.fixture
def world(make_stack):
    started: list[QStashWorld] = []

    def make(responder_args=(), **kw) -> QStashWorld:
        started.append(QStashWorld(lambda env: make_stack(env, responder_args=responder_args), **kw))
        return started[-1]

    yield make
    for w in started:
        w.stop()


def signed_headers(w: QStashWorld, path: str, body: bytes, *, jti: str | None = None,
                   message_id: str | None = None) -> dict:
    claims = make_claims(PUBLIC_BASE_URL + path, body, int(time.time()), jti=jti)
    return {"Content-Type": "application/json", "Upstash-Signature": sign_jwt(claims, w.current_key),
            "Upstash-Message-Id": message_id or "msg_" + secrets.token_hex(12)}


# ---- 1. Unauthenticated traffic must not starve the outbound pool -----------------------------
def test_an_unsigned_flood_is_refused_at_once_and_a_signed_delivery_still_gets_through(world):
    # Before: the signature was checked on the outbound thread, so unsigned deliveries took the
    # queue's places and the signed one got 503. One thread, one queue place: the smallest pool.
    w = world(responder_args=("--outbound-workers", "1", "--outbound-queue", "1"))
    tenant = w.register(media_count=2)
    body = json.dumps({"tenantId": tenant.id}).encode()
    listings = w.media_listings()

    w.instagram.set_latency(SLOW_MS)
    with ThreadPoolExecutor(max_workers=24) as pool:
        # The one outbound thread waits on Instagram...
        slow = pool.submit(w.stack.post, "/auth/obtain-token", OBTAIN)
        time.sleep(0.4)
        # ...while a flood of unsigned and wrongly signed deliveries and wrong sync secrets arrives.
        junk = [pool.submit(w.stack.post, tenant.path, body, {"Content-Type": "application/json",
                                                               "Upstash-Message-Id": f"msg_junk_{n}"})
                for n in range(12)]
        junk += [pool.submit(w.stack.post, tenant.path, body, {
            "Content-Type": "application/json", "Upstash-Signature": sign_jwt(
                make_claims(PUBLIC_BASE_URL + tenant.path, body, int(time.time())), "sig_" + secrets.token_hex(16))})
            for _ in range(6)]
        junk += [pool.submit(w.stack.post, "/sync", {"secret": "x" * 32}) for _ in range(6)]
        refused = [future.result(timeout=30) for future in junk]
        w.instagram.set_latency(0)
        # The genuine delivery waits in the queue for the one thread, then syncs.
        signed = w.stack.post(tenant.path, body, signed_headers(w, tenant.path, body))
        slow.result(timeout=30)

    for response in refused:
        expect_error(response, 401, "UNAUTHORIZED")
    result = expect_success(signed)
    assert "duplicate" not in result["result"], result
    assert w.media_listings() > listings, "the signed delivery synced"


def test_a_large_sync_body_is_refused_before_it_is_parsed(make_stack):
    # Before: 1 MiB of [0,0,...] to /sync was parsed (15 MB, ~60 ms) before the secret was read.
    stack = make_stack()
    flood = b'{"secret":"x","pad":[' + b"0," * 400_000 + b"0]}"
    for path in ("/sync", "/sync/process/" + "a" * 32):
        response = stack.post(path, flood, {"Content-Type": "application/json"})
        expect_error(response, 413, "PAYLOAD_TOO_LARGE")


# ---- 3. Replays cannot sync again or poison another delivery's dedupe record -------------------
def test_a_captured_delivery_replayed_with_a_fresh_message_id_does_not_sync_again(world):
    w = world()
    tenant = w.register(media_count=2)
    body = json.dumps({"tenantId": tenant.id}).encode()
    captured = signed_headers(w, tenant.path, body)
    first = expect_success(w.stack.post(tenant.path, body, captured))
    assert "duplicate" not in first["result"], first
    listings = w.media_listings()

    replay = dict(captured, **{"Upstash-Message-Id": "msg_" + secrets.token_hex(12)})
    again = expect_success(w.stack.post(tenant.path, body, replay))
    assert again["result"] == {"duplicate": True}, again
    assert w.media_listings() == listings, "the replay made no Instagram call"


def test_a_replay_under_another_deliverys_id_does_not_make_that_delivery_a_duplicate(world):
    w = world()
    a, b = w.register(media_count=2), w.register(media_count=2)
    body_a, body_b = (json.dumps({"tenantId": t.id}).encode() for t in (a, b))
    captured = signed_headers(w, a.path, body_a)
    expect_success(w.stack.post(a.path, body_a, captured))

    # The attacker learns the id of B's next delivery and replays A's token under it first.
    b_message = "msg_" + secrets.token_hex(12)
    expect_success(w.stack.post(a.path, body_a, dict(captured, **{"Upstash-Message-Id": b_message})))
    fresh = w.new_post(b)
    genuine = expect_success(w.stack.post(b.path, body_b, signed_headers(w, b.path, body_b, message_id=b_message)))
    assert "duplicate" not in genuine["result"], genuine
    assert fresh in w.photo_ids(b)
    # And B's genuine delivery is deduplicated as before.
    again = expect_success(w.stack.post(b.path, body_b, signed_headers(w, b.path, body_b, message_id=b_message)))
    assert again["result"] == {"duplicate": True}, again


def test_a_token_without_jti_is_refused(world):
    w = world()
    tenant = w.register(media_count=1)
    body = json.dumps({"tenantId": tenant.id}).encode()
    claims = make_claims(PUBLIC_BASE_URL + tenant.path, body, int(time.time()))
    del claims["jti"]
    response = w.stack.post(tenant.path, body, {"Content-Type": "application/json",
                                                "Upstash-Signature": sign_jwt(claims, w.current_key)})
    expect_error(response, 401, "UNAUTHORIZED")


# ---- 4. A hostile store reply is a 503, never a crash ------------------------------------------
class HostileRedis:
    """Speaks RESP on loopback: +PONG/+OK until armed, then answers every command with `reply`."""

    def __init__(self):
        self.reply: bytes | None = None
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.running = True
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while self.running:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        with conn:
            buffered = b""
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buffered += data
                # One reply per complete command (arrays of bulk strings, as the responder sends).
                while (command := self._take_command(buffered)) is not None:
                    consumed, name = command
                    buffered = buffered[consumed:]
                    try:
                        conn.sendall(self.reply if self.reply is not None else
                                     (b"+PONG\r\n" if name == b"PING" else b"$-1\r\n"))
                    except OSError:
                        return

    @staticmethod
    def _take_command(data: bytes):
        if not data.startswith(b"*") or b"\r\n" not in data:
            return None
        head, rest = data.split(b"\r\n", 1)
        cursor, name = len(head) + 2, None
        for _ in range(int(head[1:])):
            line_end = data.find(b"\r\n", cursor)
            if line_end < 0:
                return None
            length = int(data[cursor + 1:line_end])
            start, end = line_end + 2, line_end + 2 + length
            if len(data) < end + 2:
                return None
            name = name or data[start:end].upper()
            cursor = end + 2
        return cursor, name

    def stop(self):
        self.running = False
        self.server.close()


@pytest.mark.parametrize("reply", [
    b"$9223372036854775806\r\n",   # traps on i + length + 2
    b"*999999999999999\r\n",       # a failed allocation in reserveCapacity
    b"$536870913\r\nx\r\n",        # over Redis's own 512 MB bulk limit
    b"$-7\r\n",
    b":12x\r\n",
    b"!unknown\r\n",
], ids=["bulk-overflow", "array-huge", "bulk-over-512mb", "bulk-negative", "integer-garbage", "unknown-type"])
def test_a_malformed_store_reply_is_a_503_and_the_responder_lives(make_stack, reply):
    hostile = HostileRedis()
    try:
        stack = make_stack({"REDIS_URL": f"redis://127.0.0.1:{hostile.port}"})
        hostile.reply = reply
        for _ in range(3):
            response = stack.get("/photos", headers=bearer("a" * 64))
            expect_error(response, 503, "SERVICE_UNAVAILABLE")
            assert response.header("Content-Type") == JSON_CONTENT_TYPE
        assert stack.responder.process.poll() is None, "the responder crashed"
        hostile.reply = None
        expect_success(stack.get("/health"))
    finally:
        hostile.stop()


def raise_core_limit() -> None:
    """Runs in the child before exec: core files allowed, as on a host with `ulimit -c unlimited`."""
    _, hard = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def test_the_responder_can_never_write_a_core_file(make_stack):
    stack = make_stack(responder_preexec=raise_core_limit)
    limits = open(f"/proc/{stack.responder.process.pid}/limits").read()
    core = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    assert core.split()[4:6] == ["0", "0"], core
    if os.geteuid() != 0:
        # A non-dumpable process's /proc files belong to root, so its own user cannot read them.
        assert os.stat(f"/proc/{stack.responder.process.pid}/environ").st_uid == 0


# ---- 5. Smaller ones ---------------------------------------------------------------------------
def test_a_name_of_a_few_characters_and_a_megabyte_of_combining_marks_is_refused(make_stack):
    stack = make_stack()
    name = "abc" + "\u0301" * 480_000  # 960 KB of UTF-8: within nginx's 1 MiB
    body = json.dumps({"name": name, "instagramAccountId": "178414", "instagramAccountSecret": "s",
                       "apiType": "INSTAGRAM_LOGIN"}, ensure_ascii=False).encode()
    assert len(body) < 1 << 20
    response = stack.post("/register", body, {"Content-Type": "application/json"})
    error = expect_error(response, 400, "VALIDATION_FAILED")
    assert "name must be at most 400 bytes" in error["errorMessage"], error
    assert stack.redis_cli("SCARD", "tenants") == "0"


@pytest.mark.parametrize("spelling", ["/sync/./process/{id}", "/sync//process/{id}"])
def test_the_pool_and_the_route_read_the_same_decoded_path(world, spelling):
    # Before: the pool came from nginx's DOCUMENT_URI (dot segments resolved, slashes merged), the
    # route from the request URI as sent. "/sync/./process/x" was handed to the outbound pool and
    # took a queue place, to be answered 404 there. Now it is a 404 at once on the accepting thread.
    w = world(responder_args=("--outbound-workers", "1", "--outbound-queue", "1"))
    tenant = w.register(media_count=1)
    path = spelling.format(id=tenant.id)
    w.instagram.set_latency(SLOW_MS)
    with ThreadPoolExecutor(max_workers=8) as pool:
        slow = pool.submit(w.stack.post, "/auth/obtain-token", OBTAIN)
        time.sleep(0.4)
        answered = list(pool.map(lambda _: w.stack.post(path, b"{}", {"Content-Type": "application/json"}), range(6)))
        w.instagram.set_latency(0)
        slow.result(timeout=30)
    for response in answered:
        expect_error(response, 404, "NOT_FOUND")


def test_no_documented_curl_command_puts_a_secret_in_its_arguments():
    """Every local user can read a process's arguments (ps): secrets go through -H @file,
    --data-binary @file or a printf (a shell builtin) in a process substitution."""
    from harness import REPO
    secrets_vars = ("REGISTRATION_SECRET", "SYNC_INTERNAL_SECRET", "QSTASH_TOKEN", "ENCRYPTION_KEY",
                    "CLOUDINARY_API_SECRET", "UPSTASH_REDIS_REST_TOKEN", "AUTH_TOKEN")
    offending = []
    for path in (REPO / "README.md", REPO / "scripts" / "run-local"):
        text = path.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            if "curl " not in line:
                continue
            outside = re.sub(r"<\(printf [^)]*\)", "", line)
            if any(f"${name}" in outside or f"${{{name}}}" in outside for name in secrets_vars):
                offending.append(f"{path.name}: {line.strip()}")
    assert offending == []


# ---- 2. Closed registration by default -----------------------------------------------------------
def serve_once(binary, tmp_path, env, *args):
    import subprocess
    socket_path = tmp_path / "fcgi.sock"
    result = subprocess.run([str(binary), "serve", "--socket", str(socket_path), *args], env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert not socket_path.exists(), "a refused configuration must not listen"
    return result


def base_env(**extra):
    import base64
    env = {"ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
           "SYNC_INTERNAL_SECRET": secrets.token_hex(16), "REDIS_URL": "redis://127.0.0.1:9"}
    env.update({name: value for name, value in extra.items() if value is not None})
    return env


@pytest.mark.parametrize("secret", [None, "x", "fifteen-chars-x"], ids=["unset", "one-char", "15-chars"])
def test_without_a_registration_secret_of_16_characters_the_responder_refuses_to_start(igmedia_bin, tmp_path, secret):
    result = serve_once(igmedia_bin, tmp_path, base_env(REGISTRATION_SECRET=secret))
    assert result.returncode == 78, result
    assert "REGISTRATION_SECRET" in result.stderr, result.stderr
    if secret:
        assert secret not in result.stderr


def test_open_registration_must_be_chosen_and_is_warned_about(make_stack):
    stack = make_stack({"REGISTRATION_SECRET": None, "REGISTRATION_OPEN": "1"})
    assert "POST /register is open" in stack.responder_log()
    expect_success(stack.post("/register", {"name": "open", "instagramAccountId": "178",
                                            "instagramAccountSecret": "s", "apiType": "INSTAGRAM_LOGIN"}), 201)


def test_with_a_secret_registration_needs_it_even_with_registration_open(make_stack):
    secret = "registration-" + secrets.token_hex(8)
    stack = make_stack({"REGISTRATION_SECRET": secret, "REGISTRATION_OPEN": "1"})
    body = {"name": "closed", "instagramAccountId": "178", "instagramAccountSecret": "s", "apiType": "INSTAGRAM_LOGIN"}
    expect_error(stack.post("/register", body), 401, "UNAUTHORIZED")
    expect_success(stack.post("/register", body, bearer(secret)), 201)


# ---- 5. Clear-text upstreams and the TCP listener ------------------------------------------------
@pytest.mark.parametrize("name", ["UPSTASH_REDIS_REST_URL", "QSTASH_URL", "CLOUDINARY_API_URL", "INSTAGRAM_GRAPH_URL"])
def test_an_http_base_url_to_a_remote_host_is_refused(igmedia_bin, tmp_path, name):
    extra = {name: "http://upstream.example.test", "REGISTRATION_OPEN": "1"}
    if name == "UPSTASH_REDIS_REST_URL":
        extra.update(REDIS_URL=None, UPSTASH_REDIS_REST_TOKEN="upstash-token-" + secrets.token_hex(8))
    env = base_env(**extra)
    if name == "UPSTASH_REDIS_REST_URL":
        env.pop("REDIS_URL")
    result = serve_once(igmedia_bin, tmp_path, env)
    assert result.returncode == 78, result
    assert f"{name} uses http://" in result.stderr, result.stderr
    # With the explicit opt-in the same configuration gets past the check (and fails only later,
    # on the unreachable store or not at all).
    allowed = serve_once(igmedia_bin, tmp_path, dict(env, ALLOW_INSECURE_UPSTREAM="1"), "--max-workers", "0")
    assert f"{name} uses http://" not in allowed.stderr, allowed.stderr


def test_without_a_socket_or_port_the_responder_refuses_to_listen(igmedia_bin, tmp_path):
    import subprocess
    result = subprocess.run([str(igmedia_bin), "serve"], env=base_env(REGISTRATION_OPEN="1"),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert result.returncode == 78, result
    assert "nothing to listen on" in result.stderr, result.stderr


def test_a_tcp_listener_warns_and_honours_fcgi_web_server_addrs(igmedia_bin, tmp_path):
    """libfcgi closes, unanswered, a TCP connection from an address FCGI_WEB_SERVER_ADDRS does not
    list; a non-loopback --bind without the list is refused at startup."""
    import subprocess
    from fcgi_client import cgi_params, request
    from harness import RedisServer, free_port, wait_until
    redis = RedisServer(tmp_path).start()
    try:
        for allowed, answered in (("127.0.0.1", True), ("127.0.0.2", False)):
            port = free_port()
            log_path = tmp_path / f"responder-{allowed}.log"
            env = base_env(REDIS_URL=redis.url, REGISTRATION_OPEN="1", FCGI_WEB_SERVER_ADDRS=allowed)
            with open(log_path, "w") as log:
                process = subprocess.Popen([str(igmedia_bin), "serve", "--bind", f"127.0.0.1:{port}"], env=env,
                                           stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            try:
                def listening():
                    try:
                        socket.create_connection(("127.0.0.1", port), timeout=1).close()
                        return True
                    except OSError:
                        return False
                wait_until(listening, timeout=15, what="the TCP listener")
                if answered:
                    status, _, body = request(("127.0.0.1", port), cgi_params("GET", "/health"))
                    assert status == 200 and b'"ok"' in body, (status, body)
                else:
                    with pytest.raises(ConnectionError):
                        request(("127.0.0.1", port), cgi_params("GET", "/health"), timeout=5)
                assert process.poll() is None, "refusing a client must not stop the responder"
                assert "every local user can send FastCGI requests" in log_path.read_text()
            finally:
                process.terminate()
                process.wait(timeout=15)
        env = base_env(REDIS_URL=redis.url, REGISTRATION_OPEN="1")
        refused = subprocess.run([str(igmedia_bin), "serve", "--bind", "10.0.0.1:9"], env=env,
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        assert refused.returncode == 78 and "needs FCGI_WEB_SERVER_ADDRS" in refused.stderr, refused
    finally:
        redis.stop()
