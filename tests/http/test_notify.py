"""Leave and come back (docs/notifications.md): a waiting visitor asks to be notified (PUT
/v1/rooms/{room}/tickets/{ticket}/notify) by Web Push, e-mail or the operator's webhook, keeps the
place while away up to the room's away_max_s, and is told "almost your turn" (estimate p90 at
most notify_before_s, or at most notify_ahead ahead) and "it's your turn" (on admission) with the
resume link back to the place.

The push service here is tests/http/push_receiver.mjs: it checks the VAPID JWT against the key the
server publishes and decrypts each message with the npm http_ece package, as a browser would. The
mail server is aiosmtpd (tests/http/mail_sink.py), offering STARTTLS with its own CA. Every server
runs on the manual clock, so admissions and nearing turns happen only when a test moves it; the
notifier itself runs on real time, so tests wait for what it sends.
"""

import json
import re
import subprocess
import time
from pathlib import Path

import pytest

from wrlib import (TEST_CLOCK_CONFIG, Server, assert_json, assert_problem, binary_path, describe,
                   free_port, new_session, unique_room, wait_for)

PUBLIC_URL = "https://queue.example.test"
QUIET = {"abuse": {"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0}}
MANUAL = {"mode": "manual"}
REPO = Path(__file__).resolve().parents[2]
RESUME_RE = re.compile(re.escape(PUBLIC_URL) + r"(/r/[A-Za-z0-9_-]+/resume/[A-Za-z0-9_-]{22})")


# The webhook channel needs somewhere to tell: a receiver that is never there (deliveries retry).
WEBHOOK = '[[webhooks]]\nurl = "http://127.0.0.1:9/hook"\nsecret = "notify-test-webhook-secret"\n'


def server_config(sink, webhook=True):
    return (f'public_url = "{PUBLIC_URL}"\nkeep_events = true\n'
            + (WEBHOOK if webhook else "")
            + sink.config()
            + '\n[push]\nsubject = "mailto:ops@example.test"\nallowed_hosts = ["127.0.0.1"]\n'
            + TEST_CLOCK_CONFIG)


@pytest.fixture(scope="module")
def sink(tmp_path_factory):
    from mail_sink import MailSink
    s = MailSink(free_port(), tmp_path_factory.mktemp("mail")).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def srv(sink):
    if not binary_path().exists():
        pytest.fail(f"waitroom binary not found at {binary_path()}", pytrace=False)
    s = Server(config_text=server_config(sink), name="waitroom-notify").start()
    yield s
    s.shut_down()


class PushReceiver:
    def __init__(self, key, workdir):
        self.port = free_port()
        self.log = Path(workdir) / "pushes.jsonl"
        self.log.touch()
        self.proc = subprocess.Popen(
            ["node", str(REPO / "tests/http/push_receiver.mjs"), str(self.port), str(self.log), key],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        line = self.proc.stdout.readline()
        assert line, self.proc.stderr.read()
        self.subscription = json.loads(line)

    def subscription_for(self, name):
        sub = json.loads(json.dumps(self.subscription))
        sub["endpoint"] += name
        return sub

    def pushes(self, name=None):
        out = [json.loads(l) for l in self.log.read_text().splitlines() if l.strip()]
        return [p for p in out if name is None or p["path"] == f"/push/{name}"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def push(srv, tmp_path_factory):
    setup = assert_json(srv.get("/v1/notify"), 200)
    r = PushReceiver(setup["push"]["public_key"], tmp_path_factory.mktemp("push"))
    yield r
    r.stop()


def away_room(srv, **more):
    cfg = {"admission": MANUAL, "away_max_s": 3600, "ticket_idle_timeout_s": 60,
           "claim_timeout_s": 600, **QUIET}
    cfg.update(more)
    return srv.create_room(**cfg)


def join(srv, room):
    s = new_session()
    r = s.post(srv.url(f"/v1/rooms/{room}/tickets"), json={}, timeout=10)
    assert r.status_code == 201, describe(r)
    return r.json()["ticket"]


def notify(srv, room, ticket, body, status=200):
    r = srv.put(f"/v1/rooms/{room}/tickets/{ticket}/notify", json=body)
    if status == 200:
        return assert_json(r, 200)
    return assert_problem(r, status)


def events_of(srv, room, *kinds):
    out, after = [], 0
    while True:
        page = assert_json(srv.get("/admin/v1/events", admin=True,
                                   params={"room": room, "after": after, "limit": 1000}), 200)
        out += page["events"]
        if not page["more"] or not page["events"]:
            break
        after = page["next_after"]
    return [e for e in out if not kinds or e["type"] in kinds]


def mails_to(sink, address):
    return [m for m in sink.received() if address in m.rcpt_tos]


def admit(srv, room, by):
    """An operator's advance, then a step of the driver (which gathers what is due to send; on the
    manual clock it runs only when the clock moves)."""
    srv.advance(room, by=by)
    step(srv, 1)


def step(srv, seconds=1):
    """Moves the test clock a little at a time: the room looks for nearing turns once a second."""
    for _ in range(seconds):
        srv.advance_clock(1000)


def test_setup_lists_channels_and_the_vapid_key(srv):
    body = assert_json(srv.get("/v1/notify"), 200)
    assert body["channels"] == ["push", "email", "webhook"], body
    import base64
    raw = base64.urlsafe_b64decode(body["push"]["public_key"] + "==")
    assert len(raw) == 65 and raw[0] == 4, body
    assert body["push"]["key_id"], body


def test_bad_requests_change_nothing(srv, push):
    room = away_room(srv)
    t = join(srv, room)
    base = f"/v1/rooms/{room}/tickets/{t}/notify"
    assert "channel" in notify(srv, room, t, {}, 400)["detail"]
    notify(srv, room, t, {"channel": "sms"}, 400)
    notify(srv, room, t, {"channel": "email"}, 400)
    for bad in ["nobody", "a@b", "x@example.com\r\nBcc: all@example.org", "a b@example.com",
                "<x@example.com>", "x" * 250 + "@example.com"]:
        notify(srv, room, t, {"channel": "email", "email": bad}, 400)
    sub = push.subscription_for("x")
    notify(srv, room, t, {"channel": "push"}, 400)
    elsewhere = dict(sub, endpoint="https://evil.example.net/push/x")
    assert "allowed_hosts" in notify(srv, room, t, {"channel": "push", "subscription": elsewhere},
                                     403)["detail"]
    plain = dict(sub, endpoint="http://fcm.googleapis.com/x")
    notify(srv, room, t, {"channel": "push", "subscription": plain}, 403)
    short = dict(sub, keys={"p256dh": "AAAA", "auth": sub["keys"]["auth"]})
    notify(srv, room, t, {"channel": "push", "subscription": short}, 400)
    notify(srv, room, t, {"channel": "push", "subscription": sub, "key_id": "nope"}, 400)
    r = srv.put(base, data="not json", headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    # None of it set a notice.
    assert "notify" not in srv.ticket(room, t).json()
    # Unknown tickets and rooms.
    assert_problem(srv.put(f"/v1/rooms/{room}/tickets/{'0' * 8}-0000-4000-8000-{'0' * 12}/notify",
                           json={"channel": "webhook"}), 404)
    assert_problem(srv.put(f"/v1/rooms/{unique_room('none')}/tickets/{t}/notify",
                           json={"channel": "webhook"}), 404)


def test_the_webhook_channel_needs_a_webhook(sink):
    s = Server(config_text=server_config(sink, webhook=False), name="waitroom-notify-nohook").start()
    try:
        assert assert_json(s.get("/v1/notify"), 200)["channels"] == ["push", "email"]
        room = away_room(s)
        t = join(s, room)
        assert "webhooks" in notify(s, room, t, {"channel": "webhook"}, 409)["detail"]
    finally:
        s.shut_down()


def test_a_room_without_away_mode_takes_no_notices(srv):
    room = srv.create_room(admission=MANUAL, **QUIET)
    t = join(srv, room)
    assert "away_max_s" in notify(srv, room, t, {"channel": "webhook"}, 409)["detail"]
    assert srv.room_status(room)["away_max_s"] == 0


def test_an_admitted_ticket_takes_no_notice(srv):
    room = away_room(srv)
    t = join(srv, room)
    srv.advance(room, by=1)
    notify(srv, room, t, {"channel": "webhook"}, 409)


def test_away_keeps_the_place_up_to_away_max_s(srv):
    room = away_room(srv, ticket_idle_timeout_s=60, away_max_s=300)
    away, gone = join(srv, room), join(srv, room)
    body = notify(srv, room, away, {"channel": "webhook"})
    assert body["notify"]["channel"] == "webhook", body
    assert body["notify"]["away_until"], body
    def expired():
        return {e["data"]["ticket"] for e in events_of(srv, room, "ticket.expired")}
    step(srv, 90)  # past the idle timeout: the visitor without a notice has left
    # The step's events join the feed once its record is durable, a moment after the clock moved.
    wait_for(lambda: gone in expired(), 10, "the idle visitor's ticket.expired")
    assert away not in expired(), expired()
    step(srv, 230)  # 320 s away: past away_max_s too
    wait_for(lambda: away in expired(), 10, "the away visitor's ticket.expired")
    assert srv.ticket(room, away).json()["status"] == "expired"


def test_operators_see_how_many_are_told(srv):
    room = away_room(srv)
    a, b = join(srv, room), join(srv, room)
    notify(srv, room, a, {"channel": "webhook"})
    notify(srv, room, b, {"channel": "email", "email": f"count+{room}@example.org"})
    assert srv.stats(room)["notices"] == {"set": 2, "due": 0}
    metrics = srv.get("/metrics").text
    assert f'waitroom_notices{{room="{room}"}} 2' in metrics
    assert f'waitroom_notices_due{{room="{room}"}} 0' in metrics
    plain = srv.create_room(admission=MANUAL, **QUIET)
    assert "notices" not in srv.stats(plain)
    assert f'waitroom_notices{{room="{plain}"}}' not in metrics


def test_cancel_stops_notices(srv):
    room = away_room(srv)
    t = join(srv, room)
    notify(srv, room, t, {"channel": "webhook"})
    r = srv.delete(f"/v1/rooms/{room}/tickets/{t}/notify")
    assert "notify" not in assert_json(r, 200)
    assert_json(srv.delete(f"/v1/rooms/{room}/tickets/{t}/notify"), 200)  # again: a no-op
    srv.advance(room, by=1)
    step(srv, 2)
    assert not events_of(srv, room, "ticket.turn", "ticket.turn_near")
    kinds = [e["type"] for e in events_of(srv, room, "ticket.notice_set", "ticket.notice_cancelled")]
    assert kinds == ["ticket.notice_set", "ticket.notice_cancelled"], kinds


def test_webhook_channel_is_told_by_events(srv):
    room = away_room(srv, notify_ahead=2)
    tickets = [join(srv, room) for _ in range(5)]
    last = tickets[-1]
    notify(srv, room, last, {"channel": "webhook"})
    step(srv, 2)
    assert not events_of(srv, room, "ticket.turn_near")  # four ahead
    srv.advance(room, by=2)
    step(srv, 2)
    near = wait_for(lambda: events_of(srv, room, "ticket.turn_near"), what="ticket.turn_near")
    assert len(near) == 1, near
    assert near[0]["data"]["ticket"] == last and near[0]["data"]["ahead"] == 2, near
    assert near[0]["data"]["channel"] == "webhook", near
    # An operator's own channel (SMS) sends the visitor back by the place's resume link.
    path = near[0]["data"]["resume_path"]
    assert re.fullmatch(rf"/r/{room}/resume/[A-Za-z0-9_-]{{22}}", path), near
    r = new_session().get(srv.url(path), allow_redirects=False, timeout=10)
    assert f"waitroom_{room}={last};" in r.headers.get("Set-Cookie", ""), describe(r)
    srv.advance(room, by=3)
    turn = wait_for(lambda: events_of(srv, room, "ticket.turn"), what="ticket.turn")
    assert [e["data"]["ticket"] for e in turn] == [last], turn
    assert turn[0]["data"]["claim_until"], turn
    assert turn[0]["data"]["resume_path"] == path, turn
    body = srv.ticket(room, last).json()
    assert body["notify"]["turn_near"] == "sent" and body["notify"]["turn"] == "sent", body
    step(srv, 3)
    assert len(events_of(srv, room, "ticket.turn_near")) == 1  # once per ticket and kind


def test_email_end_to_end(srv, sink):
    room = away_room(srv, notify_ahead=1)
    first = join(srv, room)
    t = join(srv, room)
    address = f"visitor+{room}@example.org"
    body = notify(srv, room, t, {"channel": "email", "email": address, "lang": "en"})
    assert body["notify"] == {"channel": "email", "turn_near": "none", "turn": "none",
                              "away_until": body["notify"]["away_until"]}, body
    step(srv, 2)  # one ahead: its turn nears
    near = wait_for(lambda: mails_to(sink, address), what="the near mail")
    assert len(near) == 1
    mail = near[0]
    assert mail.tls, "the mail server offered STARTTLS: the mail must have come over TLS"
    assert room in mail.subject, mail.subject
    assert mail.mail_from == "queue@example.test", mail.mail_from
    link = RESUME_RE.search(mail.text())
    assert link, mail.text()
    assert link.group(1) in mail.html(), mail.html()
    wait_for(lambda: srv.ticket(room, t).json()["notify"]["turn_near"] == "sent", what="sent")

    admit(srv, room, 2)  # its turn
    mails = wait_for(lambda: len(mails_to(sink, address)) == 2 and mails_to(sink, address),
                     what="the turn mail")
    turn = mails[1]
    assert turn.subject != mail.subject, turn.subject
    path = RESUME_RE.search(turn.text()).group(1)
    assert path == link.group(1), "one place, one resume link"

    # The link restores the place in a browser that never had it.
    fresh = new_session()
    r = fresh.get(srv.url(path), allow_redirects=False, timeout=10)
    assert r.status_code in (200, 302, 303), describe(r)
    assert f"waitroom_{room}={t};" in r.headers.get("Set-Cookie", ""), describe(r)
    page = fresh.get(srv.url(f"/r/{room}"), headers={"Cookie": f"waitroom_{room}={t}"}, timeout=10)
    assert page.status_code == 200 and "/enter" in page.text, describe(page)
    r = fresh.post(srv.url(f"/v1/rooms/{room}/tickets/{t}/pass"), timeout=10)
    assert r.status_code == 200, describe(r)
    # The wait is over: the notice and its address are gone.
    assert "notify" not in srv.ticket(room, t).json()
    # Never in an event, nor in the data dir's files in the clear.
    assert address not in json.dumps(events_of(srv, room))
    for f in srv.data_dir.rglob("*"):
        if f.is_file():
            assert address.encode() not in f.read_bytes(), f
    assert address not in srv.log_text()
    assert first  # the one ahead was admitted first


def test_email_in_the_visitors_language(srv, sink):
    room = away_room(srv)
    t = join(srv, room)
    address = f"leser+{room}@example.org"
    notify(srv, room, t, {"channel": "email", "email": address, "lang": "de"})
    en = join(srv, room)
    admit(srv, room, 1)
    mail = wait_for(lambda: mails_to(sink, address), what="the German mail")[0]
    assert "?lang=de" in mail.text(), mail.text()
    assert en  # a second visitor, never notified
    english = json.loads((REPO / "src/web/assets/i18n/en.json").read_text())
    german = json.loads((REPO / "src/web/assets/i18n/de.json").read_text())
    assert german["notify_turn_title"] != english["notify_turn_title"]
    assert mail.subject == german["notify_turn_title"].replace("{room}", room), mail.subject


def test_push_end_to_end(srv, push):
    room = away_room(srv, notify_ahead=1)
    join(srv, room)
    t = join(srv, room)
    setup = assert_json(srv.get("/v1/notify"), 200)
    name = f"v-{room}"
    body = notify(srv, room, t, {"channel": "push", "subscription": push.subscription_for(name),
                                 "key_id": setup["push"]["key_id"], "lang": "en"})
    assert body["notify"]["channel"] == "push", body
    step(srv, 2)
    near = wait_for(lambda: push.pushes(name), what="the near push")
    assert near[0]["ok"], near
    p = near[0]["payload"]
    assert p["kind"] == "turn_near" and p["room"] == room and p["position"] == 2, p
    assert room in p["title"] and "/resume/" in p["url"], p
    assert int(near[0]["ttl"]) > 0 and near[0]["urgency"] == "high", near
    admit(srv, room, 2)
    both = wait_for(lambda: len(push.pushes(name)) == 2 and push.pushes(name), what="turn push")
    turn = both[1]
    assert turn["ok"] and turn["payload"]["kind"] == "turn", turn
    assert turn["payload"]["url"] == p["url"], turn
    # The claim window bounds how long the push service keeps the message.
    assert 0 < int(turn["ttl"]) <= 600, turn
    wait_for(lambda: srv.ticket(room, t).json()["notify"]["turn"] == "sent", what="turn sent")


def test_a_gone_subscription_is_given_up(srv, push):
    room = away_room(srv)
    t = join(srv, room)
    notify(srv, room, t, {"channel": "push", "subscription": push.subscription_for("gone")})
    admit(srv, room, 1)
    wait_for(lambda: srv.ticket(room, t).json().get("notify", {}).get("turn") == "failed",
             what="the turn given up")
    failed = events_of(srv, room, "ticket.notice_failed")
    assert len(failed) == 1 and "410" in failed[0]["data"]["reason"], failed
    metrics = srv.get("/metrics").text
    assert re.search(r'waitroom_notifications_failed_total\{channel="push",kind="turn"\} [1-9]',
                     metrics), metrics


def test_a_restart_between_due_and_sent_loses_nothing_and_sends_once(tmp_path_factory):
    """The mail server is down when the turn comes: the message stays due through a kill -9 and
    goes out after the restart, once; later restarts do not send it again."""
    from mail_sink import MailSink
    sink = MailSink(free_port(), tmp_path_factory.mktemp("mail-down"))
    srv = Server(config_text=server_config(sink), name="waitroom-notify-restart").start()
    try:
        room = away_room(srv)
        t = join(srv, room)
        address = f"later+{room}@example.org"
        notify(srv, room, t, {"channel": "email", "email": address})
        admit(srv, room, 1)
        wait_for(lambda: "notification failed; retrying" in srv.log_text(), what="a failed try")
        assert srv.ticket(room, t).json()["notify"]["turn"] == "due"
        srv.kill9()
        sink.start()
        srv.restart()
        step(srv, 1)  # the manual clock: the driver gathers what is due when it moves
        wait_for(lambda: mails_to(sink, address), timeout=30, what="the mail after the restart")
        wait_for(lambda: srv.ticket(room, t).json()["notify"]["turn"] == "sent", what="recorded")
        srv.stop()
        srv.start()
        step(srv, 2)
        time.sleep(2)  # the notifier looks every 200 ms
        assert len(mails_to(sink, address)) == 1, [m.subject for m in sink.received()]
    finally:
        srv.shut_down()
        sink.stop()


def test_notices_survive_compaction_and_restart(srv, sink):
    room = away_room(srv)
    t = join(srv, room)
    address = f"kept+{room}@example.org"
    notify(srv, room, t, {"channel": "email", "email": address})
    assert_json(srv.post("/admin/v1/compact", admin=True), 200)
    srv.restart()
    assert srv.ticket(room, t).json()["notify"]["channel"] == "email"
    admit(srv, room, 1)
    wait_for(lambda: mails_to(sink, address), what="the mail after compaction and restart")


def test_a_rooms_theme_words_its_mails(sink, tmp_path):
    """A room's theme may word the notifications in the shop's voice (messages/<lang>.json); what
    it leaves out is the page's."""
    theme = tmp_path / "shop-theme"
    (theme / "messages").mkdir(parents=True)
    (theme / "messages" / "en.json").write_text(
        json.dumps({"notify_turn_title": "Your slot at {room} is ready"}))
    room = "themed"
    # TOML: the top-level keys first, then the tables (the config's own rooms among them).
    config = server_config(sink) + f'\n[rooms.{room}]\ntheme_dir = "{theme}"\n'
    srv = Server(config_text=config, name="waitroom-notify-theme").start()
    try:
        assert f"{theme}/messages" not in srv.log_text()  # loaded, no error naming it
        cfg = {"admission": MANUAL, "away_max_s": 3600, "ticket_idle_timeout_s": 60,
               "claim_timeout_s": 600, **QUIET}
        assert_json(srv.put(f"/admin/v1/rooms/{room}", admin=True, json=cfg), 200)
        t = join(srv, room)
        address = f"shopper+{room}@example.org"
        notify(srv, room, t, {"channel": "email", "email": address, "lang": "en"})
        admit(srv, room, 1)
        mail = wait_for(lambda: mails_to(sink, address), what="the themed mail")[0]
        assert mail.subject == f"Your slot at {room} is ready", mail.subject
        # The body is the page's: the theme did not word it.
        english = json.loads((REPO / "src/web/assets/i18n/en.json").read_text())
        assert english["notify_turn_body"].split("{claim}")[0] in mail.text(), mail.text()
        # Another room keeps the page's words.
        other = away_room(srv)
        u = join(srv, other)
        plain = f"plain+{other}@example.org"
        notify(srv, other, u, {"channel": "email", "email": plain, "lang": "en"})
        admit(srv, other, 1)
        mail = wait_for(lambda: mails_to(sink, plain), what="the plain mail")[0]
        assert mail.subject == english["notify_turn_title"].replace("{room}", other), mail.subject
    finally:
        srv.shut_down()


def test_rotating_the_vapid_key_keeps_earlier_subscriptions(srv, push):
    """Runs last: the module's push receiver checks the key the server published at its start."""
    before = assert_json(srv.get("/v1/notify"), 200)["push"]
    room = away_room(srv)
    t = join(srv, room)
    name = f"old-{room}"
    notify(srv, room, t, {"channel": "push", "subscription": push.subscription_for(name),
                          "key_id": before["key_id"]})
    keys = assert_json(srv.post("/admin/v1/push/keys/rotate", admin=True), 200)
    after = assert_json(srv.get("/v1/notify"), 200)["push"]
    assert after["key_id"] != before["key_id"] and after["public_key"] != before["public_key"]
    assert before["key_id"] in json.dumps(keys), keys  # kept, retired
    admit(srv, room, 1)
    sent = wait_for(lambda: push.pushes(name), what="a push signed with the subscription's key")
    assert sent[0]["ok"], sent  # the receiver checked the VAPID JWT against the old key
