"""Clients that attack the HTTP layer itself: thousands of idle connections that never send a
byte, and thousands of malformed requests (bad request lines, header floods, bad chunking, huge
bodies). Each is answered with a 4xx or closed, the server stays up, and its memory comes back.
"""

import random
import resource
import selectors
import socket
import threading
import time

from wrlib import DEFAULT_CONFIG, describe

IDLE_CONNECTIONS = 2000
MALFORMED_REQUESTS = 10_000


def raise_open_file_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_idle_connections_are_closed_at_the_header_timeout(server_factory):
    srv = server_factory(config_text="[limits]\nheader_timeout_s = 2\n\n" + DEFAULT_CONFIG)
    assert raise_open_file_limit(IDLE_CONNECTIONS + 200) >= IDLE_CONNECTIONS + 100
    sel = selectors.DefaultSelector()
    socks = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            socks.append(s)
        opened = time.monotonic()
        # While they idle, the server still serves others.
        assert srv.get("/healthz").status_code == 200
        open_now, answered = set(socks), []
        while open_now and time.monotonic() - opened < 30:
            for key, _ in sel.select(timeout=1):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                if data:
                    answered.append(data[:80])  # a connection that got an answer before closing
                    continue
                sel.unregister(s)
                open_now.discard(s)
        waited = time.monotonic() - opened
        assert not open_now, f"{len(open_now)} of {IDLE_CONNECTIONS} idle connections still open after {waited:.0f} s"
        assert not answered, f"idle connections got answers: {answered[:3]}"
        assert waited >= 1.0, f"closed after {waited:.1f} s, before the 2 s header timeout"
    finally:
        for s in socks:
            s.close()
    assert srv.get("/healthz").status_code == 200
    assert not srv.sanitizer_reports()


def malformed_requests(port, room, ticket):
    """(name, bytes) pairs, each a request no correct server should serve."""
    big = "x" * 9000
    yield "no version", b"GET /healthz\r\n\r\n"
    yield "bad version", b"GET /healthz HTTP/7.1\r\nHost: x\r\n\r\n"
    yield "bad method", b"G\x00T /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "binary junk", bytes(random.getrandbits(8) for _ in range(200)) + b"\r\n\r\n"
    yield "space in target", b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "control char in target", b"GET /v1/rooms/\x01 HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "huge target", f"GET /{big} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    yield "header flood", (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" +
                           b"".join(b"X-F%d: %s\r\n" % (i, b"v" * 40) for i in range(400)) + b"\r\n")
    yield "header without colon", b"GET /healthz HTTP/1.1\r\nHost x\r\n\r\n"
    yield "header name with space", b"GET /healthz HTTP/1.1\r\nHo st: x\r\n\r\n"
    # RFC 9112 section 5.2 lets a server either refuse obs-fold or read it as a space: both are fine.
    yield "obs-fold (may be served)", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: b\r\n c\r\n\r\n"
    yield "two content-lengths", (f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}").encode()
    yield "negative content-length", f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode()
    yield "huge content-length", f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n".encode()
    yield "huge body", ("POST /admin/v1/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: 40000\r\n\r\n".encode() + b"{" * 40000)
    yield "bad chunk size", (f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "zz\r\nab\r\n0\r\n\r\n").encode()
    yield "chunk size overflow", (f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                  "ffffffffffffffffffff\r\nab\r\n0\r\n\r\n").encode()
    yield "chunked body too large", (f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                                     + b"".join(b"1000\r\n" + b"a" * 4096 + b"\r\n" for _ in range(6)) + b"0\r\n\r\n")
    # Transfer-Encoding wins (RFC 9112 section 6.3): the chunked body is the request's (bad JSON).
    yield "chunked and content-length", (f"POST /v1/rooms/{room}/tickets/{ticket}/pass HTTP/1.1\r\nHost: x\r\n"
                                         "Content-Type: application/json\r\nContent-Length: 5\r\n"
                                         "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n0\r\n\r\n").encode()
    yield "unknown transfer coding beside content-length", (
        f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n"
        "Content-Length: 2\r\n\r\n{}").encode()
    yield "chunked not last", (f"POST /v1/rooms/{room}/tickets HTTP/1.1\r\nHost: x\r\n"
                               "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n").encode()
    yield "no Host", b"GET /healthz HTTP/1.1\r\n\r\n"
    yield "two Hosts", b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    yield "bad Host", b"GET /healthz HTTP/1.1\r\nHost: a b/c\r\n\r\n"
    yield "bad JSON body", (f"POST /v1/rooms/{room}/tickets/{ticket}/pass HTTP/1.1\r\nHost: x\r\n"
                            "Content-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"a\":").encode()
    yield "bare LF lines", b"GET /healthz HTTP/1.1\nHost: x\n\n"
    yield "pipelined junk after a good request (may be served)", b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\x02\x00junk\r\n\r\n"


def send_one(port, data):
    """Sends data and reads until the server answers and/or closes. Returns the first bytes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server refused before we finished: fine, as long as it says why or closes
        got = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        return got


def test_ten_thousand_malformed_requests_are_answered_or_closed_and_memory_comes_back(server_factory):
    # A small ASan quarantine, so freed memory is reused as it would be in a release build.
    srv = server_factory(env={"ASAN_OPTIONS": "detect_leaks=0:quarantine_size_mb=1"})
    room = srv.create_room()
    ticket = srv.enqueue_ok(room)["ticket"]
    kinds = list(malformed_requests(srv.port, room, ticket))

    def flood(count, seed, bad):
        rng = random.Random(seed)
        for _ in range(count):
            name, data = rng.choice(kinds)
            got = send_one(srv.port, data)
            if got and not got.startswith(b"HTTP/1.1 "):
                bad.append(f"{name}: not HTTP: {got[:60]!r}")
            elif got:
                status = int(got.split(b" ", 2)[1])
                if not (400 <= status < 500 or status in (501, 503, 505) or "(may be served)" in name):
                    bad.append(f"{name}: {status}")

    def run(total):
        bad = []
        threads = [threading.Thread(target=flood, args=(total // 8, i, bad)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return bad

    # Warm up the allocator and the caches, then take the baseline.
    warm = run(1000)
    assert not warm, "\n".join(sorted(set(warm))[:20])
    time.sleep(1)
    before = rss_kb(srv.proc.pid)
    bad = run(MALFORMED_REQUESTS)
    assert not bad, "\n".join(sorted(set(bad))[:20])
    time.sleep(1)
    after = rss_kb(srv.proc.pid)
    assert after <= before * 1.10, f"VmRSS {before} kB before, {after} kB after {MALFORMED_REQUESTS} malformed requests"
    # Still serving, still correct.
    r = srv.get(f"/v1/rooms/{room}/tickets/{ticket}")
    assert r.status_code == 200, describe(r)
    assert srv.enqueue_ok(room)["position"] == 2
    assert not srv.sanitizer_reports()
