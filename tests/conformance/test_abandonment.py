"""Abandonment without stalls.

- Idle timeout: 800 visitors join a rate room (60/min, ticket_idle_timeout_s 60),
  every other one never comes back. The others poll their ticket every 10 simulated
  seconds. Once the leavers are 60 s idle they expire and admission skips them at no
  cost: from then on the real visitors are admitted at the configured rate (±3%),
  only real visitors are admitted, no real visitor expires, the leavers end as
  "expired", and the `ahead` a polling visitor sees never goes up.
- Claim timeout: an eligible ticket that does not claim its pass within
  claim_timeout_s becomes "expired" and its pass request is 410; with
  recycle_unclaimed each such expiry admits one more ticket, without it none.
"""

import math
from concurrent.futures import ThreadPoolExecutor

from conflib import (FastClient, admissions, clock_advance, enqueue_many, expect, make_room,
                     now_ms, set_room)

from wrlib import assert_json, assert_problem, describe

RATE = 60                 # a second
IDLE_S = 60
POLL_EVERY_S = 10
RUN_S = 330
MEASURE_FROM_S = 70       # leavers are gone from 60 s on
VISITORS = 800            # odd positions poll, even positions left
POLLERS = 4


def test_half_abandon_real_visitors_still_admitted_at_rate(clock_server):
    srv = clock_server
    room = make_room(srv, ticket_idle_timeout_s=IDLE_S, claim_timeout_s=0, pass_lifetime_s=3600)
    tickets = enqueue_many(srv, room, VISITORS)
    by_pos = {t["position"]: t["ticket"] for t in tickets}
    real = {p: by_pos[p] for p in by_pos if p % 2 == 1}
    left = {p: by_pos[p] for p in by_pos if p % 2 == 0}
    set_room(srv, room, admission={"mode": "rate", "rate_per_minute": RATE})
    t0 = now_ms(srv)

    history = {p: [] for p in real}   # (t_ms, status, ahead)
    done = set()                      # real visitors seen eligible: they stop polling
    clients = [FastClient(srv) for _ in range(POLLERS)]

    def poll(args):
        k, positions, t = args
        c = clients[k]
        out = []
        for p in positions:
            r = c.ticket(room, real[p])
            out.append((p, expect(r, 200), r))
        return out

    with ThreadPoolExecutor(max_workers=POLLERS) as ex:
        for _ in range(RUN_S // POLL_EVERY_S):
            t = clock_advance(srv, POLL_EVERY_S * 1000)
            todo = sorted(p for p in real if p not in done)
            parts = [(k, todo[k::POLLERS], t) for k in range(POLLERS)]
            for part in ex.map(poll, parts):
                for p, body, r in part:
                    history[p].append((t - t0, body["status"], body.get("ahead")))
                    assert body["status"] != "expired", (
                        f"position {p} polled every {POLL_EVERY_S} s (idle timeout {IDLE_S} s) "
                        f"expired at t+{(t - t0) / 1000:.0f}s" + r.describe())
                    if body["status"] != "waiting":
                        done.add(p)
    for c in clients:
        c.close()
    t_end = t0 + RUN_S * 1000

    # `ahead` never goes up for a visitor who keeps polling
    rises = []
    for p, h in history.items():
        aheads = [(t, a) for t, st, a in h if st == "waiting"]
        for (ta, a), (tb, b) in zip(aheads, aheads[1:]):
            if a is None or b is None or b > a:
                rises.append(f"position {p}: ahead {a} at t+{ta / 1000:.0f}s, {b} at t+{tb / 1000:.0f}s")
                break
    assert not rises, f"ahead went up (or was null) for {len(rises)} polling visitors:\n" + "\n".join(rises[:10])

    log = admissions(srv, room)
    late = [a for a in log if a["admitted_at"] >= t0 / 1000 + MEASURE_FROM_S]
    leavers_late = [a for a in late if a["position"] % 2 == 0]
    assert not leavers_late, (f"{len(leavers_late)} visitors idle for over {IDLE_S} s were admitted "
                              f"after t+{MEASURE_FROM_S}s, e.g. {leavers_late[:5]}")
    window_s = RUN_S - MEASURE_FROM_S
    expected = RATE / 60 * window_s
    lo, hi = math.floor(expected * 0.97), math.ceil(expected * 1.03)
    assert lo <= len(late) <= hi, (
        f"with half the line gone, real visitors were admitted {len(late)} times in the last "
        f"{window_s} s of a {RATE}/min room, expected {expected:g} ±3% [{lo}, {hi}]; "
        f"admissions total {len(log)}, stats {srv.stats(room)}")
    assert any(p not in done for p in real), "the line ran out of real visitors: the rate was not the limit"
    assert all(t0 / 1000 <= a["admitted_at"] <= t_end / 1000 for a in log)

    # the leavers never admitted are "expired"
    admitted = {a["position"] for a in log}
    gone = [p for p in left if p not in admitted]
    c = FastClient(srv)
    not_expired = []
    for p in gone:
        r = c.ticket(room, left[p])
        body = expect(r, 200)
        if body["status"] != "expired":
            not_expired.append(f"position {p}: {body['status']}")
    c.close()
    assert not not_expired, (f"{len(not_expired)} of {len(gone)} visitors idle for over {IDLE_S} s "
                             f"are not 'expired': {not_expired[:10]}")
    # the counts agree with the statuses: expired tickets are neither waiting nor uncounted
    still_waiting = sum(1 for p in real if p not in admitted)
    s = srv.stats(room)
    problems = []
    if s["tickets_expired"] < len(gone):
        problems.append(f"{len(gone)} tickets answer status 'expired' (idle) but "
                        f"stats.tickets_expired={s['tickets_expired']}")
    if s["waiting"] != still_waiting:
        problems.append(f"{still_waiting} polling visitors still wait (every leaver is expired "
                        f"or admitted) but stats.waiting={s['waiting']}")
    assert not problems, "; ".join(problems) + f"\nstats: {s}"


def claim_timeout_room(srv, recycle):
    room = make_room(srv, claim_timeout_s=30, recycle_unclaimed=recycle, ticket_idle_timeout_s=0,
                     pass_lifetime_s=3600)
    ts = [srv.enqueue_ok(room) for _ in range(10)]
    assert srv.advance(room, by=3) == 3
    assert_json(srv.pass_for(room, ts[0]["ticket"]), 200)  # #1 claims at once
    r = srv.ticket(room, ts[1]["ticket"])
    assert assert_json(r, 200)["status"] == "eligible", describe(r)
    clock_advance(srv, 20_000)
    r = srv.ticket(room, ts[1]["ticket"])
    assert assert_json(r, 200)["status"] == "eligible", "expired before claim_timeout_s" + describe(r)
    clock_advance(srv, 11_000)
    return room, ts


def test_claim_timeout_expires_unclaimed_tickets(clock_server):
    srv = clock_server
    room, ts = claim_timeout_room(srv, recycle=False)
    for t in ts[1:3]:
        r = srv.ticket(room, t["ticket"])
        assert assert_json(r, 200)["status"] == "expired", (
            "eligible for 31 s without claiming (claim_timeout_s 30)" + describe(r))
        assert_problem(srv.pass_for(room, t["ticket"]), 410)
    r = srv.ticket(room, ts[0]["ticket"])
    assert assert_json(r, 200)["status"] == "admitted", "a claimed pass must not expire by claim timeout" + describe(r)
    r = srv.ticket(room, ts[3]["ticket"])
    assert assert_json(r, 200)["status"] == "waiting", "recycle_unclaimed is off" + describe(r)
    s = srv.stats(room)
    assert s["tickets_expired"] == 2 and s["serving"] == 3 and s["eligible"] == 0, s


def test_claim_timeout_with_recycle_admits_one_more_per_expiry(clock_server):
    srv = clock_server
    room, ts = claim_timeout_room(srv, recycle=True)
    for t in ts[1:3]:
        r = srv.ticket(room, t["ticket"])
        assert assert_json(r, 200)["status"] == "expired", describe(r)
        assert_problem(srv.pass_for(room, t["ticket"]), 410)
    statuses = [assert_json(srv.ticket(room, t["ticket"]), 200)["status"] for t in ts[3:7]]
    assert statuses == ["eligible", "eligible", "waiting", "waiting"], (
        f"2 claim expiries with recycle_unclaimed: positions 4-7 should be eligible, eligible, "
        f"waiting, waiting: {statuses}")
    s = srv.stats(room)
    assert s["tickets_expired"] == 2 and s["serving"] == 5 and s["eligible"] == 2, s
    assert_json(srv.pass_for(room, ts[3]["ticket"]), 200)
