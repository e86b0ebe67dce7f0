"""A room's abuse protection (docs/security.md): per-client rate limits on new tickets and status
polls (429 + Retry-After, IPv6 counted per /64, X-Forwarded-For believed only from trusted
proxies), proof of work before a ticket (replay-proof, per room, expiring), a cap on waiting
visitors (the "full" page), and passes bound to their client's network or binding cookie.

The test client connects from 127.0.0.1, the default trusted proxy, so X-Forwarded-For stands for
the visitor's address; loopback itself is never limited.
"""

import base64
import hashlib
import json
import re

from wrlib import TEST_CLOCK_CONFIG, assert_json, assert_problem, describe, raw_http, unique_room

GATE = "/gate/v1/check"


def xff(address):
    return {"X-Forwarded-For": address}


def make_room(srv, **abuse):
    return srv.create_room(abuse=abuse)


def solve(challenge, bits):
    n = 0
    while True:
        digest = hashlib.sha256(f"{challenge}:{n}".encode()).digest()
        if int.from_bytes(digest, "big") >> (256 - bits) == 0:
            return str(n)
        n += 1


def refused(srv, room, reason):
    text = srv.get("/metrics").text
    m = re.search(rf'^waitroom_abuse_refused_total{{room="{room}",reason="{reason}"}} (\d+)$', text, re.M)
    return int(m.group(1)) if m else None


def payload(token):
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# ---- settings ---------------------------------------------------------------------------------

def test_defaults_are_shown_and_bad_settings_refused(server):
    room = server.create_room()
    abuse = server.admin_room(room)["abuse"]
    assert abuse == {"tickets_per_ip_per_minute": 60, "polls_per_ip_per_second": 5,
                     "pow_difficulty_bits": 0, "bind_pass": "none", "max_waiting": None,
                     "trusted_proxies": ["127.0.0.1/32"]}
    for bad, field in [({"tickets_per_ip_per_minute": -1}, "abuse.tickets_per_ip_per_minute"),
                       ({"pow_difficulty_bits": 33}, "abuse.pow_difficulty_bits"),
                       ({"bind_pass": "ip"}, "abuse.bind_pass"),
                       ({"max_waiting": 0}, "abuse.max_waiting"),
                       ({"trusted_proxies": ["10.1.2.3/8"]}, "abuse.trusted_proxies[0]"),
                       ({"trusted_proxies": "10.0.0.0/8"}, "abuse.trusted_proxies"),
                       ({"captcha": True}, "abuse.captcha")]:
        r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"abuse": bad})
        assert field in assert_problem(r, 400)["detail"], describe(r)
    assert server.admin_room(room)["abuse"] == abuse  # nothing changed
    r = server.put(f"/admin/v1/rooms/{room}", admin=True,
                   json={"abuse": {"trusted_proxies": ["10.0.0.0/8", "2001:db8::/32"], "max_waiting": 10}})
    assert r.status_code == 200, describe(r)
    got = server.admin_room(room)["abuse"]
    assert got["trusted_proxies"] == ["10.0.0.0/8", "2001:db8::/32"] and got["max_waiting"] == 10
    assert got["tickets_per_ip_per_minute"] == 60  # merged key by key


# ---- rate limits ------------------------------------------------------------------------------

def test_ticket_rate_per_client_with_retry_after(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = make_room(srv, tickets_per_ip_per_minute=5)
    for _ in range(5):
        assert srv.enqueue(room, headers=xff("203.0.113.7")).status_code == 201
    r = srv.enqueue(room, headers=xff("203.0.113.7"))
    body = assert_problem(r, 429)
    assert "too many" in body["detail"]
    assert 1 <= int(r.headers["Retry-After"]) <= 12, describe(r)
    # Another client is not affected, nor is the machine itself.
    assert srv.enqueue(room, headers=xff("203.0.113.8")).status_code == 201
    for _ in range(8):
        assert srv.enqueue(room).status_code == 201
    # The allowance comes back at the limit's pace: one place per 12 s.
    srv.advance_clock(12_000)
    assert srv.enqueue(room, headers=xff("203.0.113.7")).status_code == 201
    assert srv.enqueue(room, headers=xff("203.0.113.7")).status_code == 429
    assert refused(srv, room, "ticket_rate") == 2
    # Refused requests took no place.
    assert srv.stats(room)["queue_counter"] == 5 + 1 + 8 + 1


def test_ipv6_clients_count_per_64(server):
    room = make_room(server, tickets_per_ip_per_minute=2)
    assert server.enqueue(room, headers=xff("2001:db8:1:2::1")).status_code == 201
    assert server.enqueue(room, headers=xff("2001:db8:1:2:ffff::99")).status_code == 201
    assert_problem(server.enqueue(room, headers=xff("2001:db8:1:2::abcd")), 429)
    assert server.enqueue(room, headers=xff("2001:db8:1:3::1")).status_code == 201


def test_forwarded_for_is_read_from_the_right_through_trusted_proxies_only(server):
    room = make_room(server, tickets_per_ip_per_minute=2, trusted_proxies=["127.0.0.1/32", "10.0.0.0/8"])
    # The client wrote the left part; our proxies appended the rest. Forging the left part does
    # not make a new client.
    for forged in ("198.51.100.1", "198.51.100.2"):
        r = server.enqueue(room, headers=xff(f"{forged}, 203.0.113.50, 10.1.1.1"))
        assert r.status_code == 201, describe(r)
    assert_problem(server.enqueue(room, headers=xff("198.51.100.3, 203.0.113.50, 10.1.1.1")), 429)
    # Two header lines read as one list, the last line last.
    raw = raw_http(server.port, (f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\n"
                                 "X-Forwarded-For: 203.0.113.50\r\nX-Forwarded-For: 10.9.9.9\r\n"
                                 "Content-Length: 0\r\nConnection: close\r\n\r\n").encode())
    assert raw.startswith(b"HTTP/1.1 429"), raw[:200]
    # Garbage stops the walk at the last address believed: a trusted proxy stands for the client.
    r = server.enqueue(room, headers=xff("203.0.113.50, not-an-address, 10.2.2.2"))
    assert r.status_code == 201, describe(r)


def test_untrusted_peers_cannot_choose_their_address(server):
    # 127.0.0.1 is not trusted in this room: X-Forwarded-For is ignored, and the peer (the machine
    # itself) is never limited; so a forged header neither limits nor frees anyone.
    room = make_room(server, tickets_per_ip_per_minute=1, trusted_proxies=["10.0.0.0/8"])
    for _ in range(3):
        assert server.enqueue(room, headers=xff("203.0.113.60")).status_code == 201


def test_status_polls_are_limited_per_client(server_factory):
    # The test clock stands still, so no allowance comes back however slow the machine is between
    # these requests (real time refilled it under load: a 200 where the 429 belonged).
    server = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = make_room(server, polls_per_ip_per_second=2)
    t = server.enqueue_ok(room)
    ticket = f"/v1/rooms/{room}/tickets/{t['ticket']}"
    statuses = [server.get(ticket, headers=xff("203.0.113.70")).status_code for _ in range(2)]
    assert statuses == [200, 200]
    r = server.get(ticket, headers=xff("203.0.113.70"))
    assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) >= 1
    # The page, the event stream and AWS's queue_num count against the same allowance.
    assert server.get(f"/r/{room}", headers=xff("203.0.113.70")).status_code == 429
    r = server.get(f"{ticket}/events", headers={**xff("203.0.113.70"), "Accept": "text/event-stream"})
    assert r.status_code == 429, describe(r)
    r = server.get(f"/aws/queue_num?event_id={room}&request_id={t['ticket']}", headers=xff("203.0.113.70"))
    assert r.status_code == 429 and r.headers.get("Retry-After"), describe(r)
    assert server.get(ticket, headers=xff("203.0.113.71")).status_code == 200
    assert server.get(ticket).status_code == 200  # loopback
    assert refused(server, room, "poll_rate") == 4


# ---- proof of work ----------------------------------------------------------------------------

def challenge(srv, room):
    return assert_json(srv.get(f"/v1/rooms/{room}/challenge"), 200)


def test_proof_of_work_before_a_ticket(server):
    room = make_room(server, pow_difficulty_bits=12)
    body = assert_problem(server.enqueue(room, json={}), 403)
    assert "/challenge" in body["detail"]
    c = challenge(server, room)
    assert c["difficulty_bits"] == 12 and c["algorithm"] == "sha256-leading-zero-bits"
    nonce = solve(c["challenge"], 12)
    proof = {"pow_challenge": c["challenge"], "pow_nonce": nonce}
    r = server.enqueue(room, json=proof)
    assert r.status_code == 201, describe(r)
    # Spent: the same proof again is a replay.
    assert "used already" in assert_problem(server.enqueue(room, json=proof), 403)["detail"]
    # A wrong nonce, a tampered challenge, another room's challenge: refused.
    c2 = challenge(server, room)
    bad_nonce = next(str(n) for n in range(100) if hashlib.sha256(f"{c2['challenge']}:{n}".encode()).digest()[0] != 0)
    assert_problem(server.enqueue(room, json={"pow_challenge": c2["challenge"], "pow_nonce": bad_nonce}), 403)
    parts = c2["challenge"].split(".")
    easier = ".".join([parts[0], "1", *parts[2:]])
    assert_problem(server.enqueue(room, json={"pow_challenge": easier, "pow_nonce": solve(easier, 1)}), 403)
    other = make_room(server, pow_difficulty_bits=12)
    assert_problem(server.enqueue(other, json=proof), 403)
    c3 = challenge(server, other)
    assert_problem(server.enqueue(room, json={"pow_challenge": c3["challenge"],
                                              "pow_nonce": solve(c3["challenge"], 12)}), 403)
    assert server.stats(room)["queue_counter"] == 1
    assert refused(server, room, "proof_of_work") == 5


def test_proof_of_work_on_the_aws_api_and_the_page_form(server):
    room = make_room(server, pow_difficulty_bits=10)
    r = server.post("/aws/assign_queue_num", json={"event_id": room})
    assert r.status_code == 403, describe(r)
    c = challenge(server, room)
    r = server.post("/aws/assign_queue_num",
                    json={"event_id": room, "pow_challenge": c["challenge"], "pow_nonce": solve(c["challenge"], 10)})
    assert r.status_code == 200 and r.json()["api_request_id"], describe(r)
    # The page: without the script the form cannot solve it, and the page says so.
    page = server.get(f"/r/{room}")
    assert 'data-wr-pow="10"' in page.text and "JavaScript" in page.text
    r = server.post(f"/r/{room}/join", data={})
    assert r.status_code == 403 and "puzzle" in r.text, describe(r)
    c = challenge(server, room)
    r = server.post(f"/r/{room}/join",
                    data={"pow_challenge": c["challenge"], "pow_nonce": solve(c["challenge"], 10)})
    assert r.status_code == 303 and f"waitroom_{room}=" in r.headers.get("Set-Cookie", ""), describe(r)


def test_challenges_expire_and_harder_settings_void_easier_ones(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = make_room(srv, pow_difficulty_bits=8)
    old = challenge(srv, room)
    srv.advance_clock(301_000)
    r = srv.enqueue(room, json={"pow_challenge": old["challenge"], "pow_nonce": solve(old["challenge"], 8)})
    assert "expired" in assert_problem(r, 403)["detail"]
    easy = challenge(srv, room)
    srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"abuse": {"pow_difficulty_bits": 10}})
    r = srv.enqueue(room, json={"pow_challenge": easy["challenge"], "pow_nonce": solve(easy["challenge"], 8)})
    assert "easier" in assert_problem(r, 403)["detail"]
    # A room without proof of work hands out challenges of difficulty 0 and needs none.
    plain = srv.create_room()
    assert challenge(srv, plain)["difficulty_bits"] == 0
    assert srv.enqueue(plain).status_code == 201
    assert_problem(srv.get(f"/v1/rooms/{unique_room()}/challenge"), 404)


# ---- max_waiting ------------------------------------------------------------------------------

def test_a_full_room_turns_new_visitors_away_until_places_free_up(server):
    room = make_room(server, max_waiting=3)
    tickets = [server.enqueue_ok(room) for _ in range(3)]
    r = server.enqueue(room)
    assert "full" in assert_problem(r, 503)["detail"]
    assert int(r.headers["Retry-After"]) >= 1
    # A visitor who has a place keeps it (asking again returns it).
    r = server.enqueue(room, cookie=tickets[0]["ticket"])
    assert r.status_code == 200 and r.json()["ticket"] == tickets[0]["ticket"], describe(r)
    page = server.get(f"/r/{room}")
    assert page.status_code == 200 and "The line is full" in page.text and "/join" not in page.text
    r = server.post(f"/r/{room}/join", data={})
    assert r.status_code == 503 and "The line is full" in r.text, describe(r)
    assert refused(server, room, "room_full") == 2
    server.advance(room, by=1)  # one of the three goes in: one place frees up
    assert server.enqueue(room).status_code == 201
    assert server.enqueue(room).status_code == 503
    assert server.stats(room)["queue_counter"] == 4


# ---- pass binding -----------------------------------------------------------------------------

def admitted(srv, room, headers=None):
    t = srv.enqueue(room, headers=headers).json()
    srv.advance(room, to=t["position"])
    r = srv.pass_for(room, t["ticket"]) if headers is None else \
        srv.post(f"/v1/rooms/{room}/tickets/{t['ticket']}/pass", headers=headers)
    assert r.status_code == 200, describe(r)
    return t["ticket"], r


def gate(srv, room, token, headers=None, extra_cookie=""):
    h = dict(headers or {})
    h["Cookie"] = f"waitroom_pass_{room}={token}" + (f"; {extra_cookie}" if extra_cookie else "")
    return srv.get(GATE, params={"room": room}, headers=h)


def test_pass_bound_to_the_network_it_was_issued_to(server):
    room = make_room(server, bind_pass="ip_prefix")
    _, r = admitted(server, room, headers=xff("203.0.113.7"))
    token = r.json()["pass"]
    assert payload(token)["bind"] == "ip:203.0.113.0/24"
    assert gate(server, room, token, xff("203.0.113.7")).status_code == 204
    assert gate(server, room, token, xff("203.0.113.200")).status_code == 204  # same /24
    r = gate(server, room, token, xff("198.51.100.7"))
    assert r.status_code == 401 and "another network" in r.text, describe(r)
    assert gate(server, room, token, {"Authorization": f"Bearer {token}", **xff("198.51.100.7")}).status_code == 401
    assert refused(server, room, "pass_binding") == 2
    # An IPv6 client is bound to its /64.
    _, r = admitted(server, room, headers=xff("2001:db8:5:6::10"))
    token6 = r.json()["pass"]
    assert payload(token6)["bind"] == "ip:2001:db8:5:6::/64"
    assert gate(server, room, token6, xff("2001:db8:5:6:ffff::1")).status_code == 204
    assert gate(server, room, token6, xff("2001:db8:5:7::10")).status_code == 401


def test_pass_bound_to_the_browser_by_cookie(server):
    room = make_room(server, bind_pass="cookie")
    ticket, r = admitted(server, room)
    token = r.json()["pass"]
    assert payload(token)["bind"] == "cookie"
    set_cookie = r.headers.get("Set-Cookie", "")
    m = re.match(rf"waitroom-bind-{room}=([A-Za-z0-9_-]+);", set_cookie)
    assert m and "HttpOnly" in set_cookie, describe(r)
    binding = f"waitroom-bind-{room}={m.group(1)}"
    assert gate(server, room, token, extra_cookie=binding).status_code == 204
    # The pass copied to another browser (no binding cookie, or another visitor's) is refused.
    r = gate(server, room, token)
    assert r.status_code == 401 and "another browser" in r.text, describe(r)
    _, r2 = admitted(server, room)
    other = re.match(rf"waitroom-bind-{room}=([A-Za-z0-9_-]+);", r2.headers["Set-Cookie"]).group(1)
    assert other != m.group(1)
    assert gate(server, room, token, extra_cookie=f"waitroom-bind-{room}={other}").status_code == 401
    # Asking for the pass again returns the same pass and the same binding.
    again = server.pass_for(room, ticket)
    assert again.json()["pass"] == token and m.group(1) in again.headers.get("Set-Cookie", "")
    # The page's Continue sets both cookies.
    t = server.enqueue_ok(room)
    server.advance(room, to=t["position"])
    r = server.post(f"/r/{room}/enter", headers={"Cookie": f"waitroom_{room}={t['ticket']}"})
    cookies = r.headers.get("Set-Cookie", "")
    assert r.status_code == 303 and f"waitroom_pass_{room}=" in cookies and f"waitroom-bind-{room}=" in cookies, describe(r)


def test_unbound_rooms_issue_unbound_passes(server):
    room = server.create_room()
    _, r = admitted(server, room, headers=xff("203.0.113.7"))
    token = r.json()["pass"]
    assert "bind" not in payload(token) and "Set-Cookie" not in r.headers
    assert gate(server, room, token, xff("198.51.100.1")).status_code == 204
