"""kill -9 under mixed load, round after round: visitors enqueue, poll their status and claim
passes while an operator advances the line. After every restart nothing acknowledged is lost:
every acknowledged ticket is there with its position, no position was given twice, the serving
counter is not below any acknowledged advance, and every acknowledged pass is still the pass the
ticket gets and still opens the gate.

`make test` runs WAITROOM_KILL_ROUNDS rounds (default 5); `make soak` runs 20.
"""

import os
import random
import threading
import time

import requests

from test_crash import kill_under_load, verify, writer
from wrlib import REQUEST_TIMEOUT_S, describe, new_session

ROUNDS = int(os.environ.get("WAITROOM_KILL_ROUNDS", "5"))
ROOM = "demo"
RUN_S = 3.0


def advancer(base_url, admin_headers, stop_at, served, lock):
    """Advances by 3 every 50 ms; records every acknowledged serving counter."""
    session = new_session()
    while time.monotonic() < stop_at:
        try:
            r = session.post(f"{base_url}/admin/v1/rooms/{ROOM}/advance", json={"by": 3},
                             headers=admin_headers, timeout=REQUEST_TIMEOUT_S)
            if r.status_code == 200:
                with lock:
                    served.append(r.json()["serving"])
        except (requests.RequestException, ValueError):
            session.close()
            session = new_session()
        time.sleep(0.05)
    session.close()


def claimer(base_url, stop_at, acked, passes, lock):
    """Polls acknowledged tickets and claims passes for the admitted ones; records every
    acknowledged pass."""
    session = new_session()
    rng = random.Random()
    while time.monotonic() < stop_at:
        with lock:
            if not acked:
                candidate = None
            else:
                candidate = acked[rng.randrange(len(acked))]
        if candidate is None:
            time.sleep(0.01)
            continue
        ticket, _ = candidate
        try:
            s = session.get(f"{base_url}/v1/rooms/{ROOM}/tickets/{ticket}", timeout=REQUEST_TIMEOUT_S)
            if s.status_code == 200 and s.json().get("status") in ("eligible", "admitted"):
                p = session.post(f"{base_url}/v1/rooms/{ROOM}/tickets/{ticket}/pass", timeout=REQUEST_TIMEOUT_S)
                if p.status_code == 200:
                    with lock:
                        passes[ticket] = p.json()["pass"]
        except (requests.RequestException, ValueError):
            session.close()
            session = new_session()
    session.close()


def test_kill9_round_after_round_under_mixed_load_loses_nothing_acknowledged(fresh_server):
    srv = fresh_server
    acked, served, passes = [], [], {}
    lock = threading.Lock()
    log = []
    for round_no in range(1, ROUNDS + 1):
        errors = []
        stop_at = time.monotonic() + RUN_S
        threads = [threading.Thread(target=writer, args=(srv.base_url, stop_at, acked, errors, lock)) for _ in range(4)]
        threads += [threading.Thread(target=claimer, args=(srv.base_url, stop_at, acked, passes, lock)) for _ in range(3)]
        threads.append(threading.Thread(target=advancer, args=(srv.base_url, srv.admin_headers, stop_at, served, lock)))
        kill_under_load(srv, threads, round_no, RUN_S, errors)

        positions = [p for _, p in acked]
        assert len(set(positions)) == len(positions), "a position was given to two tickets"
        failures = verify(srv, acked)
        assert not failures, f"round {round_no}: acknowledged tickets lost or moved: " + "\n".join(failures[:5])
        status = srv.room_status(ROOM)
        if served:
            assert status["serving"] >= max(served), f"round {round_no}: serving {status['serving']} < acknowledged {max(served)}"
        for ticket, token in list(passes.items()):
            again = srv.post(f"/v1/rooms/{ROOM}/tickets/{ticket}/pass")
            assert again.status_code == 200 and again.json()["pass"] == token, f"round {round_no}: pass of {ticket} changed: {describe(again)}"
            gate = srv.get("/gate/v1/check", params={"room": ROOM}, headers={"Authorization": f"Bearer {token}"})
            assert gate.status_code == 204, f"round {round_no}: an acknowledged pass no longer opens the gate: {describe(gate)}"
        log.append((round_no, len(acked), len(served), len(passes)))
    assert passes, "no pass was ever claimed: the test did not exercise passes"
    print(f"kill -9 rounds (round, tickets, advances, passes so far): {log}")
