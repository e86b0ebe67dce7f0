"""Adaptive admission (admission.mode = "adaptive") against a real waitroom process.

The room's controller reads the protected site's health once a second of server clock and moves
a limit on the places the site holds (active sessions plus admitted, unclaimed turns): none until
the first breach; on a breach (p95 above 1.1 × target, or errors above max_error_ratio) down to
85 % of what is held, then 5 s to settle and no further cut until the places held are down to the limit; while healthy and the limit holds the line, up ~3 %/s;
unknown signals hold it. Each change is an `admission.adjusted` event, and the admin stats show
the limit, the places held and the signals.

Shown here: the settings are checked and round-trip; POST/GET .../signals refuse bad bodies,
unknown rooms and callers without the role; on the test clock with posted signals the limit
falls, holds the line (line.reason site_health), survives staleness, grows, and min_per_minute
admits past it but never past max_active; the limit survives a restart and a compaction; and,
the main demonstration, a simulated shop (fake_shop.py) behind the built-in proxy, whose latency
rises with its concurrent sessions, is held near its p95 target by the controller through a
halving and a doubling of its capacity. The simulation's trace goes to a JSON file (and to
$ADAPTIVE_TRACE_OUT when set; scripts/plot-adaptive-trace draws it).
"""

import json
import math
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fake_shop import ShopProcess
from wrlib import (DEFAULT_CONFIG, TEST_CLOCK_CONFIG, assert_json, assert_problem, describe,
                   new_session, unique_room, wait_for)

EVENTS_CLOCK_CONFIG = "keep_events = true\n" + TEST_CLOCK_CONFIG
# Visitors here never poll and join faster than a browser would: no idle expiry, no IP limits.
QUIET = {"ticket_idle_timeout_s": 0,
         "abuse": {"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0}}


def adaptive(target_p95_ms=200, max_per_minute=600, **more):
    return {"mode": "adaptive", "target_p95_ms": target_p95_ms, "max_per_minute": max_per_minute,
            **more}


def signals_path(room):
    return f"/admin/v1/rooms/{room}/signals"


def post_signals(srv, room, **body):
    r = srv.post(signals_path(room), admin=True, json=body)
    return assert_json(r, 200)


def get_signals(srv, room):
    return assert_json(srv.get(signals_path(room), admin=True), 200)


def adaptive_stats(srv, room):
    s = srv.stats(room)
    assert "adaptive" in s, s
    return s


def events_of(srv, room, kind=None):
    out, after = [], 0
    while True:
        r = srv.get("/admin/v1/events", admin=True, params={"room": room, "after": after, "limit": 1000})
        page = assert_json(r, 200)
        out += page["events"]
        if not page["more"] or not page["events"]:
            break
        after = page["next_after"]
    return [e for e in out if kind is None or e["type"] == kind]


def adjusted(srv, room):
    return [e["data"] for e in events_of(srv, room, "admission.adjusted")]


def adjusted_now(srv, room):
    """The room's admission.adjusted events once the feed has caught up with its limit: a step's
    events are published when its records are durable, a moment after the test clock moved."""
    limit = adaptive_stats(srv, room)["adaptive"]["limit"]
    if limit is not None:
        wait_for(lambda: (adjusted(srv, room) or [{}])[-1].get("new_limit") == limit,
                 what="the events of the room's last decision")
    return adjusted(srv, room)


def join(srv, room, n):
    return [srv.enqueue_ok(room) for _ in range(n)]


def create_token(srv, role):
    r = srv.post("/admin/v1/tokens", admin=True, json={"name": unique_room(role), "role": role})
    assert r.status_code == 201, describe(r)
    return r.json()["token"]


# ---- 1. settings --------------------------------------------------------------------------


@pytest.mark.parametrize("admission, field", [
    ({"mode": "adaptive", "max_per_minute": 600}, "admission.target_p95_ms"),
    ({"mode": "adaptive", "target_p95_ms": 200}, "admission.max_per_minute"),
    (adaptive(min_per_minute=601), "admission.min_per_minute"),
    (adaptive(max_error_ratio=0), "admission.max_error_ratio"),
    (adaptive(max_error_ratio=1.5), "admission.max_error_ratio"),
    (adaptive(target_p95_ms=0), "admission.target_p95_ms"),
    (adaptive(max_error_ratio="low"), "admission.max_error_ratio"),
])
def test_bad_adaptive_settings_are_refused_naming_the_field(server, admission, field):
    room = unique_room("bad")
    body = assert_problem(server.put(f"/admin/v1/rooms/{room}", admin=True,
                                     json={"admission": admission}), 400)
    assert field in body["detail"], body
    assert server.get(f"/admin/v1/rooms/{room}", admin=True).status_code == 404


def test_a_valid_adaptive_room_round_trips_its_settings(server):
    want = adaptive(target_p95_ms=250, max_per_minute=900, min_per_minute=30,
                    max_error_ratio=0.05, max_active=400, compensate_no_shows=True)
    room = server.create_room(admission=want)
    got = server.admin_room(room)
    assert got["mode"] == "adaptive"
    assert {k: got["admission"][k] for k in want} == want, got["admission"]
    s = adaptive_stats(server, room)
    assert s["adaptive"]["limit"] is None and s["adaptive"]["held"] == 0
    assert s["adaptive"]["target_p95_ms"] == 250 and s["adaptive"]["max_error_ratio"] == 0.05
    # The default error ratio is 0.02; other modes have no "adaptive" object.
    plain = server.create_room(admission=adaptive())
    assert server.admin_room(plain)["admission"]["max_error_ratio"] is None
    assert adaptive_stats(server, plain)["adaptive"]["max_error_ratio"] == 0.02
    rate = server.create_room(admission={"mode": "rate", "rate_per_minute": 60})
    assert "adaptive" not in server.stats(rate)
    # A later PUT merges: min above the stored max is refused, the room unchanged.
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"admission": {"min_per_minute": 901}})
    assert "admission.min_per_minute" in assert_problem(r, 400)["detail"]
    assert server.admin_room(room)["admission"]["min_per_minute"] == 30


# ---- 2. the signals endpoint -----------------------------------------------------------------


@pytest.mark.parametrize("body, word", [
    ({"p95_ms": -1}, "p95_ms"),
    ({"p95_ms": 600_001}, "p95_ms"),
    ({"p50_ms": 600_001, "p95_ms": 100}, "p50_ms"),
    ({"error_ratio": 2}, "error_ratio"),
    ({"error_ratio": -0.1}, "error_ratio"),
    ({"p95_ms": "100"}, "p95_ms"),
    ({"p95_ms": 100, "colour": "red"}, "colour"),
    ({}, "p95_ms"),
    ({"p50_ms": 30}, "p95_ms"),
    ({"p95_ms": 100, "max_age_s": 0}, "max_age_s"),
    ({"p95_ms": 100, "max_age_s": 3601}, "max_age_s"),
    ({"p95_ms": 100, "max_age_s": 1.5}, "max_age_s"),
])
def test_bad_signal_posts_are_refused_and_change_nothing(server, body, word):
    room = server.create_room(admission=adaptive())
    before = get_signals(server, room)
    problem = assert_problem(server.post(signals_path(room), admin=True, json=body), 400)
    assert word in problem["detail"], problem
    assert get_signals(server, room) == before
    assert before["posted"] is None and before["combined"]["known"] is False


def test_signals_need_a_known_room_and_the_right_role(server):
    room = server.create_room(admission=adaptive())
    missing = unique_room("nope")
    assert_problem(server.post(signals_path(missing), admin=True, json={"p95_ms": 100}), 404)
    assert_problem(server.get(signals_path(missing), admin=True), 404)
    assert server.post(signals_path(room), json={"p95_ms": 100}).status_code == 401
    assert server.get(signals_path(room)).status_code == 401
    r = server.post(signals_path(room), admin=True, data=b"{not json",
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 400)

    viewer, operator = create_token(server, "viewer"), create_token(server, "operator")
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    as_operator = {"Authorization": f"Bearer {operator}"}
    assert_json(server.get(signals_path(room), headers=as_viewer), 200)
    assert_problem(server.post(signals_path(room), headers=as_viewer, json={"p95_ms": 100}), 403)
    assert get_signals(server, room)["posted"] is None, "a refused post changed nothing"

    r = server.post(signals_path(room), headers=as_operator,
                    json={"p95_ms": 120.5, "p50_ms": 40, "error_ratio": 0.01, "max_age_s": 30})
    got = assert_json(r, 200)
    assert got["room"] == room
    assert got["proxy"] == {"p50_ms": None, "p95_ms": None, "error_ratio": None, "samples": 0,
                            "window_s": 5}
    posted = got["posted"]
    assert (posted["p95_ms"], posted["p50_ms"], posted["error_ratio"]) == (120.5, 40, 0.01)
    assert posted["max_age_s"] == 30 and posted["fresh"] is True and posted["at"].endswith("Z")
    assert got["combined"] == {"p50_ms": 40, "p95_ms": 120.5, "error_ratio": 0.01, "known": True}
    assert assert_json(server.get(signals_path(room), headers=as_viewer), 200) == got
    # The stats carry the same signals.
    assert adaptive_stats(server, room)["adaptive"]["signals"]["posted"] == posted


# ---- 3. the controller on posted signals ------------------------------------------------------


@pytest.fixture
def clock_srv(server_factory):
    return server_factory(config_text=EVENTS_CLOCK_CONFIG, name="waitroom-adaptive")


def test_the_limit_falls_on_a_breach_holds_the_line_and_grows_when_healthy(clock_srv):
    srv = clock_srv
    target = 200
    room = srv.create_room(admission=adaptive(target, 600), **QUIET)
    tickets = join(srv, room, 60)

    # Healthy: admitted at max_per_minute's pace (10/s), no limit set.
    post_signals(srv, room, p95_ms=100, error_ratio=0, max_age_s=60)
    srv.advance_clock(3000)
    s = adaptive_stats(srv, room)
    assert 25 <= s["serving"] <= 31, s
    assert s["adaptive"]["limit"] is None and s["adaptive"]["held"] == s["serving"]
    assert s["line"] == {"moving": True, "reason": None}, s["line"]
    assert adjusted_now(srv, room) == []

    # A breach (p95 twice the target): within one second the limit is 85 % of the places held.
    held = s["adaptive"]["held"]
    post_signals(srv, room, p95_ms=2 * target, error_ratio=0, max_age_s=60)
    srv.advance_clock(1000)
    (e,) = adjusted_now(srv, room)
    assert e["reason"] == "latency" and e["old_limit"] is None
    assert e["held"] >= held and e["new_limit"] == math.floor(0.85 * e["held"]), e
    assert e["signals"] == {"p50_ms": None, "p95_ms": 400.0, "error_ratio": 0.0, "samples": 0}
    assert e["target_p95_ms"] == target and e["max_error_ratio"] == 0.02
    s = adaptive_stats(srv, room)
    limit = s["adaptive"]["limit"]
    assert limit == e["new_limit"], s["adaptive"]
    metrics = srv.get("/metrics").text
    assert f'waitroom_admission_limit{{room="{room}"}} {limit}\n' in metrics
    assert s["adaptive"]["held"] >= limit
    assert s["line"] == {"moving": False, "reason": "site_health"}, s["line"]

    # Errors above max_error_ratio (latency in the band). No second decrease during the 5 s
    # settle, nor while the places held are still over the limit (the last cut has not shown
    # yet: the load is leaving by itself); once visitors finish and the places held are down to
    # the limit, reason "errors".
    post_signals(srv, room, p95_ms=target, error_ratio=0.5, max_age_s=60)
    serving = s["serving"]
    srv.advance_clock(4000)
    assert len(adjusted_now(srv, room)) == 1, "no second decrease before the settle period"
    srv.advance_clock(3000)
    assert len(adjusted_now(srv, room)) == 1, "no second decrease while the load still drains"
    held = adaptive_stats(srv, room)["adaptive"]["held"]
    for t in tickets[:held - limit]:
        assert srv.pass_for(room, t["ticket"]).status_code == 200
        assert srv.set_session(room, t["ticket"], "completed").status_code == 200
    srv.advance_clock(1000)
    events = adjusted_now(srv, room)
    assert [x["reason"] for x in events] == ["latency", "errors"], events
    e = events[1]
    assert e["old_limit"] == limit and e["held"] == limit
    assert e["new_limit"] == math.floor(0.85 * limit), e
    assert e["signals"]["error_ratio"] == 0.5
    limit = e["new_limit"]
    s = adaptive_stats(srv, room)
    assert s["serving"] == serving, "nobody admitted while the places held are over the limit"
    assert s["line"]["reason"] == "site_health"

    # A breach that goes stale (max_age_s 1) before the settle ends: the limit holds.
    post_signals(srv, room, p95_ms=5 * target, error_ratio=0.9, max_age_s=1)
    srv.advance_clock(2000)
    sig = get_signals(srv, room)
    assert sig["posted"]["fresh"] is False and sig["combined"]["known"] is False, sig
    srv.advance_clock(10_000)
    assert len(adjusted_now(srv, room)) == 2, adjusted_now(srv, room)
    s = adaptive_stats(srv, room)
    assert s["adaptive"]["limit"] == limit and s["serving"] == serving

    # Healthy again: the limit grows a step a second (at least one place) while the places held
    # are near it; once past what is held, the line moves again.
    post_signals(srv, room, p95_ms=50, error_ratio=0, max_age_s=60)
    srv.advance_clock(15_000)
    grown = adjusted_now(srv, room)[2:]
    assert len(grown) >= 12 and all(x["reason"] == "healthy" for x in grown), grown
    for x in grown:
        assert x["new_limit"] == x["old_limit"] + max(1, round(x["old_limit"] * 0.03)), x
    s = adaptive_stats(srv, room)
    assert s["adaptive"]["limit"] == grown[-1]["new_limit"] > limit
    assert s["serving"] > serving and s["adaptive"]["held"] <= s["adaptive"]["limit"]


def test_a_limit_nobody_reaches_does_not_grow(clock_srv):
    srv = clock_srv
    room = srv.create_room(admission=adaptive(200, 600), **QUIET)
    join(srv, room, 30)
    post_signals(srv, room, p95_ms=100, max_age_s=60)
    srv.advance_clock(2000)
    post_signals(srv, room, p95_ms=1000, max_age_s=60)
    srv.advance_clock(1000)
    limit = adaptive_stats(srv, room)["adaptive"]["limit"]
    assert limit is not None
    # Every admitted visitor's session ends; the rest of the line (fewer than the limit) goes in.
    r = srv.get(f"/admin/v1/rooms/{room}/admissions", admin=True, params={"limit": 1000})
    for a in assert_json(r, 200)["admissions"]:
        assert srv.pass_for(room, a["ticket"]).status_code == 200
        assert srv.set_session(room, a["ticket"], "completed").status_code == 200
    post_signals(srv, room, p95_ms=10, error_ratio=0, max_age_s=60)
    srv.advance_clock(8000)
    s = adaptive_stats(srv, room)
    assert s["waiting"] == 0 and s["serving"] == 30, s
    # Healthy signals, but the site holds under 90 % of the limit: it says nothing, so it stays.
    assert s["adaptive"]["held"] < 0.9 * limit, s["adaptive"]
    assert s["adaptive"]["limit"] == limit and len(adjusted_now(srv, room)) == 1, adjusted_now(srv, room)


def test_min_per_minute_admits_past_the_limit_but_never_past_max_active(clock_srv):
    srv = clock_srv
    room = srv.create_room(admission=adaptive(200, 600, min_per_minute=120, max_active=50), **QUIET)
    join(srv, room, 80)
    post_signals(srv, room, p95_ms=100, max_age_s=600)
    srv.advance_clock(3000)
    post_signals(srv, room, p95_ms=400, max_age_s=600)
    srv.advance_clock(1000)
    s = adaptive_stats(srv, room)
    limit, serving = s["adaptive"]["limit"], s["serving"]
    assert limit is not None and s["adaptive"]["held"] >= limit
    # In the band from now on: the limit holds, the floor's 2 a second go past it.
    post_signals(srv, room, p95_ms=200, max_age_s=600)
    srv.advance_clock(3000)
    s = adaptive_stats(srv, room)
    assert 4 <= s["serving"] - serving <= 10, (serving, s)
    assert s["adaptive"]["limit"] == limit and s["adaptive"]["held"] > limit
    assert s["line"]["reason"] != "site_health", "min_per_minute keeps the line moving"
    srv.advance_clock(10_000)
    s = adaptive_stats(srv, room)
    assert s["adaptive"]["held"] == 50 and s["serving"] == 50, s
    assert s["line"] == {"moving": False, "reason": "max_active"}, s["line"]


# ---- 4. persistence ---------------------------------------------------------------------------


def test_the_limit_survives_a_restart_and_a_compaction(clock_srv):
    srv = clock_srv
    room = srv.create_room(admission=adaptive(200, 600), **QUIET)
    join(srv, room, 50)
    post_signals(srv, room, p95_ms=100, max_age_s=60)
    srv.advance_clock(3000)
    post_signals(srv, room, p95_ms=500, max_age_s=60)
    srv.advance_clock(1000)
    s = adaptive_stats(srv, room)
    limit, serving = s["adaptive"]["limit"], s["serving"]
    assert limit is not None

    def still_limited(why):
        s = adaptive_stats(srv, room)
        assert s["adaptive"]["limit"] == limit, (why, s["adaptive"])
        assert s["adaptive"]["signals"]["posted"] is None, "signals are this process's memory"
        srv.advance_clock(3000)
        s = adaptive_stats(srv, room)
        assert s["serving"] == serving and s["line"]["reason"] == "site_health", (why, s)

    srv.restart()
    still_limited("log replay")
    r = srv.post("/admin/v1/compact", admin=True)
    assert r.status_code == 200, describe(r)
    srv.restart()
    still_limited("snapshot")


# ---- 5. a simulated shop behind the built-in proxy ---------------------------------------------

SHOP_ROOM = "shop"
SIM_TARGET_MS = 160
SIM_SESSION_S = 10
SIM_CAPACITY = 20
# (from second, capacity): normal, halved, doubled back.
SIM_PHASES = [(0, SIM_CAPACITY), (90, SIM_CAPACITY // 2), (130, SIM_CAPACITY)]
SIM_SECONDS = 170
BAND = 0.15


def shop_config(port):
    return ("keep_events = true\n" + DEFAULT_CONFIG + f"""
[rooms.{SHOP_ROOM}]
target_url = "https://shop.example/"

[[routes]]
path_prefix = "/shop/"
upstream = "http://127.0.0.1:{port}/"
room = "{SHOP_ROOM}"

[testing]
manual_clock = true
""")


class Visitors:
    """The shop's visitors: joins to keep the line long, claims passes as turns come, runs each
    session's requests through the proxy and ends sessions after SIM_SESSION_S."""

    def __init__(self, srv, room, pool):
        self.srv, self.room, self.pool = srv, room, pool
        self.queue = []  # (position, ticket) not admitted yet, in order
        self.sessions = []  # [ticket, token, started_s]
        self.local = threading.local()
        self.statuses = {}
        self.lock = threading.Lock()
        self.n = 0

    def top_up(self, waiting):
        while len(self.queue) < waiting:
            t = self.srv.enqueue_ok(self.room)
            self.queue.append((t["position"], t["ticket"]))

    def claim(self, serving, now_s):
        while self.queue and self.queue[0][0] <= serving:
            _, ticket = self.queue.pop(0)
            r = self.srv.pass_for(self.room, ticket)
            assert r.status_code == 200, describe(r)
            self.sessions.append([ticket, r.json()["pass"], now_s])

    def end_sessions(self, now_s):
        keep = []
        for s in self.sessions:
            if now_s - s[2] >= SIM_SESSION_S:
                r = self.srv.set_session(self.room, s[0], "completed")
                assert r.status_code == 200, describe(r)
            else:
                keep.append(s)
        self.sessions = keep

    def _visit(self, token, pages):
        sess = getattr(self.local, "s", None)
        if sess is None:
            sess = self.local.s = new_session()
        out = []
        for _ in range(pages):
            with self.lock:
                self.n += 1
                i = self.n
            r = sess.get(self.srv.url(f"/shop/product/{i}"), timeout=30,
                         headers={"Cookie": f"waitroom_pass_{self.room}={token}"})
            out.append(r.status_code)
        return out

    def browse(self):
        """Every session's 1-2 pages, sessions at once; the answers' statuses."""
        jobs = [self.pool.submit(self._visit, s[1], 1 + (int(s[0][:8], 16) + self.n) % 2)
                for s in self.sessions]
        statuses = []
        for j in jobs:
            statuses += j.result()
        return statuses


def capacity_at(t):
    return [c for start, c in SIM_PHASES if start <= t][-1]


def block_medians(trace, start, end, step=10):
    """The median proxy p95 of each `step`-second block in [start, end)."""
    out = []
    for b in range(start, end, step):
        vals = [x["p95_ms"] for x in trace if b <= x["t"] < b + step and x["p95_ms"] is not None]
        out.append((b, statistics.median(vals) if vals else None))
    return out


def in_band(v):
    return v is not None and abs(v - SIM_TARGET_MS) <= BAND * SIM_TARGET_MS


def write_trace(tmp_path, trace, events, params):
    doc = {"params": params, "seconds": trace, "events": events}
    text = json.dumps(doc, indent=1)
    (tmp_path / "adaptive-trace.json").write_text(text)
    out = os.environ.get("ADAPTIVE_TRACE_OUT")
    if out:
        Path(out).write_text(text)


def trace_table(trace, rows=None):
    lines = ["   t   C limit held  adm   p95  err%  n"]
    for x in trace if rows is None else rows:
        p95 = "  -  " if x["p95_ms"] is None else f"{x['p95_ms']:5.0f}"
        err = "  -  " if x["error_ratio"] is None else f"{100 * x['error_ratio']:5.1f}"
        lines.append(f"{x['t']:4d} {x['capacity']:3d} {str(x['limit']):>5} {x['held']:4d} "
                     f"{x['admitted']:4d} {p95} {err} {x['samples']:3d}")
    return "\n".join(lines)


def test_the_controller_holds_a_simulated_shop_near_its_p95_target(server_factory, tmp_path):
    shop = ShopProcess(base_ms=40, capacity=SIM_CAPACITY, jitter=0.25, seed=7)
    pool = ThreadPoolExecutor(max_workers=64)
    try:
        srv = server_factory(config_text=shop_config(shop.port), name="waitroom-adaptive-sim")
        r = srv.put(f"/admin/v1/rooms/{SHOP_ROOM}", admin=True,
                    json={"admission": adaptive(SIM_TARGET_MS, 600), **QUIET})
        assert r.status_code in (200, 201), describe(r)
        visitors = Visitors(srv, SHOP_ROOM, pool)
        trace, started, serving = [], time.monotonic(), 0
        for t in range(1, SIM_SECONDS + 1):
            capacity = capacity_at(t)
            visitors.end_sessions(t)
            visitors.top_up(60)
            srv.advance_clock(1000)
            s = adaptive_stats(srv, SHOP_ROOM)
            visitors.claim(s["serving"], t)
            shop.control(sessions=len(visitors.sessions), capacity=capacity)
            statuses = visitors.browse()
            proxy = get_signals(srv, SHOP_ROOM)["proxy"]
            trace.append({"t": t, "capacity": capacity, "limit": s["adaptive"]["limit"],
                          "held": len(visitors.sessions), "admitted": s["serving"] - serving,
                          "p50_ms": proxy["p50_ms"], "p95_ms": proxy["p95_ms"],
                          "error_ratio": proxy["error_ratio"], "samples": proxy["samples"],
                          "requests": len(statuses),
                          "failed": sum(1 for c in statuses if c >= 500),
                          "wall_s": round(time.monotonic() - started, 2)})
            serving = s["serving"]
            assert all(c in (200, 503) for c in statuses), statuses
        events = adjusted_now(srv, SHOP_ROOM)
        state = shop.state()
    finally:
        pool.shutdown(wait=True)
        shop.close()
    params = {"target_p95_ms": SIM_TARGET_MS, "band": BAND, "session_s": SIM_SESSION_S,
              "max_per_minute": 600, "base_ms": 40, "phases": SIM_PHASES, "max_error_ratio": 0.02}
    write_trace(tmp_path, trace, events, params)
    table = trace_table(trace)

    # Every request went through the proxy with a visitor's pass.
    assert state["with_ticket"] == state["requests"] > 0, state
    # The first breach sets a limit (none before it), and the line then holds at it.
    first = next(i for i, x in enumerate(trace) if x["limit"] is not None)
    assert first < 20 and all(x["limit"] is None for x in trace[:first]), table
    assert events[0]["old_limit"] is None and events[0]["reason"] in ("latency", "errors"), events[0]
    halved = SIM_PHASES[1][0]
    # The proxy times the shop in real time, so a machine busy with other suites (make test runs
    # them in parallel) adds its own delay to every request: the p95's band is a timing goal,
    # checked where timing goals live (make bench sets WAITROOM_TIMING=1; bench/run's adaptive
    # row). What holds on any machine: the limit falls when the shop's capacity is halved, as long
    # as it was above what the halved shop holds (a machine busy enough to hold it near its floor
    # already leaves the halving nothing to take away: seen once, the limit at 3 at the halving).
    if os.environ.get("WAITROOM_TIMING") == "1":
        # From second 60 to the halving, each 10 s block's median p95 is within ±15 % of the
        # target.
        steady = block_medians(trace, 60, halved)
        assert all(in_band(m) for _, m in steady), f"block medians {steady}\n{table}"
        # After the halving the p95 is back in the band within 30 s: the median of a 10 s block
        # that ends by then (the overload's first 10 s aside) is within ±15 % of the target.
        back = block_medians(trace, halved + 10, halved + 30)
        assert any(in_band(m) for _, m in back), f"block medians {back}\n{table}"
    before = next(x["limit"] for x in trace if x["t"] == halved)
    after = min(x["limit"] for x in trace if halved < x["t"] <= halved + 30)
    if before > SIM_PHASES[1][1]:
        assert after < before, \
            f"limit {before} at the halving, {after} at least in the 30 s after\n{table}"
    # After the doubling the limit grows.
    doubled = SIM_PHASES[2][0]
    at = next(x["limit"] for x in trace if x["t"] == doubled)
    peak = max(x["limit"] for x in trace if doubled < x["t"] <= doubled + 30)
    # It grows while the shop answers healthily (p95 under 0.9 of the target): on a machine busy
    # enough that even the floor's few visitors see a slow shop, it rightly holds (seen once in
    # CI: the limit at 1 through the doubling). A loaded machine can also have pressed the limit
    # down to 1 before the doubling: one visitor's requests are then all the shop sees, too few a
    # second for the health window to judge by, and unknown signals hold the limit (seen once in
    # CI: 40 s at 1 with the shop's p95 at 50-125 ms).
    healthy = sum(1 for x in trace if doubled < x["t"] <= doubled + 30 and x["p95_ms"]
                  and x["p95_ms"] < 0.9 * SIM_TARGET_MS)
    if healthy >= 10 and at >= 3:
        assert peak >= at + 5, \
            f"limit {at} at the doubling, at most {peak} in the 30 s after\n{table}"
    # Errors: after the first breach, under max_error_ratio in most seconds (the halving's
    # overload aside: it lasts until the sessions admitted before it end).
    later = [x for x in trace[first + 10:] if x["error_ratio"] is not None
             and not halved <= x["t"] < halved + SIM_SESSION_S]
    ok = sum(1 for x in later if x["error_ratio"] <= 0.02)
    assert ok >= 0.8 * len(later), f"{ok} of {len(later)} seconds under 2 % errors\n{table}"
