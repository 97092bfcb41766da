"""Cloudinary fake: signatures agree with the official pycloudinary SDK, which also drives uploads
(remote URLs from the Instagram fake's CDN), destroy and delete_resources_by_tag."""

from __future__ import annotations

import base64
import random
import time

import cloudinary
import cloudinary.api
import cloudinary.exceptions
import cloudinary.uploader
import cloudinary.utils
import pytest
import requests

from Tests.fakes.cloudinary import sign, signature_matches, string_to_sign
from Tests.fakes.media import fake_jpeg

KEY, SECRET, CLOUD = "111222333444555", "abcd", "testcloud"
JPEG_URI = "data:image/jpeg;base64," + base64.b64encode(fake_jpeg("upload-test", 640, 480)).decode()


@pytest.fixture
def sdk(cloudinary_fake):
    cloudinary.reset_config()
    cloudinary.config(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET, upload_prefix=cloudinary_fake.base_url)
    yield cloudinary
    cloudinary.reset_config()


def upload_url(fake, rtype="image", action="upload"):
    return "%s/v1_1/%s/%s/%s" % (fake.base_url, CLOUD, rtype, action)


# ---- signatures ---------------------------------------------------------------------------------

VECTORS = [
    ({"eager": "w_400,h_300,c_pad|w_260,h_200,c_crop", "public_id": "sample_image", "timestamp": "1315060510"},
     "abcd", "bfd09f95f331f558cbd1320e67aa8d488770583e",
     "cc927e1290f9e3ae4c1a741eda21a4630b4ce80f9ce0bc0296337d25cf40f91e"),
    ({"cloud_name": "dn6ot3ged", "timestamp": "1568810420", "username": "user@cloudinary.com"},
     "hdcixPpR2iKERPwqvH6sHdK9cyac", "14c00ba6d0dfdedbc86b316847d95b9e6cd46d94",
     "45ddaa4fa01f0c2826f32f669d2e4514faf275fe6df053f1a150e7beae58a3bd"),
    ({"cloud_name": "dn6ot3ged", "notification_url": "https://fake.com/callback?a=1&tags=hello,world",
      "timestamp": "1568810420"}, "hdcixPpR2iKERPwqvH6sHdK9cyac", "4fdf465dd89451cc1ed8ec5b3e314e8a51695704", None),
    ({"folder": "tenant1/ig", "overwrite": "true", "public_id": "17895695668004550", "tags": "tenant_t1,ig",
      "timestamp": "1700000000"}, "abcd", "3bb00caf55ce60b253b15ca0effee8c7dad9a8f3",
     "391117c1dcd9e98023fc59116d817741653de0bf03e1e258429fad8a2e124c10"),
    ({"public_id": "tenant1/ig/17895695668004550", "timestamp": "1700000000"}, "abcd",
     "0f8d272ea0a6c8744b0f1ae922c7d3b71108c5ac", None),
]


@pytest.mark.parametrize("params,secret,sha1,sha256", VECTORS)
def test_reference_signature_vectors(params, secret, sha1, sha256):
    assert sign(params, secret, "sha1", exclude=()) == sha1
    assert cloudinary.utils.api_sign_request(params, secret) == sha1
    if sha256:
        assert sign(params, secret, "sha256", exclude=()) == sha256
    assert signature_matches(params, sha1, secret) == ("cloud_name" not in params)


def random_params(rng: random.Random, now: int) -> dict:
    pool = {
        "public_id": lambda: "tenant%d/ig/%d" % (rng.randint(1, 99), rng.randint(10 ** 16, 10 ** 17)),
        "folder": lambda: rng.choice(["tenant1/ig", "a b/c", "ünï/cödé"]),
        "tags": lambda: rng.sample(["tenant_t1", "ig", "x y", "café"], rng.randint(1, 3)),
        "overwrite": lambda: rng.choice([True, False]),
        "invalidate": lambda: rng.choice([True, False]),
        "notification_url": lambda: "https://cb.example/h?a=%d&b=c=d" % rng.randint(0, 9),
        "context": lambda: "alt=x&y|caption=%d" % rng.randint(0, 99),
        "eager": lambda: "w_%d,h_300,c_pad|w_260,h_200,c_crop" % rng.randint(100, 900),
        "unique_filename": lambda: rng.choice([True, False]),
        "type": lambda: "upload",
    }
    names = rng.sample(sorted(pool), rng.randint(1, len(pool)))
    params = {n: pool[n]() for n in names}
    params["timestamp"] = now - rng.randint(0, 3000)
    return params


def test_random_parameter_sets_agree_with_sdk_signing(cloudinary_fake):
    rng = random.Random(20240601)
    now = int(time.time())
    for i in range(25):
        raw = random_params(rng, now)
        algo = "sha256" if i % 2 else "sha1"
        signed = cloudinary.utils.sign_request(dict(raw), {"api_key": KEY, "api_secret": SECRET,
                                                           "signature_algorithm": algo})
        sdk_sig = signed["signature"]
        assert len(sdk_sig) == (64 if algo == "sha256" else 40)
        cleaned = {k: v for k, v in signed.items() if k not in ("signature", "api_key")}
        assert string_to_sign(cleaned) == cloudinary.utils.api_string_to_sign(cleaned)
        assert signature_matches(cleaned, sdk_sig, SECRET)
        # Over the wire, as the SDK's uploader sends them (lists as name[] fields)
        fields = []
        for k, v in signed.items():
            if isinstance(v, list):
                fields += [(k + "[]", (None, str(x))) for x in v]
            else:
                fields.append((k, (None, str(v))))
        fields.append(("file", (None, JPEG_URI)))
        r = requests.post(upload_url(cloudinary_fake), files=fields)
        assert r.status_code == 200, (i, r.text)
        tampered = [(k, (None, str(int(v[1]) - 1))) if k == "timestamp" else (k, v) for k, v in fields]
        r = requests.post(upload_url(cloudinary_fake), files=tampered)
        assert r.status_code == 401 and r.json()["error"]["message"].startswith("Invalid Signature")


# ---- uploads via the SDK ----------------------------------------------------------------------------

def test_sdk_uploads_remote_urls_from_instagram_cdn(sdk, cloudinary_fake, instagram):
    acct = instagram.create_account(media_count=4)
    tok = instagram.mint_token(acct["ig_user_id"])
    media = requests.get(instagram.graph_url + "/v23.0/me/media",
                         params={"access_token": tok, "fields": "id,media_type,media_url,thumbnail_url"}).json()["data"]
    image = next(m for m in media if m["media_type"] == "IMAGE")
    video = next(m for m in media if m["media_type"] == "VIDEO")
    res = cloudinary.uploader.upload(image["media_url"], public_id=image["id"], folder="tenant1/ig",
                                     tags=["tenant_t1", "ig"], overwrite=True, invalidate=True)
    assert res["public_id"] == "tenant1/ig/" + image["id"] and res["resource_type"] == "image"
    assert res["format"] == "jpg" and (res["width"], res["height"]) == (1080, 1350)
    assert res["tags"] == ["tenant_t1", "ig"] and "overwritten" not in res and res["request_id"]
    assert res["secure_url"].startswith(cloudinary_fake.base_url + "/res/%s/image/upload/v%d/" % (CLOUD, res["version"]))
    assert requests.get(res["secure_url"]).content == requests.get(image["media_url"]).content
    again = cloudinary.uploader.upload(image["media_url"], public_id=image["id"], folder="tenant1/ig",
                                       tags=["tenant_t1", "ig"], overwrite=True)
    assert again["overwritten"] is True and again["version"] > res["version"]
    kept = cloudinary.uploader.upload(JPEG_URI, public_id=image["id"], folder="tenant1/ig", overwrite=False)
    assert kept["existing"] is True and kept["version"] == again["version"]
    vid = cloudinary.uploader.upload(video["media_url"], public_id=video["id"], resource_type="video")
    assert vid["resource_type"] == "video" and vid["format"] == "mp4"
    thumb = cloudinary.uploader.upload(video["thumbnail_url"], public_id=video["id"] + "_thumb")
    assert thumb["format"] == "jpg"
    fetches = cloudinary_fake.remote_fetches
    assert [f["status"] for f in fetches] == [200, 200, 200, 200]
    # the upload went out as a signed multipart form with the remote URL as a plain value
    req = cloudinary_fake.requests("/v1_1/")[0]
    assert req.content_type == "multipart/form-data"
    assert cloudinary_fake.counters()["uploads"] == 4 and cloudinary_fake.counters()["overwrites"] == 1


def test_expired_cdn_url_is_resource_not_found(sdk, cloudinary_fake, instagram):
    acct = instagram.create_account(media_count=1)
    tok = instagram.mint_token(acct["ig_user_id"])
    url = requests.get(instagram.graph_url + "/me/media",
                       params={"access_token": tok, "fields": "media_url"}).json()["data"][0]["media_url"]
    instagram.clock.advance(instagram.cdn_ttl + 1)
    with pytest.raises(cloudinary.exceptions.BadRequest, match="Resource not found - "):
        cloudinary.uploader.upload(url, public_id="gone")
    assert cloudinary_fake.remote_fetches[-1]["status"] == 403


def test_destroy_and_delete_by_tag_pages(sdk, cloudinary_fake):
    for i in range(5):
        cloudinary.uploader.upload(JPEG_URI, public_id="t/ig/%d" % i, tags=["tenant_t1"])
    cloudinary.uploader.upload(JPEG_URI, public_id="other", tags=["tenant_t2"])
    assert cloudinary.uploader.destroy("t/ig/0")["result"] == "ok"
    assert cloudinary.uploader.destroy("t/ig/0")["result"] == "not found"
    assert cloudinary.uploader.destroy("t/ig/1", resource_type="video")["result"] == "not found"
    pages, cursor = [], None
    while True:
        opts = {"next_cursor": cursor} if cursor else {}
        res = cloudinary.api.delete_resources_by_tag("tenant_t1", **opts)
        pages.append(res)
        assert res.rate_limit_allowed == 500 and res.rate_limit_remaining is not None
        cursor = res.get("next_cursor")
        if not cursor:
            break
    assert [len(p["deleted"]) for p in pages] == [2, 2]
    assert [p["partial"] for p in pages] == [True, False]
    assert pages[0]["deleted_counts"]["t/ig/1"] == {"original": 1, "derived": 0}
    assert [a["public_id"] for a in cloudinary_fake.list_assets()] == ["other"]
    # params also accepted from the query string and form bodies; Basic auth is mandatory
    auth = (KEY, SECRET)
    url = cloudinary_fake.base_url + "/v1_1/%s/resources/image/tags/tenant_t2" % CLOUD
    assert requests.delete(url + "?keep_original=true", auth=auth).json()["deleted"] == {"other": "deleted"}
    assert cloudinary_fake.list_assets()  # keep_original kept it
    assert requests.delete(url, data={"invalidate": "true"}, auth=auth).json()["deleted"] == {"other": "deleted"}
    r = requests.delete(url)
    assert r.status_code == 401 and "error" in r.json()
    assert requests.delete(url, auth=(KEY, "wrong")).status_code == 401


def test_admin_rate_limit(sdk, cloudinary_fake):
    cloudinary_fake.clock.freeze()  # no hour boundary in the middle of the test
    cloudinary_fake.admin_rate_limit = 2
    cloudinary.api.delete_resources_by_tag("a")
    res = cloudinary.api.delete_resources_by_tag("a")
    assert res.rate_limit_remaining == 0
    with pytest.raises(cloudinary.exceptions.RateLimited):
        cloudinary.api.delete_resources_by_tag("a")
    cloudinary_fake.rate_limit_status = 429
    r = requests.delete(cloudinary_fake.base_url + "/v1_1/%s/resources/image/tags/a" % CLOUD, auth=(KEY, SECRET))
    assert r.status_code == 429 and r.headers["X-FeatureRateLimit-Remaining"] == "0"
    cloudinary_fake.clock.advance(3600)  # next hour: the counter resets
    assert cloudinary.api.delete_resources_by_tag("a").rate_limit_remaining == 1


# ---- auth failures -----------------------------------------------------------------------------------

def _signed(params, secret=SECRET):
    return dict(params, signature=sign(params, secret), api_key=KEY)


def test_wrong_signature_unknown_key_stale_and_basic_auth(cloudinary_fake):
    now = int(time.time())
    base = {"public_id": "x", "timestamp": str(now)}
    ok = requests.post(upload_url(cloudinary_fake), data=dict(_signed(base), file=JPEG_URI))
    assert ok.status_code == 200  # urlencoded bodies are accepted too
    bad = requests.post(upload_url(cloudinary_fake), data=dict(_signed(base, "not-the-secret"), file=JPEG_URI))
    assert bad.status_code == 401
    assert bad.json()["error"]["message"].startswith("Invalid Signature")
    assert "public_id=x&timestamp=" in bad.json()["error"]["message"] and SECRET not in bad.text
    unknown = requests.post(upload_url(cloudinary_fake), data=dict(_signed(base), api_key="999", file=JPEG_URI))
    assert unknown.status_code == 401
    stale = {"public_id": "x", "timestamp": str(now - 3700)}
    r = requests.post(upload_url(cloudinary_fake), data=dict(_signed(stale), file=JPEG_URI))
    assert r.status_code == 400 and r.json()["error"]["message"].startswith("Stale request")
    r = requests.post(upload_url(cloudinary_fake), data={"public_id": "basic", "file": JPEG_URI}, auth=(KEY, SECRET))
    assert r.status_code == 200 and r.json()["public_id"] == "basic"
    assert requests.post(upload_url(cloudinary_fake), data={"file": JPEG_URI}, auth=(KEY, "no")).status_code == 401
    cloudinary_fake.signature_error_status = 400
    bad = requests.post(upload_url(cloudinary_fake), data=dict(_signed(base, "nope"), file=JPEG_URI))
    assert bad.status_code == 400


def test_response_signature_and_version_follow_the_fake_clock(cloudinary_fake):
    cloudinary_fake.clock.set(1312461204)
    cloudinary_fake.clock.freeze()
    params = {"public_id": "sample", "timestamp": "1312461204"}
    res = requests.post(upload_url(cloudinary_fake), data=dict(_signed(params), file=JPEG_URI)).json()
    assert res["version"] == 1312461204
    assert res["signature"] == "7332b60d1da7033c332c59cb66dac31f72acc44c"
    assert res["created_at"] == "2011-08-04T12:33:24Z"


def test_upload_faults(sdk, cloudinary_fake):
    cloudinary_fake.add_fault(preset="general_error")
    with pytest.raises(cloudinary.exceptions.GeneralError):
        cloudinary.uploader.upload(JPEG_URI, public_id="f1")
    cloudinary_fake.add_fault(preset="locked")
    r = requests.post(upload_url(cloudinary_fake, action="upload"), data={"file": JPEG_URI}, auth=(KEY, SECRET))
    assert r.status_code == 423 and "message" in r.json()["error"]
    cloudinary_fake.add_fault(preset="html", params={"status": 502})
    with pytest.raises(cloudinary.exceptions.Error):
        cloudinary.uploader.upload(JPEG_URI, public_id="f2")
    # timeout after the asset was stored: the client gives up, the asset exists anyway
    cloudinary_fake.add_fault(action="delay_after", delay_after_ms=1500)
    with pytest.raises(Exception):
        cloudinary.uploader.upload(JPEG_URI, public_id="slow", timeout=0.3)
    assert cloudinary_fake.asset("slow") is not None
    with pytest.raises(cloudinary.exceptions.BadRequest, match="Invalid image file"):
        cloudinary.uploader.upload("data:text/plain;base64,aGVsbG8=", public_id="txt")
