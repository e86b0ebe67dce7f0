"""max_active: 64 concurrent clients racing for passes never push active sessions
above the cap.

64 visitor threads each hold one ticket at a time: they poll it and race for its
pass (also blindly, before it is eligible). A pass they get is handed to 4 "ender"
threads that end the session after a moment (completed / abandoned / revoked)
while the clock keeps moving in 100 ms steps and a monitor reads the stats.

Checked all along:
- passes held (200s seen minus ends *started* by the test) <= cap. The count can only
  be lower than the server's own (a 200 is counted after it was issued, an end before
  it is sent), so a count above the cap is the server's overshoot;
- stats.active_sessions + stats.eligible <= cap at every sample;
- at the end, stats.passes_issued equals the 200s seen and every session ended.
"""

import queue
import random
import threading
import time

from conflib import CLOCK_PATH, FastClient, expect, make_room, run_threads

CAP = 10
VISITORS = 64
ENDERS = 4
RUN_S = 15.0
END_STATUSES = ("completed", "abandoned", "revoked")


def test_max_active_cap_never_exceeded_under_racing_clients(clock_server):
    srv = clock_server
    room = make_room(srv, admission={"mode": "max_active", "max_active": CAP},
                     ticket_idle_timeout_s=0, claim_timeout_s=0, pass_lifetime_s=604800)

    lock = threading.Lock()
    state = {"held": 0, "max_held": 0, "issued": 0, "ended": 0, "races_409": 0,
             "samples": 0, "max_stats": 0, "steps": 0}
    violations = []
    issued_tickets = set()
    to_end = queue.Queue()
    stop = threading.Event()
    visitors_done = threading.Event()
    errors = []

    def visitor():
        c = FastClient(srv)
        rnd = random.Random()
        while not stop.is_set():
            t = expect(c.enqueue(room), 201)
            tid = t["ticket"]
            assert t["status"] in ("waiting", "eligible"), t
            n = 0
            while not stop.is_set():
                n += 1
                if n % 3 != 1:
                    g = c.ticket(room, tid)
                    st = expect(g, 200)["status"]
                    if st == "waiting":
                        time.sleep(rnd.uniform(0.001, 0.004))
                        continue
                    assert st == "eligible", f"a ticket without a pass is {st!r}" + g.describe()
                r = c.pass_for(room, tid)  # every third try races blindly
                if r.status == 409:
                    with lock:
                        state["races_409"] += 1
                    time.sleep(rnd.uniform(0.001, 0.004))
                    continue
                expect(r, 200)
                with lock:
                    assert tid not in issued_tickets
                    issued_tickets.add(tid)
                    state["issued"] += 1
                    state["held"] += 1
                    state["max_held"] = max(state["max_held"], state["held"])
                    if state["held"] > CAP:
                        violations.append(f"{state['held']} passes held (cap {CAP}) after issue "
                                          f"#{state['issued']} to {tid}")
                to_end.put(tid)
                break
        c.close()

    def ender():
        c = FastClient(srv)
        rnd = random.Random()
        while True:
            try:
                tid = to_end.get(timeout=0.05)
            except queue.Empty:
                if visitors_done.is_set():
                    break
                continue
            if not visitors_done.is_set():
                time.sleep(rnd.uniform(0.0, 0.03))  # hold the session a moment
            status = rnd.choice(END_STATUSES)
            with lock:
                state["held"] -= 1  # before the server frees it: the count stays a lower bound
            r = c.request("PUT", f"/admin/v1/rooms/{room}/sessions/{tid}",
                          body={"status": status}, admin=True)
            expect(r, 200)
            with lock:
                state["ended"] += 1
        c.close()

    def clock():
        c = FastClient(srv, timeout=60)
        while not stop.is_set():
            expect(c.request("POST", CLOCK_PATH, body={"advance_ms": 100}, admin=True), 200)
            with lock:
                state["steps"] += 1
            time.sleep(0.005)
        c.close()

    def monitor():
        c = FastClient(srv)
        while not stop.is_set():
            r = c.request("GET", f"/admin/v1/rooms/{room}/stats", admin=True)
            s = expect(r, 200)
            used = s["active_sessions"] + s["eligible"]
            with lock:
                state["samples"] += 1
                state["max_stats"] = max(state["max_stats"], used)
            if used > CAP:
                violations.append(f"stats: active_sessions={s['active_sessions']} + "
                                  f"eligible={s['eligible']} > cap {CAP}: {s}")
            time.sleep(0.002)
        c.close()

    vis = run_threads([visitor] * VISITORS, errors)
    end = run_threads([ender] * ENDERS, errors)
    bg = run_threads([clock, monitor], errors)
    deadline = time.monotonic() + RUN_S
    while time.monotonic() < deadline and not errors and len(violations) < 5:
        time.sleep(0.1)
    stop.set()
    for t in vis:
        t.join(30)
    visitors_done.set()
    for t in end + bg:
        t.join(30)

    assert not errors, f"{len(errors)} client thread(s) failed; first: {errors[0]!r}"
    assert not violations, f"cap {CAP} exceeded:\n" + "\n".join(violations[:10])
    assert state["issued"] >= 5 * CAP, (f"only {state['issued']} passes issued in {RUN_S}s "
                                        f"({state}): too little traffic to test the cap")
    assert state["max_stats"] == CAP, (f"active_sessions + eligible never reached the cap {CAP} "
                                       f"(max seen {state['max_stats']}) with {VISITORS} clients "
                                       f"waiting: {state}")
    assert state["ended"] == state["issued"], state

    s = srv.stats(room)
    assert s["passes_issued"] == state["issued"], (
        f"stats.passes_issued={s['passes_issued']} but the clients got {state['issued']} passes")
    assert s["active_sessions"] == 0, f"every session was ended, yet {s}"
    assert s["completed"] + s["abandoned"] + s["revoked"] == state["ended"], (
        f"{state['ended']} sessions ended through the admin API: {s}")
    assert s["eligible"] <= CAP, s
    print(f"max_active: {state}")
