"""Live updates: GET /v1/rooms/{room}/tickets/{ticket}/events (Server-Sent Events).

The stream is read over a raw socket so that timing is measured, not hidden in a client
library: the first message is the current status, a change reaches an open stream within a
second, Last-Event-ID skips what the client has, heartbeats come, a final status ends the
stream, errors are the GET's problem+json, the per-process limit answers 503, and an open
stream keeps its visitor present.
"""

import json
import re
import socket
import time

import yaml

from wrlib import (DEFAULT_CONFIG, REPO, TEST_CLOCK_CONFIG, assert_problem, describe,
                   random_ticket_id)

STREAM_TIMEOUT_S = 10.0
FINAL_STATUSES = {"expired", "completed", "abandoned", "revoked"}


class EventStream:
    """One GET …/events over a raw socket: the answer's head, then SSE blocks as they come."""

    def __init__(self, server, room, ticket, last_event_id=None, method="GET"):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=STREAM_TIMEOUT_S)
        lines = [f"{method} /v1/rooms/{room}/tickets/{ticket}/events HTTP/1.1",
                 f"Host: 127.0.0.1:{server.port}", "Accept: text/event-stream"]
        if last_event_id is not None:
            lines.append(f"Last-Event-ID: {last_event_id}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        self.closed = False
        head = self._read_until(b"\r\n\r\n", STREAM_TIMEOUT_S)
        assert head is not None, f"no answer head; got {self.buf!r}"
        status_line, *fields = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        self.headers = {}
        for f in fields:
            k, _, v = f.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return False
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        return True

    def _read_until(self, sep, timeout):
        deadline = time.monotonic() + timeout
        while sep not in self.buf:
            if not self._fill(deadline):
                return None
        part, _, self.buf = self.buf.partition(sep)
        return part

    def body(self):
        """A non-stream answer's body (Content-Length)."""
        n = int(self.headers.get("content-length", "0"))
        deadline = time.monotonic() + STREAM_TIMEOUT_S
        while len(self.buf) < n and self._fill(deadline):
            pass
        return self.buf[:n]

    def next_block(self, timeout=STREAM_TIMEOUT_S):
        """The next SSE block as a list of lines, or None (timeout or closed)."""
        block = self._read_until(b"\n\n", timeout)
        return None if block is None else block.decode().split("\n")

    def next_event(self, timeout=STREAM_TIMEOUT_S):
        """The next block that dispatches a message: {"id", "event", "data"}; None if none came."""
        deadline = time.monotonic() + timeout
        while True:
            block = self.next_block(max(0.0, deadline - time.monotonic()))
            if block is None:
                return None
            fields = {}
            for line in block:
                if line.startswith(":"):
                    continue
                k, _, v = line.partition(":")
                fields[k] = v[1:] if v.startswith(" ") else v
            if "data" in fields:
                assert fields.get("event") == "status", block
                assert re.fullmatch(r"\d+", fields.get("id", "")), block
                return {"id": int(fields["id"]), "event": fields["event"],
                        "data": json.loads(fields["data"])}

    def wait_closed(self, timeout=STREAM_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        return self.closed

    def close(self):
        self.sock.close()


def open_stream(server, room, ticket, **kw):
    s = EventStream(server, room, ticket, **kw)
    assert s.status == 200, f"stream answered {s.status} {s.headers} {s.buf!r}"
    return s


def metric(server, name):
    r = server.get("/metrics")
    assert r.status_code == 200, describe(r)
    m = re.search(rf"^{re.escape(name)} (\d+)$", r.text, re.M)
    assert m, f"{name} not in /metrics"
    return int(m.group(1))


# ---- the stream ----------------------------------------------------------------------------

def test_first_message_is_the_current_status_with_an_id(server):
    room = server.create_room()
    server.enqueue_ok(room)
    t = server.enqueue_ok(room)["ticket"]
    s = open_stream(server, room, t)
    try:
        assert s.headers["content-type"] == "text/event-stream", s.headers
        assert s.headers["cache-control"] == "no-store", s.headers
        assert s.headers["x-accel-buffering"] == "no", s.headers
        assert "content-length" not in s.headers, s.headers
        assert s.next_block() == ["retry: 3000"]
        first = s.next_event(timeout=2)
        assert first is not None, "no first message"
        polled = server.ticket(room, t).json()
        assert first["data"] == polled, (first, polled)
        assert first["data"]["position"] == 2 and first["data"]["ahead"] == 1
    finally:
        s.close()


def test_an_advance_reaches_an_open_stream_within_a_second(server):
    room = server.create_room()
    server.enqueue_ok(room)
    t = server.enqueue_ok(room)["ticket"]
    s = open_stream(server, room, t)
    try:
        first = s.next_event(timeout=2)
        assert first["data"]["serving"] == 0
        started = time.monotonic()
        server.advance(room, by=1)
        changed = s.next_event(timeout=3)
        elapsed = time.monotonic() - started
        assert changed is not None, "the advance never reached the stream"
        assert elapsed < 1.0, f"the advance took {elapsed:.3f} s to reach the stream"
        assert changed["data"]["serving"] == 1 and changed["data"]["ahead"] == 0, changed
        assert changed["data"]["status"] == "waiting"
        assert changed["id"] > first["id"], (first["id"], changed["id"])
        # Position 2 is let in next: eligible.
        server.advance(room, by=1)
        eligible = s.next_event(timeout=3)
        assert eligible["data"]["status"] == "eligible", eligible
        assert eligible["id"] > changed["id"]
    finally:
        s.close()


def test_a_new_ticket_behind_is_not_a_message(server):
    room = server.create_room()
    t = server.enqueue_ok(room)["ticket"]
    s = open_stream(server, room, t)
    try:
        assert s.next_event(timeout=2) is not None
        for _ in range(3):
            server.enqueue_ok(room)
        assert s.next_event(timeout=1.0) is None, "a join behind the visitor sent a message"
    finally:
        s.close()


def test_last_event_id_skips_what_the_client_has(server):
    room = server.create_room()
    server.enqueue_ok(room)
    t = server.enqueue_ok(room)["ticket"]
    s = open_stream(server, room, t)
    first = s.next_event(timeout=2)
    s.close()

    resumed = open_stream(server, room, t, last_event_id=first["id"])
    stale = open_stream(server, room, t, last_event_id=first["id"] - 1)
    try:
        assert resumed.next_block() == ["retry: 3000"]
        assert resumed.next_event(timeout=1.0) is None, "the message the client had was sent again"
        again = stale.next_event(timeout=2)
        assert again is not None and again["id"] == first["id"], again
        server.advance(room, by=1)
        moved = resumed.next_event(timeout=3)
        assert moved is not None and moved["id"] > first["id"] and moved["data"]["serving"] == 1
    finally:
        resumed.close()
        stale.close()


def test_heartbeat_comes_on_an_idle_stream(server_factory):
    srv = server_factory(config_text="[limits]\nevent_heartbeat_s = 1\n\n" + DEFAULT_CONFIG)
    room = srv.create_room()
    t = srv.enqueue_ok(room)["ticket"]
    s = open_stream(srv, room, t)
    try:
        assert s.next_event(timeout=2) is not None
        started = time.monotonic()
        block = s.next_block(timeout=3)
        assert block == [": heartbeat"], block
        assert 0.5 < time.monotonic() - started < 2.5
        assert s.next_block(timeout=3) == [": heartbeat"]
    finally:
        s.close()


def test_a_final_status_is_sent_and_ends_the_stream(server):
    room = server.create_room()
    t = server.enqueue_ok(room)["ticket"]
    server.advance(room, by=1)
    s = open_stream(server, room, t)
    try:
        assert s.next_event(timeout=2)["data"]["status"] == "eligible"
        r = server.pass_for(room, t)
        assert r.status_code == 200, describe(r)
        admitted = s.next_event(timeout=3)
        assert admitted["data"]["status"] == "admitted", admitted
        assert not s.closed
        r = server.set_session(room, t, "completed")
        assert r.status_code == 200, describe(r)
        done = s.next_event(timeout=3)
        assert done is not None and done["data"]["status"] == "completed", done
        assert s.wait_closed(timeout=3), "the stream stayed open after a final status"
    finally:
        s.close()
    # Reconnecting after the final status with its id: 204, which stops an EventSource.
    again = EventStream(server, room, t, last_event_id=done["id"])
    try:
        assert again.status == 204, (again.status, again.headers)
    finally:
        again.close()
    # Without the id the final status is sent once more, and the stream ends.
    fresh = open_stream(server, room, t)
    try:
        assert fresh.next_event(timeout=2)["data"]["status"] == "completed"
        assert fresh.wait_closed(timeout=3)
    finally:
        fresh.close()


def _problem_of(stream, status):
    assert stream.status == status, (stream.status, stream.headers, stream.buf)
    assert stream.headers["content-type"] == "application/problem+json", stream.headers
    body = json.loads(stream.body())
    assert body["status"] == status and body["detail"], body
    return body


def test_unknown_room_or_ticket_is_404_and_no_stream(server):
    room = server.create_room()
    t = server.enqueue_ok(room)["ticket"]
    for r, tk in (("no-such-room", t), (room, random_ticket_id()), (room, "not-a-ticket")):
        s = EventStream(server, r, tk)
        try:
            _problem_of(s, 404)
            assert_problem(server.get(f"/v1/rooms/{r}/tickets/{tk}"), 404)
        finally:
            s.close()


def test_a_ticket_of_another_epoch_is_410_and_a_reset_ends_its_stream(server):
    room = server.create_room()
    t = server.enqueue_ok(room)["ticket"]
    s = open_stream(server, room, t)
    try:
        assert s.next_event(timeout=2) is not None
        r = server.post(f"/admin/v1/rooms/{room}/reset", admin=True)
        assert r.status_code == 200, describe(r)
        assert s.next_event(timeout=3) is None
        assert s.closed, "a reset left the old epoch's stream open"
    finally:
        s.close()
    gone = EventStream(server, room, t)
    try:
        _problem_of(gone, 410)
    finally:
        gone.close()


def test_streams_beyond_the_limit_get_503_with_retry_after(server_factory):
    srv = server_factory(config_text="[limits]\nmax_event_streams = 2\n\n" + DEFAULT_CONFIG)
    room = srv.create_room()
    tickets = [srv.enqueue_ok(room)["ticket"] for _ in range(3)]
    a = open_stream(srv, room, tickets[0])
    b = open_stream(srv, room, tickets[1])
    c = EventStream(srv, room, tickets[2])
    try:
        _problem_of(c, 503)
        assert c.headers.get("retry-after", "").isdigit(), c.headers
        assert metric(srv, "waitroom_event_streams_refused_total") == 1
        assert metric(srv, "waitroom_event_streams_open") == 2
        a.close()  # the server notices the close and frees the slot
        deadline = time.monotonic() + 5
        while metric(srv, "waitroom_event_streams_open") != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert metric(srv, "waitroom_event_streams_open") == 1
        d = open_stream(srv, room, tickets[2])
        d.close()
    finally:
        b.close()
        c.close()


def test_open_streams_do_not_count_against_max_connections(server_factory):
    # An open stream has left the server's request loop: only max_event_streams limits them.
    srv = server_factory(config_text="[limits]\nmax_connections = 2\n\n" + DEFAULT_CONFIG)
    room = srv.create_room()
    tickets = [srv.enqueue_ok(room)["ticket"] for _ in range(3)]
    streams = []
    try:
        for t in tickets:
            streams.append(open_stream(srv, room, t))
            assert streams[-1].next_event(timeout=2) is not None
        assert srv.ticket(room, tickets[0]).status_code == 200
        srv.advance(room, by=1)
        for s in streams:
            assert s.next_event(timeout=3)["data"]["serving"] == 1
    finally:
        for s in streams:
            s.close()


def test_metrics_count_streams_and_messages(server):
    room = server.create_room()
    t = server.enqueue_ok(room)["ticket"]
    before = metric(server, "waitroom_event_messages_total")
    s = open_stream(server, room, t)
    try:
        assert s.next_event(timeout=2) is not None
        assert metric(server, "waitroom_event_streams_open") >= 1
        assert metric(server, "waitroom_event_messages_total") >= before + 1
    finally:
        s.close()


def test_an_open_stream_keeps_its_visitor_present(server_factory):
    config = TEST_CLOCK_CONFIG + "\n[limits]\nevent_heartbeat_s = 1\n"
    srv = server_factory(config_text=config)
    room = srv.create_room(ticket_idle_timeout_s=60)
    streamed = srv.enqueue_ok(room)["ticket"]
    silent = srv.enqueue_ok(room)["ticket"]
    s = open_stream(srv, room, streamed)
    try:
        assert s.next_event(timeout=2) is not None
        for _ in range(4):  # 100 s of test clock, well past the 60 s idle timeout
            srv.advance_clock(25_000)
            for _ in range(2):  # the second heartbeat surely read the moved clock
                block = s.next_block(timeout=3)
                while block is not None and block != [": heartbeat"]:
                    block = s.next_block(timeout=3)
                assert block == [": heartbeat"], "no heartbeat on the open stream"
    finally:
        s.close()
    assert srv.ticket(room, silent).json()["status"] == "expired"
    assert srv.ticket(room, streamed).json()["status"] == "waiting"


def test_server_stop_closes_the_streams(server_factory):
    srv = server_factory()
    room = srv.create_room()
    t = srv.enqueue_ok(room)["ticket"]
    s = open_stream(srv, room, t)
    try:
        assert s.next_event(timeout=2) is not None
        assert srv.stop() == 0
        assert s.wait_closed(timeout=3), "the stream outlived the server"
    finally:
        s.close()


def test_head_answers_the_stream_head_only(server):
    room = server.create_room()
    t = server.enqueue_ok(room)["ticket"]
    s = EventStream(server, room, t, method="HEAD")
    try:
        assert s.status == 200 and s.headers["content-type"] == "text/event-stream"
        assert s.wait_closed(timeout=3) and s.buf == b""
    finally:
        s.close()


def test_openapi_documents_the_route_as_an_event_stream():
    spec = yaml.safe_load((REPO / "docs" / "openapi.yaml").read_text())
    op = spec["paths"]["/v1/rooms/{room}/tickets/{ticket}/events"]["get"]
    assert "text/event-stream" in op["responses"]["200"]["content"]
    for code in ("404", "410", "503"):
        assert code in {str(c) for c in op["responses"]}, code
