"""Bounded state on the Redis store (issue 18): sale after sale, each compaction turns the room's
list in Redis into its snapshot, so Redis holds the live state, not the history, and a node that
starts after the last sale reads a handful of records. See tests/http/sale_cycles.py."""

import time

from sale_cycles import CYCLES, ROOM_SETTINGS, VISITORS, assert_bounded, run_cycles
from wrlib import TEST_CLOCK_CONFIG, unique_room

from conftest import Cluster
from redislib import wait_for


def used_memory(redis):
    info = dict(line.split(":", 1) for line in redis.command("INFO", "memory").splitlines() if ":" in line)
    return int(info["used_memory"])


def test_sale_after_sale_redis_holds_the_live_state(redis):
    c = Cluster(redis, nodes=1, config_text="compact_after_mb = 0\n" + TEST_CLOCK_CONFIG).start()
    try:
        node = c[0]
        room = node.create_room(unique_room("sale"), **ROOM_SETTINGS)
        log = f"{c.prefix}:{{{room}}}:log"

        def kept():
            # UNLINK frees the old list in the background: wait until it has.
            wait_for(lambda: int(dict(l.split(":", 1) for l in redis.command("INFO", "memory").splitlines()
                                      if ":" in l).get("lazyfree_pending_objects", "0")) == 0, 5.0, 0.05)
            return redis.command("MEMORY", "USAGE", log)

        memory = []
        cycles = run_cycles(node, room, lambda: (memory.append(used_memory(redis)), kept())[1])
        for (cycle, report, log_bytes, took), used in zip(cycles, memory):
            print(f"cycle {cycle}: room log {report['records_before']} records -> "
                  f"{report['records_after']}; list {log_bytes} bytes; used_memory {used}; {took} s")
        assert redis.command("LLEN", log) == 1  # the last reset room's snapshot
        assert_bounded(cycles, slack_bytes=4096)
        assert max(memory) <= memory[0] + (1 << 20), f"Redis used_memory grows with the cycles: {memory}"
        started = time.monotonic()
        node.restart()
        print(f"node start-up after {CYCLES} cycles of {VISITORS} visitors: "
              f"{time.monotonic() - started:.2f} s (stop and start, ASan build)")
        replayed = int(node.log_text().rsplit('"replayed_records":', 1)[1].split("}")[0].split(",")[0])
        assert replayed <= 10, f"the node read {replayed} records at start after compaction"
        assert node.stats(room)["epoch"] == CYCLES + 1
    finally:
        c.close()
