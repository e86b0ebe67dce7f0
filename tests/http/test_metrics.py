"""GET /metrics: Prometheus text with the documented series, whose values agree
with the API."""

import re

import pytest

from wrlib import assert_json, describe

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
LABEL_RE = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?')


def parse_metrics(text):
    """[(name, {label: value}, float)] for every sample; fails on malformed lines."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            if line.startswith("# TYPE"):
                parts = line.split()
                assert len(parts) == 4 and parts[3] in (
                    "counter", "gauge", "histogram", "summary", "untyped"), line
            continue
        m = SAMPLE_RE.match(line)
        assert m, f"malformed sample line: {line!r}"
        name, labels_text, value = m.groups()
        labels = {}
        if labels_text:
            pos = 0
            while pos < len(labels_text):
                lm = LABEL_RE.match(labels_text, pos)
                assert lm and lm.end() > pos, f"malformed labels: {line!r}"
                labels[lm.group(1)] = lm.group(2)
                pos = lm.end()
        samples.append((name, labels, float(value)))
    return samples


def find(samples, name, **labels):
    return [(l, v) for n, l, v in samples if n == name and all(l.get(k) == x for k, x in labels.items())]


def one(samples, name, **labels):
    got = find(samples, name, **labels)
    assert len(got) == 1, f"want one {name}{labels}, got {got}"
    return got[0][1]


def scrape(server):
    r = server.get("/metrics")
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Content-Type", "").startswith("text/plain"), describe(r)
    return parse_metrics(r.text)


@pytest.fixture(scope="module")
def busy(server):
    """Some traffic in a fresh room: 5 tickets, serving 3, 2 passes, a 404."""
    room = server.create_room()
    ts = [server.enqueue_ok(room) for _ in range(5)]
    server.advance(room, by=3)
    for t in ts[:2]:
        assert_json(server.pass_for(room, t["ticket"]), 200)
    assert_json(server.pass_for(room, ts[0]["ticket"]), 200)  # re-fetch, not a new pass
    server.get("/v1/rooms/no-such-room")
    return room


def test_metrics_per_room_values(server, busy):
    s = scrape(server)
    room = busy
    assert one(s, "waitroom_tickets_issued_total", room=room) == 5
    assert one(s, "waitroom_queue_length", room=room) == 5
    assert one(s, "waitroom_serving", room=room) == 3
    assert one(s, "waitroom_passes_issued_total", room=room) == 2
    assert one(s, "waitroom_active_sessions", room=room) == 2
    # the config rooms are there too, even idle
    for r in ("demo", "legacy"):
        for name in ("waitroom_queue_length", "waitroom_serving", "waitroom_active_sessions"):
            assert find(s, name, room=r), f"{name}{{room={r}}} missing"


def test_inventory_and_adaptive_limit_are_gauges_of_the_rooms_they_apply_to(server):
    room = server.create_room()
    assert not find(scrape(server), "waitroom_inventory_left", room=room), "counts no items"
    r = server.post(f"/admin/v1/rooms/{room}/inventory", admin=True, json={"set": 3})
    assert r.status_code == 200, r.text
    s = scrape(server)
    assert one(s, "waitroom_inventory_left", room=room) == 3
    assert one(s, "waitroom_sold_out", room=room) == 0
    r = server.post(f"/admin/v1/rooms/{room}/inventory", admin=True, json={"add": -3})
    assert r.status_code == 200, r.text
    s = scrape(server)
    assert one(s, "waitroom_inventory_left", room=room) == 0
    assert one(s, "waitroom_sold_out", room=room) == 1
    assert not find(s, "waitroom_sold_out", room="demo")
    assert not find(s, "waitroom_admission_limit", room=room), "not adaptive"


def test_metrics_follow_changes(server, busy):
    room = busy
    before = scrape(server)
    server.enqueue_ok(room)
    server.advance(room, by=1)
    after = scrape(server)
    assert one(after, "waitroom_tickets_issued_total", room=room) == \
        one(before, "waitroom_tickets_issued_total", room=room) + 1
    assert one(after, "waitroom_serving", room=room) == one(before, "waitroom_serving", room=room) + 1


def test_http_request_metrics(server, busy):
    s = scrape(server)
    reqs = find(s, "waitroom_http_requests_total")
    assert reqs, "waitroom_http_requests_total missing"
    for labels, _ in reqs:
        assert {"route", "method", "status"} <= set(labels), labels
    # route labels are route patterns, not raw paths (bounded cardinality)
    assert not any(busy in labels["route"] for labels, _ in reqs), \
        "route label contains a room name: " + repr([l for l, _ in reqs if busy in l["route"]])
    assert sum(v for l, v in reqs if l["method"] == "POST" and l["status"] == "201") >= 5
    assert sum(v for l, v in reqs if l["status"] == "404") >= 1
    buckets = find(s, "waitroom_http_request_duration_seconds_bucket")
    assert buckets, "waitroom_http_request_duration_seconds_bucket missing"
    assert any(l.get("le") == "+Inf" for l, _ in buckets)
    assert find(s, "waitroom_http_request_duration_seconds_count")
    assert find(s, "waitroom_http_request_duration_seconds_sum")


def test_counters_are_monotonic(server, busy):
    a = {(n, tuple(sorted(l.items()))): v for n, l, v in scrape(server) if n.endswith("_total")}
    server.get("/healthz")
    b = {(n, tuple(sorted(l.items()))): v for n, l, v in scrape(server) if n.endswith("_total")}
    for k, v in a.items():
        assert b.get(k, -1) >= v, f"{k} went from {v} to {b.get(k)}"
