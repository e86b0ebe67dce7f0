"""Access codes and lanes across three nodes on one Redis (issue 20; docs/admission.md, "Lanes and
access codes"): a code's uses are counted in the room's commits, so a single-use code sent to all
three nodes at once admits one visitor, a multi-use code never admits more than its count, and
every node reads the same codes and lanes."""

import http.client
import json
import threading
import time

from wrlib import assert_json, unique_room

LANES = [{"name": "vip", "share": 0.3}]


def join(node, room, body):
    """One join sending `body` on a new connection (no cookie); returns (status, body dict)."""
    c = http.client.HTTPConnection("127.0.0.1", node.port, timeout=30)
    try:
        c.request("POST", f"/v1/rooms/{room}/tickets", body=json.dumps(body),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, json.loads(r.read() or b"null")
    finally:
        c.close()


def race(cluster, room, bodies):
    """One join per body, spread over the nodes, released together."""
    barrier = threading.Barrier(len(bodies))
    answers = []
    lock = threading.Lock()

    def one(i):
        barrier.wait()
        got = join(cluster[i % 3], room, bodies[i])
        with lock:
            answers.append(got)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def new_code(node, room, **body):
    r = node.post(f"/admin/v1/rooms/{room}/codes", admin=True, json=body)
    return assert_json(r, 201)


def test_a_code_raced_on_three_nodes_is_used_no_more_than_its_count(cluster):
    room = cluster[0].create_room(unique_room("codes"), lanes=LANES)
    single = new_code(cluster[0], room, admit=True)["code"]
    answers = race(cluster, room, [{"code": single}] * 63)
    won = [body for status, body in answers if status == 201]
    assert len(won) == 1, f"{len(won)} of 63 joins on three nodes got in with one single-use code"
    assert won[0]["status"] == "eligible", won[0]
    refused = [(status, body) for status, body in answers if status != 201]
    assert all(status == 403 for status, _ in refused), refused[:3]

    five = new_code(cluster[1], room, lane="vip", uses=5)
    answers = race(cluster, room, [{"code": five["code"]}] * 30)
    won = [body for status, body in answers if status == 201]
    assert len(won) == 5, f"{len(won)} joins got in with a code good for 5"
    assert all(body["lane"] == "vip" for body in won), won

    # Every node lists the same codes and uses once it has heard the last commits.
    for node in cluster:
        deadline = time.monotonic() + 5
        while True:
            codes = assert_json(node.get(f"/admin/v1/rooms/{room}/codes", admin=True), 200)["codes"]
            if [c["used"] for c in codes] == [1, 5] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert [c["used"] for c in codes] == [1, 5], f"node {node.port}: {codes}"
