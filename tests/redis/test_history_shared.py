"""History that survives restarts, on the Redis store (issue 18): the minutes every node keeps
go to Redis, so any node serves them, a node's copy of a minute another node kept changes
nothing, and a node restarted (or the other gone) still serves them.

Two nodes on the test clock (each its own; both advanced), sampling every 100 ms, as
tests/http/test_history.py does on the embedded store."""

import time
from datetime import datetime, timezone

from conftest import Cluster
from test_history import HISTORY_CONFIG, MINUTE_MS, end_minute, minutes, sampled
from wrlib import unique_room


def test_history_is_shared_by_the_nodes_and_outlives_a_nodes_restart(redis):
    cluster = Cluster(redis, nodes=2, config_text=HISTORY_CONFIG).start()
    try:
        a, b = cluster[0], cluster[1]
        room = a.create_room(unique_room("hist"))
        # A room's first minute counts from its first sample.
        sampled(a, room)
        sampled(b, room)
        for n in range(3):
            a.enqueue_ok(room)
        sampled(a, room, queue_length=3)
        sampled(b, room, queue_length=3)
        m0 = end_minute(a, room)
        kept = minutes(a, room, m0, m0 + MINUTE_MS)
        assert [p["arrivals"] for p in kept] == [3]
        # The other node serves it from Redis, though its own clock has not moved.
        assert minutes(b, room, m0, m0 + MINUTE_MS) == kept

        # One hash per room and day under the deployment's prefix and the room's hash tag.
        day = datetime.fromtimestamp(m0 / 1000, tz=timezone.utc).strftime("%Y-%m-%d")
        key = f"{cluster.prefix}:{{{room}}}:history:{day}"
        line = redis.command("HGET", key, str(m0))
        assert line and line.startswith(f"m2 {m0} 3 "), line
        assert 0 < redis.command("TTL", key) <= 9 * 86_400  # history_days (7) after its day
        # b's own copy of its minutes, once its clock moves on, leaves a's as it was.
        b.advance_clock(MINUTE_MS)
        time.sleep(0.5)
        assert redis.command("HGET", key, str(m0)) == line

        # A node restarted (its test clock back at the real time) serves the same minutes, and
        # so does one alone.
        a.restart()
        assert minutes(a, room, m0, m0 + MINUTE_MS) == kept
        b.stop()
        assert minutes(a, room, m0, m0 + MINUTE_MS) == kept
        b.start()
        assert minutes(b, room, m0, m0 + MINUTE_MS) == kept
    finally:
        cluster.close()
