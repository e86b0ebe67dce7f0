"""The waiting-room page's server side (docs/page.md): languages, the resume link, the page's
static files, themes and the default room. The browser side is tests/browser/."""

import re
from pathlib import Path
from urllib.parse import urlparse

import requests

from wrlib import assert_problem, describe

HTML = {"Accept": "text/html"}
REPO = Path(__file__).resolve().parents[2]


def visitor():
    """A browser of its own: its own cookie jar."""
    return requests.Session()


def join(srv, browser, room, **form):
    r = browser.post(srv.url(f"/r/{room}/join"), data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 303, describe(r)
    return r


def others_join(srv, room, n):
    for _ in range(n):
        assert requests.post(srv.url(f"/v1/rooms/{room}/tickets"), timeout=10).status_code == 201


def test_language_from_the_parameter_then_accept_language(server):
    room = server.create_room()
    r = server.get(f"/r/{room}", headers={**HTML, "Accept-Language": "fr-CH, de;q=0.9"})
    assert r.headers["Content-Language"] == "fr" and '<html lang="fr">' in r.text, describe(r)
    assert "Rejoindre la file" in r.text
    r = server.get(f"/r/{room}", params={"lang": "ja"}, headers={**HTML, "Accept-Language": "de"})
    assert r.headers["Content-Language"] == "ja" and "列に並ぶ" in r.text
    assert '<input type="hidden" name="lang" value="ja">' in r.text  # kept through the join
    r = server.get(f"/r/{room}", params={"lang": "xx"}, headers={**HTML, "Accept-Language": "es;q=0.5, de;q=0.8"})
    assert r.headers["Content-Language"] == "de"
    r = server.get(f"/r/{room}", headers=HTML)
    assert r.headers["Content-Language"] == "en" and "Join the line" in r.text


def test_join_and_enter_keep_the_language(server):
    room = server.create_room()
    b = visitor()
    r = join(server, b, room, lang="de", **{"return": "/x"})
    assert r.headers["Location"] == f"/r/{room}?return=%2Fx&lang=de", describe(r)
    r = b.post(server.url(f"/r/{room}/enter"), data={"lang": "de"}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == f"/r/{room}?lang=de", describe(r)
    r = b.get(server.url(r.headers["Location"]), headers=HTML, timeout=10)
    assert "Sie sind in der Warteschlange" in r.text and "Erneut prüfen" in r.text


def test_the_page_is_safe_to_show(server):
    room = server.create_room()
    r = server.get(f"/r/{room}", params={"return": '/"><script>alert(1)</script>'}, headers=HTML)
    assert "<script>alert" not in r.text and "&lt;script&gt;alert(1)" in r.text
    csp = r.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'"):
        assert directive in csp, csp
    assert r.headers["X-Content-Type-Options"] == "nosniff" and r.headers["Cache-Control"] == "no-store"
    assert " style=" not in r.text and "<style" not in r.text


def test_the_page_links_its_files_under_hashed_names_cached_for_ever(server):
    room = server.create_room()
    page = server.get(f"/r/{room}", headers=HTML).text
    css = re.search(r'href="(/r/_assets/room\.[0-9a-f]{12}\.css)"', page).group(1)
    js = re.search(r'src="(/r/_assets/room\.[0-9a-f]{12}\.js)" defer', page).group(1)
    for path, kind in ((css, "text/css"), (js, "text/javascript")):
        r = server.get(path)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(kind), describe(r)
        assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        etag = r.headers["ETag"]
        again = server.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"", describe(again)
    assert_problem(server.get("/r/_assets/room.css"), 404)
    assert_problem(server.get(f"/r/{room}/theme/theme.000000000000.css"), 404)


def test_resume_link_restores_the_same_place_without_a_new_ticket(server):
    room = server.create_room()
    others_join(server, room, 1)
    b = visitor()
    r = join(server, b, room)
    ticket = r.cookies[f"waitroom_{room}"]
    page = b.get(server.url(f"/r/{room}"), headers=HTML, timeout=10).text
    link = re.search(r'<a href="(http://[^"]+/r/' + room + r'/resume/[A-Za-z0-9_-]{22})">', page).group(1)
    assert ticket not in link and ticket not in page.split("data-wr-ticket")[0]
    assert '<svg class="wr-qr"' in page and 'role="img"' in page
    before = server.get(f"/admin/v1/rooms/{room}/stats", admin=True).json()["queue_counter"]

    other_device = requests.Session()
    r = other_device.get(server.url(urlparse(link).path), allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["Location"] == f"/r/{room}", describe(r)
    assert r.cookies[f"waitroom_{room}"] == ticket
    r = other_device.get(server.url(f"/r/{room}"), headers=HTML, timeout=10)
    assert "You are in line" in r.text and ">1</p>" in r.text, r.text
    assert server.get(f"/admin/v1/rooms/{room}/stats", admin=True).json()["queue_counter"] == before

    r = visitor().get(server.url(f"/r/{room}/resume/AAAAAAAAAAAAAAAAAAAAAA"), headers=HTML, timeout=10)
    assert r.status_code == 404 and "not valid in this waiting room" in r.text and "Join the line" in r.text
    assert "Set-Cookie" not in r.headers
    other = server.create_room()  # a place of one room is no place of another
    r = server.get(urlparse(link).path.replace(f"/r/{room}/", f"/r/{other}/"), headers=HTML, allow_redirects=False)
    assert r.status_code == 404, describe(r)
    assert_problem(server.get("/r/nosuchroom/resume/AAAAAAAAAAAAAAAAAAAAAA", headers=HTML), 404)


def test_progress_starts_when_the_browser_first_sees_the_ticket(server):
    room = server.create_room()
    others_join(server, room, 3)
    b = visitor()
    join(server, b, room)
    r = b.get(server.url(f"/r/{room}"), headers=HTML, timeout=10)
    start = r.cookies.get(f"waitroom-from-{room}")
    assert start and start.endswith(".3"), r.headers.get("Set-Cookie")
    assert 'value="0"' in r.text
    server.advance(room, by=2)
    r = b.get(server.url(f"/r/{room}"), headers=HTML, timeout=10)
    assert 'value="50"' in r.text and "50% of the way" in r.text, r.text
    assert "Set-Cookie" not in r.headers


def test_closed_room_says_when_its_next_event_opens(server):
    room = server.create_room(queueing="reject", events=[{"start": "2099-01-01T10:00:00Z"}])
    r = server.get(f"/r/{room}", headers=HTML)
    assert "closed" in r.text and "It opens at 2099-01-01 10:00 UTC." in r.text
    r = visitor().post(server.url(f"/r/{room}/join"), allow_redirects=False, timeout=10)
    assert r.status_code == 409 and "text/html" in r.headers["Content-Type"] and "closed" in r.text, describe(r)


THEME_HTML = """<!doctype html><html lang="{{lang}}"><title>{{title}}</title>
<link rel="stylesheet" href="{{theme_css_url}}">{{#logo_url}}<img src="{{logo_url}}" alt="Acme">{{/logo_url}}
<main{{{page_attributes}}}><h1>ACME {{title}}</h1>
{{#view_join}}<form method="post" action="{{join_action}}">{{{form_fields}}}<button>{{t:join_button}}</button></form>{{/view_join}}
{{#view_waiting}}<p data-wr="ahead">{{ahead}}</p>{{/view_waiting}}
</main>
"""


def test_themes_per_room_and_a_broken_theme_falls_back_with_file_and_line(server_factory, tmp_path):
    good = tmp_path / "acme"
    good.mkdir()
    (good / "room.html").write_text(THEME_HTML)
    (good / "room.css").write_text("h1 { color: #123456 }")
    (good / "logo.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1 1"/>')
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "room.html").write_text("<p>\n{{#view_join}}\n{{tittle}}\n{{/view_join}}\n")
    config = f"""default_room = "acme"
[rooms.acme]
theme_dir = "{good}"
[rooms.plain]
[rooms.oops]
theme_dir = "{broken}"
"""
    srv = server_factory(config_text=config)
    r = srv.get("/r/acme", headers=HTML)
    assert "<h1>ACME Waiting room</h1>" in r.text and "Join the line" in r.text, r.text
    css = re.search(r'href="(/r/acme/theme/theme\.[0-9a-f]{12}\.css)"', r.text).group(1)
    logo = re.search(r'src="(/r/acme/theme/logo\.[0-9a-f]{12}\.svg)"', r.text).group(1)
    assert srv.get(css).text == "h1 { color: #123456 }"
    r = srv.get(logo)
    assert r.headers["Content-Type"] == "image/svg+xml" and "sandbox" in r.headers["Content-Security-Policy"]
    assert "ACME" not in srv.get("/r/plain", headers=HTML).text
    # The broken theme: the room gets the default page; the log says where the mistake is.
    r = srv.get("/r/oops", headers=HTML)
    assert r.status_code == 200 and "Join the line" in r.text and 'class="wr-card"' in r.text
    assert f"{broken}/room.html:3: unknown variable 'tittle'" in srv.log_tail(), srv.log_tail()
    # "/" is the default room's page.
    r = srv.get("/?lang=de", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == "/r/acme?lang=de", describe(r)


def test_theme_dir_is_a_config_setting_not_a_room_setting(server_factory, tmp_path):
    srv = server_factory(config_text=f'[rooms.t]\ntheme_dir = "{tmp_path}"\n')
    settings = srv.get("/admin/v1/rooms/t", admin=True).json()
    assert "theme_dir" not in settings
    r = srv.put("/admin/v1/rooms/t", admin=True, json={"theme_dir": "/etc"})
    assert_problem(r, 400)


def test_without_a_default_room_slash_is_not_ours(server):
    assert server.get("/", allow_redirects=False).status_code == 404


def test_the_example_theme_loads(server_factory):
    srv = server_factory(config_text=f'theme_dir = "{REPO / "examples" / "theme"}"\n[rooms.brand]\n')
    page = srv.get("/r/brand", headers=HTML).text
    css = re.search(r'href="(/r/brand/theme/theme\.[0-9a-f]{12}\.css)"', page).group(1)
    assert "--wr-accent: #0f766e" in srv.get(css).text
    assert re.search(r'src="/r/brand/theme/logo\.[0-9a-f]{12}\.svg"', page), page
    assert "theme loaded" in srv.log_tail() and '"level":"error"' not in srv.log_tail()
