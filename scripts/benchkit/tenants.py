"""The run's tenants: registered through POST /register, then filled by the real `igmedia-fcgi sync`."""

from __future__ import annotations

import re
import subprocess
import time

from harness import Session

from .common import BenchError, log
from .stack import BenchStack

class Tenants(BenchStack):
    """A started stack with its tenants: fake Instagram accounts, registration, the sync that fills them."""

    def new_account(self) -> tuple[str, str]:
        """A fake Instagram account with `media` posts and a fresh long-lived token."""
        account = self.instagram.control("POST", "accounts", {"media_count": self.s.media})
        token = self.instagram.control("POST", "tokens", {"user": account["ig_user_id"], "kind": "long"})
        return account["ig_user_id"], token["access_token"]

    def register(self, session: Session, count: int, prefix: str) -> list[dict]:
        """Registers tenants with a token but without their first sync: the fake refuses exactly
        `count` media reads (a permission error), so each tenant is created with an empty feed and
        the real sync fills it afterwards."""
        accounts = [self.new_account() for _ in range(count)]
        self.instagram.control("POST", "faults", {"preset": "permission", "match": {"path_regex": "/media$"},
                                                  "count": count})
        registered = []
        for index, (account_id, token) in enumerate(accounts):
            response = session.post("/register", {
                "name": f"{prefix}-{index:03d}", "instagramAccountId": account_id,
                "instagramAccountSecret": "bench-account-secret", "instagramAccessToken": token,
                "apiType": "INSTAGRAM_LOGIN",
            }, headers={"Authorization": f"Bearer {self.registration_secret}"})
            if response.status != 201:
                raise BenchError(f"POST /register answered {response.status}: {response.body[:300]!r}")
            data = response.json()["data"]
            if data["photosCount"] != 0:
                raise BenchError("the first sync was expected to be refused by the fake")
            registered.append(data)
        pending = self.instagram.control("GET", "faults")["faults"]
        if pending:
            self.instagram.control("DELETE", "faults")
            raise BenchError(f"{len(pending)} scripted fault(s) left unused: registration did not sync as expected")
        return registered

    def sync(self, *args: str, timeout: float) -> tuple[float, str]:
        started = time.monotonic()
        result = subprocess.run([str(self.binary), "sync", *args], env=self.env_redis, capture_output=True,
                                text=True, timeout=timeout)
        wall = time.monotonic() - started
        if result.returncode != 0:
            raise BenchError(f"igmedia-fcgi sync {' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
        return wall, result.stdout

    def fill(self) -> None:
        s = self.s
        nginx = self.nginx("main").start()
        try:
            with Session(nginx.port) as session:
                registered = self.register(session, s.tenants, "bench-tenant")
                self.tokens = [entry["authToken"] for entry in registered]
                self.tenant_ids = [entry["tenantId"] for entry in registered]
                log(f"registered {len(registered)} tenants; filling them with "
                    f"`igmedia-fcgi sync --all --parallel {s.sync_parallel}`")
                wall, output = self.sync("--all", "--verbose", "--parallel", str(s.sync_parallel), timeout=max(120, 6 * s.tenants))
                uploads = sum(int(m) for m in re.findall(r"^ok .* uploaded=(\d+)", output, re.MULTILINE))
                self.notes["fill"] = {"seconds": wall, "uploads": uploads, "tenants": s.tenants}
                log(f"filled in {wall:.1f} s ({uploads} uploads)")
                cdn = self.cloudinary.info["res_url"]
                for token in self.tokens:
                    response = session.get("/photos", headers={"Authorization": f"Bearer {token}"})
                    photos = response.json()["data"]["photos"] if response.status == 200 else None
                    if photos is None or len(photos) != s.media:
                        raise BenchError(f"a tenant's feed is not {s.media} items after the sync: {response!r}")
                    if not all(item["mediaUrl"].startswith(cdn) for item in photos):
                        raise BenchError("feed items are not mirrored to the Cloudinary fake")
                self.reference_body = session.get(
                    "/photos", headers={"Authorization": f"Bearer {self.tokens[0]}"}).body
        finally:
            nginx.stop()
        self.tokens_file.write_text("".join(token + "\n" for token in self.tokens))
        self.tokens_file.chmod(0o600)
        static = self.run_dir / "static"
        static.mkdir(exist_ok=True)
        (static / "photos.json").write_bytes(self.reference_body)
        self.notes["body_bytes"] = len(self.reference_body)
