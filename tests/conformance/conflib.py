"""Helpers for the admission conformance suite: the manual test clock, room
settings, the admissions log, a fast keep-alive client for bulk traffic, and the
statistics (Kendall tau, chi-square) the issue asks for.

Spec: /work/spec/admission-api.md. Everything goes through the HTTP API.
"""

import http.client
import json
import math
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

HTTP_SUITE = Path(__file__).resolve().parent.parent / "http"
if str(HTTP_SUITE) not in sys.path:
    sys.path.insert(0, str(HTTP_SUITE))

from wrlib import DEFAULT_CONFIG, REQUEST_TIMEOUT_S, assert_json, describe  # noqa: E402

TESTING_CONFIG = DEFAULT_CONFIG + "\n[testing]\nmanual_clock = true\n"
DURABILITY = "relaxed"  # see conftest.py

CLOCK_PATH = "/admin/v1/testing/clock"
STEP_MS = 100                 # the admission driver's period
ADVANCE_CHUNK_MS = 60_000     # one POST moves the clock at most this far (600 driver steps)
SLOW_TIMEOUT_S = 120.0        # for clock moves and big log pages on the ASan build


# ---- test clock -------------------------------------------------------------------------------

def now_ms(srv):
    r = srv.get(CLOCK_PATH, admin=True)
    body = assert_json(r, 200)
    assert type(body.get("now_ms")) is int, "now_ms is not an int" + describe(r)
    return body["now_ms"]


def clock_advance(srv, ms, chunk_ms=ADVANCE_CHUNK_MS):
    """Move the manual clock `ms` forward (in POSTs of at most chunk_ms), running the
    admission driver after every 100 ms step. Returns the new now_ms."""
    assert ms > 0
    left = ms
    now = None
    while left > 0:
        step = min(left, chunk_ms)
        before = now if now is not None else now_ms(srv)
        r = srv.post(CLOCK_PATH, admin=True, json={"advance_ms": step}, timeout=SLOW_TIMEOUT_S)
        body = assert_json(r, 200)
        now = body.get("now_ms")
        assert now == before + step, (f"clock moved from {before} by {step} ms but says {now}"
                                      + describe(r))
        left -= step
    return now


def clock_advance_to(srv, target_ms):
    """Move the clock to at least target_ms, in whole driver steps. Returns now_ms."""
    now = now_ms(srv)
    if now >= target_ms:
        return now
    delta = target_ms - now
    delta = -(-delta // STEP_MS) * STEP_MS
    return clock_advance(srv, delta)


def rfc3339(unix_s):
    return datetime.fromtimestamp(int(unix_s), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text):
    """Unix seconds of an RFC 3339 time (any offset, "Z" or numeric)."""
    t = text.replace("z", "Z")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    return datetime.fromisoformat(t).timestamp()


# ---- rooms ----------------------------------------------------------------------------------

def make_room(srv, room=None, **settings):
    """Create a room with the given settings (201)."""
    return srv.create_room(room, **settings)


def set_room(srv, room, **settings):
    """PUT partial settings into an existing room (200); returns the room object."""
    r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json=settings)
    return assert_json(r, 200)


def admissions(srv, room, limit=10_000):
    """The whole admissions log of the room's current epoch, checked for shape:
    seq 1, 2, 3... without gaps, `next` and `total` consistent."""
    out = []
    frm = 1
    total = None
    while True:
        r = srv.get(f"/admin/v1/rooms/{room}/admissions?from={frm}&limit={limit}", admin=True,
                    timeout=SLOW_TIMEOUT_S)
        body = assert_json(r, 200)
        page = body.get("admissions")
        assert isinstance(page, list), "no admissions list" + describe(r)
        assert type(body.get("total")) is int and type(body.get("next")) is int, describe(r)
        total = body["total"]
        assert len(page) <= limit, f"page longer than limit={limit}" + describe(r)
        for i, a in enumerate(page):
            assert a.get("seq") == frm + i, (f"admission {i} of the page from={frm} has seq "
                                             f"{a.get('seq')}, expected {frm + i}: {a}")
            for f in ("position", "admitted_at"):
                assert isinstance(a.get(f), (int, float)) and not isinstance(a.get(f), bool), \
                    f"admission lacks a numeric {f}: {a}"
            assert isinstance(a.get("ticket"), str), f"admission lacks ticket: {a}"
        assert body["next"] == frm + len(page), (f"next={body['next']} after {len(page)} "
                                                 f"admissions from {frm}" + describe(r))
        out.extend(page)
        if not page or len(out) >= total:
            break
        frm = body["next"]
    assert len(out) == total, f"log total={total} but {len(out)} admissions could be read"
    return out


# ---- a fast keep-alive client for bulk traffic -----------------------------------------------------
#
# requests costs ~0.5 ms of Python per call; http.client about a fifth of that. The
# bulk paths (100,000 enqueues, 64 racing clients) use this one so the client is not the
# bottleneck on a 2-core machine.

class FastResponse:
    def __init__(self, method, path, sent, status, headers, raw):
        self.method, self.path, self.sent = method, path, sent
        self.status, self.headers, self.raw = status, headers, raw

    @property
    def text(self):
        return self.raw.decode(errors="replace")

    def json(self):
        return json.loads(self.raw)

    def header(self, name):
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    def describe(self):
        body = self.text
        if len(body) > 600:
            body = body[:600] + "…"
        return (f"\n  request:  {self.method} {self.path} body={self.sent[:300]!r}"
                f"\n  response: {self.status} {self.header('Content-Type')!r}\n  body: {body}")


class FastClient:
    def __init__(self, srv, timeout=REQUEST_TIMEOUT_S):
        self.srv = srv
        self.timeout = timeout
        self.conn = None
        self.used = 0

    def close(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = None
        self.used = 0

    def request(self, method, path, body=None, admin=False, headers=None):
        h = {}
        if admin:
            h.update(self.srv.admin_headers)
        if headers:
            h.update(headers)
        data = b"" if body is None else json.dumps(body).encode()
        if body is not None:
            h["Content-Type"] = "application/json"
        h["Content-Length"] = str(len(data))
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.srv.port,
                                                       timeout=self.timeout)
            reused = self.used > 0
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                raw = r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as e:
                # the server closed an idle keep-alive connection: retry once on a new one
                self.close()
                if attempt == 0 and reused:
                    continue
                raise AssertionError(f"no response to {method} {path}: {type(e).__name__}: {e}; "
                                     f"server {'running' if self.srv.alive() else 'DEAD'}") from None
            except (http.client.HTTPException, OSError) as e:
                self.close()
                raise AssertionError(f"no response to {method} {path}: {type(e).__name__}: {e}; "
                                     f"server {'running' if self.srv.alive() else 'DEAD'}") from None
            self.used += 1
            headers_out = dict(r.getheaders())
            if (r.getheader("Connection") or "").lower() == "close":
                self.close()
            return FastResponse(method, path, data, r.status, headers_out, raw)
        raise AssertionError("unreachable")

    def enqueue(self, room, cookie=None):
        h = {"Cookie": f"waitroom_{room}={cookie}"} if cookie else None
        return self.request("POST", f"/v1/rooms/{room}/tickets", headers=h)

    def ticket(self, room, ticket):
        return self.request("GET", f"/v1/rooms/{room}/tickets/{ticket}")

    def pass_for(self, room, ticket):
        return self.request("POST", f"/v1/rooms/{room}/tickets/{ticket}/pass")


def expect(r, status):
    """A FastResponse with this status; returns its JSON body (or None if empty)."""
    assert r.status == status, f"expected {status}" + r.describe()
    return r.json() if r.raw else None


def enqueue_many(srv, room, n, threads=8, keep=("ticket", "position", "status", "ahead")):
    """n new visitors (201 each) from `threads` keep-alive connections.
    Returns their answers (only the `keep` fields), in no particular order."""
    per = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    path = f"/v1/rooms/{room}/tickets"

    def work(count):
        c = FastClient(srv)
        out = []
        try:
            for _ in range(count):
                r = c.request("POST", path)
                body = expect(r, 201)
                out.append({k: body.get(k) for k in keep})
        finally:
            c.close()
        return out

    with ThreadPoolExecutor(max_workers=threads) as ex:
        parts = list(ex.map(work, per))
    return [t for part in parts for t in part]


def run_threads(targets, errors):
    """Start one thread per callable; exceptions land in `errors` (a list)."""
    lock = threading.Lock()

    def wrap(fn):
        def run():
            try:
                fn()
            except BaseException as e:  # noqa: BLE001 - reported by the test
                with lock:
                    errors.append(e)
        return run

    ths = [threading.Thread(target=wrap(fn), daemon=True) for fn in targets]
    for t in ths:
        t.start()
    return ths


# ---- statistics ----------------------------------------------------------------------------------

def count_inversions(seq):
    """Pairs i < j with seq[i] > seq[j], by merge sort (O(n log n))."""
    a = list(seq)
    n = len(a)
    inv = 0
    width = 1
    buf = [0] * n
    while width < n:
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if a[i] <= a[j]:
                    buf[k] = a[i]
                    i += 1
                else:
                    buf[k] = a[j]
                    inv += mid - i
                    j += 1
                k += 1
            buf[k:k + (mid - i)] = a[i:mid]
            k += mid - i
            buf[k:k + (hi - j)] = a[j:hi]
        a, buf = buf, a
        width *= 2
    return inv


def kendall_tau(seq):
    """Kendall tau between the order of `seq` (1, 2, 3...) and its values, for distinct
    values: 1.0 when seq is increasing, -1.0 when decreasing."""
    n = len(seq)
    if n < 2:
        return 1.0
    pairs = n * (n - 1) // 2
    return 1.0 - 2.0 * count_inversions(seq) / pairs


def chi_square(counts):
    n = sum(counts)
    e = n / len(counts)
    return sum((c - e) ** 2 / e for c in counts)


def chi_square_p(stat, df):
    """Upper tail probability of the chi-square distribution (scipy if present, else the
    closed form for integer df)."""
    try:
        from scipy.stats import chi2  # type: ignore
        return float(chi2.sf(stat, df))
    except ImportError:
        pass
    x = stat / 2.0
    if df % 2 == 0:
        # Q = e^-x * sum_{k < df/2} x^k / k!
        term, s = 1.0, 1.0
        for k in range(1, df // 2):
            term *= x / k
            s += term
        return math.exp(-x) * s
    # odd df: Q = erfc(sqrt(x)) + e^-x / sqrt(pi x) * sum_{k=1}^{(df-1)/2} (2x)^k / (1*3*...*(2k-1))
    # written with terms x^(k-1/2) / Gamma(k+1/2)
    q = math.erfc(math.sqrt(x))
    term = math.sqrt(x) / math.gamma(1.5)
    s = 0.0
    for k in range(1, (df - 1) // 2 + 1):
        if k > 1:
            term *= x / (k - 0.5)
        s += term
    return q + math.exp(-x) * s
