"""Refused credentials are logged (docs/security.md#refused-credentials-in-the-log): a wrong admin
key, a refused SigV4 signature with its reason, dashboard sign-in failures and throttling, each as
one JSON line "authentication failed" with the client address, the route and the reason, and
never the secret that was sent."""

import datetime
import json

from test_aws_private_api import ACCESS_KEY, CONFIG as AWS_CONFIG, PRIVATE, SECRET_KEY, sign
from wrlib import describe

WRONG_KEY = "wrong-admin-key-d41d8cd98f00b204e9800998ecf8427e"
WRONG_SECRET = "WrongSecretKeyThatMustNeverBeLogged/0123456"


def auth_lines(srv):
    out = []
    for line in srv.log_text().splitlines():
        if '"authentication failed"' in line:
            out.append(json.loads(line))
    return out


def test_a_wrong_admin_key_is_logged_with_client_route_and_reason(server_factory):
    srv = server_factory()
    r = srv.get("/admin/v1/rooms?x=1", headers={"Authorization": f"Bearer {WRONG_KEY}"})
    assert r.status_code == 401, describe(r)
    r = srv.get("/admin/v1/rooms/demo",
                headers={"Authorization": f"Bearer {WRONG_KEY}", "X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 401, describe(r)
    r = srv.delete("/admin/v1/rooms/demo")
    assert r.status_code == 401, describe(r)
    lines = auth_lines(srv)
    assert [(x["credential"], x["client"], x["route"], x["reason"], x["level"]) for x in lines] == [
        ("admin_key", "127.0.0.1", "GET /admin/v1/rooms", "wrong admin key or operator token",
         "warning"),
        ("admin_key", "203.0.113.9", "GET /admin/v1/rooms/demo",
         "wrong admin key or operator token", "warning"),
        ("admin_key", "127.0.0.1", "DELETE /admin/v1/rooms/demo",
         "no admin key, operator token or dashboard session", "warning"),
    ], lines
    assert lines[1]["peer"] == "127.0.0.1"  # the proxy the client came through
    assert WRONG_KEY not in srv.log_text()
    # The right key is not logged as a failure.
    assert srv.get("/admin/v1/rooms", admin=True).status_code == 200
    assert len(auth_lines(srv)) == 3
    # An operator token that no longer works says why, by its id, never with its secret.
    made = srv.post("/admin/v1/tokens", admin=True, json={"name": "gone", "role": "viewer"}).json()
    assert srv.delete(f"/admin/v1/tokens/{made['id']}", admin=True).status_code == 200
    r = srv.get("/admin/v1/rooms", headers={"Authorization": f"Bearer {made['token']}"})
    assert r.status_code == 401, describe(r)
    last = auth_lines(srv)[-1]
    assert (last["credential"], last["reason"]) == ("operator_token",
                                                    f"revoked operator token {made['id']}")
    assert made["token"].split("_", 2)[2] not in srv.log_text()


def signed(srv, **kw):
    target, headers = sign(srv, "GET", PRIVATE + "/num_active_tokens", query={"event_id": "demo"}, **kw)
    return srv.request("GET", target, headers=headers)


def test_refused_sigv4_signatures_are_logged_with_their_reason(server_factory):
    srv = server_factory(config_text=AWS_CONFIG)
    assert signed(srv).status_code == 200
    assert signed(srv, key="AKIDUNKNOWNKEY0000001").status_code == 403
    assert signed(srv, secret=WRONG_SECRET).status_code == 403
    old = datetime.datetime.utcnow() - datetime.timedelta(hours=1)
    assert signed(srv, at=old).status_code == 403
    lines = auth_lines(srv)
    assert [(x["credential"], x["route"], x["client"]) for x in lines] == [
        ("aws_sigv4", "GET /aws/private/num_active_tokens", "127.0.0.1")] * 3, lines
    reasons = [x["reason"] for x in lines]
    assert "unknown access key" in reasons[0], reasons
    assert "signature mismatch" in reasons[1], reasons
    assert "too old" in reasons[2], reasons
    log = srv.log_text()
    assert WRONG_SECRET not in log and SECRET_KEY not in log
    assert "Signature=" not in log  # the signature itself stays out too
    assert ACCESS_KEY  # (the access key id is not a secret: AWS logs it as well)


def test_dashboard_sign_in_failures_and_throttling_are_logged(server_factory):
    srv = server_factory()
    for _ in range(5):
        r = srv.post("/admin/session", data={"key": WRONG_KEY})
        assert r.status_code == 401, describe(r)
    r = srv.post("/admin/session", data={"key": srv.admin_key})
    assert r.status_code == 429, describe(r)
    lines = auth_lines(srv)
    assert [(x["credential"], x["route"], x["client"]) for x in lines] == [
        ("dashboard_sign_in", "POST /admin/session", "127.0.0.1")] * 6, lines
    assert [x["reason"] for x in lines] == ["wrong admin key"] * 5 + [
        "throttled after repeated failures"], lines
    log = srv.log_text()
    assert WRONG_KEY not in log and srv.admin_key not in log
