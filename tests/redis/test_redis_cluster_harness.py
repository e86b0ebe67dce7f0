"""Checks of the Redis Cluster harness itself (redis_cluster.py, issue 23): no waitroom node here.

The tests share one cluster (module scope) and run in any order (pytest-xdist), so each leaves
it ok: every slot served by a live primary with a replica."""

import random
import re
import time

from redis_cluster import SLOTS, key_for_slot, slot_of, tag_for_slot

PROMOTION_BOUND_S = 15.0  # node timeout 1 s: typically about 2-3 s, generous for a busy CI machine


def test_the_cluster_comes_up_with_every_slot_served_by_a_primary_with_a_replica(redis_cluster):
    rc = redis_cluster
    rc.wait_ok()
    assert len(rc.nodes) == 6
    assert re.fullmatch(r"redis://127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+/0", rc.seed_url)
    for n in rc.nodes:
        info = n.cluster_info()
        assert info["cluster_state"] == "ok", (n, info)
        assert info["cluster_slots_assigned"] == SLOTS and info["cluster_slots_ok"] == SLOTS
        assert info["cluster_known_nodes"] == 6
    primaries = rc.current_primaries()
    assert len(primaries) == 3
    covered = set()
    for p in primaries:
        slots = rc.slots_of(p)
        assert not covered & slots
        covered |= slots
        replica = rc.replica_of(p)
        assert replica is not None and replica.alive() and replica not in primaries
    assert covered == set(range(SLOTS))
    # CLUSTER SLOTS agrees with the nodes' own claims (it lists a replica only once its
    # replication offset is not 0 any more).
    for a, b, port, replicas in rc.nodes[0].slot_ranges():
        owner = rc.node_by_port(port)
        assert rc.primary_for_slot(a) is owner and rc.primary_for_slot(b) is owner
        assert set(replicas) <= {r.port for r in rc.replicas_of(owner)}


def test_slot_of_is_redis_key_hash_slot(redis_cluster):
    node = redis_cluster.nodes[0]
    rng = random.Random(23)
    keys = ["{room}:x", "waitroom:{room}:log", "a{}b", "{}{x}", "x{y", "x}y{", "}{a}", "{{x}}",
            "foo{bar}{zap}", "foo{{bar}}zap", "{", "}", "{}", "", "123456789", "ключ{комната}",
            b"\xff{\xfe\x00}x", b"\x00\x01\x02"]
    keys += ["".join(rng.choice("ab{}:x") for _ in range(rng.randrange(12))) for _ in range(200)]
    for k in keys:
        assert slot_of(k) == node.command("CLUSTER", "KEYSLOT", k), k
    assert slot_of("123456789") == 0x31C3 % SLOTS  # the CRC16/XMODEM check value
    for slot in (0, 1, 12539, SLOTS - 1):
        assert slot_of("{" + tag_for_slot(slot) + "}") == slot
        assert node.command("CLUSTER", "KEYSLOT", key_for_slot(slot, ":log")) == slot


def test_a_killed_primary_is_replaced_by_its_replica_and_comes_back_as_a_replica(redis_cluster):
    rc = redis_cluster
    rc.wait_ok()
    slot = slot_of("{harness-failover}")
    key = key_for_slot(slot, ":k")
    primary = rc.primary_for_slot(slot)
    replica = rc.replica_of(primary)
    primary.command("SET", key, "v1")
    assert primary.command("WAIT", 1, 5000) == 1  # on the replica before the kill
    rc.kill9(primary)
    took = rc.wait_promoted(slot, PROMOTION_BOUND_S + 15)
    print(f"\nprimary :{primary.port} killed; replica :{replica.port} serves slot {slot} "
          f"after {took:.2f} s")
    assert rc.primary_for_slot(slot) is replica
    assert replica.command("GET", key) == "v1"
    assert took < PROMOTION_BOUND_S, f"promotion took {took:.2f} s"
    started = time.monotonic()
    rc.restart(primary)
    print(f"old primary back and cluster ok after {time.monotonic() - started:.2f} s")
    assert rc.replica_of(replica) is primary
    assert rc.primary_for_slot(slot) is replica
    assert rc.slots_of(primary) == set()


def test_move_slots_moves_a_rooms_slot_with_its_keys(redis_cluster):
    rc = redis_cluster
    rc.wait_ok()
    slot = slot_of("{harness-move}")
    src = rc.primary_for_slot(slot)
    dst = next(p for p in rc.current_primaries() if p is not src)
    keys = [key_for_slot(slot, f":{i}") for i in range(250)]  # three MIGRATE batches
    for i, k in enumerate(keys):
        src.command("SET", k, i)
    assert rc.move_slots([slot], dst) == [slot]
    assert rc.primary_for_slot(slot) is dst
    assert dst.command("CLUSTER", "COUNTKEYSINSLOT", slot) == 250
    assert src.command("CLUSTER", "COUNTKEYSINSLOT", slot) == 0
    assert [dst.command("GET", k) for k in keys] == [str(i) for i in range(250)]
    try:
        src.command("GET", keys[0])
        raise AssertionError("the old owner still answers for the slot")
    except RuntimeError as e:
        assert str(e) == f"MOVED {slot} 127.0.0.1:{dst.port}", e
    assert rc.move_slots([slot], dst) == []  # already there
    # redis-cli's reshard: two slots back from dst to src.
    moved = rc.reshard_with_redis_cli(2, dst, src)
    assert len(moved) == 2 and all(rc.primary_for_slot(s) is src for s in moved)
    rc.wait_ok()
