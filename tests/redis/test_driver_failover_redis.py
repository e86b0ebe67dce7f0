"""The admission driver's failover on the Redis store (issue 23).

Three nodes on one Redis; the node that drives a `rate` room is killed with SIGKILL again and
again (and started again) while visitors keep joining at the two other nodes. Each time, another
node must take the lease over, and neither the room's admissions nor its joins may stop for
longer than the takeover itself: the dead driver's write lock goes when its lease is taken
(the lease script), not when it expires.

Per failover the test measures, from outside:
- the takeover: from the kill until Redis names another node in the room's lease;
- the admission gap: the longest time between two moves of the serving counter around the kill,
  as a surviving node's room status shows it (polled every 20 ms);
- the join stall: the longest request time of a join sent to a surviving node around the kill.

WAITROOM_FAILOVER_ROUNDS (default 8) sets the number of failovers; the figures are printed
(pytest -s). docs/scaling.md states the figures of a 50-round run on the release build."""

import http.client
import json
import os
import random
import statistics
import threading
import time

from wrlib import assert_json, unique_room

from redislib import wait_for

ROUNDS = int(os.environ.get("WAITROOM_FAILOVER_ROUNDS", "8"))
RATE_PER_MINUTE = 1200  # two admissions a step (100 ms): the gaps are measured to about a step
JOIN_THREADS = 4
JOIN_PAUSE_S = 0.05  # each thread's pause between joins: 50-80 joins a second in all
POLL_S = 0.02
# Steady admissions and joins before each kill, for a random part of a lease renewal more (the
# driver renews every 300 ms, so the kills fall at every point of its renewals, not in step).
SETTLE_S = 1.0
AFTER_TAKEOVER_S = 1.5  # what is watched after the takeover
# The takeover is at most the lease's 1.2 s after the last renewal plus one retry step (about
# 1.3 s after the kill); the admission gap adds the step before the kill and the first admission's
# round trips: at most 1.38 s in 50 failovers on the release build (1.45 s in another run of 50).
# Those figures are the release build's on a quiet machine (docs/scaling.md); what this test
# asserts exactly is that the takeover lets the dead driver's lock go, and that no stop exceeds a
# bound loose enough for the ASan build on a loaded 2-core CI machine (where a gap of 1.94 s was
# seen). Before the lease script let a dead driver's lock go (a 2 s lock, a 1.5 s lease asked for
# every 200 ms), joins waited up to 2.0 s and admissions up to 2.2 s, and takeovers alone took up
# to 1.6 s: the lock check fails on that code whatever the machine's speed.
LIMIT_S = 2.5


def _request(port, method, path, timeout=10):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


class Traffic:
    """Joins from a few threads to the nodes in `targets`, and a watcher of the serving counter
    on `targets[0]`; both pick their node anew at each request, so the test moves them off a
    node before it kills it."""

    def __init__(self, room):
        self.room = room
        self.targets = []
        self.stop = threading.Event()
        self.mu = threading.Lock()
        self.joins = []  # (start, end, status)
        self.moves = []  # (time seen, serving)
        self.threads = [threading.Thread(target=self._join, daemon=True) for _ in range(JOIN_THREADS)]
        self.threads.append(threading.Thread(target=self._watch, daemon=True))

    def start(self, targets):
        self.targets = list(targets)
        for t in self.threads:
            t.start()

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)

    def _join(self):
        i = 0
        while not self.stop.is_set():
            targets = self.targets
            node = targets[i % len(targets)]
            i += 1
            started = time.monotonic()
            try:
                status, _ = _request(node.port, "POST", f"/v1/rooms/{self.room}/tickets")
            except OSError as e:
                status = f"{type(e).__name__}: {e}"
            ended = time.monotonic()
            with self.mu:
                self.joins.append((started, ended, status))
            self.stop.wait(JOIN_PAUSE_S)

    def _watch(self):
        last = None
        while not self.stop.is_set():
            node = self.targets[0]
            try:
                status, body = _request(node.port, "GET", f"/v1/rooms/{self.room}", timeout=5)
                serving = json.loads(body)["serving"] if status == 200 else None
            except (OSError, ValueError):
                serving = None
            seen = time.monotonic()
            if serving is not None and serving != last:
                with self.mu:
                    self.moves.append((seen, serving))
                last = serving
            self.stop.wait(POLL_S)


def _driver_id(redis, cluster, room):
    return redis.command("GET", f"{cluster.prefix}:{{{room}}}:driver")


def _node_of(cluster, node_id):
    """The index of the running node whose current run logged `node_id` (it logs its id when it
    takes a room's lease)."""
    for i, n in enumerate(cluster):
        if n.proc is not None and node_id in n.log_paths[-1].read_text(errors="replace"):
            return i
    return None


def _lock_life_ms(redis, lock_key, for_s):
    """The longest life left seen on the room's write lock while watching it for `for_s`: about
    the life a node gives the lock it takes or keeps (rounded up to 100 ms); 0 if never held."""
    longest = 0
    deadline = time.monotonic() + for_s
    while time.monotonic() < deadline:
        longest = max(longest, redis.command("PTTL", lock_key))
        time.sleep(0.01)
    return -(-longest // 100) * 100


def _dead_lock(redis, lock_key, dead_id, make, life_ms, killed):
    """Whether the dead node holds the room's write lock; with `make`, it is made to hold one
    as a begin at the moment of the kill would have (life_ms from then: however late the test
    gets here), unless another node holds it (that one lets it go within milliseconds: retried
    for 0.2 s)."""
    deadline = time.monotonic() + 0.2
    while True:
        held = redis.command("GET", lock_key)
        if held is not None and held.startswith(dead_id + ":"):
            return True
        if not make:
            return False
        left_ms = life_ms - int((time.monotonic() - killed) * 1000)
        if left_ms <= 0:
            return False
        if held is None and redis.command("SET", lock_key, dead_id + ":0", "NX", "PX", left_ms) == "OK":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)


def _p50(values):
    return statistics.median(values) if values else float("nan")


def _p50s(label, values):
    if not values:
        return f"{label}: none"
    return f"{label} max {max(values):.3f} s, p50 {_p50(values):.3f} s ({len(values)})"


def test_a_killed_driver_stops_admissions_and_joins_no_longer_than_its_takeover(cluster, redis):
    room = cluster[0].create_room(
        unique_room("failover"), admission={"mode": "rate", "rate_per_minute": RATE_PER_MINUTE},
        ticket_idle_timeout_s=0, claim_timeout_s=0,
        abuse={"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0})
    lock_key = f"{cluster.prefix}:{{{room}}}:lock"
    # A line long enough that admissions never wait for joins.
    for i in range(60):
        status, _ = _request(cluster[i % 3].port, "POST", f"/v1/rooms/{room}/tickets")
        assert status == 201, status
    assert wait_for(lambda: _driver_id(redis, cluster, room) is not None, 10.0, 0.05), "no driver"
    traffic = Traffic(room)
    rounds = []  # (killed at, takeover s, watched until, the dead driver held the lock)
    moved = 0  # times the lease moved to another node with nobody killed (a loaded machine)
    lock_life_ms = 0
    try:
        r = 0
        while len(rounds) < ROUNDS:
            r += 1
            driver = None

            def found():
                nonlocal driver
                node_id = _driver_id(redis, cluster, room)
                driver = _node_of(cluster, node_id) if node_id else None
                return driver is not None
            assert wait_for(found, 10.0, 0.05), f"round {r}: no running node drives the room"
            old_id = _driver_id(redis, cluster, room)
            survivors = [n for i, n in enumerate(cluster) if i != driver]
            if r == 1:
                traffic.start(survivors)
            else:
                traffic.targets = survivors
            lock_life_ms = max(lock_life_ms,
                               _lock_life_ms(redis, lock_key, SETTLE_S + random.uniform(0.0, 0.35)))
            if _driver_id(redis, cluster, room) != old_id:
                moved += 1
                assert moved <= ROUNDS, f"the lease moved {moved} times with nobody killed"
                continue
            cluster[driver].kill9()
            killed = time.monotonic()
            # The dead driver may have held the room's write lock (a begin without its commit, or
            # a lock kept from change to change). Every other round it is made to, as if its last
            # act had been a begin: a lock in its name with the life the nodes give it.
            dead_lock = _dead_lock(redis, lock_key, old_id, r % 2 == 0, lock_life_ms or 1500, killed)
            assert wait_for(lambda: _driver_id(redis, cluster, room) not in (None, old_id), 10.0, 0.005), \
                f"round {r}: no node took the lease over within 10 s"
            takeover = time.monotonic() - killed
            # The lease script took the lease and let the dead driver's lock go in one step, once
            # that lock is stale (not refreshed for kStaleLockMs, 0.5 s). A takeover sooner after
            # the kill (the dead driver's lease had lapsed already on a loaded machine: seen at
            # 0.05 s) rightly leaves a younger lock to run out.
            held = redis.command("GET", lock_key)
            assert takeover < 0.6 or not (held and held.startswith(old_id + ":")), \
                f"round {r}: the dead driver still holds the write lock after the takeover " \
                f"({takeover:.2f} s after the kill)"
            time.sleep(AFTER_TAKEOVER_S)
            rounds.append((killed, takeover, time.monotonic(), dead_lock))
            cluster[driver].start()
    finally:
        traffic.close()

    takeovers, gaps, stalls, locked_stalls, failed = [], [], [], [], []
    for r, (killed, takeover, until, dead_lock) in enumerate(rounds):
        seen = [t for t, _ in traffic.moves if killed - SETTLE_S <= t <= until]
        before = [t for t in seen if t <= killed]
        after = [t for t in seen if t > killed]
        assert before and after, f"round {r}: no admission seen before or after the kill"
        gap = max(b - a for a, b in zip(seen, seen[1:]))
        joins = [(s, e, st) for s, e, st in traffic.joins if killed - SETTLE_S <= s <= until]
        assert joins, f"round {r}: no join sent"
        stall = max(e - s for s, e, _ in joins)
        failed += [st for _, _, st in joins if st != 201]
        takeovers.append(takeover)
        gaps.append(gap)
        stalls.append(stall)
        if dead_lock:
            locked_stalls.append(stall)
    print(f"\n{len(rounds)} driver failovers (kill -9), {len(traffic.joins)} joins, "
          f"{moved} lease moves with nobody killed, write lock life {lock_life_ms} ms: " + "; ".join([
              _p50s("takeover", takeovers), _p50s("admission gap", gaps),
              _p50s("join stall", stalls),
              _p50s("join stall when the dead driver held the lock", locked_stalls)]))
    print("per failover (takeover / gap / stall, s; * the dead driver held the lock): " + ", ".join(
        f"{t:.2f}/{g:.2f}/{s:.2f}{'*' if d else ''}"
        for t, g, s, d in zip(takeovers, gaps, stalls, [x[3] for x in rounds])))
    assert failed == [], f"{len(failed)} joins to surviving nodes failed, first: {failed[0]}"
    assert locked_stalls or ROUNDS < 2, "the dead driver never held the lock: its release is untested"
    # Every admission once: the new driver's first steps never repeat the dead one's.
    admitted = []
    frm = 1
    while True:
        body = assert_json(cluster[0].get(f"/admin/v1/rooms/{room}/admissions?from={frm}&limit=1000",
                                          admin=True), 200)
        admitted += [a["position"] for a in body["admissions"]]
        if not body["admissions"] or len(admitted) >= body["total"]:
            break
        frm = body["next"]
    assert len(admitted) == len(set(admitted)), "a position was admitted twice"
    assert max(gaps) <= LIMIT_S, \
        f"admissions stopped for {max(gaps):.2f} s after a kill (limit {LIMIT_S} s): {gaps}"
    assert max(stalls) <= LIMIT_S, \
        f"a join waited {max(stalls):.2f} s after a kill (limit {LIMIT_S} s): {stalls}"
