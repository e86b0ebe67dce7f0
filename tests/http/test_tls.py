"""HTTPS on Waitroom's own listener ([tls]) against a real process, with certificates made here by
the `openssl` command line: a test CA and server certificates it signs for 127.0.0.1.

/healthz and a visitor's enqueue over HTTPS (cookies Secure, HSTS as configured); a live update
stream over TLS; the built-in proxy tells its upstream X-Forwarded-Proto https; plain HTTP and
garbage on the TLS port are answered or closed, never left hanging; a connection that never
starts its handshake is closed at header_timeout_s; SIGHUP swaps in a renewed certificate for new
connections while an open keep-alive connection carries on, and a broken file keeps the old one;
a bad [tls] stops the start naming the key.
"""

import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

from test_proxy import Upstream
from wrlib import DEFAULT_CONFIG, assert_json, describe, free_port

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command (scripts/bootstrap)")

HSTS_MAX_AGE_S = 31536000
WAIT_S = 10.0


# ---- certificates -------------------------------------------------------------------------------

def openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class CertificateAuthority:
    """A CA and the server certificates it issues (ECDSA P-256), for 127.0.0.1 and localhost."""

    def __init__(self, workdir):
        self.dir = workdir
        self.cert = workdir / "ca.pem"
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Waitroom Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=workdir)
        (workdir / "leaf.ext").write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")

    def issue(self, name, serial):
        """A fresh key and certificate; returns (chain PEM: leaf then CA, key PEM, leaf DER)."""
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=self.dir)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-set_serial", str(serial), "-days", "1", "-extfile", "leaf.ext",
                "-out", f"{name}.pem", cwd=self.dir)
        leaf = (self.dir / f"{name}.pem").read_text()
        return leaf + self.cert.read_text(), (self.dir / f"{name}.key").read_text(), \
            ssl.PEM_cert_to_DER_cert(leaf)


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return CertificateAuthority(tmp_path_factory.mktemp("tls-ca"))


def tls_config(cert_path, key_path, hsts_max_age_s=0, extra="", top=""):
    """`top`: top-level keys (before any table); `extra`: more tables."""
    return top + DEFAULT_CONFIG + extra + f"""
[tls]
cert_file = "{cert_path}"
key_file = "{key_path}"
hsts_max_age_s = {hsts_max_age_s}
"""


def start_tls_server(factory, ca, name="server", serial=1000, hsts_max_age_s=0, extra="", top=""):
    """A server with a certificate of its own in a directory of its own (so tests can replace it)."""
    chain, key, der = ca.issue(name, serial)
    certs = ca.dir / f"{name}-installed"
    certs.mkdir()
    (certs / "cert.pem").write_text(chain)
    (certs / "key.pem").write_text(key)
    srv = factory(config_text=tls_config(certs / "cert.pem", certs / "key.pem", hsts_max_age_s, extra, top),
                  tls_ca=ca.cert)
    srv.cert_dir = certs
    srv.cert_der = der
    return srv


def client_context(ca):
    ctx = ssl.create_default_context(cafile=str(ca.cert))
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    return ctx


def tls_connect(srv, ca, timeout=WAIT_S):
    """A TLS socket on which an end without close_notify raises (ssl.SSLEOFError) rather than
    reading as b"": so a test sees whether the server closed cleanly."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout)
    return client_context(ca).wrap_socket(sock, server_hostname="127.0.0.1",
                                          suppress_ragged_eofs=False)


def https_connection(srv, ca):
    return http.client.HTTPSConnection("127.0.0.1", srv.port, timeout=WAIT_S, context=client_context(ca))


def fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def wait_for_log(srv, text, since=0):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        log = srv.log_text()
        if text in log[since:]:
            return log[since:]
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in the log:\n{srv.log_tail()}")


def log_lines(text, msg):
    out = []
    for line in text.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("msg") == msg:
            out.append(entry)
    return out


# ---- HTTPS ----------------------------------------------------------------------------------------

def test_health_and_a_visitor_over_https_with_secure_cookies_and_hsts(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "hsts", hsts_max_age_s=HSTS_MAX_AGE_S,
                           top="cookie_secure = false\n")
    assert srv.base_url.startswith("https://")
    r = srv.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}, describe(r)
    assert r.headers.get("Strict-Transport-Security") == f"max-age={HSTS_MAX_AGE_S}", describe(r)

    r = srv.enqueue("demo")
    body = assert_json(r, 201)
    cookie = r.headers.get("Set-Cookie", "")
    assert cookie.startswith("waitroom_demo="), describe(r)
    assert "; Secure" in cookie, "cookies are Secure under TLS, whatever cookie_secure says" + describe(r)
    assert r.headers.get("Strict-Transport-Security") == f"max-age={HSTS_MAX_AGE_S}", describe(r)
    # errors carry it too
    r = srv.get("/v1/rooms/no-such-room")
    assert r.status_code == 404 and "Strict-Transport-Security" in r.headers, describe(r)
    # the page, then the pass once admitted, on the same keep-alive HTTPS session
    r = srv.get("/r/demo", headers={"Accept": "text/html", "Cookie": f"waitroom_demo={body['ticket']}"})
    assert r.status_code == 200 and "Strict-Transport-Security" in r.headers, describe(r)
    srv.advance("demo", to=body["position"])
    r = srv.pass_for("demo", body["ticket"])
    assert r.status_code == 200 and r.json()["pass"], describe(r)

    with tls_connect(srv, ca) as s:
        assert s.version() in ("TLSv1.2", "TLSv1.3")
        assert s.selected_alpn_protocol() == "http/1.1"
        assert fingerprint(s.getpeercert(binary_form=True)) == fingerprint(srv.cert_der)

    started = log_lines(srv.log_text(), "tls certificate loaded")
    assert started and started[0]["subject"] == "CN=hsts" and started[0]["serial"] == "03E8", started


def test_tls_1_2_clients_are_served(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "tls12")
    ctx = client_context(ca)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with ctx.wrap_socket(socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S),
                         server_hostname="127.0.0.1", suppress_ragged_eofs=False) as s:
        assert s.version() == "TLSv1.2"
        assert s.cipher()[0].startswith("ECDHE-"), s.cipher()
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):  # ends at close_notify (a bare close raises)
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer


def test_no_hsts_at_max_age_0(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "nohsts")
    r = srv.get("/healthz")
    assert r.status_code == 200 and "Strict-Transport-Security" not in r.headers, describe(r)
    r = srv.enqueue("demo")
    assert r.status_code == 201 and "; Secure" in r.headers.get("Set-Cookie", ""), describe(r)


def test_live_updates_stream_over_tls(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "events")
    t = srv.enqueue_ok("demo")
    with tls_connect(srv, ca) as s:
        s.sendall((f"GET /v1/rooms/demo/tickets/{t['ticket']}/events HTTP/1.1\r\n"
                   f"Host: 127.0.0.1:{srv.port}\r\nAccept: text/event-stream\r\n\r\n").encode())
        buf = b""

        def read_until(sep):
            nonlocal buf
            deadline = time.monotonic() + WAIT_S
            while sep not in buf and time.monotonic() < deadline:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            part, found, buf = buf.partition(sep)
            assert found, f"stream ended or stalled; got {part!r}"
            return part.decode()

        head = read_until(b"\r\n\r\n")
        assert head.startswith("HTTP/1.1 200") and "text/event-stream" in head, head
        first = read_until(b"\n\n")
        while '"status"' not in first:  # the retry: line may come on its own
            first = read_until(b"\n\n")
        assert '"status":"waiting"' in first.replace(" ", ""), first
        srv.advance("demo", to=t["position"])
        second = read_until(b"\n\n")
        while '"status"' not in second:  # a heartbeat may come between
            second = read_until(b"\n\n")
        assert '"status":"eligible"' in second.replace(" ", ""), second


def test_the_proxy_tells_the_upstream_it_was_https(server_factory, ca):
    upstream = Upstream()
    try:
        srv = start_tls_server(server_factory, ca, "proxy", hsts_max_age_s=600, extra=f"""
[rooms.gated]
target_url = "https://shop.example/"

[[routes]]
path_prefix = "/shop/"
upstream = "http://127.0.0.1:{upstream.port}"
room = "gated"
bypass = [ {{ cidr = "127.0.0.0/8" }} ]

[[routes]]
path_prefix = "/members/"
upstream = "http://127.0.0.1:{upstream.port}"
room = "gated"
""")
        r = srv.get("/shop/basket?x=1", headers={"X-Forwarded-Proto": "http"})
        assert r.status_code == 200 and r.headers.get("X-Upstream") == "yes", describe(r)
        seen = {k.lower(): v for k, v in r.json()["headers"]}
        assert seen["x-forwarded-proto"] == "https", seen
        assert seen["x-forwarded-for"] == "127.0.0.1", seen
        assert r.headers.get("Strict-Transport-Security") == "max-age=600", describe(r)
        # a large answer streams through TLS whole
        r = srv.get("/shop/big?n=3000000")
        assert r.status_code == 200 and len(r.content) == 3_000_000, describe(r)
        # the proxy's own refusals carry HSTS too
        r = srv.get("/members/area", headers={"Accept": "text/html"})
        assert r.status_code == 302 and r.headers.get("Strict-Transport-Security") == "max-age=600", describe(r)
    finally:
        upstream.close()


# ---- what is not TLS ------------------------------------------------------------------------------

def read_all(sock, timeout):
    sock.settimeout(timeout)
    data = b""
    started = time.monotonic()
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data, time.monotonic() - started


def test_plain_http_and_garbage_on_the_tls_port_are_answered_or_closed(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "plain")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data, took = read_all(s, WAIT_S)
    assert data.startswith(b"HTTP/1.1 400"), data
    assert b"https://" in data and took < 5, (data, took)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S) as s:
        s.sendall(b"\x16\x03\x01\x00\x05hello" + b"\x00" * 64)  # a TLS record that is no ClientHello
        data, took = read_all(s, WAIT_S)
    assert not data.startswith(b"HTTP"), data
    assert took < 5, took
    # garbage after a good handshake, past TLS (not a record): the connection is closed
    with tls_connect(srv, ca) as s:
        raw = socket.socket(fileno=os.dup(s.fileno()))
        with raw:
            raw.sendall(b"GET / HTTP/1.1\r\n\r\n" * 4)
            data, took = read_all(raw, WAIT_S)
    assert b"HTTP/1.1" not in data and took < 5, (data, took)
    assert srv.get("/healthz").status_code == 200
    assert srv.alive()


def test_a_connection_without_a_handshake_is_closed_at_the_header_timeout(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "idle", extra="[limits]\nheader_timeout_s = 2\n")
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S) as s:
        data, took = read_all(s, WAIT_S)
    assert data == b"" and 1.5 < took < 5, (data, took)
    # and a handshake that stops halfway (a ClientHello's first bytes) likewise
    with socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S) as s:
        s.sendall(b"\x16\x03\x01\x02\x00\x01")
        data, took = read_all(s, WAIT_S)
    assert 1.5 < took < 5, (data, took)
    assert srv.get("/healthz").status_code == 200


# ---- reload ----------------------------------------------------------------------------------------

def test_sighup_renews_the_certificate_without_dropping_connections(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "first", serial=1001)
    old = https_connection(srv, ca)
    old.request("GET", "/healthz")
    r = old.getresponse()
    assert r.status == 200 and r.read() == b'{"status":"ok"}'
    old_sock = old.sock
    assert fingerprint(old_sock.getpeercert(binary_form=True)) == fingerprint(srv.cert_der)

    chain, key, new_der = ca.issue("second", 1002)
    (srv.cert_dir / "cert.pem").write_text(chain)
    (srv.cert_dir / "key.pem").write_text(key)
    mark = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    text = wait_for_log(srv, "tls certificate reloaded", mark)
    reloaded = log_lines(text, "tls certificate reloaded")
    assert reloaded[0]["subject"] == "CN=second" and reloaded[0]["serial"] == "03EA", reloaded
    assert reloaded[0]["not_after"].endswith("Z"), reloaded

    # the open connection carries on, on the same socket, with the certificate it began with
    old.request("GET", "/healthz")
    r = old.getresponse()
    assert r.status == 200 and r.read() == b'{"status":"ok"}'
    assert old.sock is old_sock, "the keep-alive connection was dropped"
    assert fingerprint(old.sock.getpeercert(binary_form=True)) == fingerprint(srv.cert_der)
    old.close()
    # a new connection gets the new certificate
    with tls_connect(srv, ca) as s:
        assert fingerprint(s.getpeercert(binary_form=True)) == fingerprint(new_der)
    assert srv.get("/healthz").status_code == 200

    # a broken certificate file: logged with the file named, the renewed certificate stays
    (srv.cert_dir / "cert.pem").write_text("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
    mark = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    text = wait_for_log(srv, "tls certificate reload failed", mark)
    failed = log_lines(text, "tls certificate reload failed")
    assert "tls.cert_file" in failed[0]["error"] and str(srv.cert_dir / "cert.pem") in failed[0]["error"], failed
    assert failed[0]["still_serving_serial"] == "03EA", failed
    # a key of another certificate: refused as well
    other_chain, other_key, _ = ca.issue("third", 1003)
    (srv.cert_dir / "cert.pem").write_text(chain)
    (srv.cert_dir / "key.pem").write_text(other_key)
    mark = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    text = wait_for_log(srv, "tls certificate reload failed", mark)
    assert "tls.key_file" in log_lines(text, "tls certificate reload failed")[0]["error"], text
    assert srv.alive()
    with tls_connect(srv, ca) as s:
        assert fingerprint(s.getpeercert(binary_form=True)) == fingerprint(new_der)
    assert srv.get("/healthz").status_code == 200


def test_sigterm_closes_idle_tls_connections_and_exits(server_factory, ca):
    srv = start_tls_server(server_factory, ca, "drain")
    idle = tls_connect(srv, ca)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while not answer.endswith(b'{"status":"ok"}'):
        answer += idle.recv(65536)
    silent = socket.create_connection(("127.0.0.1", srv.port), timeout=WAIT_S)  # no handshake
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(timeout=WAIT_S)
    took = time.monotonic() - started
    assert rc == 0 and took < 5, (rc, took, srv.log_tail())
    srv._reap(rc)
    assert idle.recv(1) == b"", "the idle connection ends with close_notify"
    idle.close()
    silent.close()


# ---- configuration ---------------------------------------------------------------------------------

def start_failure(tmp_path, config_text):
    """Runs `waitroom serve` with a config that must not start; returns (exit code, output)."""
    from wrlib import binary_path
    (tmp_path / "waitroom.toml").write_text(config_text)
    p = subprocess.run([str(binary_path()), "serve", "--config", str(tmp_path / "waitroom.toml"),
                        "--data-dir", str(tmp_path / "data"), "--listen", f"127.0.0.1:{free_port()}"],
                       capture_output=True, text=True, timeout=30,
                       env={"ASAN_OPTIONS": "detect_leaks=0", "PATH": "/usr/bin:/bin"})
    return p.returncode, p.stdout + p.stderr


def test_a_bad_tls_config_stops_the_start_naming_the_key(tmp_path, ca):
    chain, key, _ = ca.issue("config", 1100)
    _, other_key, _ = ca.issue("config-other", 1101)
    (tmp_path / "cert.pem").write_text(chain)
    (tmp_path / "key.pem").write_text(key)
    (tmp_path / "other.key").write_text(other_key)
    missing = tmp_path / "missing.key"
    cases = [
        (tls_config(tmp_path / "cert.pem", missing), f"tls.key_file: {missing}: cannot read"),
        (DEFAULT_CONFIG + f'[tls]\ncert_file = "{tmp_path / "cert.pem"}"\n', "tls.key_file: is required"),
        (tls_config(tmp_path / "cert.pem", tmp_path / "other.key"), "tls.key_file"),
        (tls_config(tmp_path / "key.pem", tmp_path / "key.pem"), "tls.cert_file"),
        (DEFAULT_CONFIG + "[tls]\nhsts_max_age_s = 60\n", "tls.hsts_max_age_s"),
    ]
    for config_text, names in cases:
        rc, out = start_failure(tmp_path, config_text)
        assert rc != 0 and names in out, (names, rc, out)
        assert "listening" not in out, out
