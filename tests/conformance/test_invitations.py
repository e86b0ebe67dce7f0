"""Invitations signed by the protected site, and one place per person (issue 20, items 3 and 4;
docs/admission.md, "Invitations").

- ES256, RS256 and HS256 invitations are taken, with their lane; every forgery class (alg none,
  HS256 signed with the public key, another key, a changed payload, an unknown kid, expired, too
  far ahead, not yet valid, another room, no sub, no jti, another address) and a replay is refused
  with a 401 problem and changes nothing;
- invite_only refuses joins without one, on the API and the page (which says why and has no join
  button); the page carries ?invite= through its join form;
- the place belongs to the identity: a second invitation for the same sub, from another client,
  answers the same ticket (max_places_per_identity places at most), and an identity whose place
  is over gets a new one;
- the keys are settings: public keys shown, HS256 secrets hidden and kept, bad keys refused;
- used invitations and identities' places survive a compaction and a restart;
- keys from the room's jwks_url: an ES256 key of the JWKS is used, a key the JWKS gains later is
  found (an unknown kid fetches it again), an "oct" key in it is never used, a JWKS URL that fails
  from the start refuses joins with 503, and only https:// (or http:// to loopback) URLs are taken.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conflib import now_ms
from wrlib import assert_problem, describe, unique_room

EC_KEY = ec.generate_private_key(ec.SECP256R1())
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_EC_KEY = ec.generate_private_key(ec.SECP256R1())
HS_SECRET = "an HS256 secret shared with the shop, 32+ bytes long"


def public_pem(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


KEYS = [{"kid": "shop-ec", "alg": "ES256", "public_key": public_pem(EC_KEY)},
        {"kid": "shop-rsa", "alg": "RS256", "public_key": public_pem(RSA_KEY)},
        {"kid": "shop-hs", "alg": "HS256", "secret": HS_SECRET}]
SIGNERS = {"shop-ec": ("ES256", EC_KEY), "shop-rsa": ("RS256", RSA_KEY),
           "shop-hs": ("HS256", HS_SECRET.encode())}


@pytest.fixture(scope="module")
def server(clock_server):
    return clock_server


def invitation(srv, room, kid="shop-ec", signer=None, **claims):
    """An invitation for `room` signed with the registered key `kid` (or with `signer`, an (alg,
    key) pair), valid for an hour of the server's (test) clock; claims override the defaults, and
    a claim given as None is left out."""
    alg, key = signer or SIGNERS[kid]
    body = {"aud": room, "sub": f"acct-{uuid.uuid4().hex[:8]}", "jti": uuid.uuid4().hex,
            "exp": now_ms(srv) // 1000 + 3600}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return pyjwt.encode(body, key, algorithm=alg, headers={"kid": kid})


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_hs256(header, claims, secret):
    """A JWT signed by hand: PyJWT rightly refuses a PEM as an HMAC secret."""
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return head + "." + b64(hmac.new(secret, head.encode(), hashlib.sha256).digest())


def invited_room(srv, **settings):
    cfg = {"invitations": {"keys": KEYS}, "lanes": [{"name": "vip", "share": 0.3}],
           "ticket_idle_timeout_s": 0}
    cfg.update(settings)
    return srv.create_room(unique_room("inv"), **cfg)


def join(srv, room, invite=None, cookie=None, **body):
    if invite is not None:
        body["invite"] = invite
    return srv.enqueue(room, cookie=cookie, json=body)


def queue_counter(srv, room):
    return srv.stats(room)["queue_counter"]


def test_each_kind_of_key_is_taken_with_its_lane(server):
    room = invited_room(server)
    for kid in ("shop-ec", "shop-rsa", "shop-hs"):
        r = join(server, room, invitation(server, room, kid))
        assert r.status_code == 201, describe(r)
        assert r.json()["lane"] == "default"
        assert f"waitroom_{room}=" in r.headers.get("Set-Cookie", "")
    r = join(server, room, invitation(server, room, lane="vip"))
    assert r.status_code == 201, describe(r)
    assert r.json()["lane"] == "vip"
    # A lane the room does not have is the site's mistake, said plainly.
    r = join(server, room, invitation(server, room, lane="gold"))
    assert "gold" in assert_problem(r, 401)["detail"]


def forgeries(server, room):
    """(what, token) for every class of forged or unusable invitation."""
    now = now_ms(server) // 1000
    good = {"aud": room, "sub": "acct-1", "exp": now + 600}
    out = []
    for alg_name in ("none", "None", "NONE"):
        header = b64(json.dumps({"alg": alg_name, "kid": "shop-ec", "typ": "JWT"}).encode())
        payload = b64(json.dumps({**good, "jti": uuid.uuid4().hex}).encode())
        out.append((f"alg {alg_name}", f"{header}.{payload}."))
    # HS256 with the ES256 key's public PEM as the secret (the key-confusion attack).
    out.append(("HS256 signed with the public key",
                signed_hs256({"alg": "HS256", "kid": "shop-ec", "typ": "JWT"},
                             {**good, "jti": "x1"}, public_pem(EC_KEY).encode())))
    out.append(("another key under the room's kid",
                pyjwt.encode({**good, "jti": "x2"}, OTHER_EC_KEY, algorithm="ES256",
                             headers={"kid": "shop-ec"})))
    token = invitation(server, room, sub="acct-1")
    head, payload, sig = token.split(".")
    changed = b64(json.dumps({**good, "sub": "acct-2", "jti": "x3"}).encode())
    out.append(("a changed payload", f"{head}.{changed}.{sig}"))
    out.append(("an unknown kid", pyjwt.encode({**good, "jti": "x4"}, OTHER_EC_KEY,
                                              algorithm="ES256", headers={"kid": "nobody"})))
    out.append(("expired", invitation(server, room, exp=now - 120)))
    out.append(("exp 31 days ahead", invitation(server, room, exp=now + 31 * 86400)))
    out.append(("not yet valid", invitation(server, room, nbf=now + 600)))
    out.append(("no exp", invitation(server, room, exp=None)))
    out.append(("another room", invitation(server, room, aud=room + "-other")))
    out.append(("no aud", invitation(server, room, aud=None)))
    out.append(("no sub", invitation(server, room, sub=None)))
    out.append(("an empty sub", invitation(server, room, sub="")))
    out.append(("no jti", invitation(server, room, jti=None)))
    out.append(("a bad ip claim", invitation(server, room, ip="not-an-address")))
    out.append(("not a JWT", "hello"))
    out.append(("too big", invitation(server, room, pad="x" * 5000)))
    return out


def test_every_forgery_and_a_replay_is_refused_and_changes_nothing(server):
    room = invited_room(server)
    before = queue_counter(server, room)
    for what, token in forgeries(server, room):
        r = join(server, room, token)
        body = assert_problem(r, 401)
        assert body["detail"].startswith("invitation"), f"{what}: {body['detail']}"
        assert "Set-Cookie" not in r.headers, what
    assert queue_counter(server, room) == before, "a refused invitation took a place"
    # Used once, refused after, from any client.
    token = invitation(server, room)
    assert join(server, room, token).status_code == 201
    r = join(server, room, token)
    assert "used already" in assert_problem(r, 401)["detail"]
    assert queue_counter(server, room) == before + 1
    # Not a string, and a code with an invitation: 400.
    assert_problem(join(server, room, 42), 400)
    code = server.post(f"/admin/v1/rooms/{room}/codes", admin=True, json={"lane": "vip"})
    assert code.status_code == 201, describe(code)
    r = join(server, room, invitation(server, room), code=code.json()["code"])
    assert "not both" in assert_problem(r, 400)["detail"]


def test_a_room_without_keys_takes_no_invitation(server):
    room = server.create_room(unique_room("nokeys"))
    r = join(server, room, invitation(server, room))
    assert "no invitation keys" in assert_problem(r, 401)["detail"]


def test_an_invitation_bound_to_an_address_works_only_from_it(server):
    room = invited_room(server)
    assert join(server, room, invitation(server, room, ip="127.0.0.1")).status_code == 201
    r = join(server, room, invitation(server, room, ip="192.0.2.7"))
    assert "another address" in assert_problem(r, 401)["detail"]


def test_invite_only_refuses_joins_without_an_invitation(server):
    room = invited_room(server, invite_only=True)
    r = join(server, room)
    assert "invitation only" in assert_problem(r, 401)["detail"]
    # AWS's API has no way to send one: its joins are refused too.
    r = server.post("/aws/assign_queue_num", json={"event_id": room})
    assert r.status_code == 401, describe(r)
    assert join(server, room, invitation(server, room)).status_code == 201
    # The page: no join button without an invitation, and why.
    page = server.get(f"/r/{room}", headers={"Accept-Language": "en"})
    assert page.status_code == 200, describe(page)
    assert "invitation only" in page.text
    assert f'action="/r/{room}/join"' not in page.text
    # With ?invite= the form carries it, and joining through it takes the place.
    token = invitation(server, room, lane="vip")
    page = server.get(f"/r/{room}", params={"invite": token})
    assert re.search(r'<input type="hidden" name="invite" value="' + re.escape(token), page.text)
    r = server.post(f"/r/{room}/join", data={"invite": token})
    assert r.status_code == 303, describe(r)
    cookie = re.search(rf"waitroom_{room}=([^;]+)", r.headers["Set-Cookie"]).group(1)
    t = server.ticket(room, cookie).json()
    assert t["lane"] == "vip"
    # The same form sent again (a reload) answers the same place; the link used from elsewhere
    # is refused, and the page says so.
    r = server.post(f"/r/{room}/join", data={"invite": token},
                    headers={"Cookie": f"waitroom_{room}={cookie}"})
    assert r.status_code == 303, describe(r)
    assert "Set-Cookie" not in r.headers
    r = server.post(f"/r/{room}/join", data={"invite": token}, headers={"Accept-Language": "en"})
    assert r.status_code == 401, describe(r)
    assert "This invitation link does not work" in r.text
    r = server.post(f"/r/{room}/join", data={}, headers={"Accept-Language": "en"})
    assert r.status_code == 401 and "invitation only" in r.text, describe(r)


def test_the_place_belongs_to_the_identity_on_any_device(server):
    room = invited_room(server)
    laptop = join(server, room, invitation(server, room, sub="acct-42"))
    assert laptop.status_code == 201, describe(laptop)
    ticket = laptop.json()["ticket"]
    # The phone: a fresh invitation for the same account, no cookie: the same place, and the
    # phone now holds its cookie.
    phone = join(server, room, invitation(server, room, sub="acct-42"))
    assert phone.status_code == 200, describe(phone)
    assert phone.json()["ticket"] == ticket
    assert f"waitroom_{room}={ticket}" in phone.headers.get("Set-Cookie", "")
    # A visitor waiting already who opens an invitation link for the account holds its place
    # from then on, and gives up the one they had.
    own = server.enqueue_ok(room)
    r = join(server, room, invitation(server, room, sub="acct-42"), cookie=own["ticket"])
    assert r.status_code == 200 and r.json()["ticket"] == ticket, describe(r)
    assert server.ticket(room, own["ticket"]).json()["status"] == "expired"
    # Once the place is over, the account may take a new one.
    server.advance(room, by=10)
    assert server.pass_for(room, ticket).status_code == 200
    assert server.set_session(room, ticket, "completed").status_code == 200
    again = join(server, room, invitation(server, room, sub="acct-42"))
    assert again.status_code == 201 and again.json()["ticket"] != ticket, describe(again)


def test_max_places_per_identity_allows_that_many(server):
    room = invited_room(server, max_places_per_identity=2)
    first = join(server, room, invitation(server, room, sub="family")).json()["ticket"]
    second = join(server, room, invitation(server, room, sub="family"))
    assert second.status_code == 201, describe(second)
    third = join(server, room, invitation(server, room, sub="family"))
    assert third.status_code == 200 and third.json()["ticket"] == second.json()["ticket"]
    assert first != second.json()["ticket"]


def test_keys_are_settings_with_their_secrets_kept(server):
    room = invited_room(server)
    shown = server.admin_room(room)["invitations"]["keys"]
    assert [k["kid"] for k in shown] == ["shop-ec", "shop-rsa", "shop-hs"]
    assert shown[0]["public_key"] == KEYS[0]["public_key"]
    assert "secret" not in shown[2]
    # What a GET shows, PUT back, keeps the HS256 secret.
    r = server.put(f"/admin/v1/rooms/{room}", admin=True,
                   json={"invitations": {"keys": shown}, "invite_only": True})
    assert r.status_code == 200, describe(r)
    assert join(server, room, invitation(server, room, "shop-hs")).status_code == 201
    bad = [
        ({"invitations": {"keys": [{"kid": "k", "alg": "ES256", "public_key": "garbage"}]}},
         "public_key"),
        ({"invitations": {"keys": [{"kid": "k", "alg": "ES256",
                                    "public_key": public_pem(RSA_KEY)}]}}, "public_key"),
        ({"invitations": {"keys": [{"kid": "k", "alg": "HS256", "secret": "short"}]}}, "secret"),
        ({"invitations": {"keys": [{"kid": "k", "alg": "none", "secret": HS_SECRET}]}}, "alg"),
        ({"invitations": {"keys": [KEYS[0], KEYS[0]]}}, "twice"),
        ({"invitations": {"keys": []}, "invite_only": True}, "invite_only"),
        ({"max_places_per_identity": 0}, "max_places_per_identity"),
    ]
    for settings, word in bad:
        r = server.put(f"/admin/v1/rooms/{room}", admin=True, json=settings)
        assert word in assert_problem(r, 400)["detail"], settings
    assert server.admin_room(room)["invite_only"] is True


def test_used_invitations_and_places_survive_compaction_and_restart(fresh_clock_server):
    srv = server = fresh_clock_server
    room = invited_room(srv)
    used = invitation(server, room, sub="acct-7")
    ticket = join(srv, room, used).json()["ticket"]
    assert srv.post("/admin/v1/compact", admin=True, timeout=60).status_code == 200
    later = invitation(server, room, sub="acct-8")
    later_ticket = join(srv, room, later).json()["ticket"]
    srv.restart()
    for token in (used, later):
        assert "used already" in assert_problem(join(srv, room, token), 401)["detail"]
    for sub, t in (("acct-7", ticket), ("acct-8", later_ticket)):
        r = join(srv, room, invitation(server, room, sub=sub))
        assert r.status_code == 200 and r.json()["ticket"] == t, describe(r)


# ---- keys from the room's jwks_url ------------------------------------------------------------

JWKS_EC_KEY = ec.generate_private_key(ec.SECP256R1())
LATER_EC_KEY = ec.generate_private_key(ec.SECP256R1())
OCT_SECRET = b"a symmetric key the JWKS must never lend to anyone"


def ec_jwk(key, kid):
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}


class JwksSite:
    """The protected site's JWKS on 127.0.0.1 (a free port): /jwks.json answers {"keys": keys},
    whatever `keys` holds when asked; /broken answers 500."""

    def __init__(self):
        self.keys = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path == "/jwks.json":
                    status, body = 200, json.dumps({"keys": site.keys}).encode()
                else:
                    status, body = 500, b"broken"
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def jwks_site():
    site = JwksSite()
    yield site
    site.close()


def test_keys_from_the_rooms_jwks_url(server, jwks_site):
    jwks_site.keys = [ec_jwk(JWKS_EC_KEY, "site-1"),
                      {"kty": "oct", "kid": "site-oct", "alg": "HS256", "k": b64(OCT_SECRET)}]
    url = jwks_site.url("/jwks.json")
    # A JWKS URL alone is enough for invite_only.
    room = server.create_room(unique_room("jwks"), invite_only=True,
                              invitations={"jwks_url": url}, ticket_idle_timeout_s=0)
    shown = server.admin_room(room)["invitations"]
    assert shown["jwks_url"] == url and shown["keys"] == []
    r = join(server, room, invitation(server, room, "site-1", signer=("ES256", JWKS_EC_KEY)))
    assert r.status_code == 201, describe(r)
    # A key the site publishes later is found: a kid the cached keys lack fetches the JWKS again,
    # at most once per 10 s of the server's clock.
    jwks_site.keys = jwks_site.keys + [ec_jwk(LATER_EC_KEY, "site-2")]
    server.advance_clock(10_000)
    r = join(server, room, invitation(server, room, "site-2", signer=("ES256", LATER_EC_KEY)))
    assert r.status_code == 201, describe(r)
    # The JWKS's "oct" key checks nothing: its kid is as good as unknown.
    now = now_ms(server) // 1000
    forged = signed_hs256({"alg": "HS256", "kid": "site-oct", "typ": "JWT"},
                          {"aud": room, "sub": "acct-oct", "jti": uuid.uuid4().hex,
                           "exp": now + 600}, OCT_SECRET)
    detail = assert_problem(join(server, room, forged), 401)["detail"]
    assert 'signed with key "site-oct", which neither the room nor its JWKS has' in detail
    # Nor does the token choose the algorithm of a JWKS key.
    confused = signed_hs256({"alg": "HS256", "kid": "site-1", "typ": "JWT"},
                            {"aud": room, "sub": "acct-hs", "jti": uuid.uuid4().hex,
                             "exp": now + 600}, OCT_SECRET)
    assert "alg" in assert_problem(join(server, room, confused), 401)["detail"]


def test_a_jwks_url_failing_from_the_start_refuses_joins_with_503(server, jwks_site):
    room = server.create_room(unique_room("jwks500"),
                              invitations={"jwks_url": jwks_site.url("/broken")})
    r = join(server, room, invitation(server, room, "site-1", signer=("ES256", JWKS_EC_KEY)))
    assert "cannot be fetched" in assert_problem(r, 503)["detail"]
    assert r.headers.get("Retry-After") == "10", describe(r)


def test_a_jwks_url_is_https_or_http_to_loopback(server):
    room = server.create_room(unique_room("jwksurl"))
    for url in ("http://shop.example/.well-known/jwks.json", "ftp://127.0.0.1/jwks.json",
                "https://user@shop.example/jwks.json"):
        r = server.put(f"/admin/v1/rooms/{room}", admin=True,
                       json={"invitations": {"jwks_url": url}})
        assert "jwks_url" in assert_problem(r, 400)["detail"], url
    r = server.put(f"/admin/v1/rooms/{room}", admin=True,
                   json={"invitations": {"jwks_url": "https://shop.example/.well-known/jwks.json"}})
    assert r.status_code == 200, describe(r)
