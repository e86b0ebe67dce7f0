"""Helpers shared by the black-box HTTP tests: start/stop a real `waitroom serve`
process, talk to it, and check the shapes every answer must have.

Nothing here knows how the server is built inside; it only uses the documented
command line, config file and HTTP API.
"""

import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
REQUEST_TIMEOUT_S = 10.0  # the ASan build can be slow
READY_TIMEOUT_S = 60.0  # generous: make test starts every suite at once, so start-ups queue for the CPU
STOP_GRACE_S = 5.0
LOG_TAIL_LINES = 80

PROBLEM_TYPE = "application/problem+json"
TICKET_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TICKET_STATUSES = {"waiting", "eligible", "admitted", "expired", "completed", "abandoned", "revoked"}
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "ThreadSanitizer", "UndefinedBehaviorSanitizer")

# Two rooms every test server starts with: an ES256 room and an RS256 room.
DEFAULT_CONFIG = """\
[rooms.demo]
pass_lifetime_s = 900
algorithm = "ES256"
issuer = "https://waitroom.example"
audience = "demo"
target_url = "https://shop.example/"

[rooms.legacy]
pass_lifetime_s = 300
algorithm = "RS256"
issuer = "https://legacy.waitroom.example"
target_url = "https://legacy.example/"
"""

# The same, with the test clock on: it moves only through advance_clock() (admin API).
TEST_CLOCK_CONFIG = DEFAULT_CONFIG + "\n[testing]\nmanual_clock = true\n"

ROOM_CONFIG = {
    "demo": {"pass_lifetime_s": 900, "algorithm": "ES256", "issuer": "https://waitroom.example",
             "audience": "demo", "target_url": "https://shop.example/"},
    "legacy": {"pass_lifetime_s": 300, "algorithm": "RS256",
               "issuer": "https://legacy.waitroom.example", "audience": "legacy",
               "target_url": "https://legacy.example/"},
}


def binary_path():
    return Path(os.environ.get("WAITROOM_BIN", REPO / "build" / "asan" / "waitroom")).resolve()


def free_port():
    """A loopback port nobody listens on right now (bind to 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique_room(prefix="r"):
    return f"{prefix}-{secrets.token_hex(4)}"


def random_ticket_id():
    return str(uuid.uuid4())


class Server:
    """One `waitroom serve` process on a private data dir.

    restart() and kill9() keep the data dir, config and admin key; the port may
    change, so always build URLs through url()/request() after a restart.
    """

    def __init__(self, config_text=DEFAULT_CONFIG, extra_args=(), durability=None, threads=None,
                 env=None, name="waitroom", tls_ca=None):
        self.binary = binary_path()
        if not self.binary.exists():
            raise RuntimeError(f"waitroom binary not found at {self.binary} (set WAITROOM_BIN)")
        self.tmp = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.data_dir = self.tmp / "data"
        self.data_dir.mkdir()
        self.config_path = self.tmp / "waitroom.toml"
        self.config_path.write_text(config_text)
        self.admin_key = secrets.token_urlsafe(32)
        self.admin_headers = {"Authorization": f"Bearer {self.admin_key}"}
        self.extra_args = list(extra_args)
        self.durability = durability
        self.threads = threads
        self.extra_env = dict(env or {})
        # WAITROOM_TEST_REDIS_URL (scripts/run-tests): the suite runs on the Redis store, each
        # server under its own key prefix, kept across restarts like a data dir.
        self.redis_prefix = "t" + uuid.uuid4().hex[:16]
        # A config with [tls]: HTTPS, checked against this CA certificate (a path).
        self.tls_ca = str(tls_ca) if tls_ca else None
        self.proc = None
        self.port = None
        self.base_url = None
        self.session = None
        self.starts = 0
        self.log_paths = []
        self.exit_codes = []

    # ---- process control -------------------------------------------------
    def start(self):
        self.port = free_port()
        scheme = "https" if self.tls_ca else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        args = [str(self.binary), "serve", "--listen", f"127.0.0.1:{self.port}",
                "--data-dir", str(self.data_dir), "--config", str(self.config_path)]
        if self.threads:
            args += ["--threads", str(self.threads)]
        if self.durability:
            args += ["--durability", self.durability]
        args += self.extra_args
        env = dict(os.environ)
        env["WAITROOM_ADMIN_KEY"] = self.admin_key
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        redis_url = os.environ.get("WAITROOM_TEST_REDIS_URL")
        if redis_url and "WAITROOM_STORE" not in self.extra_env:
            env["WAITROOM_STORE"] = "redis"
            env["WAITROOM_REDIS_URL"] = redis_url
            env["WAITROOM_REDIS_KEY_PREFIX"] = self.redis_prefix
        env.update(self.extra_env)
        self.starts += 1
        log_path = self.tmp / f"stderr.{self.starts}.log"
        self.log_paths.append(log_path)
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        self.session = new_session()
        self._wait_ready()
        return self

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"waitroom exited with {self.proc.returncode} during start-up\n"
                                   + self.log_tail())
            try:
                r = requests.get(self.url("/readyz"), timeout=2, verify=self.tls_ca or True)
                if r.status_code == 200:
                    return
                last = f"status {r.status_code}"
            except requests.RequestException as e:
                last = repr(e)
            time.sleep(0.05)
        raise RuntimeError(f"waitroom not ready after {READY_TIMEOUT_S}s ({last})\n" + self.log_tail())

    def _reap(self, rc):
        self.exit_codes.append(rc)
        self.proc = None
        if self.session is not None:
            self.session.close()
        self._log.close()

    def stop(self):
        """SIGTERM, then SIGKILL after 5 s. Returns the exit code."""
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            with open(self.log_paths[-1], "ab") as f:
                f.write(b"\n[test harness] no exit within 5 s of SIGTERM: sent SIGKILL\n")
        self._reap(rc)
        return rc

    def kill9(self):
        if self.proc is None:
            return None
        self.proc.send_signal(signal.SIGKILL)
        rc = self.proc.wait()
        self._reap(rc)
        return rc

    def restart(self):
        self.stop()
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # ---- logs ---------------------------------------------------------------
    def log_text(self):
        out = []
        for i, p in enumerate(self.log_paths, 1):
            try:
                out.append(f"--- run {i}: {p} ---\n" + p.read_text(errors="replace"))
            except OSError:
                pass
        return "\n".join(out)

    def log_tail(self, lines=LOG_TAIL_LINES):
        text = self.log_text().splitlines()
        return "\n".join(text[-lines:])

    def sanitizer_reports(self):
        text = self.log_text()
        return [m for m in SANITIZER_MARKERS if m in text]

    def shut_down(self):
        """The end of a fixture's server: stopped, a sanitizer report in its log fails the test
        that owned it, and its temp dir is removed."""
        import pytest  # only fixtures call this; wrlib itself runs without pytest
        self.stop()
        reports = self.sanitizer_reports()
        if reports:
            pytest.fail(f"sanitizer report(s) {reports} in the server log:\n{self.log_tail(200)}",
                        pytrace=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- HTTP -----------------------------------------------------------------
    def url(self, path):
        return self.base_url + path

    def request(self, method, path, admin=False, headers=None, **kw):
        h = dict(self.admin_headers) if admin else {}
        h.update(headers or {})
        kw.setdefault("timeout", REQUEST_TIMEOUT_S)
        kw.setdefault("allow_redirects", False)
        if self.tls_ca:  # per request: REQUESTS_CA_BUNDLE in the environment beats Session.verify
            kw.setdefault("verify", self.tls_ca)
        try:
            return self.session.request(method, self.url(path), headers=h, **kw)
        except requests.ConnectionError as e:
            # Say what was sent and whether the server is still there, not urllib3's stack.
            time.sleep(0.2)
            rc = self.proc.poll() if self.proc is not None else "not running"
            state = "still running" if rc is None else f"DIED with exit code {rc}"
            body = kw.get("json", kw.get("data"))
            if isinstance(body, (bytes, str)) and len(body) > 200:
                body = body[:200]
            raise AssertionError(f"no response to {method} {path} body={body!r}: "
                                 f"{type(e).__name__}: {e}; server {state}") from None

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # ---- domain shortcuts ---------------------------------------------------------
    def enqueue(self, room, cookie=None, **kw):
        headers = kw.pop("headers", {})
        if cookie is not None:
            headers["Cookie"] = f"waitroom_{room}={cookie}"
        return self.post(f"/v1/rooms/{room}/tickets", headers=headers, **kw)

    def enqueue_ok(self, room):
        r = self.enqueue(room)
        assert r.status_code == 201, describe(r)
        return r.json()

    def ticket(self, room, ticket):
        return self.get(f"/v1/rooms/{room}/tickets/{ticket}")

    def pass_for(self, room, ticket):
        return self.post(f"/v1/rooms/{room}/tickets/{ticket}/pass")

    def room_status(self, room):
        r = self.get(f"/v1/rooms/{room}")
        assert r.status_code == 200, describe(r)
        return r.json()

    def admin_room(self, room):
        r = self.get(f"/admin/v1/rooms/{room}", admin=True)
        assert r.status_code == 200, describe(r)
        return r.json()

    def stats(self, room):
        r = self.get(f"/admin/v1/rooms/{room}/stats", admin=True)
        assert r.status_code == 200, describe(r)
        return r.json()

    def create_room(self, room=None, **cfg):
        room = room or unique_room()
        r = self.put(f"/admin/v1/rooms/{room}", admin=True, json=cfg)
        assert r.status_code == 201, describe(r)
        return room

    def advance(self, room, **body):
        r = self.post(f"/admin/v1/rooms/{room}/advance", admin=True, json=body)
        assert r.status_code == 200, describe(r)
        return r.json()["serving"]

    def set_session(self, room, ticket, status):
        return self.put(f"/admin/v1/rooms/{room}/sessions/{ticket}", admin=True,
                        json={"status": status})

    def advance_clock(self, ms):
        """Moves the test clock (TEST_CLOCK_CONFIG) and runs the admission driver along."""
        r = self.post("/admin/v1/testing/clock", admin=True, json={"advance_ms": int(ms)},
                      timeout=120)
        assert r.status_code == 200, describe(r)
        return r.json()["now_ms"]

    def jwks(self):
        r = self.get("/.well-known/jwks.json")
        assert r.status_code == 200, describe(r)
        return r.json()


def wait_for(fn, timeout=10.0, what="condition"):
    """Calls fn() every 50 ms until it returns something true (returned), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def describe(r):
    """A request/response dump for assertion messages (what the lead needs to reproduce)."""
    req = r.request
    body = req.body
    if isinstance(body, bytes):
        body = body[:300].decode(errors="replace") + ("…" if len(req.body) > 300 else "")
    text = r.text
    if len(text) > 600:
        text = text[:600] + "…"
    return (f"\n  request:  {req.method} {req.url} body={body!r}"
            f"\n  response: {r.status_code} {r.headers.get('Content-Type')!r} "
            f"headers={dict(r.headers)!r}\n  body: {text}")


def assert_problem(r, status):
    """Every error is application/problem+json with type, title, status, detail."""
    assert r.status_code == status, f"expected {status}" + describe(r)
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == PROBLEM_TYPE, "not problem+json" + describe(r)
    body = r.json()
    assert isinstance(body, dict), describe(r)
    for field in ("type", "title", "detail"):
        assert isinstance(body.get(field), str), f"problem field {field!r} missing" + describe(r)
    assert body.get("status") == status and type(body.get("status")) is int, describe(r)
    return body


def assert_json(r, status):
    assert r.status_code == status, f"expected {status}" + describe(r)
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip() == "application/json", "not application/json" + describe(r)
    return r.json()


def new_session():
    """A keep-alive session that never stores cookies: tests send cookies explicitly."""
    s = requests.Session()
    s.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return s


def is_int(v):
    return type(v) is int


def raw_http(port, data, timeout=REQUEST_TIMEOUT_S):
    """Send raw bytes, read until the server closes or answers with a complete head.

    Returns the bytes received (maybe empty)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    break
                chunks.append(c)
                buf = b"".join(chunks)
                if b"\r\n\r\n" in buf:
                    head, _, rest = buf.partition(b"\r\n\r\n")
                    m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    if m and len(rest) >= int(m.group(1)):
                        break
        except (ConnectionResetError, socket.timeout):
            pass
        return b"".join(chunks)


# ---- AWS-compatible API ------------------------------------------------------------------

def aws_json(r, status):
    """Every /aws answer is application/json with `Access-Control-Allow-Origin: *`."""
    body = assert_json(r, status)
    assert r.headers.get("Access-Control-Allow-Origin") == "*", "no CORS origin" + describe(r)
    return body


def aws_error(r, status, message=None):
    """An AWS-style error: exactly `{"error": "<message>"}`."""
    body = aws_json(r, status)
    assert isinstance(body, dict) and list(body) == ["error"], describe(r)
    assert isinstance(body["error"], str) and body["error"], describe(r)
    if message is not None:
        assert body["error"] == message, describe(r)
    return body["error"]


class WebhookSink:
    """A webhook receiver on 127.0.0.1:`port` that can go away and come back on the same port.
    Keeps every delivery (headers, body bytes) in arrival order."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.batches = []  # (headers, body bytes)
        self.lock = threading.Lock()
        self.server = None
        self._held = None  # the bound, not listening, socket that keeps the port while stopped

    def start(self):
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.lock:
                    sink.batches.append((dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._release_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        """Goes away: connections are refused until start(). The port stays bound (not
        listening), so no other test's socket can take it in the meantime and keep the sink
        from coming back on it."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
            held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            held.bind(("127.0.0.1", self.port))
            self._held = held

    def _release_port(self):
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def config(self, secret):
        """The [[webhooks]] table that delivers to this sink."""
        return f'\n[[webhooks]]\nurl = "http://127.0.0.1:{self.port}/hook"\nsecret = "{secret}"\n'

    def events(self):
        """Every event received, in arrival order, duplicates (re-sent batches) removed."""
        seen, out = set(), []
        with self.lock:
            batches = list(self.batches)
        for _, body in batches:
            for e in json.loads(body)["events"]:
                if e["id"] not in seen:
                    seen.add(e["id"])
                    out.append(e)
        return out


class StatusStream:
    """A waiting visitor's SSE stream (raw socket on `port`), read by a thread of its own: the
    last status, `first` set once one came, and the time (time.monotonic) of the first status
    with sold_out true; `error` when the stream failed before that."""

    def __init__(self, port, room, ticket, timeout_s=300):
        self.ticket = ticket
        self.sold_out_at = None
        self.last = None
        self.error = None
        self.first = threading.Event()
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall((f"GET /v1/rooms/{room}/tickets/{ticket}/events HTTP/1.1\r\n"
                           "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n").encode())
        self.thread = threading.Thread(target=self._read, args=(timeout_s,), daemon=True)
        self.thread.start()

    def _read(self, timeout_s):
        buf = b""
        head_seen = False
        try:
            self.sock.settimeout(timeout_s)
            while self.sold_out_at is None:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.error = "stream closed"
                    return
                buf += chunk
                if not head_seen:
                    if b"\r\n\r\n" not in buf:
                        continue
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    if b" 200 " not in head.split(b"\r\n")[0]:
                        self.error = f"stream answered {head[:200]!r}"
                        return
                    head_seen = True
                while b"\n\n" in buf:
                    block, _, buf = buf.partition(b"\n\n")
                    for line in block.decode().split("\n"):
                        if line.startswith("data:"):
                            self.last = json.loads(line[5:].strip())
                            self.first.set()
                            if self.last.get("sold_out") is True and self.sold_out_at is None:
                                self.sold_out_at = time.monotonic()
        except OSError as e:
            if self.sold_out_at is None:
                self.error = f"{type(e).__name__}: {e}"

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
