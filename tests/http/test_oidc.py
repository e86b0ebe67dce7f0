"""The OpenID Connect adapter (/oidc/{room}/...): a room is an OpenID provider whose "sign-in" is
being admitted.

The full flow is driven by npm openid-client (tests/http/oidc_rp.cjs), a relying-party library we
did not write, with Python's requests acting as the browser: discovery, an authorization URL with
PKCE S256 + state + nonce, the visitor waiting on the room page (no code while not admitted), the
admin letting them in, the code exchanged and the ID token validated by the library, userinfo.

Every bad input is refused the way RFC 6749 says (section 4.1.2.1 for the authorization endpoint:
no redirect without a known client and registered redirect URI; section 5.2 for the token
endpoint) and issues nothing.
"""

import base64
import hashlib
import json
import secrets
import shutil
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests

from wrlib import REPO, TEST_CLOCK_CONFIG, Server, assert_problem, describe, free_port, unique_room

HTML = {"Accept": "text/html,application/xhtml+xml"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
RP_SCRIPT = Path(__file__).with_name("oidc_rp.cjs")
NODE_TIMEOUT_S = 60

# Loopback redirect URIs: allowed over plain http, and never fetched (the test reads Location).
REDIRECT = "http://127.0.0.1:9/callback"
OTHER_REDIRECT = "http://127.0.0.1:9/other-callback"
SECRET = "shop-" + secrets.token_urlsafe(24)
OTHER_SECRET = "other-" + secrets.token_urlsafe(24)


def clients():
    return [
        {"client_id": "shop", "client_secret": SECRET, "redirect_uris": [REDIRECT, OTHER_REDIRECT]},
        {"client_id": "other", "client_secret": OTHER_SECRET, "redirect_uris": [REDIRECT]},
        {"client_id": "app", "public": True, "redirect_uris": [REDIRECT]},
    ]


def oidc_room(srv, **settings):
    return srv.create_room(oidc={"clients": clients()}, **settings)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    return verifier, b64url(hashlib.sha256(verifier.encode()).digest())


def admit(srv, room):
    """A visitor of `room` let in: (ticket view, pass)."""
    t = srv.enqueue_ok(room)
    srv.advance(room, to=t["position"])
    r = srv.pass_for(room, t["ticket"])
    assert r.status_code == 200, describe(r)
    return t, r.json()["pass"]


def authorize(srv, room, pass_=None, headers=None, **params):
    h = dict(headers or {})
    if pass_:
        h["Cookie"] = f"waitroom_pass_{room}={pass_}"
    return srv.get(f"/oidc/{room}/authorize", params=params, headers=h)


def auth_params(client_id="shop", redirect_uri=REDIRECT, challenge=None, **extra):
    p = {"client_id": client_id, "redirect_uri": redirect_uri, "response_type": "code",
         "scope": "openid", "state": "st-" + secrets.token_hex(4), "nonce": "n-" + secrets.token_hex(4)}
    if challenge:
        p.update(code_challenge=challenge, code_challenge_method="S256")
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}


def redirect_params(r, to=REDIRECT):
    """The query of a redirect to the client's redirect URI."""
    assert r.status_code == 302, describe(r)
    loc = r.headers["Location"]
    assert loc.startswith(to + ("&" if "?" in to else "?")), describe(r)
    own = parse_qs(urlparse(to).query)  # the redirect URI's own query is kept, and left out here
    return {k: v[0] for k, v in parse_qs(urlparse(loc).query).items() if k not in own}


def get_code(srv, room, pass_, client_id="shop", redirect_uri=REDIRECT, pkce=True, **extra):
    """A code for an admitted visitor: (code, verifier or None, authorization params)."""
    verifier, challenge = pkce_pair() if pkce else (None, None)
    params = auth_params(client_id, redirect_uri, challenge, **extra)
    got = redirect_params(authorize(srv, room, pass_, **params), redirect_uri)
    assert set(got) == {"code", "state"} and got["state"] == params["state"], got
    return got["code"], verifier, params


def token(srv, room, code, client_id="shop", secret=SECRET, auth="basic", redirect_uri=REDIRECT,
          verifier=None, headers=None, **extra):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    h = dict(FORM)
    if auth == "basic":
        h["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    elif auth == "post":
        form.update(client_id=client_id, client_secret=secret)
    else:  # public client: names itself, proves possession with PKCE
        form["client_id"] = client_id
    if verifier:
        form["code_verifier"] = verifier
    form.update(extra)
    h.update(headers or {})
    return srv.post(f"/oidc/{room}/token", data={k: v for k, v in form.items() if v is not None}, headers=h)


def assert_oauth_error(r, error, status=400):
    """RFC 6749 section 5.2: exactly {"error", "error_description"}, no-store, nothing issued."""
    assert r.status_code == status, f"expected {status} {error}" + describe(r)
    assert r.headers.get("Content-Type", "").split(";")[0] == "application/json", describe(r)
    body = r.json()
    assert set(body) == {"error", "error_description"}, describe(r)
    assert body["error"] == error, describe(r)
    assert "no-store" in r.headers.get("Cache-Control", ""), describe(r)
    return body["error_description"]


def jwt_claims(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def jwt_header(jwt):
    head = jwt.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def userinfo(srv, room, access_token, method="GET"):
    h = {"Authorization": f"Bearer {access_token}"} if access_token else {}
    return srv.request(method, f"/oidc/{room}/userinfo", headers=h)


def assert_invalid_token(r):
    assert r.status_code == 401, describe(r)
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.startswith("Bearer") and 'error="invalid_token"' in challenge, describe(r)
    assert "sub" not in r.json(), describe(r)


# ---- the whole flow, driven by npm openid-client ------------------------------------------------

def node_rp(*args):
    if not (REPO / "node_modules" / "openid-client").exists():
        pytest.fail("npm openid-client is not installed: run scripts/bootstrap (npm ci)", pytrace=False)
    r = subprocess.run(["node", str(RP_SCRIPT), *args], capture_output=True, text=True,
                       timeout=NODE_TIMEOUT_S, cwd=REPO)
    lines = r.stdout.strip().splitlines()
    assert lines, f"oidc_rp.cjs printed nothing (exit {r.returncode}):\n{r.stderr}"
    out = json.loads(lines[-1])
    assert r.returncode == 0 and "error" not in out, f"openid-client failed: {out}\n{r.stderr}"
    return out


@pytest.mark.parametrize("alg,client_id,auth_method", [
    ("ES256", "shop", "client_secret_basic"),
    ("RS256", "shop", "client_secret_post"),
    ("ES256", "app", "none"),  # a public client: PKCE only
])
def test_openid_client_flow_waits_until_admitted(server, alg, client_id, auth_method):
    room = oidc_room(server, algorithm=alg, target_url="https://shop.example/")
    ahead = [server.enqueue_ok(room) for _ in range(2)]  # the visitor will be third in line
    issuer = server.url(f"/oidc/{room}")
    config = {"issuer": issuer, "client_id": client_id, "redirect_uri": REDIRECT,
              "auth_method": auth_method, "alg": alg}
    if client_id == "shop":
        config["client_secret"] = SECRET
    started = node_rp("begin", json.dumps(config))
    auth_url = started["authorization_url"]
    q = parse_qs(urlparse(auth_url).query)
    assert auth_url.startswith(issuer + "/authorize?"), auth_url
    assert q["code_challenge_method"] == ["S256"] and q["state"] and q["nonce"], q

    # The browser: a requests.Session keeping its cookies like a browser does.
    browser = requests.Session()
    r = browser.get(auth_url, headers=HTML, allow_redirects=False, timeout=10)
    assert r.status_code == 302, describe(r)
    to_room = urlparse(r.headers["Location"])
    assert to_room.path == f"/r/{room}" and "code" not in parse_qs(to_room.query), describe(r)
    back = parse_qs(to_room.query)["return"][0]
    assert back == urlparse(auth_url).path + "?" + urlparse(auth_url).query, back

    r = browser.get(server.url(r.headers["Location"]), headers=HTML, timeout=10)
    assert "Join the line" in r.text, r.text
    r = browser.post(server.url(f"/r/{room}/join"), data={"return": back}, allow_redirects=False, timeout=10)
    assert r.status_code == 303, describe(r)
    r = browser.get(server.url(r.headers["Location"]), headers=HTML, timeout=10)
    assert "You are in line" in r.text and "2</p>" in r.text, r.text  # two people ahead

    # Not admitted yet: coming back to the provider gives no code, only the line again.
    r = browser.get(auth_url, allow_redirects=False, timeout=10)
    assert r.status_code == 302 and urlparse(r.headers["Location"]).path == f"/r/{room}", describe(r)
    assert "code=" not in r.headers["Location"]
    r = browser.post(server.url(f"/r/{room}/enter"), data={"return": back}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"].startswith(f"/r/{room}"), describe(r)

    server.advance(room, by=3)
    r = browser.post(server.url(f"/r/{room}/enter"), data={"return": back}, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == back, describe(r)
    r = browser.get(server.url(back), allow_redirects=False, timeout=10)
    callback = r.headers.get("Location", "")
    assert r.status_code == 302 and callback.startswith(REDIRECT + "?code="), describe(r)

    done = node_rp("finish", json.dumps(config), json.dumps(started), callback)
    claims, info = done["claims"], done["userinfo"]
    assert claims["iss"] == issuer and claims["aud"] == client_id, claims
    assert claims["nonce"] == started["nonce"], claims
    assert claims["queue_position"] == 3, claims
    assert isinstance(claims["auth_time"], int) and claims["auth_time"] <= claims["iat"] <= time.time() + 5, claims
    assert claims["iat"] - claims["auth_time"] < 60, claims
    assert claims["exp"] > time.time(), claims
    assert jwt_header(done["id_token"])["alg"] == alg
    assert done["token"]["token_type"] == "Bearer" and 0 < done["token"]["expires_in"] <= 900, done["token"]
    assert info == {"sub": claims["sub"], "queue_position": 3, "room": room}, info
    # The subject says nothing about the ticket (which would fetch the pass).
    tickets = {t["ticket"] for t in ahead} | {browser.cookies.get(f"waitroom_{room}")}
    assert not any(t and t in json.dumps(claims) for t in tickets), claims

    # openid-client spent the code: a second exchange is refused and revokes what the first got.
    code = parse_qs(urlparse(callback).query)["code"][0]
    secret = SECRET if client_id == "shop" else None
    again = token(server, room, code, client_id=client_id, secret=secret,
                  auth={"client_secret_basic": "basic", "client_secret_post": "post"}.get(auth_method, "none"),
                  verifier=started["code_verifier"])
    assert_oauth_error(again, "invalid_grant")
    assert_invalid_token(userinfo(server, room, done["access_token"]))


def test_discovery_and_jwks(server):
    room = oidc_room(server, algorithm="RS256")
    r = server.get(f"/oidc/{room}/.well-known/openid-configuration")
    assert r.status_code == 200, describe(r)
    doc = r.json()
    iss = server.url(f"/oidc/{room}")
    assert doc["issuer"] == iss
    for key, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
                      ("userinfo_endpoint", "/userinfo"), ("jwks_uri", "/jwks.json")]:
        assert doc[key] == iss + path, doc
    assert doc["response_types_supported"] == ["code"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post", "none"}
    jwks = server.get(f"/oidc/{room}/jwks.json")
    assert jwks.status_code == 200 and jwks.json() == server.jwks(), describe(jwks)
    # The ID token's kid is in that JWKS.
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    r = token(server, room, code, verifier=verifier)
    assert r.status_code == 200, describe(r)
    kid = jwt_header(r.json()["id_token"])["kid"]
    assert kid in {k["kid"] for k in jwks.json()["keys"]}
    assert_problem(server.get("/oidc/nosuchroom/.well-known/openid-configuration"), 404)
    assert_problem(server.get("/oidc/nosuchroom/authorize", params=auth_params()), 404)


def test_issuer_comes_from_public_url(server_factory):
    srv = server_factory(config_text='public_url = "https://queue.example"\n')
    room = oidc_room(srv)
    doc = srv.get(f"/oidc/{room}/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"https://queue.example/oidc/{room}", doc
    assert doc["token_endpoint"] == f"https://queue.example/oidc/{room}/token", doc
    # A visitor who is not admitted is sent to the room page on the public URL.
    r = authorize(srv, room, **auth_params(challenge=pkce_pair()[1]))
    assert r.status_code == 302 and r.headers["Location"].startswith(f"https://queue.example/r/{room}?return=%2Foidc%2F"), describe(r)
    _, p = admit(srv, room)
    code, verifier, _ = get_code(srv, room, p)
    r = token(srv, room, code, verifier=verifier)
    assert r.status_code == 200, describe(r)
    assert jwt_claims(r.json()["id_token"])["iss"] == f"https://queue.example/oidc/{room}"


def test_tokens_and_userinfo_without_a_library(server):
    room = oidc_room(server)
    t, p = admit(server, room)
    code, verifier, params = get_code(server, room, p)
    r = token(server, room, code, verifier=verifier)
    assert r.status_code == 200, describe(r)
    assert r.headers["Cache-Control"] == "no-store" and r.headers.get("Pragma") == "no-cache", describe(r)
    body = r.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "openid", body
    claims = jwt_claims(body["id_token"])
    assert claims["nonce"] == params["nonce"] and claims["aud"] == "shop", claims
    assert claims["queue_position"] == t["position"], claims
    assert claims["exp"] == jwt_claims(p)["exp"], "the ID token ends with the pass"
    assert claims["auth_time"] == jwt_claims(p)["iat"], "auth_time is when the visitor was let in"
    assert t["ticket"] not in json.dumps(claims)
    for method in ("GET", "POST"):
        r = userinfo(server, room, body["access_token"], method)
        assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store", describe(r)
        assert r.json() == {"sub": claims["sub"], "queue_position": t["position"], "room": room}
    # Without nonce the ID token has none.
    code, verifier, _ = get_code(server, room, p, nonce=None)
    r = token(server, room, code, verifier=verifier)
    assert "nonce" not in jwt_claims(r.json()["id_token"])


def test_confidential_client_may_skip_pkce(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    code, _, _ = get_code(server, room, p, pkce=False)
    assert token(server, room, code, auth="post").status_code == 200
    # ...but then may not send a verifier (a downgrade, or a confused client).
    code, _, _ = get_code(server, room, p, pkce=False)
    assert_oauth_error(token(server, room, code, verifier=pkce_pair()[0]), "invalid_grant")


# ---- the token endpoint refuses, and issues nothing ----------------------------------------------

def test_unknown_client(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    r = token(server, room, code, client_id="nobody", verifier=verifier)
    assert_oauth_error(r, "invalid_client", 401)
    assert r.headers["WWW-Authenticate"].startswith("Basic"), describe(r)
    assert_oauth_error(token(server, room, code, client_id="nobody", auth="post", verifier=verifier), "invalid_client")
    assert token(server, room, code, verifier=verifier).status_code == 200  # the code was not spent


@pytest.mark.parametrize("auth", ["basic", "post"])
def test_wrong_secret(server, auth):
    room = oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    for wrong in (SECRET + "x", SECRET[:-1], OTHER_SECRET, "x"):
        r = token(server, room, code, secret=wrong, auth=auth, verifier=verifier)
        assert_oauth_error(r, "invalid_client", 401 if auth == "basic" else 400)
        if auth == "basic":
            assert r.headers["WWW-Authenticate"].startswith("Basic"), describe(r)
    # No authentication at all, for a confidential client.
    assert_oauth_error(token(server, room, code, auth="none", verifier=verifier), "invalid_client")
    # A public client may not present a secret.
    assert_oauth_error(token(server, room, code, client_id="app", secret="whatever-secret", auth=auth,
                             verifier=verifier), "invalid_client", 401 if auth == "basic" else 400)
    assert token(server, room, code, auth=auth, verifier=verifier).status_code == 200


def test_no_client_authentication_at_all_is_invalid_client(server):
    # RFC 6749 section 5.2: "no client authentication included" is invalid_client; a 401 names
    # the HTTP scheme a client may authenticate with.
    room = oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    for extra in ({}, {"client_secret": SECRET}):
        r = token(server, room, code, client_id=None, auth="none", verifier=verifier, **extra)
        assert_oauth_error(r, "invalid_client", 401)
        assert r.headers["WWW-Authenticate"].startswith("Basic"), describe(r)
    assert token(server, room, code, verifier=verifier).status_code == 200  # the code was not spent


def test_reused_code_is_refused_and_revokes_the_first_tokens(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    first = token(server, room, code, verifier=verifier)
    assert first.status_code == 200, describe(first)
    assert userinfo(server, room, first.json()["access_token"]).status_code == 200
    why = assert_oauth_error(token(server, room, code, verifier=verifier), "invalid_grant")
    assert "already used" in why, why
    assert_invalid_token(userinfo(server, room, first.json()["access_token"]))


def test_code_of_another_client(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    r = token(server, room, code, client_id="other", secret=OTHER_SECRET, verifier=verifier)
    assert "another client" in assert_oauth_error(r, "invalid_grant")
    # The code was spent by that attempt: a stolen code is good for nothing afterwards.
    assert_oauth_error(token(server, room, code, verifier=verifier), "invalid_grant")


def test_code_of_another_room(server):
    room, other = oidc_room(server), oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    assert_oauth_error(token(server, other, code, verifier=verifier), "invalid_grant")


def test_mismatched_redirect_uri_at_token(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    # Registered for the same client, but not the one the code was issued for.
    r = token(server, room, code, redirect_uri=OTHER_REDIRECT, verifier=verifier)
    assert "redirect_uri" in assert_oauth_error(r, "invalid_grant")
    code, verifier, _ = get_code(server, room, p)
    assert_oauth_error(token(server, room, code, redirect_uri=None, verifier=verifier), "invalid_request")


@pytest.mark.parametrize("client_id", ["shop", "app"])
def test_missing_or_wrong_verifier(server, client_id):
    room = oidc_room(server)
    _, p = admit(server, room)
    auth = "basic" if client_id == "shop" else "none"
    code, verifier, _ = get_code(server, room, p, client_id=client_id)
    assert "code_verifier" in assert_oauth_error(token(server, room, code, client_id=client_id, auth=auth),
                                                 "invalid_grant")
    code, verifier, _ = get_code(server, room, p, client_id=client_id)
    other_verifier, _ = pkce_pair()
    r = token(server, room, code, client_id=client_id, auth=auth, verifier=other_verifier)
    assert "does not match" in assert_oauth_error(r, "invalid_grant")
    # "plain": the challenge itself presented as the verifier.
    code, verifier, _ = get_code(server, room, p, client_id=client_id)
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    assert_oauth_error(token(server, room, code, client_id=client_id, auth=auth, verifier=challenge), "invalid_grant")


def test_expired_code(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = oidc_room(srv)
    _, p = admit(srv, room)
    early, early_verifier, _ = get_code(srv, room, p)
    late, late_verifier, _ = get_code(srv, room, p)
    srv.advance_clock(59_000)
    assert token(srv, room, early, verifier=early_verifier).status_code == 200
    srv.advance_clock(1_000)
    why = assert_oauth_error(token(srv, room, late, verifier=late_verifier), "invalid_grant")
    assert "expired" in why, why


def test_admission_ended_between_authorize_and_token(server):
    room = oidc_room(server)
    t, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    assert server.set_session(room, t["ticket"], "revoked").status_code == 200
    why = assert_oauth_error(token(server, room, code, verifier=verifier), "invalid_grant")
    assert "admission" in why, why


def test_malformed_token_requests(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    assert_oauth_error(token(server, room, code, verifier=verifier, grant_type="refresh_token"), "unsupported_grant_type")
    assert_oauth_error(token(server, room, code, verifier=verifier, grant_type=None), "invalid_request")
    assert_oauth_error(token(server, room, None, verifier=verifier), "invalid_request")
    # Two ways of authenticating at once, a repeated parameter, a JSON body.
    assert_oauth_error(token(server, room, code, verifier=verifier, client_secret=SECRET), "invalid_request")
    h = {**FORM, "Authorization": "Basic " + base64.b64encode(f"shop:{SECRET}".encode()).decode()}
    body = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                      "code_verifier": verifier}) + "&code=" + code
    assert_oauth_error(server.post(f"/oidc/{room}/token", data=body, headers=h), "invalid_request")
    r = server.post(f"/oidc/{room}/token", json={"grant_type": "authorization_code", "code": code},
                    headers={"Authorization": h["Authorization"]})
    assert_oauth_error(r, "invalid_request")
    assert_oauth_error(token(server, room, code, headers={"Authorization": "Basic !!!"}), "invalid_request")
    # None of that spent the code.
    assert token(server, room, code, verifier=verifier).status_code == 200


# ---- the authorization endpoint ------------------------------------------------------------------

@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback", "//evil.example/callback", "http://127.0.0.1:9/callback/",
    "http://127.0.0.1:9/callbackx", "http://127.0.0.1:9/callback?next=https://evil.example/",
    "http://127.0.0.1:9/callback#x", "HTTP://127.0.0.1:9/callback", "http://127.0.0.1:9/callback/../evil",
    "http://127.0.0.1:9@evil.example/callback", "javascript:alert(1)", None,
])
def test_unregistered_redirect_uri_is_never_followed(server, redirect_uri):
    room = oidc_room(server)
    _, p = admit(server, room)
    params = auth_params(redirect_uri=redirect_uri, challenge=pkce_pair()[1])
    for pass_ in (p, None):  # admitted or not: no redirect at all
        r = authorize(server, room, pass_, **params)
        assert_problem(r, 400)
        assert "Location" not in r.headers, describe(r)
    r = authorize(server, room, p, headers=HTML, **params)
    assert r.status_code == 400 and "text/html" in r.headers["Content-Type"], describe(r)
    assert "Location" not in r.headers and "redirect_uri" in r.text, describe(r)
    assert "<script" not in r.text and "javascript:" not in r.text, r.text


@pytest.mark.parametrize("client_id", ["nobody", None, "SHOP"])
def test_unknown_client_at_authorize_is_never_redirected(server, client_id):
    room = oidc_room(server)
    _, p = admit(server, room)
    r = authorize(server, room, p, **auth_params(client_id=client_id, challenge=pkce_pair()[1]))
    assert_problem(r, 400)
    assert "Location" not in r.headers, describe(r)


def test_repeated_parameters_are_refused_without_redirect(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    q = urlencode(auth_params(challenge=pkce_pair()[1])) + "&redirect_uri=" + "https%3A%2F%2Fevil.example%2F"
    r = server.get(f"/oidc/{room}/authorize?{q}", headers={"Cookie": f"waitroom_pass_{room}={p}"})
    assert_problem(r, 400)
    assert "Location" not in r.headers


@pytest.mark.parametrize("change,error", [
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge_method": None}, "invalid_request"),  # defaults to plain: refused
    ({"code_challenge": "short"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": "code id_token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"scope": "email profile"}, "invalid_scope"),
    ({"scope": None}, "invalid_scope"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
])
def test_other_authorize_errors_go_back_to_the_client_with_state(server, change, error):
    room = oidc_room(server)
    _, p = admit(server, room)
    params = auth_params(challenge=pkce_pair()[1])
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    got = redirect_params(authorize(server, room, p, **params))
    assert got["error"] == error and got["state"] == params["state"], got
    assert "code" not in got, got


def test_public_client_must_use_pkce(server):
    room = oidc_room(server)
    _, p = admit(server, room)
    got = redirect_params(authorize(server, room, p, **auth_params(client_id="app")))
    assert got["error"] == "invalid_request" and "PKCE" in got["error_description"] and "code" not in got, got
    code, verifier, _ = get_code(server, room, p, client_id="app")
    assert token(server, room, code, client_id="app", auth="none", verifier=verifier).status_code == 200


def test_scope_may_hold_more_than_openid_and_query_of_the_redirect_uri_is_kept(server):
    room = oidc_room(server)
    uri = "https://shop.example/cb?tenant=a"
    server.put(f"/admin/v1/rooms/{room}", admin=True, json={"oidc": {"clients": [
        {"client_id": "shop", "client_secret": SECRET, "redirect_uris": [uri]}]}})
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p, redirect_uri=uri, scope="openid email profile")
    r = authorize(server, room, p, **auth_params(redirect_uri=uri, challenge=pkce_pair()[1]))
    assert parse_qs(urlparse(r.headers["Location"]).query)["tenant"] == ["a"], describe(r)
    assert token(server, room, code, redirect_uri=uri, verifier=verifier).status_code == 200


def test_prompt_none_does_not_wait(server):
    room = oidc_room(server)
    got = redirect_params(authorize(server, room, **auth_params(challenge=pkce_pair()[1], prompt="none")))
    assert got["error"] == "login_required" and "code" not in got, got


def test_a_pass_of_another_room_does_not_sign_in(server):
    room, other = oidc_room(server), oidc_room(server)
    _, p = admit(server, other)
    r = authorize(server, room, p, **auth_params(challenge=pkce_pair()[1]))
    assert r.status_code == 302 and urlparse(r.headers["Location"]).path == f"/r/{room}", describe(r)


# ---- userinfo ---------------------------------------------------------------------------------------

def issued(srv, room):
    _, p = admit(srv, room)
    code, verifier, _ = get_code(srv, room, p)
    r = token(srv, room, code, verifier=verifier)
    assert r.status_code == 200, describe(r)
    return r.json(), p


def test_userinfo_refuses_forged_and_foreign_tokens(server):
    room, other = oidc_room(server), oidc_room(server)
    tokens, p = issued(server, room)
    access = tokens["access_token"]
    head, payload, sig = access.split(".")
    claims = jwt_claims(access)
    forged = {
        "bad signature": f"{head}.{payload}.{sig[:-4]}AAAA",
        "altered claims": f"{head}.{b64url(json.dumps({**claims, 'queue_position': 1}).encode())}.{sig}",
        "alg none": f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}.",
        "HS256 with the public key": f"{b64url(json.dumps({**jwt_header(access), 'alg': 'HS256'}).encode())}.{payload}.{sig}",
        "garbage": "not-a-jwt",
        "the ID token (audience: the client)": tokens["id_token"],
        "the visitor's pass (audience: the room)": p,
        "another room's access token (issuer)": issued(server, other)[0]["access_token"],
    }
    for name, bad in forged.items():
        r = userinfo(server, room, bad)
        assert r.status_code == 401, f"{name}: " + describe(r)
        assert_invalid_token(r)
    r = userinfo(server, room, None)
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == 'Bearer realm="waitroom"', describe(r)
    assert r.json()["error"] == "invalid_request", describe(r)
    assert userinfo(server, room, access).status_code == 200  # the genuine one still works


def test_userinfo_refuses_an_expired_token(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = oidc_room(srv, pass_lifetime_s=60)
    tokens, _ = issued(srv, room)
    assert userinfo(srv, room, tokens["access_token"]).status_code == 200
    assert tokens["expires_in"] <= 60
    srv.advance_clock(61_000)
    r = userinfo(srv, room, tokens["access_token"])
    assert_invalid_token(r)
    assert "expired" in r.headers["WWW-Authenticate"], describe(r)


# ---- the settings ----------------------------------------------------------------------------------

def test_admin_api_never_shows_secrets_and_a_put_keeps_them(server):
    room = oidc_room(server)
    got = server.admin_room(room)
    assert SECRET not in json.dumps(got) and OTHER_SECRET not in json.dumps(got), got
    shop = got["oidc"]["clients"][0]
    assert shop == {"client_id": "shop", "public": False, "redirect_uris": [REDIRECT, OTHER_REDIRECT]}, shop
    # The redacted view, edited and put back, keeps each secret.
    got["oidc"]["clients"][0]["redirect_uris"] = [REDIRECT]
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"oidc": got["oidc"]})
    assert r.status_code == 200 and SECRET not in r.text, describe(r)
    _, p = admit(server, room)
    code, verifier, _ = get_code(server, room, p)
    assert token(server, room, code, verifier=verifier).status_code == 200
    # A new secret replaces the old one.
    new_secret = secrets.token_urlsafe(24)
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"oidc": {"clients": [
        {"client_id": "shop", "client_secret": new_secret, "redirect_uris": [REDIRECT]}]}})
    assert r.status_code == 200, describe(r)
    code, verifier, _ = get_code(server, room, p)
    assert_oauth_error(token(server, room, code, verifier=verifier), "invalid_client", 401)
    assert token(server, room, code, secret=new_secret, verifier=verifier).status_code == 200


@pytest.mark.parametrize("oidc,field", [
    ({"clients": [{"client_id": "a", "client_secret": SECRET, "redirect_uris": ["http://shop.example/cb"]}]},
     "oidc.clients[0].redirect_uris[0]"),
    ({"clients": [{"client_id": "a", "client_secret": SECRET, "redirect_uris": ["https://shop.example/cb#x"]}]},
     "oidc.clients[0].redirect_uris[0]"),
    ({"clients": [{"client_id": "a", "redirect_uris": ["https://shop.example/cb"]}]},
     "oidc.clients[0].client_secret"),
    ({"clients": [{"client_id": "a", "client_secret": "short", "redirect_uris": ["https://shop.example/cb"]}]},
     "oidc.clients[0].client_secret"),
    ({"clients": [{"client_id": "a", "public": True, "client_secret": SECRET, "redirect_uris": ["https://s.example/"]}]},
     "oidc.clients[0].client_secret"),
    ({"clients": [{"client_id": "", "public": True, "redirect_uris": ["https://s.example/"]}]},
     "oidc.clients[0].client_id"),
    ({"clients": [{"client_id": "a", "public": True, "redirect_uris": ["https://s.example/"]},
                  {"client_id": "a", "public": True, "redirect_uris": ["https://s.example/"]}]},
     "oidc.clients[1].client_id"),
    ({"clients": [{"client_id": "a", "public": True, "redirect_uris": []}]}, "oidc.clients[0].redirect_uris"),
    ({"clients": [{"client_id": "a", "public": True, "redirect_uris": ["https://s.example/"], "x": 1}]},
     "oidc.clients[0].x"),
])
def test_bad_client_settings_name_the_field(server, oidc, field):
    room = oidc_room(server)
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"oidc": oidc})
    body = assert_problem(r, 400)
    assert field in body["detail"], body
    assert len(server.admin_room(room)["oidc"]["clients"]) == 3  # unchanged


def test_clients_survive_a_restart_with_their_secrets(server_factory):
    room = unique_room("cfg")
    config = f"""
[rooms.{room}]
[[rooms.{room}.oidc.clients]]
client_id = "shop"
client_secret = "{SECRET}"
redirect_uris = ["{REDIRECT}"]

[[rooms.{room}.oidc.clients]]
client_id = "app"
public = true
redirect_uris = ["{REDIRECT}"]
"""
    srv = server_factory(config_text=config)
    api_room = oidc_room(srv)
    before = (srv.admin_room(room)["oidc"], srv.admin_room(api_room)["oidc"])
    assert [c["client_id"] for c in before[0]["clients"]] == ["shop", "app"], before
    srv.restart()
    assert (srv.admin_room(room)["oidc"], srv.admin_room(api_room)["oidc"]) == before
    for r_ in (room, api_room):
        _, p = admit(srv, r_)
        code, verifier, _ = get_code(srv, r_, p)
        assert token(srv, r_, code, verifier=verifier).status_code == 200, r_
    # The secret is in the data dir's log (owner-only), and nowhere the admin API shows.
    assert SECRET not in json.dumps(srv.get("/admin/v1/rooms", admin=True).json())


def test_bad_client_settings_in_the_config_file_stop_the_start():
    srv = Server(config_text='[rooms.x]\n[[rooms.x.oidc.clients]]\nclient_id = "a"\n'
                             'redirect_uris = ["http://shop.example/cb"]\npublic = true\n')
    try:
        with pytest.raises(RuntimeError) as e:
            srv.start()
    finally:
        srv.stop()
        shutil.rmtree(srv.tmp, ignore_errors=True)
    assert "rooms.x" in str(e.value) and "oidc.clients[0].redirect_uris[0]" in str(e.value), str(e.value)


def test_audit_events_never_carry_secrets(server_factory):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    sink = ThreadingHTTPServer(("127.0.0.1", free_port()), Hook)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    try:
        srv = server_factory(config_text=f'[[webhooks]]\nurl = "http://127.0.0.1:{sink.server_port}/hook"\n'
                                         f'secret = "webhook-secret-0123456789"\n')
        room = oidc_room(srv)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any(room in b and "policy.changed" in b for b in received):
            time.sleep(0.1)
        events = [e for b in received for e in json.loads(b)["events"]
                  if e["type"] == "policy.changed" and room in json.dumps(e)]
        assert events, f"no policy.changed event for {room}: {received}"
        assert "shop" in json.dumps(events[0]), events[0]  # the clients are there…
        assert SECRET not in "".join(received) and OTHER_SECRET not in "".join(received)  # …their secrets not
    finally:
        sink.shutdown()
        sink.server_close()
