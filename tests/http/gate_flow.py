"""The walk every proxy example in deploy/ must pass, whatever sits in front of Waitroom
(nginx auth_request, Caddy forward_auth, the built-in proxy): no pass → sent to the room with
the original URL; the room page works through the proxy; admitted → the upstream answers;
revoked → back to the room within 1 s; a forged pass is refused.

`base` is the proxy's URL; the room is "demo" and the upstream answers "the protected shop\\n".
"""

import subprocess
import time
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from wrlib import describe

HTML = {"Accept": "text/html"}
SHOP_BODY = "the protected shop\n"


def walk_in_and_get_revoked(srv, base, proxy):
    s = requests.Session()
    srv.put("/admin/v1/rooms/demo", admin=True, json={"target_url": base + "/"})

    # no pass: the proxy answers with a redirect to the room, carrying the original URL
    r = s.get(base + "/basket?item=7", headers=HTML, allow_redirects=False)
    assert r.status_code == 302, describe(r)
    loc = urlparse(r.headers["Location"])
    assert loc.path == "/r/demo", describe(r)
    back = parse_qs(loc.query)["return"][0]
    assert back == base + "/basket?item=7", describe(r)

    # the room page, through the proxy: join, wait, be admitted, enter
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

    # admitted: the upstream answers through the proxy
    r = s.get(back, headers=HTML, allow_redirects=False)
    assert r.status_code == 200 and r.text == SHOP_BODY, describe(r)

    # revoked: back to the room within 1 s
    assert srv.set_session("demo", ticket, "revoked").status_code == 200
    deadline = time.monotonic() + 1.0
    while True:
        r = s.get(back, headers=HTML, allow_redirects=False)
        if r.status_code == 302:
            break
        assert time.monotonic() < deadline, f"a revoked pass still got through {proxy} after 1 s" + describe(r)
        time.sleep(0.05)
    assert urlparse(r.headers["Location"]).path == "/r/demo"


def forged_pass_is_refused(srv, base, api_client_status):
    """`api_client_status`: what a caller without text/html gets: 401, or 302 where the proxy
    redirects everyone (nginx's auth_request cannot tell)."""
    t = srv.enqueue_ok("demo")
    srv.advance("demo", to=t["position"])
    token = srv.pass_for("demo", t["ticket"]).json()["pass"]
    ok = requests.get(base + "/", cookies={"waitroom_pass_demo": token}, allow_redirects=False)
    assert ok.status_code == 200 and ok.text == SHOP_BODY, describe(ok)
    forged = token[:-6] + ("AAAAAA" if not token.endswith("AAAAAA") else "BBBBBB")
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": forged}, headers=HTML, allow_redirects=False)
    assert r.status_code == 302, describe(r)
    r = requests.get(base + "/", cookies={"waitroom_pass_demo": forged}, allow_redirects=False)
    assert r.status_code == api_client_status, describe(r)


def run_in_front(proc, base, name, log_text=lambda: ""):
    """Waits until the proxy `proc` answers on `base`, yields, then stops it (a fixture body)."""
    deadline = time.monotonic() + 15
    while True:
        try:
            requests.get(base + "/r/none", timeout=1)
            break
        except requests.ConnectionError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                pytest.fail(f"{name} did not start: {err}\n{log_text()}")
            time.sleep(0.05)
    try:
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
