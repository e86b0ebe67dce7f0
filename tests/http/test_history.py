"""History that survives restarts (issue 18): each room's minutes, kept for [dashboard]
history_days, served by GET /admin/v1/rooms/{room}/history?from=&to=&step= as JSON and CSV.

Every server here runs on the test clock and samples every 100 ms ([testing]
history_interval_ms): a minute ends when the test moves the clock past it, and the sampler keeps
it at its next sample, so minutes of history take a fraction of a second. The test clock starts
at the real time on every start, restarts included (so a restart sets it back by what the test
advanced).
"""

import csv
import io
import os
import time
from datetime import datetime, timezone

import pytest

from wrlib import TEST_CLOCK_CONFIG, assert_json, assert_problem, describe, unique_room, wait_for

MINUTE_MS = 60_000
DAY_MS = 86_400_000
HISTORY_CONFIG = TEST_CLOCK_CONFIG + "history_interval_ms = 100\n"
MINUTE_FIELDS = {"at_ms", "minutes", "epoch", "arrivals", "admissions", "expiries", "waiting",
                 "active_sessions", "eta", "paused", "left_line", "unclaimed", "sessions_expired",
                 "waited_p50_s", "waited_p95_s", "waited_count"}
# The files are the embedded store's; on Redis (WAITROOM_TEST_REDIS_URL) only the API is checked.
ON_REDIS = bool(os.environ.get("WAITROOM_TEST_REDIS_URL"))


def history(srv, room, status=200, headers=None, **params):
    r = srv.get(f"/admin/v1/rooms/{room}/history", admin=True, params=params, headers=headers)
    if status != 200:
        return assert_problem(r, status)
    return assert_json(r, 200)


def minutes(srv, room, frm, to, step=60):
    return history(srv, room, step=step, **{"from": frm, "to": to})["points"]


def sampled(srv, room, **want):
    """Waits until the room's newest 10-second sample shows `want` (a sample after the change)."""
    def newest():
        s = history(srv, room)["samples"]
        return s and all(s[-1][k] == v for k, v in want.items()) and s[-1]
    return wait_for(newest, what=f"a sample of {room} with {want}")


def end_minute(srv, room):
    """Moves the test clock a minute on and waits until the minute that ended is kept."""
    now = srv.advance_clock(MINUTE_MS)
    ended = now - now % MINUTE_MS - MINUTE_MS
    wait_for(lambda: minutes(srv, room, ended, ended + MINUTE_MS), what=f"the minute {ended}")
    return ended


def clock_ms(srv):
    r = srv.get("/admin/v1/testing/clock", admin=True)
    return assert_json(r, 200)["now_ms"]


def date_of(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d")


def iso(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def three_minutes(srv):
    """A room with 1, 2 and 3 arrivals in three minutes in a row: its name, the first minute."""
    room = srv.create_room()
    sampled(srv, room)
    m0 = clock_ms(srv) // MINUTE_MS * MINUTE_MS
    for n in (1, 2, 3):
        for _ in range(n):
            srv.enqueue_ok(room)
        sampled(srv, room, queue_length={1: 1, 2: 3, 3: 6}[n])
        end_minute(srv, room)
    return room, m0


@pytest.fixture
def hist(server_factory):
    return server_factory(config_text=HISTORY_CONFIG, name="waitroom-history")


def test_minutes_count_arrivals_admissions_and_the_state_at_their_end(hist):
    room = hist.create_room()
    sampled(hist, room)
    start = clock_ms(hist)
    M0 = start // MINUTE_MS * MINUTE_MS
    for _ in range(3):
        hist.enqueue_ok(room)
    sampled(hist, room, queue_length=3)
    assert end_minute(hist, room) == M0
    for _ in range(2):
        hist.enqueue_ok(room)
    hist.advance(room, by=4)
    sampled(hist, room, queue_length=5, admitted=4)
    assert end_minute(hist, room) == M0 + MINUTE_MS

    h = history(hist, room, step=60, **{"from": M0, "to": M0 + 2 * MINUTE_MS})
    assert h["room"] == room and h["step_s"] == 60
    assert h["from_ms"] == M0 and h["to_ms"] == M0 + 2 * MINUTE_MS
    assert h["now_ms"] == start + 2 * MINUTE_MS
    p0, p1 = h["points"]
    assert set(p0) == MINUTE_FIELDS
    assert (p0["at_ms"], p0["minutes"], p0["epoch"]) == (M0, 1, h["points"][1]["epoch"])
    assert (p0["arrivals"], p0["admissions"], p0["waiting"]) == (3, 0, 3)
    assert (p1["at_ms"], p1["arrivals"], p1["admissions"], p1["waiting"]) == (M0 + MINUTE_MS, 2, 4, 1)
    assert p1["paused"] is False and p1["expiries"] == 0

    # The default call is the samples of the last hour, as the dashboard always had it.
    d = history(hist, room)
    assert set(d) == {"room", "interval_ms", "window_ms", "now_ms", "samples"}
    assert d["interval_ms"] == 100 and d["samples"][-1]["queue_length"] == 5


def test_minutes_survive_a_restart_on_the_same_data_dir(hist):
    room, M0 = three_minutes(hist)
    before = minutes(hist, room, M0, M0 + 3 * MINUTE_MS)
    assert [p["arrivals"] for p in before] == [1, 2, 3]
    if not ON_REDIS:
        lines = []
        for day in sorted({date_of(M0), date_of(M0 + 2 * MINUTE_MS)}):
            lines += (hist.data_dir / "history" / room / f"{day}.log").read_text().splitlines()
        assert len(lines) == 3, lines

    hist.restart()  # the test clock starts at the real time again: minutes back
    assert minutes(hist, room, M0, M0 + 3 * MINUTE_MS) == before
    # The minutes after the restart are counted again from the room's first sample; the ones
    # already kept stay as they were.
    hist.enqueue_ok(room)
    sampled(hist, room, queue_length=7)
    end_minute(hist, room)
    assert minutes(hist, room, M0, M0 + 3 * MINUTE_MS) == before
    # And so after a kill -9: what was kept before it is there.
    hist.kill9()
    hist.start()
    assert minutes(hist, room, M0, M0 + 3 * MINUTE_MS) == before


def test_from_to_and_step_choose_the_minutes(hist):
    room, M0 = three_minutes(hist)
    m1, m2 = M0 + MINUTE_MS, M0 + 2 * MINUTE_MS

    def arrivals(frm, to, step=60):
        return [p["arrivals"] for p in minutes(hist, room, frm, to, step)]

    assert arrivals(M0, m2 + MINUTE_MS) == [1, 2, 3]
    assert arrivals(m1, m2 + MINUTE_MS) == [2, 3]      # from is in
    assert arrivals(M0, m2) == [1, 2]                  # to is out
    assert arrivals(m1 + 1, m2) == []                  # a minute is in by its start
    assert arrivals(iso(m1), iso(m2 + MINUTE_MS)) == [2, 3]  # RFC 3339 too
    # Steps start at multiples of the step since 1970 and sum their minutes.
    step_ms = 180_000
    points = minutes(hist, room, M0, m2 + MINUTE_MS, step=180)
    expected = {}
    for at, n in ((M0, 1), (m1, 2), (m2, 3)):
        start = at - at % step_ms
        got = expected.setdefault(start, [0, 0])
        got[0] += 1
        got[1] += n
    assert [(p["at_ms"], p["minutes"], p["arrivals"]) for p in points] == \
        [(k, v[0], v[1]) for k, v in sorted(expected.items())]
    # The default range of a minute step is the hour before `to` (now by default).
    assert [p["arrivals"] for p in history(hist, room, step=60)["points"]] == [1, 2, 3]
    assert history(hist, room, step=60, to=M0)["points"] == []


def test_csv_has_a_header_and_one_row_per_point(hist):
    room, M0 = three_minutes(hist)
    r = hist.get(f"/admin/v1/rooms/{room}/history", admin=True, headers={"Accept": "text/csv"},
                 params={"step": 60, "from": M0, "to": M0 + 3 * MINUTE_MS})
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["time", "at_ms", "minutes", "epoch", "arrivals", "admissions", "expiries",
                       "waiting", "active_sessions", "eta_p50_s", "eta_p90_s", "paused",
                       "left_line", "unclaimed", "sessions_expired", "waited_p50_s",
                       "waited_p95_s", "waited_count"]
    assert [(row[0], int(row[1]), int(row[4])) for row in rows[1:]] == [
        (iso(M0 + i * MINUTE_MS), M0 + i * MINUTE_MS, i + 1) for i in range(3)]
    assert [int(row[7]) for row in rows[1:]] == [1, 3, 6]  # waiting at each minute's end
    assert [row[11] for row in rows[1:]] == ["false"] * 3

    # The samples as CSV, when no step is asked for.
    r = hist.get(f"/admin/v1/rooms/{room}/history", admin=True, headers={"Accept": "text/csv"})
    assert r.status_code == 200, describe(r)
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:6] == ["time", "at_ms", "epoch", "paused", "queue_length", "waiting"]
    assert len(rows) > 2 and all(len(row) == len(rows[0]) for row in rows)
    assert int(rows[-1][4]) == 6


T = 1_700_000_000_000
NOW = "now"  # replaced by the server's clock


@pytest.mark.parametrize("params", [
    {"step": 0}, {"step": -60}, {"step": 45}, {"step": "1m"},
    {"step": 60, "from": "yesterday"}, {"step": 60, "to": "2023-13-01T00:00:00Z"},
    {"step": 60, "from": T + MINUTE_MS, "to": T},
    {"step": 60, "from": T, "to": T},
    {"step": 60, "from": T - 8 * DAY_MS, "to": T},   # 11,520 points
    {"from": NOW},                                    # the samples reach back an hour only
])
def test_bad_parameters_are_400_problems(hist, params):
    if params.get("from") == NOW:
        params = {"from": clock_ms(hist) - 2 * 3_600_000}
    problem = history(hist, "demo", status=400, **params)
    assert problem["detail"]


def test_an_unknown_room_is_404_whatever_the_parameters(hist):
    history(hist, unique_room(), status=404, step=60)
    history(hist, unique_room(), status=404)


@pytest.mark.skipif(ON_REDIS, reason="the files are the embedded store's")
def test_days_older_than_history_days_are_pruned(server_factory, tmp_path):
    srv = server_factory(config_text=HISTORY_CONFIG + "[dashboard]\nhistory_days = 1\n",
                         name="waitroom-history-prune")
    history_dir = srv.data_dir / "history"
    room = srv.create_room()
    sampled(srv, room)
    srv.enqueue_ok(room)
    sampled(srv, room, queue_length=1)
    M0 = end_minute(srv, room)
    day = M0 - M0 % DAY_MS
    day_file = history_dir / room / f"{date_of(M0)}.log"
    assert day_file.exists()
    # The next day, the day is still one of the days kept (history_days = 1, today aside).
    now = srv.advance_clock(day + DAY_MS + MINUTE_MS - clock_ms(srv))
    sampled(srv, room, queue_length=1)
    assert [p["arrivals"] for p in minutes(srv, room, M0, M0 + MINUTE_MS)] == [1]
    # Once the day after starts it goes: from the API at once, from the disk at the next sample.
    srv.advance_clock(day + 2 * DAY_MS - now)
    h = history(srv, room, step=60, **{"from": M0, "to": M0 + MINUTE_MS})
    assert h["points"] == [] and h["kept_from_ms"] == day + DAY_MS
    wait_for(lambda: not day_file.exists(), what="the old day's file to go")
    assert (history_dir / room).is_dir()


@pytest.mark.skipif(ON_REDIS, reason="the files are the embedded store's")
def test_old_days_and_rooms_that_are_gone_are_pruned_at_start(server_factory):
    from wrlib import Server
    srv = Server(config_text=HISTORY_CONFIG, name="waitroom-history-start")
    server_factory.servers.append(srv)
    today = time.time() * 1000
    old = srv.data_dir / "history" / "demo" / f"{date_of(today - 10 * DAY_MS)}.log"
    kept = srv.data_dir / "history" / "demo" / f"{date_of(today - 3 * DAY_MS)}.log"
    ghost = srv.data_dir / "history" / "ghost" / f"{date_of(today)}.log"
    for f in (old, kept, ghost):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("not a minute\n")
    srv.start()
    wait_for(lambda: not old.exists() and not ghost.parent.exists(), what="the prune at start")
    assert kept.exists()  # seven days back are kept by default


def test_a_deleted_rooms_history_goes_with_it(hist):
    room = hist.create_room()
    sampled(hist, room)
    hist.enqueue_ok(room)
    sampled(hist, room, queue_length=1)
    M0 = end_minute(hist, room)
    r = hist.delete(f"/admin/v1/rooms/{room}", admin=True)
    assert r.status_code in (200, 204), describe(r)
    if ON_REDIS:
        time.sleep(1)  # every node's sampler sees the room gone
    else:
        wait_for(lambda: not (hist.data_dir / "history" / room).exists(), what="the room's files")
    # A new room of the same name starts with no history.
    hist.create_room(room)
    wait_for(lambda: minutes(hist, room, M0, M0 + MINUTE_MS) == [], what="no minutes")
