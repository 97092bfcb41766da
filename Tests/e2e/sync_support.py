"""Shared pieces of the sync end-to-end tests: the Instagram and Cloudinary fakes (in-process, on
free loopback ports), a private stack wired to them, and small helpers.

    def test_x(world):                                  # stack + both fakes, nothing seeded
        account, token = world.account(media_count=50)
        data = world.register(token)
        photos = world.photos(data["authToken"])
        run = world.sync_cli("--tenant", data["tenantId"])

    @pytest.mark.stack_env(INSTAGRAM_API_TIMEOUT_MS="500")   # extra responder variables
    def test_y(world): ...

The `sync` CLI runs as a subprocess with exactly the responder's environment (same ENCRYPTION_KEY,
REDIS_URL and fake URLs), so it sees the tenants the HTTP API wrote.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import REPO, Stack, expect_success

if str(REPO) not in sys.path:  # `Tests.fakes` is imported as a package from the repository root
    sys.path.insert(0, str(REPO))

from Tests.fakes.cloudinary import FakeCloudinary  # noqa: E402
from Tests.fakes.instagram import FakeInstagram  # noqa: E402

IG_APP_ID = "1234567890123456"
IG_APP_SECRET = "ig-e2e-app-secret-" + secrets.token_hex(8)
FB_APP_ID = "6543210987654321"
FB_APP_SECRET = "fb-e2e-app-secret-" + secrets.token_hex(8)
CLOUD_NAME = "e2e-cloud"
CLOUD_API_KEY = "987654321098765"
CLOUD_API_SECRET = "cld-e2e-secret-" + secrets.token_hex(8)
MEDIA_TAG = "instagram-media"
LOCK_MESSAGE = "another sync of this tenant is running"


@pytest.fixture
def instagram():
    fake = FakeInstagram(ig_app_id=IG_APP_ID, ig_app_secret=IG_APP_SECRET, fb_app_id=FB_APP_ID,
                         fb_app_secret=FB_APP_SECRET)
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def cloudinary():
    # Its own clock: advancing Instagram's clock (token ages) must not make uploads "stale".
    fake = FakeCloudinary(cloud_name=CLOUD_NAME, api_key=CLOUD_API_KEY, api_secret=CLOUD_API_SECRET)
    fake.start()
    yield fake
    fake.stop()


def sync_env(instagram: FakeInstagram, cloudinary: FakeCloudinary, extra: dict | None = None) -> dict:
    env = {
        "INSTAGRAM_API_URL": instagram.api_url,
        "INSTAGRAM_GRAPH_URL": instagram.graph_url,
        "FACEBOOK_GRAPH_URL": instagram.facebook_url,
        "CLOUDINARY_CLOUD_NAME": CLOUD_NAME,
        "CLOUDINARY_API_KEY": CLOUD_API_KEY,
        "CLOUDINARY_API_SECRET": CLOUD_API_SECRET,
        "CLOUDINARY_API_URL": cloudinary.base_url,
    }
    env.update(extra or {})
    return env


class SyncWorld:
    """One private stack wired to the two fakes, plus the operations the sync tests repeat."""

    def __init__(self, stack: Stack, instagram: FakeInstagram, cloudinary: FakeCloudinary, binary: Path,
                 workdir: Path):
        self.stack = stack
        self.instagram = instagram
        self.cloudinary = cloudinary
        self.binary = binary
        self.workdir = workdir
        self.tokens: list[str] = []
        self.account_secret = "acct-secret-" + secrets.token_hex(8)

    # ---- configuration ------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        return dict(self.stack.responder.env)

    @property
    def sync_secret(self) -> str:
        return self.env["SYNC_INTERNAL_SECRET"]

    def secrets(self) -> list[str]:
        """Every value that must never appear in a response, a log line or CLI output."""
        env = self.env
        values = [env["ENCRYPTION_KEY"], env["SYNC_INTERNAL_SECRET"], CLOUD_API_SECRET, IG_APP_SECRET,
                  FB_APP_SECRET, self.account_secret]
        with self.instagram._state_lock:
            values += list(self.instagram.tokens)  # every token the fake ever minted
        return values

    def assert_no_secret(self, text: str | bytes, where: str) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        for value in self.secrets():
            assert value not in text, f"a secret or token ({value[:6]}…) leaked into {where}"

    # ---- Instagram side -----------------------------------------------------------------------
    def account(self, media_count: int = 50, **kw) -> tuple[dict, str]:
        """A seeded Instagram account and a fresh long-lived token for it."""
        account = self.instagram.create_account(media_count=media_count, **kw)
        token = self.instagram.mint_token(account["ig_user_id"], kind="long")
        self.tokens.append(token)
        return account, token

    def visible_media(self, ig_user_id: str) -> list:
        with self.instagram._state_lock:
            return list(self.instagram.accounts[ig_user_id].visible_media())

    def expected_assets(self, ig_user_id: str, tenant_id: str, limit: int = 50) -> set[tuple[str, str]]:
        """(resource_type, public_id) of every asset the mirror should hold for the account."""
        wanted = set()

        def add(media):
            public_id = f"instagram-media/{tenant_id}/{media.id}"
            if media.media_type == "VIDEO":
                wanted.add(("image", public_id))  # the poster
                if not media.omit_media_url:
                    wanted.add(("video", public_id))
            elif not media.omit_media_url:
                wanted.add(("image", public_id))

        for media in self.visible_media(ig_user_id)[:limit]:
            children = [child for child in media.children if not child.deleted]
            # An album's cover is its mirrored first child (image, or a video's poster): no
            # asset of its own, unless it has no children to take one from.
            if media.media_type != "CAROUSEL_ALBUM" or not children:
                add(media)
            for child in children:
                add(child)
        return wanted

    # ---- Cloudinary side ----------------------------------------------------------------------
    def assets_of(self, tenant_id: str) -> dict[tuple[str, str], dict]:
        return {(a["resource_type"], a["public_id"]): a for a in self.cloudinary.list_assets(tag=tenant_id)}

    def cloud_counters(self) -> dict:
        return self.cloudinary.all_counters()

    # ---- HTTP API -----------------------------------------------------------------------------
    def register(self, token: str | None, *, name: str | None = None, account_id: str = "17841400000000001",
                 api_type: str = "INSTAGRAM_LOGIN", app_id: str | None = None, account_secret: str | None = None,
                 status: int = 201) -> dict:
        body = {
            "name": name or "tenant-" + secrets.token_hex(4), "instagramAccountId": account_id,
            "instagramAccountSecret": account_secret or self.account_secret, "apiType": api_type,
        }
        if token is not None:
            body["instagramAccessToken"] = token
        if app_id is not None:
            body["instagramAppId"] = app_id
        response = self.stack.post("/register", body)
        self.assert_no_secret(response.body, "the /register response")
        return expect_success(response, status)

    def photos_response(self, auth_token: str):
        return self.stack.get("/photos", headers={"Authorization": f"Bearer {auth_token}"})

    def photos(self, auth_token: str) -> list[dict]:
        return expect_success(self.photos_response(auth_token))["photos"]

    def sync_http(self):
        """POST /sync with the secret (QStash not configured: the direct mode)."""
        return self.stack.post("/sync", {"secret": self.sync_secret})

    def tenant_hash(self, tenant_id: str) -> dict[str, str]:
        # redis-cli prints one field or value per line (raw mode: stdout is not a terminal).
        values = self.stack.redis_cli("HGETALL", f"tenant:{tenant_id}").split("\n")
        return dict(zip(values[0::2], values[1::2])) if values != [""] else {}

    # ---- the `igmedia-fcgi sync` CLI ----------------------------------------------------------
    def _argv(self, args) -> list[str]:
        return [str(self.binary), "sync", *args]

    def sync_cli(self, *args: str, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
        """Runs `igmedia-fcgi sync ARGS` with the responder's environment (plus `env` overrides)."""
        run = subprocess.run(self._argv(args), env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=timeout, cwd=self.workdir)
        self.assert_no_secret(run.stdout, "sync stdout")
        self.assert_no_secret(run.stderr, "sync stderr")
        return run

    def start_sync_cli(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self._argv(args), env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd=self.workdir)

    def timed_sync_cli(self, *args: str) -> tuple[float, subprocess.CompletedProcess]:
        started = time.monotonic()
        run = self.sync_cli(*args)
        return time.monotonic() - started, run


@pytest.fixture
def world(make_stack, instagram, cloudinary, igmedia_bin, tmp_path, request) -> SyncWorld:
    marker = request.node.get_closest_marker("stack_env")
    stack = make_stack(sync_env(instagram, cloudinary, dict(marker.kwargs) if marker else None))
    world = SyncWorld(stack, instagram, cloudinary, igmedia_bin, tmp_path)
    yield world
    world.assert_no_secret(stack.responder_log(), "the responder log")
    world.assert_no_secret(stack.access_log(), "nginx's access log")


def ok_line(stdout: str, tenant_id: str) -> dict[str, str]:
    """The CLI's `ok     <id> photos=50 uploaded=… …` line as a dict of its key=value fields."""
    for line in stdout.splitlines():
        if line.startswith("ok ") and tenant_id in line:
            return dict(part.split("=", 1) for part in line.split() if "=" in part)
    raise AssertionError(f"no ok line for {tenant_id} in:\n{stdout}")


def results_by_tenant(summary: dict) -> dict[str, dict]:
    return {entry["tenantId"]: entry for entry in summary.get("results", [])}
