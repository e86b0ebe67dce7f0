"""`make run`'s demo (deploy/demo.toml, as shipped): /demo/shop sends a newcomer to the room's
line, the rate policy lets them in by itself, and the page then opens with the pass cookie."""

from urllib.parse import parse_qs, urlparse

import requests

from wrlib import REPO, describe

HTML = {"Accept": "text/html"}


def test_demo_shop_whole_flow(server_factory):
    config = (REPO / "deploy" / "demo.toml").read_text() + "\n[testing]\nmanual_clock = true\n"
    srv = server_factory(config_text=config)
    s = requests.Session()
    base = srv.base_url
    r = s.get(base + "/demo/shop", headers=HTML, allow_redirects=False)
    assert r.status_code == 302, describe(r)
    loc = urlparse(r.headers["Location"])
    assert loc.path == "/r/demo" and parse_qs(loc.query)["return"] == ["/demo/shop"], describe(r)
    r = s.post(base + "/r/demo/join", data={"return": "/demo/shop"}, allow_redirects=False)
    assert r.status_code == 303, describe(r)
    assert "You are in line" in s.get(base + r.headers["Location"], headers=HTML).text
    srv.advance_clock(6_000)  # 12 a minute: one every 5 s, nobody ahead
    page = s.get(base + "/r/demo?return=%2Fdemo%2Fshop", headers=HTML).text
    assert "your turn" in page, page
    r = s.post(base + "/r/demo/enter", data={"return": "/demo/shop"}, allow_redirects=False)
    assert r.status_code == 303 and r.headers["Location"] == "/demo/shop", describe(r)
    r = s.get(base + "/demo/shop", headers=HTML, allow_redirects=False)
    assert r.status_code == 200 and "You are in" in r.text, describe(r)
    ticket = s.cookies["waitroom_demo"]
    assert srv.set_session("demo", ticket, "revoked").status_code == 200
    assert s.get(base + "/demo/shop", headers=HTML, allow_redirects=False).status_code == 302


def test_no_demo_page_unless_configured(server):
    assert server.get("/demo/shop").status_code == 404
