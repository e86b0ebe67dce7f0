"""The monitoring kit (deploy/monitoring) on the Redis store: the Redis store's own metric names
(waitroom_redis_*) that the alert rules and the dashboard use are series in a node's /metrics
(tests/http/test_monitoring_kit.py checks the others on the embedded store), and a node that loses
Redis shows what WaitroomRedisUnavailable looks for: waitroom_store_ready 0 beside its
waitroom_redis_* series."""

import re

from conftest import Cluster
from test_monitoring_kit import REDIS_PREFIX, kit, missing_names
from wrlib import describe, wait_for


def store_ready(node):
    r = node.get("/metrics")
    assert r.status_code == 200, describe(r)
    m = re.search(r"^waitroom_store_ready (\d+)$", r.text, re.M)
    assert m, r.text[-500:]
    return int(m.group(1)), r.text


def test_the_redis_names_of_the_kit_are_in_a_redis_nodes_metrics(redis):
    names = {n: w for n, w in kit("names").items() if n.startswith(REDIS_PREFIX)}
    assert names, "the kit uses no waitroom_redis_* name: nothing to check"
    cluster = Cluster(redis, nodes=1).start()
    try:
        node = cluster[0]
        ready, text = store_ready(node)
        assert ready == 1
        missing = missing_names(names, text)
        assert not missing, "the monitoring kit uses names /metrics does not have:\n" + "\n".join(missing)

        redis.stop()
        node.request("POST", "/v1/rooms/demo/tickets")  # a write finds Redis gone (503)
        wait_for(lambda: store_ready(node)[0] == 0, timeout=15, what="waitroom_store_ready 0")
        _, text = store_ready(node)
        assert re.search(r"^waitroom_redis_commands_total \d+$", text, re.M), text[-500:]
        redis.start()
        wait_for(lambda: store_ready(node)[0] == 1, timeout=30, what="waitroom_store_ready 1 again")
    finally:
        cluster.close()
