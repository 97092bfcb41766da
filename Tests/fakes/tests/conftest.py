"""Fixtures: every test gets its own redis-server (free loopback port, tmp dir) and its own fakes."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from Tests.fakes.cloudinary import FakeCloudinary
from Tests.fakes.instagram import FakeInstagram
from Tests.fakes.qstash import FakeQStash
from Tests.fakes.redis_server import RedisServer
from Tests.fakes.upstash import FakeUpstash

UPSTASH_TOKEN = "upstash-test-token"
UPSTASH_RO_TOKEN = "upstash-readonly-token"


@pytest.fixture
def redis_server(tmp_path):
    rs = RedisServer(directory=str(tmp_path / "redis"))
    (tmp_path / "redis").mkdir()
    rs.start()
    yield rs
    rs.stop()


@pytest.fixture
def upstash(redis_server):
    fake = FakeUpstash(redis_host=redis_server.host, redis_port=redis_server.port, token=UPSTASH_TOKEN,
                       readonly_token=UPSTASH_RO_TOKEN)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def instagram():
    fake = FakeInstagram(ig_app_id="ig-app-1", ig_app_secret="ig-secret-1", fb_app_id="fb-app-1",
                         fb_app_secret="fb-secret-1")
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def cloudinary_fake():
    fake = FakeCloudinary(cloud_name="testcloud", api_key="111222333444555", api_secret="abcd", delete_page_size=2)
    fake.start()
    yield fake
    fake.stop()


class Target:
    """A tiny loopback HTTP target that records requests and answers from a script."""

    def __init__(self):
        self.received = []
        self.script = []  # (status, headers[, delay_s]) popped per request; default (200, {})
        self.lock = threading.Lock()
        target = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with target.lock:
                    target.received.append({"method": self.command, "path": self.path,
                                            "headers": dict(self.headers.items()), "body": body})
                    step = target.script.pop(0) if target.script else (200, {})
                status, headers = step[0], step[1]
                if len(step) > 2:
                    time.sleep(step[2])  # (status, headers, delay_seconds): slow target
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def target():
    t = Target()
    yield t
    t.stop()


@pytest.fixture
def qstash_fake(target):
    fake = FakeQStash(token="qstash-token", current_signing_key="sig_current_test_key",
                      next_signing_key="sig_next_test_key", deliver_to=target.url, retry_delay=0.05)
    fake.start()
    yield fake
    fake.stop()
