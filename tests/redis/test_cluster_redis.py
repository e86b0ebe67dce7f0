"""Waitroom on a Redis Cluster (issue 23): three primaries with a replica each (redis_cluster.py),
three waitroom nodes on the seed list, rooms spread over the shards by their {room} tag.

Load here is bounded (a few threads, a few seconds); the figures it prints (-s) are the ones
docs/scaling.md quotes."""

import threading
import time
from collections import defaultdict

from wrlib import describe, unique_room

from redis_cluster import slot_of
from redislib import wait_for
from test_driver_failover_redis import \
    test_a_killed_driver_stops_admissions_and_joins_no_longer_than_its_takeover as driver_failovers
from test_revoked_pass_redis import \
    test_a_revoked_pass_is_never_handed_out_by_another_node as revocations_across_nodes
from test_scale_out import gate, raw_enqueue

ROOMS = 30


def rooms_over_shards(rc, node, count, **settings):
    """`count` rooms, created on `node`, with every primary serving some of them."""
    rooms = [node.create_room(unique_room("cl"), admission={"mode": "manual"}, **settings)
             for _ in range(count)]
    owners = {rc.primary_for_slot(slot_of(r)).port for r in rooms}
    assert len(owners) == len(rc.current_primaries()), "the rooms landed on too few shards"
    return rooms


class Load:
    """Threads enqueueing round-robin over rooms and nodes until stopped; keeps every
    acknowledged ticket and every answer that was not a 201."""

    def __init__(self, nodes, rooms, threads=6):
        self.nodes, self.rooms = nodes, rooms
        self.acked = defaultdict(list)   # room -> [(position, ticket, at)]
        self.refused = []                # (room, status, retry_after, at, detail)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True) for i in range(threads)]

    def run(self, i):
        n = i
        while not self.stop.is_set():
            room = self.rooms[n % len(self.rooms)]
            node = self.nodes[n % len(self.nodes)]
            n += len(self.threads)
            try:
                status, headers, body = raw_enqueue(node, room, timeout=15)
            except OSError as e:
                with self.lock:
                    self.refused.append((room, f"no answer: {e}", None, time.monotonic(), None))
                continue
            with self.lock:
                if status == 201:
                    self.acked[room].append((body["position"], body["ticket"], time.monotonic()))
                else:
                    self.refused.append((room, status, headers.get("Retry-After"), time.monotonic(),
                                         (body or {}).get("detail")))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def assert_every_ticket_kept(nodes, load, gap_free=True):
    """Every acknowledged ticket is there on every node, positions once each and (gap_free)
    without gaps. Under a failure a commit may land without its answer (the primary died after
    it, or its replica confirmed it too late): its position is taken, by a ticket never
    acknowledged, so only gaps are allowed then, never a position twice."""
    for room, tickets in load.acked.items():
        positions = sorted(p for p, _, _ in tickets)
        assert len(positions) == len(set(positions)), f"{room}: a position handed out twice"
        if gap_free:
            assert positions == list(range(1, len(positions) + 1)), \
                f"{room}: positions with gaps {positions[:5]}...{positions[-5:]}"
        for node in nodes:
            for position, ticket, _ in tickets[::7] + tickets[-1:]:
                r = node.ticket(room, ticket)
                assert r.status_code == 200, describe(r)
                assert r.json()["position"] == position


def test_positions_are_unique_and_gap_free_across_nodes_and_shards(redis_cluster, cluster_nodes):
    c = cluster_nodes()
    rooms = rooms_over_shards(redis_cluster, c[0], ROOMS)
    with Load(c.nodes, rooms) as load:
        wait_for(lambda: sum(len(v) for v in load.acked.values()) >= 600, 60, 0.1)
    # Nothing but a rare retryable 503 (a room written on three nodes at once hands its lock
    # over; on a loaded machine a handover can fail and the node reads the room again).
    assert all(s == 503 and ra for _, s, ra, _, _ in load.refused), load.refused[:5]
    assert len(load.refused) <= 20, load.refused[:5]
    assert sum(len(v) for v in load.acked.values()) >= 600
    assert_every_ticket_kept(c.nodes, load)
    # Each room's log lives on the primary serving its tag's slot.
    for room in rooms[:6]:
        owner = redis_cluster.primary_for_slot(slot_of(room))
        assert owner.command("EXISTS", f"{c.prefix}:{{{room}}}:log") == 1


def test_one_seed_and_redis_cluster_true_find_the_whole_cluster(redis_cluster, cluster_nodes):
    seed = redis_cluster.seeds[0]
    c = cluster_nodes(nodes=2, cluster_flag=True, url=f"redis://{seed}/0")
    rooms = rooms_over_shards(redis_cluster, c[0], 9)
    for room in rooms:
        assert c[1].enqueue_ok(room)["position"] == 1


def test_a_primary_killed_under_load_loses_nothing_acknowledged_with_wait_replicas(
        redis_cluster, cluster_nodes):
    rc = redis_cluster
    c = cluster_nodes(wait_replicas=1)
    rooms = rooms_over_shards(rc, c[0], ROOMS, target_url="https://shop.example/")
    victim = rooms[0]
    slot = slot_of(victim)
    primary = rc.primary_for_slot(slot)
    on_victim_shard = {r for r in rooms if rc.primary_for_slot(slot_of(r)).port == primary.port}
    with Load(c.nodes, rooms) as load:
        wait_for(lambda: len(load.acked[victim]) >= 10, 30, 0.05)
        killed_at = time.monotonic()
        rc.kill9(primary)
        promoted_s = rc.wait_promoted(slot, 30, since=killed_at)
        # The promoted replica has no replica of its own until the failed node is back (as
        # systemd restarts it): with redis_wait_replicas = 1 the shard takes writes again then.
        restarter = threading.Thread(target=rc.restart, args=(primary,), daemon=True)
        restarter.start()
        back = wait_for(lambda: any(at > killed_at + promoted_s for _, _, at in load.acked[victim]),
                        20, 0.02)
        assert back, ("the room on the failed shard never took writes again: "
                      f"{[x for x in load.refused if x[0] == victim][-3:]}\n" + c[0].log_tail())
        first_after = min(at for _, _, at in load.acked[victim] if at > killed_at)
        time.sleep(1.0)
        restarter.join(60)
    print(f"\nprimary killed: promoted after {promoted_s:.2f} s; the room took writes again "
          f"{first_after - killed_at:.2f} s after the kill "
          f"({first_after - killed_at - promoted_s:.2f} s after the promotion)")
    assert first_after - killed_at - promoted_s < 5.0
    # The other shards' rooms went on being written while the victim's shard had no primary.
    # (On a loaded machine any room written on three nodes at once may see a rare retryable 503
    # when its write lock changes hands: those are allowed, as for the victim's.)
    outage = [at for room, tickets in load.acked.items() if room not in on_victim_shard
              for _, _, at in tickets if killed_at < at < killed_at + promoted_s]
    assert len(outage) >= 10, f"only {len(outage)} tickets on the other shards during the outage"
    # Refusals on the failed shard were retryable 503s.
    assert all(s == 503 and ra for _, s, ra, _, _ in load.refused), load.refused[:5]
    assert_every_ticket_kept(c.nodes, load, gap_free=False)

    # After the failover, an advance and a revocation made on one node reach the others.
    a, b, d = c.nodes
    t = a.enqueue_ok(victim)
    a.advance(victim, to=t["position"])
    assert wait_for(lambda: b.ticket(victim, t["ticket"]).json()["status"] != "waiting", 2.0)
    r = b.pass_for(victim, t["ticket"])
    assert r.status_code == 200, describe(r)
    token = r.json()["pass"]
    assert gate(d, victim, token).status_code == 204
    a.set_session(victim, t["ticket"], "revoked")
    assert wait_for(lambda: gate(d, victim, token).status_code != 204, 2.0, 0.005)
    rc.wait_ok()


def test_a_live_reshard_of_ten_rooms_slots_under_load_loses_and_repeats_nothing(
        redis_cluster, cluster_nodes):
    rc = redis_cluster
    c = cluster_nodes()
    rooms = rooms_over_shards(rc, c[0], ROOMS)
    moving = rooms[:10]
    with Load(c.nodes, rooms) as load:
        wait_for(lambda: sum(len(v) for v in load.acked.values()) >= 100, 30, 0.05)
        started = time.monotonic()
        for room in moving:
            slot = slot_of(room)
            owner = rc.primary_for_slot(slot)
            to = next(p for p in rc.current_primaries() if p.port != owner.port)
            rc.move_slots([slot], to)
        took = time.monotonic() - started
        time.sleep(1.0)
    print(f"\nmoved the slots of {len(moving)} rooms in {took:.2f} s under load: "
          f"{sum(len(v) for v in load.acked.values())} tickets, {len(load.refused)} refusals")
    assert all(s == 503 and ra for _, s, ra, _, _ in load.refused), load.refused[:5]
    assert_every_ticket_kept(c.nodes, load)
    # The moved rooms are written where their slots are now, and still heard on every node.
    for room in moving:
        t = c[1].enqueue_ok(room)
        c[0].advance(room, to=t["position"])
        assert wait_for(lambda: c[2].ticket(room, t["ticket"]).json()["status"] != "waiting", 2.0)


def test_driver_failovers_on_a_cluster_stall_admissions_and_joins_no_longer_than_the_takeover(
        redis_cluster, cluster_nodes):
    """tests/redis/test_driver_failover_redis.py, with the room on a cluster's shard."""
    driver_failovers(cluster_nodes(), redis_cluster)


def test_no_node_of_a_cluster_hands_out_a_revoked_pass(redis_cluster, cluster_nodes):
    """tests/redis/test_revoked_pass_redis.py (300 rounds), with the room on a cluster's shard."""
    revocations_across_nodes(cluster_nodes())
