"""The event feed (docs/events.md): every room's events, numbered per room, kept in the store until
every webhook has them, and readable by operators with GET /admin/v1/events."""

import re

from wrlib import DEFAULT_CONFIG, WebhookSink, assert_problem, unique_room, wait_for

SECRET = "event-feed-secret-0123456789"


def events_of(srv, room, after=None, limit=None):
    params = {"room": room}
    if after is not None:
        params["after"] = after
    if limit is not None:
        params["limit"] = limit
    r = srv.get("/admin/v1/events", admin=True, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_without_a_webhook_or_keep_events_nothing_is_recorded(server):
    assert_problem(server.get("/admin/v1/events", admin=True, params={"room": "demo"}), 409)


def test_an_operator_reads_a_rooms_events_in_pages_and_they_survive_a_restart(server_factory):
    srv = server_factory(config_text="keep_events = true\n" + DEFAULT_CONFIG)
    room = unique_room("feed")
    srv.create_room(room)
    tickets = [srv.enqueue_ok(room)["ticket"] for _ in range(5)]
    page = events_of(srv, room)
    types = [e["type"] for e in page["events"]]
    assert types[0] == "policy.changed"
    issued = [e["data"]["ticket"] for e in page["events"] if e["type"] == "ticket.issued"]
    assert issued == tickets
    seqs = [e["seq"] for e in page["events"]]
    assert seqs == list(range(1, len(seqs) + 1))
    # The room's own steps (its minute's waiting_room_metrics) may add an event while the page is
    # read: then `newest` is past the page and `more` says to read on.
    assert page["oldest"] == 1 and page["next_after"] == seqs[-1] and page["newest"] >= seqs[-1]
    assert page["more"] is (page["newest"] > seqs[-1]) and page["missed"] == 0
    for e in page["events"]:
        assert e["room"] == room and re.fullmatch(r"[0-9a-f-]{36}", e["id"]), e

    # Paged: after=2, two at a time.
    first = events_of(srv, room, after=2, limit=2)
    assert [e["seq"] for e in first["events"]] == [3, 4] and first["more"] is True
    rest = events_of(srv, room, after=first["next_after"], limit=100)
    assert [e["seq"] for e in rest["events"]] == seqs[4:]

    srv.restart()
    again = events_of(srv, room)
    # The same events, numbered as before (the room's steps may have added more since).
    assert [e["id"] for e in again["events"]][:len(seqs)] == [e["id"] for e in page["events"]]
    newest = again["newest"]
    ticket = srv.enqueue_ok(room)["ticket"]
    after = events_of(srv, room, after=newest)["events"]
    assert after[0]["seq"] == newest + 1
    # The room's own steps may come between: the ticket's event is the first of its kind.
    assert [e["data"]["ticket"] for e in after if e["type"] == "ticket.issued"] == [ticket]


def test_bad_reads_are_refused_clearly(server_factory):
    srv = server_factory(config_text="keep_events = true\n" + DEFAULT_CONFIG)
    assert_problem(srv.get("/admin/v1/events", admin=True), 400)
    assert_problem(srv.get("/admin/v1/events", admin=True, params={"room": "demo", "after": "x"}), 400)
    assert_problem(srv.get("/admin/v1/events", admin=True, params={"room": "demo", "limit": "0"}), 400)
    assert_problem(srv.get("/admin/v1/events", admin=True, params={"room": "nope-" + unique_room()}), 404)
    assert srv.get("/admin/v1/events", params={"room": "demo"}).status_code == 401
    # A room without events yet answers an empty page.
    page = events_of(srv, "legacy")
    assert page["events"] == [] or page["events"][0]["type"] == "policy.changed"


def test_a_webhook_down_across_a_compaction_and_a_restart_gets_everything_once_it_is_back(server_factory):
    sink = WebhookSink().start()
    srv = server_factory(config_text=DEFAULT_CONFIG + sink.config(SECRET))
    room = unique_room("down")
    srv.create_room(room)
    wait_for(lambda: any(e["room"] == room for e in sink.events()), what="the room's first event")
    sink.stop()
    tickets = [srv.enqueue_ok(room)["ticket"] for _ in range(4)]
    depth = re.compile(r'waitroom_webhook_queue_depth\{url="[^"]+"\} (\d+)')
    wait_for(lambda: int(depth.search(srv.get("/metrics").text).group(1)) >= 4,
             what="the undelivered events counted")
    r = srv.post("/admin/v1/compact", admin=True)  # the snapshot keeps what the webhook lacks
    assert r.status_code == 200, r.text
    srv.restart()  # a graceful stop: the events wait in the store, not in memory
    tickets.append(srv.enqueue_ok(room)["ticket"])
    sink.start()
    wait_for(lambda: [e["data"]["ticket"] for e in sink.events()
                      if e["room"] == room and e["type"] == "ticket.issued"] == tickets,
             timeout=20, what="every ticket announced, in order")
    seqs = [e["seq"] for e in sink.events() if e["room"] == room]
    assert seqs == list(range(1, len(seqs) + 1))
    wait_for(lambda: int(depth.search(srv.get("/metrics").text).group(1)) == 0,
             what="the backlog drained")
    sink.stop()


def test_an_operators_changes_name_the_operator_and_a_visitors_do_not(server_factory):
    srv = server_factory(config_text="keep_events = true\n" + DEFAULT_CONFIG)
    room = unique_room("actor")
    srv.create_room(room, admission={"mode": "manual"})
    made = srv.post("/admin/v1/tokens", admin=True,
                    json={"name": "alice", "role": "operator"}).json()
    alice = {"Authorization": f"Bearer {made['token']}"}
    ticket = srv.enqueue_ok(room)["ticket"]
    assert srv.post(f"/admin/v1/rooms/{room}/pause", headers=alice).status_code == 200
    assert srv.post(f"/admin/v1/rooms/{room}/advance", headers=alice, json={"by": 1}).status_code == 200
    events = events_of(srv, room)["events"]
    by_type = {e["type"]: e for e in events}
    assert by_type["policy.changed"]["data"]["actor"] == {"name": "admin key", "via": "admin_key"}
    assert "actor" not in by_type["ticket.issued"]["data"]
    expected = {"name": "alice", "via": "token", "token_id": made["id"]}
    assert by_type["room.paused"]["data"]["actor"] == expected
    admitted = by_type["ticket.admitted"]
    assert admitted["data"]["ticket"] == ticket and admitted["data"]["actor"] == expected
    # The config file's rooms name the file.
    demo = [e for e in events_of(srv, "demo")["events"] if e["type"] == "policy.changed"]
    assert demo and demo[0]["data"]["actor"] == {"name": "config", "via": "config"}
