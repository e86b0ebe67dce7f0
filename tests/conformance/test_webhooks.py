"""Audit events delivered to a webhook sink.

- every state change of the walk below becomes an event, with AWS's EventBridge detail types
  (token_generated, session_updated, waiting_room_metrics) keeping AWS's fields;
- every delivery is signed (X-Waitroom-Signature = HMAC-SHA256 of "timestamp.body");
- every event carries a unique id; a room's events arrive in the order they happened;
- a sink that is down for 10 s still receives every event, in order, once it is back.
"""

import hashlib
import hmac
import time

from conflib import DURABILITY, TESTING_CONFIG, clock_advance, make_room
from wrlib import WebhookSink, describe, free_port

SECRET = "webhook-test-secret-0123456789"
OUTAGE_S = 10
DELIVERY_TIMEOUT_S = 30


class Sink(WebhookSink):
    """The shared receiver (wrlib.WebhookSink), waiting for what a walk should deliver."""

    def wait_for(self, predicate, what):
        deadline = time.monotonic() + DELIVERY_TIMEOUT_S
        while time.monotonic() < deadline:
            if predicate(self.events()):
                return self.events()
            time.sleep(0.1)
        raise AssertionError(f"the sink did not receive {what} within {DELIVERY_TIMEOUT_S} s; "
                             f"got {[e['type'] for e in self.events()][-20:]}")


def test_events_reach_the_sink_signed_unique_and_in_order_across_an_outage(server_factory):
    sink = Sink(free_port())
    sink.start()
    config = TESTING_CONFIG + f'\n[[webhooks]]\nurl = "http://127.0.0.1:{sink.port}/hook"\nsecret = "{SECRET}"\n'
    srv = server_factory(config_text=config, durability=DURABILITY)
    try:
        room = make_room(srv, pass_lifetime_s=3600)
        tickets = [srv.enqueue_ok(room)["ticket"] for _ in range(20)]
        srv.advance(room, by=5)
        r = srv.pass_for(room, tickets[0])
        assert r.status_code == 200, describe(r)
        assert srv.set_session(room, tickets[0], "completed").status_code == 200
        assert srv.post(f"/admin/v1/rooms/{room}/pause", admin=True).status_code == 200
        assert srv.post(f"/admin/v1/rooms/{room}/resume", admin=True).status_code == 200
        clock_advance(srv, 60_000)  # a minute: waiting_room_metrics

        def mine(events):
            return [e for e in events if e["room"] == room]

        events = sink.wait_for(lambda ev: any(e["type"] == "room.resumed" for e in mine(ev))
                               and any(e["type"] == "waiting_room_metrics" for e in mine(ev)),
                               "the whole walk")
        types = [e["type"] for e in mine(events)]
        assert types[0] == "policy.changed" and types.count("ticket.issued") == 20, types
        for t in ("serving.advanced", "ticket.admitted", "token_generated", "session_updated",
                  "room.paused", "room.resumed", "waiting_room_metrics"):
            assert t in types, f"no {t} event: {types}"
        assert types.count("ticket.admitted") == 5, types
        issued = [e["data"]["position"] for e in mine(events) if e["type"] == "ticket.issued"]
        assert issued == list(range(1, 21)), f"ticket.issued out of order: {issued}"
        assert types.index("room.paused") < types.index("room.resumed")
        by_type = {e["type"]: e for e in mine(events)}
        assert by_type["token_generated"]["data"]["event_id"] == room
        assert by_type["token_generated"]["data"]["request_id"] == tickets[0]
        # An operator ended it: the event names who (docs/events.md), beside AWS's fields.
        updated = dict(by_type["session_updated"]["data"])
        assert updated.pop("actor") == {"name": "admin key", "via": "admin_key"}, updated
        assert updated == {"event_id": room, "request_id": tickets[0], "status": "completed"}
        metrics = by_type["waiting_room_metrics"]["data"]
        for f in ("event_id", "num_active_tokens", "total_num_tokens", "queue_counter",
                  "serving_number", "completed_sessions", "abandoned_sessions"):
            assert f in metrics, f"waiting_room_metrics lacks AWS's {f}: {metrics}"
        for e in events:
            assert set(e) >= {"id", "type", "room", "time", "time_ms", "data"}, e

        # signatures
        with sink.lock:
            batches = list(sink.batches)
        for headers, body in batches:
            ts = headers["X-Waitroom-Timestamp"]
            want = "sha256=" + hmac.new(SECRET.encode(), ts.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["X-Waitroom-Signature"], want), headers

        # the sink goes away for 10 s; nothing is lost
        sink.stop()
        more = [srv.enqueue_ok(room)["ticket"] for _ in range(30)]
        time.sleep(OUTAGE_S)
        assert srv.post(f"/admin/v1/rooms/{room}/reset", admin=True).status_code == 200
        sink.start()
        events = sink.wait_for(lambda ev: any(e["type"] == "room.reset" for e in mine(ev)),
                               "the events of the outage")
        issued = [e["data"]["position"] for e in mine(events) if e["type"] == "ticket.issued"]
        assert issued == list(range(1, 51)), f"events lost or reordered across the outage: {issued}"
        assert [e["data"]["ticket"] for e in mine(events) if e["type"] == "ticket.issued"][20:] == more
        ids = [e["id"] for e in events]
        assert len(ids) == len(set(ids))

        # The server counts a delivery once the sink's answer is back, a moment after the sink
        # has the events.
        deadline = time.monotonic() + 5
        while True:
            text = srv.get("/metrics").text
            delivered = [l for l in text.splitlines() if l.startswith("waitroom_webhook_events_delivered_total")]
            if (delivered and int(float(delivered[0].split()[-1])) >= len(events)) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        failures = [l for l in text.splitlines() if l.startswith("waitroom_webhook_delivery_failures_total")]
        assert delivered and int(float(delivered[0].split()[-1])) >= len(events), delivered
        assert failures and int(float(failures[0].split()[-1])) > 0, "the outage left no trace in /metrics"
    finally:
        sink.stop()
