"""More of the diff sync, through nginx: the 50-media window moving, paging, edits that need no
upload, withheld media, Instagram timeouts, FACEBOOK_LOGIN tenants and failed first syncs.
"""

import time

import pytest

from harness import expect_error, expect_success
from sync_support import (FB_APP_ID, FB_APP_SECRET, cloudinary, instagram, ok_line,  # noqa: F401 (fixtures)
                          results_by_tenant, world)


def asset_ids(assets) -> set[str]:
    return {public_id.rsplit("/", 1)[1] for _, public_id in assets}


def test_a_new_post_pushes_the_oldest_out_of_the_50_media_window(world):
    account, token = world.account(media_count=50)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    mirrored = world.assets_of(tenant)
    oldest = world.visible_media(account["ig_user_id"])[-1]
    dropped = {key for key in mirrored if key[1].endswith("/" + oldest.id)}
    assert dropped

    new_id = world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE", "caption": "brand new"})
    run = world.sync_cli("--all")  # the timer's command; its --verbose ok line has the counts
    assert run.returncode == 0, run.stdout + run.stderr
    result = results_by_tenant(run.stdout)[tenant]
    assert result == {"tenantId": tenant, "photosCount": 50, "uploaded": 1, "deleted": len(dropped),
                      "kept": len(mirrored) - len(dropped), "failed": 0}, result
    photos = world.photos(auth)
    assert photos[0]["id"] == new_id and photos[0]["caption"] == "brand new"
    assert oldest.id not in {p["id"] for p in photos}
    assets = world.assets_of(tenant)
    assert set(assets) == world.expected_assets(account["ig_user_id"], tenant)
    assert photos[0]["mediaUrl"] == assets[("image", f"instagram-media/{tenant}/{new_id}")]["secure_url"]
    assert not dropped & set(assets)


@pytest.mark.stack_env(INSTAGRAM_MEDIA_LIMIT="60")
def test_paging_follows_cursors_up_to_the_media_limit(world):
    world.instagram.max_limit = 25  # Graph clamps `limit`: three pages for 60 media
    account, token = world.account(media_count=80)
    data = world.register(token)
    assert data["photosCount"] == 60, data
    media = world.visible_media(account["ig_user_id"])
    photos = world.photos(data["authToken"])
    assert [p["id"] for p in photos] == [m.id for m in media[:60]]
    listings = [r for r in world.instagram.requests(path_prefix="/graph/") if r.path.endswith("/me/media")]
    assert len(listings) == 3, [r.query for r in listings]
    assert "after" not in listings[0].query and all("after" in r.query for r in listings[1:])
    assert set(world.assets_of(data["tenantId"])) == world.expected_assets(account["ig_user_id"],
                                                                           data["tenantId"], limit=60)


def test_a_failure_on_page_2_leaves_the_feed_as_it_was(world):
    world.instagram.max_limit = 25  # two pages for 50 media
    account, token = world.account(media_count=50)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    before = world.photos_response(auth)
    uploads = world.cloud_counters()["uploads"]
    world.instagram.add_media(account["ig_user_id"], {"media_type": "IMAGE", "caption": "not yet"})
    world.instagram.add_fault(preset="token_invalidated", match={"query_has": ["after"]}, count=-1)

    _, run = world.sync_http_and_wait()
    assert (run["synced"], run["failed"]) == (0, 1), run
    [error] = run["recentErrors"]
    assert error.startswith(f"{tenant}: ") and "code 190" in error, error
    assert world.photos_response(auth).body == before.body, "never a partial list"
    assert world.cloud_counters()["uploads"] == uploads, "nothing is mirrored from a failed listing"


def test_deleting_every_post_empties_the_feed_and_the_mirror(world):
    account, token = world.account(media_count=4)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    mirrored = world.assets_of(tenant)
    for media in world.visible_media(account["ig_user_id"]):
        world.instagram.delete_media(media.id)
    before = world.cloud_counters()
    _, run = world.sync_http_and_wait()
    assert (run["synced"], run["failed"], run["recentErrors"]) == (1, 0, []), run
    assert world.tenant_hash(tenant)["photos_count"] == "0"
    after = world.cloud_counters()
    assert after["destroys"] - before["destroys"] == len(mirrored) and after["uploads"] == before["uploads"]
    assert world.photos(auth) == []
    assert world.assets_of(tenant) == {}
    assert world.mirrored_entries(tenant) == set()
    leftover = world.stack.redis_cli("DUMP", f"instagram:{tenant}:assets")
    assert world.stack.redis_cli("EXISTS", f"instagram:{tenant}:assets") == "0", \
        f"an emptied mirror leaves its asset map behind ({leftover!r})"


def test_a_failed_destroy_is_retried_by_the_next_sync(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    victim = next(m for m in world.visible_media(account["ig_user_id"]) if m.media_type == "VIDEO")
    world.instagram.delete_media(victim.id)
    world.cloudinary.add_fault(path_regex=r"/destroy$", preset="unavailable", count=-1)

    run = world.sync_cli("--tenant", tenant)
    line = ok_line(run.stdout, tenant)
    assert (line["photos"], line["deleted"]) == ("5", "0"), line
    assert victim.id not in {p["id"] for p in world.photos(auth)}, "the feed drops the post at once"
    assert victim.id in asset_ids(world.assets_of(tenant))
    assert f"video:instagram-media/{tenant}/{victim.id}" in world.mirrored_entries(tenant), "kept to retry"

    world.cloudinary.clear_faults()
    run = world.sync_cli("--tenant", tenant)
    line = ok_line(run.stdout, tenant)
    assert (line["uploaded"], line["deleted"]) == ("0", "2"), line
    assert victim.id not in asset_ids(world.assets_of(tenant))


def test_two_tenants_of_one_account_have_separate_mirrors(world):
    account, token = world.account(media_count=6)
    first = world.register(token)
    second = world.register(token)
    a, b = world.assets_of(first["tenantId"]), world.assets_of(second["tenantId"])
    assert len(a) == len(b) and not {k[1] for k in a} & {k[1] for k in b}
    victim = world.visible_media(account["ig_user_id"])[0]
    world.instagram.delete_media(victim.id)
    run = world.sync_cli("--tenant", first["tenantId"])  # only the first tenant syncs
    assert ok_line(run.stdout, first["tenantId"])["deleted"] != "0"
    assert victim.id not in asset_ids(world.assets_of(first["tenantId"]))
    assert world.assets_of(second["tenantId"]) == b, "another tenant's assets are never touched"
    assert victim.id in {p["id"] for p in world.photos(second["authToken"])}


def test_caption_edits_reach_the_feed_without_any_upload(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    media = world.visible_media(account["ig_user_id"])
    with_caption = next(m for m in media if m.caption)
    without_caption = next(m for m in media if not m.caption)
    world.instagram.patch_media(with_caption.id, {"caption": None})
    world.instagram.patch_media(without_caption.id, {"caption": "now with a caption — ünïcödé ✓"})
    before = world.cloud_counters()

    run = world.sync_cli("--tenant", tenant)
    line = ok_line(run.stdout, tenant)
    assert (line["uploaded"], line["deleted"], line["failed"]) == ("0", "0", "0"), line
    photos = {p["id"]: p for p in world.photos(auth)}
    assert photos[with_caption.id]["caption"] == ""
    assert photos[without_caption.id]["caption"] == "now with a caption — ünïcödé ✓"
    assert world.cloud_counters()["uploads"] == before["uploads"]


def test_an_image_whose_media_url_is_withheld_leaves_the_feed_and_the_cdn(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    image = next(m for m in world.visible_media(account["ig_user_id"]) if m.media_type == "IMAGE")
    world.instagram.patch_media(image.id, {"omit_media_url": True})  # Instagram's copyright case

    run = world.sync_cli("--tenant", tenant)
    line = ok_line(run.stdout, tenant)
    assert (line["photos"], line["uploaded"], line["deleted"]) == ("5", "0", "1"), line
    assert image.id not in {p["id"] for p in world.photos(auth)}
    assert image.id not in asset_ids(world.assets_of(tenant))


@pytest.mark.stack_env(INSTAGRAM_API_TIMEOUT_MS="300")
def test_an_instagram_timeout_fails_the_sync_quickly_and_keeps_the_feed(world):
    account, token = world.account(media_count=6)
    data = world.register(token)
    tenant, auth = data["tenantId"], data["authToken"]
    before = world.photos_response(auth)
    world.instagram.add_fault(path_regex=r"/me/media$", delay_ms=2000, count=-1)

    started = time.monotonic()
    accepted, run = world.sync_http_and_wait(timeout=10)
    elapsed = time.monotonic() - started
    assert (run["synced"], run["failed"]) == (0, 1), run
    [error] = run["recentErrors"]
    assert error.startswith(f"{tenant}: ") and "instagram timeout" in error, error
    assert elapsed < 4, f"3 tries of 300 ms plus backoff took {elapsed:.1f}s (POST /sync to the run's end)"
    assert world.photos_response(auth).body == before.body
    assert "instagram timeout" in world.tenant_hash(tenant).get("last_error", "")

    # The CLI is bounded the same way.
    started = time.monotonic()
    cli = world.sync_cli("--tenant", tenant)
    elapsed = time.monotonic() - started
    assert cli.returncode == 1 and f"FAILED {tenant}" in cli.stdout and "instagram timeout" in cli.stdout, cli.stdout
    assert elapsed < 5, f"the CLI's sync took {elapsed:.1f}s"


def test_a_facebook_login_tenant_syncs_from_graph_facebook_and_refreshes_with_the_app_id(world):
    account = world.instagram.create_account(media_count=6, facebook=True)
    token = world.instagram.mint_token(account["fb_user_id"], product="facebook", kind="long")
    data = world.register(token, api_type="FACEBOOK_LOGIN", account_id=account["ig_user_id"], app_id=FB_APP_ID,
                          account_secret=FB_APP_SECRET)
    assert data["photosCount"] == 6 and "note" not in data, data
    tenant, auth = data["tenantId"], data["authToken"]
    # (POST /register asked debug_token once for the token's expiry: not a listing.)
    listings = [r for r in world.instagram.requests(path_prefix="/facebook/") if not r.path.endswith("/debug_token")]
    assert listings and all(r.path == f"/facebook/v23.0/{account['ig_user_id']}/media" for r in listings)
    assert world.instagram.requests(path_prefix="/graph/") == []
    assert set(world.assets_of(tenant)) == world.expected_assets(account["ig_user_id"], tenant)

    response = world.stack.post("/auth/refresh-token", b"", headers={"Authorization": f"Bearer {auth}"})
    assert expect_success(response) == {"result": "success"}
    [exchange] = world.instagram.requests(path_prefix="/facebook/v23.0/oauth/access_token")
    assert exchange.query["grant_type"] == ["fb_exchange_token"] and exchange.query["client_id"] == [FB_APP_ID]
    fresh = [t for t in world.instagram.tokens.values() if t.product == "facebook" and t.value != token]
    assert len(fresh) == 1
    world.instagram.clear_requests()
    run = world.sync_cli("--tenant", tenant)
    assert run.returncode == 0, run.stdout + run.stderr
    assert all(r.query["access_token"] == [fresh[0].value] for r in world.instagram.requests(path_prefix="/facebook/"))


def test_register_with_a_revoked_token_creates_the_tenant_with_a_note(world):
    account, token = world.account(media_count=3)
    world.instagram.revoke_token(token)
    data = world.register(token)
    assert data["photosCount"] == 0
    assert "first sync failed" in data["note"] and "code 190" in data["note"], data
    assert world.photos(data["authToken"]) == []
    assert "code 190" in world.tenant_hash(data["tenantId"]).get("last_error", "")
    assert world.cloud_counters()["uploads"] == 0


def test_post_sync_with_a_wrong_secret_is_401_and_syncs_nothing(world):
    account, token = world.account(media_count=3)
    world.register(token)
    world.instagram.clear_requests()
    for body in ({"secret": "x" * 32}, {"secret": world.sync_secret + "x"}, {}):
        response = world.stack.post("/sync", body)
        expect_error(response, 401, "UNAUTHORIZED")
        assert response.header("Location") is None
        world.assert_no_secret(response.body, "the /sync 401")
    time.sleep(0.3)  # a run started in the background would have called Instagram by now
    assert world.instagram.requests() == []
    assert world.stack.redis_cli("EXISTS", "sync:run:current") == "0", "no sync run was started"
    assert world.stack.redis_cli("EXISTS", "sync:run:last") == "0"
