"""Invitations across three nodes on one Redis (issue 20; docs/admission.md, "Invitations"): an
invitation's jti and its identity's places are part of the room's commits, so one invitation sent
to all three nodes at once takes one place, and many invitations for one person, spread over the
nodes at once, all answer the same place."""

import time
import uuid

import jwt as pyjwt

from test_codes_redis import race
from wrlib import unique_room

SECRET = "an HS256 secret the shop shares with the room, 32+ bytes"


def invitation(room, sub):
    return pyjwt.encode({"aud": room, "sub": sub, "jti": uuid.uuid4().hex,
                         "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256",
                        headers={"kid": "shop"})


def test_invitations_hold_across_three_nodes(cluster):
    room = cluster[0].create_room(
        unique_room("inv"), ticket_idle_timeout_s=0,
        invitations={"keys": [{"kid": "shop", "alg": "HS256", "secret": SECRET}]})

    # One invitation, 63 joins on three nodes: one place, the rest refused as used.
    token = invitation(room, "acct-1")
    answers = race(cluster, room, [{"invite": token}] * 63)
    won = [body for status, body in answers if status == 201]
    assert len(won) == 1, f"{len(won)} of 63 joins on three nodes took a place with one invitation"
    refused = [(status, body) for status, body in answers if status != 201]
    assert all(status == 401 and "used already" in body["detail"] for status, body in refused), \
        refused[:3]

    # 30 invitations for one person, at once on three nodes: one place, every answer names it.
    answers = race(cluster, room, [{"invite": invitation(room, "acct-2")} for _ in range(30)])
    assert all(status in (200, 201) for status, _ in answers), answers[:3]
    assert sum(status == 201 for status, _ in answers) == 1, answers
    assert len({body["ticket"] for _, body in answers}) == 1, answers[:3]
