"""What the tenant-lifecycle tests need from the fakes: Cloudinary's list and delete by prefix with
paging (driven by the official pycloudinary SDK), Instagram's debug_token and the dead-token
subcodes of next-capabilities §2.2."""

from __future__ import annotations

import cloudinary
import cloudinary.api
import pytest
import requests

KEY, SECRET, CLOUD = "111222333444555", "abcd", "testcloud"


@pytest.fixture
def sdk(cloudinary_fake):
    cloudinary.reset_config()
    cloudinary.config(cloud_name=CLOUD, api_key=KEY, api_secret=SECRET, upload_prefix=cloudinary_fake.base_url)
    yield cloudinary
    cloudinary.reset_config()


def test_delete_by_prefix_pages_by_1000_and_never_crosses_a_folder(sdk, cloudinary_fake):
    cloudinary_fake.delete_page_size = 1000  # Cloudinary's (the fixture pages by 2)
    cloudinary_fake.seed_assets("instagram-media/t1/", 2500)
    cloudinary_fake.seed_assets("instagram-media/t10/", 3)  # a plain prefix "t1" would match these
    first = cloudinary.api.delete_resources_by_prefix("instagram-media/t1/")
    assert len(first["deleted"]) == 1000 and first["partial"] is True and first["next_cursor"]
    second = cloudinary.api.delete_resources_by_prefix("instagram-media/t1/", next_cursor=first["next_cursor"])
    assert len(second["deleted"]) == 1000 and second["partial"] is True
    third = cloudinary.api.delete_resources_by_prefix("instagram-media/t1/", next_cursor=second["next_cursor"])
    assert len(third["deleted"]) == 500 and third["partial"] is False and "next_cursor" not in third
    assert set(first["deleted"].values()) == {"deleted"}
    assert cloudinary_fake.count_assets("instagram-media/t1/") == 0
    assert cloudinary_fake.count_assets("instagram-media/t10/") == 3
    assert cloudinary_fake.all_counters()["deleted_by_prefix"] == 2500


def test_list_by_prefix_follows_the_cursor(sdk, cloudinary_fake):
    ids = cloudinary_fake.seed_assets("f/", 23)
    seen, cursor = [], None
    while True:
        page = cloudinary.api.resources(type="upload", prefix="f/", max_results=10, **({"next_cursor": cursor} if cursor else {}))
        seen += [r["public_id"] for r in page["resources"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert seen == ids


def test_admin_rate_limit_is_420_with_the_reset_header(cloudinary_fake):
    cloudinary_fake.admin_rate_limit = 2
    url = "%s/v1_1/%s/resources/image/upload" % (cloudinary_fake.base_url, CLOUD)
    answers = [requests.delete(url, params={"prefix": "x/"}, auth=(KEY, SECRET), timeout=5) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 420]
    assert answers[2].headers["X-FeatureRateLimit-Remaining"] == "0" and answers[2].headers["X-FeatureRateLimit-Reset"]
    assert answers[2].json()["error"]["message"]


def test_the_second_delete_can_be_made_to_fail(cloudinary_fake):
    cloudinary_fake.delete_page_size = 1000
    cloudinary_fake.seed_assets("p/", 1500)
    cloudinary_fake.add_fault({"match": {"method": "DELETE", "path_prefix": "/v1_1/"}, "skip": 1, "count": 1, "status": 500,
                               "body": {"error": {"message": "General Error"}}})
    url = "%s/v1_1/%s/resources/image/upload" % (cloudinary_fake.base_url, CLOUD)
    statuses = [requests.delete(url, params={"prefix": "p/"}, auth=(KEY, SECRET), timeout=5).status_code for _ in range(3)]
    assert statuses == [200, 500, 200]
    assert cloudinary_fake.count_assets("p/") == 0


def graph(fake, path: str, **params):
    return requests.get(fake.facebook_url + "/v23.0" + path, params=params, timeout=5)


def test_debug_token_shapes(instagram):
    app_token = "%s|%s" % (instagram.fb_app_id, instagram.fb_app_secret)
    account = instagram.create_account(media_count=1)
    token = instagram.mint_token(account["ig_user_id"], product="facebook", kind="long")
    valid = graph(instagram, "/debug_token", input_token=token, access_token=app_token)
    assert valid.status_code == 200
    data = valid.json()["data"]
    assert data["is_valid"] is True and data["app_id"] == instagram.fb_app_id and data["expires_at"] > data["issued_at"]
    refused = graph(instagram, "/debug_token", input_token=token, access_token="someone|else")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 100
    unknown = graph(instagram, "/debug_token", input_token="EAAnothing", access_token=app_token).json()["data"]
    assert unknown == {"error": {"code": 190, "message": "The access token could not be decrypted"}, "is_valid": False,
                       "scopes": []}
    instagram.expire_token(token)
    expired = graph(instagram, "/debug_token", input_token=token, access_token=app_token)
    assert expired.status_code == 200
    assert expired.json()["data"]["is_valid"] is False and expired.json()["data"]["error"]["subcode"] == 463


@pytest.mark.parametrize("subcode", [458, 460, 466, 467, None])
def test_invalidated_tokens_answer_their_subcode_everywhere(instagram, subcode):
    account = instagram.create_account(media_count=1)
    token = instagram.mint_token(account["ig_user_id"], kind="long", age_seconds=2 * 86400)
    instagram.invalidate_token(token, subcode=subcode)
    for path, params in [("/v23.0/me/media", {}), ("/v23.0/me", {"fields": "user_id"}),
                         ("/refresh_access_token", {"grant_type": "ig_refresh_token"})]:
        answer = requests.get(instagram.graph_url + path, params=dict(params, access_token=token), timeout=5)
        assert answer.status_code == 400, path
        error = answer.json()["error"]
        assert error["code"] == 190 and error["type"] == "OAuthException" and error.get("error_subcode") == subcode, path
