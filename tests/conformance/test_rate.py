"""rate: N admissions per minute, released smoothly.

- over 5 simulated minutes with more visitors than can be admitted, the total is
  within ±2% of 5 × rate_per_minute;
- no calendar second (from admitted_at) carries more than ceil(rate/60) + 1, the
  first one included (the bucket is empty while nobody waits);
- every second of the run admits someone (smooth, not one step a minute);
- with admission.start / admission.end, nobody is admitted before start or from end on.
"""

import math
from collections import Counter

from conflib import (admissions, clock_advance, clock_advance_to, enqueue_many, make_room,
                     now_ms, rfc3339, set_room)

RATE = 600                       # 10 a second
SHARE = RATE / 60
MINUTES = 5
EXPECTED = RATE * MINUTES        # 3000
VISITORS = 3300                  # more than can be admitted


def test_rate_five_minutes_total_and_per_second(clock_server):
    srv = clock_server
    room = make_room(srv, ticket_idle_timeout_s=0, claim_timeout_s=0)  # manual: nothing moves yet
    enqueue_many(srv, room, VISITORS)
    set_room(srv, room, admission={"mode": "rate", "rate_per_minute": RATE})
    t0 = now_ms(srv)

    progress = []
    now = t0
    for _ in range(MINUTES * 2):
        now = clock_advance(srv, 30_000)
        progress.append(srv.stats(room)["admitted"])
    t1 = now

    log = admissions(srv, room)
    total = len(log)
    lo, hi = math.floor(EXPECTED * 0.98), math.ceil(EXPECTED * 1.02)
    assert lo <= total <= hi, (f"rate_per_minute={RATE} over {MINUTES} simulated minutes admitted "
                               f"{total}, expected {EXPECTED} ±2% [{lo}, {hi}]; admitted after each "
                               f"30 s: {progress}")
    stats = srv.stats(room)
    assert stats["admitted"] == total, f"stats.admitted={stats['admitted']} but the log has {total}"
    assert stats["waiting"] == VISITORS - total, (
        f"{VISITORS} visitors, {total} admitted, so {VISITORS - total} should still wait: {stats}")

    # fifo order within the rate room, too
    pos = [a["position"] for a in log]
    assert pos == list(range(1, total + 1)), f"rate/fifo admitted out of order: {pos[:20]}..."

    secs = [math.floor(a["admitted_at"]) for a in log]
    out_of_run = [s for s in secs if not (t0 // 1000 <= s <= t1 // 1000)]
    assert not out_of_run, (f"admitted_at outside the simulated run [{t0 / 1000}, {t1 / 1000}]: "
                            f"{out_of_run[:5]}")
    per_second = Counter(secs)
    first = min(secs)
    cap = math.ceil(SHARE) + 1
    over = {s - first: c for s, c in per_second.items() if c > cap}
    assert not over, (f"seconds carrying more than their share ({SHARE:g}) plus one "
                      f"(second offset from the first admission: count): {dict(list(over.items())[:15])}")

    # every whole second of the run admits someone (at least half its share)
    full = range(-(-t0 // 1000), t1 // 1000)
    thin = {s - first: per_second.get(s, 0) for s in full if per_second.get(s, 0) < SHARE // 2}
    assert not thin, (f"{len(thin)} of {len(full)} whole seconds admitted fewer than "
                      f"{int(SHARE // 2)} (admissions must be spread over every second, "
                      f"offset: count): {dict(list(thin.items())[:15])}")


def test_rate_start_and_end(clock_server):
    srv = clock_server
    start_s = now_ms(srv) // 1000 + 31
    end_s = start_s + 60
    room = make_room(srv, admission={"mode": "rate", "rate_per_minute": RATE,
                                     "start": rfc3339(start_s), "end": rfc3339(end_s)},
                     ticket_idle_timeout_s=0, claim_timeout_s=0)
    got = srv.admin_room(room)["admission"]
    assert got["mode"] == "rate" and got["rate_per_minute"] == RATE, got
    enqueue_many(srv, room, 1000)

    clock_advance_to(srv, start_s * 1000 - 500)
    st = srv.stats(room)
    assert st["admitted"] == 0 and st["serving"] == 0, (
        f"admitted before admission.start ({rfc3339(start_s)}): {st}; "
        f"log: {admissions(srv, room)[:5]}")

    clock_advance_to(srv, end_s * 1000 + 200)
    n_at_end = srv.stats(room)["admitted"]
    clock_advance(srv, 30_000)
    log = admissions(srv, room)
    assert len(log) == n_at_end, (f"{len(log) - n_at_end} admitted in the 30 s after "
                                  f"admission.end ({rfc3339(end_s)}): {log[n_at_end:n_at_end + 5]}")
    outside = [a for a in log if not (start_s <= a["admitted_at"] < end_s)]
    assert not outside, (f"admissions outside [start={start_s}, end={end_s}): {outside[:5]} "
                         f"({len(outside)} in all)")
    lo, hi = math.floor(RATE * 0.98), math.ceil(RATE * 1.02)
    assert lo <= len(log) <= hi, (f"a 60 s window at {RATE}/min admitted {len(log)}, expected "
                                  f"{RATE} ±2% [{lo}, {hi}]")
