"""The JWT attack suite: every known way of forging or stretching a pass, against every place that
checks one — the forward-auth gate (cookie and Bearer), the OpenID Connect adapter's userinfo
(its access tokens are JWTs too) and the C++ verify library (examples/verify_pass).

The gate and the adapter compare a pass with what the server issued, so any change is refused;
the library trusts only the JWKS it was given, the key's own algorithm and the claims. For the
claim checks the library is also given an attacker-held key as if it were trusted, so that an
expired, not-yet-valid, wrong-audience or wrong-issuer pass is refused for its claims alone.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import time
from pathlib import Path

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from test_gate import admitted_pass, check
from test_oidc import issued, jwt_claims, jwt_header, oidc_room, userinfo
from wrlib import TEST_CLOCK_CONFIG, describe

VERIFY_EXAMPLE = Path(os.environ.get("WAITROOM_BIN", "build/asan/waitroom")).parent / "verify_pass"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def part(obj) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def hs256(header, claims, secret: bytes) -> str:
    signing_input = f"{part(header)}.{part(claims)}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


ATTACKER_EC = ec.generate_private_key(ec.SECP256R1())
ATTACKER_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def signed(claims, kid, alg="ES256", key=None, extra_header=None):
    key = key or (ATTACKER_EC if alg == "ES256" else ATTACKER_RSA)
    return pyjwt.encode(claims, key, algorithm=alg, headers={"kid": kid, **(extra_header or {})})


def public_jwk(key, kid):
    # Coordinates written as 32 bytes each, as RFC 7518 says: PyJWT 2.6's to_jwk drops leading
    # zero bytes, so about one key in 128 came out short and was refused (seen once in CI).
    n = key.public_key().public_numbers()
    coordinate = lambda v: base64.urlsafe_b64encode(v.to_bytes(32, "big")).rstrip(b"=").decode()
    return {"kty": "EC", "crv": "P-256", "x": coordinate(n.x), "y": coordinate(n.y), "kid": kid,
            "alg": "ES256", "use": "sig"}


def attacks(token, jwks):
    """Forgeries made from a genuine token and the server's public keys: name → token."""
    head, payload, sig = token.split(".")
    header, claims = jwt_header(token), jwt_claims(token)
    kid = header["kid"]
    key = next(k for k in jwks["keys"] if k["kid"] == kid)
    public_pem = pyjwt.algorithms.ECAlgorithm.from_jwk(json.dumps(key)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo) \
        if key["kty"] == "EC" else pyjwt.algorithms.RSAAlgorithm.from_jwk(json.dumps(key)).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    later = int(time.time()) + 3600
    duplicate_exp = (json.dumps(claims)[:-1] + ', "exp": %d}' % later).encode()  # last one wins in some parsers
    out = {
        # alg none, in the spellings libraries have accepted
        "alg none": f"{part({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "alg None with the old signature": f"{part({**header, 'alg': 'None'})}.{payload}.{sig}",
        "alg NONE": f"{part({'alg': 'NONE'})}.{payload}.",
        # algorithm confusion: the public key (PEM or JWK text) as an HMAC secret
        "HS256 keyed with the public key PEM": hs256({**header, "alg": "HS256"}, claims, public_pem),
        "HS256 keyed with the JWK text": hs256({**header, "alg": "HS256"}, claims, json.dumps(key).encode()),
        "RS256 header on the EC key": signed(claims, kid, alg="RS256"),
        "ES256 by another key under the real kid": signed(claims, kid),
        # kid tricks: paths, injections, and keys carried in the header itself
        "kid ../ path to /dev/null, empty HMAC secret": hs256({"alg": "HS256", "kid": "../../../../../../dev/null"}, claims, b""),
        "kid absolute path": hs256({"alg": "HS256", "kid": "/etc/passwd"}, claims, b"root:x:0:0"),
        "kid into the data dir": signed(claims, "keys/../keys/manifest.json"),
        "kid SQL injection": signed(claims, "x' UNION SELECT 'secret' --"),
        "kid with a NUL byte": signed(claims, kid + "\u0000"),
        "kid missing": pyjwt.encode(claims, ATTACKER_EC, algorithm="ES256"),
        "embedded jwk header": signed(claims, kid, extra_header={"jwk": public_jwk(ATTACKER_EC, kid)}),
        "jku header to an attacker's keys": signed(claims, kid, extra_header={"jku": "http://127.0.0.1:9/jwks.json"}),
        "x5u header": signed(claims, kid, extra_header={"x5u": "http://127.0.0.1:9/cert.pem"}),
        # tampered claims under the genuine signature
        "exp pushed back an hour": f"{head}.{part({**claims, 'exp': later})}.{sig}",
        "queue_position moved": f"{head}.{part({**claims, 'queue_position': claims['queue_position'] + 1000})}.{sig}",
        "aud changed": f"{head}.{part({**claims, 'aud': 'another-room'})}.{sig}",
        "iss changed": f"{head}.{part({**claims, 'iss': 'evil'})}.{sig}",
        "payload with a duplicate exp": f"{head}.{b64(duplicate_exp)}.{sig}",
        "signature stripped": f"{head}.{payload}.",
        "signature bit-flipped": f"{head}.{payload}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}",
        "header and payload swapped": f"{payload}.{head}.{sig}",
        "two tokens glued": f"{token}.{token}",
        # sizes
        "oversized (9 kB of claims)": signed({**claims, "pad": "x" * 9000}, kid),
        "empty": "",
        "dots only": "..",
    }
    return out


def test_every_forgery_is_refused_by_the_gate(server):
    room = server.create_room()
    _, token = admitted_pass(server, room)
    jwks = server.jwks()
    failures = []
    for name, bad in attacks(token, jwks).items():
        for by_cookie in (True, False):
            if not bad and by_cookie:
                continue  # an empty cookie is no cookie
            r = check(server, room, bad, cookie=by_cookie, on_fail="401")
            if r.status_code not in (401, 431) or r.headers.get("X-Waitroom-Ticket"):
                failures.append(f"{name} ({'cookie' if by_cookie else 'bearer'}): {describe(r)}")
    assert not failures, "\n".join(failures)
    assert check(server, room, token).status_code == 204  # the genuine pass still works
    assert server.alive()


def test_every_forgery_is_refused_by_userinfo(server):
    room = oidc_room(server)
    tokens, _ = issued(server, room)
    access = tokens["access_token"]
    failures = []
    for name, bad in attacks(access, oidc_jwks(server, room)).items():
        if not bad:
            continue  # no token at all is a different answer (invalid_request), tested in test_oidc
        r = userinfo(server, room, bad)
        if r.status_code not in (401, 431) or '"sub"' in r.text:
            failures.append(f"{name}: {describe(r)}")
    assert not failures, "\n".join(failures)
    assert userinfo(server, room, access).status_code == 200


def oidc_jwks(srv, room):
    r = srv.get(f"/oidc/{room}/jwks.json")
    assert r.status_code == 200, describe(r)
    return r.json()


def test_expired_pass_is_refused_everywhere(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = oidc_room(srv, pass_lifetime_s=60)
    _, token = admitted_pass(srv, room)
    tokens, _ = issued(srv, room)
    assert check(srv, room, token).status_code == 204
    srv.advance_clock(61_000)
    assert check(srv, room, token, on_fail="401").status_code == 401
    assert userinfo(srv, room, tokens["access_token"]).status_code == 401


# ---- the C++ verify library ------------------------------------------------------------------------

def run_verify(jwks_file, room, issuer, token):
    r = subprocess.run([str(VERIFY_EXAMPLE), "--jwks", str(jwks_file), "--room", room, "--issuer", issuer, "-"],
                       input=token, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


@pytest.fixture
def library(server, tmp_path):
    """A room, a genuine pass, and a JWKS file with the server's keys plus one attacker-held key
    the library is told to trust (kid "trusted-test-key")."""
    if not VERIFY_EXAMPLE.exists():
        pytest.fail(f"{VERIFY_EXAMPLE} is not built")
    room = server.create_room()
    _, token = admitted_pass(server, room)
    jwks = server.jwks()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": jwks["keys"] + [public_jwk(ATTACKER_EC, "trusted-test-key")]}))
    return room, token, jwks, path


def test_every_forgery_is_refused_by_the_verify_library(library):
    room, token, jwks, path = library
    rc, out = run_verify(path, room, "waitroom", token)
    assert rc == 0 and "valid pass" in out, out  # the genuine pass, as the control
    failures = []
    for name, bad in attacks(token, jwks).items():
        if not bad:
            continue  # the example reads the pass from stdin; empty is a usage error there
        rc, out = run_verify(path, room, "waitroom", bad)
        if rc != 1 or "refused" not in out:
            failures.append(f"{name}: exit {rc}: {out.strip()}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("change, reason", [
    ({"exp": -3600}, "expired"),
    ({"nbf": 3600, "iat": 3600}, "not_yet_valid"),
    ({"aud": "another-room"}, "audience"),
    ({"iss": "evil"}, "issuer"),
])
def test_the_library_checks_claims_even_under_a_trusted_key(library, change, reason):
    room, token, _, path = library
    now = int(time.time())
    claims = {**jwt_claims(token), "iat": now, "nbf": now, "exp": now + 600}
    good = signed(claims, "trusted-test-key")
    rc, out = run_verify(path, room, "waitroom", good)
    assert rc == 0, out  # the control: the same key and fresh claims pass
    bad_claims = {**claims, **{k: (v if isinstance(v, str) else now + v) for k, v in change.items()}}
    rc, out = run_verify(path, room, "waitroom", signed(bad_claims, "trusted-test-key"))
    assert rc == 1 and "refused" in out, out
    assert reason in out.replace(" ", "_").lower(), out
