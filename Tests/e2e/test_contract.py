"""The API contract (openapi.yaml) against the live stack: nginx + responder + redis-server.

Two layers:
  - static: the document is valid OpenAPI and schemathesis loads every operation of it, so a
    broken spec fails in a second, before any stack starts;
  - live: schemathesis generates requests for every operation (positive and negative data,
    documented examples, coverage boundaries, other methods) through the private nginx and checks
    every response against the spec: no 5xx, documented status, Content-Type, body schema,
    headers, 405 + Allow for other methods, and no 2xx once the valid token is removed.

Findings are fixed, not excluded: nothing here is skipped or marked as expected to fail.
CONTRACT_SEED and CONTRACT_MAX_EXAMPLES explore further than CI's fixed seed.

The stack has open registration (no REGISTRATION_SECRET), no QStash and no Cloudinary, and every
Instagram base URL points at a closed loopback port, so nothing leaves the machine. Authenticated
operations get, case by case, the valid token of a registered tenant whose feed is seeded in the
store, the token of a tenant that no longer exists, or whatever schemathesis generated; POST /sync
and GET /sync/runs/{id} get the sync secret (and a finished run's id, `last` or `current`) half of
the time.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import re
import socket
import time
import zlib


import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate as validate_openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from harness import REPO, Nginx, RedisServer, Responder, Stack, expect_success, responder_env
from sync_support import wait_for_run

SPEC_PATH = REPO / "openapi.yaml"
# Nothing listens on the discard port of loopback: every Instagram call fails fast, locally.
UNREACHABLE = "http://127.0.0.1:9"
# Examples per operation in the fuzzing phase (the examples and coverage phases add their own).
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "40"))

OPERATIONS = {
    "GET /health",
    "GET /metrics",
    "GET /instagram-callback",
    "POST /auth/obtain-token",
    "POST /auth/refresh-token",
    "POST /register",
    "GET /photos",
    "POST /sync",
    "POST /sync/process/{tenantId}",
    "GET /sync/runs/{id}",
    "GET /tenant",
    "DELETE /tenant",
    "PUT /tenant/instagram-token",
    "POST /tenant/rotate-auth-token",
    "POST /tenant/rotate-management-token",
    "PUT /tenant/webhook",
    "GET /tenant/webhook",
    "DELETE /tenant/webhook",
    "POST /tenant/webhook/rotate-secret",
    "GET /tenant/webhook/deliveries",
    "GET /admin/tenants",
    "GET /admin/tenants/{id}",
    "DELETE /admin/tenants/{id}",
    "POST /admin/tenants/{id}/sync",
    "POST /admin/tenants/{id}/management-token",
    "POST /meta/deauthorize",
    "POST /meta/data-deletion",
    "GET /meta/data-deletion/{code}",
}
# Routed only when the QStash group (the webhook) or ADMIN_SECRET (the admin API) is configured;
# this stack has neither, so their paths answer the documented 404.
CONFIGURATION_DEPENDENT = {"POST /sync/process/{tenantId}"} | {op for op in OPERATIONS if " /admin/" in op}

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    # Other methods on a documented path answer 405 with `Allow` (coverage phase).
    unsupported_method,
    # A 2xx with the valid token is replayed without it: it must be refused.
    ignored_auth,
]

# What the run saw, for the summary: request ("METHOD /path") -> status -> count.
SEEN: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
CLOCK = {"first": 0.0, "last": 0.0}


@pytest.fixture(scope="module", autouse=True)
def report_contract_run(summary):
    """Puts what the live run generated in the igmedia section at the end of the run."""
    yield
    if not SEEN:
        return
    total = sum(sum(counter.values()) for counter in SEEN.values())
    summary(f"contract: schemathesis {schemathesis.__version__}: {total} generated requests "
            f"in {CLOCK['last'] - CLOCK['first']:.1f}s")
    for request in sorted(SEEN):
        statuses = ", ".join(f"{status}×{count}" for status, count in sorted(SEEN[request].items(), key=str))
        summary(f"  {request}: {statuses}")


class UnroutedOperation(AssertionError):
    """A documented operation answered the router's `404 No route for …`."""


REQUEST_LINE_LIMIT = 8192


def content_type(response) -> str:
    values = response.headers.get("content-type") or [""]
    return values[0]




# --- Static -----------------------------------------------------------------------------------

def load_spec() -> dict:
    return yaml.safe_load(SPEC_PATH.read_text())


def test_spec_is_valid_openapi():
    spec = load_spec()
    assert spec["openapi"].startswith("3.")
    validate_openapi(spec)


def test_spec_documents_every_route_and_schemathesis_loads_it():
    schema = schemathesis.openapi.from_path(SPEC_PATH, config=contract_config(UNREACHABLE))
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert labels == OPERATIONS
    # The route table and the spec name the same paths.
    routes = (REPO / "Sources/IGMediaLogic/Routing/Routes.swift").read_text()
    for label in OPERATIONS:
        method, path = label.split(" ", 1)
        pattern = re.sub(r"{(\w+)}", r":\1", path)
        assert f'Route("{method}", "{pattern}"' in routes, label


def test_spec_error_codes_match_the_service():
    spec = load_spec()
    documented = set(spec["components"]["schemas"]["ErrorCode"]["enum"])
    source = (REPO / "Sources/IGMediaLogic/HTTP/ErrorCode.swift").read_text()
    in_source = set(re.findall(r'case \w+ = "([A-Z_]+)"', source))
    assert documented == in_source


# --- Live -------------------------------------------------------------------------------------

def contract_config(base_url: str | None):
    return schemathesis.Config.from_dict({
        **({"base-url": base_url} if base_url else {}),
        # Reproducible in CI; CONTRACT_SEED=<n> explores elsewhere.
        "seed": int(os.environ.get("CONTRACT_SEED", "20240601")),
        "generation": {"max-examples": MAX_EXAMPLES, "deterministic": False, "database": "none"},
        "request-timeout": 20,
    })


def feed_fixture(tenant_id: str) -> list[dict]:
    cdn = f"https://res.cloudinary.com/demo/image/upload/instagram-media/{tenant_id}"
    return [
        {"id": "18046772009220504", "mediaUrl": f"{cdn}/18046772009220504.jpg", "caption": "Sunset ☀️ #beach",
         "mediaType": "IMAGE", "permalink": "https://www.instagram.com/p/ABC123/",
         "timestamp": "2022-10-27T05:03:06+0000"},
        {"id": "18046772009220505", "mediaUrl": "https://res.cloudinary.com/demo/video/upload/v.mp4", "caption": "",
         "mediaType": "VIDEO", "permalink": "https://www.instagram.com/reel/DEF456/",
         "thumbnailUrl": f"{cdn}/18046772009220505.jpg", "timestamp": "2022-10-26T05:03:06+0000"},
        {"id": "18046772009220506", "mediaUrl": f"{cdn}/18046772009220506.jpg", "caption": "album",
         "mediaType": "CAROUSEL_ALBUM", "permalink": "https://www.instagram.com/p/GHI789/",
         "timestamp": "2022-10-25T05:03:06+0000",
         "children": [
             {"id": "1", "mediaType": "IMAGE", "mediaUrl": f"{cdn}/1.jpg"},
             {"id": "2", "mediaType": "VIDEO", "mediaUrl": "https://res.cloudinary.com/demo/video/upload/2.mp4",
              "thumbnailUrl": f"{cdn}/2.jpg"},
         ]},
        # As the seed service stored it: only the five original fields.
        {"id": "17900000000000001", "mediaUrl": "https://scontent.cdninstagram.com/x.jpg", "caption": "old",
         "mediaType": "IMAGE", "permalink": "https://www.instagram.com/p/OLD/"},
    ]


class ContractStack:
    def __init__(self, stack: Stack, sync_secret: str):
        self.stack = stack
        self.sync_secret = sync_secret
        self.tenant_id = ""
        self.token = ""
        self.orphan_token = ""
        # A second tenant for the management endpoints: schemathesis may rotate its token or
        # delete it, which must never touch the tenant whose feed the other operations read.
        self.managed_auth = ""
        self.managed = ""
        # A finished sync run (POST /sync without QStash), for GET /sync/runs/{id}.
        self.run_id = ""

    def register(self, name: str) -> dict:
        return expect_success(self.stack.post("/register", {
            "name": name, "instagramAccountId": "17841400000000000",
            "instagramAccountSecret": "app-secret", "apiType": "INSTAGRAM_LOGIN",
        }), 201)


@pytest.fixture(scope="module")
def contract_stack(igmedia_bin, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("contract")
    env = responder_env("", {
        "REGISTRATION_SECRET": None,
        "INSTAGRAM_API_URL": UNREACHABLE,
        "INSTAGRAM_GRAPH_URL": UNREACHABLE,
        "FACEBOOK_GRAPH_URL": UNREACHABLE,
        "INSTAGRAM_API_TIMEOUT_MS": "2000",
        # On (the harness turns it off), so GET /photos also answers with its gzip representation:
        # the generated Accept-Encoding values pick one or the other.
        "FEED_CACHE_TTL_MS": "1000",
    })
    redis = RedisServer(workdir)
    responder = nginx = None
    try:
        redis.start()
        env["REDIS_URL"] = redis.url
        responder = Responder(igmedia_bin, workdir, env).start()
        nginx = Nginx.local(workdir, responder.socket).start()
    except BaseException:
        for service in (nginx, responder, redis):
            if service is not None:
                service.stop()
        raise
    stack = Stack(redis, responder, nginx)
    contract = ContractStack(stack, env["SYNC_INTERNAL_SECRET"])
    try:
        # A tenant with a feed in the store (as a sync would have written it: array + ETag).
        tenant = contract.register("contract-tenant")
        contract.tenant_id, contract.token = tenant["tenantId"], tenant["authToken"]
        feed = json.dumps(feed_fixture(contract.tenant_id), separators=(",", ":")).encode()
        etag = '"' + hashlib.sha256(feed).hexdigest()[:32] + '"'
        stack.redis_cli("SET", f"instagram:{contract.tenant_id}:photos", feed.decode())
        stack.redis_cli("SET", f"instagram:{contract.tenant_id}:photos:etag", etag)
        photos = stack.get("/photos", headers={"Authorization": f"Bearer {contract.token}"})
        assert expect_success(photos)["photos"] == json.loads(feed)
        assert photos.header("ETag") == etag
        # A token whose tenant was deleted: its mapping survives, the tenant hash does not.
        orphan = contract.register("orphaned-tenant")
        contract.orphan_token = orphan["authToken"]
        stack.redis_cli("DEL", f"tenant:{orphan['tenantId']}")
        stack.redis_cli("SREM", "tenants", orphan["tenantId"])
        managed = contract.register("managed-tenant")
        contract.managed, contract.managed_auth = managed["managementToken"], managed["authToken"]
        accepted = expect_success(stack.post("/sync", {"secret": contract.sync_secret}), 202)
        contract.run_id = accepted["runId"]
        run = wait_for_run(stack, contract.sync_secret, contract.run_id, timeout=60)
        assert run["queued"] == run["failed"] + run["synced"] + run["deferred"], run
        yield contract
    finally:
        stack.stop()


# Loaded at import so pytest gets one test per operation; the base URL is given per call.
schema = schemathesis.openapi.from_path(SPEC_PATH, config=contract_config(None))


def pick(case, choices: int) -> int:
    """A stable per-case choice (the same generated case always gets the same credentials)."""
    material = repr((case.path_parameters, case.query, case.headers, case.body)).encode()
    return zlib.crc32(material) % choices


def is_documented_exchange_failure(label: str, response) -> bool:
    if label != "POST /auth/obtain-token" or response.status_code != 500:
        return False
    try:
        envelope = response.json()
    except ValueError:
        return False
    return envelope.get("code") == "INTERNAL_ERROR" and envelope.get("errorMessage", "").startswith("Token exchange failed")


def is_unrouted(response) -> bool:
    if response.status_code != 404:
        return False
    try:
        return response.json()["errorMessage"].startswith("No route for ")
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), print_blob=True)
def test_live_stack_conforms_to_the_contract(case, contract_stack):
    label = case.operation.label
    # The coverage phase also sends other methods to each path (they must answer 405 + Allow).
    sent = label if case.method.upper() == case.operation.method.upper() else f"{case.method.upper()} {case.operation.path}"
    headers = {}
    security = case.operation.definition.raw.get("security", [])
    if any("tenantToken" in requirement for requirement in security):
        choice = pick(case, 4)
        if choice <= 1:
            headers["Authorization"] = f"Bearer {contract_stack.token}"
        elif choice == 2:
            headers["Authorization"] = f"Bearer {contract_stack.orphan_token}"
    if any("managementToken" in requirement for requirement in security) and "Authorization" not in headers:
        choice = pick(case, 3)
        if choice == 0:
            headers["Authorization"] = f"Bearer {contract_stack.managed}"
        elif choice == 1:
            headers["Authorization"] = f"Bearer {contract_stack.managed_auth}"  # the auth token: 403
    if label == "POST /sync" and isinstance(case.body, dict) and pick(case, 2) == 0:
        case.body["secret"] = contract_stack.sync_secret
    if label == "POST /sync/process/{tenantId}" and pick(case, 2) == 0:
        case.path_parameters["tenantId"] = contract_stack.tenant_id
    if label == "GET /sync/runs/{id}":
        choice = pick(case, 4)
        if choice <= 1:  # the sync secret: a known run (200), or the generated id (404)
            headers["Authorization"] = f"Bearer {contract_stack.sync_secret}"
            if choice == 0:
                case.path_parameters["id"] = [contract_stack.run_id, "last", "current"][pick(case, 3)]
        elif choice == 2:  # a tenant's token is not the sync secret: 401
            headers["Authorization"] = f"Bearer {contract_stack.token}"

    base_url = contract_stack.stack.base_url
    CLOCK["first"] = CLOCK["first"] or time.monotonic()
    response = case.call(base_url=base_url, headers=headers or None)
    CLOCK["last"] = time.monotonic()
    SEEN[sent][response.status_code] += 1
    if label not in CONFIGURATION_DEPENDENT and is_unrouted(response):
        raise UnroutedOperation(f"{sent} answered {response.status_code} {response.text[:200]}")
    checks = CHECKS
    if is_documented_exchange_failure(label, response):
        # The seed's contract (and ours): a failed code exchange is 500 INTERNAL_ERROR carrying
        # Instagram's reason. Instagram is unreachable here, so every exchange fails that way; the
        # response is still checked against the documented 500 schema, status and headers.
        checks = [check for check in checks if check is not not_a_server_error]
    if label == "PUT /tenant/instagram-token" and response.status_code == 503:
        # Documented: Instagram is unreachable here, so a valid token check is a 503 (nothing stored).
        checks = [check for check in checks if check is not not_a_server_error]
    if label in CONFIGURATION_DEPENDENT and is_unrouted(response):
        # Documented: without its configuration the path does not exist, for any method.
        checks = [check for check in CHECKS if check is not unsupported_method]
    case.validate_response(response, checks=checks, headers=headers or None, transport_kwargs={"base_url": base_url})


# --- Requests nginx refuses itself still get the JSON envelope --------------------------------

def raw_request(port: int, data: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(data)
        reply = b""
        while chunk := conn.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def assert_json_error(status: int, headers: dict[str, str], body: bytes, expected_status: int, code: str):
    assert (status, headers.get("content-type")) == (expected_status, "application/json; charset=utf-8"), body[:200]
    envelope = json.loads(body)
    assert envelope["success"] is False and envelope["code"] == code, envelope


def test_an_overlong_request_line_gets_the_json_414(contract_stack):
    status, headers, body = raw_request(
        contract_stack.stack.port,
        b"GET /instagram-callback?code=" + b"A" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert_json_error(status, headers, body, 414, "VALIDATION_FAILED")


def test_a_nul_in_the_path_gets_the_json_400(contract_stack):
    status, headers, body = raw_request(
        contract_stack.stack.port,
        b"POST /sync/process/%00abc HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    assert_json_error(status, headers, body, 400, "VALIDATION_FAILED")


def test_a_malformed_request_line_gets_the_json_400(contract_stack):
    status, headers, body = raw_request(contract_stack.stack.port, b"GET /health\x01 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert_json_error(status, headers, body, 400, "VALIDATION_FAILED")


def test_an_oversized_header_gets_the_json_400(contract_stack):
    status, headers, body = raw_request(
        contract_stack.stack.port,
        b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 9000 + b"\r\nConnection: close\r\n\r\n")
    assert_json_error(status, headers, body, 400, "VALIDATION_FAILED")


def test_trace_gets_the_json_405_with_allow(contract_stack):
    status, headers, body = raw_request(
        contract_stack.stack.port, b"TRACE /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    assert_json_error(status, headers, body, 405, "METHOD_NOT_ALLOWED")
    assert headers.get("allow")
