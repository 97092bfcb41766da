"""The API as a client sees it through nginx: envelopes, routing, errors, request ids, logs."""

import re

import pytest

from harness import expect_error, expect_success, wait_until


def test_health_answers_ok(stack):
    response = stack.get("/health")
    assert expect_success(response) == {"message": "ok"}
    assert response.json() == {"success": True, "data": {"message": "ok"}}


def test_callback_strips_the_trailing_hash_underscore(stack):
    # Instagram redirects to ...?code=AQB123#_ and a pasted URL sends the "#" encoded.
    data = expect_success(stack.get("/instagram-callback?code=AQB123%23_"))
    assert data == {"code": "AQB123"}


def test_callback_without_code_is_a_validation_error(stack):
    expect_error(stack.get("/instagram-callback"), 400, "VALIDATION_FAILED")


def test_callback_reports_the_users_denial(stack):
    response = stack.get(
        "/instagram-callback?error=access_denied&error_reason=user_denied&error_description=The+user+denied")
    envelope = expect_error(response, 400, "VALIDATION_FAILED")
    assert "The user denied" in envelope["errorMessage"]


def test_malformed_percent_encoding_is_a_validation_error(stack):
    expect_error(stack.get("/instagram-callback?code=%zz"), 400, "VALIDATION_FAILED")


@pytest.mark.parametrize("path", [
    "/", "/nope", "/nope.css", "/health/x", "/sync/", "/sync/process", "/auth/", "/photos/1",
])
def test_unknown_paths_are_json_404(stack, path):
    expect_error(stack.get(path), 404, "NOT_FOUND")


def test_unknown_path_under_a_routed_prefix_is_the_responders_404(stack):
    # /sync/process/ is a prefix location: the responder itself answers what it does not route.
    response = stack.post("/sync/process/tenant-1/extra", b"{}")
    expect_error(response, 404, "NOT_FOUND")
    assert response.header("X-Request-Id")


def test_wrong_method_is_405_with_allow(stack):
    response = stack.post("/health", b'{"ping":true}')
    expect_error(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.header("Allow")


def test_nginx_request_id_reaches_the_responder(stack):
    response = stack.get("/health")
    request_id = response.header("X-Request-Id")
    # nginx's $request_id: 32 hex digits, passed as the REQUEST_ID param.
    assert re.fullmatch(r"[0-9a-f]{32}", request_id), request_id
    assert f"id={request_id}" in stack.responder_log()
    # nginx writes the access log line after the response has gone out.
    wait_until(lambda: f"id={request_id}" in stack.access_log(), timeout=5, what="the access log line")


def test_upstream_down_is_a_json_502(stack):
    stack.responder.stop()
    expect_error(stack.get("/health"), 502, "SERVICE_UNAVAILABLE")


def test_access_log_has_no_query_string_and_no_authorization(stack):
    stack.get("/instagram-callback?code=SECRETCODE123", headers={"Authorization": "Bearer SECRETTOKEN456"})
    stack.get("/photos?page=SECRETPAGE789", headers={"Authorization": "Bearer SECRETTOKEN456"})
    wait_until(lambda: stack.access_log().count("\n") >= 2, timeout=5, what="two access log lines")
    log = stack.access_log()
    assert '"GET /instagram-callback HTTP/1.1" 200' in log
    for secret in ("SECRETCODE123", "SECRETTOKEN456", "SECRETPAGE789", "Bearer"):
        assert secret not in log
