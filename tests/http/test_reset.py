"""POST /admin/v1/rooms/{room}/reset: a new epoch, counters at zero, old
tickets answer 410, positions start again at 1."""

from wrlib import assert_json, assert_problem, describe


def test_reset(server):
    room = server.create_room()
    old = [server.enqueue_ok(room) for _ in range(4)]
    server.advance(room, by=2)
    old_pass = assert_json(server.pass_for(room, old[0]["ticket"]), 200)
    epoch_before = server.admin_room(room)["epoch"]

    r = server.post(f"/admin/v1/rooms/{room}/reset", admin=True)
    body = assert_json(r, 200)
    assert body["room"] == room and body["serving"] == 0 and body["queue_length"] == 0, describe(r)
    assert type(body["epoch"]) is int and body["epoch"] > epoch_before, describe(r)

    assert server.admin_room(room)["epoch"] == body["epoch"]
    status = server.room_status(room)
    assert (status["serving"], status["queue_length"], status["waiting"]) == (0, 0, 0), status
    stats = server.stats(room)
    assert stats["epoch"] == body["epoch"] and stats["queue_counter"] == 0, stats

    for t in old:
        assert_problem(server.ticket(room, t["ticket"]), 410)
        assert_problem(server.pass_for(room, t["ticket"]), 410)
    assert old_pass["pass"]  # (a gate would now reject it: another epoch)

    # an old cookie gets a fresh ticket at position 1
    r = server.enqueue(room, cookie=old[2]["ticket"])
    fresh = assert_json(r, 201)
    assert fresh["ticket"] != old[2]["ticket"] and fresh["position"] == 1, describe(r)
    assert server.enqueue_ok(room)["position"] == 2
    assert server.ticket(room, fresh["ticket"]).json()["status"] == "waiting"


def test_reset_keeps_config_and_pause(server):
    room = server.create_room(pass_lifetime_s=3600, target_url="https://keep.example/")
    assert server.post(f"/admin/v1/rooms/{room}/pause", admin=True).status_code == 200
    server.enqueue_ok(room)
    before = server.admin_room(room)
    assert server.post(f"/admin/v1/rooms/{room}/reset", admin=True).status_code == 200
    after = server.admin_room(room)
    for k in ("pass_lifetime_s", "algorithm", "issuer", "audience", "target_url", "status"):
        assert after[k] == before[k], (k, before, after)


def test_reset_twice_and_other_rooms_untouched(server):
    a = server.create_room()
    b = server.create_room()
    ta = server.enqueue_ok(a)
    tb = server.enqueue_ok(b)
    e1 = assert_json(server.post(f"/admin/v1/rooms/{a}/reset", admin=True), 200)["epoch"]
    e2 = assert_json(server.post(f"/admin/v1/rooms/{a}/reset", admin=True), 200)["epoch"]
    assert e2 > e1
    assert_problem(server.ticket(a, ta["ticket"]), 410)
    assert server.ticket(b, tb["ticket"]).status_code == 200
    assert server.room_status(b)["queue_length"] == 1


def test_reset_unknown_room_404(server):
    assert_problem(server.post("/admin/v1/rooms/no-such-room/reset", admin=True), 404)
