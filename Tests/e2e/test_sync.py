"""The sync engine end to end, through nginx: register → first sync → mirrored feed, diff sync
(deleted posts, unchanged re-sync), Instagram failures, Cloudinary outages.

Instagram and Cloudinary are the loopback fakes of Tests/fakes (in-process); redis-server, the
responder and nginx are private to each test (see sync_support.py).
"""

import re
import time
import urllib.request

import pytest

from harness import expect_success
from sync_support import (CLOUD_NAME, MEDIA_TAG, cloudinary, instagram, ok_line,  # noqa: F401 (fixtures)
                          results_by_tenant, world)

# The asset map `instagram:<tenant>:assets` holds one entry per mirrored asset (packed, with URL
# prefix entries): compare `world.mirrored_entries`, never its raw length.


def public_id(tenant_id: str, media_id: str) -> str:
    return f"instagram-media/{tenant_id}/{media_id}"


def instagram_timestamp(media) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(media.created))


def test_register_with_a_token_mirrors_50_media_and_serves_cdn_urls(world):
    account, token = world.account(media_count=50)
    data = world.register(token)
    assert data["photosCount"] == 50, data
    assert "note" not in data, data
    tenant = data["tenantId"]

    media = world.visible_media(account["ig_user_id"])
    assert {m.media_type for m in media} == {"IMAGE", "VIDEO", "CAROUSEL_ALBUM"}
    photos = world.photos(data["authToken"])
    assert [p["id"] for p in photos] == [m.id for m in media], "the feed keeps Instagram's order, newest first"

    assets = world.assets_of(tenant)
    assert set(assets) == world.expected_assets(account["ig_user_id"], tenant)
    cdn_prefix = f"{world.cloudinary.res_url}/{CLOUD_NAME}/"

    def cdn(kind: str, media_id: str) -> str:
        url = assets[(kind, public_id(tenant, media_id))]["secure_url"]
        assert url.startswith(cdn_prefix), url
        return url

    for photo, item in zip(photos, media):
        expected_fields = {"id", "mediaUrl", "caption", "mediaType", "permalink", "timestamp"}
        if item.media_type == "VIDEO":
            expected_fields.add("thumbnailUrl")
        if item.media_type == "CAROUSEL_ALBUM":
            expected_fields.add("children")
        assert set(photo) == expected_fields, photo
        assert photo["mediaType"] == item.media_type
        assert photo["caption"] == (item.caption or ""), photo
        kind = "reel" if item.media_type == "VIDEO" else "p"
        assert photo["permalink"] == f"https://www.instagram.com/{kind}/{item.shortcode}/"
        assert photo["timestamp"] == instagram_timestamp(item)
        if item.media_type == "VIDEO":
            assert photo["mediaUrl"] == cdn("video", item.id)
            assert photo["thumbnailUrl"] == cdn("image", item.id)
        elif item.media_type == "CAROUSEL_ALBUM":
            # The cover is the first child's image (a video child's poster).
            assert photo["mediaUrl"] == cdn("image", item.children[0].id)
        else:
            assert photo["mediaUrl"] == cdn("image", item.id)
        if item.media_type == "CAROUSEL_ALBUM":
            assert [c["id"] for c in photo["children"]] == [c.id for c in item.children]
            for child, source in zip(photo["children"], item.children):
                assert child["mediaType"] == source.media_type
                if source.media_type == "VIDEO":
                    assert set(child) == {"id", "mediaType", "mediaUrl", "thumbnailUrl"}
                    assert child["mediaUrl"] == cdn("video", source.id)
                    assert child["thumbnailUrl"] == cdn("image", source.id)
                else:
                    assert set(child) == {"id", "mediaType", "mediaUrl"}
                    assert child["mediaUrl"] == cdn("image", source.id)
    assert any(p["caption"] == "" for p in photos), "the seeded mix has posts without a caption"

    for (kind, pid), asset in assets.items():
        assert sorted(asset["tags"]) == sorted([tenant, MEDIA_TAG]), asset
        assert asset["resource_type"] == kind
    counters = world.cloud_counters()
    assert counters["uploads"] == len(assets) and counters["upload_errors"] == 0, counters
    assert counters["destroys"] == 0, counters
    # The CDN URLs in the feed are real: the fake serves the mirrored bytes.
    with urllib.request.urlopen(photos[0]["mediaUrl"], timeout=5) as reply:
        assert reply.status == 200 and reply.read(2) == b"\xff\xd8"

    etag = world.photos_response(data["authToken"]).header("ETag")
    cached = world.stack.get("/photos", headers={"Authorization": f"Bearer {data['authToken']}",
                                                 "If-None-Match": etag})
    assert cached.status == 304 and cached.body == b"", cached

    record = world.tenant_hash(tenant)
    assert record["instagramAccessToken"].startswith("v1:")
    assert record.get("last_sync") and "last_error" not in record, record
    assert world.mirrored_entries(tenant) == {f"{kind}:{pid}" for kind, pid in assets}


def test_a_deleted_post_is_dropped_and_its_assets_destroyed_then_an_unchanged_resync_is_a_no_op(world):
    account, token = world.account(media_count=50)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    mirrored = world.assets_of(tenant)
    media = world.visible_media(account["ig_user_id"])
    video = next(m for m in media if m.media_type == "VIDEO")
    carousel = next(m for m in media if m.media_type == "CAROUSEL_ALBUM")
    gone_ids = {video.id, carousel.id} | {c.id for c in carousel.children}
    gone = {key for key in mirrored if key[1].rsplit("/", 1)[1] in gone_ids}
    assert len(gone) == 2 + 4, gone  # video + poster; children IMAGE, VIDEO + poster, IMAGE

    world.instagram.delete_media(video.id)
    world.instagram.delete_media(carousel.id)
    before = world.cloud_counters()
    # POST /sync answers 202 at once; its run syncs the tenant in the background.
    accepted, run = world.sync_http_and_wait()
    assert accepted["summary"]["totalTenants"] == 1 and accepted["started"] is True, accepted
    assert (run["queued"], run["synced"], run["failed"], run["recentErrors"]) == (1, 1, 0, []), run
    record = world.tenant_hash(tenant)
    assert record["photos_count"] == "48" and "last_error" not in record, record

    photos = world.photos(auth)
    assert [p["id"] for p in photos] == [m.id for m in world.visible_media(account["ig_user_id"])]
    assert not gone_ids & {p["id"] for p in photos}
    remaining = world.assets_of(tenant)
    assert not gone & set(remaining), "the deleted posts' assets must be destroyed"
    assert set(remaining) == set(mirrored) - gone
    after = world.cloud_counters()
    assert after["destroys"] - before["destroys"] == len(gone)
    assert after["destroy_not_found"] == before["destroy_not_found"]
    assert after["uploads"] == before["uploads"]
    assert world.mirrored_entries(tenant) == {f"{kind}:{pid}" for kind, pid in remaining}

    # Unchanged re-sync, through POST /sync (a new run) and through the CLI.
    feed = world.photos_response(auth)
    second, run = world.sync_http_and_wait()
    assert second["runId"] != accepted["runId"] and second["started"] is True, (accepted, second)
    assert (run["synced"], run["failed"]) == (1, 0), run
    unchanged = world.cloud_counters()
    assert (unchanged["uploads"], unchanged["destroys"]) == (after["uploads"], after["destroys"]), unchanged
    assert world.photos_response(auth).body == feed.body
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    result = results_by_tenant(run.stdout)[tenant]
    assert result == {"tenantId": tenant, "photosCount": 48, "uploaded": 0, "deleted": 0, "kept": len(remaining),
                      "failed": 0}, result
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    line = ok_line(run.stdout, tenant)
    assert (line["uploaded"], line["deleted"], line["failed"], line["photos"]) == ("0", "0", "0", "48"), line
    final = world.cloud_counters()
    assert (final["uploads"], final["destroys"]) == (after["uploads"], after["destroys"]), final
    upload_calls = sum(n for route, n in final["by_route"].items() if route.endswith(("/upload", "/destroy")))
    assert upload_calls == sum(n for route, n in after["by_route"].items() if route.endswith(("/upload", "/destroy")))
    # Every item keeps its CDN URL, so the stored feed is byte for byte the same.
    again = world.photos_response(auth)
    assert again.body == feed.body
    assert again.header("ETag") == feed.header("ETag")


INSTAGRAM_FAILURES = {  # fault on the media listing → (text of the reported error, retried?, rate limited?)
    "http-500": ({"preset": "transient", "params": {"code": 2}}, "instagram server (HTTP 500, code 2)", True, False),
    "http-429-code-4": ({"preset": "throttle", "params": {"code": 4, "status": 429}},
                        "instagram rateLimited (HTTP 429, code 4): (#4) Application request limit reached", False, True),
    "html-502": ({"action": "html", "status": 502}, "instagram server (HTTP 502)", True, False),
    "garbage-200": ({"action": "garbage"}, "instagram malformed (HTTP 200)", False, False),
}


@pytest.mark.parametrize("failure", sorted(INSTAGRAM_FAILURES))
def test_an_instagram_failure_keeps_the_feed_and_records_last_error(world, failure):
    fault, reported, retried, rate_limited = INSTAGRAM_FAILURES[failure]
    account, token = world.account(media_count=12)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    before = world.photos_response(auth)
    assert len(expect_success(before)["photos"]) == 12

    world.instagram.add_fault(dict(fault, path_regex=r"/me/media$", count=-1))
    world.instagram.clear_requests()
    accepted, run = world.sync_http_and_wait()
    assert accepted["summary"]["totalTenants"] == 1, accepted
    listings = world.instagram.requests(path_prefix="/graph/")
    if rate_limited:
        # Meta's throttle defers the tenant (never a failure, never an invalid token).
        assert (run["synced"], run["failed"], run["deferred"], run["recentErrors"]) == (0, 0, 1, []), run
    else:
        assert (run["synced"], run["failed"], run["deferred"]) == (0, 1, 0), run
        [error] = run["recentErrors"]
        assert error.startswith(f"{tenant}: fetching media failed: {reported}"), error
    if retried:
        assert len(listings) >= 2, "a 5xx is retried"
    else:
        assert len(listings) == 1, "rate limits and unreadable answers are reported at once"

    after = world.photos_response(auth)
    assert after.body == before.body, "a failed fetch leaves the stored feed exactly as it was"
    assert after.header("ETag") == before.header("ETag")
    record = world.tenant_hash(tenant)
    last_error = record.get("last_error", "")
    timestamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    world.assert_no_secret(record["last_error"], "last_error")
    assert reported in last_error, last_error
    if rate_limited:
        assert re.match(timestamp + " deferred: Meta's rate limit until ", last_error), record
        assert record.get("last_error_code") == "RATE_LIMITED" and "token_invalid" not in record, record
        # While Meta's pause lasts the CLI defers the tenant too, without calling Instagram.
        calls = len(world.instagram.requests(path_prefix="/graph/"))
        run = world.sync_cli("--tenant", tenant)
        assert f"later  {tenant} deferred: Meta's rate limit" in run.stdout and "FAILED" not in run.stdout, run.stdout
        assert len(world.instagram.requests(path_prefix="/graph/")) == calls
        # The pause (minutes) ends: here by removing it, app-wide and for the tenant.
        world.stack.redis_cli("DEL", "ratelimit:graph:app")
        world.stack.redis_cli("HDEL", f"tenant:{tenant}", "rate_limited_until")
    else:
        assert re.match(timestamp + " instagram ", last_error), record
        # The CLI reports the same failure.
        run = world.sync_cli("--tenant", tenant)
        assert run.returncode == 1 and f"FAILED {tenant} fetching media failed" in run.stdout, run.stdout
    # After the fault clears, the next sync clears last_error.
    world.instagram.clear_faults()
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "last_error" not in world.tenant_hash(tenant)


def test_cloudinary_down_serves_instagram_urls_and_the_next_sync_uploads_them(world):
    world.cloudinary.add_fault(path_prefix="/v1_1/", preset="unavailable", count=-1)
    account, token = world.account(media_count=12)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    assert data["photosCount"] == 12 and "note" not in data, data

    photos = world.photos(auth)
    assert len(photos) == 12
    cdn = world.instagram.cdn_url + "/"
    urls = [p["mediaUrl"] for p in photos] + [p["thumbnailUrl"] for p in photos if "thumbnailUrl" in p]
    urls += [c[k] for p in photos for c in p.get("children", []) for k in ("mediaUrl", "thumbnailUrl") if k in c]
    assert urls and all(u.startswith(cdn) for u in urls), [u for u in urls if not u.startswith(cdn)]
    assert world.assets_of(tenant) == {}
    assert world.stack.redis_cli("HLEN", f"instagram:{tenant}:assets") == "0"
    expected = world.expected_assets(account["ig_user_id"], tenant)
    counters = world.cloud_counters()
    upload_calls = sum(n for route, n in counters["by_route"].items() if route.endswith("/upload"))
    assert upload_calls >= len(expected), "every asset was attempted"

    world.cloudinary.clear_faults()
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    line = ok_line(run.stdout, tenant)
    assert line["uploaded"] == str(len(expected)) and line["failed"] == "0" and line["kept"] == "0", line
    assert set(world.assets_of(tenant)) == expected
    res = f"{world.cloudinary.res_url}/{CLOUD_NAME}/"
    for photo in world.photos(auth):
        assert photo["mediaUrl"].startswith(res), photo
        assert photo.get("thumbnailUrl", res).startswith(res), photo
        assert all(c["mediaUrl"].startswith(res) for c in photo.get("children", [])), photo


def test_partial_cloudinary_failure_keeps_instagram_urls_only_for_the_failed_items(world):
    account, token = world.account(media_count=6)
    media = world.visible_media(account["ig_user_id"])
    victim = next(m for m in media if m.media_type == "IMAGE")
    # Both rounds (first try and the one retry) of this one upload fail.
    world.cloudinary.add_fault(path_regex=r"/image/upload$", body_contains=f"/{victim.id}\r\n",
                               preset="unavailable", count=-1)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    photos = {p["id"]: p for p in world.photos(auth)}
    assert photos[victim.id]["mediaUrl"].startswith(world.instagram.cdn_url + "/")
    others = [p for i, p in photos.items() if i != victim.id]
    assert all(p["mediaUrl"].startswith(world.cloudinary.res_url) for p in others)

    world.cloudinary.clear_faults()
    run = world.sync_cli("--tenant", tenant)
    line = ok_line(run.stdout, tenant)
    assert (line["uploaded"], line["deleted"], line["failed"]) == ("1", "0", "0"), line
    assert world.photos(auth)[[m.id for m in media].index(victim.id)]["mediaUrl"].startswith(
        world.cloudinary.res_url)


def test_the_feed_never_calls_instagram(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    world.instagram.clear_requests()
    world.instagram.add_fault(path_prefix="/", status=500, count=-1)
    for _ in range(3):
        assert len(world.photos(data["authToken"])) == 6
    assert world.instagram.requests() == []
    assert re.fullmatch(r'"[0-9a-f]{32}"', world.photos_response(data["authToken"]).header("ETag") or "")


def test_a_carousel_whose_first_child_is_a_video_is_fully_mirrored(world):
    account = world.instagram.create_account(media=[
        {"media_type": "CAROUSEL_ALBUM", "caption": "video first", "children": ["VIDEO", "IMAGE"]},
        {"media_type": "IMAGE", "caption": "plain"},
    ])
    token = world.instagram.mint_token(account["ig_user_id"], kind="long")
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    carousel = world.photos(auth)[0]
    assert carousel["mediaType"] == "CAROUSEL_ALBUM"
    res = world.cloudinary.res_url + "/"
    assert all(c["mediaUrl"].startswith(res) for c in carousel["children"]), carousel  # children are fine

    calls = sum(n for route, n in world.cloud_counters()["by_route"].items() if route.endswith("/upload"))
    run = world.sync_cli("--tenant", tenant)
    line = ok_line(run.stdout, tenant)
    after = sum(n for route, n in world.cloud_counters()["by_route"].items() if route.endswith("/upload"))
    assert world.photos(auth)[0]["mediaUrl"].startswith(res), "the cover must not be Instagram's expiring URL"
    assert line["failed"] == "0", line
    assert after == calls, "an unchanged re-sync makes no upload call"
