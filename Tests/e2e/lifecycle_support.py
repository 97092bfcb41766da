"""Shared pieces of the tenant-lifecycle tests: a QStash world whose tenants carry their
management token, the CLI with the responder's environment, and the store's view of a tenant."""

from __future__ import annotations

import json
import secrets
import subprocess

from harness import expect_success
from qstash_world import QStashWorld, Tenant

ADMIN_SECRET = "admin-e2e-" + secrets.token_hex(16)


class LifecycleWorld(QStashWorld):
    """QStashWorld, with ADMIN_SECRET set and `register` keeping the management token."""

    def __init__(self, make_stack, igmedia_bin, env: dict | None = None, **kw):
        super().__init__(make_stack, env={"ADMIN_SECRET": ADMIN_SECRET, **(env or {})}, **kw)
        self.binary = igmedia_bin
        self.management: dict[str, str] = {}

    def register(self, media_count: int = 3, with_token: bool = True, **kw) -> Tenant:
        account = self.instagram.create_account(media_count=media_count)
        token = self.instagram.mint_token(account["ig_user_id"], **kw)
        body = {
            "name": f"tenant {account['username']}",
            "instagramAccountId": account["ig_user_id"],
            "instagramAccountSecret": self.instagram.ig_app_secret,
            "apiType": "INSTAGRAM_LOGIN",
        }
        if with_token:
            body["instagramAccessToken"] = token
        data = expect_success(self.stack.post("/register", body), 201)
        tenant = Tenant(data["tenantId"], data["authToken"], account["ig_user_id"], token)
        self.management[tenant.id] = data["managementToken"]
        return tenant

    def manage(self, tenant: Tenant) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.management[tenant.id]}"}

    def reads(self, tenant: Tenant) -> dict[str, str]:
        return {"Authorization": f"Bearer {tenant.auth_token}"}

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {ADMIN_SECRET}"}

    def tenant(self, tenant: Tenant, headers: dict | None = None) -> dict:
        return expect_success(self.stack.get("/tenant", headers=headers or self.reads(tenant)))["tenant"]

    def cli(self, *args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
        run = subprocess.run([str(self.binary), *args], env=dict(self.stack.responder.env, **(env or {})),
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        for secret in (ADMIN_SECRET, self.instagram.ig_app_secret, self.sync_secret,
                       self.stack.responder.env.get("ENCRYPTION_KEY") or "\0"):
            assert secret not in run.stdout + run.stderr
        return run

    def tenant_hash(self, tenant_id: str) -> dict[str, str]:
        values = self.stack.redis_cli("HGETALL", f"tenant:{tenant_id}").split("\n")
        return dict(zip(values[0::2], values[1::2])) if values != [""] else {}

    def keys_naming(self, tenant_id: str) -> list[str]:
        return [k for k in self.stack.redis_cli("--scan", "--pattern", f"*{tenant_id}*").split("\n") if k]

    def put_token(self, tenant: Tenant, token: str, headers: dict | None = None):
        return self.stack.request("PUT", "/tenant/instagram-token", {"instagramAccessToken": token},
                                  headers=headers or self.manage(tenant))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]
