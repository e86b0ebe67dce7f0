"""Operator tokens and roles (issue 19): tokens created, listed and revoked by an admin; each role
against every admin route (allowed: the handler answers; forbidden: 403 naming the missing role);
tokens limited to rooms; revoked and expired tokens refused at once; tokens never in the log."""

import pytest

from wrlib import TEST_CLOCK_CONFIG, assert_problem, describe, unique_room

ROLES = ["viewer", "operator", "admin"]
RANK = {r: i for i, r in enumerate(ROLES)}
TICKET = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def srv():
    from wrlib import Server
    s = Server(config_text=TEST_CLOCK_CONFIG, name="waitroom-tokens").start()
    yield s
    s.stop()


def create_token(srv, **body):
    r = srv.post("/admin/v1/tokens", admin=True, json=body)
    assert r.status_code == 201, describe(r)
    return r.json()


def as_token(srv, token, method, path, **kw):
    return srv.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


def routes(room, fresh_room):
    """(method, path, json body, role needed) for every admin route; `fresh_room` is for the
    routes that destroy (delete, reset)."""
    base = f"/admin/v1/rooms/{room}"
    return [
        ("GET", "/admin/v1/rooms", None, "viewer"),
        ("GET", base, None, "viewer"),
        ("GET", f"{base}/stats", None, "viewer"),
        ("GET", f"{base}/admissions", None, "viewer"),
        ("GET", f"{base}/history", None, "viewer"),
        ("GET", f"/admin/v1/events?room={room}", None, "viewer"),
        ("GET", f"/admin/v1/audit?room={room}", None, "viewer"),
        ("PUT", base, {"pass_lifetime_s": 600}, "operator"),
        ("POST", f"{base}/advance", {"by": 1}, "operator"),
        ("POST", f"{base}/pause", None, "operator"),
        ("POST", f"{base}/resume", None, "operator"),
        ("PUT", f"{base}/sessions/{TICKET}", {"status": "revoked"}, "operator"),
        ("PUT", f"{base}/message", {"text": "From the operators"}, "operator"),
        ("DELETE", f"{base}/message", None, "operator"),
        ("GET", f"{base}/codes", None, "operator"),
        ("POST", f"{base}/codes", {"admit": True}, "operator"),
        ("DELETE", f"{base}/codes/0123456789ab", None, "operator"),
        ("PUT", f"/admin/v1/rooms/{unique_room('new')}", {}, "admin"),
        ("POST", f"/admin/v1/rooms/{fresh_room}/reset", None, "admin"),
        ("DELETE", f"/admin/v1/rooms/{fresh_room}", None, "admin"),
        ("POST", "/admin/v1/compact", None, "admin"),
        ("GET", "/admin/v1/keys", None, "admin"),
        ("GET", "/admin/v1/tokens", None, "admin"),
        ("POST", "/admin/v1/tokens", {"name": "made-by-test", "role": "viewer"}, "admin"),
        ("DELETE", "/admin/v1/tokens/0000000000000000", None, "admin"),
        ("GET", "/admin/v1/testing/clock", None, "admin"),
    ]


def test_each_role_against_every_admin_route(srv):
    tokens = {role: create_token(srv, name=f"{role}-1", role=role)["token"] for role in ROLES}
    failures = []
    for role in ROLES:
        room = srv.create_room()
        srv.enqueue_ok(room)
        for method, path, body, needed in routes(room, srv.create_room()):
            r = as_token(srv, tokens[role], method, path, json=body)
            if RANK[role] >= RANK[needed]:
                # Allowed: the handler answered (a made-up ticket or token id may be its own 404).
                if r.status_code in (401, 403) or r.status_code >= 500:
                    failures.append(f"{role} {method} {path}: {r.status_code} {r.text[:200]}")
            else:
                # The detail names a role above the caller's (a viewer creating a room is first
                # told it needs the operator role, which may change rooms).
                detail = r.json().get("detail", "") if r.status_code == 403 else ""
                named = [x for x in ROLES if f"needs the {x} role" in detail]
                if not named or RANK[named[0]] <= RANK[role]:
                    failures.append(f"{role} {method} {path}: want 403 naming {needed}, "
                                    f"got {r.status_code} {r.text[:200]}")
                elif r.headers.get("Content-Type", "").split(";")[0] != "application/problem+json":
                    failures.append(f"{role} {method} {path}: not problem+json")
    assert not failures, "\n".join(failures)


def test_a_forbidden_change_changes_nothing(srv):
    viewer = create_token(srv, name="looker", role="viewer")["token"]
    room = srv.create_room()
    srv.enqueue_ok(room)
    before = srv.admin_room(room)
    assert_problem(as_token(srv, viewer, "POST", f"/admin/v1/rooms/{room}/advance", json={"by": 1}), 403)
    assert_problem(as_token(srv, viewer, "POST", f"/admin/v1/rooms/{room}/reset"), 403)
    after = srv.admin_room(room)
    assert (after["serving"], after["epoch"]) == (before["serving"], before["epoch"])


def test_an_operator_updates_a_room_but_only_an_admin_creates_one(srv):
    operator = create_token(srv, name="ops", role="operator")["token"]
    room = srv.create_room()
    r = as_token(srv, operator, "PUT", f"/admin/v1/rooms/{room}", json={"pass_lifetime_s": 321})
    assert r.status_code == 200, describe(r)
    new = unique_room("nope")
    r = as_token(srv, operator, "PUT", f"/admin/v1/rooms/{new}", json={})
    assert_problem(r, 403)
    assert "admin" in r.json()["detail"]
    assert srv.get(f"/admin/v1/rooms/{new}", admin=True).status_code == 404


def test_a_token_limited_to_rooms_sees_and_changes_only_those(srv):
    mine, other = srv.create_room(), srv.create_room()
    t = create_token(srv, name="merch-team", role="operator", rooms=[mine])["token"]
    assert as_token(srv, t, "POST", f"/admin/v1/rooms/{mine}/advance", json={"by": 1}).status_code == 200
    r = as_token(srv, t, "POST", f"/admin/v1/rooms/{other}/advance", json={"by": 1})
    assert_problem(r, 403)
    assert other in r.json()["detail"]
    assert_problem(as_token(srv, t, "GET", f"/admin/v1/rooms/{other}/stats"), 403)
    listed = as_token(srv, t, "GET", "/admin/v1/rooms").json()["rooms"]
    assert [x["room"] for x in listed] == [mine]
    assert_problem(as_token(srv, t, "GET", f"/admin/v1/events?room={other}"), 403)
    # A route of every room is not for a token of some rooms, whatever its role.
    admin_of_some = create_token(srv, name="some-admin", role="admin", rooms=[mine])["token"]
    assert_problem(as_token(srv, admin_of_some, "POST", "/admin/v1/compact"), 403)


def test_revoked_and_expired_tokens_are_refused_at_once(srv):
    made = create_token(srv, name="leaving", role="operator")
    room = srv.create_room()
    assert as_token(srv, made["token"], "GET", f"/admin/v1/rooms/{room}").status_code == 200
    r = srv.delete(f"/admin/v1/tokens/{made['id']}", admin=True)
    assert r.status_code == 200 and r.json()["revoked_at"], describe(r)
    assert_problem(as_token(srv, made["token"], "GET", f"/admin/v1/rooms/{room}"), 401)

    short = create_token(srv, name="temp", role="viewer", expires_in_s=60)
    assert as_token(srv, short["token"], "GET", f"/admin/v1/rooms/{room}").status_code == 200
    srv.advance_clock(61_000)
    assert_problem(as_token(srv, short["token"], "GET", f"/admin/v1/rooms/{room}"), 401)
    # A wrong secret with a real id is refused too.
    forged = short["token"][:-4] + ("AAAA" if not short["token"].endswith("AAAA") else "BBBB")
    assert_problem(as_token(srv, forged, "GET", "/admin/v1/rooms"), 401)


def test_tokens_are_shown_once_listed_without_secrets_and_never_logged(srv):
    made = create_token(srv, name="alice", role="viewer", rooms=["sale"])
    assert made["token"].startswith("wrt_" + made["id"] + "_")
    listed = srv.get("/admin/v1/tokens", admin=True).json()["tokens"]
    mine = [t for t in listed if t["id"] == made["id"]]
    assert mine and set(mine[0]) == {"id", "name", "role", "rooms", "created_at", "expires_at",
                                      "revoked_at", "last_used_at"}
    assert mine[0]["rooms"] == ["sale"] and mine[0]["role"] == "viewer"
    as_token(srv, made["token"] + "x", "GET", "/admin/v1/rooms")  # a refused use is logged
    secret = made["token"].split("_", 2)[2]
    assert secret not in srv.log_text()


@pytest.mark.parametrize("body", [
    {"role": "viewer"},
    {"name": "x"},
    {"name": "x", "role": "root"},
    {"name": "x", "role": "viewer", "rooms": "sale"},
    {"name": "x", "role": "viewer", "rooms": ["bad name!"]},
    {"name": "x", "role": "viewer", "expires_in_s": 0},
    {"name": "x", "role": "viewer", "expires_at": 1, "expires_in_s": 5},
    {"name": "x", "role": "viewer", "colour": "blue"},
    {"name": "", "role": "viewer"},
])
def test_bad_token_requests_are_refused(srv, body):
    before = len(srv.get("/admin/v1/tokens", admin=True).json()["tokens"])
    assert_problem(srv.post("/admin/v1/tokens", admin=True, json=body), 400)
    assert len(srv.get("/admin/v1/tokens", admin=True).json()["tokens"]) == before


def test_tokens_survive_a_restart(server_factory):
    s = server_factory()
    made = create_token(s, name="keeper", role="viewer")
    s.restart()
    assert as_token(s, made["token"], "GET", "/admin/v1/rooms").status_code == 200


def test_a_tokens_last_use_is_listed_to_within_a_minute(server_factory):
    s = server_factory(config_text=TEST_CLOCK_CONFIG)
    made = create_token(s, name="night-shift", role="viewer")

    def last_used():
        listed = s.get("/admin/v1/tokens", admin=True).json()["tokens"]
        return [t for t in listed if t["id"] == made["id"]][0]["last_used_at"]

    def now_s():
        return s.get("/admin/v1/testing/clock", admin=True).json()["now_ms"] // 1000

    assert last_used() is None
    assert as_token(s, made["token"], "GET", "/admin/v1/rooms").status_code == 200
    first = now_s()
    assert last_used() == first
    s.advance_clock(30_000)  # within the minute: not written again
    assert as_token(s, made["token"], "GET", "/admin/v1/rooms").status_code == 200
    assert last_used() == first
    s.advance_clock(40_000)
    as_token(s, made["token"] + "x", "GET", "/admin/v1/rooms")  # refused: not a use
    assert last_used() == first
    assert as_token(s, made["token"], "GET", "/admin/v1/rooms").status_code == 200
    assert last_used() == now_s() == first + 70
    s.restart()
    assert last_used() == first + 70
