"""capacity: below total_active / new_per_minute a visitor's ticket is admitted at
once (201 with status "eligible"); at either threshold visitors queue, and they move
up (on the next driver step) as sessions end or the one-minute window frees up.
An eligible ticket that has not claimed its pass counts against total_active.
"""

from conflib import FastClient, clock_advance, expect, make_room

from wrlib import assert_json, describe


def enqueue(srv, room):
    r = srv.enqueue(room)
    return assert_json(r, 201), r


def status_of(srv, room, t):
    r = srv.ticket(room, t["ticket"])
    return assert_json(r, 200)["status"]


def claim(srv, room, t):
    r = srv.pass_for(room, t["ticket"])
    assert_json(r, 200)


def end(srv, room, t, status="completed"):
    r = srv.set_session(room, t["ticket"], status)
    assert r.status_code == 200, describe(r)


def test_capacity_below_thresholds_nobody_waits(clock_server):
    srv = clock_server
    room = make_room(srv, admission={"mode": "capacity", "total_active": 200, "new_per_minute": 200},
                     ticket_idle_timeout_s=0, claim_timeout_s=0, pass_lifetime_s=3600)
    c = FastClient(srv)
    active = []
    for i in range(150):
        r = c.enqueue(room)
        t = expect(r, 201)
        assert t["status"] == "eligible", (f"visitor {i + 1} with {len(active)} active sessions "
                                           f"(total_active 200, new_per_minute 200) must not wait"
                                           + r.describe())
        expect(c.pass_for(room, t["ticket"]), 200)
        active.append(t["ticket"])
        if len(active) == 40:  # keep below total_active: end the oldest session
            old = active.pop(0)
            expect(c.request("PUT", f"/admin/v1/rooms/{room}/sessions/{old}",
                             body={"status": "completed"}, admin=True), 200)
    c.close()
    s = srv.stats(room)
    assert s["waiting"] == 0 and s["admitted"] == 150 and s["active_sessions"] == 39, s


def test_capacity_queues_at_thresholds_and_moves_up(clock_server):
    """total_active 5, new_per_minute 4 (new_per_minute may not exceed total_active)."""
    srv = clock_server
    room = make_room(srv, admission={"mode": "capacity", "total_active": 5, "new_per_minute": 4},
                     ticket_idle_timeout_s=0, claim_timeout_s=0, pass_lifetime_s=3600)

    first = []
    for i in range(4):
        t, r = enqueue(srv, room)
        assert t["status"] == "eligible", (f"arrival {i + 1}: below both thresholds nobody waits"
                                           + describe(r))
        first.append(t)

    # new_per_minute reached (4 admissions in the last 60 s): the next ones queue
    w5, r = enqueue(srv, room)
    assert w5["status"] == "waiting", ("4 admissions in the last minute = new_per_minute 4: "
                                       "a 5th arrival must queue" + describe(r))
    for t in first:
        claim(srv, room, t)
    clock_advance(srv, 30_000)
    assert status_of(srv, room, w5) == "waiting", "new_per_minute=4 reached, #5 admitted within the minute"
    clock_advance(srv, 31_000)
    assert status_of(srv, room, w5) == "eligible", ("the first 4 admissions left the 60 s window "
                                                    "(4 active < total_active 5), but #5 did not move up")

    # total_active reached: 4 active sessions + 1 eligible-but-unclaimed ticket
    w6, r = enqueue(srv, room)
    assert w6["status"] == "waiting", ("4 active + 1 eligible = total_active 5: a 6th arrival "
                                       "must queue" + describe(r))
    w7, r = enqueue(srv, room)
    assert w7["status"] == "waiting" and w7["ahead"] == 1, describe(r)
    clock_advance(srv, 61_000)  # the window is empty again: only total_active holds them
    assert status_of(srv, room, w6) == "waiting", "5 of total_active 5 in use, yet #6 moved up"

    # two sessions end: the two waiting visitors move up on the next driver step
    end(srv, room, first[0], "completed")
    end(srv, room, first[1], "abandoned")
    clock_advance(srv, 100)
    assert status_of(srv, room, w6) == "eligible", "a session ended but #6 did not move up"
    assert status_of(srv, room, w7) == "eligible", "two sessions ended but #7 did not move up"

    # and a session more: with nobody waiting, the next arrival is admitted at once
    end(srv, room, first[2], "revoked")
    w8, r = enqueue(srv, room)
    assert w8["status"] == "eligible", ("2 active + 2 eligible < total_active 5, 2 admissions in "
                                        "the minute < 4, nobody waiting: admitted at once" + describe(r))
    w9, r = enqueue(srv, room)
    assert w9["status"] == "waiting", "2 active + 3 eligible = total_active 5" + describe(r)
    s = srv.stats(room)
    # #1-#3 ended, #4 holds a pass, #5-#8 eligible and unclaimed, #9 waits
    assert s["admitted"] == 8 and s["waiting"] == 1, s
    assert s["active_sessions"] == 1 and s["eligible"] == 4, s


def test_capacity_total_active_counts_active_sessions(clock_server):
    """Claimed sessions (not only eligible tickets) fill total_active; a waiting
    visitor moves up once one ends, not before."""
    srv = clock_server
    room = make_room(srv, admission={"mode": "capacity", "total_active": 3, "new_per_minute": 3},
                     ticket_idle_timeout_s=0, claim_timeout_s=0, pass_lifetime_s=3600)
    ts = []
    for _ in range(3):
        t, r = enqueue(srv, room)
        assert t["status"] == "eligible", describe(r)
        claim(srv, room, t)
        ts.append(t)
    w, r = enqueue(srv, room)
    assert w["status"] == "waiting", "3 active sessions = total_active 3" + describe(r)
    clock_advance(srv, 61_000)
    assert status_of(srv, room, w) == "waiting", "3 active sessions = total_active 3, yet #4 moved up"
    end(srv, room, ts[0], "revoked")
    clock_advance(srv, 100)
    assert status_of(srv, room, w) == "eligible", "a session was revoked but the waiting visitor did not move up"
    s = srv.stats(room)
    assert s["active_sessions"] == 2 and s["eligible"] == 1 and s["waiting"] == 0, s
