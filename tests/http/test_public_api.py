"""Public API: /v1/rooms/{room}/tickets, ticket status, passes, room status,
JWKS and the health routes."""

import time

import pytest

from wrlib import (TICKET_RE, TICKET_STATUSES, assert_json, assert_problem, describe, is_int,
                   random_ticket_id)


def parse_set_cookie(value):
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name, val, attrs


# ---- health and discovery -----------------------------------------------------

def test_healthz_and_readyz(server):
    for path in ("/healthz", "/readyz"):
        r = server.get(path)
        assert r.status_code == 200, describe(r)


def test_jwks_lists_ec_and_rsa_public_keys(server):
    r = server.get("/.well-known/jwks.json")
    body = assert_json(r, 200)
    keys = body["keys"]
    assert isinstance(keys, list) and keys, describe(r)
    ktys = {k["kty"] for k in keys}
    assert {"EC", "RSA"} <= ktys, describe(r)
    kids = [k["kid"] for k in keys]
    assert len(kids) == len(set(kids)), "duplicate kid in JWKS" + describe(r)
    for k in keys:
        assert isinstance(k["kid"], str) and k["kid"], k
        assert k.get("use") == "sig", k
        if k["kty"] == "EC":
            assert k["alg"] == "ES256" and k["crv"] == "P-256", k
            assert k["x"] and k["y"] and "d" not in k, "EC JWK must be public only: %r" % k
        else:
            assert k["alg"] == "RS256", k
            assert k["n"] and k["e"], k
            for private in ("d", "p", "q", "dp", "dq", "qi"):
                assert private not in k, "RSA JWK must be public only: %r" % k


# ---- enqueue ----------------------------------------------------------------------------

def test_enqueue_returns_ticket_and_cookie(server):
    room = server.create_room()
    r = server.enqueue(room)
    body = assert_json(r, 201)
    assert TICKET_RE.match(body["ticket"]), describe(r)
    assert body["room"] == room
    assert body["position"] == 1 and is_int(body["position"])
    assert body["status"] == "waiting"
    assert body["serving"] == 0 and is_int(body["serving"])
    assert body["ahead"] == 0 and is_int(body["ahead"])  # position 1, serving 0 → 0 ahead

    cookies = r.raw.headers.getlist("Set-Cookie")
    ours = [c for c in cookies if c.startswith(f"waitroom_{room}=")]
    assert len(ours) == 1, f"Set-Cookie: {cookies}"
    name, val, attrs = parse_set_cookie(ours[0])
    assert name == f"waitroom_{room}" and val == body["ticket"], ours[0]
    assert attrs.get("path") == "/", ours[0]
    assert "httponly" in attrs, ours[0]
    assert attrs.get("samesite", "").lower() == "lax", ours[0]
    assert "secure" not in attrs, "Secure must only be set with cookie_secure = true: " + ours[0]


def test_enqueue_accepts_empty_object_body(server):
    room = server.create_room()
    r = server.post(f"/v1/rooms/{room}/tickets", json={})
    assert_json(r, 201)
    r = server.post(f"/v1/rooms/{room}/tickets", data=b"")
    assert_json(r, 201)


def test_enqueue_config_rooms(server):
    for room in ("demo", "legacy"):
        body = assert_json(server.enqueue(room), 201)
        assert body["room"] == room


def test_positions_are_gap_free_and_ahead_is_consistent(server):
    room = server.create_room()
    tickets = [server.enqueue_ok(room) for _ in range(12)]
    assert [t["position"] for t in tickets] == list(range(1, 13))
    assert len({t["ticket"] for t in tickets}) == 12
    for t in tickets:
        assert t["ahead"] == t["position"] - 1

    server.advance(room, by=5)
    more = [server.enqueue_ok(room) for _ in range(3)]
    assert [t["position"] for t in more] == [13, 14, 15]
    for t in more:
        assert t["serving"] == 5 and t["ahead"] == t["position"] - 5 - 1


def test_cookie_reuse_returns_same_ticket(server):
    room = server.create_room()
    first = server.enqueue_ok(room)
    server.enqueue_ok(room)  # someone else
    r = server.enqueue(room, cookie=first["ticket"])
    body = assert_json(r, 200)
    assert body["ticket"] == first["ticket"] and body["position"] == first["position"], describe(r)
    # ...and the line did not grow because of it
    assert server.room_status(room)["queue_length"] == 2


def test_forged_cookie_gives_new_ticket(server):
    room = server.create_room()
    server.enqueue_ok(room)
    forged = random_ticket_id()
    r = server.enqueue(room, cookie=forged)
    body = assert_json(r, 201)
    assert body["ticket"] != forged and body["position"] == 2, describe(r)
    r = server.enqueue(room, cookie="not-a-ticket")
    body = assert_json(r, 201)
    assert body["position"] == 3, describe(r)


def test_enqueue_unknown_room_404(server):
    r = server.enqueue("no-such-room")
    assert_problem(r, 404)


def test_enqueue_while_paused_still_works(server):
    room = server.create_room()
    r = server.post(f"/admin/v1/rooms/{room}/pause", admin=True)
    assert r.status_code == 200, describe(r)
    assert server.room_status(room)["status"] == "paused"
    assert server.enqueue_ok(room)["position"] == 1


# ---- ticket status ------------------------------------------------------------------------

def test_ticket_status_fields(server):
    room = server.create_room()
    before = time.time()
    tickets = [server.enqueue_ok(room) for _ in range(4)]
    after = time.time()
    server.advance(room, by=1)
    for t in tickets:
        r = server.ticket(room, t["ticket"])
        body = assert_json(r, 200)
        for f in ("ticket", "room", "position", "status", "ahead", "serving", "queue_length",
                  "entry_time"):
            assert f in body, f"missing {f}" + describe(r)
        assert body["ticket"] == t["ticket"] and body["room"] == room
        assert body["position"] == t["position"]
        assert body["serving"] == 1 and body["queue_length"] == 4
        assert body["status"] in TICKET_STATUSES
        assert isinstance(body["entry_time"], (int, float))
        assert before - 2 <= body["entry_time"] <= after + 2, describe(r)
        if t["position"] <= 1:
            assert body["status"] == "eligible" and body["ahead"] is None, describe(r)
        else:
            assert body["status"] == "waiting", describe(r)
            assert body["ahead"] == t["position"] - 1 - 1, describe(r)


def test_ticket_forged_or_malformed_is_404(server):
    for tid in (random_ticket_id(), "abc", "0" * 36, random_ticket_id().upper()):
        r = server.ticket("demo", tid)
        assert_problem(r, 404)


def test_ticket_with_one_changed_digit_is_404(server):
    # ids are unguessable: changing any one hex digit of a real id (say, where a
    # position or epoch might be encoded) must not name a ticket
    room = server.create_room()
    t = [server.enqueue_ok(room) for _ in range(3)][1]["ticket"]
    failures = []
    for i, c in enumerate(t):
        if c == "-":
            continue
        for new in {format((int(c, 16) + 1) % 16, "x"), format(int(c, 16) ^ 0x8, "x")}:
            forged = t[:i] + new + t[i + 1:]
            r = server.ticket(room, forged)
            if r.status_code != 404:
                failures.append(f"{forged}: {r.status_code} {r.text[:200]}")
    assert not failures, f"from real ticket {t}:\n" + "\n".join(failures)


def test_ticket_of_other_room_is_404(server):
    a = server.create_room()
    b = server.create_room()
    t = server.enqueue_ok(a)
    server.enqueue_ok(b)
    assert_problem(server.ticket(b, t["ticket"]), 404)


def test_ticket_unknown_room_is_404(server):
    t = server.enqueue_ok("demo")
    assert_problem(server.ticket("no-such-room", t["ticket"]), 404)


# ---- passes -------------------------------------------------------------------------------

def test_pass_before_eligible_is_409_with_retry_after(server):
    room = server.create_room(pass_lifetime_s=900)
    t1 = server.enqueue_ok(room)
    t2 = server.enqueue_ok(room)
    r = server.pass_for(room, t1["ticket"])
    assert_problem(r, 409)
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) >= 1, describe(r)

    server.advance(room, by=1)
    r = server.pass_for(room, t1["ticket"])
    body = assert_json(r, 200)
    assert isinstance(body["pass"], str) and body["pass"].count(".") == 2, describe(r)
    assert is_int(body["expires_at"]) and is_int(body["expires_in"]), describe(r)
    assert 0 < body["expires_in"] <= 900
    assert abs(body["expires_at"] - (time.time() + body["expires_in"])) <= 3
    # t2 is still one short
    r = server.pass_for(room, t2["ticket"])
    assert_problem(r, 409)
    assert r.headers.get("Retry-After", "").isdigit(), describe(r)


def test_pass_twice_returns_same_pass(server):
    room = server.create_room()
    t = server.enqueue_ok(room)
    server.advance(room, by=1)
    a = assert_json(server.pass_for(room, t["ticket"]), 200)
    time.sleep(1.1)  # a re-signed pass would differ in iat
    b = assert_json(server.pass_for(room, t["ticket"]), 200)
    assert a["pass"] == b["pass"] and a["expires_at"] == b["expires_at"]
    r = server.ticket(room, t["ticket"])
    assert assert_json(r, 200)["status"] == "admitted", describe(r)


def test_pass_unknown_ticket_or_room_404(server):
    assert_problem(server.pass_for("demo", random_ticket_id()), 404)
    t = server.enqueue_ok("demo")
    assert_problem(server.pass_for("no-such-room", t["ticket"]), 404)


@pytest.mark.parametrize("status", ["completed", "abandoned", "revoked"])
def test_pass_after_session_end_is_410(server, status):
    room = server.create_room()
    t = server.enqueue_ok(room)
    server.advance(room, by=1)
    assert_json(server.pass_for(room, t["ticket"]), 200)
    r = server.set_session(room, t["ticket"], status)
    assert r.status_code == 200, describe(r)
    assert_problem(server.pass_for(room, t["ticket"]), 410)
    r = server.ticket(room, t["ticket"])
    assert assert_json(r, 200)["status"] == status


# ---- room status -------------------------------------------------------------------------

def test_room_status(server):
    room = server.create_room()
    body = server.room_status(room)
    assert body["room"] == room and body["status"] == "open", body
    assert (body["serving"], body["queue_length"], body["waiting"], body["active_sessions"]) == (
        0, 0, 0, 0), body
    tickets = [server.enqueue_ok(room) for _ in range(5)]
    server.advance(room, by=2)
    assert_json(server.pass_for(room, tickets[0]["ticket"]), 200)
    body = server.room_status(room)
    assert body["serving"] == 2 and body["queue_length"] == 5 and body["waiting"] == 3, body
    assert body["active_sessions"] == 1, body
    for k in ("serving", "queue_length", "waiting", "active_sessions"):
        assert is_int(body[k]), body

    r = server.post(f"/admin/v1/rooms/{room}/pause", admin=True)
    assert r.status_code == 200, describe(r)
    assert server.room_status(room)["status"] == "paused"
    r = server.post(f"/admin/v1/rooms/{room}/resume", admin=True)
    assert r.status_code == 200, describe(r)
    assert server.room_status(room)["status"] == "open"


def test_room_status_unknown_room_404(server):
    assert_problem(server.get("/v1/rooms/no-such-room"), 404)


def test_cookie_secure_attribute(server_factory):
    from wrlib import DEFAULT_CONFIG
    srv = server_factory(config_text="cookie_secure = true\n\n" + DEFAULT_CONFIG)
    r = srv.enqueue("demo")
    assert r.status_code == 201, describe(r)
    cookie = [c for c in r.raw.headers.getlist("Set-Cookie") if c.startswith("waitroom_demo=")]
    assert cookie, describe(r)
    _, _, attrs = parse_set_cookie(cookie[0])
    assert "secure" in attrs and "httponly" in attrs, cookie[0]
    assert attrs.get("samesite", "").lower() == "lax" and attrs.get("path") == "/", cookie[0]
