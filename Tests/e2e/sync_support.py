"""Shared pieces of the sync end-to-end tests: the Instagram and Cloudinary fakes (in-process, on
free loopback ports), a private stack wired to them, and small helpers.

    def test_x(world):                                  # stack + both fakes, nothing seeded
        account, token = world.account(media_count=50)
        data = world.register(token)
        photos = world.photos(data["authToken"])
        run = world.sync_cli("--tenant", data["tenantId"])   # prints its ok/FAILED line
        accepted, run = world.sync_http_and_wait()         # POST /sync (202) + GET /sync/runs/<id>

    @pytest.mark.stack_env(INSTAGRAM_API_TIMEOUT_MS="500")   # extra responder variables
    def test_y(world): ...

The `sync` CLI runs as a subprocess with exactly the responder's environment (same ENCRYPTION_KEY,
REDIS_URL and fake URLs), so it sees the tenants the HTTP API wrote. `sync --all` prints one
`ok` line per tenant only with `--verbose`: `sync_cli` adds it whenever `--all` is given.

POST /sync without QStash answers 202 at once with a sync run's id; the run goes on inside the
responder and `GET /sync/runs/<id>` (Bearer: SYNC_INTERNAL_SECRET) shows its counters
(`wait_for_run` polls it until the run is done).
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import REPO, Response, Stack, expect_success

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
RUN_ID = re.compile(r"r\d{13}-[0-9a-f]{12}")
# What GET /sync/runs/<id> answers (inside the success envelope).
RUN_FIELDS = {"runId", "state", "trigger", "startedAt", "finishedAt", "queued", "synced", "failed", "deferred",
              "skipped", "remaining", "tenantIndexRead", "recentErrors"}


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

    def mirrored_entries(self, tenant_id: str) -> set[str]:
        """The stored asset map `instagram:<tenant>:assets` as `kind:public_id`, whichever spelling
        the store holds: the packed string (lines `{k}/{rest}\t{value}` or `{k}:{publicId}\t…`, `k`
        the kind's initial, `~{k}\t{prefix}` lines for URL prefixes) or an older hash (fields
        `kind:/rest` or `kind:publicId`, `~…` prefix fields)."""
        key = f"instagram:{tenant_id}:assets"
        folder = f"instagram-media/{tenant_id}/"
        kind_type = self.stack.redis_cli("TYPE", key)
        entries = set()
        if kind_type == "string":
            kinds = {"i": "image", "v": "video"}
            for line in self.stack.redis_cli("GET", key).split("\n"):
                head = line.split("\t", 1)[0]
                if not head or head.startswith("~"):
                    continue
                kind, rest = kinds.get(head[0], head[0]), head[1:]
                entries.add(f"{kind}:{folder}{rest[1:]}" if rest.startswith("/") else f"{kind}:{rest[1:]}")
        elif kind_type == "hash":
            for field in [f for f in self.stack.redis_cli("HKEYS", key).split("\n") if f]:
                if field.startswith("~"):
                    continue
                kind, _, public_id = field.partition(":")
                entries.add(f"{kind}:{folder}{public_id[1:]}" if public_id.startswith("/") else field)
        else:
            assert kind_type == "none", f"{key} is a {kind_type}"
        return entries

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

    def sync_http(self) -> Response:
        """POST /sync with the secret (QStash not configured: 202 and a sync run in the background)."""
        return self.stack.post("/sync", {"secret": self.sync_secret})

    def sync_http_and_wait(self, timeout: float = 30) -> tuple[dict, dict]:
        """POST /sync, checks the 202, and waits for its run: (the 202's data, the finished run)."""
        response = self.sync_http()
        self.assert_no_secret(response.body, "the /sync response")
        accepted = expect_accepted_run(response)
        run = wait_for_run(self.stack, self.sync_secret, accepted["runId"], timeout=timeout)
        self.assert_no_secret(json_text(run), "GET /sync/runs/<id>")
        return accepted, run

    def run_status(self, run_id: str, bearer: str | None = "") -> Response:
        """GET /sync/runs/<id>, with the sync secret unless `bearer` says otherwise (None: no header)."""
        return run_status(self.stack, self.sync_secret if bearer == "" else bearer, run_id)

    def tenant_hash(self, tenant_id: str) -> dict[str, str]:
        # redis-cli prints one field or value per line (raw mode: stdout is not a terminal).
        values = self.stack.redis_cli("HGETALL", f"tenant:{tenant_id}").split("\n")
        return dict(zip(values[0::2], values[1::2])) if values != [""] else {}

    # ---- the `igmedia-fcgi sync` CLI ----------------------------------------------------------
    def _argv(self, args, verbose: bool = True) -> list[str]:
        args = list(args)
        if verbose and "--all" in args and "--verbose" not in args:
            args.append("--verbose")  # `sync --all` prints its per-tenant ok lines only then
        return [str(self.binary), "sync", *args]

    def sync_cli(self, *args: str, timeout: float = 60, env: dict | None = None,
                 verbose: bool = True) -> subprocess.CompletedProcess:
        """Runs `igmedia-fcgi sync ARGS` with the responder's environment (plus `env` overrides);
        `--all` gets `--verbose` unless `verbose=False`."""
        run = subprocess.run(self._argv(args, verbose), env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL,
                             capture_output=True, text=True, timeout=timeout, cwd=self.workdir)
        self.assert_no_secret(run.stdout, "sync stdout")
        self.assert_no_secret(run.stderr, "sync stderr")
        return run

    def start_sync_cli(self, *args: str, verbose: bool = True, env: dict | None = None) -> subprocess.Popen:
        return subprocess.Popen(self._argv(args, verbose), env=dict(self.env, **(env or {})), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=self.workdir,
                                start_new_session=True)

    def cli(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        """Any `igmedia-fcgi` subcommand (e.g. `status`) with the responder's environment."""
        run = subprocess.run([str(self.binary), *args], env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, timeout=timeout, cwd=self.workdir)
        self.assert_no_secret(run.stdout + run.stderr, f"`igmedia-fcgi {' '.join(args)}` output")
        return run

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


def ok_lines(stdout: str) -> dict[str, dict[str, str]]:
    """Every `ok     <id> …` line of the CLI's output: tenant id -> its key=value fields."""
    lines = {}
    for line in stdout.splitlines():
        if line.startswith("ok "):
            parts = line.split()
            lines[parts[1]] = dict(part.split("=", 1) for part in parts[2:] if "=" in part)
    return lines


def results_by_tenant(source: str | dict) -> dict[str, dict]:
    """Per-tenant sync counts in the shape the direct POST /sync used to return
    (`{tenantId, photosCount, uploaded, deleted, kept, failed}`), from the ok lines of `sync`'s
    output (POST /sync now answers 202 without them), or from a legacy summary's `results`."""
    if isinstance(source, dict):
        return {entry["tenantId"]: entry for entry in source.get("results", [])}
    return {tenant: {"tenantId": tenant, "photosCount": int(fields["photos"]), "uploaded": int(fields["uploaded"]),
                     "deleted": int(fields["deleted"]), "kept": int(fields["kept"]), "failed": int(fields["failed"])}
            for tenant, fields in ok_lines(source).items()}


def summary_line(stdout: str) -> str:
    [line] = [line for line in stdout.splitlines() if line.startswith("summary:")]
    return line


def summary_counts(stdout: str) -> dict[str, int]:
    """`summary: N tenants, X synced, Y failed, Z skipped (token invalid)… in T ms` as numbers."""
    line = summary_line(stdout)
    match = re.match(r"summary: (\d+) tenants, (\d+) synced, (\d+) failed, (\d+) skipped \(token invalid\)"
                     r"(?:, (\d+) deferred \(rate limited\))? in \d+ ms$", line)
    assert match, line
    tenants, synced, failed, skipped, deferred = match.groups()
    return {"tenants": int(tenants), "synced": int(synced), "failed": int(failed), "skipped": int(skipped),
            "deferred": int(deferred or 0)}


def json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


# ---- sync runs (POST /sync without QStash, `sync --all`) ---------------------------------------

def run_status(stack: Stack, secret: str | None, run_id: str) -> Response:
    """GET /sync/runs/<id> (`current`, `last`) with `Authorization: Bearer <secret>` (None: none)."""
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    return stack.get(f"/sync/runs/{run_id}", headers=headers)


def expect_accepted_run(response: Response) -> dict:
    """POST /sync without QStash: 202, a run id, the status URL in `Location` and in the body, and
    the summary's seed shape (empty lists: the run goes on in the background)."""
    data = expect_success(response, 202)
    assert set(data) == {"runId", "state", "started", "statusUrl", "summary"}, data
    assert RUN_ID.fullmatch(data["runId"]), data
    assert data["state"] == "running" and isinstance(data["started"], bool), data
    assert data["statusUrl"] == f"/sync/runs/{data['runId']}", data
    assert response.header("Location") == data["statusUrl"], response.header("Location")
    summary = data["summary"]
    assert set(summary) == {"totalTenants", "queuedTasks", "errors", "results"}, summary
    assert summary["queuedTasks"] == [] and summary["errors"] == [] and summary["results"] == [], summary
    assert isinstance(summary["totalTenants"], int) and summary["totalTenants"] >= 0, summary
    return data


def check_run_shape(run: dict) -> dict:
    assert set(run) == RUN_FIELDS, run
    assert run["state"] in ("running", "done"), run
    assert run["remaining"] == max(0, run["queued"] - run["synced"] - run["failed"] - run["deferred"]), run
    assert isinstance(run["recentErrors"], list) and all(isinstance(e, str) for e in run["recentErrors"]), run
    assert (run["finishedAt"] is None) == (run["state"] == "running"), run
    return run


def wait_for_run(stack: Stack, secret: str, run_id: str, timeout: float = 30) -> dict:
    """Polls GET /sync/runs/<id> until the run is done (at most `timeout` seconds); returns it."""
    deadline = time.monotonic() + timeout
    while True:
        run = check_run_shape(expect_success(run_status(stack, secret, run_id)))
        assert run["runId"] == run_id, run
        if run["state"] == "done":
            assert run["remaining"] == 0 and run["tenantIndexRead"], run
            assert run["synced"] + run["failed"] + run["deferred"] == run["queued"], run
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"sync run {run_id} not done after {timeout}s: {run}")
        time.sleep(0.1)
