"""Compaction on the Redis store (issue 18): a room's list in Redis becomes its snapshot, under the
room's write lock. Every node goes on serving the same room, positions continue, a node that
starts reads one record per room, and Redis memory falls to the live state."""


import signal

from wrlib import assert_json, describe, unique_room

from redislib import wait_for


def log_key(cluster, room):
    return f"{cluster.prefix}:{{{room}}}:log"


def base_key(cluster, room):
    return f"{cluster.prefix}:{{{room}}}:base"


def same_everywhere(cluster, room, tickets, within_s=5.0):
    """Every node answers each ticket with the same position and status. Other nodes learn a
    commit by pub/sub, a moment later (docs/scaling.md), so this waits up to within_s for them;
    it returns whether they agreed and, if not, the tickets they answered differently."""
    differences = {}

    def agree():
        views = []
        for node in cluster:
            view = {}
            for t in tickets:
                r = node.ticket(room, t)
                assert r.status_code == 200, describe(r)
                view[t] = (r.json()["position"], r.json()["status"])
            views.append(view)
        differences.clear()
        differences.update({t: [v[t] for v in views] for t in tickets
                            if any(v[t] != views[0][t] for v in views)})
        return not differences

    return wait_for(agree, within_s, 0.1), differences


def test_a_rooms_list_becomes_its_snapshot_and_every_node_goes_on(cluster, redis):
    room = cluster[0].create_room(unique_room("cr"), admission={"mode": "manual"}, pass_lifetime_s=3600)
    tickets = [cluster[i % 3].enqueue_ok(room)["ticket"] for i in range(90)]
    cluster[1].advance(room, by=40)
    passes = {}
    for t in tickets[:20]:
        r = cluster[2].pass_for(room, t)
        assert r.status_code == 200, describe(r)
        passes[t] = r.json()["pass"]
    for t in tickets[:5]:
        assert cluster[0].set_session(room, t, "completed").status_code == 200
    before_len = redis.command("LLEN", log_key(cluster, room))
    assert before_len > 100
    memory_before = int(dict(l.split(":", 1) for l in redis.command("INFO", "memory").splitlines()
                             if ":" in l)["used_memory"])

    report = assert_json(cluster[0].post("/admin/v1/compact", admin=True, timeout=60), 200)
    assert report["rooms"] >= 1 and report["records_after"] < report["records_before"], report
    assert redis.command("LLEN", log_key(cluster, room)) == 1
    assert int(redis.command("GET", base_key(cluster, room))) == before_len - 1

    ok, differences = same_everywhere(cluster, room, tickets)
    assert ok, differences
    # Positions continue on every node, after the snapshot.
    late = [cluster[i].enqueue_ok(room)["position"] for i in range(3)]
    assert sorted(late) == [91, 92, 93]
    for t, token in passes.items():
        r = cluster[1].pass_for(room, t)
        if t in tickets[:5]:
            assert r.status_code == 410, describe(r)
        else:
            assert r.status_code == 200 and r.json()["pass"] == token, describe(r)
    # A node that starts now reads the snapshot and what came after it.
    cluster[2].restart()
    assert wait_for(lambda: cluster[2].stats(room)["queue_counter"] == 93, 5.0, 0.05)
    ok, differences = same_everywhere(cluster, room, tickets)
    assert ok, differences
    stats = [node.stats(room) for node in cluster]
    assert all(s["serving"] == stats[0]["serving"] and s["completed"] == stats[0]["completed"]
               for s in stats), stats
    memory_after = int(dict(l.split(":", 1) for l in redis.command("INFO", "memory").splitlines()
                            if ":" in l)["used_memory"])
    print(f"Redis used_memory {memory_before} -> {memory_after} bytes; list {before_len} -> 1 (+3)")


def test_a_node_that_was_behind_a_compaction_keeps_everyone_waiting(cluster, redis):
    """A node frozen while another node adds tickets and compacts reads the snapshot when it wakes
    (its copy is older than the list's head). A snapshot keeps no presence; the node must not
    take that for everyone having left (status "expired", and the driver dropping them)."""
    room = cluster[0].create_room(unique_room("cr"), admission={"mode": "manual"})
    tickets = [cluster[0].enqueue_ok(room)["ticket"] for _ in range(5)]
    assert wait_for(lambda: cluster[1].stats(room)["queue_counter"] == 5, 5.0, 0.05)
    cluster[1].proc.send_signal(signal.SIGSTOP)
    try:
        tickets += [cluster[0].enqueue_ok(room)["ticket"] for _ in range(5)]
        assert_json(cluster[0].post("/admin/v1/compact", admin=True, timeout=60), 200)
        assert redis.command("LLEN", log_key(cluster, room)) == 1
    finally:
        cluster[1].proc.send_signal(signal.SIGCONT)
    assert wait_for(lambda: cluster[1].stats(room)["queue_counter"] == 10, 5.0, 0.05)
    ok, differences = same_everywhere(cluster, room, tickets, within_s=0.5)
    assert ok, differences
    assert {node.ticket(room, tickets[0]).json()["status"] for node in cluster} == {"waiting"}


def test_a_reset_room_keeps_only_its_new_epoch_and_a_deleted_room_its_name(cluster, redis):
    room = cluster[0].create_room(unique_room("cr"), admission={"mode": "manual"})
    old = [cluster[0].enqueue_ok(room)["ticket"] for _ in range(30)]
    assert_json(cluster[1].post(f"/admin/v1/rooms/{room}/reset", admin=True), 200)
    fresh = cluster[2].enqueue_ok(room)
    gone = cluster[0].create_room(unique_room("gone"))
    gone_ticket = cluster[0].enqueue_ok(gone)["ticket"]
    assert cluster[0].delete(f"/admin/v1/rooms/{gone}", admin=True).status_code == 204
    assert_json(cluster[1].post("/admin/v1/compact", admin=True, timeout=60), 200)
    assert redis.command("LLEN", log_key(cluster, room)) == 1
    assert redis.command("LLEN", log_key(cluster, gone)) == 1
    # The copies follow the log within a moment (a node behind reads the snapshots).
    for node in cluster:
        assert wait_for(lambda: node.get(f"/v1/rooms/{gone}").status_code == 404, 3.0, 0.05)
        assert wait_for(lambda: node.room_status(room)["queue_length"] == 1, 3.0, 0.05)
    for node in cluster:
        assert node.ticket(room, old[0]).status_code in (404, 410)
        assert node.ticket(room, fresh["ticket"]).json()["position"] == 1
        assert node.ticket(gone, gone_ticket).status_code == 404
    # The name comes back at a later epoch: the deleted room's ticket stays refused.
    cluster[2].create_room(gone)
    for node in cluster:
        assert wait_for(lambda: node.get(f"/v1/rooms/{gone}").status_code == 200, 3.0, 0.05)
        assert node.ticket(gone, gone_ticket).status_code in (404, 410)


def test_the_driver_compacts_its_rooms_by_itself(redis):
    from conftest import Cluster
    c = Cluster(redis, nodes=2, config_text="compact_after_mb = 1\n").start()
    try:
        room = c[0].create_room(unique_room("auto"), admission={"mode": "manual"})
        session_put = c[0].session
        for i in range(600):
            r = session_put.put(c[0].url(f"/admin/v1/rooms/{room}"), headers=c[0].admin_headers,
                                json={"target_url": f"https://shop.example/{i:04d}/" + "y" * 2000}, timeout=10)
            assert r.status_code == 200, describe(r)
        # Compacted once it grew by 1 MiB (possibly while the changes still came): the head of
        # its list went, and the list is shorter than what was written.
        if not wait_for(lambda: int(redis.command("GET", base_key(c, room)) or 0) > 0, 45.0, 0.2):
            raise AssertionError("the room's list was not compacted within 45 s of growing by 1 MiB\n"
                                 + "\n".join(node.log_tail(30) for node in c))
        assert redis.command("LLEN", log_key(c, room)) < 600
        for node in c:
            assert wait_for(lambda: node.admin_room(room)["target_url"].startswith("https://shop.example/0599/"),
                            5.0, 0.05)
    finally:
        c.close()
