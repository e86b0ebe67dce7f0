"""A simulated shop for adaptive admission's tests: a threaded HTTP server whose answers slow down
and then fail as more visitors' sessions use it at once, like a site past its capacity.

With n concurrent sessions and a capacity of C sessions:

    latency_ms = base_ms * (1 + (n / C) ** 3) * lognormal jitter (median 1, sigma `jitter`)
    failed share = min(1, (n - 1.5 C) / C) past the knee at 1.5 C: those answer 503 after
                   about base_ms (a load shedder), the rest 200 after latency_ms

n is what the test last told it (POST /__shop/control {"sessions": n}); with "sessions": null it
counts the distinct X-Waitroom-Ticket headers (set by Waitroom's proxy) of the last second. The
capacity can be changed the same way ({"capacity": C}). GET /__shop/state answers the model's
state and counters. Every other request is a page of the shop.

Run it as a separate process so its timing does not share the test's interpreter lock:

    python3 fake_shop.py [--base-ms 40] [--capacity 20] [--jitter 0.25] [--seed 1]

prints `port N` on its first line and serves on 127.0.0.1:N until killed. ShopProcess does that
and talks to it; FakeShop is the server itself (usable in-process too).
"""

import argparse
import json
import math
import random
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MAX_LATENCY_MS = 3000.0  # an overloaded page still answers in bounded time (tests stay short)
TICKET_WINDOW_S = 1.0    # counting mode: tickets seen this recently are sessions in progress


class ShopModel:
    """The latency and failure model; thread-safe."""

    def __init__(self, base_ms=40.0, capacity=20.0, jitter=0.25, seed=1):
        self.base_ms = float(base_ms)
        self.capacity = float(capacity)
        self.jitter = float(jitter)
        self.sessions = None  # None: count tickets
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.seen = {}  # ticket -> last time.monotonic()
        self.requests = 0
        self.failed = 0
        self.with_ticket = 0
        self.tickets = set()

    def load(self):
        if self.sessions is not None:
            return self.sessions
        cutoff = time.monotonic() - TICKET_WINDOW_S
        return sum(1 for at in self.seen.values() if at >= cutoff)

    def mean_latency_ms(self, n):
        return self.base_ms * (1.0 + (n / self.capacity) ** 3)

    def fail_share(self, n):
        return max(0.0, min(1.0, (n - 1.5 * self.capacity) / self.capacity))

    def serve(self, ticket):
        """(status, delay_ms) for one request of `ticket` (None: no pass header)."""
        with self.lock:
            self.requests += 1
            if ticket:
                self.with_ticket += 1
                self.tickets.add(ticket)
                self.seen[ticket] = time.monotonic()
            n = self.load()
            jitter = math.exp(self.rng.gauss(0.0, self.jitter))
            fails = self.rng.random() < self.fail_share(n)
            if fails:
                self.failed += 1
                return 503, self.base_ms * jitter
            return 200, min(MAX_LATENCY_MS, self.mean_latency_ms(n) * jitter)

    def control(self, body):
        with self.lock:
            if "sessions" in body:
                self.sessions = None if body["sessions"] is None else int(body["sessions"])
            if "capacity" in body:
                self.capacity = float(body["capacity"])
            if "base_ms" in body:
                self.base_ms = float(body["base_ms"])
            return self._state()

    def state(self):
        with self.lock:
            return self._state()

    def _state(self):
        return {"sessions": self.sessions, "load": self.load(), "capacity": self.capacity,
                "base_ms": self.base_ms, "requests": self.requests, "failed": self.failed,
                "with_ticket": self.with_ticket, "distinct_tickets": len(self.tickets)}


class FakeShop:
    """The shop's HTTP server on 127.0.0.1 (port 0: any free one)."""

    def __init__(self, model=None, port=0):
        self.model = model or ShopModel()
        shop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def reply(self, status, body, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def read_body(self):
                n = int(self.headers.get("Content-Length", "0") or 0)
                return self.rfile.read(n) if n else b""

            def handle_any(self):
                raw = self.read_body()
                if self.path.startswith("/__shop/control") and self.command == "POST":
                    self.reply(200, json.dumps(shop.model.control(json.loads(raw or b"{}"))).encode())
                    return
                if self.path.startswith("/__shop/state"):
                    self.reply(200, json.dumps(shop.model.state()).encode())
                    return
                status, delay_ms = shop.model.serve(self.headers.get("X-Waitroom-Ticket"))
                time.sleep(delay_ms / 1000.0)
                if status == 503:
                    self.reply(503, b"busy, try again\n", "text/plain")
                else:
                    self.reply(200, b"<html><body>a product page</body></html>\n", "text/html")

            do_GET = do_POST = do_PUT = do_HEAD = handle_any

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 128

            def handle_error(self, request, client_address):
                pass  # a proxy closing an idle connection is not news

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ShopProcess:
    """The shop in its own process (its timing undisturbed by the test's threads)."""

    def __init__(self, base_ms=40, capacity=20, jitter=0.25, seed=1):
        args = [sys.executable, str(Path(__file__).resolve()), "--base-ms", str(base_ms),
                "--capacity", str(capacity), "--jitter", str(jitter), "--seed", str(seed)]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("port "):
            self.proc.kill()
            raise RuntimeError(f"fake shop did not start: {line!r}")
        self.port = int(line.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    def control(self, **body):
        import requests
        r = requests.post(self.base_url + "/__shop/control", json=body, timeout=10)
        r.raise_for_status()
        return r.json()

    def state(self):
        import requests
        r = requests.get(self.base_url + "/__shop/state", timeout=10)
        r.raise_for_status()
        return r.json()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--base-ms", type=float, default=40.0)
    p.add_argument("--capacity", type=float, default=20.0)
    p.add_argument("--jitter", type=float, default=0.25)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    shop = FakeShop(ShopModel(a.base_ms, a.capacity, a.jitter, a.seed), a.port)
    print(f"port {shop.port}", flush=True)
    try:
        shop.httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
