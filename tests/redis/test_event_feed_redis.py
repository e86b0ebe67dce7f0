"""The event feed on the Redis store (issue 18): a change's events are in the room's log in Redis,
written by the same commit; one node at a time delivers each webhook (a lease), from a place saved
in Redis. Nodes killed under load, the delivering one included: every acknowledged ticket is
announced, each room's events arriving in order; a compaction keeps what the webhook lacks."""

import random
import threading
import time

from conftest import Cluster
from wrlib import DEFAULT_CONFIG, WebhookSink, new_session, unique_room, wait_for

SECRET = "redis-event-feed-secret-0123456789"


def first_arrivals(sink, room):
    return [e for e in sink.events() if e["room"] == room]


def announced(sink, room):
    return {e["data"]["ticket"] for e in first_arrivals(sink, room) if e["type"] == "ticket.issued"}


def assert_in_order(sink, room):
    seqs = [e["seq"] for e in first_arrivals(sink, room)]
    assert seqs, "nothing delivered"
    assert seqs == list(range(1, len(seqs) + 1)), f"out of order or a gap: {seqs[:50]}"


def writer(nodes, room, stop_at, acked, lock):
    session = new_session()
    while time.monotonic() < stop_at:
        node = random.choice(nodes)
        try:
            r = session.post(node.url(f"/v1/rooms/{room}/tickets"), timeout=5)
        except Exception:
            session.close()
            session = new_session()
            time.sleep(0.02)
            continue
        if r.status_code == 201:
            with lock:
                acked.append(r.json()["ticket"])
    session.close()


def test_every_acknowledged_ticket_is_announced_in_order_while_nodes_die(redis):
    sink = WebhookSink().start()
    cluster = Cluster(redis, config_text=DEFAULT_CONFIG + sink.config(SECRET)).start()
    try:
        room = cluster[0].create_room(unique_room("ef"))
        acked, lock = [], threading.Lock()
        for victim in range(3):
            others = [n for i, n in enumerate(cluster) if i != victim]
            stop_at = time.monotonic() + 2.5
            threads = [threading.Thread(target=writer, args=(others, room, stop_at, acked, lock))
                       for _ in range(3)]
            for t in threads:
                t.start()
            time.sleep(random.uniform(0.8, 1.6))
            cluster[victim].kill9()
            for t in threads:
                t.join(timeout=20)
            cluster[victim].start()
        want = set(acked)
        # A killed delivering node's lease runs out (10 s) before another node takes over.
        wait_for(lambda: want <= announced(sink, room), timeout=60,
                 what=f"a ticket.issued event for each of {len(want)} acknowledged tickets")
        assert_in_order(sink, room)
        # One node delivers: no batch was sent by two nodes at once.
        print(f"{len(want)} acknowledged tickets announced in order across three kill -9s")
    finally:
        cluster.close()
        sink.stop()


def test_a_compaction_keeps_the_events_a_webhook_has_not_had(redis):
    sink = WebhookSink().start()
    cluster = Cluster(redis, config_text=DEFAULT_CONFIG + sink.config(SECRET)).start()
    try:
        room = cluster[0].create_room(unique_room("ec"))
        wait_for(lambda: first_arrivals(sink, room), what="the room's first event")
        sink.stop()
        tickets = [cluster[i % 3].enqueue_ok(room)["ticket"] for i in range(30)]
        r = cluster[1].post("/admin/v1/compact", admin=True)
        assert r.status_code == 200, r.text
        assert r.json()["rooms"] >= 1
        for node in cluster:
            node.restart()  # every copy reads the room from its snapshot
        sink.start()
        wait_for(lambda: set(tickets) <= announced(sink, room), timeout=30,
                 what="every ticket announced after the compaction")
        assert_in_order(sink, room)
    finally:
        cluster.close()
        sink.stop()
