"""Sale cycles for the bounded-state soak (issue 18): visitors join, are admitted, some claim a
pass and complete, the rest let their claim or their session run out on the test clock, and the
room is reset for the next sale. After each cycle the store is compacted; what it keeps must not
grow with the number of cycles.

Used by tests/http/test_sale_cycles.py (embedded store) and tests/redis/test_sale_cycles_redis.py.
WAITROOM_SOAK_CYCLES and WAITROOM_SOAK_VISITORS size it (`make test`: 3 × 3,000; `make soak`:
10 × 200,000)."""

import os
import time
from concurrent.futures import ThreadPoolExecutor

from wrlib import REQUEST_TIMEOUT_S, assert_json, describe, new_session

CYCLES = int(os.environ.get("WAITROOM_SOAK_CYCLES", "3"))
VISITORS = int(os.environ.get("WAITROOM_SOAK_VISITORS", "3000"))
CLIENTS = 8
CLAIM_EVERY = 5     # one visitor in five claims a pass
COMPLETE_EVERY = 2  # and one of those two completes; the other's session runs out
ROOM_SETTINGS = {"admission": {"mode": "manual"}, "claim_timeout_s": 60, "pass_lifetime_s": 120,
                 "ticket_idle_timeout_s": 0}


def _split(items, parts):
    return [items[i::parts] for i in range(parts)]


def _join(srv, room, count):
    """`count` visitors join over CLIENTS keep-alive connections; returns their tickets."""
    def one_client(n):
        session = new_session()
        out = []
        url = srv.url(f"/v1/rooms/{room}/tickets")
        for _ in range(n):
            r = session.post(url, timeout=REQUEST_TIMEOUT_S)
            assert r.status_code == 201, describe(r)
            out.append(r.json()["ticket"])
        session.close()
        return out

    shares = [count // CLIENTS + (1 if i < count % CLIENTS else 0) for i in range(CLIENTS)]
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return [t for part in pool.map(one_client, shares) for t in part]


def _claim(srv, room, tickets):
    """Claims a pass for each ticket, then completes every COMPLETE_EVERY-th session."""
    def one_client(part):
        session = new_session()
        for i, t in enumerate(part):
            r = session.post(srv.url(f"/v1/rooms/{room}/tickets/{t}/pass"), timeout=REQUEST_TIMEOUT_S)
            assert r.status_code == 200, describe(r)
            if i % COMPLETE_EVERY == 0:
                done = session.put(srv.url(f"/admin/v1/rooms/{room}/sessions/{t}"),
                                   headers=srv.admin_headers, json={"status": "completed"},
                                   timeout=REQUEST_TIMEOUT_S)
                assert done.status_code == 200, describe(done)
        session.close()

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(one_client, _split(tickets, CLIENTS)))


def run_cycles(srv, room, measure, cycles=CYCLES, visitors=VISITORS):
    """Runs the sale cycles on `srv` (test clock on); after each, compacts and calls
    measure() -> bytes the store keeps. Returns [(cycle, peak report, kept bytes, seconds)]."""
    out = []
    for cycle in range(1, cycles + 1):
        started = time.monotonic()
        tickets = _join(srv, room, visitors)
        srv.advance(room, by=visitors)
        _claim(srv, room, tickets[::CLAIM_EVERY])
        # Unclaimed turns and sessions left open run out.
        srv.advance_clock(200_000)
        stats = srv.stats(room)
        assert stats["queue_counter"] == visitors, stats
        assert_json(srv.post(f"/admin/v1/rooms/{room}/reset", admin=True), 200)
        report = assert_json(srv.post("/admin/v1/compact", admin=True, timeout=600), 200)
        out.append((cycle, report, measure(), round(time.monotonic() - started, 1)))
    return out


def assert_bounded(cycles, slack_bytes):
    """What the store keeps after each cycle's compaction does not grow with the cycles."""
    kept = [k for _, _, k, _ in cycles]
    assert max(kept) <= kept[0] + slack_bytes, f"kept bytes grow with the cycles: {kept}"
