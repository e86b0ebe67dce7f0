"""Passes are JWTs that verify with PyJWT against the served JWKS, for ES256 and
RS256 rooms, with every claim checked — before and after a key rotation."""

import json
import time

import jwt
import pytest

from wrlib import ROOM_CONFIG, assert_json, describe

CLOCK_SKEW_S = 5


class Jwks:
    """Keys built from /.well-known/jwks.json; the algorithm comes from the key."""

    def __init__(self, body):
        self.raw = {k["kid"]: k for k in body["keys"]}
        self.keys = {kid: jwt.PyJWK(k) for kid, k in self.raw.items()}

    def verify(self, token, audience, issuer):
        header = jwt.get_unverified_header(token)
        kid = header["kid"]
        assert kid in self.keys, f"kid {kid} not in JWKS {list(self.keys)}"
        jwk = self.raw[kid]
        return jwt.decode(token, key=self.keys[kid].key, algorithms=[jwk["alg"]], audience=audience,
                          issuer=issuer, options={"require": ["exp", "iat", "nbf", "iss", "aud",
                                                              "sub", "jti"]})


def fetch_jwks(srv):
    return Jwks(srv.jwks())


def admit(srv, room):
    """A ticket with a pass: (ticket body, pass body, time before the request)."""
    t = srv.enqueue_ok(room)
    if srv.room_status(room)["serving"] < t["position"]:
        srv.advance(room, to=t["position"])
    before = int(time.time())
    r = srv.pass_for(room, t["ticket"])
    p = assert_json(r, 200)
    return t, p, before


def check_pass(srv, jwks, room, t, p, before, expect_alg):
    cfg = ROOM_CONFIG[room]
    token = p["pass"]
    header = jwt.get_unverified_header(token)
    assert header["alg"] == expect_alg and header["typ"] == "JWT", header
    assert isinstance(header["kid"], str) and header["kid"], header
    assert jwks.raw[header["kid"]]["alg"] == expect_alg
    claims = jwks.verify(token, audience=cfg["audience"], issuer=cfg["issuer"])
    now = int(time.time())
    assert claims["iss"] == cfg["issuer"]
    assert claims["aud"] == cfg["audience"]
    assert claims["sub"] == t["ticket"]
    assert claims["queue_position"] == t["position"] and type(claims["queue_position"]) is int
    assert claims["token_use"] == "access"
    assert isinstance(claims["jti"], str) and len(claims["jti"]) >= 16, claims
    for k in ("exp", "iat", "nbf"):
        assert type(claims[k]) is int, claims
    assert before - CLOCK_SKEW_S <= claims["iat"] <= now + CLOCK_SKEW_S, claims
    assert claims["nbf"] <= claims["iat"] + 1, claims
    assert claims["exp"] - claims["iat"] == cfg["pass_lifetime_s"], claims
    assert p["expires_at"] == claims["exp"], (p, claims)
    assert abs(p["expires_in"] - (claims["exp"] - now)) <= CLOCK_SKEW_S, (p, claims)
    return header, claims


@pytest.mark.parametrize("room,alg", [("demo", "ES256"), ("legacy", "RS256")])
def test_pass_verifies_with_jwks(server, room, alg):
    jwks = fetch_jwks(server)
    t, p, before = admit(server, room)
    check_pass(server, jwks, room, t, p, before, alg)


@pytest.mark.parametrize("room,alg", [("demo", "ES256"), ("legacy", "RS256")])
def test_pass_verifies_with_pyjwkclient(server, room, alg):
    t, p, _ = admit(server, room)
    client = jwt.PyJWKClient(server.url("/.well-known/jwks.json"), cache_keys=False)
    key = client.get_signing_key_from_jwt(p["pass"])
    cfg = ROOM_CONFIG[room]
    claims = jwt.decode(p["pass"], key.key, algorithms=[alg], audience=cfg["audience"],
                        issuer=cfg["issuer"])
    assert claims["sub"] == t["ticket"]


def test_jti_unique_and_tampering_detected(server):
    jwks = fetch_jwks(server)
    seen = set()
    for room in ("demo", "legacy", "demo", "legacy"):
        t, p, _ = admit(server, room)
        cfg = ROOM_CONFIG[room]
        claims = jwks.verify(p["pass"], cfg["audience"], cfg["issuer"])
        assert claims["jti"] not in seen
        seen.add(claims["jti"])
        # change one claim, keep the signature: must not verify
        h, body, sig = p["pass"].split(".")
        forged = dict(claims, queue_position=1)
        forged_body = jwt.utils.base64url_encode(json.dumps(forged).encode()).decode()
        with pytest.raises(jwt.InvalidSignatureError):
            jwks.verify(f"{h}.{forged_body}.{sig}", cfg["audience"], cfg["issuer"])


def test_wrong_audience_rejected(server):
    jwks = fetch_jwks(server)
    _, p, _ = admit(server, "demo")
    with pytest.raises(jwt.InvalidAudienceError):
        jwks.verify(p["pass"], audience="legacy", issuer=ROOM_CONFIG["demo"]["issuer"])


def test_rotation_keeps_old_passes_valid_and_new_passes_use_new_kid(fresh_server):
    srv = fresh_server
    old = {}
    jwks0 = fetch_jwks(srv)
    for room, alg in (("demo", "ES256"), ("legacy", "RS256")):
        t, p, before = admit(srv, room)
        header, _ = check_pass(srv, jwks0, room, t, p, before, alg)
        old[room] = (t, p, header["kid"])

    r = srv.post("/admin/v1/keys/rotate", admin=True)
    assert r.status_code == 200, describe(r)

    jwks1 = fetch_jwks(srv)
    for room, alg in (("demo", "ES256"), ("legacy", "RS256")):
        t, p, kid = old[room]
        assert kid in jwks1.keys, f"rotated-out key {kid} vanished from JWKS"
        cfg = ROOM_CONFIG[room]
        claims = jwks1.verify(p["pass"], cfg["audience"], cfg["issuer"])
        assert claims["sub"] == t["ticket"]
        # re-fetching the old pass still gives the same string (signed once, kept)
        again = assert_json(srv.pass_for(room, t["ticket"]), 200)
        assert again["pass"] == p["pass"]

        t2, p2, before2 = admit(srv, room)
        header2, _ = check_pass(srv, jwks1, room, t2, p2, before2, alg)
        assert header2["kid"] != kid, "new pass signed with the old key"

    # keys survive a restart: old and new passes still verify with the served JWKS
    srv.restart()
    jwks2 = fetch_jwks(srv)
    for room in ("demo", "legacy"):
        t, p, kid = old[room]
        cfg = ROOM_CONFIG[room]
        jwks2.verify(p["pass"], cfg["audience"], cfg["issuer"])
