"""Adaptive admission on three nodes sharing one Redis (issue 21; docs/admission.md, "adaptive"
and "Health signals"): one node drives the room and its controller decides; every node reads the
same limit from the room's log. Signals posted to a node that does not drive the room reach the
driver over the nodes' health channel within about a second, and every node's GET signals then
counts the nodes whose part it heard."""

import time

from wrlib import assert_json, unique_room, wait_for

QUIET = {"ticket_idle_timeout_s": 0, "claim_timeout_s": 0,
         "abuse": {"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0}}


def driver_of(cluster, room):
    drivers = [i for i, n in enumerate(cluster)
               if any("driving the room's admissions" in line and room in line
                      for line in n.log_text().splitlines())]
    return drivers[-1] if drivers else None


def limits(cluster, room):
    return [assert_json(n.get(f"/admin/v1/rooms/{room}/stats", admin=True), 200)["adaptive"]["limit"]
            for n in cluster]


def post_signals(node, room, **body):
    return assert_json(node.post(f"/admin/v1/rooms/{room}/signals", admin=True, json=body), 200)


def test_a_post_to_any_node_steers_the_driver_and_every_node_reads_its_limit(cluster):
    room = unique_room("adaptive")
    r = cluster[0].put(f"/admin/v1/rooms/{room}", admin=True,
                       json={"admission": {"mode": "adaptive", "target_p95_ms": 200,
                                           "max_per_minute": 600}, **QUIET})
    assert r.status_code in (200, 201), r.text
    for i in range(90):
        assert cluster[i % 3].enqueue(room).status_code == 201
    assert wait_for(lambda: driver_of(cluster, room) is not None, 10.0, "a driver"), "no driver"
    driver = driver_of(cluster, room)
    other = (driver + 1) % 3

    # Let some in at the ceiling's pace first: held > 0 for the breach to cut from.
    assert wait_for(lambda: cluster[driver].stats(room)["admitted"] >= 20, 10.0, "admissions")
    answer = post_signals(cluster[other], room, p95_ms=900, error_ratio=0, max_age_s=60)
    assert answer["combined"]["p95_ms"] == 900.0 and answer["posted"]["fresh"] is True

    # The driver hears it and cuts; every node reads the same limit from the log.
    assert wait_for(lambda: cluster[driver].stats(room)["adaptive"]["limit"] is not None, 10.0,
                    "the driver's limit"), cluster[driver].stats(room)["adaptive"]
    assert wait_for(lambda: len(set(limits(cluster, room))) == 1, 10.0, "one limit on all nodes")
    limit = limits(cluster, room)[0]
    held = cluster[driver].stats(room)["adaptive"]["held"]
    assert 1 <= limit < held, (limit, held)
    sig = assert_json(cluster[driver].get(f"/admin/v1/rooms/{room}/signals", admin=True), 200)
    assert sig["nodes"] >= 2 and sig["combined"]["p95_ms"] == 900.0, sig

    # Nobody goes in while the places held are over the limit, on any node's count.
    admitted = cluster[driver].stats(room)["admitted"]
    time.sleep(2.5)
    for n in cluster:
        s = n.stats(room)
        assert s["admitted"] == admitted, s
        assert s["line"] == {"moving": False, "reason": "site_health"}, s["line"]
