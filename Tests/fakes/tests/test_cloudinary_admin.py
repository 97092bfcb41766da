"""Cloudinary fake, Admin API (next-capabilities §6.5–6.7): list and delete by prefix with real
cursors, delete by tag resuming from its cursor, the hourly rate limit, faults on the N-th call,
and the seed/count helpers — over real HTTP on loopback (the pycloudinary SDK where it helps)."""

from __future__ import annotations

import base64
import email.utils

import cloudinary
import cloudinary.api
import cloudinary.exceptions
import cloudinary.uploader
import pytest
import requests

from Tests.fakes.media import fake_jpeg

KEY, SECRET, CLOUD = "111222333444555", "abcd", "testcloud"
AUTH = (KEY, SECRET)
JPEG_URI = "data:image/jpeg;base64," + base64.b64encode(fake_jpeg("admin-test", 640, 480)).decode()


@pytest.fixture
def sdk(cloudinary_fake):
    cloudinary.reset_config()
    cloudinary.config(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET, upload_prefix=cloudinary_fake.base_url)
    yield cloudinary
    cloudinary.reset_config()


def admin_url(fake, rtype="image", tail="upload"):
    return "%s/v1_1/%s/resources/%s/%s" % (fake.base_url, CLOUD, rtype, tail)


def delete_all(fake, prefix, rtype="image", **extra):
    """A client's loop: DELETE until partial is false; returns the answers."""
    answers, cursor = [], None
    while True:
        params = dict(extra, prefix=prefix, **({"next_cursor": cursor} if cursor else {}))
        r = requests.delete(admin_url(fake, rtype), params=params, auth=AUTH, timeout=10)
        assert r.status_code == 200, r.text
        answers.append(r.json())
        cursor = r.json().get("next_cursor")
        if not r.json()["partial"]:
            assert cursor is None
            return answers
        assert cursor


# ---- list by prefix -----------------------------------------------------------------------------

def test_list_by_prefix_pages_with_an_opaque_cursor_and_the_listing_shape(sdk, cloudinary_fake):
    ids = cloudinary_fake.seed_assets("tenant1/", 23, tags=["tenant_t1", "ig"])
    cloudinary_fake.seed_assets("tenant10/", 4)  # a plain string match: "tenant1" would catch these
    cloudinary_fake.seed_assets("tenant1/", 2, resource_type="video", start=100)  # other resource type
    pages, cursor = [], None
    while True:
        page = cloudinary.api.resources(type="upload", prefix="tenant1/", max_results=10,
                                        **({"next_cursor": cursor} if cursor else {}))
        pages.append(page)
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert [len(p["resources"]) for p in pages] == [10, 10, 3]
    assert "next_cursor" not in pages[-1]
    assert [r["public_id"] for p in pages for r in p["resources"]] == ids
    first = pages[0]["resources"][0]
    assert first["public_id"] == "tenant1/000000" and first["resource_type"] == "image" and first["type"] == "upload"
    assert first["secure_url"] == "%s/%s/image/upload/v%d/tenant1/000000.jpg" % (
        cloudinary_fake.res_url, CLOUD, first["version"])
    assert (first["width"], first["height"]) == (1080, 1350) and first["bytes"] > 0 and first["format"] == "jpg"
    assert first["created_at"].endswith("Z") and first["asset_id"] and first["asset_folder"] == "tenant1"
    assert "tags" not in first  # only with tags=true, as Cloudinary does
    assert not {"signature", "api_key", "etag", "version_id", "data"} & set(first)
    assert requests.get(first["secure_url"]).content[:3] == b"\xff\xd8\xff"  # a seeded asset is deliverable
    # the cursor is opaque (hex), not the public id in clear
    assert all(c in "0123456789abcdef" for c in pages[0]["next_cursor"]) and "tenant1/" not in pages[0]["next_cursor"]
    raw = requests.get(admin_url(cloudinary_fake), params={"prefix": "tenant1/", "tags": "true"}, auth=AUTH).json()
    assert len(raw["resources"]) == 10  # max_results defaults to 10
    assert raw["resources"][0]["tags"] == ["tenant_t1", "ig"]
    big = requests.get(admin_url(cloudinary_fake), params={"prefix": "tenant", "max_results": 900}, auth=AUTH).json()
    assert len(big["resources"]) == 27 and "next_cursor" not in big  # tenant1/ (23) + tenant10/ (4), clamped ≤ 500
    videos = cloudinary.api.resources(type="upload", prefix="tenant1/", resource_type="video")
    assert [r["public_id"] for r in videos["resources"]] == ["tenant1/000100", "tenant1/000101"]
    assert videos["resources"][0]["secure_url"].endswith(".mp4") and videos["resources"][0]["duration"] == 10.0


def test_the_list_cursor_resumes_where_the_page_stopped(cloudinary_fake):
    ids = cloudinary_fake.seed_assets("r/", 30)
    page1 = requests.get(admin_url(cloudinary_fake), params={"prefix": "r/", "max_results": 10}, auth=AUTH).json()
    # between the two calls the first page is deleted and an asset sorting before the cursor appears
    requests.delete(admin_url(cloudinary_fake), params=[("public_ids[]", i) for i in ids[:10]], auth=AUTH)
    cloudinary_fake.seed_assets("r/", 1, start=5)
    page2 = requests.get(admin_url(cloudinary_fake), auth=AUTH,
                         params={"prefix": "r/", "max_results": 10, "next_cursor": page1["next_cursor"]}).json()
    assert [r["public_id"] for r in page2["resources"]] == ids[10:20]
    page3 = requests.get(admin_url(cloudinary_fake), auth=AUTH,
                         params={"prefix": "r/", "max_results": 500, "next_cursor": page2["next_cursor"]}).json()
    assert [r["public_id"] for r in page3["resources"]] == ids[20:] and "next_cursor" not in page3
    # a forged cursor, or one from another prefix, is refused
    bad = requests.get(admin_url(cloudinary_fake), auth=AUTH,
                       params={"prefix": "r/", "next_cursor": page1["next_cursor"][:-2] + "00"})
    assert bad.status_code == 400 and "next_cursor" in bad.json()["error"]["message"]
    other = requests.get(admin_url(cloudinary_fake), auth=AUTH,
                         params={"prefix": "s/", "next_cursor": page1["next_cursor"]})
    assert other.status_code == 400
    # prefix filtering needs the delivery type in the path
    assert requests.get(admin_url(cloudinary_fake, tail="").rstrip("/"), params={"prefix": "r/"},
                        auth=AUTH).status_code == 400
    every = requests.get(admin_url(cloudinary_fake, tail="").rstrip("/"), params={"max_results": 500}, auth=AUTH)
    assert every.status_code == 200 and len(every.json()["resources"]) == 21


def test_list_by_tag_pages_too(sdk, cloudinary_fake):
    ids = cloudinary_fake.seed_assets("t/", 12, tags=["tenant_t9"])
    cloudinary_fake.seed_assets("u/", 3, tags=["other"])
    first = cloudinary.api.resources_by_tag("tenant_t9", max_results=5)
    second = cloudinary.api.resources_by_tag("tenant_t9", max_results=5, next_cursor=first["next_cursor"])
    third = cloudinary.api.resources_by_tag("tenant_t9", max_results=5, next_cursor=second["next_cursor"])
    assert [r["public_id"] for p in (first, second, third) for r in p["resources"]] == ids
    assert "next_cursor" not in third


# ---- delete by prefix ---------------------------------------------------------------------------

def test_2500_seeded_assets_are_deleted_by_prefix_in_three_calls(cloudinary_fake):
    cloudinary_fake.delete_page_size = 1000  # Cloudinary's limit (the fixture uses 2)
    ids = cloudinary_fake.seed_assets("instagram-media/t1/", 2500)
    cloudinary_fake.seed_assets("instagram-media/t10/", 3)
    cloudinary_fake.seed_assets("instagram-media/t1/", 2, resource_type="video", start=9000)
    assert cloudinary_fake.count_assets("instagram-media/t1/") == 2502
    answers = delete_all(cloudinary_fake, "instagram-media/t1/")
    assert [len(a["deleted"]) for a in answers] == [1000, 1000, 500]
    assert [a["partial"] for a in answers] == [True, True, False]
    assert sorted(k for a in answers for k in a["deleted"]) == ids
    assert set(v for a in answers for v in a["deleted"].values()) == {"deleted"}
    assert answers[0]["deleted_counts"][ids[0]] == {"original": 1, "derived": 0}
    assert set(answers[1]["deleted_counts"]) == set(answers[1]["deleted"])
    assert cloudinary_fake.count_assets("instagram-media/t1/", resource_type="image") == 0
    assert cloudinary_fake.count_assets("instagram-media/t1/", resource_type="video") == 2  # one call per type
    assert cloudinary_fake.count_assets("instagram-media/t10/") == 3
    counters = cloudinary_fake.all_counters()
    assert counters["deleted_by_prefix"] == 2500 and counters["admin_calls"] == 3 and counters["seeded"] == 2505
    assert delete_all(cloudinary_fake, "instagram-media/t1/", rtype="video")[0]["deleted"] == {
        "instagram-media/t1/009000": "deleted", "instagram-media/t1/009001": "deleted"}


@pytest.mark.parametrize("how", ["query", "form", "json", "json_array", "query_array", "sdk"])
def test_delete_by_prefix_params_in_query_form_or_json(sdk, cloudinary_fake, how):
    cloudinary_fake.delete_page_size = 3
    cloudinary_fake.seed_assets("p/", 5)
    cloudinary_fake.seed_assets("q/", 1)
    url = admin_url(cloudinary_fake)

    def call(cursor=None):
        extra = {"next_cursor": cursor} if cursor else {}
        if how == "sdk":
            return dict(cloudinary.api.delete_resources_by_prefix("p/", **extra))
        if how == "query":
            r = requests.delete(url, params=dict(prefix="p/", **extra), auth=AUTH)
        elif how == "query_array":
            r = requests.delete(url, params=[("prefix[]", "p/")] + list(extra.items()), auth=AUTH)
        elif how == "form":
            r = requests.delete(url, data=dict(prefix="p/", **extra), auth=AUTH)
        else:
            r = requests.delete(url, json=dict(prefix=["p/"] if how == "json_array" else "p/", **extra), auth=AUTH)
        assert r.status_code == 200, r.text
        return r.json()

    first = call()
    assert first["partial"] is True and len(first["deleted"]) == 3
    second = call(first["next_cursor"])
    assert second["partial"] is False and "next_cursor" not in second
    assert sorted(second["deleted"]) == ["p/000003", "p/000004"]
    assert cloudinary_fake.count_assets("p/") == 0 and cloudinary_fake.count_assets("q/") == 1


def test_prefix_edge_cases(cloudinary_fake):
    cloudinary_fake.seed_assets("x/", 2)
    two = requests.delete(admin_url(cloudinary_fake), json={"prefix": ["x/", "y/"]}, auth=AUTH)
    assert two.status_code == 400
    assert cloudinary_fake.count_assets("x/") == 2
    nothing = requests.delete(admin_url(cloudinary_fake), params={"prefix": "nope/"}, auth=AUTH).json()
    assert nothing == {"deleted": {}, "deleted_counts": {}, "partial": False}
    # delete by public ids, with not_found for the unknown one
    by_ids = requests.delete(admin_url(cloudinary_fake), params=[("public_ids[]", "x/000000"), ("public_ids[]", "zz")],
                             auth=AUTH).json()
    assert by_ids["deleted"] == {"x/000000": "deleted", "zz": "not_found"} and by_ids["partial"] is False
    unauth = requests.delete(admin_url(cloudinary_fake), params={"prefix": "x/"})
    assert unauth.status_code == 401 and cloudinary_fake.count_assets("x/") == 1


def test_cursors_resume_with_keep_original_for_prefix_and_tag(cloudinary_fake):
    ids = cloudinary_fake.seed_assets("k/", 5, tags=["keep"])  # page size 2 (fixture)
    seen, cursor = [], None
    while True:
        body = requests.delete(admin_url(cloudinary_fake), auth=AUTH, params=dict(
            prefix="k/", keep_original="true", **({"next_cursor": cursor} if cursor else {}))).json()
        seen.append(sorted(body["deleted"]))
        assert all(c == {"original": 0, "derived": 0} for c in body["deleted_counts"].values())
        cursor = body.get("next_cursor")
        if not cursor:
            break
    assert seen == [ids[0:2], ids[2:4], ids[4:5]]  # nothing was deleted, yet every page moved on
    assert cloudinary_fake.count_assets("k/") == 5
    tag_url = admin_url(cloudinary_fake, tail="tags/keep")
    seen, cursor = [], None
    while True:
        body = requests.delete(tag_url, auth=AUTH, data=dict(
            keep_original="true", **({"next_cursor": cursor} if cursor else {}))).json()
        seen.append(sorted(body["deleted"]))
        cursor = body.get("next_cursor")
        if not body["partial"]:
            break
    assert seen == [ids[0:2], ids[2:4], ids[4:5]]
    # for real this time, by tag: 3 calls, counted as deleted_by_tag
    answers = []
    cursor = None
    while True:
        body = requests.delete(tag_url, auth=AUTH, json={"next_cursor": cursor} if cursor else {}).json()
        answers.append(body)
        cursor = body.get("next_cursor")
        if not body["partial"]:
            break
    assert [len(a["deleted"]) for a in answers] == [2, 2, 1]
    assert cloudinary_fake.count_assets("k/") == 0 and cloudinary_fake.all_counters()["deleted_by_tag"] == 5
    # a prefix cursor is no tag cursor
    cloudinary_fake.seed_assets("k/", 3, tags=["keep"])
    prefix_cursor = requests.delete(admin_url(cloudinary_fake), params={"prefix": "k/", "keep_original": 1},
                                    auth=AUTH).json()["next_cursor"]
    assert requests.delete(tag_url, params={"next_cursor": prefix_cursor}, auth=AUTH).status_code == 400


def test_uploaded_public_ids_are_matched_by_prefix(sdk, cloudinary_fake):
    """igmedia uploads `public_id=instagram-media/<tenantId>/<mediaId>` (no `folder`); the SDK's
    `folder` option is a prefix of the public id too."""
    for mid in ("17895695668004550", "17895695668004551"):
        res = cloudinary.uploader.upload(JPEG_URI, public_id="instagram-media/t1/" + mid, tags=["tenant_t1"],
                                         overwrite=True, invalidate=True)
        assert res["public_id"] == "instagram-media/t1/" + mid
    folded = cloudinary.uploader.upload(JPEG_URI, public_id="17895695668004552", folder="instagram-media/t1")
    assert folded["public_id"] == "instagram-media/t1/17895695668004552"
    cloudinary.uploader.upload(JPEG_URI, public_id="instagram-media/t10/1")
    assert cloudinary_fake.count_assets("instagram-media/t1/") == 3
    listed = cloudinary.api.resources(type="upload", prefix="instagram-media/t1/", max_results=500)
    assert [r["public_id"] for r in listed["resources"]] == [
        "instagram-media/t1/17895695668004550", "instagram-media/t1/17895695668004551",
        "instagram-media/t1/17895695668004552"]
    assert (listed["resources"][0]["width"], listed["resources"][0]["height"]) == (640, 480)
    assert dict(cloudinary.api.delete_resources_by_prefix("instagram-media/t1/"))["partial"] is True  # pages of 2
    assert cloudinary_fake.count_assets("instagram-media/t1/") == 1
    assert [a["public_id"] for a in cloudinary_fake.list_assets(prefix="instagram-media/")] == [
        "instagram-media/t1/17895695668004552", "instagram-media/t10/1"]


# ---- rate limit (§6.7) -------------------------------------------------------------------------------

def test_hourly_admin_limit_answers_420_with_the_reset_header(sdk, cloudinary_fake):
    cloudinary_fake.clock.set(1700000000 + 1200)  # 20 minutes into an hour
    cloudinary_fake.clock.freeze()
    cloudinary_fake.admin_rate_limit = 3
    cloudinary_fake.seed_assets("lim/", 10)
    remaining = []
    for call in (lambda: requests.get(admin_url(cloudinary_fake), params={"prefix": "lim/"}, auth=AUTH),
                 lambda: requests.delete(admin_url(cloudinary_fake), params={"prefix": "lim/"}, auth=AUTH),
                 lambda: requests.delete(admin_url(cloudinary_fake, tail="tags/none"), auth=AUTH)):
        r = call()
        assert r.status_code == 200
        assert r.headers["X-FeatureRateLimit-Limit"] == "3"
        remaining.append(r.headers["X-FeatureRateLimit-Remaining"])
    assert remaining == ["2", "1", "0"]
    assert requests.delete(admin_url(cloudinary_fake), params={"prefix": "lim/"}).status_code == 401  # not counted
    over = requests.delete(admin_url(cloudinary_fake), params={"prefix": "lim/"}, auth=AUTH)
    assert over.status_code == 420 and over.json() == {"error": {"message": "Rate Limit Exceeded"}}
    assert over.headers["X-FeatureRateLimit-Remaining"] == "0"
    reset = email.utils.parsedate_to_datetime(over.headers["X-FeatureRateLimit-Reset"]).timestamp()
    assert reset == 1700000000 - 1700000000 % 3600 + 3600
    assert cloudinary_fake.count_assets("lim/") == 8  # the refused call deleted nothing
    with pytest.raises(cloudinary.exceptions.RateLimited):
        cloudinary.api.resources(type="upload", prefix="lim/")
    cloudinary_fake.rate_limit_status = 429
    assert requests.get(admin_url(cloudinary_fake), params={"prefix": "lim/"}, auth=AUTH).status_code == 429
    assert cloudinary_fake.all_counters()["rate_limited"] == 3
    cloudinary_fake.clock.set(reset)  # the next hour
    fresh = requests.get(admin_url(cloudinary_fake), params={"prefix": "lim/"}, auth=AUTH)
    assert fresh.status_code == 200 and fresh.headers["X-FeatureRateLimit-Remaining"] == "2"


# ---- faults on the N-th delete ---------------------------------------------------------------------

@pytest.mark.parametrize("fault,status", [
    ({"status": 500, "body": {"error": {"message": "General Error"}}}, 500),
    ({"preset": "rate_limited"}, 420),
    ({"preset": "unavailable"}, 503),
])
def test_the_second_delete_fails_and_a_retry_with_the_same_cursor_finishes(cloudinary_fake, fault, status):
    cloudinary_fake.delete_page_size = 1000
    cloudinary_fake.seed_assets("n/", 2500)
    cloudinary_fake.add_fault(dict(fault, match={"method": "DELETE", "path_regex": "/resources/image/upload$"},
                                   skip=1, count=1))
    statuses, cursor, calls = [], None, 0
    while calls < 10:
        calls += 1
        r = requests.delete(admin_url(cloudinary_fake), auth=AUTH,
                            params=dict(prefix="n/", **({"next_cursor": cursor} if cursor else {})))
        statuses.append(r.status_code)
        if r.status_code != 200:
            assert r.json()["error"]["message"]
            if status == 420:
                assert r.headers["X-FeatureRateLimit-Remaining"] == "0" and r.headers["X-FeatureRateLimit-Reset"]
            assert cloudinary_fake.count_assets("n/") == 1500  # the failed call deleted nothing
            continue  # retry with the same cursor
        cursor = r.json().get("next_cursor")
        if not r.json()["partial"]:
            break
    assert statuses == [200, status, 200, 200]
    assert cloudinary_fake.count_assets("n/") == 0


def test_a_delete_whose_answer_is_lost_still_converges(cloudinary_fake):
    """`close_after`: the fake deletes the page, then drops the connection; the client retries the
    cursor it had, which resumes after the last id it knew about."""
    cloudinary_fake.delete_page_size = 1000
    cloudinary_fake.seed_assets("lost/", 2500)
    cloudinary_fake.add_fault(match={"method": "DELETE", "path_prefix": "/v1_1/"}, skip=1, action="close_after")
    first = requests.delete(admin_url(cloudinary_fake), params={"prefix": "lost/"}, auth=AUTH).json()
    with pytest.raises(requests.ConnectionError):
        requests.delete(admin_url(cloudinary_fake), params={"prefix": "lost/", "next_cursor": first["next_cursor"]},
                        auth=AUTH)
    assert cloudinary_fake.count_assets("lost/") == 500
    again = requests.delete(admin_url(cloudinary_fake), params={"prefix": "lost/", "next_cursor": first["next_cursor"]},
                            auth=AUTH).json()
    assert len(again["deleted"]) == 500 and again["partial"] is False
    assert cloudinary_fake.count_assets("lost/") == 0


# ---- seed / count through the control API (subprocess users) -----------------------------------------

def test_seed_and_count_via_the_control_api(cloudinary_fake):
    r = requests.post(cloudinary_fake.base_url + "/__control/assets/seed",
                      json={"prefix": "instagram-media/t7/", "count": 1500, "resource_type": "video", "tags": "a,b"})
    assert r.json() == {"count": 1500, "first": "instagram-media/t7/000000", "last": "instagram-media/t7/001499"}
    count = requests.get(cloudinary_fake.base_url + "/__control/assets/count",
                         params={"prefix": "instagram-media/t7/"}).json()
    assert count == {"count": 1500}
    assert requests.get(cloudinary_fake.base_url + "/__control/assets/count",
                        params={"prefix": "instagram-media/t7/", "resource_type": "image"}).json() == {"count": 0}
    some = requests.get(cloudinary_fake.base_url + "/__control/assets", params={"prefix": "instagram-media/t7/00149"})
    assert [a["public_id"] for a in some.json()["assets"]][:2] == ["instagram-media/t7/001490", "instagram-media/t7/001491"]
    assert some.json()["assets"][0]["tags"] == ["a", "b"] and some.json()["assets"][0]["format"] == "mp4"
