"""Admission settings through PUT /admin/v1/rooms/{room}: defaults, merging,
bad input refused with a problem+json naming the field (old settings stay in force),
live changes effective within one driver step, durability across a restart; and the
test clock itself (404 when off, refused on a non-loopback listen address).
"""

import os
import re
import subprocess
import time

import pytest

from conflib import (CLOCK_PATH, TESTING_CONFIG, admissions, clock_advance, enqueue_many, make_room,
                     now_ms, parse_rfc3339, rfc3339, set_room)

from wrlib import assert_problem, binary_path, describe, free_port, unique_room

DEFAULT_ADMISSION = {"mode": "manual", "rate_per_minute": None, "max_active": None,
                     "total_active": None, "new_per_minute": None, "target_p95_ms": None,
                     "max_error_ratio": None, "min_per_minute": None, "max_per_minute": None,
                     "compensate_no_shows": False, "start": None, "end": None}
DEFAULTS = {"admission": DEFAULT_ADMISSION, "queueing": "fifo", "state": "open",
            "ticket_idle_timeout_s": 300, "claim_timeout_s": 900, "recycle_unclaimed": False,
            "reserve_per_session": 0}

START = "2026-12-01T10:00:00Z"
EARLIER = "2026-12-01T09:00:00Z"


def same_settings(got, want):
    """Compare settings; RFC 3339 times by instant (any spelling of the offset)."""
    for k, v in want.items():
        if k == "admission":
            for ak, av in v.items():
                g = got["admission"].get(ak, "absent")
                if ak in ("start", "end") and isinstance(av, str) and isinstance(g, str):
                    if parse_rfc3339(av) != parse_rfc3339(g):
                        return f"admission.{ak}: {g!r} != {av!r}"
                elif g != av or type(g) is not type(av):
                    return f"admission.{ak}: {g!r} != {av!r}"
        elif got.get(k, "absent") != v or type(got.get(k)) is not type(v):
            return f"{k}: {got.get(k, 'absent')!r} != {v!r}"
    return None


def test_defaults_are_listed_in_full(clock_server):
    srv = clock_server
    room = make_room(srv)
    got = srv.admin_room(room)
    diff = same_settings(got, DEFAULTS)
    assert diff is None, f"default settings: {diff}\n{got}"
    assert list(got["admission"]) and set(got["admission"]) == set(DEFAULT_ADMISSION), (
        f"admission must always be the full object, nulls included: {got['admission']}")


def test_admission_object_is_merged_key_by_key(clock_server):
    srv = clock_server
    room = make_room(srv, admission={"mode": "rate", "rate_per_minute": 600})
    body = set_room(srv, room, admission={"max_active": 5})
    want = dict(DEFAULT_ADMISSION, mode="rate", rate_per_minute=600, max_active=5)
    assert same_settings(body, {"admission": want}) is None, f"PUT answer after merge: {body['admission']}"
    set_room(srv, room, admission={"start": START, "end": None}, queueing="random",
             state="queue_all", ticket_idle_timeout_s=0, claim_timeout_s=120, recycle_unclaimed=True)
    got = srv.admin_room(room)
    want = {"admission": dict(want, start=START), "queueing": "random", "state": "queue_all",
            "ticket_idle_timeout_s": 0, "claim_timeout_s": 120, "recycle_unclaimed": True}
    diff = same_settings(got, want)
    assert diff is None, f"{diff}\n{got}"
    # null clears an optional value
    set_room(srv, room, admission={"start": None, "max_active": None})
    got = srv.admin_room(room)["admission"]
    assert got["start"] is None and got["max_active"] is None and got["rate_per_minute"] == 600, got


# (body, field(s) the problem's detail may name, also bad for a new default room?).
# Applied to a room in rate mode (rate 600, max_active 7, claim_timeout_s 120).
BAD = [
    ({"admission": {"mode": "lottery"}}, "mode", True),
    ({"admission": {"mode": 1}}, "mode", True),
    ({"admission": {"mode": None}}, "mode", True),
    ({"queueing": "lifo"}, "queueing", True),
    ({"queueing": 2}, "queueing", True),
    ({"state": "closed"}, "state", True),
    ({"state": None}, "state", True),
    ({"admission": "rate"}, "admission", True),
    ({"admission": {"colour": "red"}}, "colour", True),
    ({"admission": {"max_active": -1}}, "max_active", True),
    ({"admission": {"mode": "max_active", "max_active": -5}}, "max_active", True),
    ({"admission": {"mode": "max_active", "max_active": None}}, "max_active", True),
    ({"admission": {"mode": "capacity", "total_active": -1, "new_per_minute": 0}}, "total_active", True),
    ({"admission": {"mode": "capacity", "total_active": 10, "new_per_minute": -1}}, "new_per_minute", True),
    ({"admission": {"mode": "capacity", "total_active": 10, "new_per_minute": 11}}, "new_per_minute", True),
    ({"admission": {"mode": "capacity", "total_active": 10}}, "new_per_minute", True),
    ({"admission": {"mode": "capacity", "new_per_minute": 10}}, "total_active", True),
    ({"admission": {"rate_per_minute": None}}, "rate_per_minute", False),
    ({"admission": {"rate_per_minute": 0}}, "rate_per_minute", False),
    ({"admission": {"rate_per_minute": -600}}, "rate_per_minute", False),
    ({"admission": {"rate_per_minute": 6_000_001}}, "rate_per_minute", False),
    ({"admission": {"rate_per_minute": "600"}}, "rate_per_minute", True),
    ({"admission": {"rate_per_minute": 600.5}}, "rate_per_minute", True),
    ({"admission": {"rate_per_minute": True}}, "rate_per_minute", True),
    ({"admission": {"start": START, "end": EARLIER}}, ("end", "start"), True),
    ({"admission": {"start": START, "end": START}}, ("end", "start"), True),
    ({"admission": {"start": "tomorrow"}}, "start", True),
    ({"admission": {"end": 1767261600}}, "end", True),
    ({"ticket_idle_timeout_s": -1}, "ticket_idle_timeout_s", True),
    ({"ticket_idle_timeout_s": "300"}, "ticket_idle_timeout_s", True),
    ({"ticket_idle_timeout_s": 1.5}, "ticket_idle_timeout_s", True),
    ({"claim_timeout_s": -1}, "claim_timeout_s", True),
    ({"claim_timeout_s": None}, "claim_timeout_s", True),
    ({"recycle_unclaimed": "yes"}, "recycle_unclaimed", True),
    ({"recycle_unclaimed": 1}, "recycle_unclaimed", True),
    # one bad field spoils the whole PUT: the good one is not applied either
    ({"queueing": "random", "admission": {"mode": "bogus"}}, "mode", True),
    ({"admission": {"max_active": 3, "rate_per_minute": 0}}, "rate_per_minute", False),
]


def names_field(detail, fields):
    fields = (fields,) if isinstance(fields, str) else fields
    return any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(f)}(?![A-Za-z0-9_])", detail)
               for f in fields)


@pytest.mark.parametrize("body,field,standalone", BAD, ids=[repr(b) for b, _, _ in BAD])
def test_bad_settings_refused_naming_the_field(clock_server, body, field, standalone):
    srv = clock_server
    room = make_room(srv, admission={"mode": "rate", "rate_per_minute": 600, "max_active": 7},
                     claim_timeout_s=120)
    before = srv.admin_room(room)
    r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json=body)
    problem = assert_problem(r, 400)
    assert names_field(problem["detail"], field), (
        f"the problem's detail must name the field {field!r}" + describe(r))
    after = srv.admin_room(room)
    assert after == before, f"a refused PUT changed the room:\nbefore {before}\nafter  {after}"

    if standalone:  # a new room with a bad body is not created
        fresh = unique_room()
        r = srv.put(f"/admin/v1/rooms/{fresh}", admin=True, json=body)
        assert_problem(r, 400)
        assert_problem(srv.get(f"/admin/v1/rooms/{fresh}", admin=True), 404)


def test_rate_mode_needs_rate_per_minute(clock_server):
    srv = clock_server
    room = make_room(srv)  # manual, no rate
    before = srv.admin_room(room)
    r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"admission": {"mode": "rate"}})
    problem = assert_problem(r, 400)
    assert "rate_per_minute" in problem["detail"], describe(r)
    assert srv.admin_room(room) == before
    # ... and new_per_minute may equal total_active
    set_room(srv, room, admission={"mode": "capacity", "total_active": 10, "new_per_minute": 10})


def test_policy_change_takes_effect_within_one_driver_step(clock_server):
    srv = clock_server
    room = make_room(srv, ticket_idle_timeout_s=0, claim_timeout_s=0)
    enqueue_many(srv, room, 40, threads=2)
    clock_advance(srv, 1_000)
    assert srv.stats(room)["admitted"] == 0, "manual mode admitted on its own"

    set_room(srv, room, admission={"mode": "rate", "rate_per_minute": 600})
    clock_advance(srv, 100)
    n1 = srv.stats(room)["admitted"]
    assert n1 >= 1, "rate mode set, but one 100 ms driver step admitted nobody"

    set_room(srv, room, state="paused")
    clock_advance(srv, 100)
    n2 = srv.stats(room)["admitted"]
    assert n2 == n1, f"paused, yet one step later {n2 - n1} more were admitted"
    clock_advance(srv, 1_000)
    assert srv.stats(room)["admitted"] == n1, "paused room admitted"

    set_room(srv, room, state="open")
    clock_advance(srv, 100)
    n3 = srv.stats(room)["admitted"]
    assert n3 > n1, "resumed (state open), but one driver step admitted nobody"

    set_room(srv, room, admission={"mode": "manual"})
    clock_advance(srv, 100)
    n4 = srv.stats(room)["admitted"]
    clock_advance(srv, 1_000)
    assert srv.stats(room)["admitted"] == n4, "back to manual, yet the driver kept admitting"

    set_room(srv, room, admission={"mode": "rate", "rate_per_minute": 60_000})  # 100 per step
    clock_advance(srv, 100)
    n5 = srv.stats(room)["admitted"]
    assert n5 == 40, f"rate raised to 1000/s with {40 - n4} waiting: one step should admit them all, admitted {n5 - n4}"
    log = admissions(srv, room)
    assert [a["position"] for a in log] == list(range(1, 41)), log[:5]


def test_settings_survive_restart(fresh_clock_server):
    srv = fresh_clock_server
    room = make_room(srv, admission={"mode": "capacity", "total_active": 40, "new_per_minute": 30,
                                     "start": START},
                     queueing="random", state="queue_all", ticket_idle_timeout_s=45,
                     claim_timeout_s=0, recycle_unclaimed=True)
    set_room(srv, room, admission={"end": "2026-12-01T12:00:00Z"})
    set_room(srv, "demo", admission={"mode": "rate", "rate_per_minute": 90}, state="paused")
    before = srv.admin_room(room)
    before_demo = srv.admin_room("demo")
    srv.restart()
    for name, b in ((room, before), ("demo", before_demo)):
        after = srv.admin_room(name)
        keys = ("admission", "queueing", "state", "ticket_idle_timeout_s", "claim_timeout_s",
                "recycle_unclaimed")
        diff = same_settings(after, {k: b[k] for k in keys})
        assert diff is None, f"room {name} after restart: {diff}\nbefore {b}\nafter  {after}"
    assert before["admission"]["mode"] == "capacity" and before["queueing"] == "random", before


# ---- the test clock -----------------------------------------------------------------------------

def test_clock_moves_in_steps_and_reports_now(clock_server):
    srv = clock_server
    a = now_ms(srv)
    time.sleep(0.3)
    assert now_ms(srv) == a, "the manual clock moved on its own"
    assert clock_advance(srv, 1_500) == a + 1_500
    for body in ({"advance_ms": 0}, {"advance_ms": -100}, {"advance_ms": 86_400_001},
                 {"advance_ms": "100"}, {"advance_ms": 1.5}, {}, {"by": 100}):
        r = srv.post(CLOCK_PATH, admin=True, json=body)
        assert_problem(r, 400)
    assert now_ms(srv) == a + 1_500, "a refused clock move moved the clock"
    r = srv.get(CLOCK_PATH)
    assert_problem(r, 401)
    r = srv.post(CLOCK_PATH, json={"advance_ms": 100})
    assert_problem(r, 401)
    assert now_ms(srv) == a + 1_500


def test_clock_starts_at_real_time(clock_server):
    # (other tests in this module moved it: only check it is a plausible unix time in ms)
    n = now_ms(clock_server)
    assert abs(n / 1000 - time.time()) < 30 * 86400, f"now_ms={n} is not near the real time"


def test_clock_routes_404_without_manual_clock(server_factory):
    srv = server_factory(name="waitroom-noclock")  # the default config: no [testing]
    assert_problem(srv.get(CLOCK_PATH, admin=True), 404)
    assert_problem(srv.post(CLOCK_PATH, admin=True, json={"advance_ms": 100}), 404)


def test_manual_clock_refused_on_non_loopback_listen(tmp_path):
    binary = binary_path()
    if not binary.exists():
        pytest.fail(f"waitroom binary not found at {binary}", pytrace=False)
    cfg = tmp_path / "waitroom.toml"
    cfg.write_text(TESTING_CONFIG)
    data = tmp_path / "data"
    data.mkdir()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAITROOM_")}
    env.update(WAITROOM_ADMIN_KEY="k" * 43, ASAN_OPTIONS="detect_leaks=0")
    proc = subprocess.Popen([str(binary), "serve", "--listen", f"0.0.0.0:{port}",
                             "--data-dir", str(data), "--config", str(cfg)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail("waitroom started with [testing] manual_clock = true on --listen 0.0.0.0 "
                    "(it must refuse: the test clock is for loopback only)\n"
                    + out.decode(errors="replace")[-2000:], pytrace=False)
    text = out.decode(errors="replace")
    assert proc.returncode != 0, f"exit code 0 with manual_clock on 0.0.0.0:\n{text[-2000:]}"
    assert "manual_clock" in text, f"the refusal must mention manual_clock:\n{text[-2000:]}"


def test_manual_clock_loopback_listen_starts(server_factory):
    # the positive case, through the same harness every other test uses
    srv = server_factory(config_text=TESTING_CONFIG, name="waitroom-loopback")
    assert isinstance(now_ms(srv), int)


def test_rfc3339_helper_roundtrip():
    # guards the helpers the other tests build times with
    assert rfc3339(parse_rfc3339(START)) == START
