"""Real nginx (Debian's) with deploy/nginx/waitroom.conf in front of a small upstream:
no pass → sent to the room; admitted → the upstream answers through nginx; revoked → back to
the room within 1 s. The example file is used as shipped, with only addresses and ports changed.
"""

import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from wrlib import REPO, describe, free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
EXAMPLE = REPO / "deploy" / "nginx" / "waitroom.conf"
HTML = {"Accept": "text/html"}


@pytest.fixture
def nginx_front(server_factory, tmp_path):
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed (scripts/bootstrap installs nginx-light)", pytrace=False)
    srv = server_factory()
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
    deadline = time.monotonic() + 10
    while True:
        try:
            requests.get(base + "/r/none", timeout=1)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode(errors="replace")
                pytest.fail(f"nginx did not start: {err}\n{(tmp_path / 'error.log').read_text() if (tmp_path / 'error.log').exists() else ''}")
            time.sleep(0.05)
    try:
        yield srv, base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def example_site(waitroom_port, shop_port, port):
    text = EXAMPLE.read_text()
    text, n1 = re.subn(r"server 127\.0\.0\.1:8080;", f"server 127.0.0.1:{waitroom_port};", text)
    text, n2 = re.subn(r"server 127\.0\.0\.1:3000;", f"server 127.0.0.1:{shop_port};", text)
    text, n3 = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    assert (n1, n2, n3) == (1, 1, 1), "deploy/nginx/waitroom.conf changed shape; update this test"
    return text


def test_nginx_sends_visitors_to_the_room_and_lets_admitted_ones_through(nginx_front):
    srv, base = nginx_front
    s = requests.Session()
    srv.put("/admin/v1/rooms/demo", admin=True, json={"target_url": base + "/"})

    # no pass: nginx answers with a redirect to the room, carrying the original URL
    r = s.get(base + "/basket?item=7", headers=HTML, allow_redirects=False)
    assert r.status_code == 302, describe(r)
    loc = urlparse(r.headers["Location"])
    assert loc.path == "/r/demo", describe(r)
    back = parse_qs(loc.query)["return"][0]
    assert back == base + "/basket?item=7", describe(r)

    # the room page, through nginx: join, wait, be admitted, enter
    r = s.post(base + "/r/demo/join", data={"return": back}, allow_redirects=False)
    assert r.status_code == 303, describe(r)
    r = s.get(base + r.headers["Location"], headers=HTML)
    assert "You are in line" in r.text, r.text
    assert s.get(base + "/basket?item=7", headers=HTML, allow_redirects=False).status_code == 302
    ticket = s.cookies["waitroom_demo"]
    position = srv.ticket("demo", ticket).json()["position"]
    srv.advance("demo", to=position)
    r = s.post(base + "/r/demo/enter", data={"return": back}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == back, describe(r)

    # admitted: the upstream answers through nginx
    r = s.get(back, headers=HTML, allow_redirects=False)
    assert r.status_code == 200 and r.text == "the protected shop\n", describe(r)

    # revoked: back to the room within 1 s
    assert srv.set_session("demo", ticket, "revoked").status_code == 200
    deadline = time.monotonic() + 1.0
    while True:
        r = s.get(back, headers=HTML, allow_redirects=False)
        if r.status_code == 302:
            break
        assert time.monotonic() < deadline, "a revoked pass still got through nginx after 1 s" + describe(r)
        time.sleep(0.05)
    assert urlparse(r.headers["Location"]).path == "/r/demo"


def test_nginx_refuses_a_forged_pass(nginx_front):
    srv, base = nginx_front
    t = srv.enqueue_ok("demo")
    srv.advance("demo", to=t["position"])
    token = srv.pass_for("demo", t["ticket"]).json()["pass"]
    ok = requests.get(base + "/", cookies={"waitroom_pass_demo": token}, allow_redirects=False)
    assert ok.status_code == 200, describe(ok)
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": forged}, allow_redirects=False)
    assert r.status_code == 302, describe(r)
