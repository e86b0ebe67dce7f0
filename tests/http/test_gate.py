"""The forward-auth gate (GET /gate/v1/check) and the server-rendered room page (/r/{room}).

A pass is good at the gate only when it is exactly the pass the room issued for that ticket and
its session is active: forged, altered, expired, revoked, other-room and alg:none passes are
refused. Browsers are sent to the room page with a return URL; API clients get 401.
"""

import re
import base64
import json
import time
from urllib.parse import parse_qs, quote, urlparse

import pytest

from wrlib import TEST_CLOCK_CONFIG, assert_problem, describe

GATE = "/gate/v1/check"
HTML = {"Accept": "text/html,application/xhtml+xml"}


def admitted_pass(srv, room):
    t = srv.enqueue_ok(room)
    srv.advance(room, to=t["position"])
    r = srv.pass_for(room, t["ticket"])
    assert r.status_code == 200, describe(r)
    return t["ticket"], r.json()["pass"]


def check(srv, room, token=None, cookie=True, headers=None, **params):
    h = dict(headers or {})
    if token is not None:
        if cookie:
            h["Cookie"] = f"waitroom_pass_{room}={token}"
        else:
            h["Authorization"] = f"Bearer {token}"
    return srv.get(GATE, params={"room": room, **params}, headers=h)


def b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_live_pass_passes_by_cookie_and_by_bearer(server):
    room = server.create_room(target_url="https://shop.example/")
    ticket, token = admitted_pass(server, room)
    for by_cookie in (True, False):
        r = check(server, room, token, cookie=by_cookie)
        assert r.status_code == 204, describe(r)
        assert r.headers["X-Waitroom-Room"] == room
        assert r.headers["X-Waitroom-Ticket"] == ticket
        assert int(r.headers["X-Waitroom-Expires"]) > time.time()
        assert r.headers.get("Cache-Control") == "no-store"


def test_no_pass_api_client_gets_401_browser_gets_the_room(server):
    room = server.create_room()
    r = check(server, room)
    body = assert_problem(r, 401)
    assert "Bearer" in r.headers.get("WWW-Authenticate", ""), describe(r)
    assert body["detail"]
    r = check(server, room, headers={**HTML, "X-Original-URI": "/basket?x=1", "Host": "shop.example",
                                     "X-Forwarded-Proto": "https"})
    assert r.status_code == 302, describe(r)
    loc = urlparse(r.headers["Location"])
    assert loc.path == f"/r/{room}", describe(r)
    assert parse_qs(loc.query)["return"] == ["https://shop.example/basket?x=1"], describe(r)
    # Traefik and Caddy send X-Forwarded-Uri/Host
    r = check(server, room, headers={**HTML, "X-Forwarded-Uri": "/a", "X-Forwarded-Host": "b.example"})
    assert parse_qs(urlparse(r.headers["Location"]).query)["return"] == ["http://b.example/a"]
    # on_fail forces either answer
    assert check(server, room, headers=HTML, on_fail="401").status_code == 401
    assert check(server, room, on_fail="302").status_code == 302


@pytest.mark.parametrize("case", ["forged_signature", "altered_claims", "alg_none", "truncated",
                                  "oversized", "garbage", "other_rooms_pass", "unknown_ticket"])
def test_bad_passes_are_refused(server, case):
    room = server.create_room()
    other = server.create_room()
    _, token = admitted_pass(server, room)
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    if case == "forged_signature":
        bad = f"{head}.{payload}.{sig[:-4]}AAAA"
    elif case == "altered_claims":
        bad = f"{head}.{b64({**claims, 'exp': claims['exp'] + 3600})}.{sig}"
    elif case == "alg_none":
        bad = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    elif case == "truncated":
        bad = token[: len(token) // 2]
    elif case == "oversized":
        bad = token + "A" * 9000
    elif case == "garbage":
        bad = "not-a-jwt"
    elif case == "other_rooms_pass":
        _, bad = admitted_pass(server, other)
    else:
        bad = f"{head}.{b64({**claims, 'sub': '00000000-0100-0001-0000-000000000000'})}.{sig}"
    for by_cookie in (True, False):
        r = check(server, room, bad, cookie=by_cookie)
        assert_problem(r, 401)
    assert check(server, room, token).status_code == 204  # the genuine one still works


def test_a_pass_over_the_header_limit_is_no_pass(server):
    # Past the 8 KiB header limit, the gate still answers as it does without a pass (a 431 would
    # become a 500 behind nginx's auth_request), up to a hard cap that keeps memory bounded.
    room = server.create_room()
    big = "A" * 9000
    for by_cookie in (True, False):
        assert_problem(check(server, room, big, cookie=by_cookie), 401)
        r = check(server, room, big, cookie=by_cookie, headers=HTML)
        assert r.status_code == 302 and urlparse(r.headers["Location"]).path == f"/r/{room}", describe(r)
    # A live pass beside a large cookie still counts.
    _, token = admitted_pass(server, room)
    r = server.get(GATE, params={"room": room},
                   headers={"Cookie": f"big={'b' * 20000}; waitroom_pass_{room}={token}"})
    assert r.status_code == 204, describe(r)
    # Beyond the hard cap: refused, as before.
    assert_problem(check(server, room, "A" * 70000), 431)
    # Other paths keep the limit.
    assert_problem(server.get("/healthz", headers={"Cookie": f"waitroom_pass_{room}={big}"}), 431)


def test_ended_sessions_are_refused_at_once(server):
    room = server.create_room()
    for status in ("revoked", "completed", "abandoned"):
        ticket, token = admitted_pass(server, room)
        assert check(server, room, token).status_code == 204
        assert server.set_session(room, ticket, status).status_code == 200
        r = check(server, room, token)
        body = assert_problem(r, 401)
        assert status in body["detail"], describe(r)


def test_reset_ends_every_pass(server):
    room = server.create_room()
    _, token = admitted_pass(server, room)
    assert server.post(f"/admin/v1/rooms/{room}/reset", admin=True).status_code == 200
    assert_problem(check(server, room, token), 401)


def test_expired_pass_is_refused(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = srv.create_room(pass_lifetime_s=60)
    _, token = admitted_pass(srv, room)
    assert check(srv, room, token).status_code == 204
    srv.advance_clock(61_000)
    body = assert_problem(check(srv, room, token), 401)
    assert "expired" in body["detail"], body


def test_activity_renews_the_pass_in_a_room_that_asks_for_it(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = srv.create_room(pass_lifetime_s=60, renew_on_activity=True)
    plain = srv.create_room(pass_lifetime_s=60)
    _, first = admitted_pass(srv, room)
    r = check(srv, room, first)
    assert r.status_code == 204 and "X-Waitroom-Set-Cookie" not in r.headers, describe(r)
    first_expiry = int(r.headers["X-Waitroom-Expires"])

    srv.advance_clock(31_000)  # under half its lifetime left: the next request renews it
    r = check(srv, room, first)
    assert r.status_code == 204, describe(r)
    set_cookie = r.headers["X-Waitroom-Set-Cookie"]
    assert set_cookie.startswith(f"waitroom_pass_{room}=") and "Max-Age=60" in set_cookie, set_cookie
    second = set_cookie.split(";", 1)[0].split("=", 1)[1]
    assert second != first
    assert int(r.headers["X-Waitroom-Expires"]) == first_expiry + 31
    # the new pass needs no renewal; the old one still works until its own expiry (requests
    # already on their way) and hands out the new one again
    r = check(srv, room, second)
    assert r.status_code == 204 and "X-Waitroom-Set-Cookie" not in r.headers, describe(r)
    r = check(srv, room, first)
    assert r.status_code == 204 and second in r.headers["X-Waitroom-Set-Cookie"], describe(r)

    srv.advance_clock(30_000)  # past the first pass's expiry
    assert check(srv, room, first).status_code == 401
    assert check(srv, room, second).status_code == 204
    srv.restart()  # the renewal is in the log
    assert check(srv, room, second).status_code == 204

    # a room that does not renew: the pass ends on time however busy the visitor is
    _, token = admitted_pass(srv, plain)
    srv.advance_clock(45_000)
    r = check(srv, plain, token)
    assert r.status_code == 204 and "X-Waitroom-Set-Cookie" not in r.headers, describe(r)
    srv.advance_clock(16_000)
    assert check(srv, plain, token).status_code == 401


def test_an_idle_visitor_is_not_renewed(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = srv.create_room(pass_lifetime_s=60, renew_on_activity=True)
    _, token = admitted_pass(srv, room)
    assert srv.stats(room)["active_sessions"] == 1
    srv.advance_clock(61_000)
    assert check(srv, room, token).status_code == 401
    assert srv.stats(room)["active_sessions"] == 0


def test_bad_gate_requests(server):
    assert_problem(server.get(GATE), 400)
    assert_problem(server.get(GATE, params={"room": "-bad"}), 400)
    assert_problem(server.get(GATE, params={"room": "nosuchroom"}), 404)
    room = server.create_room()
    assert_problem(server.get(GATE, params={"room": room, "on_fail": "maybe"}), 400)


# ---- the room page ------------------------------------------------------------------------------

def page(srv, room, cookies, **params):
    h = {**HTML}
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return srv.get(f"/r/{room}", params=params, headers=h)


def post_form(srv, path, cookies, **form):
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    if cookies:
        h["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return srv.post(path, data=form, headers=h)


def test_page_join_wait_enter_and_the_gate_lets_the_visitor_in(server):
    room = server.create_room(target_url="https://shop.example/")
    ret = "https://shop.example/basket"
    r = page(server, room, {}, **{"return": ret})
    assert r.status_code == 200 and "text/html" in r.headers["Content-Type"], describe(r)
    assert "Join the line" in r.text and f'action="/r/{room}/join"' in r.text
    r = post_form(server, f"/r/{room}/join", {}, **{"return": ret})
    assert r.status_code == 303, describe(r)
    assert r.headers["Location"] == f"/r/{room}?return={quote(ret, safe='')}"
    ticket = r.cookies[f"waitroom_{room}"]
    jar = {f"waitroom_{room}": ticket}
    r = page(server, room, jar, **{"return": ret})
    assert "You are in line" in r.text and "Check again" in r.text, r.text
    # Nothing refreshes it by itself (no meta refresh); the live updates come from one external,
    # deferred script, and the CSP allows no inline script at all.
    assert "http-equiv" not in r.text and "Refresh" not in r.headers, r.text
    scripts = re.findall(r"<script\b[^>]*>", r.text)
    assert scripts and all(" src=" in tag and " defer" in tag for tag in scripts), scripts
    assert "script-src 'self'" in r.headers["Content-Security-Policy"], describe(r)
    r = post_form(server, f"/r/{room}/enter", jar, **{"return": ret})
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/r/{room}"), describe(r)
    assert f"waitroom_pass_{room}" not in r.headers.get("Set-Cookie", "")
    server.advance(room, by=1)
    assert "your turn" in page(server, room, jar).text
    r = post_form(server, f"/r/{room}/enter", jar, **{"return": ret})
    assert r.status_code == 303 and r.headers["Location"] == ret, describe(r)
    token = r.cookies[f"waitroom_pass_{room}"]
    assert "HttpOnly" in r.headers["Set-Cookie"] and "Max-Age=" in r.headers["Set-Cookie"]
    assert check(server, room, token).status_code == 204


def test_room_names_its_pass_cookie_and_its_attributes(server):
    cookie = {"name": "shop_pass", "domain": "shop.example", "path": "/checkout", "secure": True,
              "same_site": "Strict"}
    room = server.create_room(target_url="https://shop.example/", pass_cookie=cookie)
    assert server.admin_room(room)["pass_cookie"] == cookie
    r = post_form(server, f"/r/{room}/join", {})
    jar = {f"waitroom_{room}": r.cookies[f"waitroom_{room}"]}
    server.advance(room, by=1)
    r = post_form(server, f"/r/{room}/enter", jar)
    set_cookie = r.headers["Set-Cookie"]
    assert set_cookie.startswith("shop_pass="), set_cookie
    for attribute in ("Path=/checkout", "Domain=shop.example", "SameSite=Strict", "Secure", "HttpOnly"):
        assert f"; {attribute}" in set_cookie, set_cookie
    token = set_cookie.split(";", 1)[0].split("=", 1)[1]
    r = server.get(GATE, params={"room": room}, headers={"Cookie": f"shop_pass={token}"})
    assert r.status_code == 204, describe(r)
    # the room's name for it, not another room's or a made-up one
    r = server.get(GATE, params={"room": room}, headers={"Cookie": f"other_pass={token}"})
    assert r.status_code == 401, describe(r)


@pytest.mark.parametrize("cookie, field", [
    ({"name": "bad name"}, "pass_cookie.name"),
    ({"name": "a;b"}, "pass_cookie.name"),
    ({"domain": "example.com; Secure"}, "pass_cookie.domain"),
    ({"domain": "https://example.com"}, "pass_cookie.domain"),
    ({"path": "checkout"}, "pass_cookie.path"),
    ({"same_site": "lax-ish"}, "pass_cookie.same_site"),
    ({"same_site": "None", "secure": False}, "pass_cookie.same_site"),
    ({"secure": "yes"}, "pass_cookie.secure"),
    ({"colour": "blue"}, "pass_cookie.colour"),
])
def test_bad_pass_cookie_settings_are_refused(server, cookie, field):
    room = server.create_room()
    before = server.admin_room(room)["pass_cookie"]
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"pass_cookie": cookie})
    body = assert_problem(r, 400)
    assert field in body["detail"], body
    assert server.admin_room(room)["pass_cookie"] == before


@pytest.mark.parametrize("ret", ["https://evil.example/", "//evil.example/x", "https://shop.example.evil.example/",
                                 "javascript:alert(1)", "https://shop.example@evil.example/"])
def test_page_never_redirects_off_the_target_origin(server, ret):
    room = server.create_room(target_url="https://shop.example/")
    r = post_form(server, f"/r/{room}/join", {})
    jar = {f"waitroom_{room}": r.cookies[f"waitroom_{room}"]}
    server.advance(room, by=1)
    r = post_form(server, f"/r/{room}/enter", jar, **{"return": ret})
    assert r.status_code == 303 and r.headers["Location"] == "https://shop.example/", describe(r)


def test_page_as_json_and_for_unknown_rooms(server):
    room = server.create_room()
    r = server.get(f"/r/{room}", headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["room"] == room and "Retry-After" in r.headers, describe(r)
    assert_problem(server.get("/r/nosuchroom", headers=HTML), 404)
    closed = server.create_room(queueing="reject")
    r = page(server, closed, {})
    assert "closed" in r.text and "Join the line" not in r.text


def test_aws_update_session_is_enforced_by_the_gate(server):
    # AWS's authorizer ignored update_session; Waitroom's gate refuses the ended session at once.
    room = server.create_room(algorithm="RS256")
    r = server.post("/aws/assign_queue_num", json={"event_id": room})
    rid = r.json()["api_request_id"]
    server.advance(room, by=1)
    r = server.post("/aws/generate_token", json={"event_id": room, "request_id": rid})
    assert r.status_code == 200, describe(r)
    token = r.json()["access_token"]
    assert check(server, room, token, cookie=False).status_code == 204
    r = server.post("/aws/private/update_session", admin=True,
                    json={"event_id": room, "request_id": rid, "status": 1})
    assert r.status_code == 200, describe(r)
    assert_problem(check(server, room, token, cookie=False), 401)
