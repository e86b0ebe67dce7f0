"""The dashboard signed in with an operator token (issue 19): the session acts as the token — its
role and rooms, checked by the server whatever the page shows — ends at once when the token is
revoked or expires, and its changes are in the audit trail under the token's name.

Session cookies are sent by hand, as in test_dashboard.py. The server runs the test clock, so an
expiry is reached by moving it."""

import html
import json
import re

import pytest

from wrlib import TEST_CLOCK_CONFIG, Server, assert_problem, describe

COOKIE = "waitroom_admin"


@pytest.fixture(scope="module")
def srv():
    s = Server(config_text=TEST_CLOCK_CONFIG, name="waitroom-dash-access").start()
    yield s
    s.shut_down()


def create_token(srv, **body):
    r = srv.post("/admin/v1/tokens", admin=True, json=body)
    assert r.status_code == 201, describe(r)
    return r.json()


def sign_in(srv, key):
    """Signs in with `key`; returns (session id, CSRF token, the dashboard page)."""
    r = srv.post("/admin/session", data={"key": key})
    assert r.status_code == 303, describe(r)
    sid = re.match(rf"{COOKIE}=([^;]+);", r.headers["Set-Cookie"]).group(1)
    page = srv.get("/admin", headers={"Cookie": f"{COOKIE}={sid}"})
    assert page.status_code == 200, describe(page)
    csrf = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)
    return sid, csrf, page


def session(sid, csrf=None):
    h = {"Cookie": f"{COOKIE}={sid}"}
    if csrf:
        h["X-CSRF-Token"] = csrf
    return h


def caller_of(page):
    m = re.search(r'data-caller="([^"]*)"', page.text)
    assert m, "no data-caller on the dashboard" + describe(page)
    return json.loads(html.unescape(m.group(1)))


def test_sign_in_with_a_token_shows_who_and_what_its_role_may(srv):
    room = srv.create_room()
    viewer = create_token(srv, name="vera", role="viewer", rooms=[room])
    sid, _, page = sign_in(srv, viewer["token"])
    assert caller_of(page) == {"role": "viewer", "name": "vera", "rooms": [room],
                               "token_id": viewer["id"]}
    assert f"Signed in as vera (viewer; rooms: {room})" in page.text
    assert 'href="#audit"' in page.text and 'id="tokens"' not in page.text
    assert viewer["token"] not in page.text and viewer["token"] not in srv.log_text()

    _, _, admin_page = sign_in(srv, srv.admin_key)
    assert caller_of(admin_page) == {"role": "admin", "name": "admin key", "rooms": [], "token_id": ""}
    assert "Signed in with the admin key (admin)" in admin_page.text
    assert 'id="tokens"' in admin_page.text


def test_a_wrong_or_revoked_token_does_not_sign_in(srv):
    made = create_token(srv, name="gone", role="operator")
    srv.delete(f"/admin/v1/tokens/{made['id']}", admin=True)
    for key in (made["token"], made["token"][:-3] + "xyz", "wrt_0000000000000000_nothing"):
        r = srv.post("/admin/session", data={"key": key})
        assert r.status_code == 401 and "Set-Cookie" not in r.headers, describe(r)
        assert "That operator token is not valid" in r.text and key not in r.text
    assert made["token"] not in srv.log_text()
    assert f"revoked operator token {made['id']}" in srv.log_text()
    assert srv.post("/admin/session", data={"key": srv.admin_key}).status_code == 303


def test_a_viewer_session_reads_but_changes_nothing(srv):
    room = srv.create_room()
    sid, csrf, _ = sign_in(srv, create_token(srv, name="watcher", role="viewer")["token"])
    assert srv.get(f"/admin/v1/rooms/{room}", headers=session(sid)).status_code == 200
    assert srv.get("/admin/v1/audit", headers=session(sid)).status_code == 200
    r = srv.post(f"/admin/v1/rooms/{room}/pause", headers=session(sid, csrf))
    assert_problem(r, 403)
    assert "operator role" in r.json()["detail"] and "watcher" in r.json()["detail"]
    assert srv.get(f"/admin/v1/rooms/{room}", admin=True).json()["status"] != "paused"
    assert_problem(srv.get("/admin/v1/tokens", headers=session(sid)), 403)


def test_an_operator_session_of_one_room_sees_and_drives_only_it(srv):
    mine, other = srv.create_room(), srv.create_room()
    sid, csrf, _ = sign_in(srv, create_token(srv, name="olga", role="operator", rooms=[mine])["token"])
    listed = srv.get("/admin/v1/rooms", headers=session(sid)).json()["rooms"]
    assert [r["room"] for r in listed] == [mine]
    assert srv.post(f"/admin/v1/rooms/{mine}/pause", headers=session(sid, csrf)).status_code == 200
    assert_problem(srv.post(f"/admin/v1/rooms/{other}/pause", headers=session(sid, csrf)), 403)
    assert_problem(srv.post(f"/admin/v1/rooms/{mine}/reset", headers=session(sid, csrf)), 403)
    assert_problem(srv.delete(f"/admin/v1/rooms/{mine}", headers=session(sid, csrf)), 403)
    # The CSRF rule still holds for a token's session.
    assert_problem(srv.post(f"/admin/v1/rooms/{mine}/resume", headers=session(sid)), 403)


def test_the_audit_trail_names_the_token_of_a_session(srv):
    room = srv.create_room()
    made = create_token(srv, name="audrey", role="operator")
    sid, csrf, _ = sign_in(srv, made["token"])
    assert srv.post(f"/admin/v1/rooms/{room}/pause", headers=session(sid, csrf)).status_code == 200
    key_sid, key_csrf, _ = sign_in(srv, srv.admin_key)
    assert srv.post(f"/admin/v1/rooms/{room}/resume",
                    headers=session(key_sid, key_csrf)).status_code == 200
    entries = srv.get(f"/admin/v1/audit?room={room}", admin=True).json()["entries"]
    paused, resumed = entries[-2], entries[-1]
    assert paused["action"] == "POST /admin/v1/rooms/{room}/pause", paused
    assert (paused["actor"], paused["via"], paused["token_id"]) == ("audrey", "session", made["id"])
    assert (resumed["actor"], resumed["via"], resumed["token_id"]) == ("dashboard", "session", None)
    by_name = srv.get(f"/admin/v1/audit?room={room}&actor=audrey", admin=True).json()["entries"]
    assert [e["id"] for e in by_name] == [paused["id"]]


def test_revoking_the_token_ends_its_session_at_once(srv):
    room = srv.create_room()
    made = create_token(srv, name="temp-op", role="operator")
    sid, csrf, _ = sign_in(srv, made["token"])
    other_sid, _, _ = sign_in(srv, made["token"])
    assert srv.get("/admin/v1/rooms", headers=session(sid)).status_code == 200
    srv.delete(f"/admin/v1/tokens/{made['id']}", admin=True)

    r = srv.post(f"/admin/v1/rooms/{room}/pause", headers=session(sid, csrf))
    assert_problem(r, 401)
    assert "session has ended" in r.json()["detail"] and "revoked" in r.json()["detail"]
    assert srv.get(f"/admin/v1/rooms/{room}", admin=True).json()["status"] != "paused"
    # Ended, not merely refused: the cookie signs nothing in any more.
    assert_problem(srv.get("/admin/v1/rooms", headers=session(sid)), 401)
    # The page of another session of that token says why it ended.
    page = srv.get("/admin", headers=session(other_sid))
    assert page.status_code == 200 and 'action="/admin/session"' in page.text
    assert "its operator token was revoked or has expired" in page.text
    assert "Max-Age=0" in page.headers.get("Set-Cookie", "")
    assert "dashboard_session" in srv.log_text()


def test_an_expiring_token_ends_its_session_when_it_expires(srv):
    made = create_token(srv, name="brief", role="viewer", expires_in_s=120)
    sid, _, _ = sign_in(srv, made["token"])
    assert srv.get("/admin/v1/rooms", headers=session(sid)).status_code == 200
    srv.advance_clock(121_000)
    r = srv.get("/admin/v1/rooms", headers=session(sid))
    assert_problem(r, 401)
    assert "expired" in r.json()["detail"]
