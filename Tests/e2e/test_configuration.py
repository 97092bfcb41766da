"""Startup configuration errors: exit 78, every variable named, no value ever printed."""

import subprocess

STORAGE_VARIABLES = ("REDIS_URL", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN")


def run_serve(binary, tmp_path, env):
    socket = tmp_path / "fcgi.sock"
    result = subprocess.run(
        [str(binary), "serve", "--socket", str(socket)],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    assert not socket.exists(), "a misconfigured responder must not listen"
    return result


def test_empty_environment_exits_78_naming_every_required_variable(igmedia_bin, tmp_path):
    result = run_serve(igmedia_bin, tmp_path, env={})
    assert result.returncode == 78, result
    for name in ("ENCRYPTION_KEY", "SYNC_INTERNAL_SECRET", *STORAGE_VARIABLES):
        assert name in result.stderr, result.stderr


def test_invalid_values_are_named_but_never_printed(igmedia_bin, tmp_path):
    secrets = {
        "ENCRYPTION_KEY": "c2hvcnQtc2VjcmV0LWtleS12YWx1ZQ==",  # base64, but not of 32 bytes
        "SYNC_INTERNAL_SECRET": "short-Secret9",  # under 16 characters
        "UPSTASH_REDIS_REST_URL": "https://upstash-host-4242.example",  # token missing
        "QSTASH_TOKEN": "qstash-token-value-9876",  # signing keys missing
        "CLOUDINARY_API_SECRET": "cloudinary-secret-5555",  # cloud name and key missing
        "MAX_BODY_BYTES": "77777777777",  # out of range
    }
    result = run_serve(igmedia_bin, tmp_path, env=secrets)
    assert result.returncode == 78, result
    output = result.stdout + result.stderr
    for name in ("ENCRYPTION_KEY", "SYNC_INTERNAL_SECRET", "UPSTASH_REDIS_REST_TOKEN",
                 "QSTASH_CURRENT_SIGNING_KEY", "CLOUDINARY_CLOUD_NAME", "MAX_BODY_BYTES"):
        assert name in output, output
    for value in secrets.values():
        assert value not in output, f"configuration error output leaks a value: {output}"
