"""Real Caddy (Debian's) with deploy/caddy/Caddyfile in front of a small upstream: no pass →
sent to the room; admitted → the upstream answers through Caddy; revoked → back to the room
within 1 s. The example file is used as shipped, with only addresses and ports changed.
"""

import re
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from gate_flow import SHOP_BODY, forged_pass_is_refused, run_in_front, walk_in_and_get_revoked
from wrlib import REPO, free_port

CADDY = shutil.which("caddy") or "/usr/bin/caddy"
EXAMPLE = REPO / "deploy" / "caddy" / "Caddyfile"


class Shop(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = SHOP_BODY.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        # what the gate told the site, copied by forward_auth's copy_headers
        self.send_header("X-Seen-Ticket", self.headers.get("X-Waitroom-Ticket", ""))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def example_site(waitroom_port, shop_port, port):
    text = EXAMPLE.read_text()
    text, n1 = re.subn(r"127\.0\.0\.1:8080", f"127.0.0.1:{waitroom_port}", text)
    text, n2 = re.subn(r"127\.0\.0\.1:3000", f"127.0.0.1:{shop_port}", text)
    text, n3 = re.subn(r"^shop\.example\.com \{", f"http://127.0.0.1:{port} {{", text, flags=re.M)
    assert (n1, n2, n3) == (3, 1, 1), "deploy/caddy/Caddyfile changed shape; update this test"
    return text


@pytest.fixture
def caddy_front(server_factory, tmp_path):
    if not Path(CADDY).exists():
        pytest.fail("caddy is not installed (scripts/bootstrap installs it)", pytrace=False)
    srv = server_factory()
    shop = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=shop.serve_forever, daemon=True).start()
    port = free_port()
    conf = tmp_path / "Caddyfile"
    # The test's own global options: no admin endpoint, no certificates, state in tmp_path.
    conf.write_text("{\n\tadmin off\n\tauto_https off\n}\n\n" +
                    example_site(srv.port, shop.server_address[1], port))
    env = {"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([CADDY, "run", "--config", str(conf), "--adapter", "caddyfile"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in run_in_front(proc, base, "caddy"):
            yield srv, base
    finally:
        shop.shutdown()


def test_caddy_sends_visitors_to_the_room_and_lets_admitted_ones_through(caddy_front):
    walk_in_and_get_revoked(*caddy_front, "caddy")


def test_caddy_refuses_a_forged_pass(caddy_front):
    forged_pass_is_refused(*caddy_front, api_client_status=401)


def test_caddy_lets_a_bearer_pass_through_and_tells_the_site_the_ticket(caddy_front):
    srv, base = caddy_front
    t = srv.enqueue_ok("demo")
    srv.advance("demo", to=t["position"])
    token = srv.pass_for("demo", t["ticket"]).json()["pass"]
    r = requests.get(base + "/", headers={"Authorization": f"Bearer {token}"}, allow_redirects=False)
    assert r.status_code == 200 and r.text == SHOP_BODY, r.text
    assert r.headers["X-Seen-Ticket"] == t["ticket"]
