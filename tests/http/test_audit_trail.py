"""The audit trail (issue 19): every change through an admin path is recorded with who made it,
from where, what it changed (a room's settings as before -> after) and when; read with
GET /admin/v1/audit, filtered by room and actor, in pages; kept across restarts."""

from test_reload import reload_and_wait
from wrlib import DEFAULT_CONFIG, TEST_CLOCK_CONFIG, assert_problem, describe


def audit(srv, headers=None, **params):
    r = srv.get("/admin/v1/audit", admin=headers is None, headers=headers, params=params)
    assert r.status_code == 200, describe(r)
    return r.json()


def test_every_kind_of_change_is_recorded_with_its_actor(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    start = audit(srv)["next_after"]
    room = srv.create_room(pass_lifetime_s=300)
    srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"pass_lifetime_s": 600})
    t = srv.enqueue_ok(room)
    srv.advance(room, by=1)
    srv.post(f"/admin/v1/rooms/{room}/pause", admin=True)
    srv.post(f"/admin/v1/rooms/{room}/resume", admin=True)
    assert srv.set_session(room, t["ticket"], "revoked").status_code in (200, 404, 409)
    made = srv.post("/admin/v1/tokens", admin=True, json={"name": "bob", "role": "operator"}).json()
    bob = {"Authorization": f"Bearer {made['token']}"}
    assert srv.post(f"/admin/v1/rooms/{room}/advance", headers=bob, json={"by": 1}).status_code == 200
    # Refused and read-only requests change nothing and are not recorded.
    assert_problem(srv.post(f"/admin/v1/rooms/{room}/reset", headers=bob), 403)
    srv.get(f"/admin/v1/rooms/{room}/stats", headers=bob)
    srv.post(f"/admin/v1/rooms/{room}/reset", admin=True)
    srv.post("/admin/v1/compact", admin=True)
    srv.post("/admin/v1/keys/rotate", admin=True)
    srv.delete(f"/admin/v1/tokens/{made['id']}", admin=True)
    srv.delete(f"/admin/v1/rooms/{room}", admin=True)

    entries = audit(srv, after=start)["entries"]
    actions = [(e["actor"], e["action"]) for e in entries]
    admin = "admin key"
    assert actions == [
        (admin, "PUT /admin/v1/rooms/{room}"),
        (admin, "PUT /admin/v1/rooms/{room}"),
        (admin, "POST /admin/v1/rooms/{room}/advance"),
        (admin, "POST /admin/v1/rooms/{room}/pause"),
        (admin, "POST /admin/v1/rooms/{room}/resume"),
    ] + ([(admin, "PUT /admin/v1/rooms/{room}/sessions/{ticket}")]
         if any(a == "PUT /admin/v1/rooms/{room}/sessions/{ticket}" for _, a in actions) else []) + [
        (admin, "POST /admin/v1/tokens"),
        ("bob", "POST /admin/v1/rooms/{room}/advance"),
        (admin, "POST /admin/v1/rooms/{room}/reset"),
        (admin, "POST /admin/v1/compact"),
        (admin, "POST /admin/v1/keys/rotate"),
        (admin, "DELETE /admin/v1/tokens/{id}"),
        (admin, "DELETE /admin/v1/rooms/{room}"),
    ], actions
    created, changed = entries[0], entries[1]
    assert created["room"] == room and created["details"]["created"] is True
    assert {"setting": "pass_lifetime_s", "from": 300, "to": 600} in changed["details"]["changes"]
    assert changed["details"]["created"] is False
    by_bob = [e for e in entries if e["actor"] == "bob"][0]
    assert by_bob["via"] == "token" and by_bob["token_id"] == made["id"]
    assert by_bob["details"] == {"by": 1} and by_bob["address"] == "127.0.0.1"
    assert all(e["status"] < 300 and e["at_ms"] > 0 for e in entries)
    token_entry = [e for e in entries if e["action"] == "POST /admin/v1/tokens"][0]
    assert made["token"] not in str(token_entry)
    ids = [e["id"] for e in entries]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    # Filters and pages.
    assert [e["actor"] for e in audit(srv, actor="bob", after=start)["entries"]] == ["bob"]
    assert [e["actor"] for e in audit(srv, actor=made["id"], after=start)["entries"]] == ["bob"]
    assert all(e["room"] == room for e in audit(srv, room=room, after=start)["entries"])
    page = audit(srv, after=start, limit=2)
    assert [e["id"] for e in page["entries"]] == ids[:2] and page["next_after"] == ids[1]
    srv.restart()
    assert [e["id"] for e in audit(srv, after=start)["entries"]] == ids


def test_the_config_files_rooms_are_recorded_as_config(server_factory):
    srv = server_factory(config_text=DEFAULT_CONFIG)
    first = audit(srv, actor="config")["entries"]
    assert {e["room"] for e in first} >= {"demo", "legacy"}
    assert all(e["via"] == "config" and e["details"]["created"] for e in first)
    srv.config_path.write_text(DEFAULT_CONFIG.replace("pass_lifetime_s = 900", "pass_lifetime_s = 901"))
    reload_and_wait(srv, "config reloaded")
    last = audit(srv, actor="config", after=first[-1]["id"])["entries"]
    assert [(e["room"], e["action"]) for e in last] == [("demo", "config file: rooms.demo")]
    assert {"setting": "pass_lifetime_s", "from": 900, "to": 901} in last[0]["details"]["changes"]


def test_a_viewer_reads_the_trail_and_a_room_limited_token_only_its_rooms(server_factory):
    srv = server_factory()
    room = srv.create_room()
    viewer = srv.post("/admin/v1/tokens", admin=True,
                      json={"name": "auditor", "role": "viewer", "rooms": [room]}).json()
    h = {"Authorization": f"Bearer {viewer['token']}"}
    assert [e["room"] for e in audit(srv, headers=h, room=room)["entries"]] == [room]
    assert_problem(srv.get("/admin/v1/audit", headers=h), 403)
    assert_problem(srv.get("/admin/v1/audit", admin=True, params={"limit": "0"}), 400)


def test_the_trail_reads_in_pages_either_way(server_factory):
    srv = server_factory()
    room = srv.create_room()
    for i in range(7):
        assert srv.put(f"/admin/v1/rooms/{room}/message", admin=True,
                       json={"text": f"note {i}"}).status_code == 200
    ids = [e["id"] for e in audit(srv, room=room, limit=1000)["entries"]]
    assert len(ids) == 8 and ids == sorted(ids)  # the room's creation, then the seven messages

    # Newest first, three at a time, each page going on before the last one's oldest entry.
    seen, before = [], 0
    while True:
        page = audit(srv, room=room, order="newest", limit=3, before=before)
        seen += [e["id"] for e in page["entries"]]
        if len(page["entries"]) < 3:
            break
        assert page["next_before"] == page["entries"][-1]["id"]
        before = page["next_before"]
    assert seen == ids[::-1]
    # Oldest first the same way, and both bounds at once.
    page = audit(srv, room=room, limit=3, after=ids[2])
    assert [e["id"] for e in page["entries"]] == ids[3:6] and page["next_after"] == ids[5]
    assert [e["id"] for e in audit(srv, room=room, after=ids[1], before=ids[5])["entries"]] == ids[2:5]
    assert [e["id"] for e in audit(srv, room=room, order="newest", after=ids[1],
                                   before=ids[5])["entries"]] == ids[4:1:-1]
    assert_problem(srv.get("/admin/v1/audit", admin=True, params={"order": "sideways"}), 400)
    assert_problem(srv.get("/admin/v1/audit", admin=True, params={"before": "-1"}), 400)
