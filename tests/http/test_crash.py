"""kill -9 during concurrent enqueues (default fsync durability): every
acknowledged ticket survives with its position, no position is handed out
twice, and new tickets continue above every acknowledged position."""

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from wrlib import REQUEST_TIMEOUT_S, describe, new_session

WRITERS = 8
RUN_S = 3.0
KILLS = 3
ROOM = "demo"


def writer(base_url, stop_at, acked, errors, lock):
    """Enqueue until stop_at; record every complete 201 (ticket, position)."""
    session = new_session()
    url = f"{base_url}/v1/rooms/{ROOM}/tickets"
    while time.monotonic() < stop_at:
        try:
            r = session.post(url, timeout=REQUEST_TIMEOUT_S)
        except requests.RequestException:
            # the server is gone (or going): nothing was acknowledged
            session.close()
            session = new_session()
            time.sleep(0.02)
            continue
        if r.status_code == 201:
            try:
                body = r.json()
                item = (body["ticket"], body["position"])
            except ValueError:
                continue  # a truncated body is not an acknowledgement
            with lock:
                acked.append(item)
        else:
            with lock:
                errors.append(f"{r.status_code} {r.text[:200]}")
    session.close()


def kill_under_load(srv, threads, round_no, run_s, errors, pause_s=(1.0, 2.0)):
    """Starts the client threads, kills the server (SIGKILL) a random moment later, waits for the
    clients (every enqueue they saw answered must have been a 201) and starts the server again
    on the same data dir."""
    for t in threads:
        t.start()
    time.sleep(random.uniform(*pause_s))
    assert srv.proc.poll() is None, f"round {round_no}: the server died on its own"
    srv.kill9()
    for t in threads:
        t.join(timeout=run_s + 2 * REQUEST_TIMEOUT_S)
        assert not t.is_alive(), "a client thread is stuck"
    assert not errors, f"non-201 answers to enqueue: {errors[:5]}"
    srv.start()


def verify(srv, acked):
    """Every acknowledged ticket is found with its position. Returns failures."""
    def check(item):
        ticket, position = item
        for _ in range(3):
            try:
                r = srv.session.get(srv.url(f"/v1/rooms/{ROOM}/tickets/{ticket}"),
                                    timeout=REQUEST_TIMEOUT_S)
                break
            except requests.RequestException as e:
                err = e
        else:
            return f"{ticket}: {err!r}"
        if r.status_code != 200:
            return f"{ticket} (position {position}): {r.status_code}{describe(r)}"
        if r.json().get("position") != position:
            return f"{ticket}: position {r.json().get('position')} != acknowledged {position}"
        return None

    # keep-alive pool big enough for the checker threads
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8)
    srv.session.mount("http://", adapter)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return [f for f in pool.map(check, acked) if f]


def test_kill9_during_concurrent_enqueue(fresh_server):
    srv = fresh_server
    acked = []
    lock = threading.Lock()
    rounds = []
    for round_no in range(1, KILLS + 1):
        errors = []
        start = time.monotonic()
        stop_at = start + RUN_S
        threads = [threading.Thread(target=writer, args=(srv.base_url, stop_at, acked, errors, lock))
                   for _ in range(WRITERS)]
        n_before = len(acked)
        for t in threads:
            t.start()
        time.sleep(random.uniform(1.0, 2.0))
        died_by_itself = srv.proc.poll()
        srv.kill9()
        killed_at = time.monotonic() - start
        for t in threads:
            t.join(timeout=RUN_S + 2 * REQUEST_TIMEOUT_S)
            assert not t.is_alive(), "writer thread stuck"
        assert died_by_itself is None, (
            f"round {round_no}: the server died on its own under concurrent enqueues "
            f"(exit code {died_by_itself}) before the kill")
        assert not errors, f"non-201 answers to enqueue: {errors[:5]}"
        rounds.append((round_no, round(killed_at, 2), len(acked) - n_before))
        assert len(acked) > n_before, f"round {round_no}: nothing acknowledged before the kill"

        srv.start()

        tickets = [t for t, _ in acked]
        positions = [p for _, p in acked]
        assert len(set(tickets)) == len(tickets), "one ticket id acknowledged twice"
        dupes = len(positions) - len(set(positions))
        assert dupes == 0, f"{dupes} positions handed out to two tickets"
        failures = verify(srv, acked)
        assert not failures, (f"round {round_no}: {len(failures)}/{len(acked)} acknowledged tickets "
                              f"lost or moved after kill -9; first: " + "\n".join(failures[:5]))

        top = max(positions)
        r = srv.enqueue(ROOM)
        assert r.status_code == 201, describe(r)
        nxt = r.json()
        assert nxt["position"] > top, f"new position {nxt['position']} <= acknowledged {top}"
        acked.append((nxt["ticket"], nxt["position"]))
        status = srv.room_status(ROOM)
        assert status["queue_length"] >= nxt["position"], status
    print(f"crash rounds (round, killed after s, acknowledged): {rounds}; total {len(acked)}")
