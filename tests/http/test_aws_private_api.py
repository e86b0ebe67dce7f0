"""The AWS-compatible private (admin) API under /aws/private: SigV4 / admin-bearer auth,
CORS preflights, and the six operations (generate_token with overrides,
increment_serving_counter, update_session, num_active_tokens, expired_tokens,
reset_initial_state), checked through the public /aws API and the native API.

Requests are signed with botocore's SigV4Auth (an implementation independent of the
server's verifier) and sent with requests.

Reference: /work/shared/reference/aws-vwr.md section 3. Deliberate differences from AWS:
increment_by must be 1..1e9 (AWS let it go negative), update_session refuses other
statuses before writing anything (AWS wrote them, then answered 500), it answers
{"event_id","request_id","status"} instead of DynamoDB metadata, the generate_token
overrides apply to the first issuance only (AWS leaked validity_period into later calls),
and reset_initial_state is synchronous and refuses an unknown event id (AWS: always 200).
"""

import datetime
import json
import time
from unittest import mock
from urllib.parse import urlencode

import jwt
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from wrlib import (DEFAULT_CONFIG, Server, assert_json, aws_error, aws_json, binary_path, describe,
                   random_ticket_id)

ACCESS_KEY = "AKIDWAITROOMTEST"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
ENV_ACCESS_KEY = "AKIDWAITROOMENVTEST"
ENV_SECRET_KEY = "EnvSecretKeyForWaitroomTests/0123456789ab"
REGION = "eu-west-1"
SERVICE = "execute-api"

VIEWER_KEY = "AKIDWAITROOMVIEWER"
VIEWER_SECRET = "ViewerSecretKeyForWaitroomTests/0123456"
OPERATOR_KEY = "AKIDWAITROOMOPERATOR"
OPERATOR_SECRET = "OperatorSecretKeyForWaitroomTests/01234"
CONFIG = DEFAULT_CONFIG + f"""
[[aws_credentials]]
access_key_id = "{ACCESS_KEY}"
secret_access_key = "{SECRET_KEY}"

[[aws_credentials]]
access_key_id = "{VIEWER_KEY}"
secret_access_key = "{VIEWER_SECRET}"
role = "viewer"

[[aws_credentials]]
access_key_id = "{OPERATOR_KEY}"
secret_access_key = "{OPERATOR_SECRET}"
role = "operator"
"""

PRIVATE = "/aws/private"
CLOCK_SKEW_S = 5
PASS_LIFETIME_S = 600
ISSUER = "https://aws-private.waitroom.example"
MAX_VALIDITY_S = 604800
CORS_HEADERS = "Content-Type,X-Amz-Date,Authorization,X-Api-Key,X-Amz-Security-Token"

# (method, path) of every private operation.
OPERATIONS = [
    ("POST", "/generate_token"),
    ("POST", "/increment_serving_counter"),
    ("POST", "/update_session"),
    ("GET", "/num_active_tokens"),
    ("GET", "/expired_tokens"),
    ("POST", "/reset_initial_state"),
]

_VALID = "0f8b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"
MALFORMED_IDS = [
    pytest.param(_VALID.upper(), id="uppercase"),
    pytest.param(_VALID + "x", id="valid-prefix-plus-garbage"),
    pytest.param(_VALID[:-1], id="one-char-short"),
    pytest.param(_VALID.replace("-", ""), id="no-dashes"),
    pytest.param("", id="empty"),
]


# ---- server ---------------------------------------------------------------------------------

def _module_server(config, name):
    """A server for the module: the demo/legacy rooms, one configured credential and one from
    the environment."""
    if not binary_path().exists():
        pytest.fail(f"waitroom binary not found at {binary_path()} (build it or set WAITROOM_BIN)",
                    pytrace=False)
    s = Server(config_text=config, name=name,
               env={"WAITROOM_AWS_ACCESS_KEY_ID": ENV_ACCESS_KEY,
                    "WAITROOM_AWS_SECRET_ACCESS_KEY": ENV_SECRET_KEY}).start()
    yield s
    s.shut_down()


@pytest.fixture(scope="module")
def srv():
    yield from _module_server(CONFIG, "waitroom-awspriv")


@pytest.fixture(scope="module")
def clock_srv():
    """The same on the manual test clock: token expiry without real waits, so a busy machine
    cannot expire a one-second token between two requests."""
    yield from _module_server(CONFIG + "\n[testing]\nmanual_clock = true\n",
                              "waitroom-awspriv-clock")


# ---- signing helpers ---------------------------------------------------------------------------

def sign(srv, method, path, body=b"", query=None, key=ACCESS_KEY, secret=SECRET_KEY,
         service=SERVICE, region=REGION, at=None):
    """(path-with-query, headers) for a request signed by botocore. `at` (a naive UTC
    datetime) fixes the signing time."""
    target = path + ("?" + urlencode(query) if query else "")
    headers = {"Content-Type": "application/json"} if body else {}
    req = AWSRequest(method=method, url=srv.url(target), data=body, headers=headers)
    auth = SigV4Auth(Credentials(key, secret), service, region)
    if at is None:
        auth.add_auth(req)
    else:
        with mock.patch("botocore.auth.datetime") as dt:
            dt.datetime.utcnow.return_value = at
            auth.add_auth(req)
    return target, dict(req.headers.items())


def body_bytes(payload):
    if payload is None:
        return b""
    if isinstance(payload, (bytes, str)):
        return payload.encode() if isinstance(payload, str) else payload
    return json.dumps(payload).encode()


def call(srv, method, op, payload=None, query=None, send_body=None, **sign_kw):
    """A SigV4-signed request to /aws/private<op>. `send_body` replaces the body after signing."""
    body = body_bytes(payload)
    target, headers = sign(srv, method, PRIVATE + op, body=body, query=query, **sign_kw)
    sent = body if send_body is None else body_bytes(send_body)
    return srv.request(method, target, headers=headers, data=sent)


def unsigned(srv, method, op, payload=None, query=None, headers=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    target = PRIVATE + op + ("?" + urlencode(query) if query else "")
    return srv.request(method, target, headers=h, data=body_bytes(payload))




def forbidden(r):
    """API Gateway's refusal: 403 `{"message": "<why>"}`."""
    body = aws_json(r, 403)
    assert isinstance(body, dict) and list(body) == ["message"], describe(r)
    assert isinstance(body["message"], str) and body["message"], describe(r)
    return body["message"]


# ---- domain helpers ----------------------------------------------------------------------------

def rs_room(srv, **cfg):
    cfg.setdefault("pass_lifetime_s", PASS_LIFETIME_S)
    cfg.setdefault("issuer", ISSUER)
    return srv.create_room(algorithm="RS256", **cfg)


def assign(srv, room):
    r = srv.post("/aws/assign_queue_num", json={"event_id": room})
    return aws_json(r, 200)["api_request_id"]


def queue_num(srv, room, rid):
    return srv.get("/aws/queue_num", params={"event_id": room, "request_id": rid})


def served(srv, room):
    """A request id whose position is being served (advanced with the native admin API)."""
    rid = assign(srv, room)
    pos = aws_json(queue_num(srv, room, rid), 200)["queue_number"]
    if srv.room_status(room)["serving"] < pos:
        srv.advance(room, to=pos)
    return rid


def serving_num(srv, room):
    r = srv.get("/aws/serving_num", params={"event_id": room})
    return aws_json(r, 200)["serving_counter"]


def waiting_num(srv, room):
    r = srv.get("/aws/waiting_num", params={"event_id": room})
    return aws_json(r, 200)["waiting_num"]


def public_key(srv, room):
    return aws_json(srv.get("/aws/public_key", params={"event_id": room}), 200)


def public_generate(srv, room, rid):
    return srv.post("/aws/generate_token", json={"event_id": room, "request_id": rid})


def private_generate(srv, room, rid, **extra):
    return call(srv, "POST", "/generate_token", {"event_id": room, "request_id": rid, **extra})


def with_token(srv, room):
    """A served request id that holds a token (issued through the public API)."""
    rid = served(srv, room)
    aws_json(public_generate(srv, room, rid), 200)
    return rid


def update_session(srv, room, rid, status):
    return call(srv, "POST", "/update_session",
                {"event_id": room, "request_id": rid, "status": status})


def active_tokens(srv, room):
    r = call(srv, "GET", "/num_active_tokens", query={"event_id": room})
    body = aws_json(r, 200)
    assert type(body.get("active_tokens")) is int, describe(r)
    return body["active_tokens"]


def expired_tokens(srv, room):
    r = call(srv, "GET", "/expired_tokens", query={"event_id": room})
    body = aws_json(r, 200)
    assert isinstance(body, list) and all(isinstance(x, str) for x in body), describe(r)
    return body


def increment(srv, room, by):
    return call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": by})


def native_status(srv, room, rid):
    return assert_json(srv.ticket(room, rid), 200)["status"]


def claims_of(srv, room, token):
    key = public_key(srv, room)
    assert jwt.get_unverified_header(token)["kid"] == key["kid"]
    return jwt.decode(token, key=jwt.PyJWK(key).key, algorithms=["RS256"], audience=room,
                      options={"require": ["aud", "sub", "iat", "nbf", "exp", "iss", "jti"]})


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


# ---- CORS preflight ----------------------------------------------------------------------------

@pytest.mark.parametrize("method,op", OPERATIONS, ids=[op for _, op in OPERATIONS])
def test_options_preflight_needs_no_auth(srv, method, op):
    r = srv.request("OPTIONS", PRIVATE + op,
                    headers={"Origin": "https://console.example",
                             "Access-Control-Request-Method": method,
                             "Access-Control-Request-Headers": "authorization,x-amz-date"})
    assert r.status_code == 200, describe(r)
    assert r.headers.get("Access-Control-Allow-Origin") == "*", describe(r)
    allowed = "OPTIONS,POST" if method == "POST" else "GET,OPTIONS"
    assert r.headers.get("Access-Control-Allow-Methods") == allowed, describe(r)
    assert r.headers.get("Access-Control-Allow-Headers") == CORS_HEADERS, describe(r)


# ---- authentication ----------------------------------------------------------------------------

@pytest.mark.parametrize("method,op", OPERATIONS, ids=[op for _, op in OPERATIONS])
def test_unsigned_request_is_403(srv, method, op):
    room = rs_room(srv)
    rid = served(srv, room)
    payload = {"event_id": room, "request_id": rid, "increment_by": 1, "status": 1}
    if method == "GET":
        r = unsigned(srv, method, op, query={"event_id": room})
    else:
        r = unsigned(srv, method, op, payload)
    forbidden(r)


def test_unsigned_increment_changes_nothing(srv):
    room = rs_room(srv)
    forbidden(unsigned(srv, "POST", "/increment_serving_counter",
                       {"event_id": room, "increment_by": 3}))
    assert serving_num(srv, room) == 0


def test_unsigned_generate_token_issues_no_token(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    forbidden(unsigned(srv, "POST", "/generate_token", {"event_id": room, "request_id": rid}))
    assert waiting_num(srv, room) == 1, "a refused request must not issue a pass"
    assert native_status(srv, room, rid) == "eligible"


def test_unsigned_reset_resets_nothing(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    forbidden(unsigned(srv, "POST", "/reset_initial_state", {"event_id": room}))
    assert serving_num(srv, room) == 1
    aws_json(queue_num(srv, room, rid), 200)


def test_wrong_secret_is_403_and_changes_nothing(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2},
             secret=SECRET_KEY[:-1] + "X")
    forbidden(r)
    assert serving_num(srv, room) == 0


def test_unknown_access_key_is_403_and_changes_nothing(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2},
             key="AKIDNOTCONFIGURED", secret=SECRET_KEY)
    forbidden(r)
    assert serving_num(srv, room) == 0


def test_body_tampered_after_signing_is_403_and_changes_nothing(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 1},
             send_body={"event_id": room, "increment_by": 5})
    forbidden(r)
    assert serving_num(srv, room) == 0


def test_query_tampered_after_signing_is_403(srv):
    signed_room, other = rs_room(srv), rs_room(srv)
    target, headers = sign(srv, "GET", PRIVATE + "/num_active_tokens",
                           query={"event_id": signed_room})
    r = srv.get(target.replace(signed_room, other), headers=headers)
    forbidden(r)


def test_signature_replayed_on_another_path_is_403(srv):
    room = rs_room(srv)
    served(srv, room)
    body = body_bytes({"event_id": room})
    _, headers = sign(srv, "POST", PRIVATE + "/increment_serving_counter", body=body)
    forbidden(srv.post(PRIVATE + "/reset_initial_state", headers=headers, data=body))
    assert serving_num(srv, room) == 1, "the room was reset by a replayed signature"


def test_signature_for_service_s3_is_403_and_changes_nothing(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2},
             service="s3")
    forbidden(r)
    assert serving_num(srv, room) == 0


def test_signature_20_minutes_old_is_403_and_changes_nothing(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2},
             at=utcnow() - datetime.timedelta(minutes=20))
    forbidden(r)
    assert serving_num(srv, room) == 0


def test_signature_20_minutes_in_the_future_is_403(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2},
             at=utcnow() + datetime.timedelta(minutes=20))
    forbidden(r)
    assert serving_num(srv, room) == 0


def test_signature_2_minutes_old_is_accepted(srv):
    # Control for the two tests above: the patched signing time itself is not the problem.
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2},
             at=utcnow() - datetime.timedelta(minutes=2))
    assert aws_json(r, 200) == {"serving_num": 2}, describe(r)


def test_signed_get_with_query_is_accepted(srv):
    room = rs_room(srv)
    r = call(srv, "GET", "/num_active_tokens", query={"event_id": room})
    assert aws_json(r, 200) == {"active_tokens": 0}, describe(r)


def test_an_access_keys_role_decides_what_it_may_call(srv):
    room = rs_room(srv)
    viewer = {"key": VIEWER_KEY, "secret": VIEWER_SECRET}
    operator = {"key": OPERATOR_KEY, "secret": OPERATOR_SECRET}
    r = call(srv, "GET", "/num_active_tokens", query={"event_id": room}, **viewer)
    assert aws_json(r, 200) == {"active_tokens": 0}, describe(r)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2}, **viewer)
    assert aws_json(r, 403) == {
        "message": f"this needs the operator role; access key {VIEWER_KEY} is a viewer"}, describe(r)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 2}, **operator)
    assert aws_json(r, 200) == {"serving_num": 2}, describe(r)
    r = call(srv, "POST", "/reset_initial_state", {"event_id": room}, **operator)
    assert aws_json(r, 403)["message"].startswith("this needs the admin role"), describe(r)
    # Nothing the refused calls asked for happened; a key without a role is an admin.
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 1})
    assert aws_json(r, 200) == {"serving_num": 3}, describe(r)


def test_any_region_in_scope_is_accepted(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 1},
             region="us-east-1")
    assert aws_json(r, 200) == {"serving_num": 1}, describe(r)


def test_admin_bearer_is_accepted(srv):
    room = rs_room(srv)
    r = srv.post(PRIVATE + "/increment_serving_counter", admin=True,
                 json={"event_id": room, "increment_by": 4})
    assert aws_json(r, 200) == {"serving_num": 4}, describe(r)


def test_wrong_bearer_is_403_and_changes_nothing(srv):
    room = rs_room(srv)
    r = srv.post(PRIVATE + "/increment_serving_counter",
                 headers={"Authorization": "Bearer " + srv.admin_key[:-2] + "xx"},
                 json={"event_id": room, "increment_by": 4})
    forbidden(r)
    assert serving_num(srv, room) == 0


def test_environment_credential_is_accepted(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 3},
             key=ENV_ACCESS_KEY, secret=ENV_SECRET_KEY)
    assert aws_json(r, 200) == {"serving_num": 3}, describe(r)


def test_environment_access_key_with_config_secret_is_403(srv):
    room = rs_room(srv)
    r = call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 3},
             key=ENV_ACCESS_KEY, secret=SECRET_KEY)
    forbidden(r)
    assert serving_num(srv, room) == 0


# ---- /increment_serving_counter ----------------------------------------------------------------

def test_increment_returns_new_serving_num(srv):
    room = rs_room(srv)
    r = increment(srv, room, 3)
    body = aws_json(r, 200)
    assert body == {"serving_num": 3} and type(body["serving_num"]) is int, describe(r)
    assert aws_json(increment(srv, room, 2), 200) == {"serving_num": 5}


def test_increment_moves_the_shared_serving_counter(srv):
    room = rs_room(srv)
    srv.advance(room, by=2)
    aws_json(increment(srv, room, 5), 200)
    assert serving_num(srv, room) == 7
    assert srv.room_status(room)["serving"] == 7


def test_increment_admits_waiting_request_ids(srv):
    room = rs_room(srv)
    rid = assign(srv, room)
    aws_error(public_generate(srv, room, rid), 202, "Request ID not being served yet")
    aws_json(increment(srv, room, 1), 200)
    aws_json(public_generate(srv, room, rid), 200)


def test_increment_upper_bound_is_accepted(srv):
    room = rs_room(srv)
    assert aws_json(increment(srv, room, 1_000_000_000), 200) == {"serving_num": 1_000_000_000}


@pytest.mark.parametrize("by", [
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(-5, id="negative-5"),
    pytest.param(1.5, id="float"),
    pytest.param(2.0, id="integral-float"),
    pytest.param("1", id="string"),
    pytest.param(True, id="bool"),
    pytest.param(None, id="null"),
    pytest.param(1_000_000_001, id="over-1e9"),
    pytest.param(2 ** 63, id="over-int64"),
])
def test_increment_bad_increment_by_is_400_and_changes_nothing(srv, by):
    room = rs_room(srv)
    srv.advance(room, by=3)
    aws_error(increment(srv, room, by), 400)
    assert serving_num(srv, room) == 3


def test_increment_missing_increment_by_is_400(srv):
    room = rs_room(srv)
    aws_error(call(srv, "POST", "/increment_serving_counter", {"event_id": room}), 400)
    assert serving_num(srv, room) == 0


def test_increment_unknown_event_is_400(srv):
    r = increment(srv, "no-such-room", 1)
    aws_error(r, 400, "Invalid event ID")
    assert srv.get("/v1/rooms/no-such-room").status_code == 404, "unknown room was created"


@pytest.mark.parametrize("payload", [
    pytest.param({"increment_by": 1}, id="missing-event_id"),
    pytest.param({"event_id": 5, "increment_by": 1}, id="numeric-event_id"),
    pytest.param('{"event_id": ', id="truncated-json"),
    pytest.param("", id="empty"),
])
def test_increment_bad_body_is_400(srv, payload):
    aws_error(call(srv, "POST", "/increment_serving_counter", payload), 400)


# ---- /update_session ---------------------------------------------------------------------------

@pytest.mark.parametrize("status,text", [(1, "completed"), (-1, "abandoned")])
def test_update_session_answers_event_request_and_status(srv, status, text):
    room = rs_room(srv)
    rid = with_token(srv, room)
    r = update_session(srv, room, rid, status)
    assert aws_json(r, 200) == {"event_id": room, "request_id": rid, "status": text}, describe(r)


@pytest.mark.parametrize("status,text", [(1, "completed"), (-1, "abandoned")])
def test_update_session_ends_the_native_session(srv, status, text):
    room = rs_room(srv)
    rid = with_token(srv, room)
    assert native_status(srv, room, rid) == "admitted"
    aws_json(update_session(srv, room, rid, status), 200)
    assert native_status(srv, room, rid) == text


@pytest.mark.parametrize("status", [1, -1])
def test_update_session_lowers_num_active_tokens(srv, status):
    room = rs_room(srv)
    rid = with_token(srv, room)
    with_token(srv, room)
    assert active_tokens(srv, room) == 2
    aws_json(update_session(srv, room, rid, status), 200)
    assert active_tokens(srv, room) == 1


@pytest.mark.parametrize("status", [1, -1])
def test_generate_token_after_update_session_is_410(srv, status):
    room = rs_room(srv)
    rid = with_token(srv, room)
    aws_json(update_session(srv, room, rid, status), 200)
    aws_error(public_generate(srv, room, rid), 410, "Token corresponding to request id has expired")


@pytest.mark.parametrize("status", [
    pytest.param(0, id="zero"),
    pytest.param(2, id="two"),
    pytest.param(-2, id="minus-two"),
    pytest.param("1", id="string-1"),
    pytest.param(1.0, id="float-1"),
    pytest.param(True, id="bool"),
    pytest.param(None, id="null"),
])
def test_update_session_other_status_is_400_and_writes_nothing(srv, status):
    room = rs_room(srv)
    rid = with_token(srv, room)
    aws_error(update_session(srv, room, rid, status), 400)
    assert active_tokens(srv, room) == 1
    assert native_status(srv, room, rid) == "admitted"
    # And the session can still be ended properly.
    aws_json(update_session(srv, room, rid, 1), 200)


def test_update_session_missing_status_is_400_and_writes_nothing(srv):
    room = rs_room(srv)
    rid = with_token(srv, room)
    aws_error(call(srv, "POST", "/update_session", {"event_id": room, "request_id": rid}), 400)
    assert active_tokens(srv, room) == 1
    assert native_status(srv, room, rid) == "admitted"


def test_update_session_before_token_is_404(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    aws_error(update_session(srv, room, rid, 1), 404,
              "Request ID doesn't exist or status already set.")
    # Nothing was recorded: the token can still be issued.
    aws_json(public_generate(srv, room, rid), 200)


def test_update_session_unknown_request_id_is_404(srv):
    room = rs_room(srv)
    with_token(srv, room)
    aws_error(update_session(srv, room, random_ticket_id(), 1), 404,
              "Request ID doesn't exist or status already set.")


def test_update_session_id_of_another_room_is_404(srv):
    a, b = rs_room(srv), rs_room(srv)
    rid = with_token(srv, a)
    with_token(srv, b)
    aws_error(update_session(srv, b, rid, 1), 404,
              "Request ID doesn't exist or status already set.")
    assert native_status(srv, a, rid) == "admitted"


@pytest.mark.parametrize("first,second", [(1, 1), (-1, -1), (1, -1), (-1, 1)],
                         ids=["completed-twice", "abandoned-twice", "completed-then-abandoned",
                              "abandoned-then-completed"])
def test_update_session_status_already_set_is_404(srv, first, second):
    room = rs_room(srv)
    rid = with_token(srv, room)
    aws_json(update_session(srv, room, rid, first), 200)
    aws_error(update_session(srv, room, rid, second), 404,
              "Request ID doesn't exist or status already set.")
    assert native_status(srv, room, rid) == ("completed" if first == 1 else "abandoned")


def test_update_session_unknown_event_is_400(srv):
    room = rs_room(srv)
    rid = with_token(srv, room)
    aws_error(update_session(srv, "no-such-room", rid, 1), 400, "Invalid event or request ID")
    assert native_status(srv, room, rid) == "admitted"


@pytest.mark.parametrize("rid", MALFORMED_IDS)
def test_update_session_malformed_request_id_is_400(srv, rid):
    room = rs_room(srv)
    with_token(srv, room)
    aws_error(update_session(srv, room, rid, 1), 400, "Invalid event or request ID")


@pytest.mark.parametrize("payload", [
    pytest.param({"request_id": "RID", "status": 1}, id="missing-event_id"),
    pytest.param({"event_id": "ROOM", "status": 1}, id="missing-request_id"),
    pytest.param({"event_id": "ROOM", "request_id": 5, "status": 1}, id="numeric-request_id"),
    pytest.param('{"event_id": "ROOM", ', id="truncated-json"),
])
def test_update_session_bad_body_is_400(srv, payload):
    room = rs_room(srv)
    rid = with_token(srv, room)
    text = payload if isinstance(payload, str) else json.dumps(payload)
    r = call(srv, "POST", "/update_session", text.replace("ROOM", room).replace("RID", rid))
    aws_error(r, 400)
    assert native_status(srv, room, rid) == "admitted"


# ---- /num_active_tokens ------------------------------------------------------------------------

def test_num_active_tokens_body_is_only_active_tokens(srv):
    room = rs_room(srv)
    r = call(srv, "GET", "/num_active_tokens", query={"event_id": room})
    body = aws_json(r, 200)
    assert body == {"active_tokens": 0} and type(body["active_tokens"]) is int, describe(r)


def test_num_active_tokens_counts_issued_tokens(srv):
    room = rs_room(srv)
    for _ in range(3):
        with_token(srv, room)
    served(srv, room)  # served, no token: not counted
    assign(srv, room)  # waiting: not counted
    assert active_tokens(srv, room) == 3


def test_num_active_tokens_counts_a_refetched_token_once(srv):
    room = rs_room(srv)
    rid = with_token(srv, room)
    aws_json(public_generate(srv, room, rid), 200)
    aws_json(private_generate(srv, room, rid), 200)
    assert active_tokens(srv, room) == 1


def test_num_active_tokens_counts_native_passes(srv):
    room = rs_room(srv)
    t = srv.enqueue_ok(room)
    srv.advance(room, by=1)
    assert_json(srv.pass_for(room, t["ticket"]), 200)
    assert active_tokens(srv, room) == 1


def test_num_active_tokens_unknown_event_is_400(srv):
    r = call(srv, "GET", "/num_active_tokens", query={"event_id": "no-such-room"})
    aws_error(r, 400, "Invalid event ID")


def test_num_active_tokens_missing_event_id_is_400(srv):
    aws_error(call(srv, "GET", "/num_active_tokens"), 400, "Invalid event ID")


# ---- /expired_tokens ---------------------------------------------------------------------------

def test_expired_tokens_empty_room_is_empty_array(srv):
    room = rs_room(srv)
    with_token(srv, room)
    r = call(srv, "GET", "/expired_tokens", query={"event_id": room})
    assert aws_json(r, 200) == [], describe(r)


def test_expired_tokens_lists_only_tokens_expired_by_time(clock_srv):
    srv = clock_srv
    room = rs_room(srv)
    short = served(srv, room)
    aws_json(private_generate(srv, room, short, validity_period=1), 200)
    ended = served(srv, room)
    aws_json(private_generate(srv, room, ended, validity_period=1), 200)
    aws_json(update_session(srv, room, ended, 1), 200)
    live = with_token(srv, room)
    srv.advance_clock(2_200)
    ids = expired_tokens(srv, room)
    assert short in ids, ids
    assert ended not in ids, "a completed session is not an expired token"
    assert live not in ids, ids
    assert len(ids) == 1, ids


def test_expired_token_is_no_longer_active(clock_srv):
    srv = clock_srv
    room = rs_room(srv)
    short = served(srv, room)
    aws_json(private_generate(srv, room, short, validity_period=1), 200)
    with_token(srv, room)
    assert active_tokens(srv, room) == 2
    srv.advance_clock(1_200)
    assert active_tokens(srv, room) == 1


def test_expired_tokens_unknown_event_is_400(srv):
    r = call(srv, "GET", "/expired_tokens", query={"event_id": "no-such-room"})
    aws_error(r, 400, "Invalid event ID")


def test_expired_tokens_missing_event_id_is_400(srv):
    aws_error(call(srv, "GET", "/expired_tokens"), 400, "Invalid event ID")


# ---- /generate_token (private) -----------------------------------------------------------------

def test_private_generate_without_overrides_uses_room_settings(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    body = aws_json(private_generate(srv, room, rid), 200)
    assert set(body) == {"access_token", "refresh_token", "id_token", "token_type",
                         "expires_in"}, body
    c = claims_of(srv, room, body["access_token"])
    assert c["sub"] == rid and c["iss"] == ISSUER, c
    assert c["exp"] - c["iat"] == PASS_LIFETIME_S, c


def test_private_generate_issuer_override(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    body = aws_json(private_generate(srv, room, rid, issuer="https://oidc.example/api"), 200)
    for use in ("access", "refresh", "id"):
        c = claims_of(srv, room, body[f"{use}_token"])
        assert c["iss"] == "https://oidc.example/api", c
        assert c["token_use"] == use, c


def test_private_generate_validity_period_override(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    before = int(time.time())
    body = aws_json(private_generate(srv, room, rid, validity_period=120), 200)
    c = claims_of(srv, room, body["access_token"])
    assert c["exp"] - c["iat"] == 120, c
    assert before - CLOCK_SKEW_S <= c["iat"] <= int(time.time()) + CLOCK_SKEW_S, c
    assert 120 - CLOCK_SKEW_S <= body["expires_in"] <= 120, body


def test_private_generate_validity_period_upper_bound(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    body = aws_json(private_generate(srv, room, rid, validity_period=MAX_VALIDITY_S), 200)
    c = claims_of(srv, room, body["access_token"])
    assert c["exp"] - c["iat"] == MAX_VALIDITY_S, c


def test_private_generate_access_token_is_the_native_pass(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    body = aws_json(private_generate(srv, room, rid, issuer="https://oidc.example/api",
                                     validity_period=300), 200)
    native = assert_json(srv.pass_for(room, rid), 200)
    assert native["pass"] == body["access_token"]


def test_overrides_apply_to_first_issuance_only_public_refetch(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    first = aws_json(private_generate(srv, room, rid, issuer="https://oidc.example/api",
                                      validity_period=120), 200)
    again = aws_json(public_generate(srv, room, rid), 200)
    for k in ("access_token", "refresh_token", "id_token"):
        assert again[k] == first[k], f"{k} changed on public re-fetch"
    c = claims_of(srv, room, again["access_token"])
    assert c["iss"] == "https://oidc.example/api" and c["exp"] - c["iat"] == 120, c


def test_overrides_apply_to_first_issuance_only_private_refetch(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    first = aws_json(private_generate(srv, room, rid, issuer="https://first.example",
                                      validity_period=120), 200)
    again = aws_json(private_generate(srv, room, rid, issuer="https://second.example",
                                      validity_period=3600), 200)
    for k in ("access_token", "refresh_token", "id_token"):
        assert again[k] == first[k], f"{k} changed on private re-fetch with other overrides"
    assert again["expires_in"] <= 120, again


def test_overrides_do_not_apply_after_a_public_first_issuance(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    first = aws_json(public_generate(srv, room, rid), 200)
    again = aws_json(private_generate(srv, room, rid, issuer="https://oidc.example/api",
                                      validity_period=60), 200)
    assert again["access_token"] == first["access_token"]
    c = claims_of(srv, room, again["access_token"])
    assert c["iss"] == ISSUER and c["exp"] - c["iat"] == PASS_LIFETIME_S, c


def test_overrides_do_not_leak_into_other_request_ids(srv):
    # AWS's validity_period override stuck to the warm Lambda; here it must not.
    room = rs_room(srv)
    a, b = served(srv, room), served(srv, room)
    aws_json(private_generate(srv, room, a, issuer="https://oidc.example/api",
                              validity_period=60), 200)
    body = aws_json(private_generate(srv, room, b), 200)
    c = claims_of(srv, room, body["access_token"])
    assert c["iss"] == ISSUER and c["exp"] - c["iat"] == PASS_LIFETIME_S, c


@pytest.mark.parametrize("vp", [
    pytest.param(0, id="zero"),
    pytest.param(-1, id="negative"),
    pytest.param(MAX_VALIDITY_S + 1, id="over-a-week"),
    pytest.param(1.5, id="float"),
    pytest.param(60.0, id="integral-float"),
    pytest.param("60", id="string"),
    pytest.param(True, id="bool"),
    pytest.param(None, id="null"),
])
def test_private_generate_bad_validity_period_is_400_and_issues_nothing(srv, vp):
    room = rs_room(srv)
    rid = served(srv, room)
    aws_error(private_generate(srv, room, rid, validity_period=vp), 400)
    assert active_tokens(srv, room) == 0
    assert native_status(srv, room, rid) == "eligible"


@pytest.mark.parametrize("issuer", [
    pytest.param(5, id="number"),
    pytest.param(None, id="null"),
    pytest.param(["https://x.example"], id="array"),
    pytest.param({"iss": "https://x.example"}, id="object"),
    pytest.param(True, id="bool"),
])
def test_private_generate_non_string_issuer_is_400_and_issues_nothing(srv, issuer):
    room = rs_room(srv)
    rid = served(srv, room)
    aws_error(private_generate(srv, room, rid, issuer=issuer), 400)
    assert active_tokens(srv, room) == 0
    assert native_status(srv, room, rid) == "eligible"


def test_private_generate_before_served_is_202(srv):
    room = rs_room(srv)
    rid = assign(srv, room)
    aws_error(private_generate(srv, room, rid, validity_period=60), 202,
              "Request ID not being served yet")
    assert active_tokens(srv, room) == 0


def test_private_generate_unknown_request_id_is_400(srv):
    room = rs_room(srv)
    served(srv, room)
    aws_error(private_generate(srv, room, random_ticket_id()), 400, "Invalid request ID")


@pytest.mark.parametrize("rid", MALFORMED_IDS)
def test_private_generate_malformed_request_id_is_400(srv, rid):
    room = rs_room(srv)
    served(srv, room)
    aws_error(private_generate(srv, room, rid), 400, "Invalid event or request ID")


def test_private_generate_unknown_event_is_400(srv):
    room = rs_room(srv)
    rid = served(srv, room)
    aws_error(private_generate(srv, "no-such-room", rid), 400, "Invalid event or request ID")


def test_private_generate_after_session_end_is_410(srv):
    room = rs_room(srv)
    rid = with_token(srv, room)
    aws_json(update_session(srv, room, rid, -1), 200)
    aws_error(private_generate(srv, room, rid, validity_period=60), 410,
              "Token corresponding to request id has expired")


# ---- /reset_initial_state ----------------------------------------------------------------------

def reset(srv, event_id):
    return call(srv, "POST", "/reset_initial_state", {"event_id": event_id})


def busy_room(srv):
    """A room with a served, token-holding request id and one waiting id."""
    room = rs_room(srv)
    rid = with_token(srv, room)
    assign(srv, room)
    return room, rid


def test_reset_answers_reset_completed(srv):
    room, _ = busy_room(srv)
    r = reset(srv, room)
    assert aws_json(r, 200) == {"message": "Reset completed"}, describe(r)


def test_reset_sets_serving_to_zero(srv):
    room, _ = busy_room(srv)
    aws_json(reset(srv, room), 200)
    assert serving_num(srv, room) == 0
    assert srv.room_status(room)["serving"] == 0


def test_reset_restarts_queue_at_one(srv):
    room, _ = busy_room(srv)
    aws_json(reset(srv, room), 200)
    rid = assign(srv, room)
    assert aws_json(queue_num(srv, room, rid), 200)["queue_number"] == 1


def test_reset_forgets_old_request_ids(srv):
    room, rid = busy_room(srv)
    aws_json(reset(srv, room), 200)
    aws_error(queue_num(srv, room, rid), 404, "Request ID not found")


def test_reset_clears_active_tokens(srv):
    room, _ = busy_room(srv)
    aws_json(reset(srv, room), 200)
    assert active_tokens(srv, room) == 0
    assert waiting_num(srv, room) == 0


def test_reset_leaves_other_rooms_alone(srv):
    room, _ = busy_room(srv)
    other, other_rid = busy_room(srv)
    aws_json(reset(srv, room), 200)
    assert serving_num(srv, other) == 1
    assert aws_json(queue_num(srv, other, other_rid), 200)["queue_number"] == 1
    assert active_tokens(srv, other) == 1


def test_reset_unknown_event_is_400_and_resets_nothing(srv):
    room, rid = busy_room(srv)
    aws_error(reset(srv, "no-such-room"), 400, "Invalid event ID")
    assert srv.get("/v1/rooms/no-such-room").status_code == 404, "unknown room was created"
    assert serving_num(srv, room) == 1
    assert aws_json(queue_num(srv, room, rid), 200)["queue_number"] == 1
    assert active_tokens(srv, room) == 1


@pytest.mark.parametrize("payload", [
    pytest.param({}, id="missing-event_id"),
    pytest.param({"event_id": 5}, id="numeric-event_id"),
    pytest.param('{"event_id": ', id="truncated-json"),
    pytest.param("", id="empty"),
])
def test_reset_bad_body_is_400(srv, payload):
    aws_error(call(srv, "POST", "/reset_initial_state", payload), 400, "Invalid event ID")


# ---- who made a change: the audit trail and the events (docs/security.md, "Audit trail") --------

def audit_of(srv, room):
    r = srv.get("/admin/v1/audit", admin=True, params={"room": room, "limit": 1000})
    return assert_json(r, 200)["entries"]


def test_private_changes_are_recorded_with_their_signer(srv):
    room, rid = busy_room(srv)
    aws_json(increment(srv, room, 1), 200)
    aws_json(call(srv, "POST", "/update_session",
                  {"event_id": room, "request_id": rid, "status": 1}, key=OPERATOR_KEY,
                  secret=OPERATOR_SECRET), 200)
    aws_json(srv.post(PRIVATE + "/reset_initial_state", admin=True, json={"event_id": room}), 200)
    # Reads and refusals are not changes.
    active_tokens(srv, room)
    forbidden(call(srv, "POST", "/increment_serving_counter", {"event_id": room, "increment_by": 1},
                   key=VIEWER_KEY, secret=VIEWER_SECRET))
    entries = [e for e in audit_of(srv, room) if "/aws/" in e["action"]]
    assert [(e["actor"], e["via"], e["action"]) for e in entries] == [
        (ACCESS_KEY, "sigv4", "POST /aws/private/increment_serving_counter"),
        (OPERATOR_KEY, "sigv4", "POST /aws/private/update_session"),
        ("admin key", "admin_key", "POST /aws/private/reset_initial_state"),
    ], entries
    assert entries[0]["details"] == {"increment_by": 1} and entries[0]["status"] == 200
    assert entries[1]["details"]["request_id"] == rid
