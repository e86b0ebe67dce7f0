"""Bad input: each answer is problem+json with the right status, and the
server's state is the same afterwards."""

import json
import socket
import time

import pytest

from wrlib import DEFAULT_CONFIG, assert_problem, describe, raw_http

BODY_LIMIT = 16 * 1024
HEADER_LIMIT = 8 * 1024


def state(server, room):
    return (server.admin_room(room), server.stats(room))


@pytest.fixture
def room(server):
    name = server.create_room()
    server.enqueue_ok(name)
    server.advance(name, by=1)
    return name


# ---- malformed JSON -------------------------------------------------------------------------

MALFORMED = [b"{", b"{\"by\": }", b"not json", b"{\"by\": 1,}", b"\xff\xfe", b"{\"by\": 1} trailing",
             b"{'by': 1}", b"[1, 2"]


@pytest.mark.parametrize("payload", MALFORMED, ids=repr)
def test_malformed_json_is_400(server, room, payload):
    before = state(server, room)
    json_headers = {"Content-Type": "application/json"}
    calls = [
        ("POST", f"/admin/v1/rooms/{room}/advance", True),
        ("PUT", f"/admin/v1/rooms/{room}", True),
        ("PUT", f"/admin/v1/rooms/{room}/sessions/00000000-0000-4000-8000-000000000000", True),
        ("POST", f"/v1/rooms/{room}/tickets", False),
    ]
    for method, path, admin in calls:
        r = server.request(method, path, admin=admin, data=payload, headers=json_headers)
        assert_problem(r, 400)
    assert state(server, room) == before


def test_malformed_json_does_not_create_room(server):
    r = server.put("/admin/v1/rooms/never-created", admin=True, data=b"{",
                   headers={"Content-Type": "application/json"})
    assert_problem(r, 400)
    assert_problem(server.get("/admin/v1/rooms/never-created", admin=True), 404)


# ---- size limits --------------------------------------------------------------------------

def big_json(size):
    pad = "x" * size
    return ('{"issuer": "https://i.example/%s"}' % pad).encode()


def test_body_over_16k_is_413(server, room):
    before = state(server, room)
    for method, path, admin in (("PUT", f"/admin/v1/rooms/{room}", True),
                                ("POST", f"/admin/v1/rooms/{room}/advance", True),
                                ("POST", f"/v1/rooms/{room}/tickets", False)):
        body = big_json(BODY_LIMIT + 100)
        r = server.request(method, path, admin=admin, data=body,
                           headers={"Content-Type": "application/json"})
        assert_problem(r, 413)
    assert state(server, room) == before


def test_body_just_under_16k_is_not_413(server, room):
    # JSON whitespace as padding: the fields themselves may have smaller limits
    body = b'{"target_url": "https://ok.example/"' + b" " * (BODY_LIMIT - 100) + b"}"
    assert len(body) < BODY_LIMIT
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, data=body,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 200, describe(r)


def test_body_over_16k_chunked_is_413(server, room):
    before = state(server, room)

    def gen():
        for _ in range(20):
            yield b" " * 1024
        yield b"{}"

    r = server.post(f"/v1/rooms/{room}/tickets", data=gen(),
                    headers={"Content-Type": "application/json"})
    assert_problem(r, 413)
    assert state(server, room) == before


def test_header_section_over_8k_is_431(server, room):
    before = state(server, room)
    for method, path, admin in (("GET", "/healthz", False),
                                ("POST", f"/v1/rooms/{room}/tickets", False),
                                ("POST", f"/admin/v1/rooms/{room}/advance", True)):
        r = server.request(method, path, admin=admin, json={"by": 1},
                           headers={"X-Padding": "p" * (HEADER_LIMIT + 100)})
        assert_problem(r, 431)
    # many small headers add up too
    many = {f"X-H{i}": "v" * 100 for i in range(100)}
    r = server.post(f"/v1/rooms/{room}/tickets", headers=many)
    assert_problem(r, 431)
    assert state(server, room) == before


# ---- routing -------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path,admin", [
    ("GET", "/nope", False),
    ("GET", "/v1", False),
    ("GET", "/v1/nope", False),
    ("GET", "/v2/rooms/demo", False),
    ("POST", "/v1/rooms/demo/tickets/00000000-0000-4000-8000-000000000000/nope", False),
    ("GET", "/v1/rooms/demo/tickets/00000000-0000-4000-8000-000000000000/pass/extra", False),
    ("GET", "/admin/v1/nope", True),
    ("GET", "/admin/v1/rooms/demo/nope", True),
    ("GET", "/.well-known/nope", False),
])
def test_unknown_route_is_404(server, method, path, admin):
    r = server.request(method, path, admin=admin)
    assert_problem(r, 404)


@pytest.mark.parametrize("method,path,admin,allowed", [
    ("DELETE", "/v1/rooms/demo/tickets", False, {"POST"}),
    ("GET", "/v1/rooms/demo/tickets", False, {"POST"}),
    ("GET", "/v1/rooms/demo/tickets/00000000-0000-4000-8000-000000000000/pass", False, {"POST"}),
    ("POST", "/v1/rooms/demo", False, {"GET"}),
    ("PUT", "/.well-known/jwks.json", False, {"GET"}),
    ("POST", "/healthz", False, {"GET"}),
    ("POST", "/metrics", False, {"GET"}),
    ("PATCH", "/admin/v1/rooms/demo", True, {"GET", "PUT", "DELETE"}),
    ("GET", "/admin/v1/rooms/demo/advance", True, {"POST"}),
    ("DELETE", "/admin/v1/rooms", True, {"GET"}),
    ("GET", "/admin/v1/keys/rotate", True, {"POST"}),
    ("GET", "/admin/v1/rooms/demo/sessions/00000000-0000-4000-8000-000000000000", True, {"PUT"}),
])
def test_wrong_method_is_405_with_allow(server, method, path, admin, allowed):
    before = server.admin_room("demo")
    r = server.request(method, path, admin=admin)
    assert_problem(r, 405)
    allow = {m.strip().upper() for m in r.headers.get("Allow", "").split(",") if m.strip()}
    assert allowed <= allow, f"Allow {allow} lacks {allowed}" + describe(r)
    assert method not in allow, describe(r)
    after = server.admin_room("demo")
    assert after == before


# ---- slow clients ---------------------------------------------------------------------------

def test_slow_client_is_disconnected(server_factory):
    srv = server_factory(config_text="[limits]\nheader_timeout_s = 2\n\n" + DEFAULT_CONFIG)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
    try:
        s.sendall(b"GET /v1/rooms/demo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
        start = time.monotonic()
        closed = False
        try:
            while time.monotonic() - start < 12:
                chunk = s.recv(4096)
                if not chunk:
                    closed = True
                    break
        except (ConnectionResetError, BrokenPipeError):
            closed = True
        except socket.timeout:
            closed = False
        waited = time.monotonic() - start
        assert closed, f"still connected after {waited:.1f}s"
        assert 1.0 <= waited <= 8.0, f"disconnected after {waited:.1f}s, header_timeout_s = 2"
    finally:
        s.close()
    # the server still answers others
    r = srv.get("/healthz")
    assert r.status_code == 200


def test_slow_client_does_not_block_others(server_factory):
    srv = server_factory(config_text="[limits]\nheader_timeout_s = 2\n\n" + DEFAULT_CONFIG)
    slow = [socket.create_connection(("127.0.0.1", srv.port), timeout=15) for _ in range(20)]
    try:
        for s in slow:
            s.sendall(b"POST /v1/rooms/demo/tickets HTTP/1.1\r\nHost: x\r\n")
        t0 = time.monotonic()
        r = srv.enqueue("demo")
        assert r.status_code == 201, describe(r)
        assert time.monotonic() - t0 < 2.0
        assert r.json()["position"] == 1
    finally:
        for s in slow:
            s.close()


def test_garbage_request_line_does_not_kill_server(server):
    for junk in (b"\x00\x01\x02\r\n\r\n", b"GET\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                 b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"):
        reply = raw_http(server.port, junk, timeout=5)
        if reply.startswith(b"HTTP/"):
            status = int(reply.split(b" ", 2)[1])
            assert 400 <= status < 500 or status == 505, reply[:200]
    assert server.get("/healthz").status_code == 200


# ---- framing and Host (RFC 9112 sections 6 and 3.2) ------------------------------------------

def exchange(port, data, wait_s=3.0):
    """Sends `data` on one connection and reads until the server closes it (or `wait_s` passes
    in silence). Returns (the answers, as (status, headers, body) tuples, and whether it closed)."""
    got, closed = b"", False
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as s:
        s.sendall(data)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
                got += chunk
        except ConnectionResetError:
            closed = True
        except socket.timeout:
            pass
    answers = []
    while got:
        head, _, rest = got.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        answers.append((int(lines[0].split(" ")[1]), headers, rest[:length]))
        got = rest[length:]
    return answers, closed


def assert_problem_answer(answer, status):
    got, headers, body = answer
    assert got == status, (got, headers, body)
    assert headers.get("content-type", "").split(";")[0] == "application/problem+json", headers
    doc = json.loads(body)
    assert doc["status"] == status and doc["detail"], doc


def post_head(room, *fields, version="HTTP/1.1"):
    lines = [f"POST /v1/rooms/{room}/tickets {version}", "Host: x", "Content-Type: application/json",
             *fields]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


SMUGGLED = b"POST /v1/rooms/%s/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"


@pytest.mark.parametrize("codings,status", [
    ("xchunked", 501),          # the TE.CL desync: framed by Content-Length, the rest served
    ("identity", 501),
    ("gzip, chunked", 501),
    ("chunked, identity", 400),
    ("chunked, chunked", 400),
])
def test_transfer_codings_other_than_chunked_last_are_refused_and_close(server, room, codings, status):
    before = state(server, room)
    smuggled = SMUGGLED % room.encode()
    chunked_body = b"2\r\n{}\r\n0\r\n\r\n"
    # Content-Length frames a second request for a server that lets it win over Transfer-Encoding;
    # without Content-Length, a server that ignores the coding reads the chunked body as the next.
    for data in (post_head(room, f"Transfer-Encoding: {codings}", f"Content-Length: {len(smuggled)}") + smuggled,
                 post_head(room, f"Transfer-Encoding: {codings}") + chunked_body + smuggled):
        answers, closed = exchange(server.port, data)
        assert len(answers) == 1, answers
        assert_problem_answer(answers[0], status)
        assert closed, "the connection stayed open after a request with unreadable framing"
    assert state(server, room) == before


@pytest.mark.parametrize("order", ["length first", "coding first"])
def test_transfer_encoding_wins_over_content_length_and_the_connection_closes(server, room, order):
    fields = ["Content-Length: 3", "Transfer-Encoding: chunked"]
    if order == "coding first":
        fields.reverse()
    answers, closed = exchange(server.port, post_head(room, *fields) + b"2\r\n{}\r\n0\r\n\r\n" +
                               SMUGGLED % room.encode())
    assert [a[0] for a in answers] == [201], answers
    assert answers[0][1].get("connection", "").lower() == "close", answers[0][1]
    assert closed
    # The chunked body was the request's; what followed it was not served.
    assert server.enqueue_ok(room)["position"] == json.loads(answers[0][2])["position"] + 1


def test_transfer_encoding_in_http_10_is_refused(server, room):
    before = state(server, room)
    answers, closed = exchange(server.port, post_head(room, "Transfer-Encoding: chunked", version="HTTP/1.0") +
                               b"2\r\n{}\r\n0\r\n\r\n")
    assert len(answers) == 1 and closed, answers
    assert_problem_answer(answers[0], 400)
    assert state(server, room) == before


@pytest.mark.parametrize("fields", [[], ["Host: a", "Host: a"], ["Host: a", "Host: b"], ["Host: a b/c"],
                                    ["Host: a/b"], ["Host: a:b"]],
                         ids=["none", "twice", "two different", "space and slash", "slash", "bad port"])
def test_bad_host_is_400(server, room, fields):
    before = state(server, room)
    head = "\r\n".join([f"POST /v1/rooms/{room}/tickets HTTP/1.1", "Content-Length: 0", *fields]) + "\r\n\r\n"
    answers, closed = exchange(server.port, head.encode())
    assert len(answers) == 1, answers
    assert_problem_answer(answers[0], 400)
    assert closed
    assert state(server, room) == before


@pytest.mark.parametrize("request_head", [
    b"GET /healthz HTTP/1.0\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",  # empty: no authority
], ids=["http/1.0 without Host", "ipv6 and port", "ipv4", "empty"])
def test_good_hosts_and_http_10_without_host_are_served(server, request_head):
    answers, _ = exchange(server.port, request_head)
    assert [a[0] for a in answers] == [200], answers
