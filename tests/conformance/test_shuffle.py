"""Scheduled events: the pre-queue is shuffled at the start, auditably.

- when the pre-queue opens, GET /v1/rooms/{room}/draws publishes a commitment and no seed;
  pre-queue tickets have no `ahead` and no `eta`, and nobody is admitted;
- the commitment survives a restart, and the seed published at the start hashes to it;
- the order served equals the order recomputed here, in Python, from the published seed
  alone (docs/fairness.md gives the algorithm); arrivals after the start follow in fifo order;
- `waitroom verify-shuffle` agrees, and says FAIL for a tampered order or commitment.
"""

import hashlib
import subprocess

from conflib import (admissions, clock_advance, clock_advance_to, enqueue_many, make_room, now_ms,
                     rfc3339, set_room)
from wrlib import binary_path, describe

PREQUEUE = 150
LATE = 30


def draw_order(seed, first, last):
    """docs/fairness.md, independently of the server's C++."""
    order = list(range(first, last + 1))
    counter = 0
    pending = []

    def next_u64():
        nonlocal counter
        if not pending:
            block = hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
            pending.extend(int.from_bytes(block[i:i + 8], "big") for i in range(0, 32, 8))
        return pending.pop(0)

    def below(bound):
        limit = 2**64 - (2**64 % bound)
        while True:
            v = next_u64()
            if v < limit:
                return v % bound

    for i in range(len(order) - 1, 0, -1):
        j = below(i + 1)
        order[i], order[j] = order[j], order[i]
    return order


def draws(srv, room):
    r = srv.get(f"/v1/rooms/{room}/draws")
    assert r.status_code == 200, describe(r)
    return r.json()["draws"]


def verify_cli(*args):
    return subprocess.run([str(binary_path()), "verify-shuffle", *args], capture_output=True,
                          text=True, timeout=60)


def test_prequeue_shuffle_is_auditable(server_factory, tmp_path):
    from conflib import DURABILITY, TESTING_CONFIG
    srv = server_factory(config_text=TESTING_CONFIG, durability=DURABILITY)
    t0 = now_ms(srv) // 1000
    prequeue_start, start = t0 + 10, t0 + 70
    room = make_room(srv, pass_lifetime_s=3600, ticket_idle_timeout_s=0, claim_timeout_s=0,
                     events=[{"prequeue_start": rfc3339(prequeue_start), "start": rfc3339(start),
                              "overrides": {"admission": {"mode": "rate", "rate_per_minute": 6000}}}])
    assert srv.room_status(room)["event"]["phase"] == "scheduled"
    early = enqueue_many(srv, room, 3)  # before the pre-queue: ahead of it, in line order

    clock_advance_to(srv, prequeue_start * 1000 + 100)
    status = srv.room_status(room)
    assert status["status"] == "prequeue" and status["event"]["phase"] == "prequeue", status
    [d] = draws(srv, room)
    assert d["seed"] is None and len(d["commitment"]) == 64 and d["first_position"] == 4, d
    commitment = d["commitment"]
    tickets = enqueue_many(srv, room, PREQUEUE)
    assert all(t["ahead"] is None for t in tickets), "a pre-queue place is not known before the draw"
    t = srv.ticket(room, tickets[0]["ticket"]).json()
    assert t["status"] == "waiting" and t["ahead"] is None and t["eta"] is None, t

    # the commitment is durable: a restart does not draw again
    srv.restart()
    assert draws(srv, room)[0]["commitment"] == commitment
    clock_advance(srv, 20_000)
    assert srv.stats(room)["admitted"] == 0, "nobody is admitted during the pre-queue"

    clock_advance_to(srv, start * 1000 + 100)
    [d] = draws(srv, room)
    assert d["seed"] is not None and d["started_at"] is not None, d
    seed = bytes.fromhex(d["seed"])
    assert hashlib.sha256(seed).hexdigest() == commitment, "the seed does not match the commitment"
    assert d["last_position"] == 3 + PREQUEUE and d["shuffled_first"] == 4, d
    enqueue_many(srv, room, LATE)
    clock_advance(srv, 10_000)  # 100 a second: everyone is admitted

    served = [a["position"] for a in admissions(srv, room)]
    expected = ([1, 2, 3] + draw_order(seed, 4, 3 + PREQUEUE)
                + list(range(4 + PREQUEUE, 4 + PREQUEUE + LATE)))
    assert served == expected, f"served {served[:20]}..., the published seed gives {expected[:20]}..."
    assert len(early) == 3

    served_file = tmp_path / "served.txt"
    served_file.write_text("\n".join(map(str, served)) + "\n")
    args = ["--seed", d["seed"], "--commitment", commitment, "--first", "4",
            "--last", str(3 + PREQUEUE)]
    ok = verify_cli(*args, "--served", str(served_file))
    assert ok.returncode == 0, ok.stderr
    printed = verify_cli("--seed", d["seed"], "--first", "4", "--last", str(3 + PREQUEUE))
    assert [int(x) for x in printed.stdout.split()] == draw_order(seed, 4, 3 + PREQUEUE)
    tampered = served[:]
    tampered[3], tampered[4] = tampered[4], tampered[3]
    served_file.write_text("\n".join(map(str, tampered)) + "\n")
    bad = verify_cli(*args, "--served", str(served_file))
    assert bad.returncode == 1 and "FAIL" in bad.stderr, bad.stderr
    wrong = verify_cli("--seed", d["seed"], "--commitment", "0" * 64, "--first", "4", "--last", "9")
    assert wrong.returncode == 1 and "commitment" in wrong.stderr, wrong.stderr


def test_tickets_before_the_opening_step_keep_their_place(clock_server):
    """Issue 17 item 14: the pre-queue opens at the driver's first step at or after
    prequeue_start, when the commitment is published; tickets that join in between (here:
    an event added with its prequeue_start already reached, then two visitors before the
    next step) were handed out before the commitment existed, so they keep their first-come
    place. The room status and /draws say where the shuffle begins."""
    srv = clock_server
    t0 = now_ms(srv) // 1000
    room = make_room(srv, ticket_idle_timeout_s=0, claim_timeout_s=0)
    enqueue_many(srv, room, 3)
    set_room(srv, room, events=[{"prequeue_start": rfc3339(t0), "start": rfc3339(t0 + 30),
                                 "overrides": {"admission": {"mode": "rate",
                                                             "rate_per_minute": 6000}}}])
    gap = [srv.enqueue_ok(room) for _ in range(2)]  # after prequeue_start, before the step
    assert [t["position"] for t in gap] == [4, 5]
    clock_advance(srv, 100)
    status = srv.room_status(room)
    assert status["event"]["phase"] == "prequeue", status
    [d] = draws(srv, room)
    assert d["first_position"] == 6, d
    assert status["event"].get("shuffled_from") == 6, (
        f"the room status must say where the shuffle begins: {status['event']}")
    for t in gap:  # first-come: their place is known
        body = srv.ticket(room, t["ticket"]).json()
        assert body["ahead"] is not None, body
    shuffled = enqueue_many(srv, room, 20)
    assert all(t["ahead"] is None for t in shuffled)

    clock_advance_to(srv, (t0 + 30) * 1000 + 100)
    [d] = draws(srv, room)
    assert d["shuffled_first"] == 6 and d["last_position"] == 25, d
    assert srv.room_status(room)["event"]["shuffled_from"] == 6
    clock_advance(srv, 2_000)
    served = [a["position"] for a in admissions(srv, room)]
    assert served == [1, 2, 3, 4, 5] + draw_order(bytes.fromhex(d["seed"]), 6, 25), served


def test_events_are_validated(clock_server):
    room = make_room(clock_server)
    bad = [
        [{"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}],
        [{"prequeue_start": "2026-12-01T11:00:00Z", "start": "2026-12-01T10:00:00Z"}],
        [{"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T12:00:00Z"},
         {"start": "2026-12-01T11:00:00Z"}],
        [{"start": "2026-12-01T10:00:00Z"}, {"start": "2026-12-02T10:00:00Z"}],  # first never ends
        [{"end": "2026-12-01T10:00:00Z"}],
        [{"start": "tomorrow"}],
        [{"start": "2026-12-01T10:00:00Z", "overrides": {"queueing": "lottery"}}],
        [{"start": "2026-12-01T10:00:00Z", "overrides": {"admission": {"mode": "rate"}}}],
        [{"start": "2026-12-01T10:00:00Z", "colour": "red"}],
        {"start": "2026-12-01T10:00:00Z"},
    ]
    before = clock_server.admin_room(room)
    for events in bad:
        r = clock_server.put(f"/admin/v1/rooms/{room}", admin=True, json={"events": events})
        assert r.status_code == 400, describe(r)
        assert "events" in r.json()["detail"], describe(r)
    assert clock_server.admin_room(room) == before
