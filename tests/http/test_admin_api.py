"""Admin API with a valid key: rooms CRUD, advance, pause/resume, sessions,
stats, keys. (Reset has its own file; 401s are in test_admin_auth.py.)"""

import jwt
import pytest

from wrlib import ROOM_CONFIG, assert_json, assert_problem, describe, is_int, random_ticket_id, unique_room

ROOM_OBJECT_FIELDS = ("room", "pass_lifetime_s", "algorithm", "issuer", "audience", "target_url",
                      "status", "serving", "queue_length", "waiting", "active_sessions", "epoch")
STATS_FIELDS = ("room", "epoch", "queue_counter", "serving", "waiting", "active_sessions",
                "passes_issued", "completed", "abandoned", "revoked", "expired")


def check_room_object(obj, room):
    for f in ROOM_OBJECT_FIELDS:
        assert f in obj, f"room object lacks {f}: {obj}"
    assert obj["room"] == room
    assert obj["status"] in ("open", "paused")
    for f in ("serving", "queue_length", "waiting", "active_sessions", "epoch", "pass_lifetime_s"):
        assert is_int(obj[f]), f"{f} is not an int: {obj}"


# ---- rooms ---------------------------------------------------------------------------------

def test_list_rooms_has_config_rooms(server):
    r = server.get("/admin/v1/rooms", admin=True)
    body = assert_json(r, 200)
    rooms = {o["room"]: o for o in body["rooms"]}
    for name, cfg in ROOM_CONFIG.items():
        assert name in rooms, describe(r)
        check_room_object(rooms[name], name)
        for k, v in cfg.items():
            assert rooms[name][k] == v, f"{name}.{k}: {rooms[name][k]!r} != {v!r}"


def test_put_creates_then_updates(server):
    room = unique_room()
    cfg = {"pass_lifetime_s": 120, "algorithm": "RS256", "issuer": "https://iss.example",
           "audience": "aud-x", "target_url": "https://target.example/path"}
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json=cfg)
    body = assert_json(r, 201)
    check_room_object(body, room)
    for k, v in cfg.items():
        assert body[k] == v, describe(r)
    assert body["status"] == "open" and body["serving"] == 0 and body["queue_length"] == 0

    # partial update: only the given field changes
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"target_url": ""})
    body = assert_json(r, 200)
    assert body["target_url"] == ""
    for k in ("pass_lifetime_s", "algorithm", "issuer", "audience"):
        assert body[k] == cfg[k], describe(r)

    got = server.admin_room(room)
    check_room_object(got, room)
    assert got["target_url"] == "" and got["pass_lifetime_s"] == 120

    listed = server.get("/admin/v1/rooms", admin=True).json()["rooms"]
    assert room in {o["room"] for o in listed}

    # the public side sees it
    assert server.room_status(room)["room"] == room


def test_put_empty_body_uses_defaults(server):
    room = unique_room()
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={})
    body = assert_json(r, 201)
    check_room_object(body, room)
    assert body["algorithm"] == "ES256", describe(r)
    assert body["audience"] == room, describe(r)
    assert 60 <= body["pass_lifetime_s"] <= 604800


def test_update_changes_new_passes(server):
    room = server.create_room(pass_lifetime_s=900)
    server.put(f"/admin/v1/rooms/{room}", admin=True, json={"pass_lifetime_s": 120})
    t = server.enqueue_ok(room)
    server.advance(room, by=1)
    p = assert_json(server.pass_for(room, t["ticket"]), 200)
    claims = jwt.decode(p["pass"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 120, claims
    assert 100 <= p["expires_in"] <= 120, p


@pytest.mark.parametrize("body", [
    {"pass_lifetime_s": 59},
    {"pass_lifetime_s": 604801},
    {"pass_lifetime_s": -1},
    {"pass_lifetime_s": "900"},
    {"pass_lifetime_s": 900.5},
    {"pass_lifetime_s": True},
    {"pass_lifetime_s": None},
    {"algorithm": "HS256"},
    {"algorithm": "none"},
    {"algorithm": 256},
    {"issuer": 5},
    {"audience": ["a"]},
    {"target_url": "ftp://x.example/"},
    {"target_url": "javascript:alert(1)"},
    {"target_url": "not a url"},
    {"target_url": 1},
    {"unknown_field": 1},
    {"pass_lifetime_s": 900, "colour": "red"},
], ids=lambda b: repr(b))
def test_put_rejects_bad_fields_and_changes_nothing(server, body):
    room = server.create_room(pass_lifetime_s=600, target_url="https://ok.example/")
    before = server.admin_room(room)
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json=body)
    assert_problem(r, 400)
    assert server.admin_room(room) == before

    # a new room with a bad body is not created
    fresh = unique_room()
    r = server.put(f"/admin/v1/rooms/{fresh}", admin=True, json=body)
    assert_problem(r, 400)
    assert_problem(server.get(f"/admin/v1/rooms/{fresh}", admin=True), 404)


@pytest.mark.parametrize("body", [b"[]", b'"x"', b"5", b"null", b"true"], ids=repr)
def test_put_rejects_non_object_body(server, body):
    room = unique_room()
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, data=body,
                   headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    assert_problem(server.get(f"/admin/v1/rooms/{room}", admin=True), 404)


@pytest.mark.parametrize("name", ["-leading-dash", "_leading", "x" * 65, "a.b", "a@b", "a~b"])
def test_put_rejects_invalid_room_name(server, name):
    r = server.put(f"/admin/v1/rooms/{name}", admin=True, json={})
    assert_problem(r, 400)
    names = {o["room"] for o in server.get("/admin/v1/rooms", admin=True).json()["rooms"]}
    assert name not in names


@pytest.mark.parametrize("path", ["/admin/v1/rooms/a%20b", "/admin/v1/rooms/a%2Fb"])
def test_put_rejects_encoded_room_name(server, path):
    r = server.put(path, admin=True, json={})
    assert r.status_code in (400, 404), describe(r)
    assert_problem(r, r.status_code)


def test_max_length_room_name_is_valid(server):
    name = "A" + "b_-9" * 15 + "xyz"  # 64 chars
    assert len(name) == 64
    r = server.put(f"/admin/v1/rooms/{name}", admin=True, json={})
    assert_json(r, 201)


def test_get_unknown_room_404(server):
    assert_problem(server.get("/admin/v1/rooms/no-such-room", admin=True), 404)


def test_delete_room(server):
    room = server.create_room()
    t = server.enqueue_ok(room)
    r = server.delete(f"/admin/v1/rooms/{room}", admin=True)
    assert r.status_code == 204, describe(r)
    assert r.content == b""
    base = f"/admin/v1/rooms/{room}"
    checks = [
        server.get(base, admin=True),
        server.delete(base, admin=True),
        server.post(f"{base}/advance", admin=True, json={"by": 1}),
        server.post(f"{base}/pause", admin=True),
        server.post(f"{base}/resume", admin=True),
        server.post(f"{base}/reset", admin=True),
        server.get(f"{base}/stats", admin=True),
        server.put(f"{base}/sessions/{t['ticket']}", admin=True, json={"status": "completed"}),
        server.enqueue(room),
        server.get(f"/v1/rooms/{room}"),
        server.ticket(room, t["ticket"]),
        server.pass_for(room, t["ticket"]),
    ]
    for r in checks:
        assert_problem(r, 404)
    names = {o["room"] for o in server.get("/admin/v1/rooms", admin=True).json()["rooms"]}
    assert room not in names


# ---- advance ---------------------------------------------------------------------------------

def test_advance_by_and_to(server):
    room = server.create_room()
    for _ in range(3):
        server.enqueue_ok(room)
    r = server.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"by": 2})
    assert assert_json(r, 200)["serving"] == 2
    r = server.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"to": 10})
    assert assert_json(r, 200)["serving"] == 10
    r = server.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"to": 10})
    assert assert_json(r, 200)["serving"] == 10
    assert server.room_status(room)["serving"] == 10
    assert server.admin_room(room)["serving"] == 10


def test_advance_to_below_serving_is_409(server):
    room = server.create_room()
    server.advance(room, to=5)
    r = server.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"to": 4})
    assert_problem(r, 409)
    assert server.room_status(room)["serving"] == 5


def test_advance_max_by(server):
    room = server.create_room()
    assert server.advance(room, by=1_000_000_000) == 1_000_000_000


@pytest.mark.parametrize("body", [
    {}, {"by": 1, "to": 5}, {"by": 0}, {"by": -1}, {"by": 1.5}, {"by": "3"}, {"by": None},
    {"by": True}, {"by": 1_000_000_001}, {"by": 10 ** 30}, {"to": -1}, {"to": 2.5}, {"to": "7"},
    {"to": 10 ** 30}, {"step": 1}, [], [1], "by",
], ids=repr)
def test_advance_rejects_bad_bodies(server, body):
    room = server.create_room()
    server.advance(room, by=3)
    r = server.post(f"/admin/v1/rooms/{room}/advance", admin=True, json=body)
    assert_problem(r, 400)
    assert server.room_status(room)["serving"] == 3


def test_advance_makes_tickets_eligible(server):
    room = server.create_room()
    ts = [server.enqueue_ok(room) for _ in range(3)]
    server.advance(room, by=2)
    statuses = [server.ticket(room, t["ticket"]).json()["status"] for t in ts]
    assert statuses == ["eligible", "eligible", "waiting"]


# ---- pause / resume -----------------------------------------------------------------------

def test_pause_resume(server):
    room = server.create_room()
    r = server.post(f"/admin/v1/rooms/{room}/pause", admin=True)
    body = assert_json(r, 200)
    check_room_object(body, room)
    assert body["status"] == "paused"
    assert server.admin_room(room)["status"] == "paused"
    # enqueue and admin advance still work while paused
    assert server.enqueue_ok(room)["position"] == 1
    assert server.advance(room, by=1) == 1
    # pausing twice is harmless
    assert assert_json(server.post(f"/admin/v1/rooms/{room}/pause", admin=True), 200)["status"] == "paused"
    r = server.post(f"/admin/v1/rooms/{room}/resume", admin=True)
    body = assert_json(r, 200)
    check_room_object(body, room)
    assert body["status"] == "open"
    assert server.room_status(room)["status"] == "open"


# ---- sessions --------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["completed", "abandoned", "revoked"])
def test_session_status_change(server, status):
    room = server.create_room()
    t = server.enqueue_ok(room)
    server.advance(room, by=1)
    assert_json(server.pass_for(room, t["ticket"]), 200)
    assert server.stats(room)["active_sessions"] == 1
    r = server.set_session(room, t["ticket"], status)
    body = assert_json(r, 200)
    assert body == {"ticket": t["ticket"], "status": status} or (
        body["ticket"] == t["ticket"] and body["status"] == status), describe(r)
    assert server.ticket(room, t["ticket"]).json()["status"] == status
    assert_problem(server.pass_for(room, t["ticket"]), 410)
    stats = server.stats(room)
    assert stats[status] == 1 and stats["active_sessions"] == 0, stats
    assert server.room_status(room)["active_sessions"] == 0


def test_session_without_pass_is_409(server):
    room = server.create_room()
    waiting = server.enqueue_ok(room)
    eligible = server.enqueue_ok(room)
    server.advance(room, to=2)
    for t in (waiting, eligible):
        r = server.set_session(room, t["ticket"], "completed")
        assert_problem(r, 409)
    assert server.ticket(room, eligible["ticket"]).json()["status"] == "eligible"
    assert_json(server.pass_for(room, eligible["ticket"]), 200)


@pytest.mark.parametrize("body", [{"status": "bogus"}, {"status": "active"}, {"status": 1}, {},
                                  {"status": None}, []], ids=repr)
def test_session_bad_status_is_400(server, body):
    room = server.create_room()
    t = server.enqueue_ok(room)
    server.advance(room, by=1)
    assert_json(server.pass_for(room, t["ticket"]), 200)
    r = server.put(f"/admin/v1/rooms/{room}/sessions/{t['ticket']}", admin=True, json=body)
    assert_problem(r, 400)
    assert server.ticket(room, t["ticket"]).json()["status"] == "admitted"


def test_session_unknown_ticket_404(server):
    room = server.create_room()
    r = server.set_session(room, random_ticket_id(), "completed")
    assert_problem(r, 404)


# ---- stats ---------------------------------------------------------------------------------------

def test_stats(server):
    room = server.create_room()
    body = server.stats(room)
    for f in STATS_FIELDS:
        assert f in body, f"stats lack {f}: {body}"
    assert body["room"] == room
    for f in STATS_FIELDS[1:]:
        assert is_int(body[f]) and body[f] == (body["epoch"] if f == "epoch" else 0), body

    ts = [server.enqueue_ok(room) for _ in range(6)]
    server.advance(room, by=4)
    for t in ts[:4]:
        assert_json(server.pass_for(room, t["ticket"]), 200)
    assert_json(server.pass_for(room, ts[0]["ticket"]), 200)  # re-fetch is not a new pass
    assert server.set_session(room, ts[0]["ticket"], "completed").status_code == 200
    assert server.set_session(room, ts[1]["ticket"], "abandoned").status_code == 200
    assert server.set_session(room, ts[2]["ticket"], "revoked").status_code == 200
    body = server.stats(room)
    expect = {"queue_counter": 6, "serving": 4, "waiting": 2, "active_sessions": 1,
              "passes_issued": 4, "completed": 1, "abandoned": 1, "revoked": 1, "expired": 0}
    assert {k: body[k] for k in expect} == expect, body


def test_stats_unknown_room_404(server):
    assert_problem(server.get("/admin/v1/rooms/no-such-room/stats", admin=True), 404)


# ---- keys ------------------------------------------------------------------------------------

def check_keys(body):
    keys = body["keys"]
    assert isinstance(keys, list) and keys, body
    for k in keys:
        for f in ("kid", "alg", "created_at", "retired_at", "active"):
            assert f in k, f"key lacks {f}: {k}"
        assert k["alg"] in ("ES256", "RS256") and isinstance(k["active"], bool), k
    for alg in ("ES256", "RS256"):
        active = [k for k in keys if k["alg"] == alg and k["active"]]
        assert len(active) == 1, f"want one active {alg} key: {keys}"
    return keys


def test_keys_list_and_rotate(fresh_server):
    srv = fresh_server
    r = srv.get("/admin/v1/keys", admin=True)
    before = check_keys(assert_json(r, 200))
    active_before = {k["alg"]: k["kid"] for k in before if k["active"]}
    r = srv.post("/admin/v1/keys/rotate", admin=True)
    after = check_keys(assert_json(r, 200))
    active_after = {k["alg"]: k["kid"] for k in after if k["active"]}
    for alg in ("ES256", "RS256"):
        assert active_after[alg] != active_before[alg], (before, after)
    by_kid = {k["kid"]: k for k in after}
    for kid in active_before.values():
        assert kid in by_kid, "old key dropped right after rotation"
        assert by_kid[kid]["active"] is False and by_kid[kid]["retired_at"] is not None, by_kid[kid]
    assert assert_json(srv.get("/admin/v1/keys", admin=True), 200)["keys"] == after
    jwks_kids = {k["kid"] for k in srv.jwks()["keys"]}
    assert set(by_kid) <= jwks_kids
