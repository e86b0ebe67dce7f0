"""FIFO: over 100,000 simulated visitors, admission order equals position order
(Kendall tau = 1.0), and every position is admitted exactly once.

Visitors arrive on 8 keep-alive connections while another thread keeps moving the
manual clock, so the admission driver (rate mode, 10,000 per step) runs while
tickets are still being issued: a ticket whose position is taken but which the
driver does not see yet would be admitted late, out of order.
"""

import threading
import time

from conflib import (CLOCK_PATH, FastClient, admissions, clock_advance, enqueue_many, expect,
                     kendall_tau, count_inversions, make_room)

N = 100_000
THREADS = 8
RATE = 6_000_000  # the spec's maximum: 100,000 a second, 10,000 per driver step


def test_fifo_100k_admission_order_equals_position_order(fresh_clock_server):
    srv = fresh_clock_server
    room = make_room(srv, admission={"mode": "rate", "rate_per_minute": RATE},
                     ticket_idle_timeout_s=0, claim_timeout_s=0)

    stop = threading.Event()
    ticks = []
    tick_errors = []

    def ticker():
        c = FastClient(srv, timeout=60)
        try:
            while not stop.is_set():
                r = c.request("POST", CLOCK_PATH, body={"advance_ms": 100}, admin=True)
                expect(r, 200)
                ticks.append(1)
                time.sleep(0.02)
        except BaseException as e:  # noqa: BLE001
            tick_errors.append(e)
        finally:
            c.close()

    t0 = time.monotonic()
    th = threading.Thread(target=ticker, daemon=True)
    th.start()
    try:
        tickets = enqueue_many(srv, room, N, threads=THREADS, keep=("ticket", "position"))
    finally:
        stop.set()
        th.join(60)
    t_enqueue = time.monotonic() - t0
    assert not tick_errors, f"moving the clock during the enqueue failed: {tick_errors[0]}"

    positions = sorted(t["position"] for t in tickets)
    assert positions == list(range(1, N + 1)), (
        f"{N} POSTs did not get positions 1..{N}: first={positions[:3]} last={positions[-3:]}, "
        f"{len(set(positions))} distinct")
    by_position = {t["position"]: t["ticket"] for t in tickets}

    # drain: 2 s of clock is 20 steps of 10,000
    clock_advance(srv, 2_000)
    stats = srv.stats(room)
    assert stats["admitted"] == N and stats["waiting"] == 0 and stats["queue_counter"] == N, (
        f"after draining, stats should show all {N} admitted and nobody waiting: {stats}")

    log = admissions(srv, room)
    assert len(log) == N, f"admissions log has {len(log)} entries, expected {N}"
    seq_positions = [a["position"] for a in log]

    # every position admitted exactly once, with the ticket that holds it
    seen = set()
    dups = []
    for p in seq_positions:
        if p in seen:
            dups.append(p)
        seen.add(p)
    missing = sorted(set(range(1, N + 1)) - seen)
    assert not dups and not missing, (f"positions admitted twice: {dups[:10]} ({len(dups)}); "
                                      f"never admitted: {missing[:10]} ({len(missing)})")
    wrong = [a for a in log if by_position[a["position"]] != a["ticket"]]
    assert not wrong, (f"{len(wrong)} log entries name another ticket than the one POST gave "
                       f"that position, e.g. {wrong[:3]}")

    # order
    inv = count_inversions(seq_positions)
    tau = kendall_tau(seq_positions)
    first_bad = next((i for i in range(1, N) if seq_positions[i] <= seq_positions[i - 1]), None)
    context = ""
    if first_bad is not None:
        lo = max(0, first_bad - 3)
        context = f"; first disorder at seq {first_bad + 1}: {log[lo:first_bad + 3]}"
    assert inv == 0 and tau == 1.0, (f"admission order differs from position order: Kendall tau "
                                     f"= {tau:.9f}, {inv} inverted pairs{context}")

    times = [a["admitted_at"] for a in log]
    back = next((i for i in range(1, N) if times[i] < times[i - 1]), None)
    assert back is None, f"admitted_at goes back in time at seq {back + 1}: {log[back - 1:back + 1]}"

    # (informational: shows up with -s / on failure)
    print(f"fifo: {N} enqueues in {t_enqueue:.1f}s with {len(ticks)} clock steps meanwhile; "
          f"whole test {time.monotonic() - t0:.1f}s")
