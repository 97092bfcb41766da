"""The nginx files: both configurations pass `nginx -t`, and the production server block runs
(TLS, redirect, security headers, rate limits) against a real responder."""

from __future__ import annotations

import ipaddress
import os
import random
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


def test_production_rate_limits_sync_and_the_webhook_with_a_json_429(production):
    _, ports, tls = production
    with Session(ports["https"], tls=tls) as session:
        syncs = [session.post("/sync", {"secret": "x" * 20}) for _ in range(8)]
    assert syncs[0].status == 401, syncs[0]
    assert [response.status for response in syncs].count(429) >= 1, [response.status for response in syncs]
    for response in syncs:
        if response.status == 429:
            expect_error(response, 429, "RATE_LIMITED")
    # The webhook's budget is far larger (QStash's hourly burst), but bounded.
    with Session(ports["https"], tls=tls) as session:
        statuses = [session.post("/sync/process/" + "a" * 36, b"{}").status for _ in range(400)]
    # (404: this stack has no QStash group, so the responder does not route the webhook.)
    assert statuses[0] == 404 and 429 in statuses, sorted(set(statuses))
    assert statuses.index(429) >= 150, statuses.index(429)


def client_key_map(addresses_header: str) -> str:
    """nginx/igmedia-limits.conf with its map reading a request header instead of $remote_addr,
    so one loopback client can stand for any address."""
    text = (REPO / "nginx" / "igmedia-limits.conf").read_text()
    text = replace_once(text, "map $remote_addr $igmedia_client", f"map ${addresses_header} $igmedia_client")
    return replace_once(text, "$remote_addr;", f"${addresses_header};")


def expected_client_key(address: str) -> str:
    """The oracle: an IPv4 address as it is, an IPv6 address's /64 as four unpadded groups."""
    parsed = ipaddress.ip_address(address)
    if parsed.version == 4:
        return address
    if parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    return ":".join(format(int(group, 16), "x") for group in parsed.exploded.split(":")[:4])


def test_rate_limit_keys_are_an_ipv4_address_or_an_ipv6_slash_64(tmp_path):
    """Every canonical spelling nginx can put in $remote_addr maps to the address's /64."""
    rng = random.Random(64)
    addresses = ["127.0.0.1", "203.0.113.9", "::1", "::", "::ffff:198.51.100.7", "fe80::", "2001:db8::1",
                 "2001:db8:0:0:1::2", "2001:db8::1:2:3:4", "2001:db8:1:2:3:4:5:6", "2001:db8:1::5", "1::2:3:4:5:6",
                 "1:0:0:2::", "0:0:1::", "::2:3:4:5:6", "::2:3:4:5:6:7", "2001:db8:85a3::8a2e:370:7334"]
    for _ in range(300):
        # Random /64s with runs of zero groups in every position, as inet_ntop compresses them.
        groups = [rng.choice([0, 0, 0, rng.randrange(1, 0x10000)]) for _ in range(8)]
        addresses.append(str(ipaddress.IPv6Address(":".join(format(g, "x") for g in groups))))
    (tmp_path / "limits.conf").write_text(client_key_map("http_x_test_address"))
    (tmp_path / "tmp").mkdir()
    user = "user root;" if os.geteuid() == 0 else ""

    def render(conf: Path, port: int) -> None:
        conf.write_text(f"""
{user}
worker_processes 1;
daemon off;
pid {tmp_path}/keys.pid;
error_log {tmp_path}/keys-error.log warn;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {tmp_path}/tmp/client_body;
    proxy_temp_path {tmp_path}/tmp/proxy;
    fastcgi_temp_path {tmp_path}/tmp/fastcgi;
    uwsgi_temp_path {tmp_path}/tmp/uwsgi;
    scgi_temp_path {tmp_path}/tmp/scgi;
    access_log off;
    include {tmp_path}/limits.conf;
    server {{
        listen 127.0.0.1:{port};
        location / {{ return 200 "$igmedia_client"; }}
    }}
}}
""")

    nginx = Nginx(tmp_path, render, name="client-keys").start()
    try:
        wrong = []
        with Session(nginx.port) as session:
            for address in addresses:
                key = session.get("/", headers={"X-Test-Address": address}).body.decode()
                if key != expected_client_key(address):
                    wrong.append((address, key, expected_client_key(address)))
        assert wrong == []
    finally:
        nginx.stop()
