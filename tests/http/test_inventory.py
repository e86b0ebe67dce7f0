"""Inventory: a room counts the items it has left (POST/GET /admin/v1/rooms/{room}/inventory).

A completed session takes what it bought off the count (PUT .../sessions/{ticket}
{"status": "completed", "consumed": n}), refused beyond what is left (and the session stays
active), never twice for a retried completion; reserve_per_session keeps that many items per place
held, so admission stops (line.reason inventory_reserved) while every unsold item is spoken for.
At 0 the room is sold out: joins get 410, waiting tickets say "sold_out": true with no estimate
(JSON and the SSE stream), the room's status is "sold_out", an operator's advance is refused,
passes already issued still pass the gate; inventory.changed / room.sold_out / room.reopened
events; items coming back admit the line in order. The count survives a restart, a compaction
and a reset.

Every server here runs on the manual clock, so admissions happen only when a test moves it.
"""

import json
import socket
import time

import pytest

from wrlib import (TEST_CLOCK_CONFIG, Server, assert_json, assert_problem, binary_path, describe,
                   random_ticket_id, unique_room)

CONFIG = "keep_events = true\n" + TEST_CLOCK_CONFIG
QUIET = {"ticket_idle_timeout_s": 0,
         "abuse": {"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0}}
RATE = {"mode": "rate", "rate_per_minute": 600}
GATE = "/gate/v1/check"


@pytest.fixture(scope="module")
def srv():
    if not binary_path().exists():
        pytest.fail(f"waitroom binary not found at {binary_path()}", pytrace=False)
    s = Server(config_text=CONFIG, name="waitroom-inventory").start()
    yield s
    s.shut_down()


def inv_path(room):
    return f"/admin/v1/rooms/{room}/inventory"


def get_inv(srv, room):
    body = assert_json(srv.get(inv_path(room), admin=True), 200)
    assert set(body) == {"room", "left", "reserved", "available", "reserve_per_session",
                         "sold_out"}, body
    assert body["room"] == room, body
    return body


def change(srv, room, body, status=200):
    r = srv.post(inv_path(room), admin=True, json=body)
    if status == 200:
        return assert_json(r, 200)
    return assert_problem(r, status)


def rate_room(srv, **more):
    return srv.create_room(admission=dict(RATE), **QUIET, **more)


def end(srv, room, ticket, body):
    return srv.put(f"/admin/v1/rooms/{room}/sessions/{ticket}", admin=True, json=body)


def claim(srv, room, ticket):
    r = srv.pass_for(room, ticket)
    assert r.status_code == 200, describe(r)
    return r.json()["pass"]


def events_of(srv, room, *kinds):
    out, after = [], 0
    while True:
        r = srv.get("/admin/v1/events", admin=True, params={"room": room, "after": after,
                                                            "limit": 1000})
        page = assert_json(r, 200)
        out += page["events"]
        if not page["more"] or not page["events"]:
            break
        after = page["next_after"]
    return [e for e in out if not kinds or e["type"] in kinds]


def create_token(srv, role):
    r = srv.post("/admin/v1/tokens", admin=True, json={"name": unique_room(role), "role": role})
    assert r.status_code == 201, describe(r)
    return {"Authorization": f"Bearer {r.json()['token']}"}


def gate_check(srv, room, token):
    return srv.get(GATE, params={"room": room}, headers={"Authorization": f"Bearer {token}"})


class Stream:
    """GET …/tickets/{ticket}/events over a raw socket; status() gives the next status message."""

    def __init__(self, srv, room, ticket):
        self.sock = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.sock.sendall((f"GET /v1/rooms/{room}/tickets/{ticket}/events HTTP/1.1\r\n"
                           f"Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n").encode())
        self.buf = b""
        head = self._until(b"\r\n\r\n", 10)
        assert head is not None and b" 200 " in head.split(b"\r\n")[0], (head, self.buf)

    def _until(self, sep, timeout):
        deadline = time.monotonic() + timeout
        while sep not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            self.buf += chunk
        part, _, self.buf = self.buf.partition(sep)
        return part

    def status(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            block = self._until(b"\n\n", max(0.0, deadline - time.monotonic()))
            if block is None:
                return None
            for line in block.decode().split("\n"):
                if line.startswith("data:"):
                    return json.loads(line[5:].strip())

    def close(self):
        self.sock.close()


# ---- 1. the inventory endpoint ----------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {}, {"set": 1, "add": 1}, {"set": -1}, {"set": "3"}, {"set": 1.5}, {"set": True},
    {"add": 0}, {"add": "1"}, {"add": 1.5}, {"add": None}, {"sets": 3}, {"set": 1, "x": 1},
    [1], "set", 3,
])
def test_bad_bodies_are_refused_and_change_nothing(srv, body):
    room = rate_room(srv)
    change(srv, room, {"set": 7})
    before = get_inv(srv, room)
    change(srv, room, body, 400)
    assert get_inv(srv, room) == before


def test_not_json_is_400(srv):
    room = rate_room(srv)
    r = srv.post(inv_path(room), admin=True, data=b"{set: 3",
                 headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    assert get_inv(srv, room)["left"] is None


def test_set_add_and_read_back(srv):
    room = rate_room(srv, reserve_per_session=2)
    fresh = get_inv(srv, room)
    assert fresh == {"room": room, "left": None, "reserved": 0, "available": None,
                     "reserve_per_session": 2, "sold_out": False}
    # A room that counts no items cannot be added to or taken from.
    for k in (1, -1):
        assert "set" in change(srv, room, {"add": k}, 409)["detail"]
    assert get_inv(srv, room)["left"] is None

    got = change(srv, room, {"set": 10})
    assert got == {"room": room, "left": 10, "reserved": 0, "available": 10,
                   "reserve_per_session": 2, "sold_out": False}
    assert get_inv(srv, room) == got
    assert change(srv, room, {"add": 5})["left"] == 15
    assert change(srv, room, {"add": -3})["left"] == 12
    # Below 0: refused, the count unchanged.
    assert_problem(srv.post(inv_path(room), admin=True, json={"add": -13}), 409)
    assert get_inv(srv, room)["left"] == 12
    assert change(srv, room, {"add": -12})["left"] == 0
    assert get_inv(srv, room)["sold_out"] is True
    # Past the maximum (10^12): a set is a bad request, an add a conflict.
    change(srv, room, {"set": 10**12 + 1}, 400)
    assert change(srv, room, {"set": 10**12})["left"] == 10**12
    change(srv, room, {"add": 1}, 409)
    assert get_inv(srv, room)["left"] == 10**12
    # null: the room counts items no more.
    got = change(srv, room, {"set": None})
    assert got["left"] is None and got["available"] is None and got["sold_out"] is False, got
    # The admin stats carry the same object.
    change(srv, room, {"set": 4})
    stats = srv.stats(room)
    assert stats["inventory"] == {k: v for k, v in get_inv(srv, room).items() if k != "room"}


def test_unknown_room_is_404(srv):
    room = unique_room("nope")
    assert_problem(srv.get(inv_path(room), admin=True), 404)
    assert_problem(srv.post(inv_path(room), admin=True, json={"set": 3}), 404)
    assert srv.get(f"/admin/v1/rooms/{room}", admin=True).status_code == 404, \
        "an inventory post must not create the room"


def test_a_viewer_may_read_but_not_change_and_no_token_is_401(srv):
    room = rate_room(srv)
    change(srv, room, {"set": 3})
    viewer, operator = create_token(srv, "viewer"), create_token(srv, "operator")
    assert assert_json(srv.get(inv_path(room), headers=viewer), 200)["left"] == 3
    assert_problem(srv.post(inv_path(room), headers=viewer, json={"set": 9}), 403)
    assert srv.post(inv_path(room), json={"set": 9}).status_code == 401
    assert srv.get(inv_path(room)).status_code == 401
    assert get_inv(srv, room)["left"] == 3
    assert assert_json(srv.post(inv_path(room), headers=operator, json={"add": 2}), 200)["left"] == 5


def test_reserve_per_session_is_checked_and_round_trips(srv):
    for bad in (-1, 1001, "3", 1.5):
        room = unique_room("bad")
        r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"reserve_per_session": bad})
        assert "reserve_per_session" in assert_problem(r, 400)["detail"], (bad, r.text)
    room = rate_room(srv, reserve_per_session=1000)
    assert srv.admin_room(room)["reserve_per_session"] == 1000
    assert get_inv(srv, room)["reserve_per_session"] == 1000


# ---- 2. consumption ----------------------------------------------------------------------------


def admitted(srv, room, n):
    """n visitors joined and let in (the clock moved), each holding a pass: [(ticket, pass)]."""
    tickets = [srv.enqueue_ok(room)["ticket"] for _ in range(n)]
    srv.advance_clock(2000)
    return [(t, claim(srv, room, t)) for t in tickets]


@pytest.mark.parametrize("body", [
    {"status": "abandoned", "consumed": 1}, {"status": "revoked", "consumed": 1},
    {"status": "completed", "consumed": 0}, {"status": "completed", "consumed": -1},
    {"status": "completed", "consumed": "2"}, {"status": "completed", "consumed": 1.5},
    {"status": "completed", "consumed": None}, {"status": "completed", "consumed": 1_000_001},
    {"status": "completed", "consumed": 1, "extra": 1}, {"consumed": 1},
])
def test_bad_consumptions_are_400_and_the_session_stays_active(srv, body):
    room = rate_room(srv)
    change(srv, room, {"set": 5})
    ((ticket, token),) = admitted(srv, room, 1)
    assert_problem(end(srv, room, ticket, body), 400)
    assert srv.ticket(room, ticket).json()["status"] == "admitted"
    assert gate_check(srv, room, token).status_code == 204
    assert get_inv(srv, room)["left"] == 5


def test_consumption_takes_items_off_refuses_beyond_what_is_left_and_never_twice(srv):
    room = rate_room(srv)
    change(srv, room, {"set": 5})
    (a, _), (b, b_pass), (c, _) = admitted(srv, room, 3)

    r = end(srv, room, a, {"status": "completed", "consumed": 2})
    assert assert_json(r, 200) == {"ticket": a, "status": "completed"}
    assert get_inv(srv, room)["left"] == 3
    # The same completion again (a retry): 200, nothing more sold.
    r = end(srv, room, a, {"status": "completed", "consumed": 2})
    assert r.status_code == 200, describe(r)
    assert get_inv(srv, room)["left"] == 3, "a retried completion sold twice"

    # More than is left: 409, nothing sold, and b's session is still active (its pass passes).
    assert "3" in assert_problem(end(srv, room, b, {"status": "completed", "consumed": 4}),
                                 409)["detail"]
    assert get_inv(srv, room)["left"] == 3
    assert srv.ticket(room, b).json()["status"] == "admitted"
    assert gate_check(srv, room, b_pass).status_code == 204
    assert end(srv, room, b, {"status": "completed", "consumed": 3}).status_code == 200
    assert gate_check(srv, room, b_pass).status_code != 204, "a completed session's pass"
    inv = get_inv(srv, room)
    assert inv["left"] == 0 and inv["sold_out"] is True, inv
    # A plain completion sells nothing and is fine when sold out.
    assert end(srv, room, c, {"status": "completed"}).status_code == 200

    changes = [e["data"] for e in events_of(srv, room, "inventory.changed")]
    assert [(d["previous"], d["left"], d["reason"]) for d in changes] == [
        (None, 5, "set"), (5, 3, "consumed"), (3, 0, "consumed")], changes
    assert [d.get("ticket") for d in changes] == [None, a, b]
    updated = [e["data"] for e in events_of(srv, room, "session_updated")]
    assert [(d["request_id"], d.get("consumed")) for d in updated] == [(a, 2), (b, 3), (c, None)]


def test_a_room_counting_no_items_refuses_a_consumption_and_the_session_stays_active(srv):
    room = rate_room(srv)
    ((t, token),) = admitted(srv, room, 1)
    r = end(srv, room, t, {"status": "completed", "consumed": 1})
    assert_problem(r, 409)
    assert srv.ticket(room, t).json()["status"] == "admitted"
    assert gate_check(srv, room, token).status_code == 204
    assert end(srv, room, t, {"status": "completed"}).status_code == 200


def test_a_waiting_or_unknown_ticket_cannot_buy(srv):
    room = srv.create_room(admission={"mode": "manual"}, **QUIET)
    change(srv, room, {"set": 5})
    t = srv.enqueue_ok(room)["ticket"]
    r = end(srv, room, t, {"status": "completed", "consumed": 1})
    assert r.status_code in (404, 409), describe(r)
    r = end(srv, room, random_ticket_id(), {"status": "completed", "consumed": 1})
    assert r.status_code in (400, 404), describe(r)
    assert get_inv(srv, room)["left"] == 5
    assert srv.ticket(room, t).json()["status"] == "waiting"


def test_a_retried_completion_after_the_room_sold_out_is_still_a_no_op(srv):
    # The completion that sold the last items is retried (its answer was lost): it must be
    # answered like the first time, not refused because nothing is left now.
    room = rate_room(srv)
    change(srv, room, {"set": 2})
    ((t, _),) = admitted(srv, room, 1)
    assert end(srv, room, t, {"status": "completed", "consumed": 2}).status_code == 200
    r = end(srv, room, t, {"status": "completed", "consumed": 2})
    assert r.status_code == 200, "retry of a completed purchase refused" + describe(r)
    assert get_inv(srv, room)["left"] == 0


# ---- 3. reserve_per_session ----------------------------------------------------------------------


def test_places_held_never_exceed_the_items_reserved_for_them(srv):
    room = rate_room(srv, reserve_per_session=3)
    change(srv, room, {"set": 10})  # ceil(10 / 3) = 4 places
    tickets = [srv.enqueue_ok(room)["ticket"] for _ in range(10)]
    srv.advance_clock(3000)  # 600/min: 30 turns' worth
    s = srv.stats(room)
    assert s["serving"] == 4, s
    assert s["line"] == {"moving": False, "reason": "inventory_reserved"}, s["line"]
    inv = get_inv(srv, room)
    assert (inv["reserved"], inv["available"]) == (10, 0), inv
    srv.advance_clock(3000)
    assert srv.stats(room)["serving"] == 4

    # Claimed or not, an admitted turn holds its place; a session ended without a purchase
    # frees it: one more is let in.
    for t in tickets[:4]:
        claim(srv, room, t)
    assert end(srv, room, tickets[0], {"status": "abandoned"}).status_code == 200
    srv.advance_clock(1000)
    assert srv.stats(room)["serving"] == 5
    # 3 bought: 7 left, ceil(7/3) = 3 places, 4 held: nobody more.
    assert end(srv, room, tickets[1], {"status": "completed", "consumed": 3}).status_code == 200
    srv.advance_clock(2000)
    s = srv.stats(room)
    assert s["serving"] == 5 and s["line"]["reason"] == "inventory_reserved", s
    # Items added: 16 left, ceil(16/3) = 6 places, 3 held: 3 more let in.
    change(srv, room, {"add": 9})
    srv.advance_clock(2000)
    s = srv.stats(room)
    assert s["serving"] == 8, s
    inv = get_inv(srv, room)
    assert inv["left"] == 16 and inv["reserved"] == 16 and inv["available"] == 0, inv


def test_without_a_reserve_the_count_does_not_hold_the_line(srv):
    room = rate_room(srv)
    change(srv, room, {"set": 2})
    for _ in range(6):
        srv.enqueue_ok(room)
    srv.advance_clock(2000)
    s = srv.stats(room)
    assert s["serving"] == 6 and s["line"]["reason"] == "nobody_waiting", s
    assert get_inv(srv, room)["reserved"] == 0


# ---- 4. sold out --------------------------------------------------------------------------------


def test_sold_out_stops_the_line_and_reopens_in_line_order(srv):
    room = rate_room(srv, reserve_per_session=1)
    change(srv, room, {"set": 3})  # three places
    joined = [srv.enqueue_ok(room) for _ in range(8)]
    tickets = [t["ticket"] for t in joined]
    srv.advance_clock(2000)
    assert srv.stats(room)["serving"] == 3
    a_pass, b_pass = claim(srv, room, tickets[0]), claim(srv, room, tickets[1])
    waiting = tickets[3:]
    before = {t: srv.ticket(room, t).json() for t in waiting}
    assert all(b["status"] == "waiting" and "sold_out" not in b for b in before.values()), before
    stream = Stream(srv, room, waiting[-1])
    try:
        first = stream.status(5)
        assert first is not None and first["status"] == "waiting" and "sold_out" not in first

        r = end(srv, room, tickets[0], {"status": "completed", "consumed": 3})
        assert r.status_code == 200, describe(r)
        sold_at = time.monotonic()
        # The open stream is told within a second.
        got = None
        while got is None or not got.get("sold_out"):
            got = stream.status(max(0.0, sold_at + 1.0 - time.monotonic()))
            assert got is not None, "no sold_out status on the stream within 1 s"
        assert got["status"] == "waiting" and got["eta"] is None, got
    finally:
        stream.close()

    # Waiting tickets: sold_out, no estimate, same place in line.
    for t in waiting:
        body = srv.ticket(room, t).json()
        assert body["status"] == "waiting" and body["sold_out"] is True, body
        assert body["eta"] is None, body
        assert (body["position"], body["ahead"]) == (before[t]["position"], before[t]["ahead"])
    inv = get_inv(srv, room)
    assert inv["left"] == 0 and inv["sold_out"] is True and inv["available"] == 0, inv
    assert srv.room_status(room)["status"] == "sold_out"
    assert srv.admin_room(room)["status"] == "sold_out"
    s = srv.stats(room)
    assert s["line"] == {"moving": False, "reason": "sold_out"}, s["line"]

    # Joins are gone; the operator cannot let anyone in; the clock lets nobody in.
    assert "sold out" in assert_problem(srv.enqueue(room), 410)["detail"]
    for body in ({"by": 1}, {"to": 6}):
        assert_problem(srv.post(f"/admin/v1/rooms/{room}/advance", admin=True, json=body), 409)
    srv.advance_clock(5000)
    assert srv.stats(room)["serving"] == 3
    # A pass already issued still passes the gate.
    r = gate_check(srv, room, b_pass)
    assert r.status_code == 204, describe(r)
    assert r.headers["X-Waitroom-Ticket"] == tickets[1]
    assert gate_check(srv, room, a_pass).status_code != 204, "a completed session's pass"

    kinds = [(e["type"], e["data"]) for e in events_of(srv, room, "inventory.changed",
                                                       "room.sold_out", "room.reopened")]
    assert [k for k, _ in kinds] == ["inventory.changed", "inventory.changed", "room.sold_out"]
    assert kinds[1][1]["left"] == 0 and kinds[1][1]["reason"] == "consumed", kinds
    assert kinds[2][1]["waiting"] == len(waiting), kinds

    # Items come back: reopened, joins work, and the line goes on in its order.
    got = change(srv, room, {"add": 5})
    assert got["left"] == 5 and got["sold_out"] is False, got
    reopened = events_of(srv, room, "room.reopened")
    assert len(reopened) == 1 and reopened[0]["data"]["left"] == 5, reopened
    assert reopened[0]["data"]["waiting"] == len(waiting), reopened
    for t in waiting:
        body = srv.ticket(room, t).json()
        assert "sold_out" not in body and body["position"] == before[t]["position"], body
    assert srv.room_status(room)["status"] == "open"
    late = srv.enqueue_ok(room)
    assert late["position"] == 9, late
    srv.advance_clock(3000)
    # 5 left, reserve 1: 5 places; held: b's session and c's unclaimed turn: 3 more.
    log = assert_json(srv.get(f"/admin/v1/rooms/{room}/admissions", admin=True,
                              params={"limit": 100}), 200)["admissions"]
    assert [a["ticket"] for a in log] == tickets[:6], log
    assert [srv.ticket(room, t).json()["status"] for t in waiting] == \
        ["eligible"] * 3 + ["waiting"] * 2


def test_a_stream_is_told_of_the_sell_out_and_the_reopening_when_it_had_no_estimate(srv):
    # A manual room gives waiting visitors no estimate (eta null): selling out changes only the
    # ticket's "sold_out", and that alone must reach its open stream within a second.
    room = srv.create_room(admission={"mode": "manual"}, **QUIET)
    change(srv, room, {"set": 1})
    buyer = srv.enqueue_ok(room)["ticket"]
    waiting = srv.enqueue_ok(room)["ticket"]
    srv.advance(room, by=1)
    claim(srv, room, buyer)
    stream = Stream(srv, room, waiting)
    try:
        first = stream.status(5)
        assert first["status"] == "waiting" and first["eta"] is None and "sold_out" not in first
        assert end(srv, room, buyer, {"status": "completed", "consumed": 1}).status_code == 200
        assert srv.ticket(room, waiting).json()["sold_out"] is True
        got = stream.status(1.0)
        assert got is not None and got.get("sold_out") is True, \
            f"the stream said nothing within 1 s of the sell-out (got {got})"
        change(srv, room, {"add": 1})
        got = stream.status(1.0)
        assert got is not None and "sold_out" not in got, \
            f"the stream said nothing within 1 s of the reopening (got {got})"
    finally:
        stream.close()


def test_a_sold_out_room_says_no_estimate_for_newcomers(srv):
    # Nobody can join a sold-out room: the room's status should not promise a wait.
    room = rate_room(srv, reserve_per_session=1)
    change(srv, room, {"set": 1})
    for _ in range(4):
        srv.enqueue_ok(room)
    srv.advance_clock(2000)
    change(srv, room, {"set": 0})
    status = srv.room_status(room)
    assert status["status"] == "sold_out", status
    assert status["eta"] is None, status


def test_set_to_zero_sells_out_and_null_reopens(srv):
    room = rate_room(srv)
    t = srv.enqueue_ok(room)["ticket"]
    srv.advance_clock(1000)
    change(srv, room, {"set": 0})
    assert_problem(srv.enqueue(room), 410)
    change(srv, room, {"set": 0})  # the same count again: nothing new happens
    got = change(srv, room, {"set": None})
    assert got["sold_out"] is False
    w = srv.enqueue_ok(room)["ticket"]
    assert srv.ticket(room, w).json().get("sold_out") is None
    kinds = [e["type"] for e in events_of(srv, room, "inventory.changed", "room.sold_out",
                                          "room.reopened")]
    assert kinds == ["inventory.changed", "room.sold_out", "inventory.changed", "room.reopened"]
    assert srv.ticket(room, t).json()["status"] == "eligible"


# ---- 5. kept ------------------------------------------------------------------------------------


@pytest.fixture
def own_srv(server_factory):
    return server_factory(config_text=CONFIG, name="waitroom-inventory-own")


def test_the_count_survives_a_restart_and_a_compaction(own_srv):
    srv = own_srv
    counted = rate_room(srv, reserve_per_session=2)
    change(srv, counted, {"set": 9})
    sold = rate_room(srv, reserve_per_session=1)
    change(srv, sold, {"set": 1})
    tickets = [srv.enqueue_ok(sold)["ticket"] for _ in range(4)]
    srv.advance_clock(1000)
    claim(srv, sold, tickets[0])
    assert end(srv, sold, tickets[0], {"status": "completed", "consumed": 1}).status_code == 200
    plain = rate_room(srv)

    def same(why):
        assert get_inv(srv, counted)["left"] == 9, why
        assert get_inv(srv, counted)["reserve_per_session"] == 2, why
        assert get_inv(srv, plain)["left"] is None, why
        inv = get_inv(srv, sold)
        assert inv["left"] == 0 and inv["sold_out"] is True, (why, inv)
        assert srv.room_status(sold)["status"] == "sold_out", why
        assert_problem(srv.enqueue(sold), 410)
        body = srv.ticket(sold, tickets[2]).json()
        assert body["sold_out"] is True and body["position"] == 3, (why, body)
        # The completed purchase is not sold again by a retry after the restart.
        assert end(srv, sold, tickets[0], {"status": "completed"}).status_code == 200

    srv.restart()
    same("log replay")
    assert_json(srv.post("/admin/v1/compact", admin=True, timeout=60), 200)
    srv.restart()
    same("snapshot")
    # And it still works after both: items back, the line moves on.
    change(srv, sold, {"add": 1})
    srv.advance_clock(1000)
    assert srv.ticket(sold, tickets[1]).json()["status"] == "eligible"
    assert srv.ticket(sold, tickets[2]).json()["status"] == "waiting"


def test_a_reset_keeps_the_inventory(srv):
    room = rate_room(srv)
    change(srv, room, {"set": 4})
    srv.enqueue_ok(room)
    assert srv.post(f"/admin/v1/rooms/{room}/reset", admin=True).status_code == 200
    assert get_inv(srv, room)["left"] == 4
    sold = rate_room(srv)
    change(srv, sold, {"set": 0})
    assert srv.post(f"/admin/v1/rooms/{sold}/reset", admin=True).status_code == 200
    inv = get_inv(srv, sold)
    assert inv["left"] == 0 and inv["sold_out"] is True, inv
    assert_problem(srv.enqueue(sold), 410)
