"""Leave and come back on three nodes sharing one Redis (docs/notifications.md): a notice set on
one node is the room's, on every node; only the node driving the room sends its messages, so a
visitor gets one mail however many nodes there are; and when that node dies with a message still
due (the mail server was down), another node takes the room over and sends it."""

import time

import pytest

from wrlib import DEFAULT_CONFIG, assert_json, describe, free_port, new_session, unique_room

from redislib import wait_for

QUIET = {"abuse": {"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0}}


@pytest.fixture
def sink(tmp_path):
    from mail_sink import MailSink
    s = MailSink(free_port(), tmp_path)
    yield s
    s.stop()


@pytest.fixture
def mail_cluster(redis, sink):
    from conftest import Cluster
    config = 'public_url = "https://queue.example.test"\n' + sink.config() + "\n" + DEFAULT_CONFIG
    c = Cluster(redis, config_text=config).start()
    yield c
    c.close()


def join(node, room):
    r = new_session().post(node.url(f"/v1/rooms/{room}/tickets"), json={}, timeout=10)
    assert r.status_code == 201, describe(r)
    return r.json()["ticket"]


def mails_to(sink, address):
    return [m for m in sink.received() if address in m.rcpt_tos]


def notice_of(node, room, ticket):
    return assert_json(node.get(f"/v1/rooms/{room}/tickets/{ticket}"), 200).get("notify")


def test_one_mail_whichever_node_was_asked(mail_cluster, sink):
    sink.start()
    a, b, c = mail_cluster
    room = a.create_room(unique_room("away"), admission={"mode": "manual"}, away_max_s=3600,
                         **QUIET)
    t = join(a, room)
    address = f"one+{room}@example.org"
    r = b.put(f"/v1/rooms/{room}/tickets/{t}/notify", json={"channel": "email", "email": address})
    assert_json(r, 200)
    wait_for(lambda: all((notice_of(n, room, t) or {}).get("channel") == "email"
                         for n in mail_cluster), 2.0)
    c.advance(room, by=1)
    assert wait_for(lambda: mails_to(sink, address), 10.0), "no mail"
    wait_for(lambda: all((notice_of(n, room, t) or {}).get("turn") == "sent"
                         for n in mail_cluster), 3.0)
    assert [(notice_of(n, room, t) or {}).get("turn") for n in mail_cluster] == ["sent"] * 3
    time.sleep(2)
    assert len(mails_to(sink, address)) == 1, [m.rcpt_tos for m in sink.received()]


def test_a_due_message_outlives_the_node_that_drove_the_room(mail_cluster, sink):
    a, b, c = mail_cluster
    room = a.create_room(unique_room("away"), admission={"mode": "manual"}, away_max_s=3600,
                         **QUIET)
    t = join(a, room)
    address = f"later+{room}@example.org"
    assert_json(a.put(f"/v1/rooms/{room}/tickets/{t}/notify",
                      json={"channel": "email", "email": address}), 200)
    a.advance(room, by=1)
    # The mail server is down: whichever node drives the room keeps failing and retrying.
    assert wait_for(lambda: any("notification failed; retrying" in n.log_text()
                                for n in mail_cluster), 10.0)
    driver = next(n for n in mail_cluster if "notification failed; retrying" in n.log_text())
    driver.kill9()
    sink.start()
    assert wait_for(lambda: mails_to(sink, address), 30.0), "the mail was lost with its node"
    survivor = next(n for n in mail_cluster if n is not driver)
    wait_for(lambda: (notice_of(survivor, room, t) or {}).get("turn") == "sent", 5.0)
    assert len(mails_to(sink, address)) == 1
