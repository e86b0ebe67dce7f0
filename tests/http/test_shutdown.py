"""SIGTERM drains: the server stops accepting, closes idle connections, lets a request in flight
finish and be answered (with Connection: close), makes its writes durable, and exits; a request
that does not finish within [limits] shutdown_timeout_s does not hold the exit longer.
"""

import json
import signal
import socket
import time

from wrlib import DEFAULT_CONFIG, describe


def read_answer(s, timeout=10):
    s.settimeout(timeout)
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    length = int(next((l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")), b"0"))
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head.decode(), body


def wait_exit(srv, limit_s):
    t0 = time.monotonic()
    rc = srv.proc.wait(timeout=limit_s)
    return rc, time.monotonic() - t0


def test_a_request_in_flight_is_answered_and_kept_then_the_server_exits(server_factory):
    srv = server_factory()
    idle = srv.session  # a keep-alive connection that is idle when the signal comes
    assert idle.get(srv.url("/healthz")).status_code == 200
    body = b"{}"
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    try:
        # The head now, the body after the signal: the request is in flight when it comes.
        s.sendall(b"POST /v1/rooms/demo/tickets HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        time.sleep(0.3)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        # No longer accepting.
        try:
            socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()
            accepted = True
        except OSError:
            accepted = False
        assert not accepted, "a new connection was accepted after SIGTERM"
        assert srv.proc.poll() is None, "exited with a request in flight"
        s.sendall(body)
        head, answer = read_answer(s)
    finally:
        s.close()
    assert head.startswith("HTTP/1.1 201"), head
    assert "connection: close" in head.lower(), head
    ticket = json.loads(answer)
    rc, _ = wait_exit(srv, 10)
    assert rc == 0
    assert time.monotonic() - t0 < 5, "the idle connection held up the exit"
    assert '"all_requests_finished":true' in srv.log_text(), srv.log_tail()
    srv._reap(rc)
    # What was answered was kept.
    srv.start()
    r = srv.get(f"/v1/rooms/demo/tickets/{ticket['ticket']}")
    assert r.status_code == 200 and r.json()["position"] == ticket["position"], describe(r)


def test_a_request_that_never_finishes_does_not_hold_the_exit_past_the_timeout(server_factory):
    srv = server_factory(config_text="[limits]\nshutdown_timeout_s = 1\n\n" + DEFAULT_CONFIG)
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    try:
        s.sendall(b"POST /v1/rooms/demo/tickets HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
        time.sleep(0.3)
        srv.proc.send_signal(signal.SIGTERM)
        rc, waited = wait_exit(srv, 10)
    finally:
        s.close()
    assert rc == 0
    assert 0.8 <= waited < 5, f"exited {waited:.1f} s after SIGTERM with shutdown_timeout_s = 1"
    assert '"all_requests_finished":false' in srv.log_text(), srv.log_tail()
    srv._reap(rc)
