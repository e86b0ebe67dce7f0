"""The fake OpenID provider of the sign-in tests (fake_idp.py) on its own, with no waitroom: a
relying party written here with PyJWT goes through discovery, the sign-in form, the code exchange
and the ID token check; every check the provider makes refuses what it should; every `tamper`
spoils the ID token the way its name says. So a failing test_login.py is about Waitroom, not the
fake."""

import base64
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests

from fake_idp import FakeIdp, TAMPERS, s256

REDIRECT = "http://127.0.0.1:9/r/room/login/callback"
SECRET = "rp-" + secrets.token_urlsafe(24)


@pytest.fixture
def idp():
    idp = FakeIdp().start()
    idp.register("rp", SECRET, [REDIRECT])
    idp.register("public-rp", None, [REDIRECT])
    yield idp
    idp.stop()


def auth_request(client_id="rp", **extra):
    verifier = secrets.token_urlsafe(48)
    p = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT,
         "scope": "openid", "state": secrets.token_urlsafe(8), "nonce": secrets.token_urlsafe(8),
         "code_challenge": s256(verifier), "code_challenge_method": "S256"}
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}, verifier


def sign_in(idp, params, username="alice", action="sign_in"):
    """The browser's part: the form, then the redirect's query."""
    r = requests.get(idp.base + "/authorize", params=params, timeout=10)
    assert r.status_code == 200 and '<label for="username">Username</label>' in r.text, r.text
    form_id = re.search(r'name="form_id" value="([^"]+)"', r.text).group(1)
    r = requests.post(idp.base + "/authorize", data={"form_id": form_id, "username": username,
                                                       "action": action},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    loc = urlparse(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == params["redirect_uri"]
    return {k: v[0] for k, v in parse_qs(loc.query).items()}


def exchange(idp, code, verifier, client_id="rp", secret=SECRET, **extra):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier, "client_id": client_id}
    form.update(extra)
    headers = {}
    if secret:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return requests.post(idp.base + "/token", data={k: v for k, v in form.items() if v is not None},
                         headers=headers, timeout=10)


def verify(idp, token, client_id, nonce):
    """What a careful relying party does: key by kid from the JWKS, ES256/RS256 only."""
    disc = requests.get(idp.base + "/.well-known/openid-configuration", timeout=10).json()
    keys = jwt.PyJWKClient(disc["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, keys.key, algorithms=["ES256", "RS256"], audience=client_id,
                        issuer=disc["issuer"], leeway=30, options={"require": ["exp", "iat", "sub"]})
    assert claims["nonce"] == nonce and claims["sub"], claims
    return claims


@pytest.mark.parametrize("client_id,secret,alg", [("rp", SECRET, "ES256"), ("rp", SECRET, "RS256"),
                                                  ("public-rp", None, "ES256")],
                         ids=["confidential-ES256", "confidential-RS256", "public-ES256"])
def test_the_whole_flow_as_a_relying_party_sees_it(idp, client_id, secret, alg):
    idp.alg = alg
    disc = requests.get(idp.base + "/.well-known/openid-configuration", timeout=10).json()
    assert disc["issuer"] == idp.base and disc["code_challenge_methods_supported"] == ["S256"]
    params, verifier = auth_request(client_id)
    got = sign_in(idp, params, "alice")
    assert set(got) == {"code", "state"} and got["state"] == params["state"]
    r = exchange(idp, got["code"], verifier, client_id, secret)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300 and body["access_token"]
    assert jwt.get_unverified_header(body["id_token"])["alg"] == alg
    assert verify(idp, body["id_token"], client_id, params["nonce"])["sub"] == "alice"
    entry = idp.token_log[-1]
    assert entry["basic"] == ((client_id, secret) if secret else None)
    assert entry["form"]["code_verifier"] == verifier
    # The code is good once.
    r = exchange(idp, got["code"], verifier, client_id, secret)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant", r.text
    assert idp.errors == []


def test_cancel_redirects_with_access_denied(idp):
    params, _ = auth_request()
    assert sign_in(idp, params, action="cancel") == {"error": "access_denied", "state": params["state"]}


@pytest.mark.parametrize("change,problem", [
    ({"client_id": "nobody"}, "unknown client_id"),
    ({"redirect_uri": REDIRECT + "x"}, "is not registered"),
    ({"response_type": "token"}, "response_type"),
    ({"scope": "profile"}, "has no 'openid'"),
    ({"state": None}, "no state"),
    ({"nonce": None}, "no nonce"),
    ({"code_challenge": None}, "no code_challenge"),
    ({"code_challenge_method": "plain"}, "code_challenge_method"),
    ({"code_challenge_method": None}, "code_challenge_method"),
])
def test_a_bad_authorization_request_is_a_page_not_a_redirect(idp, change, problem):
    params, _ = auth_request(**change)
    r = requests.get(idp.base + "/authorize", params=params, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and problem in r.text, r.text
    assert idp.errors and problem in idp.errors[-1]


@pytest.mark.parametrize("how,error,status", [
    ({"verifier": "x" * 43}, "invalid_grant", 400),
    ({"verifier": None}, "invalid_grant", 400),
    ({"secret": "wrong-secret-wrong-secret"}, "invalid_client", 401),
    ({"secret": None}, "invalid_client", 401),
    ({"extra": {"redirect_uri": REDIRECT + "x"}}, "invalid_grant", 400),
    ({"extra": {"grant_type": "refresh_token"}}, "unsupported_grant_type", 400),
    ({"extra": {"client_secret": SECRET}}, "invalid_request", 400),
])
def test_the_token_endpoint_refuses(idp, how, error, status):
    params, verifier = auth_request()
    got = sign_in(idp, params)
    r = exchange(idp, got["code"], how.get("verifier", verifier) if "verifier" in how else verifier,
                 secret=how.get("secret", SECRET) if "secret" in how else SECRET,
                 **how.get("extra", {}))
    assert r.status_code == status and r.json()["error"] == error, r.text
    assert "id_token" not in r.json()


def test_a_public_client_may_not_send_a_secret(idp):
    params, verifier = auth_request("public-rp")
    got = sign_in(idp, params)
    r = exchange(idp, got["code"], verifier, "public-rp", secret="anything-at-all-16")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text


REFUSED = {
    "bad_signature": jwt.InvalidSignatureError,
    "alg_none": jwt.InvalidTokenError,
    "hs256": jwt.InvalidTokenError,
    "unknown_kid": jwt.PyJWKClientError,
    "wrong_aud": jwt.InvalidAudienceError,
    "wrong_iss": jwt.InvalidIssuerError,
    "expired": jwt.ExpiredSignatureError,
    "future_iat": jwt.ImmatureSignatureError,
    "wrong_nonce": AssertionError,
    "no_sub": jwt.MissingRequiredClaimError,
    "empty_sub": AssertionError,
}


@pytest.mark.parametrize("tamper", sorted(REFUSED))
def test_each_tamper_makes_a_token_a_careful_rp_refuses(idp, tamper):
    assert tamper in TAMPERS
    params, verifier = auth_request()
    got = sign_in(idp, params)
    idp.tamper = tamper
    r = exchange(idp, got["code"], verifier)
    assert r.status_code == 200, r.text
    with pytest.raises(REFUSED[tamper]):
        verify(idp, r.json()["id_token"], "rp", params["nonce"])
    assert idp.tamper is None  # the next one is good again
    params, verifier = auth_request()
    got = sign_in(idp, params)
    verify(idp, exchange(idp, got["code"], verifier).json()["id_token"], "rp", params["nonce"])


@pytest.mark.parametrize("tamper", ["aud_array", "exp_in_leeway"])
def test_odd_but_valid_tokens_pass(idp, tamper):
    params, verifier = auth_request()
    got = sign_in(idp, params)
    idp.tamper = tamper
    r = exchange(idp, got["code"], verifier)
    verify(idp, r.json()["id_token"], "rp", params["nonce"])


def test_token_error_and_no_id_token(idp):
    params, verifier = auth_request()
    idp.tamper = "token_error"
    r = exchange(idp, sign_in(idp, params)["code"], verifier)
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    params, verifier = auth_request()
    idp.tamper = "no_id_token"
    r = exchange(idp, sign_in(idp, params)["code"], verifier)
    assert r.status_code == 200 and "id_token" not in r.json()


def test_runnable_prints_its_base_and_is_driven_over_http():
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("fake_idp.py")),
                             "--client-id", "rp", "--client-secret", SECRET],
                            stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", base), base
        r = requests.post(base + "/_test/clients", json={"client_id": "rp", "redirect_uris": [REDIRECT]},
                          timeout=10)
        assert r.status_code == 200
        assert requests.post(base + "/_test/tamper", json={"tamper": "nope"}, timeout=10).status_code == 400
        assert requests.post(base + "/_test/tamper", json={"tamper": "expired"}, timeout=10).status_code == 200
        params, verifier = auth_request()
        r = requests.get(base + "/authorize?" + urlencode(params), timeout=10)
        form_id = re.search(r'name="form_id" value="([^"]+)"', r.text).group(1)
        r = requests.post(base + "/authorize", data={"form_id": form_id, "username": "bob"},
                          allow_redirects=False, timeout=10)
        code = parse_qs(urlparse(r.headers["Location"]).query)["code"][0]
        r = requests.post(base + "/token", auth=("rp", SECRET), timeout=10, data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": verifier})
        claims = jwt.decode(r.json()["id_token"], options={"verify_signature": False})
        assert claims["sub"] == "bob" and claims["exp"] < time.time()
        log = requests.get(base + "/_test/log", timeout=10).json()
        assert log["token"][-1]["basic"] == ["rp", SECRET] and log["errors"] == []
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
