"""Compaction of the embedded log (issue 18; docs/operations.md, "Compaction"): every room's
snapshot replaces the records that built it. The log shrinks, a restart finds every room, ticket,
pass and counter as it was, and a kill -9 at any moment of a compaction loses nothing acknowledged
and no published draw.

`make test` runs WAITROOM_KILL_ROUNDS rounds of the kill test (default 5); `make soak` runs 20.
"""

import os
import re
import threading
import time

from datetime import datetime, timezone

import requests

from test_crash import kill_under_load, verify, writer
from wrlib import DEFAULT_CONFIG, REQUEST_TIMEOUT_S, Server, assert_json, describe, new_session, unique_room

ROUNDS = int(os.environ.get("WAITROOM_KILL_ROUNDS", "5"))


def compact(srv):
    return assert_json(srv.post("/admin/v1/compact", admin=True, timeout=60), 200)


def log_bytes(srv):
    """The log's logical size (its records; the file runs on with zero-filled space)."""
    return int(re.search(r"^waitroom_log_bytes (\d+)$", srv.get("/metrics").text, re.M).group(1))


def ticket_states(srv, room, tickets):
    out = {}
    for t in tickets:
        r = srv.ticket(room, t)
        assert r.status_code == 200, describe(r)
        body = r.json()
        out[t] = (body["position"], body["status"])
    return out


def comparable_stats(srv, room):
    stats = srv.stats(room)
    # The waits are derived, kept in memory like the estimate's pace: a restart keeps only the
    # admissions replayed after the snapshot (docs/admission.md).
    return {k: v for k, v in stats.items()
            if not k.startswith("eta") and k not in ("now_ms", "waited")}


def test_compaction_keeps_every_room_as_it_was_and_the_log_shrinks(fresh_server):
    srv = fresh_server
    sale = srv.create_room(unique_room("sale"), admission={"mode": "manual"}, pass_lifetime_s=3600)
    tickets = [srv.enqueue_ok(sale)["ticket"] for _ in range(120)]
    srv.advance(sale, by=60)
    passes = {}
    for t in tickets[:30]:
        r = srv.pass_for(sale, t)
        assert r.status_code == 200, describe(r)
        passes[t] = r.json()["pass"]
    for t in tickets[:10]:
        assert srv.set_session(sale, t, "completed").status_code == 200
    # A room whose old epoch is all history, and a room that is gone.
    again = srv.create_room(unique_room("again"), admission={"mode": "manual"})
    old = [srv.enqueue_ok(again)["ticket"] for _ in range(50)]
    assert_json(srv.post(f"/admin/v1/rooms/{again}/reset", admin=True), 200)
    fresh = [srv.enqueue_ok(again)["ticket"] for _ in range(5)]
    gone = srv.create_room(unique_room("gone"))
    gone_ticket = srv.enqueue_ok(gone)["ticket"]
    assert srv.delete(f"/admin/v1/rooms/{gone}", admin=True).status_code == 204

    before = {"sale": comparable_stats(srv, sale), "again": comparable_stats(srv, again),
              "tickets": ticket_states(srv, sale, tickets), "fresh": ticket_states(srv, again, fresh)}
    report = compact(srv)
    assert report["bytes_after"] < report["bytes_before"], report
    assert report["records_after"] < report["records_before"], report
    assert report["rooms"] >= 4, report  # demo, legacy, sale, again, gone (a name and its epoch)
    assert log_bytes(srv) >= report["bytes_after"]

    for restarted in (False, True):
        if restarted:
            srv.restart()
        assert comparable_stats(srv, sale) == before["sale"]
        assert comparable_stats(srv, again) == before["again"]
        assert ticket_states(srv, sale, tickets) == before["tickets"]
        assert ticket_states(srv, again, fresh) == before["fresh"]
        for t, token in passes.items():
            r = srv.pass_for(sale, t)
            if t in tickets[:10]:
                assert r.status_code == 410, describe(r)  # its session was completed
            else:
                assert r.status_code == 200 and r.json()["pass"] == token, describe(r)
        # The old epoch's tickets stay refused, and so does the deleted room's.
        assert srv.ticket(again, old[0]).status_code in (404, 410)
        assert srv.ticket(gone, gone_ticket).status_code == 404
    # A room made again under the deleted one's name does not take its old ticket.
    srv.create_room(gone)
    assert srv.ticket(gone, gone_ticket).status_code in (404, 410)
    # The log goes on after the compaction: a new visitor, then another restart.
    late = srv.enqueue_ok(sale)
    srv.restart()
    assert srv.ticket(sale, late["ticket"]).json()["position"] == late["position"]


def test_the_log_compacts_by_itself_once_it_grew_by_compact_after_mb():
    srv = Server(config_text="compact_after_mb = 1\n" + DEFAULT_CONFIG, name="waitroom-compact").start()
    try:
        room = srv.create_room(unique_room("big"), admission={"mode": "manual"})
        # Each settings change logs the room's whole settings: a quick way to grow the log. The
        # writing stops once the log passed 1 MiB, so what the compaction keeps is small whenever
        # it runs (writing on could grow the log back to nearly 1 MiB after an early compaction).
        session = new_session()
        last = None
        for i in range(2000):
            last = f"https://shop.example/{i:04d}/" + "y" * 2000
            r = session.put(srv.url(f"/admin/v1/rooms/{room}"), headers=srv.admin_headers,
                            json={"target_url": last}, timeout=REQUEST_TIMEOUT_S)
            assert r.status_code == 200, describe(r)
            if i % 20 == 19 and log_bytes(srv) >= 1 << 20:
                break
        else:
            raise AssertionError("2,000 settings changes did not grow the log by 1 MiB")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            metrics = srv.get("/metrics").text
            m = re.search(r'^waitroom_compactions_total\{result="ok"\} (\d+)$', metrics, re.M)
            if m and int(m.group(1)) >= 1:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("no compaction within 30 s of the log growing by 1 MiB:\n" + srv.log_tail())
        assert "compacted the log" in srv.log_text()
        assert log_bytes(srv) < 256 << 10
        srv.restart()
        assert srv.admin_room(room)["target_url"] == last
    finally:
        srv.stop()


def test_a_compaction_left_half_written_is_ignored_and_removed(fresh_server):
    srv = fresh_server
    room = srv.create_room(unique_room("keep"), admission={"mode": "manual"})
    t = srv.enqueue_ok(room)
    srv.kill9()
    leftover = srv.data_dir / "waitroom.log.compacting"
    leftover.write_bytes(b"\x10\x00\x00\x00garbage-of-a-compaction-cut-short")
    srv.start()
    assert not leftover.exists()
    assert srv.ticket(room, t["ticket"]).json()["position"] == t["position"]


def compacter(srv, stop_at, reports, lock):
    """Asks for compactions back to back until stop_at."""
    session = new_session()
    while time.monotonic() < stop_at:
        try:
            r = session.post(srv.url("/admin/v1/compact"), headers=srv.admin_headers, timeout=REQUEST_TIMEOUT_S)
            if r.status_code == 200:
                with lock:
                    reports.append(r.json())
        except (requests.RequestException, ValueError):
            session.close()
            session = new_session()
            time.sleep(0.02)
    session.close()


def rfc3339(unix_s):
    return datetime.fromtimestamp(int(unix_s), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def published_draw(srv):
    """A room whose pre-queue was shuffled: its commitment and seed, as published."""
    t0 = int(time.time())
    room = srv.create_room(unique_room("draw"), admission={"mode": "manual"},
                           events=[{"prequeue_start": rfc3339(t0 - 60), "start": rfc3339(t0 + 3)}])

    def draws():
        return srv.get(f"/v1/rooms/{room}/draws").json()["draws"]

    deadline = time.monotonic() + 10
    while not draws() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert draws(), "the pre-queue did not open"
    for _ in range(20):
        srv.enqueue_ok(room)
    while draws()[0]["seed"] is None and time.monotonic() < deadline + 10:
        time.sleep(0.1)
    published = draws()
    # (The start may come before all 20 joined on a loaded machine: the draw is what it is.)
    assert published[0]["seed"] and published[0]["last_position"] >= 1, published
    return room, published


def test_kill9_during_compaction_under_load_loses_nothing_acknowledged(fresh_server):
    srv = fresh_server
    acked, reports = [], []
    lock = threading.Lock()
    run_s = 2.5
    drawn, published = published_draw(srv)
    for round_no in range(1, ROUNDS + 1):
        errors = []
        stop_at = time.monotonic() + run_s
        threads = [threading.Thread(target=writer, args=(srv.base_url, stop_at, acked, errors, lock))
                   for _ in range(4)]
        threads.append(threading.Thread(target=compacter, args=(srv, stop_at, reports, lock)))
        kill_under_load(srv, threads, round_no, run_s, errors, pause_s=(0.8, 2.0))
        positions = [p for _, p in acked]
        assert len(set(positions)) == len(positions), "a position was given to two tickets"
        failures = verify(srv, acked)
        assert not failures, f"round {round_no}: acknowledged tickets lost or moved: " + "\n".join(failures[:5])
        assert srv.room_status("demo")["queue_length"] >= max(positions, default=0)
        # The shuffle's commitment and seed stay as published (every compaction snapshots them).
        assert srv.get(f"/v1/rooms/{drawn}/draws").json()["draws"] == published
    assert reports, "no compaction finished: the test did not exercise compaction"
    print(f"kill -9 during compaction: {ROUNDS} rounds, {len(acked)} tickets, {len(reports)} compactions")
