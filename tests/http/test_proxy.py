"""The built-in reverse proxy ([[routes]]) against a real waitroom process and a small threaded
Python upstream that echoes what reached it and counts its TCP connections.

No pass → the room (302 for browsers, 401 for API clients); a live pass → the upstream's answer,
with X-Forwarded-* and X-Waitroom-* set and hop-by-hop headers gone; bodies of megabytes stream
both ways; upstream connections are kept alive and reused; revoking sends the visitor back; each
bypass kind lets its requests through; a dead upstream is 502 and a silent one 504; Waitroom's own
routes still answer; a bad [[routes]] table stops the start with the key named.
"""

import hashlib
import json
import re
import secrets
import shutil
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from wrlib import DEFAULT_CONFIG, REPO, TEST_CLOCK_CONFIG, Server, assert_problem, describe, free_port

HTML = {"Accept": "text/html,application/xhtml+xml"}
ROOM = "gated"
BIG_BYTES = 5_000_000  # far beyond the 16 KiB API body limit: only streaming gets it through
INTERNAL_KEY = "let-me-in-please"
HANG_MAX_S = 8.0


def pattern(n):
    block = b"0123456789abcdefghijklmnopqrstuvwxyz\n"
    return (block * (n // len(block) + 1))[:n]


class Upstream:
    """A threaded HTTP/1.1 server on a free loopback port.

    GET/POST/… any path: 200 JSON {method, path, headers, body_length, body_sha256}.
    /big?n=N: N bytes of pattern(N). /chunked: a chunked answer. /hop: an answer with
    hop-by-hop headers. /hang: no answer until released (or HANG_MAX_S). /drop: answers as if
    keep-alive, then closes the connection. /arm: answers, then hangs up on the next request of
    the same connection without an answer.
    """

    def __init__(self):
        self.connections = 0
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with upstream.lock:
                    upstream.connections += 1

            def log_message(self, *args):
                pass

            def read_body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    h, n = hashlib.sha256(), 0
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return n, h.hexdigest()
                        chunk = self.rfile.read(size)
                        self.rfile.readline()
                        h.update(chunk)
                        n += len(chunk)
                left = int(self.headers.get("Content-Length", "0") or 0)
                h, n = hashlib.sha256(), left
                while left:
                    chunk = self.rfile.read(min(left, 1 << 16))
                    if not chunk:
                        break
                    h.update(chunk)
                    left -= len(chunk)
                return n, h.hexdigest()

            def answer(self, status, body, headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def handle_one(self):
                if getattr(self, "armed", False):
                    # /arm came before on this connection: hang up on this request unanswered, as
                    # an upstream closing an idle connection just as the proxy reuses it does.
                    self.armed = False
                    self.close_connection = True
                    with upstream.lock:
                        upstream.requests.append({"method": self.command, "path": self.path, "dropped": True})
                    return
                length, digest = self.read_body()
                url = urlparse(self.path)
                record = {"method": self.command, "path": self.path, "headers": list(self.headers.items()),
                          "body_length": length, "body_sha256": digest}
                with upstream.lock:
                    upstream.requests.append(record)
                if url.path.endswith("/big"):
                    n = int(parse_qs(url.query)["n"][0])
                    self.send_response(200)
                    self.send_header("Content-Length", str(n))
                    self.send_header("Content-Type", "application/octet-stream")
                    self.end_headers()
                    if self.command != "HEAD":
                        data = pattern(n)
                        for i in range(0, n, 1 << 16):
                            self.wfile.write(data[i:i + (1 << 16)])
                elif url.path.endswith("/chunked"):
                    self.send_response(200)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for part in (b"first,", b"second,", b"third"):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                        self.wfile.flush()
                        time.sleep(0.05)
                    self.wfile.write(b"0\r\n\r\n")
                elif url.path.endswith("/hop"):
                    self.answer(200, b"hop", [("Connection", "X-Up-Hop"), ("X-Up-Hop", "secret"),
                                              ("Keep-Alive", "timeout=5"), ("Proxy-Authenticate", "Basic"),
                                              ("Upgrade", "h2c"), ("X-End", "kept")])
                elif url.path.endswith("/hang"):
                    upstream.release.wait(HANG_MAX_S)
                    self.close_connection = True
                elif url.path.endswith("/arm"):
                    self.answer(200, b"armed")
                    self.armed = True
                elif url.path.endswith("/drop"):
                    self.answer(200, b"dropped")
                    self.close_connection = True  # no Connection: close: the proxy finds out later
                else:
                    body = json.dumps(record).encode()
                    self.answer(200, body, [("Content-Type", "application/json"), ("X-Upstream", "yes")])

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_one

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # clients (the proxy) hanging up on /hang are expected

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def seen(self, marker):
        """The requests whose target contains `marker`."""
        with self.lock:
            return [r for r in self.requests if marker in r["path"]]

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def proxy_config(up_port, dead_port):
    return DEFAULT_CONFIG + f"""
[rooms.{ROOM}]
target_url = "https://shop.example/"

[[routes]]
path_prefix = "/shop/"
upstream = "http://127.0.0.1:{up_port}/base/"
room = "{ROOM}"
bypass = [
  {{ path_prefix = "/shop/static/" }},
  {{ path_regex = "^/shop/health$" }},
  {{ header = "X-Internal-Key", value = "{INTERNAL_KEY}" }},
  {{ cookie = "staff", value = "yes" }},
  {{ crawlers = true }},
]

[[routes]]
host = "lan.test"
upstream = "http://127.0.0.1:{up_port}"
room = "{ROOM}"
bypass = [ {{ cidr = "127.0.0.0/8" }} ]

[[routes]]
host = "wan.test"
upstream = "http://127.0.0.1:{up_port}"
room = "{ROOM}"
bypass = [ {{ cidr = "10.0.0.0/8" }}, {{ cidr = "::1/128" }} ]

[[routes]]
host = "down.test"
upstream = "http://127.0.0.1:{dead_port}"
room = "{ROOM}"
connect_timeout_s = 2
bypass = [ {{ cidr = "127.0.0.0/8" }} ]

[[routes]]
host = "slow.test"
upstream = "http://127.0.0.1:{up_port}"
room = "{ROOM}"
response_timeout_s = 1
bypass = [ {{ cidr = "127.0.0.0/8" }} ]

[[routes]]
upstream = "http://127.0.0.1:{up_port}"
room = "{ROOM}"
"""


@pytest.fixture(scope="module")
def upstream():
    up = Upstream()
    yield up
    up.close()


@pytest.fixture(scope="module")
def proxy(upstream):
    from conftest import _require_binary
    _require_binary()
    srv = Server(config_text=proxy_config(upstream.port, free_port()), name="waitroom-proxy").start()
    yield srv
    srv.shut_down()


def admitted_pass(srv, room=ROOM):
    t = srv.enqueue_ok(room)
    srv.advance(room, to=t["position"])
    r = srv.pass_for(room, t["ticket"])
    assert r.status_code == 200, describe(r)
    return t["ticket"], r.json()["pass"]


def pass_cookie(token, room=ROOM):
    return {"Cookie": f"waitroom_pass_{room}={token}"}


def marker():
    return secrets.token_hex(6)


def echo(r):
    assert r.status_code == 200 and r.headers.get("X-Upstream") == "yes", "not the upstream's echo" + describe(r)
    body = r.json()
    body["h"] = {k.lower(): v for k, v in body["headers"]}
    return body


# ---- refusals ------------------------------------------------------------------------------------

def test_no_pass_browser_goes_to_the_room_api_client_gets_401(proxy, upstream):
    m = marker()
    r = proxy.get(f"/shop/basket?x=1&m={m}", headers=HTML)
    assert r.status_code == 302, describe(r)
    loc = urlparse(r.headers["Location"])
    assert loc.path == f"/r/{ROOM}", describe(r)
    assert parse_qs(loc.query)["return"] == [f"/shop/basket?x=1&m={m}"], describe(r)
    assert r.headers.get("Cache-Control") == "no-store"

    r = proxy.post(f"/api/orders?m={m}", json={"item": 7})
    body = assert_problem(r, 401)
    assert "Bearer" in r.headers.get("WWW-Authenticate", ""), describe(r)
    assert body["detail"] == "no pass for this room"
    assert urlparse(r.headers["X-Waitroom-Room-Url"]).path == f"/r/{ROOM}", describe(r)
    assert upstream.seen(m) == [], "a refused request reached the upstream"
    # the connection stays usable after a refusal without a body
    assert proxy.get("/healthz").json() == {"status": "ok"}


def test_forged_and_other_rooms_passes_are_refused(proxy, upstream):
    _, token = admitted_pass(proxy)
    _, other = admitted_pass(proxy, "demo")
    m = marker()
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    for bad in (forged, other):
        assert_problem(proxy.get(f"/x?m={m}", headers=pass_cookie(bad)), 401)
        assert_problem(proxy.get(f"/x?m={m}", headers={"Authorization": f"Bearer {bad}"}), 401)
    assert upstream.seen(m) == []


def test_a_pass_over_the_header_limit_is_no_pass(proxy, upstream):
    # Past the 8 KiB header limit the proxy answers as it does without a pass, not 431.
    m, big = marker(), "A" * 9000
    r = proxy.get(f"/shop/basket?m={m}", headers={**HTML, **pass_cookie(big)})
    assert r.status_code == 302 and urlparse(r.headers["Location"]).path == f"/r/{ROOM}", describe(r)
    assert_problem(proxy.get(f"/x?m={m}", headers={"Authorization": f"Bearer {big}"}), 401)
    assert upstream.seen(m) == []
    # A live pass beside a large cookie still reaches the upstream.
    _, token = admitted_pass(proxy)
    echo(proxy.get(f"/x?m={m}", headers={"Cookie": f"big={'b' * 20000}; waitroom_pass_{ROOM}={token}"}))


# ---- admitted ------------------------------------------------------------------------------------

def test_admitted_visitor_reaches_the_upstream_with_forwarded_headers(proxy, upstream):
    ticket, token = admitted_pass(proxy)
    m = marker()
    r = proxy.get(f"/shop/basket?x=1&m={m}", headers={**pass_cookie(token), "X-Waitroom-Ticket": "forged",
                                                      "X-Waitroom-Room": "forged", "X-Waitroom-Vip": "forged",
                                                      "X-Forwarded-Proto": "https",
                                                      "X-Forwarded-For": "198.51.100.7"})
    e = echo(r)
    assert e["method"] == "GET"
    assert e["path"] == f"/base/shop/basket?x=1&m={m}", "the base path is prefixed" + describe(r)
    h = e["h"]
    assert h["x-forwarded-for"] == "198.51.100.7, 127.0.0.1", e
    assert h["x-forwarded-proto"] == "http", e
    assert h["x-forwarded-host"] == f"127.0.0.1:{proxy.port}", e
    assert h["host"] == f"127.0.0.1:{proxy.port}", e
    assert h["x-waitroom-room"] == ROOM, e
    assert h["x-waitroom-ticket"] == ticket, e
    assert int(h["x-waitroom-expires"]) > time.time(), e
    assert [k for k, _ in e["headers"]].count("X-Waitroom-Ticket") == 1, e
    assert "x-waitroom-vip" not in h, "a client's X-Waitroom-* header reached the upstream"
    # the same with the pass as a Bearer token, on a route without base path
    r = proxy.get(f"/other?m={m}", headers={"Authorization": f"Bearer {token}"})
    e = echo(r)
    assert e["path"] == f"/other?m={m}" and e["h"]["x-waitroom-ticket"] == ticket, e


def test_hop_by_hop_headers_are_removed_both_ways(proxy, upstream):
    _, token = admitted_pass(proxy)
    r = proxy.get("/hopcheck", headers={**pass_cookie(token), "Connection": "keep-alive, X-Client-Hop",
                                        "X-Client-Hop": "secret", "Keep-Alive": "timeout=9", "TE": "trailers",
                                        "Proxy-Authorization": "Basic eDp5", "Upgrade": "websocket",
                                        "X-End-To-End": "kept"})
    h = echo(r)["h"]
    for gone in ("x-client-hop", "keep-alive", "te", "proxy-authorization", "upgrade"):
        assert gone not in h, f"{gone} reached the upstream: {h}"
    assert h.get("connection", "keep-alive").lower() == "keep-alive", h  # none, or our own
    assert h["x-end-to-end"] == "kept"
    r = proxy.get("/hop", headers=pass_cookie(token))
    assert r.status_code == 200 and r.text == "hop", describe(r)
    for gone in ("X-Up-Hop", "Keep-Alive", "Proxy-Authenticate", "Upgrade"):
        assert gone not in r.headers, f"{gone} reached the client" + describe(r)
    assert r.headers["X-End"] == "kept"
    assert r.headers.get("Connection", "keep-alive").lower() == "keep-alive", describe(r)


def test_head_requests_get_no_body(proxy, upstream):
    _, token = admitted_pass(proxy)
    r = proxy.request("HEAD", "/x/big?n=1234", headers=pass_cookie(token))
    assert r.status_code == 200 and r.content == b"", describe(r)
    assert r.headers["Content-Length"] == "1234", describe(r)
    # and the connection still carries the next request
    assert proxy.get("/x/big?n=10", headers=pass_cookie(token)).content == pattern(10)


def test_megabyte_bodies_stream_both_ways(proxy, upstream):
    _, token = admitted_pass(proxy)
    body = pattern(BIG_BYTES)
    r = proxy.post("/upload?size=big", data=body, headers=pass_cookie(token), timeout=60)
    e = echo(r)
    assert e["body_length"] == BIG_BYTES and e["body_sha256"] == hashlib.sha256(body).hexdigest(), e
    r = proxy.get(f"/download/big?n={BIG_BYTES}", headers=pass_cookie(token), timeout=60)
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == BIG_BYTES, describe(r)
    assert r.content == body
    # a chunked upload (no Content-Length) is re-chunked to the upstream
    r = proxy.post("/upload?size=chunked", data=(body[i:i + 100_000] for i in range(0, 1_000_000, 100_000)),
                   headers=pass_cookie(token), timeout=60)
    e = echo(r)
    assert e["body_length"] == 1_000_000 and e["body_sha256"] == hashlib.sha256(body[:1_000_000]).hexdigest(), e
    # a chunked answer reaches an HTTP/1.1 client chunked
    r = proxy.get("/stream/chunked", headers=pass_cookie(token))
    assert r.status_code == 200 and r.text == "first,second,third", describe(r)
    assert r.headers.get("Transfer-Encoding") == "chunked", describe(r)
    # the API's own 16 KiB body limit still holds for Waitroom's routes
    assert_problem(proxy.post(f"/v1/rooms/{ROOM}/tickets", data=b"x" * 20000,
                              headers={"Content-Type": "application/json"}), 413)


def test_keep_alive_reuses_upstream_connections(proxy, upstream):
    _, token = admitted_pass(proxy)
    proxy.get("/warm", headers=pass_cookie(token))
    before = upstream.connections
    n = 40
    for i in range(n):
        echo(proxy.get(f"/reuse/{i}", headers=pass_cookie(token)))
    opened = upstream.connections - before
    assert opened <= 2, f"{n} proxied requests on one client connection opened {opened} upstream connections"
    metrics = proxy.get("/metrics").text
    assert re.search(r'waitroom_proxy_upstream_connections_total\{route="5",host="",path_prefix="/",room="gated"\} \d+',
                     metrics), metrics


def test_an_upstream_that_drops_idle_connections_is_survived(proxy, upstream):
    _, token = admitted_pass(proxy)
    for _ in range(3):
        r = proxy.get("/x/drop", headers=pass_cookie(token))
        assert r.status_code == 200 and r.text == "dropped", describe(r)
        time.sleep(0.05)  # the upstream's close reaches the pooled connection
        echo(proxy.get("/after-drop", headers=pass_cookie(token)))


def test_a_pooled_connection_closed_under_a_request_is_retried_only_without_a_body(proxy, upstream):
    _, token = admitted_pass(proxy)
    m = marker()
    assert proxy.get(f"/x/arm?m={m}", headers=pass_cookie(token)).text == "armed"
    # the pooled connection passes the idle check, takes the request, and closes: sent again
    r = proxy.get(f"/after-arm?m={m}", headers=pass_cookie(token))
    echo(r)
    tries = upstream.seen(f"/after-arm?m={m}")
    assert [t.get("dropped", False) for t in tries] == [True, False], tries
    # with body bytes already sent, the request cannot be sent again: 502
    assert proxy.get(f"/x/arm?m={m}", headers=pass_cookie(token)).text == "armed"
    r = proxy.post(f"/after-arm-post?m={m}", data=b"0123456789", headers=pass_cookie(token))
    assert_problem(r, 502)
    assert len(upstream.seen(f"/after-arm-post?m={m}")) == 1


def test_revoked_session_goes_back_to_the_room(proxy, upstream):
    ticket, token = admitted_pass(proxy)
    echo(proxy.get("/account", headers={**pass_cookie(token), **HTML}))
    assert proxy.set_session(ROOM, ticket, "revoked").status_code == 200
    r = proxy.get("/account", headers={**pass_cookie(token), **HTML})
    assert r.status_code == 302 and urlparse(r.headers["Location"]).path == f"/r/{ROOM}", describe(r)
    body = assert_problem(proxy.get("/account", headers=pass_cookie(token)), 401)
    assert "revoked" in body["detail"], body


# ---- bypass --------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind,path,headers,host", [
    ("path_prefix", "/shop/static/app.css", {}, None),
    ("path_regex", "/shop/health", {}, None),
    ("header", "/shop/basket", {"X-Internal-Key": INTERNAL_KEY}, None),
    ("cookie", "/shop/basket", {"Cookie": "a=1; staff=yes"}, None),
    ("crawlers", "/shop/basket", {"User-Agent": "Mozilla/5.0 (compatible; Googlebot/2.1)"}, None),
    ("cidr", "/anything", {}, "lan.test"),
])
def test_each_bypass_kind_lets_its_requests_through(proxy, upstream, kind, path, headers, host):
    m = marker()
    h = {**headers, "X-Waitroom-Ticket": "forged"}
    if host:
        h["Host"] = host
    r = proxy.get(f"{path}?m={m}", headers=h)
    e = echo(r)
    assert e["h"]["x-waitroom-bypass"] == kind, e
    assert "x-waitroom-ticket" not in e["h"], e
    assert len(upstream.seen(m)) == 1


@pytest.mark.parametrize("path,headers,host", [
    ("/shop/static", {}, None),                      # not under the prefix
    ("/shop/static/../basket", {}, None),            # climbs out of it
    ("/shop/static/%2e%2e/basket", {}, None),
    ("/shop/healthz", {}, None),                     # the regex is anchored
    ("/shop/basket", {"X-Internal-Key": INTERNAL_KEY + "x"}, None),
    ("/shop/basket", {"Cookie": "staff=no"}, None),
    ("/shop/basket", {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}, None),
    ("/basket", {"X-Internal-Key": INTERNAL_KEY}, None),  # another route, without that rule
    ("/anything", {}, "wan.test"),                   # 127.0.0.1 is outside 10.0.0.0/8 and ::1
])
def test_requests_no_rule_covers_need_a_pass(proxy, upstream, path, headers, host):
    m = marker()
    h = dict(headers)
    if host:
        h["Host"] = host
    r = raw_request(proxy.port, "GET", f"{path}?m={m}", h)
    assert r["status"] in (400, 401), r
    assert upstream.seen(m) == []


# ---- upstream failures ---------------------------------------------------------------------------

def test_upstream_down_is_502(proxy):
    r = proxy.get("/x", headers={"Host": "down.test"})
    body = assert_problem(r, 502)
    assert "upstream" in body["detail"]
    assert proxy.get("/healthz").status_code == 200  # the connection carries on


def test_upstream_that_never_answers_is_504(proxy, upstream):
    started = time.monotonic()
    r = proxy.get("/x/hang", headers={"Host": "slow.test"})
    elapsed = time.monotonic() - started
    body = assert_problem(r, 504)
    assert "in time" in body["detail"]
    assert 0.9 <= elapsed < 4.0, f"504 after {elapsed:.1f}s with response_timeout_s = 1"
    metrics = proxy.get("/metrics").text
    assert re.search(r'waitroom_proxy_requests_total\{route="4",[^}]*outcome="upstream_timeout"\} [1-9]', metrics), metrics
    assert re.search(r'waitroom_proxy_requests_total\{route="3",[^}]*outcome="upstream_error"\} [0-9]', metrics), metrics


# ---- Waitroom first ------------------------------------------------------------------------------

def test_waitroom_routes_and_guards_win_on_the_same_host(proxy, upstream):
    before = len(upstream.requests)
    assert proxy.get("/healthz").json() == {"status": "ok"}
    r = proxy.get(f"/r/{ROOM}", headers=HTML)
    assert r.status_code == 200 and "Join the line" in r.text, describe(r)
    assert proxy.get(f"/v1/rooms/{ROOM}").json()["room"] == ROOM
    assert_problem(proxy.get("/admin/v1/rooms/nosuch-but-guarded"), 401)   # the admin guard, not the upstream
    assert_problem(proxy.request("DELETE", "/healthz"), 405)              # a known path, another method
    assert proxy.get("/.well-known/jwks.json").json()["keys"]
    assert len(upstream.requests) == before, "a Waitroom path reached the upstream"


def test_metrics_count_outcomes_per_route(proxy, upstream):
    _, token = admitted_pass(proxy)
    text = proxy.get("/metrics").text

    def count(route, outcome):
        m = re.search(rf'waitroom_proxy_requests_total\{{route="{route}",[^}}]*outcome="{outcome}"\}} (\d+)', text)
        assert m, f"no {outcome} series for route {route}:\n{text}"
        return int(m.group(1))

    before = {o: count(5, o) for o in ("proxied", "refused")}
    before_bypassed = count(1, "bypassed")
    echo(proxy.get("/m", headers=pass_cookie(token)))
    assert_problem(proxy.get("/m"), 401)
    echo(proxy.get("/m", headers={"Host": "lan.test"}))
    text = proxy.get("/metrics").text
    assert count(5, "proxied") == before["proxied"] + 1
    assert count(5, "refused") == before["refused"] + 1
    assert count(1, "bypassed") == before_bypassed + 1


# ---- raw HTTP: HTTP/1.0 clients, Expect: 100-continue -----------------------------------------------

def raw_request(port, method, target, headers, body=b"", version="HTTP/1.1", timeout=10):
    """One request on a fresh connection; reads until the server closes or the answer is whole."""
    head = f"{method} {target} {version}\r\n"
    h = {"Host": f"127.0.0.1:{port}", "Connection": "close", **headers}
    if body:
        h["Content-Length"] = str(len(body))
    head += "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(head.encode() + body)
        data = b""
        while True:
            try:
                c = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not c:
                break
            data += c
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    return {"status": int(lines[0].split()[1]), "version": lines[0].split()[0],
            "headers": {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)},
            "body": rest}


def test_http10_client_gets_an_unchunked_answer_ended_by_close(proxy, upstream):
    _, token = admitted_pass(proxy)
    r = raw_request(proxy.port, "GET", "/stream/chunked", pass_cookie(token), version="HTTP/1.0")
    assert r["status"] == 200 and r["version"] == "HTTP/1.0", r
    assert "transfer-encoding" not in r["headers"], r
    assert r["body"] == b"first,second,third", r


def test_expect_100_continue_is_answered_once_the_request_may_pass(proxy, upstream):
    _, token = admitted_pass(proxy)
    body = b"y" * 300_000
    head = (f"POST /continue HTTP/1.1\r\nHost: 127.0.0.1:{proxy.port}\r\nCookie: waitroom_pass_{ROOM}={token}\r\n"
            f"Expect: 100-continue\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as s:
        s.sendall(head.encode())
        interim = s.recv(100)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        s.sendall(body)
        data = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        while b"}" not in data:
            c = s.recv(65536)
            if not c:
                break
            data += c
    e = json.loads(data.partition(b"\r\n\r\n")[2])
    assert e["body_length"] == len(body), e
    assert "Expect" not in dict(e["headers"]), e
    # refused: a final answer at once, without the body
    r = raw_request(proxy.port, "POST", "/continue", {"Expect": "100-continue", "Content-Length": "5"})
    assert r["status"] == 401, r


# ---- configuration -------------------------------------------------------------------------------

@pytest.mark.parametrize("routes,names", [
    ('[[routes]]\nroom = "gated"', "routes[0].upstream"),
    ('[[routes]]\nupstream = "https://127.0.0.1:9"\nroom = "gated"', "routes[0].upstream: https upstreams"),
    ('[[routes]]\nupstream = "http://127.0.0.1:9"\nroom = "gated"\nbypass = [ { path_regex = "^/(a" } ]',
     "routes[0].bypass[0].path_regex"),
    ('[[routes]]\nupstream = "http://127.0.0.1:9"\nroom = "gated"\nbypass = [ { cidr = "10.0.0.0/40" } ]',
     "routes[0].bypass[0].cidr"),
    ('[[routes]]\nupstream = "http://127.0.0.1:9"\nroom = "gated"\n'
     '[[routes]]\nupstream = "http://127.0.0.1:8"\nroom = "gated"', "routes[1]: same host and path_prefix"),
    ('[[routes]]\nupstream = "http://127.0.0.1:9"\nroom = "gated"\nretries = 3', "routes[0].retries: unknown key"),
])
def test_bad_routes_config_stops_the_start_naming_the_key(routes, names):
    from conftest import _require_binary
    _require_binary()
    srv = Server(config_text=DEFAULT_CONFIG + "\n" + routes + "\n", name="waitroom-badroutes")
    try:
        with pytest.raises(RuntimeError):
            srv.start()
        assert names in srv.log_text(), srv.log_text()
    finally:
        if srv.proc is not None:
            srv.kill9()
        shutil.rmtree(srv.tmp, ignore_errors=True)


def test_the_deploy_example_works_as_shipped(server_factory, upstream):
    example = (REPO / "deploy" / "proxy" / "waitroom.toml").read_text()
    text, n = re.subn(r'upstream = "http://127\.0\.0\.1:3000"', f'upstream = "http://127.0.0.1:{upstream.port}"',
                      example)
    assert n == 1, "deploy/proxy/waitroom.toml changed shape; update this test"
    text = re.sub(r'(?m)^(listen|data_dir|admin_key_file) = .*$', "", text)
    srv = server_factory(config_text=text)
    host = {"Host": "shop.example.com"}
    m = marker()
    r = srv.get(f"/static/app.css?m={m}", headers=host)
    assert r.status_code == 200 and r.headers.get("X-Upstream") == "yes", describe(r)
    r = srv.get("/basket", headers={**host, **HTML})
    assert r.status_code == 302 and urlparse(r.headers["Location"]).path == "/r/sale", describe(r)
    _, token = admitted_pass(srv, "sale")
    r = srv.get("/basket", headers={**host, **pass_cookie(token, "sale")})
    assert echo(r)["h"]["x-waitroom-room"] == "sale"
    # requests for other hosts are not the proxy's
    assert_problem(srv.get("/basket", headers={"Host": "elsewhere.example"}), 404)


def test_the_proxy_hands_a_renewed_pass_to_the_browser(server_factory, upstream):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG + f"""
[rooms.renewing]
pass_lifetime_s = 60
renew_on_activity = true

[[routes]]
upstream = "http://127.0.0.1:{upstream.port}"
room = "renewing"
""")
    _, token = admitted_pass(srv, "renewing")
    r = srv.get("/page", headers=pass_cookie(token, "renewing"))
    assert echo(r) and "Set-Cookie" not in r.headers, describe(r)
    srv.advance_clock(31_000)
    r = srv.get("/page", headers=pass_cookie(token, "renewing"))
    echo(r)
    renewed = r.cookies.get("waitroom_pass_renewing")
    assert renewed and renewed != token, describe(r)
    srv.advance_clock(30_000)  # the first pass has expired; the renewed one carries on
    assert srv.get("/page", headers={**pass_cookie(token, "renewing"), **HTML}).status_code == 302
    echo(srv.get("/page", headers=pass_cookie(renewed, "renewing")))
