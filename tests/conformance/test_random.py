"""random queueing: each admission draws uniformly among the waiting tickets
(chi-square test at p > 0.01 over repeated draws); `ahead` is null; advance {"to"}
is 409 in random.

Two designs:
- a rolling line: 20 tickets wait; each round admits one with advance {"by": 1} and
  one more visitor joins, so 20 always wait. From the admissions log, the rank
  (0 = oldest) of each drawn ticket among the 20 waiting is recorded: uniform
  draws give uniform ranks, and a bias for the old or the new shows at once;
- a fresh line: 10 tickets, one draw, reset the room, again (the drawn position).
"""

from conflib import (FastClient, admissions, chi_square, chi_square_p, clock_advance,
                     enqueue_many, expect, make_room)

from wrlib import assert_json, assert_problem, describe

WAITING = 20
ROLLING_DRAWS = 1000       # 50 expected per rank
FRESH_WAITING = 10
FRESH_DRAWS = 300          # 30 expected per position
P_MIN = 0.01


def uniform_with_one_retry(sample, what):
    """chi-square at p > 0.01. A uniform server fails one sample with probability 0.01,
    so a failing sample is followed by one fresh sample, and the test fails only if
    both fail (a false alarm once in 10,000 runs; a biased server fails both)."""
    results = []
    for _ in range(2):
        counts = sample()
        stat = chi_square(counts)
        p = chi_square_p(stat, len(counts) - 1)
        results.append(f"chi-square={stat:.2f} (df={len(counts) - 1}) p={p:.2e} counts={counts}")
        if p > P_MIN:
            return p
    # critical values at p = 0.01: 36.19 for df = 19, 21.67 for df = 9
    raise AssertionError(f"{what}: not uniform (p <= {P_MIN} in two samples):\n  "
                         + "\n  ".join(results))


def rolling_line_sample(srv):
    room = make_room(srv, queueing="random", ticket_idle_timeout_s=0, claim_timeout_s=0)
    c = FastClient(srv)
    for i in range(WAITING):
        r = c.enqueue(room)
        t = expect(r, 201)
        assert t["position"] == i + 1, r.describe()
        assert "ahead" in t and t["ahead"] is None, "ahead must be null in random queueing" + r.describe()
    for i in range(ROLLING_DRAWS):
        r = c.request("POST", f"/admin/v1/rooms/{room}/advance", body={"by": 1}, admin=True)
        expect(r, 200)
        r = c.enqueue(room)
        t = expect(r, 201)
        assert t["position"] == WAITING + i + 1, r.describe()
        assert t["ahead"] is None, "ahead must be null in random queueing" + r.describe()
    c.close()

    log = admissions(srv, room)
    assert len(log) == ROLLING_DRAWS, f"{ROLLING_DRAWS} draws of one, log has {len(log)}"
    waiting = list(range(1, WAITING + 1))  # sorted positions
    counts = [0] * WAITING
    for i, a in enumerate(log):
        p = a["position"]
        assert p in waiting, (f"draw {i + 1} admitted position {p}, which was not waiting "
                              f"(waiting: {waiting})")
        counts[waiting.index(p)] += 1
        waiting.remove(p)
        waiting.append(WAITING + i + 1)  # the visitor who joined after this draw
    s = srv.stats(room)
    assert s["waiting"] == WAITING and s["admitted"] == ROLLING_DRAWS, s
    return counts


def test_random_draws_uniform_over_waiting_rolling_line(clock_server):
    uniform_with_one_retry(lambda: rolling_line_sample(clock_server),
                           f"rank of the drawn ticket among {WAITING} waiting (0 = oldest)")


def fresh_line_sample(srv):
    room = make_room(srv, queueing="random", ticket_idle_timeout_s=0, claim_timeout_s=0)
    c = FastClient(srv)
    counts = [0] * FRESH_WAITING
    for i in range(FRESH_DRAWS):
        if i:
            expect(c.request("POST", f"/admin/v1/rooms/{room}/reset", admin=True), 200)
        for k in range(FRESH_WAITING):
            t = expect(c.enqueue(room), 201)
            assert t["position"] == k + 1, f"after reset #{i}: {t}"
        expect(c.request("POST", f"/admin/v1/rooms/{room}/advance", body={"by": 1}, admin=True), 200)
        r = c.request("GET", f"/admin/v1/rooms/{room}/admissions?from=1&limit=10", admin=True)
        body = expect(r, 200)
        assert body["total"] == 1 and len(body["admissions"]) == 1, (
            "one draw after a reset: the log of the new epoch has exactly one admission" + r.describe())
        counts[body["admissions"][0]["position"] - 1] += 1
    c.close()
    return counts


def test_random_draws_uniform_fresh_line_with_reset(clock_server):
    uniform_with_one_retry(lambda: fresh_line_sample(clock_server),
                           f"position drawn first out of {FRESH_WAITING} fresh tickets")


def test_random_ticket_shape_and_advance_to_is_409(clock_server):
    srv = clock_server
    room = make_room(srv, queueing="random", ticket_idle_timeout_s=0, claim_timeout_s=0)
    ts = [srv.enqueue_ok(room) for _ in range(5)]
    r = srv.ticket(room, ts[3]["ticket"])
    body = assert_json(r, 200)
    assert body["status"] == "waiting" and body["ahead"] is None, describe(r)
    assert body["position"] == 4, describe(r)

    r = srv.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"to": 3})
    assert_problem(r, 409)
    assert srv.stats(room)["admitted"] == 0, "a refused advance {to} admitted someone"

    r = srv.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"by": 2})
    assert r.status_code == 200, describe(r)
    statuses = [assert_json(srv.ticket(room, t["ticket"]), 200)["status"] for t in ts]
    assert sorted(statuses) == ["eligible"] * 2 + ["waiting"] * 3, statuses


def test_random_in_rate_mode_is_not_fifo(clock_server):
    """In rate mode a random room draws too: the first 10 admitted out of 60 waiting
    being exactly positions 1..10 has probability 1/C(60,10) under uniform draws."""
    srv = clock_server
    room = make_room(srv, queueing="random", ticket_idle_timeout_s=0, claim_timeout_s=0)
    enqueue_many(srv, room, 60, threads=2)
    r = srv.put(f"/admin/v1/rooms/{room}", admin=True,
                json={"admission": {"mode": "rate", "rate_per_minute": 600}})
    assert r.status_code == 200, describe(r)
    clock_advance(srv, 1_000)
    log = admissions(srv, room)
    assert 5 <= len(log) <= 21, f"rate 600/min for 1 s admitted {len(log)}"
    got = sorted(a["position"] for a in log)
    assert got != list(range(1, len(log) + 1)), (f"a random rate room admitted exactly the "
                                                 f"first {len(log)} positions: {got}")
    assert len(set(got)) == len(got) and all(1 <= p <= 60 for p in got), got
