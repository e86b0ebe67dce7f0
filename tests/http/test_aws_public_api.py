"""The AWS-compatible public API under /aws (the Virtual Waiting Room on AWS's public
endpoints, with `event_id` = room name): shapes, statuses, error messages, CORS, and
that it shares one line, one serving counter and one pass per ticket with the native API.

Reference: /work/shared/reference/aws-vwr.md sections 2 and 4. Deliberate differences
from AWS: enqueue is synchronous (a fresh id is known to /queue_num at once), an unknown
id on /queue_num is 404 (AWS: 202), request ids must match the whole 8-4-4-4-12 lowercase
hex shape (AWS only anchors at the start), and serving_counter is a JSON number.
"""

import json
import time

import jwt
import pytest

from wrlib import TEST_CLOCK_CONFIG, TICKET_RE, assert_json, aws_error, aws_json, describe, random_ticket_id

CLOCK_SKEW_S = 5
PASS_LIFETIME_S = 600
ISSUER = "https://aws-compat.waitroom.example"
CORS_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"

POST_PATHS = ["/aws/assign_queue_num", "/aws/generate_token"]
GET_PATHS = ["/aws/queue_num", "/aws/serving_num", "/aws/waiting_num", "/aws/queue_pos_expiry",
             "/aws/public_key"]

# Request ids that are not exactly a lowercase 8-4-4-4-12 hex UUID.
_VALID = "0f8b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
MALFORMED_IDS = [
    pytest.param(_VALID.upper(), id="uppercase"),
    pytest.param(_VALID + "x", id="valid-prefix-plus-garbage"),
    pytest.param(_VALID + "-0000", id="valid-prefix-plus-more-groups"),
    pytest.param(_VALID[:-1], id="one-char-short"),
    pytest.param(_VALID.replace("-", ""), id="no-dashes"),
    pytest.param("g" + _VALID[1:], id="non-hex"),
    pytest.param("{" + _VALID + "}", id="braces"),
    pytest.param(" " + _VALID, id="leading-space"),
    pytest.param("0f8b1c2d_3e4f_4a5b_8c6d_7e8f9a0b1c2d", id="underscores"),
]


# ---- helpers -------------------------------------------------------------------------------



def rs_room(srv, **cfg):
    cfg.setdefault("pass_lifetime_s", PASS_LIFETIME_S)
    cfg.setdefault("issuer", ISSUER)
    return srv.create_room(algorithm="RS256", **cfg)


def es_room(srv, **cfg):
    cfg.setdefault("pass_lifetime_s", PASS_LIFETIME_S)
    cfg.setdefault("issuer", ISSUER)
    return srv.create_room(algorithm="ES256", **cfg)


def assign(srv, room):
    r = srv.post("/aws/assign_queue_num", json={"event_id": room})
    body = aws_json(r, 200)
    return body["api_request_id"]


def queue_num(srv, room, rid):
    return srv.get("/aws/queue_num", params={"event_id": room, "request_id": rid})


def generate(srv, room, rid, **extra):
    return srv.post("/aws/generate_token", json={"event_id": room, "request_id": rid, **extra})


def served(srv, room):
    """A request id whose position is being served."""
    rid = assign(srv, room)
    pos = aws_json(queue_num(srv, room, rid), 200)["queue_number"]
    if srv.room_status(room)["serving"] < pos:
        srv.advance(room, to=pos)
    return rid, pos


def serving_num(srv, room):
    return aws_json(srv.get("/aws/serving_num", params={"event_id": room}), 200)["serving_counter"]


def waiting_num(srv, room):
    body = aws_json(srv.get("/aws/waiting_num", params={"event_id": room}), 200)
    assert type(body["waiting_num"]) is int, body
    return body["waiting_num"]


def public_key(srv, room):
    return aws_json(srv.get("/aws/public_key", params={"event_id": room}), 200)


def jwks_key(srv, kid):
    keys = {k["kid"]: k for k in srv.jwks()["keys"]}
    assert kid in keys, f"kid {kid} not in JWKS {list(keys)}"
    return keys[kid]


def verify(token, jwk, audience):
    return jwt.decode(token, key=jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=audience,
                      options={"require": ["aud", "sub", "iat", "nbf", "exp", "iss", "jti"]})


def check_token_set(room, rid, pos, body, before, alg, jwk_for):
    """All three JWTs verify, carry the same claims except token_use, and match the room."""
    assert body["token_type"] == "Bearer", body
    assert type(body["expires_in"]) is int and 0 < body["expires_in"] <= PASS_LIFETIME_S, body
    now = int(time.time())
    claims = {}
    for use in ("access", "refresh", "id"):
        token = body[f"{use}_token"]
        assert isinstance(token, str) and token.count(".") == 2, body
        header = jwt.get_unverified_header(token)
        assert isinstance(header.get("kid"), str) and header["kid"], header
        jwk = jwk_for(header)
        assert header["alg"] == jwk["alg"] == alg, (header, jwk)
        c = verify(token, jwk, audience=room)
        assert c["token_use"] == use, c
        claims[use] = c
    access = claims["access"]
    assert access["sub"] == rid, access
    assert access["aud"] == room, access
    assert access["iss"] == ISSUER, access
    assert access["queue_position"] == pos and type(access["queue_position"]) is int, access
    assert before - CLOCK_SKEW_S <= access["iat"] <= now + CLOCK_SKEW_S, access
    assert access["exp"] - access["iat"] == PASS_LIFETIME_S, access
    assert abs(body["expires_in"] - (access["exp"] - now)) <= CLOCK_SKEW_S, (body, access)
    for use in ("refresh", "id"):
        other = dict(claims[use])
        other["token_use"] = "access"
        assert other == access, f"{use}_token claims differ from access_token: {claims}"
    return claims


# ---- CORS preflight --------------------------------------------------------------------------

@pytest.mark.parametrize("path,methods", [(p, "OPTIONS,POST") for p in POST_PATHS]
                         + [(p, "GET,OPTIONS") for p in GET_PATHS])
def test_options_preflight(server, path, methods):
    r = server.request("OPTIONS", path, headers={"Origin": "https://shop.example",
                                                 "Access-Control-Request-Method": "POST"})
    assert r.status_code == 200, describe(r)
    assert r.content == b"", describe(r)
    assert r.headers.get("Content-Type", "").split(";")[0] == "application/json", describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == "*", describe(r)
    assert r.headers.get("Access-Control-Allow-Methods") == methods, describe(r)
    assert r.headers.get("Access-Control-Allow-Headers") == CORS_HEADERS, describe(r)


# ---- /assign_queue_num -------------------------------------------------------------------------

def test_assign_returns_lowercase_uuid_request_id(server):
    room = rs_room(server)
    ids = [assign(server, room) for _ in range(3)]
    for rid in ids:
        assert isinstance(rid, str) and len(rid) == 36 and TICKET_RE.match(rid), rid
    assert len(set(ids)) == 3, ids


def test_assign_body_has_only_api_request_id(server):
    room = rs_room(server)
    r = server.post("/aws/assign_queue_num", json={"event_id": room})
    assert list(aws_json(r, 200)) == ["api_request_id"], describe(r)


def test_assigned_request_id_is_a_native_ticket(server):
    room = rs_room(server)
    rid = assign(server, room)
    body = assert_json(server.ticket(room, rid), 200)
    assert body["position"] == 1, body


def test_assign_is_synchronous(server):
    room = rs_room(server)
    before = int(time.time())
    rid = assign(server, room)
    r = queue_num(server, room, rid)
    body = aws_json(r, 200)
    now = int(time.time())
    assert body["queue_number"] == 1 and type(body["queue_number"]) is int, describe(r)
    assert body["event_id"] == room, describe(r)
    assert body["status"] == 1 and type(body["status"]) is int, describe(r)
    assert type(body["entry_time"]) is int, describe(r)
    assert before - CLOCK_SKEW_S <= body["entry_time"] <= now + CLOCK_SKEW_S, describe(r)


def test_assign_unknown_room_is_400_and_uses_no_position(server):
    room = rs_room(server)
    assign(server, room)
    before = server.room_status(room)["queue_length"]
    aws_error(server.post("/aws/assign_queue_num", json={"event_id": "no-such-room"}), 400,
              "Invalid event ID")
    assert server.room_status(room)["queue_length"] == before
    assert server.get("/v1/rooms/no-such-room").status_code == 404, "unknown room was created"
    rid = assign(server, room)
    assert aws_json(queue_num(server, room, rid), 200)["queue_number"] == before + 1


@pytest.mark.parametrize("body", [
    pytest.param(json.dumps({}), id="missing-event_id"),
    pytest.param(json.dumps({"event_id": 7}), id="number"),
    pytest.param(json.dumps({"event_id": None}), id="null"),
    pytest.param(json.dumps({"event_id": ["x"]}), id="array-value"),
    pytest.param(json.dumps(["event_id"]), id="array-body"),
    pytest.param('{"event_id": ', id="truncated-json"),
    pytest.param("event_id=demo", id="form-encoded"),
    pytest.param("", id="empty"),
])
def test_assign_bad_body_is_400(server, body):
    r = server.post("/aws/assign_queue_num", data=body,
                    headers={"Content-Type": "application/json"})
    aws_error(r, 400)


def test_aws_and_native_enqueue_share_one_gap_free_sequence(server):
    room = rs_room(server)
    positions = []
    for i in range(8):
        if i % 3 == 0:
            positions.append(server.enqueue_ok(room)["position"])
        else:
            rid = assign(server, room)
            positions.append(aws_json(queue_num(server, room, rid), 200)["queue_number"])
    assert positions == list(range(1, 9))
    assert server.room_status(room)["queue_length"] == 8


# ---- /queue_num --------------------------------------------------------------------------------

def test_queue_num_unknown_room_is_400(server):
    room = rs_room(server)
    rid = assign(server, room)
    aws_error(queue_num(server, "no-such-room", rid), 400, "Invalid event or request ID")


@pytest.mark.parametrize("rid", MALFORMED_IDS)
def test_queue_num_malformed_request_id_is_400(server, rid):
    room = rs_room(server)
    aws_error(queue_num(server, room, rid), 400, "Invalid event or request ID")


def test_queue_num_valid_id_followed_by_garbage_is_400(server):
    # AWS's re.match would accept this; Waitroom must not.
    room = rs_room(server)
    rid = assign(server, room)
    aws_error(queue_num(server, room, rid + "garbage"), 400, "Invalid event or request ID")


def test_queue_num_unknown_request_id_is_404(server):
    room = rs_room(server)
    assign(server, room)
    aws_error(queue_num(server, room, random_ticket_id()), 404, "Request ID not found")


def test_queue_num_id_of_another_room_is_404(server):
    a, b = rs_room(server), rs_room(server)
    rid = assign(server, a)
    assign(server, b)
    aws_error(queue_num(server, b, rid), 404, "Request ID not found")


@pytest.mark.parametrize("drop", [("event_id", "request_id"), ("request_id",), ("event_id",)],
                         ids=["none", "no-request_id", "no-event_id"])
def test_queue_num_missing_parameters_is_400(server, drop):
    room = rs_room(server)
    params = {"event_id": room, "request_id": assign(server, room)}
    for k in drop:
        del params[k]
    aws_error(server.get("/aws/queue_num", params=params), 400)


def test_queue_num_empty_request_id_is_400(server):
    room = rs_room(server)
    assign(server, room)
    aws_error(queue_num(server, room, ""), 400)


def test_queue_num_does_not_change_when_serving_moves(server):
    room = rs_room(server)
    rids = [assign(server, room) for _ in range(3)]
    server.advance(room, by=2)
    for i, rid in enumerate(rids, 1):
        assert aws_json(queue_num(server, room, rid), 200)["queue_number"] == i


# ---- /serving_num ------------------------------------------------------------------------------

def test_serving_num_is_a_json_number_following_advance(server):
    room = rs_room(server)
    assert serving_num(server, room) == 0
    for _ in range(4):
        assign(server, room)
    server.advance(room, by=3)
    value = serving_num(server, room)
    assert value == 3 and type(value) is int, value


def test_serving_num_string_form_is_a_room_setting(server):
    """For strict old clients: AWS sent Redis's string; the room setting restores it, and turning
    it off gives the number again."""
    room = rs_room(server, aws_serving_counter_as_string=True)
    for _ in range(3):
        assign(server, room)
    server.advance(room, by=2)
    assert serving_num(server, room) == "2"
    r = server.put(f"/admin/v1/rooms/{room}", admin=True, json={"aws_serving_counter_as_string": False})
    assert r.status_code == 200, describe(r)
    assert serving_num(server, room) == 2


def test_serving_num_matches_native_room_status(server):
    room = rs_room(server)
    for _ in range(5):
        server.enqueue_ok(room)
    server.advance(room, to=4)
    assert serving_num(server, room) == server.room_status(room)["serving"] == 4


def test_serving_num_body_has_only_serving_counter(server):
    room = rs_room(server)
    r = server.get("/aws/serving_num", params={"event_id": room})
    assert list(aws_json(r, 200)) == ["serving_counter"], describe(r)


def test_serving_num_unknown_room_is_400(server):
    aws_error(server.get("/aws/serving_num", params={"event_id": "no-such-room"}), 400,
              "Invalid event ID")


@pytest.mark.parametrize("event_id", ["Demo", "DEMO", "demo ", " demo", "demo/", "", "*"])
def test_event_id_must_match_a_room_name_exactly(server, event_id):
    # The module server has a room called "demo".
    aws_error(server.get("/aws/serving_num", params={"event_id": event_id}), 400,
              "Invalid event ID")


def test_event_id_query_parameter_is_percent_decoded(server):
    room = rs_room(server)
    encoded = "".join(f"%{b:02X}" for b in room.encode())
    r = server.get(f"/aws/serving_num?event_id={encoded}")
    assert aws_json(r, 200)["serving_counter"] == 0, describe(r)


def test_serving_num_missing_event_id_is_400(server):
    aws_error(server.get("/aws/serving_num"), 400)


# ---- /waiting_num ------------------------------------------------------------------------------

def test_waiting_num_counts_tickets_minus_passes(server):
    room = rs_room(server)
    assert waiting_num(server, room) == 0
    rids = [assign(server, room) for _ in range(3)]
    native = server.enqueue_ok(room)
    assert waiting_num(server, room) == 4
    server.advance(room, by=4)
    assert waiting_num(server, room) == 4, "advancing alone issues no passes"
    aws_json(generate(server, room, rids[0]), 200)
    assert waiting_num(server, room) == 3
    assert_json(server.pass_for(room, native["ticket"]), 200)
    assert waiting_num(server, room) == 2


def test_waiting_num_not_lowered_by_refetching_a_token(server):
    room = rs_room(server)
    rid, _ = served(server, room)
    assign(server, room)
    aws_json(generate(server, room, rid), 200)
    assert waiting_num(server, room) == 1
    aws_json(generate(server, room, rid), 200)
    assert waiting_num(server, room) == 1


def test_counters_start_again_after_reset(server):
    room = rs_room(server)
    rid, _ = served(server, room)
    assign(server, room)
    aws_json(generate(server, room, rid), 200)
    r = server.post(f"/admin/v1/rooms/{room}/reset", admin=True)
    assert r.status_code == 200, describe(r)
    assert waiting_num(server, room) == 0
    assert serving_num(server, room) == 0
    fresh = assign(server, room)
    assert aws_json(queue_num(server, room, fresh), 200)["queue_number"] == 1


def test_waiting_num_unknown_room_is_400(server):
    aws_error(server.get("/aws/waiting_num", params={"event_id": "no-such-room"}), 400,
              "Invalid event ID")


def test_waiting_num_missing_event_id_is_400(server):
    aws_error(server.get("/aws/waiting_num"), 400)


# ---- /queue_pos_expiry -------------------------------------------------------------------------

def queue_pos_expiry(srv, room, rid):
    return srv.get("/aws/queue_pos_expiry", params={"event_id": room, "request_id": rid})


def test_queue_pos_expiry_not_enabled_is_202(server):
    room = rs_room(server, claim_timeout_s=0)
    rid, _ = served(server, room)
    aws_error(queue_pos_expiry(server, room, rid), 202, "Queue position expiration not enabled")


def test_queue_pos_expiry_unknown_well_formed_id_when_disabled_is_still_202(server):
    # AWS checks "expiry enabled" before looking the id up.
    room = rs_room(server, claim_timeout_s=0)
    aws_error(queue_pos_expiry(server, room, random_ticket_id()), 202,
              "Queue position expiration not enabled")


def test_queue_pos_expiry_is_on_by_default_like_aws(server):
    room = rs_room(server)
    assert server.admin_room(room)["claim_timeout_s"] == 900
    aws_error(queue_pos_expiry(server, room, random_ticket_id()), 404, "Invalid request ID")
    rid = assign(server, room)
    aws_error(queue_pos_expiry(server, room, rid), 202, "Request ID not being served yet")
    server.advance(room, by=1)
    body = aws_json(queue_pos_expiry(server, room, rid), 200)
    assert list(body) == ["expires_in"] and type(body["expires_in"]) is int, body
    assert 890 <= body["expires_in"] <= 900, body


def test_queue_position_expires_and_generate_token_says_so(server_factory):
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = rs_room(srv, claim_timeout_s=60)
    rid, _ = served(srv, room)
    claimed, _ = served(srv, room)
    aws_json(generate(srv, room, claimed), 200)
    srv.advance_clock(30_000)
    assert 29 <= aws_json(queue_pos_expiry(srv, room, rid), 200)["expires_in"] <= 30
    srv.advance_clock(31_000)
    aws_error(queue_pos_expiry(srv, room, rid), 410, "Queue position has expired")
    aws_error(generate(srv, room, rid), 410, "Queue position has expired")
    # Unlike AWS, a visitor who already holds a token is not told that the position expired.
    assert aws_json(queue_pos_expiry(srv, room, claimed), 200)["expires_in"] == 0
    aws_json(generate(srv, room, claimed), 200)


def test_recycling_unclaimed_positions_moves_the_serving_counter(server_factory):
    # AWS's IncrSvcOnQueuePositionExpiry: each expired, unclaimed position lets one more in.
    srv = server_factory(config_text=TEST_CLOCK_CONFIG)
    room = rs_room(srv, claim_timeout_s=60, recycle_unclaimed=True)
    rids = [assign(srv, room) for _ in range(5)]
    srv.advance(room, by=2)
    aws_json(generate(srv, room, rids[0]), 200)
    srv.advance_clock(61_000)
    assert serving_num(srv, room) == 3  # the unclaimed position 2 gave its turn to position 3
    aws_error(generate(srv, room, rids[1]), 410, "Queue position has expired")
    aws_json(generate(srv, room, rids[2]), 200)


def test_queue_pos_expiry_unknown_room_is_400(server):
    room = rs_room(server)
    rid = assign(server, room)
    aws_error(queue_pos_expiry(server, "no-such-room", rid), 400, "Invalid event or request ID")


@pytest.mark.parametrize("rid", MALFORMED_IDS)
def test_queue_pos_expiry_malformed_request_id_is_400(server, rid):
    room = rs_room(server)
    aws_error(queue_pos_expiry(server, room, rid), 400, "Invalid event or request ID")


def test_queue_pos_expiry_missing_parameters_is_400(server):
    room = rs_room(server)
    aws_error(server.get("/aws/queue_pos_expiry", params={"event_id": room}), 400)


# ---- /public_key -------------------------------------------------------------------------------

def test_public_key_rs256_room_is_a_bare_rsa_jwk(server):
    room = rs_room(server)
    r = server.get("/aws/public_key", params={"event_id": room})
    key = aws_json(r, 200)
    assert "keys" not in key, "expected a single JWK, not a JWKS" + describe(r)
    assert key["kty"] == "RSA" and key["alg"] == "RS256", describe(r)
    assert key["e"] == "AQAB" and isinstance(key["n"], str) and len(key["n"]) >= 340, describe(r)
    assert key["use"] == "sig", describe(r)
    assert isinstance(key["kid"], str) and key["kid"], describe(r)
    for private in ("d", "p", "q", "dp", "dq", "qi"):
        assert private not in key, "private part in public key" + describe(r)
    jwt.PyJWK(key)  # loads as an RSA public key


def same_public_key(a, b):
    fields = ("kty", "alg", "kid", "n", "e", "crv", "x", "y")
    return {f: a.get(f) for f in fields} == {f: b.get(f) for f in fields}


def test_public_key_is_the_jwks_entry_with_the_same_kid(server):
    room = rs_room(server)
    key = public_key(server, room)
    assert same_public_key(key, jwks_key(server, key["kid"])), key


def test_public_key_es256_room_is_an_ec_jwk(server):
    room = es_room(server)
    key = public_key(server, room)
    assert key["kty"] == "EC" and key["alg"] == "ES256" and key["crv"] == "P-256", key
    assert key["x"] and key["y"] and "d" not in key, key
    assert same_public_key(key, jwks_key(server, key["kid"])), key


def test_public_key_unknown_room_is_400(server):
    aws_error(server.get("/aws/public_key", params={"event_id": "no-such-room"}), 400,
              "Invalid request ID")


def test_public_key_missing_event_id_is_400(server):
    aws_error(server.get("/aws/public_key"), 400)


# ---- /generate_token: success ------------------------------------------------------------------

def test_generate_token_rs256_verifies_with_public_key(server):
    room = rs_room(server)
    rid, pos = served(server, room)
    key = public_key(server, room)
    before = int(time.time())
    body = aws_json(generate(server, room, rid), 200)
    assert set(body) == {"access_token", "refresh_token", "id_token", "token_type",
                         "expires_in"}, body
    check_token_set(room, rid, pos, body, before, "RS256", jwk_for=lambda header: key)
    assert jwt.get_unverified_header(body["access_token"])["kid"] == key["kid"]


def test_generate_token_es256_verifies_with_jwks(server):
    room = es_room(server)
    rid, pos = served(server, room)
    before = int(time.time())
    body = aws_json(generate(server, room, rid), 200)
    check_token_set(room, rid, pos, body, before, "ES256",
                    jwk_for=lambda header: jwks_key(server, header["kid"]))


def test_generate_token_audience_follows_room_setting(server):
    room = rs_room(server, audience="https://shop.example/api")
    rid, _ = served(server, room)
    body = aws_json(generate(server, room, rid), 200)
    key = public_key(server, room)
    for use in ("access", "refresh", "id"):
        claims = verify(body[f"{use}_token"], key, audience="https://shop.example/api")
        assert claims["aud"] == "https://shop.example/api", claims


def test_generate_token_position_is_the_tickets_not_the_serving_counter(server):
    room = rs_room(server)
    rids = [assign(server, room) for _ in range(3)]
    server.advance(room, by=3)
    body = aws_json(generate(server, room, rids[1]), 200)
    claims = verify(body["access_token"], public_key(server, room), audience=room)
    assert claims["queue_position"] == 2 and claims["sub"] == rids[1], claims


def test_generate_token_ignores_issuer_and_validity_period(server):
    room = rs_room(server)
    rid, _ = served(server, room)
    r = generate(server, room, rid, issuer="https://evil.example", validity_period=99999)
    body = aws_json(r, 200)
    claims = verify(body["access_token"], public_key(server, room), audience=room)
    assert claims["iss"] == ISSUER, claims
    assert claims["exp"] - claims["iat"] == PASS_LIFETIME_S, claims
    assert body["expires_in"] <= PASS_LIFETIME_S, body


def test_generate_token_refetch_rs256_is_byte_identical(server):
    room = rs_room(server)
    rid, _ = served(server, room)
    first = aws_json(generate(server, room, rid), 200)
    second = aws_json(generate(server, room, rid), 200)
    for k in ("access_token", "refresh_token", "id_token"):
        assert second[k] == first[k], f"{k} changed on re-fetch"
    assert second["token_type"] == "Bearer"
    assert 0 < second["expires_in"] <= first["expires_in"], (first, second)


def test_generate_token_refetch_es256_keeps_access_token(server):
    room = es_room(server)
    rid, _ = served(server, room)
    first = aws_json(generate(server, room, rid), 200)
    second = aws_json(generate(server, room, rid), 200)
    assert second["access_token"] == first["access_token"]
    for k in ("refresh_token", "id_token"):
        a = jwt.decode(first[k], options={"verify_signature": False})
        b = jwt.decode(second[k], options={"verify_signature": False})
        assert a == b, f"{k} claims changed on re-fetch"


@pytest.mark.parametrize("make_room", [rs_room, es_room], ids=["RS256", "ES256"])
def test_generate_token_access_token_is_the_native_pass(server, make_room):
    room = make_room(server)
    # AWS first, then native.
    rid, _ = served(server, room)
    body = aws_json(generate(server, room, rid), 200)
    native = assert_json(server.pass_for(room, rid), 200)
    assert native["pass"] == body["access_token"]
    # Native first, then AWS.
    t = server.enqueue_ok(room)
    server.advance(room, to=t["position"])
    native = assert_json(server.pass_for(room, t["ticket"]), 200)
    body = aws_json(generate(server, room, t["ticket"]), 200)
    assert body["access_token"] == native["pass"]


def test_generate_token_for_a_native_ticket_works(server):
    room = rs_room(server)
    t = server.enqueue_ok(room)
    server.advance(room, by=1)
    body = aws_json(generate(server, room, t["ticket"]), 200)
    claims = verify(body["access_token"], public_key(server, room), audience=room)
    assert claims["sub"] == t["ticket"] and claims["queue_position"] == t["position"], claims


# ---- /generate_token: refusals -----------------------------------------------------------------

def test_generate_token_unknown_room_is_400(server):
    room = rs_room(server)
    rid, _ = served(server, room)
    aws_error(generate(server, "no-such-room", rid), 400, "Invalid event or request ID")


@pytest.mark.parametrize("rid", MALFORMED_IDS)
def test_generate_token_malformed_request_id_is_400(server, rid):
    room = rs_room(server)
    aws_error(generate(server, room, rid), 400, "Invalid event or request ID")


def test_generate_token_valid_id_followed_by_garbage_is_400(server):
    room = rs_room(server)
    rid, _ = served(server, room)
    aws_error(generate(server, room, rid + "garbage"), 400, "Invalid event or request ID")


def test_generate_token_unknown_request_id_is_400(server):
    room = rs_room(server)
    served(server, room)
    aws_error(generate(server, room, random_ticket_id()), 400, "Invalid request ID")


def test_generate_token_id_of_another_room_is_400(server):
    a, b = rs_room(server), rs_room(server)
    rid, _ = served(server, a)
    served(server, b)
    aws_error(generate(server, b, rid), 400, "Invalid request ID")


def test_generate_token_before_served_is_202(server):
    room = rs_room(server)
    rids = [assign(server, room) for _ in range(3)]
    server.advance(room, by=2)
    aws_error(generate(server, room, rids[2]), 202, "Request ID not being served yet")
    assert waiting_num(server, room) == 3, "a refused request must not issue a pass"
    server.advance(room, by=1)
    aws_json(generate(server, room, rids[2]), 200)


@pytest.mark.parametrize("status", ["completed", "abandoned", "revoked"])
def test_generate_token_after_session_end_is_410(server, status):
    room = rs_room(server)
    rid, _ = served(server, room)
    aws_json(generate(server, room, rid), 200)
    r = server.set_session(room, rid, status)
    assert r.status_code == 200, describe(r)
    aws_error(generate(server, room, rid), 410, "Token corresponding to request id has expired")


@pytest.mark.parametrize("body", [
    pytest.param(json.dumps({"event_id": "ROOM"}), id="missing-request_id"),
    pytest.param(json.dumps({"request_id": "RID"}), id="missing-event_id"),
    pytest.param(json.dumps({"event_id": "ROOM", "request_id": 5}), id="numeric-request_id"),
    pytest.param(json.dumps({"event_id": 5, "request_id": "RID"}), id="numeric-event_id"),
    pytest.param('{"event_id": "ROOM", "request_id": ', id="truncated-json"),
    pytest.param("", id="empty"),
])
def test_generate_token_bad_body_is_400(server, body):
    room = rs_room(server)
    rid, _ = served(server, room)
    body = body.replace("ROOM", room).replace("RID", rid)
    r = server.post("/aws/generate_token", data=body, headers={"Content-Type": "application/json"})
    aws_error(r, 400)
    assert waiting_num(server, room) == 1, "a refused request must not issue a pass"
