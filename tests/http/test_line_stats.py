"""The numbers an operator misses (issue 19): how long people actually waited (join → admission)
in GET /admin/v1/rooms/{room}/stats, the history's samples and minutes; tickets that left the
line, unclaimed turns and sessions that ran out counted apart; and why the line is not moving,
as the server sees it.

Every server here runs on the test clock ([testing] manual_clock): visitors join and are admitted
at times the test sets, so the waits are known to the second. The admission driver runs only when
the test moves the clock. Waits come back to the histogram's precision (within 3.2 %).
"""

import csv
import io
from datetime import datetime, timezone

import pytest

from wrlib import TEST_CLOCK_CONFIG, assert_json, describe, wait_for

MINUTE_MS = 60_000
PRECISION = 0.032
HISTORY_CONFIG = TEST_CLOCK_CONFIG + "history_interval_ms = 100\n"
# No idle expiry unless a test asks: the clock jumps further than the polls would come.
STILL = {"ticket_idle_timeout_s": 0}


@pytest.fixture
def srv(server_factory):
    return server_factory(config_text=HISTORY_CONFIG, name="waitroom-line-stats")


def clock_ms(srv):
    return assert_json(srv.get("/admin/v1/testing/clock", admin=True), 200)["now_ms"]


def rfc3339(ms):
    return datetime.fromtimestamp(ms // 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def near(value, exact):
    return value is not None and abs(value - exact) <= exact * PRECISION, (value, exact)


def to_minute_start(srv, plus_s=1):
    """Moves the clock to `plus_s` seconds after the start of the next minute; returns that."""
    now = clock_ms(srv)
    return srv.advance_clock(MINUTE_MS - now % MINUTE_MS + plus_s * 1000)


def history(srv, room, **params):
    return assert_json(srv.get(f"/admin/v1/rooms/{room}/history", admin=True, params=params), 200)


def points(srv, room, frm, to, step=60):
    return history(srv, room, step=step, **{"from": frm, "to": to})["points"]


def newest_sample(srv, room, **want):
    def newest():
        s = history(srv, room)["samples"]
        return s and all(s[-1][k] == v for k, v in want.items()) and s[-1]
    return wait_for(newest, what=f"a sample of {room} with {want}")


def test_stats_tell_how_long_the_last_ten_minutes_admissions_waited(srv):
    room = srv.create_room(**STILL)
    s = srv.stats(room)
    assert s["waited"] == {"window_s": 600, "count": 0, "p50_s": None, "p95_s": None}
    # Twenty visitors join 10 s apart; all go in together 200 s after the first.
    for _ in range(20):
        srv.enqueue_ok(room)
        srv.advance_clock(10_000)
    srv.advance(room, by=20)  # waited 200, 190 … 10
    w = srv.stats(room)["waited"]
    assert w["window_s"] == 600 and w["count"] == 20
    assert near(w["p50_s"], 100) and near(w["p95_s"], 190), w
    # Ten more who join now and go in 30 s later.
    for _ in range(10):
        srv.enqueue_ok(room)
    srv.advance_clock(30_000)
    srv.advance(room, by=10)
    w = srv.stats(room)["waited"]
    assert w["count"] == 30
    # 10, 20, eleven 30s, 40 … 200: the 15th is 50, the 29th 190.
    assert near(w["p50_s"], 50) and near(w["p95_s"], 190), w
    # Ten minutes on, the first twenty have left the window; a little later, everyone.
    srv.advance_clock(575_000)
    w = srv.stats(room)["waited"]
    assert w["count"] == 10 and near(w["p50_s"], 30) and near(w["p95_s"], 30), w
    srv.advance_clock(60_000)
    assert srv.stats(room)["waited"] == {"window_s": 600, "count": 0, "p50_s": None,
                                         "p95_s": None}


def test_visitors_let_in_on_arrival_waited_nothing(srv):
    room = srv.create_room(queueing="passthrough")
    for _ in range(3):
        srv.enqueue_ok(room)
    w = srv.stats(room)["waited"]
    assert (w["count"], w["p50_s"], w["p95_s"]) == (3, 0, 0)


def test_left_the_line_unclaimed_and_ran_out_are_counted_apart(srv):
    room = srv.create_room(ticket_idle_timeout_s=30, claim_timeout_s=60, pass_lifetime_s=60)
    newest_sample(srv, room)
    start = clock_ms(srv)
    a, b, c = (srv.enqueue_ok(room)["ticket"] for _ in range(3))
    srv.advance(room, by=2)  # a and b eligible; c waits and stops asking
    r = srv.pass_for(room, a)
    assert r.status_code == 200, describe(r)
    srv.advance_clock(35_000)  # c idle for more than 30 s: left
    srv.advance_clock(30_000)  # b's claim time and a's pass have run out
    s = srv.stats(room)
    assert (s["left_line"], s["unclaimed"], s["sessions_expired"]) == (1, 1, 1), s
    # The older counters stay what they were: tickets_expired is the first two, expired the last.
    assert s["tickets_expired"] == 2 and s["expired"] == 1 and s["abandoned"] == 0, s
    assert s["line"] == {"moving": False, "reason": "nobody_waiting"}

    # The history's minutes count them apart too, and their sum is still `expiries`.
    # (Before the expiries the room had someone waiting and a session: this sample is after.)
    newest_sample(srv, room, queue_length=3, waiting=0, active_sessions=0)
    srv.advance_clock(MINUTE_MS)
    frm = start // MINUTE_MS * MINUTE_MS
    want = {"left_line": 1, "unclaimed": 1, "sessions_expired": 1, "expiries": 3,
            "admissions": 2, "waited_count": 2}

    def totals():
        p = points(srv, room, frm, frm + 10 * MINUTE_MS)
        return {k: sum(x[k] for x in p) for k in want}
    wait_for(lambda: totals() == want, what=f"minutes adding up to {want}")


def test_why_the_line_is_not_moving(srv):
    def line(room):
        return srv.stats(room)["line"]

    def reason(room):
        return line(room)["reason"]

    room = srv.create_room(**STILL)
    assert line(room) == {"moving": False, "reason": "nobody_waiting"}
    srv.enqueue_ok(room)
    assert line(room) == {"moving": False, "reason": "manual"}
    assert srv.post(f"/admin/v1/rooms/{room}/pause", admin=True).status_code == 200
    assert reason(room) == "paused"
    srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"state": "queue_all"})
    assert reason(room) == "queue_all"
    r = srv.put(f"/admin/v1/rooms/{room}", admin=True,
                json={"state": "open", "admission": {"mode": "rate", "rate_per_minute": 6}})
    assert r.status_code == 200, describe(r)
    assert line(room) == {"moving": True, "reason": None}
    now = clock_ms(srv)
    srv.put(f"/admin/v1/rooms/{room}", admin=True,
            json={"admission": {"start": rfc3339(now + 3_600_000)}})
    assert reason(room) == "not_started"
    srv.put(f"/admin/v1/rooms/{room}", admin=True,
            json={"admission": {"start": None, "end": rfc3339(now - 1000)}})
    assert reason(room) == "closed"

    # Caps: one held place (an unclaimed turn) fills max_active 1.
    cap = srv.create_room(admission={"mode": "max_active", "max_active": 1}, **STILL)
    srv.enqueue_ok(cap)
    srv.enqueue_ok(cap)
    srv.advance_clock(200)
    assert srv.stats(cap)["eligible"] == 1 and reason(cap) == "max_active"
    # The same with a rate under the ceiling.
    srv.put(f"/admin/v1/rooms/{cap}", admin=True,
            json={"admission": {"mode": "rate", "rate_per_minute": 60, "max_active": 1}})
    assert reason(cap) == "max_active"
    # Capacity: the first visitor goes straight in and takes the one place; the next waits.
    full = srv.create_room(admission={"mode": "capacity", "total_active": 1,
                                      "new_per_minute": 1}, **STILL)
    assert srv.enqueue_ok(full)["status"] == "eligible"
    srv.enqueue_ok(full)
    assert reason(full) == "capacity"
    # Passthrough lets everyone waiting in at the next step, whatever the caps.
    srv.put(f"/admin/v1/rooms/{full}", admin=True, json={"queueing": "passthrough"})
    assert line(full) == {"moving": True, "reason": None}

    # A pre-queue holds everyone until its start.
    now = clock_ms(srv)
    pre = srv.create_room(admission={"mode": "rate", "rate_per_minute": 60},
                          events=[{"prequeue_start": rfc3339(now - 60_000),
                                   "start": rfc3339(now + 3_600_000)}], **STILL)
    srv.advance_clock(200)  # the driver opens the pre-queue
    srv.enqueue_ok(pre)
    assert reason(pre) == "prequeue"


def test_samples_and_minutes_carry_the_waits_and_csv_appends_the_columns(srv):
    room = srv.create_room(**STILL)
    newest_sample(srv, room)
    m1 = to_minute_start(srv) - 1000
    # Ten visitors join a second apart from m1 + 1 s; all go in at m1 + 50 s: waited 49 … 40.
    for _ in range(10):
        srv.enqueue_ok(room)
        srv.advance_clock(1000)
    srv.advance_clock(m1 + 50_000 - clock_ms(srv))
    srv.advance(room, by=10)
    sample = newest_sample(srv, room, admitted=10)
    assert sample["arrivals_per_minute"] is not None and sample["arrivals_per_minute"] >= 0
    assert near(sample["waited_p50_s"], 44) and near(sample["waited_p95_s"], 49), sample
    srv.advance_clock(MINUTE_MS)
    p = wait_for(lambda: points(srv, room, m1, m1 + MINUTE_MS), what="the minute kept")
    assert len(p) == 1
    assert p[0]["waited_count"] == 10 and p[0]["admissions"] == 10
    assert near(p[0]["waited_p50_s"], 44) and near(p[0]["waited_p95_s"], 49), p
    # A minute without admissions: no waits.
    srv.advance_clock(MINUTE_MS)
    later = wait_for(lambda: points(srv, room, m1 + MINUTE_MS, m1 + 2 * MINUTE_MS),
                     what="the next minute kept")
    assert later[0]["waited_count"] == 0
    assert later[0]["waited_p50_s"] is None and later[0]["waited_p95_s"] is None
    # Five more in the third minute who waited 300 s: a 5-minute step merges both minutes'
    # waits (15 visitors: the median is one of the first ten, the 95th percentile a late one).
    for _ in range(5):
        srv.enqueue_ok(room)
    srv.advance_clock(300_000)
    srv.advance(room, by=5)
    newest_sample(srv, room, admitted=15)
    srv.advance_clock(MINUTE_MS)
    step = 3600
    frm = m1 - m1 % (step * 1000)
    wait_for(lambda: sum(x["waited_count"] for x in points(srv, room, frm, frm + 2 * step * 1000,
                                                           step=step)) == 15,
             what="the hour's waits")
    hourly = points(srv, room, frm, frm + 2 * step * 1000, step=step)
    if len(hourly) == 1:  # both admissions in one hour
        assert near(hourly[0]["waited_p50_s"], 47) and near(hourly[0]["waited_p95_s"], 300)

    r = srv.get(f"/admin/v1/rooms/{room}/history", admin=True, headers={"Accept": "text/csv"},
                params={"step": 60, "from": m1, "to": m1 + MINUTE_MS})
    assert r.status_code == 200, describe(r)
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][-6:] == ["left_line", "unclaimed", "sessions_expired", "waited_p50_s",
                            "waited_p95_s", "waited_count"]
    assert len(rows) == 2 and rows[1][-1] == "10"
    assert near(int(rows[1][-3]), 44) and near(int(rows[1][-2]), 49)
    r = srv.get(f"/admin/v1/rooms/{room}/history", admin=True, headers={"Accept": "text/csv"})
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][-7:] == ["arrivals_per_minute", "waited_p50_s", "waited_p95_s", "limit", "held",
                            "site_p95_ms", "site_error_ratio"]
    assert all(len(row) == len(rows[0]) for row in rows)
