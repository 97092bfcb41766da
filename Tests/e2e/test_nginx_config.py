"""The nginx files: both configurations pass `nginx -t`, and the production server block runs
(TLS, redirect, security headers, rate limits) against a real responder."""

from __future__ import annotations

import os
import re
import ssl
import subprocess
from pathlib import Path

import pytest

from harness import REPO, Nginx, Session, expect_error, expect_success, free_port

PRODUCTION = REPO / "nginx" / "igmedia.conf"
LOCAL_TEMPLATE = REPO / "nginx" / "local.conf.template"
SERVER_NAME = "media.example.com"


def nginx_test(conf: Path, run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["nginx", "-t", "-p", str(run_dir), "-e", str(run_dir / "nginx-t.log"), "-c", str(conf)],
        capture_output=True, text=True, timeout=30)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run([
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-days", "1", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        "-keyout", str(key), "-out", str(cert),
    ], check=True, capture_output=True, timeout=30)
    return cert, key


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, f"igmedia.conf no longer contains {old!r}: update this test's rewrite"
    return text.replace(old, new)


def render_production(run_dir: Path, *, fcgi_socket: Path, http_port: int, https_port: int) -> Path:
    """igmedia.conf with its host paths and ports moved into `run_dir`, inside a minimal
    nginx.conf (it is an http-context file). Returns the wrapper's path."""
    cert, key = self_signed_certificate(run_dir)
    site = PRODUCTION.read_text()
    for old, new in [
        ("/etc/nginx/igmedia-locations.conf", str(REPO / "nginx" / "igmedia-locations.conf")),
        ("/etc/nginx/igmedia-microcache-off.conf", str(REPO / "nginx" / "igmedia-microcache-off.conf")),
        ("/etc/nginx/igmedia-limits.conf", str(REPO / "nginx" / "igmedia-limits.conf")),
        ("/etc/ssl/igmedia/fullchain.pem", str(cert)),
        ("/etc/ssl/igmedia/privkey.pem", str(key)),
        ("/var/log/nginx/", f"{run_dir}/"),
        ("unix:/run/igmedia/fcgi.sock", f"unix:{fcgi_socket}"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
    ]:
        site = replace_once(site, old, new)
    (run_dir / "igmedia.conf").write_text(site)
    (run_dir / "tmp").mkdir(exist_ok=True)
    user = "user root;" if os.geteuid() == 0 else ""
    wrapper = run_dir / "production.conf"
    wrapper.write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {run_dir}/production.pid;
error_log {run_dir}/production-error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    client_body_temp_path {run_dir}/tmp/client_body;
    proxy_temp_path {run_dir}/tmp/proxy;
    fastcgi_temp_path {run_dir}/tmp/fastcgi;
    uwsgi_temp_path {run_dir}/tmp/uwsgi;
    scgi_temp_path {run_dir}/tmp/scgi;
    include {run_dir}/igmedia.conf;
}}
""")
    return wrapper


def test_local_config_passes_nginx_t(tmp_path):
    conf = tmp_path / "nginx.conf"
    subprocess.run([
        str(REPO / "scripts" / "render-nginx-conf"), "--http-port", str(free_port()),
        "--fcgi-socket", str(tmp_path / "fcgi.sock"), "--run-dir", str(tmp_path), "--output", str(conf),
    ], check=True)
    result = nginx_test(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def test_render_refuses_paths_nginx_would_misread(tmp_path):
    result = subprocess.run([
        str(REPO / "scripts" / "render-nginx-conf"), "--http-port", "8080",
        "--fcgi-socket", str(tmp_path / "my socket;"), "--run-dir", str(tmp_path),
    ], capture_output=True, text=True)
    assert result.returncode != 0
    assert "misread" in result.stderr


def test_production_config_passes_nginx_t(tmp_path):
    conf = render_production(tmp_path, fcgi_socket=tmp_path / "fcgi.sock",
                             http_port=free_port(), https_port=free_port())
    result = nginx_test(conf, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "[emerg]" not in result.stderr, result.stderr


def test_both_configs_log_the_same_format():
    def log_format(text: str) -> str:
        match = re.search(r"log_format igmedia (.*?);", text, re.DOTALL)
        assert match, "log_format igmedia not found"
        return re.sub(r"'\s+'", "", match.group(1))

    assert log_format(PRODUCTION.read_text()) == log_format(LOCAL_TEMPLATE.read_text())


@pytest.fixture
def production(stack, tmp_path):
    """The production server blocks on loopback ports, in front of this test's responder."""
    run_dir = tmp_path / "production"
    run_dir.mkdir()
    ports = {}

    def render(conf: Path, port: int) -> None:
        ports["https"] = port
        ports["http"] = free_port()
        wrapper = render_production(run_dir, fcgi_socket=stack.responder.socket,
                                    http_port=ports["http"], https_port=port)
        conf.write_text(wrapper.read_text())

    nginx = Nginx(run_dir, render, name="production").start()
    tls = ssl.create_default_context(cafile=str(run_dir / "fullchain.pem"))
    yield nginx, ports, tls
    nginx.stop()


def test_production_serves_the_api_over_tls_with_security_headers(production):
    nginx, ports, tls = production
    with Session(ports["https"], tls=tls) as session:
        health = session.get("/health")
        assert session.connection.sock.version() in ("TLSv1.2", "TLSv1.3")
        missing = session.get("/nope")
    assert expect_success(health) == {"message": "ok"}
    expect_error(missing, 404, "NOT_FOUND")
    for response in (health, missing):
        assert response.header("Strict-Transport-Security").startswith("max-age=")
        assert response.header("X-Content-Type-Options") == "nosniff"
        assert response.header("X-Frame-Options") == "DENY"
        assert response.header("Content-Security-Policy")
        assert response.header("Server") == "nginx", "server_tokens off hides the version"


def test_production_redirects_http_to_https(production):
    _, ports, _ = production
    with Session(ports["http"]) as session:
        response = session.get("/health?x=1", headers={"Host": "attacker.example"})
    assert response.status == 301
    assert response.header("Location") == f"https://{SERVER_NAME}/health?x=1"


def test_production_rate_limits_register_with_a_json_429(production):
    _, ports, tls = production
    with Session(ports["https"], tls=tls) as session:
        responses = [session.post("/register", {"name": "x"}) for _ in range(10)]
    assert responses[0].status != 429
    limited = [response for response in responses if response.status == 429]
    assert limited, [response.status for response in responses]
    for response in limited:
        expect_error(response, 429, "RATE_LIMITED")
        assert response.header("Strict-Transport-Security")
