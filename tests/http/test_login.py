"""Sign in to join: a room with `login` is a relying party (OpenID Connect Core, Authorization Code
flow with PKCE S256) of the site's identity provider, here fake_idp.py on loopback.

requests.Session plays the browser and follows every redirect by hand: /r/{room}/login sends it to
the provider with state, nonce and a code challenge sealed in a login cookie; the provider's form
signs it in; the callback exchanges the code (HTTP Basic for a confidential client, the verifier
always), checks the ID token and joins the room as the token's `sub`. One `sub` holds one place
from any number of browsers.

Everything that must not work leaves no ticket cookie and joins nobody (the room's queue_counter
stays): a cancelled sign-in, a missing, foreign, tampered, expired or replayed login cookie, a state
that is not the cookie's, a failed code exchange, and every kind of forged ID token (signature,
alg none, HS256, unknown kid, aud, iss, exp, iat, nonce, sub).
"""

import base64
import binascii
import secrets
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import jwt
import pytest
import requests

from fake_idp import FakeIdp, s256
from wrlib import TEST_CLOCK_CONFIG, assert_problem, describe, unique_room

HTML = {"Accept": "text/html,application/xhtml+xml"}
SECRET = "idp-" + secrets.token_urlsafe(24)
INVITE_SECRET = "the shop and the room share this HS256 secret"
CONFIDENTIAL = "waitroom"
PUBLIC = "waitroom-public"
TIMEOUT = 10
FAILED = "Signing in did not work"
CANCELLED = "Sign-in was cancelled"


@pytest.fixture(scope="module")
def idp():
    idp = FakeIdp().start()
    idp.register(CONFIDENTIAL, SECRET)
    idp.register(PUBLIC, None)
    yield idp
    idp.stop()


@pytest.fixture(autouse=True)
def _idp_is_left_clean(request):
    """A tamper a test set but never used would spoil the next test's token."""
    yield
    if "idp" in request.fixturenames:
        idp = request.getfixturevalue("idp")
        idp.tamper, idp.alg = None, "ES256"


def login_setting(idp, public=False, required=False, **extra):
    s = {"issuer": idp.base, "client_id": PUBLIC if public else CONFIDENTIAL, "required": required}
    if not public:
        s["client_secret"] = SECRET
    s.update(extra)
    return s


def login_room(srv, idp, public=False, required=False, login_extra=None, **settings):
    room = unique_room("login")
    idp.register(PUBLIC if public else CONFIDENTIAL,
                 redirect_uris=[srv.url(f"/r/{room}/login/callback")])
    return srv.create_room(room, login=login_setting(idp, public, required, **(login_extra or {})),
                           **settings)


def browser():
    """A browser of its own: its own cookie jar."""
    return requests.Session()


def set_cookies(r, name=None):
    """The response's Set-Cookie headers (all of them, or those for cookie `name`)."""
    out = r.raw.headers.getlist("Set-Cookie")
    return [c for c in out if name is None or c.split("=", 1)[0].strip() == name]


def cookie_attrs(header):
    parts = [p.strip() for p in header.split(";")]
    name, _, value = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        k, _, v = p.partition("=")
        attrs[k.strip().lower()] = v.strip()
    return name, value, attrs


def begin(srv, b, room, **params):
    """GET /r/{room}/login: the 303 to the provider. Returns (response, authorization URL)."""
    r = b.get(srv.url(f"/r/{room}/login"), params=params, headers=HTML, allow_redirects=False,
              timeout=TIMEOUT)
    assert r.status_code == 303, describe(r)
    return r, r.headers["Location"]


def at_idp(idp, b, auth_url, username="alice", action="sign_in"):
    """The provider's sign-in form, filled in: returns the redirect back (the callback URL)."""
    r = b.get(auth_url, allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 200, f"the provider refused the authorization request: {idp.errors}" + describe(r)
    form = parse_forms(r.text)[0]
    form_id = next(i["value"] for i in form["inputs"] if i.get("name") == "form_id")
    r = b.post(idp.base + "/authorize", data={"form_id": form_id, "username": username, "action": action},
               allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 302, describe(r)
    return r.headers["Location"]


def callback(b, url, cookie=None, room=None):
    """The browser back at Waitroom. With `cookie`, that login cookie is sent instead of the jar's."""
    if cookie is None:
        return b.get(url, headers=HTML, allow_redirects=False, timeout=TIMEOUT)
    return requests.get(url, headers={**HTML, "Cookie": f"waitroom-login-{room}={cookie}"},
                        allow_redirects=False, timeout=TIMEOUT)


def sign_in(srv, idp, b, room, username="alice", **params):
    _, auth = begin(srv, b, room, **params)
    return callback(b, at_idp(idp, b, auth, username))


def assert_joined(srv, b, room, r, path_query=None):
    """A sign-in that worked: 303 to the room page, the ticket cookie set, the login cookie gone.
    Returns the ticket's id."""
    assert r.status_code == 303, describe(r)
    loc = urlparse(r.headers["Location"])
    assert loc.path == f"/r/{room}" and loc.netloc in ("", urlparse(srv.base_url).netloc), describe(r)
    assert parse_qs(loc.query) == (path_query or {}), describe(r)
    tickets = set_cookies(r, f"waitroom_{room}")
    assert len(tickets) == 1, describe(r)
    ticket = cookie_attrs(tickets[0])[1]
    cleared = set_cookies(r, f"waitroom-login-{room}")
    assert cleared, "the login cookie is not cleared" + describe(r)
    _, value, attrs = cookie_attrs(cleared[-1])
    assert attrs.get("max-age") == "0" or "1970" in attrs.get("expires", ""), describe(r)
    assert attrs.get("path") == f"/r/{room}/login", describe(r)
    assert b.cookies.get(f"waitroom-login-{room}") is None
    view = srv.ticket(room, ticket)
    assert view.status_code == 200 and view.json()["status"] == "waiting", describe(view)
    return ticket


def assert_refused(srv, b, room, r, status, notice, counter_before):
    """A sign-in that did not work: the room page with the notice, no ticket, nobody joined."""
    if r.status_code != status and r.is_redirect:
        # Say what the redirect leads to, for the report; the status is still wrong.
        page = requests.get(urljoin(srv.url("/"), r.headers["Location"]), headers=HTML, timeout=TIMEOUT)
        raise AssertionError(f"expected the room page with {status}, got a {r.status_code} to it "
                             f"(which answers {page.status_code}, notice {notice!r} "
                             f"{'shown' if notice in page.text else 'NOT shown'}, "
                             f"queue_counter {srv.stats(room)['queue_counter']} vs {counter_before} "
                             f"before, ticket cookie set: {bool(set_cookies(r, f'waitroom_{room}'))})"
                             + describe(r))
    assert r.status_code == status, f"expected {status}" + describe(r)
    assert r.headers.get("Content-Type", "").startswith("text/html"), describe(r)
    assert notice in r.text, f"no notice {notice!r}" + describe(r)
    assert set_cookies(r, f"waitroom_{room}") == [], describe(r)
    assert b.cookies.get(f"waitroom_{room}") is None
    assert srv.stats(room)["queue_counter"] == counter_before


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self._form, self._button = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"attrs": a, "inputs": [], "buttons": []}
            self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "select"):
            self._form["inputs"].append(a)
            if a.get("type") == "submit":
                self._form["buttons"].append(a.get("value", ""))
        elif self._form is not None and tag == "button":
            self._button = []

    def handle_data(self, data):
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag):
        if tag == "button" and self._button is not None:
            self._form["buttons"].append(" ".join("".join(self._button).split()))
            self._button = None
        elif tag == "form":
            self._form = None


def parse_forms(text):
    p = _Forms()
    p.feed(text)
    return p.forms


def form_with_button(text, label):
    return [f for f in parse_forms(text) if label in f["buttons"]]


def invitation(room, sub):
    """An HS256 invitation from the shop, as docs/admission.md's "Invitations" signs one."""
    return jwt.encode({"aud": room, "sub": sub, "jti": secrets.token_hex(8), "exp": int(time.time()) + 3600},
                      INVITE_SECRET, algorithm="HS256", headers={"kid": "shop"})


def readable_parts(cookie_value):
    """The cookie's value, and each of its dot-separated parts base64url-decoded where it decodes."""
    out = [cookie_value.encode()]
    for part in cookie_value.split("."):
        try:
            out.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except (binascii.Error, ValueError):
            pass
    return out


# ---- the setting -----------------------------------------------------------------------------------

def test_the_setting_is_shown_without_its_secret(server, idp):
    room = unique_room("login")
    r = server.put(f"/admin/v1/rooms/{room}", admin=True,
                   json={"login": login_setting(idp, required=True, scope="openid profile")})
    assert r.status_code == 201, describe(r)
    assert SECRET not in r.text, describe(r)
    for got in (r.json()["login"], server.admin_room(room)["login"]):
        assert "client_secret" not in got and SECRET not in str(got), got
        for k, v in {"issuer": idp.base, "client_id": CONFIDENTIAL, "required": True,
                     "scope": "openid profile"}.items():
            assert got.get(k) == v, got
    listed = server.get("/admin/v1/rooms", admin=True)
    assert listed.status_code == 200 and SECRET not in listed.text

    # The scope's default.
    room2 = server.create_room(login={"issuer": idp.base, "client_id": PUBLIC, "required": False})
    assert server.admin_room(room2)["login"].get("scope", "openid") == "openid"


def test_a_put_without_the_secret_keeps_it(server, idp):
    room = login_room(server, idp)
    # Change everything but the secret: the secret stays, so the code exchange still authenticates.
    r = server.put(f"/admin/v1/rooms/{room}", admin=True,
                   json={"login": {"issuer": idp.base, "client_id": CONFIDENTIAL, "required": True,
                                   "scope": "openid email"}})
    assert r.status_code == 200, describe(r)
    assert r.json()["login"]["required"] is True and r.json()["login"]["scope"] == "openid email"
    b = browser()
    _, auth = begin(server, b, room)
    assert parse_qs(urlparse(auth).query)["scope"] == ["openid email"]
    ticket = assert_joined(server, b, room, callback(b, at_idp(idp, b, auth, "kept-secret")))
    assert ticket and idp.token_log[-1]["basic"] == (CONFIDENTIAL, SECRET), idp.token_log[-1]


def test_login_null_removes_it(server, idp):
    room = login_room(server, idp, required=True)
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"login": None})
    assert r.status_code == 200, describe(r)
    assert server.admin_room(room).get("login") is None
    assert_problem(server.get(f"/r/{room}/login", headers=HTML), 404)
    # No sign-in needed any more.
    assert server.enqueue(room).status_code == 201


def test_a_room_without_login_has_no_login_route(server):
    room = server.create_room()
    assert_problem(server.get(f"/r/{room}/login", headers=HTML), 404)
    r = server.get(f"/r/{room}/login/callback", params={"code": "x", "state": "y"}, headers=HTML)
    assert r.status_code in (400, 404), describe(r)
    assert set_cookies(r, f"waitroom_{room}") == []


GOOD = {"issuer": "http://127.0.0.1:9", "client_id": "waitroom", "client_secret": "at-least-16-bytes-secret",
        "required": True}


def bad(field, value):
    s = dict(GOOD)
    if value is ...:
        del s[field]
    else:
        s[field] = value
    return s


@pytest.mark.parametrize("login,field", [
    ("yes", "login"),
    ([GOOD], "login"),
    (bad("issuer", ...), "login.issuer"),
    (bad("issuer", 5), "login.issuer"),
    (bad("issuer", ""), "login.issuer"),
    (bad("issuer", "not a url"), "login.issuer"),
    (bad("issuer", "ftp://127.0.0.1:9"), "login.issuer"),
    (bad("issuer", "http://idp.example"), "login.issuer"),  # plain http off loopback
    (bad("issuer", "http://10.0.0.1:9"), "login.issuer"),
    (bad("client_id", ...), "login.client_id"),
    (bad("client_id", ""), "login.client_id"),
    (bad("client_id", 7), "login.client_id"),
    (bad("client_secret", "short"), "login.client_secret"),
    (bad("client_secret", "fifteen-bytes!!"), "login.client_secret"),
    (bad("client_secret", 1234567890123456789), "login.client_secret"),
    (bad("required", "yes"), "login.required"),
    (bad("required", 1), "login.required"),
    (bad("scope", "profile email"), "login.scope"),
    (bad("scope", "openidx"), "login.scope"),
    (bad("scope", ""), "login.scope"),
    (bad("scope", ["openid"]), "login.scope"),
    ({**GOOD, "colour": "red"}, "login.colour"),
], ids=repr)
def test_bad_settings_are_refused_naming_the_field(server, login, field):
    room = server.create_room()
    before = server.admin_room(room)
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"login": login})
    body = assert_problem(r, 400)
    assert field in body["detail"], describe(r)
    assert server.admin_room(room) == before
    fresh = unique_room()
    assert_problem(server.put(f"/admin/v1/rooms/{fresh}", admin=True, json={"login": login}), 400)
    assert_problem(server.get(f"/admin/v1/rooms/{fresh}", admin=True), 404)


def test_https_and_loopback_issuers_are_accepted(server):
    for issuer in ("https://idp.example", "https://idp.example/realms/shop", "http://127.0.0.1:9",
                   "http://[::1]:9"):
        room = server.create_room(login={**GOOD, "issuer": issuer})
        assert server.admin_room(room)["login"]["issuer"] == issuer


# ---- the whole flow ----------------------------------------------------------------------------------

@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_sign_in_joins_the_room(server, idp, public):
    room = login_room(server, idp, public=public, max_party_size=4)
    b = browser()
    r, auth = begin(server, b, room, **{"return": "/basket?id=7", "lang": "de", "party_size": "3"})

    # To the provider, with everything OpenID Connect Core and PKCE ask for.
    assert auth.startswith(idp.base + "/authorize?"), describe(r)
    q = {k: v[0] for k, v in parse_qs(urlparse(auth).query).items()}
    redirect_uri = server.url(f"/r/{room}/login/callback")
    assert q["response_type"] == "code" and q["client_id"] == (PUBLIC if public else CONFIDENTIAL), q
    assert q["redirect_uri"] == redirect_uri and q["scope"] == "openid", q
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43, q
    assert len(q["state"]) >= 16 and len(q["nonce"]) >= 16 and q["state"] != q["nonce"], q

    # The login cookie: sealed, short-lived, for the callback only.
    [login_cookie] = set_cookies(r, f"waitroom-login-{room}")
    _, _, attrs = cookie_attrs(login_cookie)
    assert "httponly" in attrs and attrs.get("samesite", "").lower() == "lax", login_cookie
    assert attrs.get("path") == f"/r/{room}/login" and attrs.get("max-age") == "600", login_cookie
    assert set_cookies(r, f"waitroom_{room}") == [], describe(r)

    before = server.stats(room)["queue_counter"]
    cb = at_idp(idp, b, auth, "alice")
    assert cb.startswith(redirect_uri + "?"), cb
    r = callback(b, cb)
    ticket = assert_joined(server, b, room, r, {"return": ["/basket?id=7"], "lang": ["de"]})
    assert server.stats(room)["queue_counter"] == before + 1
    assert server.ticket(room, ticket).json()["party_size"] == 3

    # The code exchange: the form OpenID Connect Core asks for; Basic only for the confidential one.
    tok = idp.token_log[-1]
    assert tok["status"] == 200, tok
    form = tok["form"]
    assert form["grant_type"] == "authorization_code" and form["redirect_uri"] == redirect_uri, form
    assert form["client_id"] == q["client_id"] and "client_secret" not in form, form
    assert s256(form["code_verifier"]) == q["code_challenge"], form
    assert tok["headers"].get("Content-Type", "").startswith("application/x-www-form-urlencoded"), tok
    assert tok["basic"] == (None if public else (CONFIDENTIAL, SECRET)), tok
    # The room page now shows the place, in German.
    page = b.get(urljoin(server.url("/"), r.headers["Location"]), headers=HTML, timeout=TIMEOUT)
    assert page.status_code == 200 and "Sie sind in der Warteschlange" in page.text, describe(page)
    assert idp.errors == []


def test_the_login_cookie_does_not_show_the_verifier(server, idp):
    """"Sealed" read as encrypted, not only MACed: the PKCE verifier is the one secret of the flow
    that never crosses the browser's address bar, and the cookie should not hand it out either."""
    room = login_room(server, idp)
    b = browser()
    r, auth = begin(server, b, room)
    sealed = cookie_attrs(set_cookies(r, f"waitroom-login-{room}")[0])[1]
    assert_joined(server, b, room, callback(b, at_idp(idp, b, auth, "frank")))
    verifier = idp.token_log[-1]["form"]["code_verifier"]
    for readable in readable_parts(sealed):
        assert verifier.encode() not in readable, f"the verifier {verifier} is readable in {sealed}"


def test_the_redirect_uri_comes_from_public_url(server_factory, idp):
    srv = server_factory(config_text='public_url = "https://queue.example"\n')
    room = srv.create_room(login=login_setting(idp))
    _, auth = begin(srv, browser(), room)
    q = parse_qs(urlparse(auth).query)
    assert q["redirect_uri"] == [f"https://queue.example/r/{room}/login/callback"], auth


@pytest.mark.parametrize("tamper", ["aud_array", "exp_in_leeway", "rs256"])
def test_valid_but_unusual_id_tokens_are_accepted(server, idp, tamper):
    room = login_room(server, idp)
    if tamper == "rs256":
        idp.alg = "RS256"
    else:
        idp.tamper = tamper
    b = browser()
    assert_joined(server, b, room, sign_in(server, idp, b, room, "unusual-" + tamper))
    assert idp.token_log[-1]["status"] == 200


def test_one_sub_holds_one_place_from_any_browser(server, idp):
    room = login_room(server, idp)
    server.enqueue_ok(room)  # someone before, so the place has a number worth comparing
    laptop, phone, other = browser(), browser(), browser()
    first = assert_joined(server, laptop, room, sign_in(server, idp, laptop, room, "carol"))
    position = server.ticket(room, first).json()["position"]
    second = assert_joined(server, phone, room, sign_in(server, idp, phone, room, "carol"))
    assert second == first and phone.cookies.get(f"waitroom_{room}") == first
    assert server.ticket(room, first).json()["position"] == position
    assert server.stats(room)["queue_counter"] == 2
    # The first browser signing in again still has it.
    assert assert_joined(server, laptop, room, sign_in(server, idp, laptop, room, "carol")) == first
    # Somebody else is somebody else.
    third = assert_joined(server, other, room, sign_in(server, idp, other, room, "dave"))
    assert third != first and server.stats(room)["queue_counter"] == 3


# ---- refusals -----------------------------------------------------------------------------------------

REFUSED_TOKENS = ["bad_signature", "alg_none", "hs256", "unknown_kid", "wrong_aud", "wrong_iss", "expired",
                  "future_iat", "wrong_nonce", "no_sub", "empty_sub", "no_id_token", "token_error"]


@pytest.mark.parametrize("tamper", REFUSED_TOKENS)
def test_a_refused_token_joins_nobody(server, idp, tamper):
    room = login_room(server, idp)
    b = browser()
    _, auth = begin(server, b, room)
    cb = at_idp(idp, b, auth, "mallory")
    idp.tamper = tamper
    r = callback(b, cb)
    assert idp.tamper is None, "Waitroom never exchanged the code"
    assert idp.token_log[-1].get("tamper") == tamper or tamper == "token_error", idp.token_log[-1]
    assert_refused(server, b, room, r, 401, FAILED, 0)
    # The visitor may try again, and then it works.
    assert_joined(server, b, room, sign_in(server, idp, b, room, "mallory"))


def test_cancel_at_the_provider(server, idp):
    room = login_room(server, idp)
    b = browser()
    _, auth = begin(server, b, room, lang="en")
    cb = at_idp(idp, b, auth, action="cancel")
    assert "error=access_denied" in cb
    before = len(idp.token_log)
    r = callback(b, cb)
    # The status of a cancelled sign-in is not pinned down: the page, 200, or 401 as refused.
    assert_refused(server, b, room, r, r.status_code if r.status_code in (200, 401) else 401, CANCELLED, 0)
    assert len(idp.token_log) == before


def started(srv, idp, room, username="mallory"):
    """A browser that went through the provider: (browser, callback URL, its login cookie)."""
    b = browser()
    r, auth = begin(srv, b, room)
    cookie = cookie_attrs(set_cookies(r, f"waitroom-login-{room}")[0])[1]
    return b, at_idp(idp, b, auth, username), cookie


def with_query(url, **changes):
    u = urlparse(url)
    q = {k: v[0] for k, v in parse_qs(u.query).items()}
    q.update(changes)
    q = {k: v for k, v in q.items() if v is not None}
    return u._replace(query=urlencode(q)).geturl()


@pytest.mark.parametrize("how", ["no_cookie", "foreign_cookie", "tampered_cookie", "state_mismatch",
                                 "no_state"])
def test_a_bad_or_missing_state_joins_nobody(server, idp, how):
    room = login_room(server, idp)
    b, cb, cookie = started(server, idp, room)
    tokens_before = len(idp.token_log)
    if how == "no_cookie":
        r = callback(browser(), cb)
    elif how == "foreign_cookie":
        other = login_room(server, idp)
        _, _, other_cookie = started(server, idp, other)
        r = callback(None, cb, cookie=other_cookie, room=room)
    elif how == "tampered_cookie":
        i = len(cookie) // 2
        spoiled = cookie[:i] + ("A" if cookie[i] != "A" else "B") + cookie[i + 1:]
        r = callback(None, cb, cookie=spoiled, room=room)
    elif how == "state_mismatch":
        r = callback(b, with_query(cb, state="x" + secrets.token_urlsafe(16)))
    else:
        r = callback(b, with_query(cb, state=None))
    assert_refused(server, b, room, r, 400, FAILED, 0)
    # Refused before the code was spent.
    assert len(idp.token_log) == tokens_before, idp.token_log[tokens_before:]


def test_an_expired_login_cookie_joins_nobody(server_factory, idp):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = login_room(srv, idp)
    b, cb, _ = started(srv, idp, room)
    tokens_before = len(idp.token_log)
    srv.advance_clock(601_000)
    # The browser would have dropped it after Max-Age; sent anyway, the server knows its age.
    r = callback(b, cb)
    assert_refused(srv, b, room, r, 400, FAILED, 0)
    assert len(idp.token_log) == tokens_before


def test_a_login_cookie_is_good_for_one_callback(server, idp):
    room = login_room(server, idp)
    b = browser()
    r, auth = begin(server, b, room)
    cookie = cookie_attrs(set_cookies(r, f"waitroom-login-{room}")[0])[1]
    cb = at_idp(idp, b, auth, "alice")
    assert_joined(server, b, room, callback(b, cb))
    assert server.stats(room)["queue_counter"] == 1

    # The same callback again, the cookie put back: the code is spent, and the cookie too.
    thief = browser()
    r = callback(thief, cb, cookie=cookie, room=room)
    assert_refused(server, thief, room, r, r.status_code if r.status_code in (400, 401) else 400, FAILED, 1)

    # A new code for the same authorization request (same state, nonce, challenge), another person:
    # only a cookie that is spent once used keeps this out.
    cb2 = at_idp(idp, browser(), auth, "mallory")
    assert parse_qs(urlparse(cb2).query)["state"] == parse_qs(urlparse(cb).query)["state"]
    r = callback(thief, cb2, cookie=cookie, room=room)
    assert_refused(server, thief, room, r, r.status_code if r.status_code in (400, 401) else 400, FAILED, 1)


# ---- rooms that require a sign-in ------------------------------------------------------------------------

def test_a_required_room_refuses_an_anonymous_join(server, idp):
    room = login_room(server, idp, required=True)
    body = assert_problem(server.enqueue(room), 401)
    assert "sign in" in body["detail"].lower(), body
    r = browser().post(server.url(f"/r/{room}/join"), data={}, headers=HTML, allow_redirects=False,
                       timeout=TIMEOUT)
    assert set_cookies(r, f"waitroom_{room}") == [], describe(r)
    assert server.stats(room)["queue_counter"] == 0

    # The join view: a GET form to /r/{room}/login, and no "Join the line".
    page = server.get(f"/r/{room}", params={"return": "/x", "lang": "en"}, headers=HTML)
    assert page.status_code == 200, describe(page)
    assert form_with_button(page.text, "Join the line") == [], page.text
    [form] = form_with_button(page.text, "Sign in to join") or [None]
    assert form is not None, page.text
    assert form["attrs"].get("method", "get").lower() == "get", form
    assert urlparse(form["attrs"]["action"]).path == f"/r/{room}/login", form
    hidden = {i.get("name"): i.get("value") for i in form["inputs"] if i.get("type") == "hidden"}
    assert hidden.get("return") == "/x" and hidden.get("lang") == "en", form

    # Signing in, with no invitation, is how to join.
    b = browser()
    assert_joined(server, b, room, sign_in(server, idp, b, room, "erin"))
    assert server.stats(room)["queue_counter"] == 1
    page = b.get(server.url(f"/r/{room}"), headers=HTML, timeout=TIMEOUT)
    assert "You are in line" in page.text, page.text


def test_a_required_room_takes_an_invitation(server, idp):
    room = login_room(server, idp, required=True,
                      invitations={"keys": [{"kid": "shop", "alg": "HS256", "secret": INVITE_SECRET}]})
    r = server.enqueue(room, json={"invite": invitation(room, "acct-1")})
    assert r.status_code == 201, describe(r)


def test_an_optional_login_shows_both_buttons(server, idp):
    room = login_room(server, idp, required=False)
    page = server.get(f"/r/{room}", headers=HTML)
    assert form_with_button(page.text, "Join the line"), page.text
    [form] = form_with_button(page.text, "Sign in to join") or [None]
    assert form is not None and urlparse(form["attrs"]["action"]).path == f"/r/{room}/login", page.text
    assert server.enqueue(room).status_code == 201
    # A room without login shows no sign-in.
    plain = server.create_room()
    assert "Sign in to join" not in server.get(f"/r/{plain}", headers=HTML).text



def test_a_waiting_visitor_who_signs_in_keeps_their_place(server, idp):
    """The place this browser holds becomes the account's: no new place at the tail. An account
    that has a place already answers with that one instead."""
    room = login_room(server, idp)
    b = browser()
    r = b.post(server.url(f"/r/{room}/join"), headers=HTML, allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 303, describe(r)
    mine = b.cookies.get(f"waitroom_{room}")
    server.enqueue_ok(room)  # someone behind
    assert assert_joined(server, b, room, sign_in(server, idp, b, room, "erin")) == mine
    assert server.stats(room)["queue_counter"] == 2
    # On another device the account finds that place.
    phone = browser()
    assert assert_joined(server, phone, room, sign_in(server, idp, phone, room, "erin")) == mine
    # Another account signing in on the first browser does not take erin's place.
    other = assert_joined(server, b, room, sign_in(server, idp, b, room, "frank"))
    assert other != mine and server.stats(room)["queue_counter"] == 3
    assert server.ticket(room, mine).json()["status"] == "waiting", "erin's place is still erin's"


def test_an_invite_only_room_is_not_joined_by_signing_in(server, idp):
    room = login_room(server, idp, invite_only=True,
                      invitations={"keys": [{"kid": "shop", "alg": "HS256", "secret": INVITE_SECRET}]})
    page = server.get(f"/r/{room}", headers=HTML)
    assert "Sign in to join" not in page.text, page.text
    b = browser()
    r = sign_in(server, idp, b, room, "grace")
    assert_refused(server, b, room, r, 401, "", 0)
    assert server.enqueue(room, json={"invite": invitation(room, "acct-2")}).status_code == 201
