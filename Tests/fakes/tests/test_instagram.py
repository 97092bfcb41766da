"""Instagram / Graph fake: OAuth flows, token lifecycle on the fake clock, media paging, CDN expiry."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.parse

import requests

FIELDS = "id,caption,media_type,media_url,permalink,thumbnail_url,timestamp,children{id,media_type,media_url,thumbnail_url}"
REDIRECT = "https://app.example.com/instagram/callback"


def authorize(fake, product="instagram", state="csrf123"):
    if product == "instagram":
        url, app = fake.instagram_www_url + "/oauth/authorize", fake.ig_app_id
        extra = {"response_type": "code", "scope": "instagram_business_basic"}
    else:
        url, app = fake.facebook_www_url + "/v23.0/dialog/oauth", fake.fb_app_id
        extra = {"scope": "instagram_basic,pages_show_list,pages_read_engagement"}
    r = requests.get(url, params=dict(client_id=app, redirect_uri=REDIRECT, state=state, **extra),
                     allow_redirects=False)
    assert r.status_code == 302
    loc = r.headers["Location"]
    parts = urllib.parse.urlsplit(loc)
    assert loc.startswith(REDIRECT + "?")
    return dict(urllib.parse.parse_qsl(parts.query)), parts.fragment


def exchange_code(fake, code, secret=None):
    return requests.post(fake.api_url + "/oauth/access_token", data={
        "client_id": fake.ig_app_id, "client_secret": secret or fake.ig_app_secret,
        "grant_type": "authorization_code", "redirect_uri": REDIRECT, "code": code})


def get(url, **params):
    return requests.get(url, params=params)


def test_paging_across_more_than_three_pages(instagram):
    acct = instagram.create_account(media_count=80)
    tok = instagram.mint_token(acct["ig_user_id"])
    url = instagram.graph_url + "/v23.0/me/media?" + urllib.parse.urlencode({"fields": FIELDS, "access_token": tok})
    pages = []
    while url:
        r = requests.get(url)
        assert r.status_code == 200
        body = r.json()
        pages.append(body)
        url = body.get("paging", {}).get("next")
        if url:
            assert "access_token=" in url and "/%s/media?" % acct["ig_user_id"] in url
    assert [len(p["data"]) for p in pages] == [25, 25, 25, 5]
    assert "next" not in pages[-1]["paging"] and "cursors" in pages[-1]["paging"]
    items = [m for p in pages for m in p["data"]]
    assert [m["id"] for m in items] == acct["media_ids"]
    assert all(isinstance(m["id"], str) and m["id"].isdigit() for m in items)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", m["timestamp"]) for m in items)
    assert [m["timestamp"] for m in items] == sorted((m["timestamp"] for m in items), reverse=True)
    kinds = {m["media_type"] for m in items}
    assert kinds == {"IMAGE", "VIDEO", "CAROUSEL_ALBUM"}
    assert any("caption" not in m for m in items) and all(m.get("caption") != "" for m in items)
    for m in items:
        assert ("thumbnail_url" in m) == (m["media_type"] == "VIDEO")
        assert ("children" in m) == (m["media_type"] == "CAROUSEL_ALBUM")
    carousel = next(m for m in items if m["media_type"] == "CAROUSEL_ALBUM")
    kids = carousel["children"]["data"]
    assert [k["media_type"] for k in kids] == ["IMAGE", "VIDEO", "IMAGE"] and "thumbnail_url" in kids[1]
    # re-issuing with after=<cursor> gives the same second page; children.fields() syntax is equivalent
    again = get(instagram.graph_url + "/me/media", access_token=tok, limit=25, after=pages[0]["paging"]["cursors"]["after"],
                fields="id,children.fields(id,media_type)").json()
    assert [m["id"] for m in again["data"]] == [m["id"] for m in pages[1]["data"]]
    assert "previous" in again["paging"]
    small = get(instagram.graph_url + "/v23.0/%s/media" % acct["ig_user_id"], access_token=tok, limit=7).json()
    assert len(small["data"]) == 7 and set(small["data"][0]) == {"id"}  # default fields: id only


def test_instagram_login_both_token_response_styles(instagram):
    acct = instagram.create_account(media_count=3)
    query, fragment = authorize(instagram)
    assert query["state"] == "csrf123" and fragment == "_"
    r = exchange_code(instagram, query["code"])
    body = r.json()
    assert r.status_code == 200 and list(body) == ["data"]
    entry = body["data"][0]
    assert entry["user_id"] == acct["ig_user_id"] and isinstance(entry["permissions"], str)
    again = exchange_code(instagram, query["code"])
    assert again.status_code == 400
    assert again.json() == {"error_type": "OAuthException", "code": 400,
                            "error_message": "This authorization code has been used"}
    instagram.token_style = "flat"
    query, _ = authorize(instagram)
    r = exchange_code(instagram, query["code"])
    flat = r.json()
    assert isinstance(flat["user_id"], int) and flat["user_id"] >= 2 ** 53
    assert '"user_id":%s' % acct["ig_user_id"] in r.text  # a bare JSON number, exact digits
    assert isinstance(flat["permissions"], list)
    bad = exchange_code(instagram, authorize(instagram)[0]["code"], secret="wrong")
    assert bad.status_code == 400 and bad.json()["error_type"] == "OAuthException"
    assert exchange_code(instagram, query["code"] + "#_").status_code == 400  # fragment is not part of the code


def test_exchange_and_refresh_rules(instagram):
    acct = instagram.create_account(media_count=1)
    short = exchange_code(instagram, authorize(instagram)[0]["code"]).json()["data"][0]["access_token"]
    r = get(instagram.graph_url + "/access_token", grant_type="ig_exchange_token",
            client_secret=instagram.ig_app_secret, access_token=short)
    assert r.json()["token_type"] == "bearer" and r.json()["expires_in"] == 5184000
    long_tok = r.json()["access_token"]
    bad = get(instagram.graph_url + "/access_token", grant_type="ig_exchange_token", client_secret="nope",
              access_token=short)
    assert bad.status_code == 400 and bad.json()["error"]["type"] == "OAuthException"
    young = get(instagram.graph_url + "/refresh_access_token", grant_type="ig_refresh_token", access_token=long_tok)
    assert young.status_code == 400 and young.json()["error"]["code"] != 190
    instagram.clock.advance(25 * 3600)
    ok = get(instagram.graph_url + "/v23.0/refresh_access_token", grant_type="ig_refresh_token", access_token=long_tok)
    assert ok.status_code == 200 and ok.json()["expires_in"] == 5184000
    refreshed = ok.json()["access_token"]
    assert abs(instagram.token_info(refreshed)["expires_at"] - instagram.clock.now() - 5184000) < 2
    instagram.clock.advance(61 * 86400)
    gone = get(instagram.graph_url + "/refresh_access_token", grant_type="ig_refresh_token", access_token=refreshed)
    err = gone.json()["error"]
    assert gone.status_code == 400 and err["code"] == 190 and "Session has expired" in err["message"]
    # next-capabilities §2.2: an expired token is 190 with subcode 463.
    assert err.get("error_subcode") == 463 and err["fbtrace_id"]
    expired_short = get(instagram.graph_url + "/access_token", grant_type="ig_exchange_token",
                        client_secret=instagram.ig_app_secret, access_token=short)
    assert expired_short.json()["error"]["code"] == 190
    assert instagram.token_info(long_tok)["user"] == acct["ig_user_id"]


def test_190_on_revoked_expired_and_garbage_tokens(instagram):
    acct = instagram.create_account(media_count=2)
    tok = instagram.mint_token(acct["ig_user_id"])
    url = instagram.graph_url + "/v23.0/me/media"
    assert get(url, access_token=tok).status_code == 200
    instagram.revoke_token(tok)
    r = get(url, access_token=tok)
    assert r.status_code == 400 and r.json()["error"]["code"] == 190 and r.json()["error"]["error_subcode"] == 460
    tok2 = instagram.mint_token(acct["ig_user_id"])
    requests.post(instagram.base_url + "/__control/tokens/expire", json={"access_token": tok2})
    r = get(url, access_token=tok2)
    assert r.json()["error"]["code"] == 190 and "expired" in r.json()["error"]["message"]
    r = get(url, access_token="IGAAgarbage")
    assert r.json()["error"]["code"] == 190
    r = get(url)
    assert r.status_code == 400 and r.json()["error"]["code"] in (104, 2500)
    other = instagram.create_account(media_count=1)
    r = get(instagram.graph_url + "/v23.0/%s/media" % other["ig_user_id"], access_token=instagram.mint_token(acct["ig_user_id"]))
    assert r.json()["error"]["code"] == 100 and r.json()["error"]["error_subcode"] == 33


def test_cdn_expiry_and_tampering(instagram):
    acct = instagram.create_account(media_count=2)
    tok = instagram.mint_token(acct["ig_user_id"])
    m = get(instagram.graph_url + "/me/media", access_token=tok, fields="media_url,thumbnail_url,media_type").json()["data"]
    url = m[0]["media_url"]
    oe = int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["oe"][0], 16)
    assert oe > instagram.clock.now()
    ok = requests.get(url)
    assert ok.status_code == 200 and ok.headers["Content-Type"] == "image/jpeg" and ok.content[:3] == b"\xff\xd8\xff"
    video = requests.get(m[1]["media_url"])
    assert video.headers["Content-Type"] == "video/mp4" and video.content[4:8] == b"ftyp"
    forged = re.sub(r"oe=[0-9A-F]+", "oe=%08X" % (oe + 86400), url)
    assert requests.get(forged).status_code == 403
    instagram.clock.advance(instagram.cdn_ttl + 1)
    r = requests.get(url)
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/plain") and r.text == "URL signature expired"
    fresh = get(instagram.graph_url + "/me/media", access_token=tok, fields="media_url").json()["data"][0]["media_url"]
    assert requests.get(fresh).status_code == 200  # re-listing re-signs the links
    instagram.delete_media(acct["media_ids"][0])
    assert requests.get(fresh).status_code == 404
    ids = [x["id"] for x in get(instagram.graph_url + "/me/media", access_token=tok).json()["data"]]
    assert ids == acct["media_ids"][1:]


def test_facebook_login_path(instagram):
    acct = instagram.create_account(media_count=30, facebook=True)
    query, fragment = authorize(instagram, "facebook")
    assert fragment == "_=_"
    base = instagram.facebook_url + "/v23.0"
    r = get(base + "/oauth/access_token", client_id=instagram.fb_app_id, client_secret=instagram.fb_app_secret,
            redirect_uri=REDIRECT, code=query["code"])
    short = r.json()["access_token"]
    assert r.json()["token_type"] == "bearer" and short.startswith("EAA")
    r = get(base + "/oauth/access_token", client_id=instagram.fb_app_id, client_secret=instagram.fb_app_secret,
            redirect_uri=REDIRECT, code=query["code"])
    assert r.json()["error"]["code"] == 100  # code reuse
    r = get(base + "/oauth/access_token", grant_type="fb_exchange_token", client_id=instagram.fb_app_id,
            client_secret=instagram.fb_app_secret, fb_exchange_token=short)
    long_tok = r.json()["access_token"]
    assert r.json()["expires_in"] == 5183944
    pages = get(base + "/me/accounts", access_token=long_tok, fields="id,name,instagram_business_account").json()
    linked = [p for p in pages["data"] if "instagram_business_account" in p]
    assert len(pages["data"]) == 2 and len(linked) == 1
    ig_id = linked[0]["instagram_business_account"]["id"]
    assert ig_id == acct["ig_user_id"]
    page = get(base + "/" + linked[0]["id"], access_token=long_tok, fields="instagram_business_account").json()
    assert page == {"instagram_business_account": {"id": ig_id}, "id": linked[0]["id"]}
    media = get(base + "/%s/media" % ig_id, access_token=long_tok, fields=FIELDS, limit=10).json()
    assert len(media["data"]) == 10 and media["paging"]["next"].startswith(instagram.facebook_url + "/v23.0/")
    assert get(base + "/me/media", access_token=long_tok).json()["error"]["code"] == 100
    ig_tok = instagram.mint_token(acct["ig_user_id"])  # tokens are host-specific
    assert get(base + "/%s/media" % ig_id, access_token=ig_tok).json()["error"]["code"] == 190
    instagram.require_appsecret_proof = True
    assert get(base + "/%s/media" % ig_id, access_token=long_tok).json()["error"]["code"] == 100
    proof = hmac.new(instagram.fb_app_secret.encode(), long_tok.encode(), hashlib.sha256).hexdigest()
    assert get(base + "/%s/media" % ig_id, access_token=long_tok, appsecret_proof=proof).status_code == 200


def test_graph_error_faults_and_usage_headers(instagram):
    acct = instagram.create_account(media_count=60)
    tok = instagram.mint_token(acct["ig_user_id"])
    url = instagram.graph_url + "/v23.0/me/media"
    instagram.add_fault(preset="throttle", params={"code": 17, "status": 429})
    r = get(url, access_token=tok)
    assert r.status_code == 429 and r.json()["error"]["code"] == 17
    assert json.loads(r.headers["X-App-Usage"])["call_count"] == 100
    buc = json.loads(r.headers["X-Business-Use-Case-Usage"])
    assert list(buc.values())[0][0]["estimated_time_to_regain_access"] > 0
    instagram.add_fault(preset="transient", params={"code": 2})
    r = get(url, access_token=tok)
    assert r.status_code == 500 and r.json()["error"]["code"] == 2
    # page 2 fails after page 1 succeeded
    requests.post(instagram.base_url + "/__control/faults",
                  json={"preset": "token_invalidated", "match": {"query_has": ["after"]}})
    first = get(url, access_token=tok, fields="id")
    assert first.status_code == 200
    second = requests.get(first.json()["paging"]["next"])
    assert second.json()["error"]["error_subcode"] == 460
    assert requests.get(first.json()["paging"]["next"]).status_code == 200  # one-shot fault
    requests.post(instagram.base_url + "/__control/usage", json={"app_pct": 85, "buc_pct": 90})
    r = get(url, access_token=tok)
    assert json.loads(r.headers["X-App-Usage"])["call_count"] == 85
    r = get(url, access_token=tok, fields="id,bogus_field")
    assert r.status_code == 400 and r.json()["error"]["code"] == 100 and "bogus_field" in r.json()["error"]["message"]
    first_id = acct["media_ids"][0]
    instagram.patch_media(first_id, {"omit_media_url": True})
    item = get(url, access_token=tok, fields="id,media_url", limit=1).json()["data"][0]
    assert item == {"id": first_id}  # copyright case: media_url omitted
    single = get(instagram.graph_url + "/v23.0/" + acct["media_ids"][3], access_token=tok,
                 fields="id,media_type,children{id}").json()
    assert single["media_type"] == "CAROUSEL_ALBUM" and len(single["children"]["data"]) == 3
