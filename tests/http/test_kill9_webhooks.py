"""Events leave only after their change is durable, and every acknowledged change's events arrive:
kill -9 under load, round after round, with a webhook receiver. Every ticket named in a delivered
`ticket.issued` event exists after the restart, at the position the event gave; and every ticket
the server acknowledged is announced, each room's events arriving in order (the log is the outbox,
and the sink's place in it is saved).

The log waits `[testing] log_write_delay_ms` before writing each batch, so every round kills the
server while changes are still undurable: a store that announced a ticket at the change (before
its record was written) delivers events for tickets that a restart does not have.

Ticket ids are derived from (room, epoch, position), so a lost ticket's id would name the next
ticket given that position: each round checks before any new ticket is taken.

`make test` runs WAITROOM_WEBHOOK_KILL_ROUNDS rounds (default 3); `make soak` runs 20.
"""

import json
import os
import threading
import time

import pytest

from test_crash import kill_under_load, writer
from wrlib import DEFAULT_CONFIG, WebhookSink, describe, wait_for

ROUNDS = int(os.environ.get("WAITROOM_WEBHOOK_KILL_ROUNDS", "3"))
ROOM = "demo"
RUN_S = 3.0
WRITE_DELAY_MS = 150
SECRET = "kill9-webhook-secret-0123456789"


@pytest.fixture
def sink_and_server(server_factory):
    """A webhook receiver, and a server delivering to it whose log waits before each batch."""
    sink = WebhookSink().start()
    config = (DEFAULT_CONFIG + sink.config(SECRET)
              + f"\n[testing]\nlog_write_delay_ms = {WRITE_DELAY_MS}\n")
    try:
        yield sink, server_factory(config_text=config)
    finally:
        sink.stop()


def issued(sink):
    return [e for e in sink.events() if e["type"] == "ticket.issued" and e["room"] == ROOM]


def test_no_event_names_a_ticket_that_a_kill9_undid(sink_and_server):
    sink, srv = sink_and_server
    acked = []
    lock = threading.Lock()
    log = []
    for round_no in range(1, ROUNDS + 1):
        errors = []
        stop_at = time.monotonic() + RUN_S
        threads = [threading.Thread(target=writer, args=(srv.base_url, stop_at, acked, errors, lock))
                   for _ in range(4)]
        kill_under_load(srv, threads, round_no, RUN_S, errors)

        # Nothing new is taken until every announced ticket is checked.
        events = issued(sink)
        for e in events:
            ticket, position = e["data"]["ticket"], e["data"]["position"]
            r = srv.get(f"/v1/rooms/{ROOM}/tickets/{ticket}")
            assert r.status_code == 200, (
                f"round {round_no}: ticket {ticket} (position {position}) was announced by a "
                f"webhook but is gone after kill -9: {describe(r)}")
            assert r.json()["position"] == position, describe(r)
        status = srv.room_status(ROOM)
        announced = max((e["data"]["position"] for e in events), default=0)
        assert status["queue_length"] >= announced, (
            f"round {round_no}: queue_length {status['queue_length']} < announced position {announced}")
        log.append((round_no, len(acked), len(events)))
    assert issued(sink), "no ticket.issued event was ever delivered: the test did not exercise webhooks"
    print(f"kill -9 rounds with a webhook (round, acknowledged tickets, announced tickets): {log}")


def first_arrivals(sink, room):
    """The room's events in the order each first arrived (a re-sent one is a duplicate)."""
    return [e for e in sink.events() if e["room"] == room]


def test_every_acknowledged_change_is_announced_in_order_across_kill9(sink_and_server):
    sink, srv = sink_and_server
    acked = []
    lock = threading.Lock()
    for round_no in range(1, ROUNDS + 1):
        errors = []
        stop_at = time.monotonic() + RUN_S
        threads = [threading.Thread(target=writer, args=(srv.base_url, stop_at, acked, errors, lock))
                   for _ in range(4)]
        kill_under_load(srv, threads, round_no, RUN_S, errors)
        # After the restart the sink continues from its saved place: what the killed process
        # had not delivered (or delivered without saving) comes now.
        want = {ticket for ticket, _ in acked}
        wait_for(lambda: want <= {e["data"]["ticket"] for e in issued(sink)}, timeout=30,
                 what=f"round {round_no}: a ticket.issued event for each of {len(want)} acknowledged tickets")
    events = first_arrivals(sink, ROOM)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs), "a room's events arrived out of order"
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a room's events have a gap"
    positions = [e["data"]["position"] for e in events if e["type"] == "ticket.issued"]
    assert positions == sorted(positions), "tickets were announced out of their order"
    resent = sum(len(json.loads(body)["events"]) for _, body in sink.batches) - len(sink.events())
    print(f"{ROUNDS} kill -9 rounds: {len(acked)} acknowledged tickets, {len(events)} events "
          f"of the room delivered in order, {resent} delivered again after a restart")
