"""The operators' message to everyone waiting in a room (issue 19): set with
PUT /admin/v1/rooms/{room}/message, cleared with DELETE; checked (400 and nothing changes), kept
across a restart and a compaction, shown in both status answers, on the waiting page as escaped
text, pushed on an open event stream, in the event feed and in the audit trail. Runs on the Redis
store too (WAITROOM_TEST_REDIS_URL)."""

import calendar
import html
import json
import time

import pytest
import requests

from wrlib import DEFAULT_CONFIG, assert_json, assert_problem, describe, unique_room

ROUTE = "/admin/v1/rooms/{room}/message"
STREAM_READ_TIMEOUT_S = 5.0


def message_path(room):
    return ROUTE.format(room=room)


def set_message(srv, room, text, headers=None):
    return srv.put(message_path(room), admin=headers is None, headers=headers, json={"text": text})


def message_of(srv, room):
    """The message as the admin room object shows it (None: none)."""
    return srv.admin_room(room)["message"]


def unix_of(rfc3339):
    return calendar.timegm(time.strptime(rfc3339, "%Y-%m-%dT%H:%M:%SZ"))


class EventStream:
    """The ticket's event stream read with requests (stream=True), one SSE event at a time."""

    def __init__(self, srv, room, ticket, last_event_id=None):
        headers = {"Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.r = requests.get(srv.url(f"/v1/rooms/{room}/tickets/{ticket}/events"),
                              headers=headers, stream=True, timeout=(5, STREAM_READ_TIMEOUT_S))
        assert self.r.status_code == 200, describe(self.r)
        self.lines = self.r.iter_lines(chunk_size=1, decode_unicode=True)

    def next_event(self):
        """{"event", "id", "data"} of the next block that carries data (heartbeats skipped)."""
        fields = {}
        for line in self.lines:
            if line == "":
                if "data" in fields:
                    return {"event": fields.get("event"), "id": int(fields["id"]),
                            "data": json.loads(fields["data"])}
                fields = {}
            elif not line.startswith(":"):
                k, _, v = line.partition(":")
                fields[k] = v[1:] if v.startswith(" ") else v
        raise AssertionError("the stream ended")

    def close(self):
        self.r.close()


# ---- setting, clearing, checking -------------------------------------------------------------

def test_set_answers_the_message_and_every_room_view_shows_it(server):
    room = server.create_room()
    assert message_of(server, room) is None
    assert server.room_status(room)["message"] is None
    before = int(time.time())
    r = set_message(server, room, "  The sale starts 10 minutes late.\n")
    body = assert_json(r, 200)
    assert body["room"] == room
    msg = body["message"]
    assert msg["text"] == "The sale starts 10 minutes late.", "trimmed"
    assert before - 2 <= unix_of(msg["set_at"]) <= time.time() + 2, msg
    assert message_of(server, room) == msg
    assert server.room_status(room)["message"] == msg
    listed = server.get("/admin/v1/rooms", admin=True).json()["rooms"]
    assert [x["message"] for x in listed if x["room"] == room] == [msg]
    # Setting it again replaces it.
    again = assert_json(set_message(server, room, "Now 20 minutes, sorry.\nThank you!"), 200)
    assert again["message"]["text"] == "Now 20 minutes, sorry.\nThank you!"
    assert message_of(server, room) == again["message"]


def test_delete_clears_it_and_answers_204_also_when_there_was_none(server):
    room = server.create_room()
    r = server.delete(message_path(room), admin=True)
    assert r.status_code == 204, describe(r)
    assert set_message(server, room, "hello").status_code == 200
    r = server.delete(message_path(room), admin=True)
    assert r.status_code == 204 and r.content == b"", describe(r)
    assert message_of(server, room) is None
    assert server.room_status(room)["message"] is None


@pytest.mark.parametrize("body", [
    {"text": ""},
    {"text": "   \n\t "},
    {"text": "x" * 501},
    {"text": "bell \u0007"},
    {"text": "tab\tinside"},
    {"text": "c1 \u0085"},
    {"text": 42},
    {"text": None},
    {},
    {"text": "ok", "extra": 1},
    "not an object",
])
def test_bad_text_is_400_and_changes_nothing(server, body):
    room = server.create_room()
    kept = assert_json(set_message(server, room, "kept"), 200)["message"]
    r = server.put(message_path(room), admin=True, json=body)
    assert_problem(r, 400)
    assert message_of(server, room) == kept


def test_length_counts_characters_not_bytes(server):
    room = server.create_room()
    text = "待" * 500  # 1,500 bytes
    assert assert_json(set_message(server, room, text), 200)["message"]["text"] == text
    assert_problem(set_message(server, room, text + "!"), 400)
    assert_problem(server.put(message_path(room), admin=True, data=b'{"text": "\xff\xfe"}',
                              headers={"Content-Type": "application/json"}), 400)
    assert message_of(server, room)["text"] == text


def test_unknown_room_is_404(server):
    missing = unique_room("none")
    assert_problem(set_message(server, missing, "hello"), 404)
    assert_problem(server.delete(message_path(missing), admin=True), 404)


def test_needs_an_operator(server):
    room = server.create_room()
    assert_problem(server.put(message_path(room), json={"text": "no key"}), 401)
    assert_problem(server.delete(message_path(room)), 401)
    viewer = server.post("/admin/v1/tokens", admin=True,
                         json={"name": "message-viewer", "role": "viewer"}).json()["token"]
    operator = server.post("/admin/v1/tokens", admin=True,
                           json={"name": "message-operator", "role": "operator"}).json()["token"]
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    as_operator = {"Authorization": f"Bearer {operator}"}
    problem = assert_problem(set_message(server, room, "viewer", headers=as_viewer), 403)
    assert "operator role" in problem["detail"], problem
    assert_problem(server.delete(message_path(room), headers=as_viewer), 403)
    assert message_of(server, room) is None
    assert set_message(server, room, "from an operator", headers=as_operator).status_code == 200
    assert server.delete(message_path(room), headers=as_operator).status_code == 204


def test_each_change_is_in_the_audit_trail(server):
    room = server.create_room()
    assert set_message(server, room, "Doors open at 10").status_code == 200
    assert server.delete(message_path(room), admin=True).status_code == 204
    r = server.get("/admin/v1/audit", admin=True, params={"room": room})
    entries = [e for e in assert_json(r, 200)["entries"] if e["action"].endswith("/message")]
    assert [(e["action"], e["status"]) for e in entries] == [
        ("PUT /admin/v1/rooms/{room}/message", 200),
        ("DELETE /admin/v1/rooms/{room}/message", 204),
    ], entries
    assert entries[0]["details"] == {"text": "Doors open at 10"}, entries[0]
    assert entries[0]["actor"] == "admin key" and entries[0]["room"] == room


# ---- what visitors see ---------------------------------------------------------------------

def test_both_status_answers_carry_it(server):
    room = server.create_room()
    t = server.enqueue_ok(room)["ticket"]
    polled = assert_json(server.ticket(room, t), 200)
    assert polled["message"] is None
    msg = assert_json(set_message(server, room, 'Say "hi" \\ <b>bold</b>'), 200)["message"]
    polled = assert_json(server.ticket(room, t), 200)
    assert polled["message"] == msg
    assert server.room_status(room)["message"] == msg
    # The page's JSON for apps too.
    r = server.get(f"/r/{room}", headers={"Accept": "application/json",
                                          "Cookie": f"waitroom_{room}={t}"})
    page = assert_json(r, 200)
    assert page["message"] == msg and page["ticket"]["message"] == msg


def test_the_page_shows_it_as_escaped_text_with_and_without_a_place(server):
    room = server.create_room()
    page = server.get(f"/r/{room}", headers={"Accept": "text/html"})
    assert page.status_code == 200, describe(page)
    assert 'id="wr-message"' in page.text and "data-wr-message hidden>" in page.text
    text = "<script>alert('x')</script> & \"quotes\"\nsecond line"
    assert set_message(server, room, text).status_code == 200
    t = server.enqueue_ok(room)["ticket"]
    for headers in ({"Accept": "text/html"},
                    {"Accept": "text/html", "Cookie": f"waitroom_{room}={t}"}):
        page = server.get(f"/r/{room}", headers=headers)
        assert page.status_code == 200, describe(page)
        assert "<script>alert" not in page.text, "the message reached the page as HTML"
        assert html.escape(text, quote=True).replace("&#x27;", "&#39;") in page.text, page.text
        banner = page.text.index('id="wr-message"')
        assert banner < page.text.index("<main"), "the banner is near the top, above the card"
        assert 'aria-live="polite"' in page.text[banner - 200:banner + 200]
        assert "data-wr-message>" in page.text
    assert server.delete(message_path(room), admin=True).status_code == 204
    page = server.get(f"/r/{room}", headers={"Accept": "text/html"})
    assert "data-wr-message hidden>" in page.text and "alert" not in page.text


def test_an_open_stream_gets_the_message_when_set_and_cleared(server):
    room = server.create_room()
    server.enqueue_ok(room)
    t = server.enqueue_ok(room)["ticket"]
    s = EventStream(server, room, t)
    try:
        first = s.next_event()
        assert first["event"] == "status" and first["data"]["message"] is None, first
        started = time.monotonic()
        msg = assert_json(set_message(server, room, "Starts 10 minutes late"), 200)["message"]
        got = s.next_event()
        elapsed = time.monotonic() - started
        assert got["event"] == "message", got
        assert got["data"] == msg
        assert got["id"] > first["id"]
        assert elapsed < 2.0, f"the message took {elapsed:.3f} s to reach the stream"
        # A status that changes afterwards carries the message too.
        server.advance(room, by=1)
        status = s.next_event()
        assert status["event"] == "status" and status["data"]["message"] == msg, status
        assert server.delete(message_path(room), admin=True).status_code == 204
        cleared = s.next_event()
        assert cleared["event"] == "message" and cleared["data"] == {"text": None}, cleared
    finally:
        s.close()
    # A stream opened while a message is up gets it after the first status; one that comes
    # back (Last-Event-ID) is told there is none, as it may have missed the clear.
    msg = assert_json(set_message(server, room, "Back soon"), 200)["message"]
    s = EventStream(server, room, t)
    try:
        first = s.next_event()
        assert first["event"] == "status" and first["data"]["message"] == msg
        assert s.next_event() == {"event": "message", "id": first["id"], "data": msg}
    finally:
        s.close()
    assert server.delete(message_path(room), admin=True).status_code == 204
    s = EventStream(server, room, t, last_event_id=1)
    try:
        assert s.next_event()["event"] == "status"
        assert s.next_event()["data"] == {"text": None}
    finally:
        s.close()


# ---- durable, and what goes with the room ----------------------------------------------------

def test_kept_across_restart_and_compaction_and_reset_but_not_delete(server_factory):
    srv = server_factory(config_text="keep_events = true\n" + DEFAULT_CONFIG)
    room = srv.create_room()
    t = srv.enqueue_ok(room)["ticket"]
    msg = assert_json(set_message(srv, room, "Survives restarts\nand compaction"), 200)["message"]
    srv.restart()
    assert message_of(srv, room) == msg
    assert srv.ticket(room, t).json()["message"] == msg
    r = srv.post("/admin/v1/compact", admin=True)
    assert r.status_code == 200, describe(r)
    srv.restart()
    assert message_of(srv, room) == msg, "the compacted log's snapshot carries it"
    # A reset keeps it: the operators' note, not the line's state.
    r = srv.post(f"/admin/v1/rooms/{room}/reset", admin=True)
    assert r.status_code == 200, describe(r)
    assert message_of(srv, room) == msg
    # The event feed has each change, with the text or null.
    assert srv.delete(message_path(room), admin=True).status_code == 204
    r = srv.get("/admin/v1/events", admin=True, params={"room": room, "limit": 1000})
    changes = [e for e in assert_json(r, 200)["events"] if e["type"] == "room.message_changed"]
    # Each names who changed it (docs/events.md).
    assert all(e["data"].pop("actor") == {"name": "admin key", "via": "admin_key"}
               for e in changes), changes
    assert [e["data"] for e in changes] == [msg, {"text": None, "set_at": None}], changes
    srv.restart()
    assert message_of(srv, room) is None, "the clear survives a restart too"
    # A deleted room's message goes with it.
    assert set_message(srv, room, "gone with the room").status_code == 200
    assert srv.delete(f"/admin/v1/rooms/{room}", admin=True).status_code == 204
    srv.create_room(room)
    assert message_of(srv, room) is None
    srv.restart()
    assert message_of(srv, room) is None
