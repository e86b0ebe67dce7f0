"""Real nginx (Debian's) with deploy/nginx/waitroom.conf in front of a small upstream:
no pass → sent to the room; admitted → the upstream answers through nginx; revoked → back to
the room within 1 s. The example file is used as shipped, with only addresses and ports changed.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from gate_flow import forged_pass_is_refused, run_in_front, walk_in_and_get_revoked
from wrlib import DEFAULT_CONFIG, REPO, TEST_CLOCK_CONFIG, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
EXAMPLE = REPO / "deploy" / "nginx" / "waitroom.conf"


@pytest.fixture
def nginx_front(server_factory, tmp_path):
    yield from nginx_in_front_of(server_factory(), tmp_path)


@pytest.fixture
def nginx_front_test_clock(server_factory, tmp_path):
    yield from nginx_in_front_of(server_factory(config_text=TEST_CLOCK_CONFIG), tmp_path)


def nginx_in_front_of(srv, tmp_path):
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed (scripts/bootstrap installs nginx-light)", pytrace=False)
    port, shop_port = free_port(), free_port()
    site = example_site(srv.port, shop_port, port)
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    # The test's stand-in for visitors on other networks: every client here is 127.0.0.1, so the
    # test's own X-Test-Client header sets the address nginx sees ($remote_addr), as a visitor's
    # TCP source would. Outside the example file, which is used as shipped.
    real_ip_header X-Test-Client;
    set_real_ip_from 127.0.0.1;
    {site}
    server {{
        listen 127.0.0.1:{shop_port};
        location / {{ default_type text/plain; return 200 "the protected shop\\n"; }}
    }}
}}
""")
    proc = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    error_log = tmp_path / "error.log"
    for _ in run_in_front(proc, base, "nginx", lambda: error_log.read_text() if error_log.exists() else ""):
        yield srv, base


def example_site(waitroom_port, shop_port, port):
    text = EXAMPLE.read_text()
    text, n1 = re.subn(r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{waitroom_port};", text)
    text, n2 = re.subn(r"server 127\.0\.0\.1:3000;", f"server 127.0.0.1:{shop_port};", text)
    text, n3 = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    assert (n1, n2, n3) == (1, 1, 1), "deploy/nginx/waitroom.conf changed shape; update this test"
    return text


def test_nginx_sends_visitors_to_the_room_and_lets_admitted_ones_through(nginx_front):
    walk_in_and_get_revoked(*nginx_front, "nginx")


def test_nginx_refuses_a_forged_pass(nginx_front):
    forged_pass_is_refused(*nginx_front, api_client_status=302)


def test_nginx_hands_a_renewed_pass_to_the_browser(nginx_front_test_clock):
    srv, base = nginx_front_test_clock
    srv.put("/admin/v1/rooms/demo", admin=True, json={"pass_lifetime_s": 60, "renew_on_activity": True})
    t = srv.enqueue_ok("demo")
    srv.advance("demo", to=t["position"])
    token = srv.pass_for("demo", t["ticket"]).json()["pass"]
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": token}, allow_redirects=False)
    assert r.status_code == 200 and "Set-Cookie" not in r.headers, r.headers
    srv.advance_clock(31_000)
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": token}, allow_redirects=False)
    assert r.status_code == 200, r.text
    renewed = r.cookies.get("waitroom_pass_demo")
    assert renewed and renewed != token, r.headers
    srv.advance_clock(30_000)  # the first pass has expired; the renewed one carries on
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": renewed}, allow_redirects=False)
    assert r.status_code == 200, r.headers


def test_nginx_sends_a_visitor_with_an_oversized_pass_to_the_room(nginx_front):
    # nginx passes the visitor's headers to the gate; with them over Waitroom's 8 KiB header limit
    # the gate must still answer 401 (a 431 becomes a 500 in auth_request). nginx itself takes
    # header lines up to 8 KiB each (large_client_header_buffers).
    srv, base = nginx_front
    pad = {"X-Pad-1": "p" * 5000, "X-Pad-2": "p" * 5000}
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": "A" * 7900},
                     headers={"Accept": "text/html", **pad}, allow_redirects=False)
    assert r.status_code == 302 and "/r/demo" in r.headers["Location"], (r.status_code, r.headers)
    t = srv.enqueue_ok("demo")
    srv.advance("demo", to=t["position"])
    token = srv.pass_for("demo", t["ticket"]).json()["pass"]
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": token}, headers=pad, allow_redirects=False)
    assert r.status_code == 200 and r.text == "the protected shop\n", (r.status_code, r.text)


LIMITED_CONFIG = DEFAULT_CONFIG + """
[rooms.demo.abuse]
tickets_per_ip_per_minute = 3
"""


@pytest.fixture
def nginx_front_limited(server_factory, tmp_path):
    yield from nginx_in_front_of(server_factory(config_text=LIMITED_CONFIG), tmp_path)


def visitor(address, **headers):
    return {"X-Test-Client": address, **headers}


def test_nginx_passes_the_visitor_address_so_per_visitor_limits_work(nginx_front_limited):
    # Without X-Forwarded-For from nginx, every visitor would be nginx's loopback address, which
    # is never limited.
    srv, base = nginx_front_limited
    url = base + "/v1/rooms/demo/tickets"
    for i in range(3):
        r = requests.post(url, headers=visitor("203.0.113.7"), timeout=10)
        assert r.status_code == 201, (i, r.status_code, r.text)
    r = requests.post(url, headers=visitor("203.0.113.7"), timeout=10)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, (r.status_code, r.text)
    # a forged X-Forwarded-For does not escape the limit: nginx appends the address it saw, and
    # Waitroom believes nothing left of an address that is not a trusted proxy
    r = requests.post(url, headers=visitor("203.0.113.7", **{"X-Forwarded-For": "192.0.2.55"}),
                      timeout=10)
    assert r.status_code == 429, (r.status_code, r.text)
    other = requests.post(url, headers=visitor("198.51.100.9"), timeout=10)
    assert other.status_code == 201, (other.status_code, other.text)


BOUND_CONFIG = DEFAULT_CONFIG + """
[rooms.demo.abuse]
bind_pass = "ip_prefix"
"""


@pytest.fixture
def nginx_front_bound(server_factory, tmp_path):
    yield from nginx_in_front_of(server_factory(config_text=BOUND_CONFIG), tmp_path)


def test_nginx_passes_the_visitor_address_to_the_gate_for_ip_bound_passes(nginx_front_bound):
    srv, base = nginx_front_bound
    home = visitor("203.0.113.7")
    t = requests.post(base + "/v1/rooms/demo/tickets", headers=home, timeout=10).json()
    srv.advance("demo", to=t["position"])
    r = requests.post(f"{base}/v1/rooms/demo/tickets/{t['ticket']}/pass", headers=home, timeout=10)
    assert r.status_code == 200, r.text
    cookies = {"waitroom_pass_demo": r.json()["pass"]}
    r = requests.get(base + "/", headers=home, cookies=cookies, allow_redirects=False, timeout=10)
    assert r.status_code == 200 and r.text == "the protected shop\n", (r.status_code, r.text)
    # the same pass from another network is not the visitor's: back to the room
    away = visitor("198.51.100.9", Accept="text/html")
    r = requests.get(base + "/", headers=away, cookies=cookies, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and "/r/demo" in r.headers["Location"], (r.status_code, r.headers)
