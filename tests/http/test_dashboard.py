"""The operator dashboard at /admin: sign-in, the session cookie and its CSRF token, sign-out,
the session on /admin/v1, the charts' history, and the bearer API left as it was.

A session cookie is sent by hand (the test session stores no cookies). The module's server
samples the history every 200 ms ([testing] history_interval_ms) so that charts move quickly.
"""

import html
import json
import re
import time

import pytest

from wrlib import DEFAULT_CONFIG, Server, assert_json, assert_problem, describe, unique_room, wait_for

HISTORY_INTERVAL_MS = 200
DASH_CONFIG = DEFAULT_CONFIG + f"\n[testing]\nhistory_interval_ms = {HISTORY_INTERVAL_MS}\n"
COOKIE = "waitroom_admin"


@pytest.fixture(scope="module")
def dash():
    srv = Server(config_text=DASH_CONFIG, name="waitroom-dash").start()
    yield srv
    srv.shut_down()


def sign_in(srv, key=None, headers=None):
    """POST the sign-in form; returns the response."""
    return srv.post("/admin/session", data={"key": srv.admin_key if key is None else key},
                    headers=headers or {})


def session_of(srv):
    """Signs in; returns (session id, CSRF token)."""
    r = sign_in(srv)
    assert r.status_code == 303, describe(r)
    m = re.match(rf"{COOKIE}=([^;]+);", r.headers["Set-Cookie"])
    assert m, describe(r)
    sid = m.group(1)
    page = srv.get("/admin", headers={"Cookie": f"{COOKIE}={sid}"})
    assert page.status_code == 200, describe(page)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text)
    assert token, "no CSRF token on the dashboard page" + describe(page)
    return sid, token.group(1)


def with_session(sid, token=None, **extra):
    h = {"Cookie": f"{COOKIE}={sid}"}
    if token is not None:
        h["X-CSRF-Token"] = token
    h.update(extra)
    return h


# ---- the pages ----------------------------------------------------------------------------


def test_signed_out_admin_shows_the_sign_in_form(dash):
    r = dash.get("/admin")
    assert r.status_code == 200, describe(r)
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-store"
    assert 'action="/admin/session"' in r.text and 'type="password"' in r.text and 'name="key"' in r.text
    assert "csrf-token" not in r.text
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(dash):
    sid, _ = session_of(dash)
    for headers in ({}, with_session(sid)):
        html = dash.get("/admin", headers=headers).text
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, tag
        assert "<style" not in html and " style=" not in html and "onclick" not in html.lower()


def test_assets_are_served_from_the_binary(dash):
    for path, ctype in (("/admin/assets/dashboard.js", "text/javascript"),
                        ("/admin/assets/dashboard.css", "text/css")):
        r = dash.get(path)
        assert r.status_code == 200, describe(r)
        assert r.headers["Content-Type"].startswith(ctype)
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        etag = r.headers["ETag"]
        again = dash.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and not again.content, describe(again)
    assert "X-CSRF-Token" in dash.get("/admin/assets/dashboard.js").text


# ---- signing in and out ------------------------------------------------------------------


def test_sign_in_sets_a_strict_http_only_session_cookie(dash):
    r = sign_in(dash)
    assert r.status_code == 303, describe(r)
    assert r.headers["Location"] == "/admin"
    cookie = r.headers["Set-Cookie"]
    attrs = [a.strip() for a in cookie.split(";")]
    name, _, value = attrs[0].partition("=")
    assert name == COOKIE and len(value) >= 43 and re.fullmatch(r"[A-Za-z0-9_-]+", value), cookie
    assert "Path=/admin" in attrs and "HttpOnly" in attrs and "SameSite=Strict" in attrs, cookie
    assert "Secure" not in attrs, cookie  # cookie_secure is off here
    assert not any(a.startswith(("Max-Age", "Expires")) for a in attrs), "a browser-session cookie"
    assert dash.admin_key not in cookie
    page = dash.get("/admin", headers={"Cookie": f"{COOKIE}={value}"})
    assert page.status_code == 200 and "csrf-token" in page.text and "Sign out" in page.text
    assert dash.admin_key not in page.text
    other = sign_in(dash).headers["Set-Cookie"]
    assert other.split(";")[0] != attrs[0], "every sign-in gets a new id"


def test_cookie_secure_marks_the_session_cookie_secure(server_factory):
    srv = server_factory(config_text="cookie_secure = true\n" + DEFAULT_CONFIG)
    r = sign_in(srv)
    assert r.status_code == 303, describe(r)
    assert "Secure" in [a.strip() for a in r.headers["Set-Cookie"].split(";")]


def test_wrong_key_shows_the_form_again_slowly(dash):
    started = time.monotonic()
    r = sign_in(dash, key="not-the-admin-key")
    elapsed = time.monotonic() - started
    assert r.status_code == 401, describe(r)
    assert "Set-Cookie" not in r.headers
    assert r.headers["Content-Type"].startswith("text/html")
    assert "not the admin key" in r.text and 'action="/admin/session"' in r.text
    assert 'aria-invalid="true"' in r.text and 'role="alert"' in r.text
    assert "not-the-admin-key" not in r.text
    assert elapsed >= 0.2, f"a wrong key should be answered slowly ({elapsed:.3f}s)"
    # A key that is a prefix of the right one is wrong too.
    assert sign_in(dash, key=dash.admin_key[:-1]).status_code == 401
    assert sign_in(dash).status_code == 303  # and a success clears the count


def test_repeated_wrong_keys_are_throttled(server_factory):
    srv = server_factory()
    for _ in range(5):
        assert sign_in(srv, key="wrong-key-0123456789").status_code == 401
    r = sign_in(srv)  # even the right key waits now
    assert r.status_code == 429, describe(r)
    assert int(r.headers["Retry-After"]) > 0
    assert "Set-Cookie" not in r.headers
    # The bearer API is not affected.
    assert srv.get("/admin/v1/rooms", admin=True).status_code == 200


def test_cross_origin_sign_in_is_refused(dash):
    r = sign_in(dash, headers={"Origin": "https://evil.example"})
    assert r.status_code == 403 and "Set-Cookie" not in r.headers, describe(r)
    r = sign_in(dash, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and "Set-Cookie" not in r.headers, describe(r)
    r = sign_in(dash, headers={"Origin": dash.base_url, "Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 303, describe(r)


def test_sign_out_ends_the_session(dash):
    sid, token = session_of(dash)
    # Without the form's token (a forged cross-site form): refused, still signed in.
    r = dash.post("/admin/session/delete", headers=with_session(sid), data={})
    assert r.status_code == 403, describe(r)
    r = dash.post("/admin/session/delete", headers=with_session(sid), data={"csrf": "wrong"})
    assert r.status_code == 403, describe(r)
    assert dash.get("/admin/v1/rooms", headers=with_session(sid)).status_code == 200
    r = dash.post("/admin/session/delete", headers=with_session(sid), data={"csrf": token})
    assert r.status_code == 303 and r.headers["Location"] == "/admin", describe(r)
    cleared = [a.strip() for a in r.headers["Set-Cookie"].split(";")]
    assert cleared[0] == f"{COOKIE}=" and "Max-Age=0" in cleared and "Path=/admin" in cleared
    assert_problem(dash.get("/admin/v1/rooms", headers=with_session(sid)), 401)
    page = dash.get("/admin", headers=with_session(sid))
    assert 'action="/admin/session"' in page.text and "session has ended" in page.text
    assert "Max-Age=0" in page.headers.get("Set-Cookie", "")


def test_sessions_live_in_memory_and_end_with_a_restart(fresh_server):
    sid, _ = session_of(fresh_server)
    assert fresh_server.get("/admin/v1/rooms", headers=with_session(sid)).status_code == 200
    fresh_server.restart()
    assert_problem(fresh_server.get("/admin/v1/rooms", headers=with_session(sid)), 401)


def test_an_idle_session_expires(server_factory):
    srv = server_factory(config_text=DEFAULT_CONFIG + "[dashboard]\nsession_idle_timeout_s = 1\n")
    sid, _ = session_of(srv)
    assert srv.get("/admin/v1/rooms", headers=with_session(sid)).status_code == 200
    time.sleep(2.1)
    assert_problem(srv.get("/admin/v1/rooms", headers=with_session(sid)), 401)


# ---- languages ---------------------------------------------------------------------------


def html_lang(page):
    m = re.search(r'<html lang="([^"]*)">', page.text)
    assert m, describe(page)
    return m.group(1)


def script_strings(page):
    m = re.search(r'data-strings="([^"]*)"', page.text)
    assert m, "no data-strings on the dashboard" + describe(page)
    return json.loads(html.unescape(m.group(1)))


def test_sign_in_page_speaks_the_chosen_language(dash):
    en = dash.get("/admin")
    assert html_lang(en) == "en" and "<label for=\"key\">Admin key or operator token</label>" in en.text
    assert 'name="lang"' not in en.text
    de = dash.get("/admin?lang=de")
    assert html_lang(de) == "de" and de.headers["Content-Language"] == "de"
    assert "<title>Anmelden · Waitroom-Dashboard</title>" in de.text and "Admin-Schlüssel" in de.text
    assert '<input type="hidden" name="lang" value="de">' in de.text, "the form keeps ?lang="
    ja = dash.get("/admin", headers={"Accept-Language": "ja,en;q=0.5"})
    assert html_lang(ja) == "ja" and "管理キー" in ja.text and "サインイン" in ja.text
    assert 'name="lang"' not in ja.text, "Accept-Language comes with every request anyway"
    # ?lang= wins over Accept-Language; one we do not have is ignored.
    assert html_lang(dash.get("/admin?lang=FR", headers={"Accept-Language": "ja"})) == "fr"
    xx = dash.get("/admin?lang=xx", headers={"Accept-Language": "es-MX"})
    assert html_lang(xx) == "es" and "xx" not in xx.text
    # Every language links to the others.
    for code in ("en", "de", "fr", "es", "ja"):
        assert f'href="/admin?lang={code}" hreflang="{code}"' in de.text
    assert 'aria-current="true">Deutsch</a>' in de.text


def test_sign_in_answers_and_redirects_keep_the_language(dash):
    wrong = dash.post("/admin/session", data={"key": "not-the-admin-key", "lang": "es"})
    assert wrong.status_code == 401, describe(wrong)
    assert html_lang(wrong) == "es" and "Esa no es la clave de administración." in wrong.text
    assert '<input type="hidden" name="lang" value="es">' in wrong.text
    empty = dash.post("/admin/session", data={"key": ""}, headers={"Accept-Language": "fr"})
    assert "Saisissez la clé d’administration." in empty.text

    r = dash.post("/admin/session", data={"key": dash.admin_key, "lang": "de"})
    assert r.status_code == 303 and r.headers["Location"] == "/admin?lang=de", describe(r)
    sid = re.match(rf"{COOKIE}=([^;]+);", r.headers["Set-Cookie"]).group(1)
    page = dash.get(r.headers["Location"], headers=with_session(sid))
    assert page.status_code == 200 and html_lang(page) == "de", describe(page)
    assert "<title>Waitroom-Dashboard</title>" in page.text and ">Abmelden</button>" in page.text
    assert '<th scope="col">Einlassregel</th>' in page.text
    assert 'data-lang="de"' in page.text and 'data-sign-in-url="/admin?lang=de"' in page.text
    strings = script_strings(page)
    assert strings["chart_waiting"] == "In der Warteschlange"
    assert strings["pause_button"] == "Einlass anhalten"
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)
    out = dash.post("/admin/session/delete", headers=with_session(sid), data={"csrf": token, "lang": "de"})
    assert out.status_code == 303 and out.headers["Location"] == "/admin?lang=de", describe(out)
    ended = dash.get("/admin?lang=fr", headers=with_session(sid))
    assert "Votre session a pris fin." in ended.text


def test_dashboard_in_japanese_from_accept_language(dash):
    sid, _ = session_of(dash)
    page = dash.get("/admin", headers=with_session(sid, **{"Accept-Language": "ja-JP,ja;q=0.9"}))
    assert page.status_code == 200 and html_lang(page) == "ja", describe(page)
    assert page.headers["Content-Language"] == "ja"
    assert "<title>Waitroom ダッシュボード</title>" in page.text and "サインアウト" in page.text
    assert 'data-sign-in-url="/admin"' in page.text and 'name="lang"' not in page.text
    strings = script_strings(page)
    assert strings["chart_admissions"] == "1分あたりの入場数"
    assert strings["reset_dialog_title"] == "ルーム {room} をリセットしますか？"
    english = script_strings(dash.get("/admin", headers=with_session(sid)))
    assert set(strings) == set(english), "every language gives the script every string"
    assert english["chart_waiting"] == "Waiting in line"
    # The CSP still allows no inline script: the strings are data, not code.
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]


# ---- the session on /admin/v1 --------------------------------------------------------------


def test_session_cookie_reads_the_admin_api(dash):
    sid, _ = session_of(dash)
    rooms = assert_json(dash.get("/admin/v1/rooms", headers=with_session(sid)), 200)["rooms"]
    assert {"demo", "legacy"} <= {r["room"] for r in rooms}
    assert_json(dash.get("/admin/v1/rooms/demo/history", headers=with_session(sid)), 200)
    # A made-up or foreign cookie is no session.
    assert_problem(dash.get("/admin/v1/rooms", headers=with_session("x" * 43)), 401)
    assert_problem(dash.get("/admin/v1/rooms", headers={"Cookie": f"waitroom_demo={sid}"}), 401)


def test_changes_through_the_session_need_the_csrf_token(dash):
    room = dash.create_room()
    sid, token = session_of(dash)
    other_sid, other_token = session_of(dash)
    path = f"/admin/v1/rooms/{room}/advance"
    refused = {
        "no token": with_session(sid),
        "wrong token": with_session(sid, "x" * len(token)),
        "empty token": with_session(sid, ""),
        "another session's token": with_session(sid, other_token),
        "cross-origin Origin": with_session(sid, token, Origin="https://evil.example"),
        "null Origin": with_session(sid, token, Origin="null"),
        "cross-site fetch": with_session(sid, token, **{"Sec-Fetch-Site": "cross-site"}),
        "same-site fetch": with_session(sid, token, **{"Sec-Fetch-Site": "same-site"}),
    }
    for why, headers in refused.items():
        r = dash.post(path, headers=headers, json={"by": 1})
        body = assert_problem(r, 403)
        assert "CSRF" in body["detail"] or "refused" in body["detail"], f"{why}: {body}"
        assert token not in r.text
    assert dash.admin_room(room)["serving"] == 0, "a refused change changed the room"
    # A token without a session is nothing.
    assert_problem(dash.post(path, headers={"X-CSRF-Token": token}, json={"by": 1}), 401)
    # The right token from this origin works, for every kind of change.
    same = with_session(sid, token, Origin=dash.base_url, **{"Sec-Fetch-Site": "same-origin"})
    assert assert_json(dash.post(path, headers=same, json={"by": 2}), 200)["serving"] == 2
    assert assert_json(dash.post(path, headers=with_session(sid, token), json={"by": 1}), 200)["serving"] == 3
    assert assert_json(dash.post(path, headers=with_session(other_sid, other_token), json={"by": 1}),
                       200)["serving"] == 4
    r = dash.put(f"/admin/v1/rooms/{room}", headers=with_session(sid, token),
                 json={"admission": {"mode": "rate", "rate_per_minute": 120}})
    assert assert_json(r, 200)["admission"]["rate_per_minute"] == 120
    assert_json(dash.post(f"/admin/v1/rooms/{room}/pause", headers=with_session(sid, token)), 200)
    assert dash.admin_room(room)["status"] == "paused"


def test_the_bearer_api_is_unchanged(dash):
    room = dash.create_room()
    # No CSRF token, and Origin/Sec-Fetch-Site do not matter: a bearer key is not ambient.
    r = dash.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"by": 1},
                  headers={"Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"})
    assert assert_json(r, 200)["serving"] == 1
    assert_problem(dash.get("/admin/v1/rooms", headers={"Authorization": "Bearer wrong"}), 401)
    # A wrong bearer key beside a live session: the session still decides.
    sid, _ = session_of(dash)
    r = dash.get("/admin/v1/rooms", headers={**with_session(sid), "Authorization": "Bearer wrong"})
    assert r.status_code == 200, describe(r)


def test_dashboard_paths_outside_the_api_reveal_nothing(dash):
    r = dash.get("/admin/v1/no-such-thing")
    assert_problem(r, 401)
    assert_problem(dash.get("/admin/nothing-here"), 404)


# ---- history ------------------------------------------------------------------------------


def history(srv, room, **kw):
    return assert_json(srv.get(f"/admin/v1/rooms/{room}/history", admin=True, **kw), 200)


def test_history_shape(dash):
    room = dash.create_room()
    h = wait_for(lambda: (x := history(dash, room)) and len(x["samples"]) >= 2 and x, what="2 samples")
    assert h["room"] == room
    assert h["interval_ms"] == HISTORY_INTERVAL_MS
    assert h["window_ms"] == HISTORY_INTERVAL_MS * 360
    assert isinstance(h["now_ms"], int)
    s = h["samples"]
    assert all(a["at_ms"] < b["at_ms"] for a, b in zip(s, s[1:])), "oldest first"
    assert s[0]["admissions_per_minute"] is None or s[0]["admissions_per_minute"] == 0
    for sample in s:
        assert set(sample) == {"at_ms", "epoch", "paused", "queue_length", "waiting", "serving",
                               "admitted", "admissions_per_minute", "active_sessions", "eta",
                               "arrivals_per_minute", "waited_p50_s", "waited_p95_s", "limit",
                               "held", "site_p95_ms", "site_error_ratio"}, sample
        # Adaptive admission's figures: none for a room in another mode.
        assert [sample[k] for k in ("limit", "held", "site_p95_ms", "site_error_ratio")] == \
            [None] * 4, sample
        assert sample["at_ms"] <= h["now_ms"]
        assert sample["waiting"] == 0 and sample["serving"] == 0 and sample["paused"] is False
    assert s[-1]["admissions_per_minute"] == 0


def test_history_moves_after_admissions(dash):
    room = dash.create_room()
    for _ in range(5):
        dash.enqueue_ok(room)
    wait_for(lambda: any(x["waiting"] == 5 for x in history(dash, room)["samples"]), what="5 waiting")
    dash.advance(room, by=3)
    sample = wait_for(lambda: next((x for x in history(dash, room)["samples"]
                                    if (x["admissions_per_minute"] or 0) > 0), None),
                      what="a sample with admissions")
    assert sample["serving"] == 3 and sample["admitted"] == 3 and sample["waiting"] == 2
    # 3 admissions in one interval of about 200 ms: far above zero a minute.
    assert sample["admissions_per_minute"] >= 3
    # The room is paused, then reset: the history shows both.
    dash.post(f"/admin/v1/rooms/{room}/pause", admin=True)
    wait_for(lambda: history(dash, room)["samples"][-1]["paused"], what="a paused sample")
    reset = dash.post(f"/admin/v1/rooms/{room}/reset", admin=True).json()
    last = wait_for(lambda: (x := history(dash, room)["samples"][-1])["epoch"] == reset["epoch"] and x,
                    what="a sample of the new epoch")
    assert last["queue_length"] == 0 and last["serving"] == 0


def test_history_of_an_unknown_room_is_404(dash):
    assert_problem(dash.get(f"/admin/v1/rooms/{unique_room()}/history", admin=True), 404)


def test_history_requires_the_key(dash):
    assert_problem(dash.get("/admin/v1/rooms/demo/history"), 401)
    assert_problem(dash.get("/admin/v1/rooms/demo/history", headers={"Authorization": "Bearer no"}),
                   401)
