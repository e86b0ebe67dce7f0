"""Party tickets (issue 20, item 5; docs/admission.md, "Party tickets").

- caps are never exceeded with parties: under max_active, capacity and a rate with max_active,
  with parties of 1-4 joining and sessions ending at random, the seats held (every admitted
  ticket's party, less the sessions ended) never go above the cap at any step, and nobody is
  admitted past a party that waits for room;
- a rate counts seats: over simulated minutes the seats admitted follow rate_per_minute;
- the pass carries party_size, the gate says X-Waitroom-Party-Size, the ticket says party_size;
- a party_size above max_party_size, or a max_party_size above a cap, is refused (400).
"""

import base64
import json
import random

from conflib import admissions, clock_advance, make_room, set_room
from wrlib import assert_problem, describe

MAX_PARTY = 4


def join(srv, room, party):
    r = srv.enqueue(room, json={"party_size": party})
    assert r.status_code == 201, describe(r)
    body = r.json()
    assert body["party_size"] == party, body
    return body


def claims(token):
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def run_with_sessions_ending(srv, room, cap, steps, seed):
    """Joins parties and ends sessions at random while the clock moves; after every step the
    seats held stay within `cap`, and admissions keep the line's order."""
    rnd = random.Random(seed)
    party_of = {}
    passes = {}       # position -> ticket of admitted tickets whose session is still held
    held_seats = 0
    seen = 0
    for _ in range(steps):
        for _ in range(rnd.randint(0, 3)):
            t = join(srv, room, rnd.randint(1, MAX_PARTY))
            party_of[t["position"]] = t["party_size"]
        clock_advance(srv, 1000)
        log = admissions(srv, room)
        for a in log[seen:]:
            held_seats += party_of[a["position"]]
            passes[a["position"]] = a["ticket"]
        seen = len(log)
        assert held_seats <= cap, f"{held_seats} seats held with a cap of {cap}"
        positions = [a["position"] for a in log]
        assert positions == sorted(positions), f"admitted out of line order: {positions}"
        # End about a third of the places held: their seats come free.
        for position in list(passes):
            if rnd.random() < 0.35:
                ticket = passes.pop(position)
                r = srv.pass_for(room, ticket)
                assert r.status_code == 200, describe(r)
                assert srv.set_session(room, ticket, "completed").status_code == 200
                held_seats -= party_of[position]
    return seen


def test_max_active_is_never_exceeded_by_parties(clock_server):
    room = make_room(clock_server, admission={"mode": "max_active", "max_active": 6},
                     max_party_size=MAX_PARTY, ticket_idle_timeout_s=0, claim_timeout_s=0)
    admitted = run_with_sessions_ending(clock_server, room, 6, steps=60, seed=1)
    assert admitted >= 30, f"only {admitted} admitted: the line hardly moved"


def test_capacity_is_never_exceeded_by_parties(clock_server):
    room = make_room(clock_server,
                     admission={"mode": "capacity", "total_active": 7, "new_per_minute": 7},
                     max_party_size=MAX_PARTY, ticket_idle_timeout_s=0, claim_timeout_s=0)
    run_with_sessions_ending(clock_server, room, 7, steps=60, seed=2)


def test_a_rate_under_max_active_is_never_exceeded_by_parties(clock_server):
    room = make_room(clock_server,
                     admission={"mode": "rate", "rate_per_minute": 240, "max_active": 5},
                     max_party_size=MAX_PARTY, ticket_idle_timeout_s=0, claim_timeout_s=0)
    run_with_sessions_ending(clock_server, room, 5, steps=60, seed=3)


def test_a_rate_counts_seats(clock_server):
    srv = clock_server
    room = make_room(srv, max_party_size=MAX_PARTY, ticket_idle_timeout_s=0, claim_timeout_s=0)
    rnd = random.Random(4)
    party_of = {}
    for _ in range(400):
        t = join(srv, room, rnd.randint(1, MAX_PARTY))
        party_of[t["position"]] = t["party_size"]
    set_room(srv, room, admission={"mode": "rate", "rate_per_minute": 120})
    clock_advance(srv, 3 * 60_000)
    seats = sum(party_of[a["position"]] for a in admissions(srv, room))
    # 360 seats in three minutes, give or take the party at the head and the bucket's start.
    assert abs(seats - 360) <= 2 * MAX_PARTY, f"{seats} seats admitted in 3 minutes at 120/min"


def test_the_pass_the_gate_and_the_ticket_say_the_party_size(clock_server):
    srv = clock_server
    room = make_room(srv, max_party_size=MAX_PARTY, ticket_idle_timeout_s=0)
    t = join(srv, room, 3)
    single = join(srv, room, 1)
    srv.advance(room, by=4)
    assert srv.ticket(room, t["ticket"]).json()["party_size"] == 3
    for ticket, seats in ((t["ticket"], 3), (single["ticket"], 1)):
        r = srv.pass_for(room, ticket)
        assert r.status_code == 200, describe(r)
        token = r.json()["pass"]
        assert claims(token).get("party_size", 1) == seats
        assert ("party_size" in claims(token)) == (seats > 1), "the claim is written for parties"
        g = srv.get("/gate/v1/check", params={"room": room},
                    headers={"Authorization": f"Bearer {token}"})
        assert g.status_code == 204, describe(g)
        assert g.headers["X-Waitroom-Party-Size"] == str(seats)


def test_party_sizes_out_of_bounds_are_refused(clock_server):
    srv = clock_server
    room = make_room(srv, max_party_size=MAX_PARTY)
    for bad in (0, MAX_PARTY + 1, "2", 1.5, None):
        r = srv.enqueue(room, json={"party_size": bad})
        assert_problem(r, 400)
    plain = make_room(srv)
    assert "takes no parties" in assert_problem(srv.enqueue(plain, json={"party_size": 2}),
                                                400)["detail"]
    assert srv.enqueue(plain, json={"party_size": 1}).status_code == 201
    for settings in ({"max_party_size": 21},
                     {"max_party_size": 5, "admission": {"mode": "max_active", "max_active": 4}},
                     {"admission": {"mode": "capacity", "total_active": 3,
                                    "new_per_minute": 3}}):
        r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json=settings)
        assert "max_party_size" in assert_problem(r, 400)["detail"], settings
