"""POST /register with bad input: always a 4xx JSON envelope from the responder, nothing stored.

One stack per backend (MAX_BODY_BYTES=4096) takes the whole table, so it also shows the responder
keeps working after each odd request. The table's cases start from a valid body and break one
thing, so a 400 can only come from that thing.
"""

import http.client
import json

import pytest

from harness import JSON_CONTENT_TYPE, Response, expect_error, expect_success
from tenant_helpers import assert_log_clean, dbsize, register, register_body

MAX_BODY_BYTES = 4096


@pytest.fixture(scope="module", params=["redis", "upstash"])
def shared(request, start_stack_in, tmp_path_factory):
    stack = start_stack_in(tmp_path_factory.mktemp("validation") / "stack",
                        {"MAX_BODY_BYTES": str(MAX_BODY_BYTES)}, backend=request.param)
    try:
        register(stack)  # the store is reachable and not empty
        yield stack
        # Every secret register_body makes starts with one of these markers.
        assert_log_clean(stack, "acctsecret", "IGQVJ")
    finally:
        stack.stop()


def post_raw(stack, body: bytes, headers: dict[str, str]) -> Response:
    """POST /register exactly as given: http.client adds Content-Length and nothing else."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
    try:
        conn.request("POST", "/register", body=body, headers=headers)
        reply = conn.getresponse()
        return Response(reply.status, reply.reason, reply.headers, reply.read())
    finally:
        conn.close()


def valid(**overrides) -> bytes:
    return json.dumps(register_body(**overrides)).encode()


def with_raw(field: str, raw: str) -> bytes:
    """A valid body whose `field` is the literal JSON text `raw` (or added last if absent)."""
    body = register_body(**{field: "PLACEHOLDER"})
    text = json.dumps(body)
    return text.replace('"PLACEHOLDER"', raw).encode()


# case id → (body bytes, extra headers, expected status, expected code, words the message must name)
V = ("VALIDATION_FAILED",)
CASES = {
    # Not a JSON object.
    "not json": (b"name=Acme&apiType=INSTAGRAM_LOGIN", {}, 400, V, ["JSON"]),
    "json array": (b"[" + valid() + b"]", {}, 400, V, ["object"]),
    "empty json array": (b"[]", {}, 400, V, ["object"]),
    "json string": (b'"Acme"', {}, 400, V, ["object"]),
    "json null": (b"null", {}, 400, V, ["object"]),
    "json number": (b"42", {}, 400, V, ["object"]),
    "json true": (b"true", {}, 400, V, ["object"]),
    "empty object": (b"{}", {}, 400, V, ["name", "instagramAccountId", "instagramAccountSecret", "apiType"]),
    "empty body": (b"", {}, 400, V, []),
    "whitespace body": (b"  \r\n ", {}, 400, V, []),
    "truncated json": (valid()[:-5], {}, 400, V, ["JSON"]),
    "trailing garbage": (valid() + b" x", {}, 400, V, ["JSON"]),
    "two documents": (valid() + valid(), {}, 400, V, ["JSON"]),
    "trailing comma": (valid()[:-1] + b",}", {}, 400, V, ["JSON"]),
    "single quotes": (valid().replace(b'"', b"'"), {}, 400, V, ["JSON"]),
    "NaN literal": (with_raw("instagramAccountId", "NaN"), {}, 400, V, ["JSON"]),
    "invalid utf-8 in a string": (valid(name="Acme PLACEHOLDER").replace(b"PLACEHOLDER", b"\xff\xfe\xc3"), {}, 400, V, []),
    "invalid utf-8 body": (b"\xff\xfe{\x00}", {}, 400, V, []),
    "lone surrogate escape": (with_raw("name", '"Acme \\ud800 Co"'), {}, 400, V, []),
    "1000-level nesting": (b"[" * 1000 + b"]" * 1000, {}, 400, V, ["JSON"]),
    "1000-level nesting in an unknown field": (
        valid()[:-1] + b',"extra":' + b"[" * 1000 + b"]" * 1000 + b"}", {}, 400, V, ["JSON"]),
    # Wrong type, per field.
    "name number": (with_raw("name", "12345"), {}, 400, V, ["name"]),
    "name null": (with_raw("name", "null"), {}, 400, V, ["name"]),
    "name array": (with_raw("name", '["Acme Co"]'), {}, 400, V, ["name"]),
    "name object": (with_raw("name", '{"first":"Acme"}'), {}, 400, V, ["name"]),
    "accountId boolean": (with_raw("instagramAccountId", "true"), {}, 400, V, ["instagramAccountId"]),
    "accountId object": (with_raw("instagramAccountId", '{"id":"1"}'), {}, 400, V, ["instagramAccountId"]),
    "accountId array": (with_raw("instagramAccountId", '["178"]'), {}, 400, V, ["instagramAccountId"]),
    "accountId negative": (with_raw("instagramAccountId", "-17841400000000"), {}, 400, V, ["instagramAccountId"]),
    "accountId float": (with_raw("instagramAccountId", "178414.5"), {}, 400, V, ["instagramAccountId"]),
    "accountId exponent": (with_raw("instagramAccountId", "1.7e13"), {}, 400, V, ["instagramAccountId"]),
    "accountId empty": (valid(instagramAccountId=""), {}, 400, V, ["instagramAccountId"]),
    "accountId whitespace": (valid(instagramAccountId="   "), {}, 400, V, ["instagramAccountId"]),
    "accountId null": (with_raw("instagramAccountId", "null"), {}, 400, V, ["instagramAccountId"]),
    "secret number": (with_raw("instagramAccountSecret", "12345"), {}, 400, V, ["instagramAccountSecret"]),
    "secret null": (with_raw("instagramAccountSecret", "null"), {}, 400, V, ["instagramAccountSecret"]),
    "secret empty": (valid(instagramAccountSecret=""), {}, 400, V, ["instagramAccountSecret"]),
    "secret whitespace": (valid(instagramAccountSecret=" \t "), {}, 400, V, ["instagramAccountSecret"]),
    "access token number": (with_raw("instagramAccessToken", "12345"), {}, 400, V, ["instagramAccessToken"]),
    "access token object": (with_raw("instagramAccessToken", '{"t":"x"}'), {}, 400, V, ["instagramAccessToken"]),
    "appId object": (with_raw("instagramAppId", '{"id":1}'), {}, 400, V, ["instagramAppId"]),
    "apiType unknown": (valid(apiType="TWITTER_LOGIN"), {}, 400, V, ["apiType"]),
    "apiType lowercase": (valid(apiType="instagram_login"), {}, 400, V, ["apiType"]),
    "apiType padded": (valid(apiType=" INSTAGRAM_LOGIN "), {}, 400, V, ["apiType"]),
    "apiType empty": (valid(apiType=""), {}, 400, V, ["apiType"]),
    "apiType number": (with_raw("apiType", "1"), {}, 400, V, ["apiType"]),
    "apiType null": (with_raw("apiType", "null"), {}, 400, V, ["apiType"]),
    # Missing, one at a time.
    "missing name": (valid(name=None), {}, 400, V, ["name"]),
    "missing accountId": (valid(instagramAccountId=None), {}, 400, V, ["instagramAccountId"]),
    "missing secret": (valid(instagramAccountSecret=None), {}, 400, V, ["instagramAccountSecret"]),
    "missing apiType": (valid(apiType=None), {}, 400, V, ["apiType"]),
    "everything wrong at once": (
        json.dumps({"name": "ab", "instagramAccountId": -1, "instagramAccountSecret": "", "apiType": "x"}).encode(),
        {}, 400, V, ["name", "instagramAccountId", "instagramAccountSecret", "apiType"]),
    # Name length, counted in characters after trimming.
    "name empty": (valid(name=""), {}, 400, V, ["name"]),
    "name whitespace": (valid(name=" \t\r\n "), {}, 400, V, ["name"]),
    "name 2 chars": (valid(name="ab"), {}, 400, V, ["name"]),
    "name 2 chars padded": (valid(name="   ab   "), {}, 400, V, ["name"]),
    "name 2 non-ascii chars": (valid(name="日本"), {}, 400, V, ["name"]),
    "name 101 chars": (valid(name="n" * 101), {}, 400, V, ["name"]),
    "name 101 non-ascii chars": (valid(name="é" * 101), {}, 400, V, ["name"]),
    # Duplicate keys: the last (invalid) one must not be silently ignored.
    "duplicate name, last invalid": (valid()[:-1] + b',"name":"x"}', {}, 400, V, ["name"]),
    "duplicate apiType, last invalid": (valid()[:-1] + b',"apiType":"NOPE"}', {}, 400, V, ["apiType"]),
    # Transport-level.
    "text/plain": (valid(), {"Content-Type": "text/plain"}, 400, V, ["Content-Type"]),
    "form content type": (valid(), {"Content-Type": "application/x-www-form-urlencoded"}, 400, V, ["Content-Type"]),
    "multipart content type": (valid(), {"Content-Type": "multipart/form-data; boundary=x"}, 400, V, ["Content-Type"]),
    "no content type": (valid(), {"Content-Type": None}, 400, V, ["Content-Type"]),
    "body over MAX_BODY_BYTES": (valid(name="n" * 80, padding="p" * MAX_BODY_BYTES), {}, 413, ("PAYLOAD_TOO_LARGE",), []),
    "50 KB string": (valid(instagramAccountSecret="s" * 50_000), {}, 413, ("PAYLOAD_TOO_LARGE",), []),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_register_input_is_a_4xx_envelope_and_stores_nothing(shared, case):
    body, extra_headers, status, codes, words = CASES[case]
    headers = {"Content-Type": "application/json"}
    for name, value in extra_headers.items():
        if value is None:
            headers.pop(name)
        else:
            headers[name] = value
    before = dbsize(shared)
    response = post_raw(shared, body, headers)
    assert 400 <= response.status < 500, response
    assert response.header("Content-Type") == JSON_CONTENT_TYPE, (response.headers, response.body[:200])
    envelope = expect_error(response, status, codes[0])
    assert response.header("X-Request-Id"), "expected the responder's answer, not an nginx page"
    for word in words:
        assert word in envelope["errorMessage"], (word, envelope)
    assert dbsize(shared) == before, "a rejected registration must not write anything"


@pytest.mark.parametrize("name", ["abc", "  abc  ", "日本語", "🎉🎉🎉", "n" * 100, "é" * 100, "Café 'Ω' & Co."])
def test_names_at_the_limits_are_accepted(shared, name):
    tenant = register(shared, name=name)
    assert shared.redis_cli("HGET", f"tenant:{tenant.id}", "name") == name.strip()


@pytest.mark.parametrize("content_type", [
    "application/json", "application/json; charset=utf-8", "Application/JSON", "application/json;charset=UTF-8",
])
def test_json_content_types_are_accepted(shared, content_type):
    response = post_raw(shared, valid(), {"Content-Type": content_type})
    expect_success(response, 201)


@pytest.mark.parametrize("content_type", [
    "application/jsonl", "application/json-seq", "application/foo+jsonx", "application/json, text/plain",
    "text/json", "application/+json",
])
def test_look_alike_content_types_are_rejected(shared, content_type):
    before = dbsize(shared)
    response = post_raw(shared, valid(), {"Content-Type": content_type})
    expect_error(response, 400, "VALIDATION_FAILED")
    assert dbsize(shared) == before


def test_duplicate_key_last_valid_value_wins_or_is_rejected(shared):
    """RFC 8259 leaves duplicates open; what must not happen is storing the first (shadowed) value."""
    body = valid(name="x")[:-1] + b',"name":"Second Name"}'
    response = post_raw(shared, body, {"Content-Type": "application/json"})
    if response.status == 400:
        expect_error(response, 400, "VALIDATION_FAILED")
    else:
        tenant_id = expect_success(response, 201)["tenantId"]
        assert shared.redis_cli("HGET", f"tenant:{tenant_id}", "name") == "Second Name"


def test_integer_account_id_beyond_2_pow_53_is_accepted(shared):
    body = valid()[:-1] + b',"instagramAccountId":17841400000000001234567}'
    response = post_raw(shared, body, {"Content-Type": "application/json"})
    expect_success(response, 201)

