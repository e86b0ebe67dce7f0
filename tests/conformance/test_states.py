"""Queueing methods passthrough / reject and room states paused / queue_all."""

from conflib import admissions, clock_advance, enqueue_many, make_room, set_room

from wrlib import assert_json, assert_problem, describe


def test_passthrough_admits_every_arrival_at_once(clock_server):
    srv = clock_server
    room = make_room(srv, queueing="passthrough", ticket_idle_timeout_s=0, claim_timeout_s=0)
    for i in range(1, 21):
        r = srv.enqueue(room)
        t = assert_json(r, 201)
        assert t["status"] == "eligible", f"passthrough arrival #{i} was held" + describe(r)
        assert t["position"] == i, describe(r)
    s = srv.stats(room)
    assert s["waiting"] == 0 and s["admitted"] == 20 and s["queue_counter"] == 20, (
        f"passthrough counts every arrival and holds none: {s}")
    assert len(admissions(srv, room)) == 20


def test_reject_gives_no_place_but_keeps_existing_tickets(clock_server):
    srv = clock_server
    room = make_room(srv, ticket_idle_timeout_s=0, claim_timeout_s=0)
    t = srv.enqueue_ok(room)
    set_room(srv, room, queueing="reject")
    r = srv.enqueue(room)
    problem = assert_problem(r, 409)
    assert "closed" in (problem["title"] + " " + problem["detail"]).lower(), (
        "the problem must say the room is closed" + describe(r))
    assert "position" not in problem and "ticket" not in problem, "no place given" + describe(r)
    assert srv.stats(room)["queue_counter"] == 1, "a refused arrival took a position"
    # an existing ticket sent by cookie is still returned
    r = srv.enqueue(room, cookie=t["ticket"])
    body = assert_json(r, 200)
    assert body["ticket"] == t["ticket"] and body["position"] == 1, describe(r)
    set_room(srv, room, queueing="fifo")
    assert srv.enqueue_ok(room)["position"] == 2


def test_paused_forms_a_line_admits_nobody_and_refuses_passes(clock_server):
    srv = clock_server
    room = make_room(srv, ticket_idle_timeout_s=0, claim_timeout_s=0)
    first = srv.enqueue_ok(room)
    srv.advance(room, by=1)
    set_room(srv, room, state="paused", admission={"mode": "rate", "rate_per_minute": 600})
    assert srv.room_status(room)["status"] == "paused"
    ts = enqueue_many(srv, room, 10, threads=2)
    assert all(t["status"] == "waiting" for t in ts), ts
    clock_advance(srv, 2_000)
    s = srv.stats(room)
    assert s["admitted"] == 1 and s["waiting"] == 10, f"a paused room admitted: {s}"
    r = srv.pass_for(room, first["ticket"])
    assert_problem(r, 409)
    set_room(srv, room, state="open")
    clock_advance(srv, 1_000)
    assert srv.stats(room)["admitted"] > 1, "resumed room admits again"
    assert_json(srv.pass_for(room, first["ticket"]), 200)


def test_queue_all_admits_nobody_but_eligible_may_claim(clock_server):
    srv = clock_server
    room = make_room(srv, ticket_idle_timeout_s=0, claim_timeout_s=0,
                     admission={"mode": "capacity", "total_active": 100, "new_per_minute": 100})
    first = assert_json(srv.enqueue(room), 201)
    assert first["status"] == "eligible", first
    set_room(srv, room, state="queue_all")
    assert srv.room_status(room)["status"] == "queue_all"
    r = srv.enqueue(room)
    t = assert_json(r, 201)
    assert t["status"] == "waiting", "queue_all: nobody admitted on arrival" + describe(r)
    clock_advance(srv, 2_000)
    assert assert_json(srv.ticket(room, t["ticket"]), 200)["status"] == "waiting", \
        "queue_all: nobody admitted by policy"
    assert_json(srv.pass_for(room, first["ticket"]), 200)  # already eligible may still claim
    set_room(srv, room, state="open")
    clock_advance(srv, 100)
    assert assert_json(srv.ticket(room, t["ticket"]), 200)["status"] == "eligible"
