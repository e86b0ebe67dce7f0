"""Operator tokens on the Redis store (issue 19): a token created on one node works on every node,
and once revoked on any node it is refused by every node at once."""

from wrlib import assert_problem, describe


def test_a_token_is_shared_and_its_revocation_is_seen_at_once(cluster):
    made = cluster[0].post("/admin/v1/tokens", admin=True,
                           json={"name": "night-shift", "role": "operator"})
    assert made.status_code == 201, describe(made)
    token = made.json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    room = cluster[0].create_room()
    for node in cluster:
        r = node.post(f"/admin/v1/rooms/{room}/advance", headers=headers, json={"by": 1})
        assert r.status_code == 200, describe(r)
    assert_problem(cluster[1].post(f"/admin/v1/rooms/{room}/reset", headers=headers), 403)
    r = cluster[2].delete(f"/admin/v1/tokens/{made.json()['id']}", admin=True)
    assert r.status_code == 200, describe(r)
    for node in cluster:
        assert_problem(node.get(f"/admin/v1/rooms/{room}", headers=headers), 401)
    listed = cluster[1].get("/admin/v1/tokens", admin=True).json()["tokens"]
    assert [t["name"] for t in listed] == ["night-shift"] and listed[0]["revoked_at"]
    # Its uses were noted beside it, and the revocation written after them stands.
    assert listed[0]["last_used_at"] and listed[0]["last_used_at"] <= listed[0]["revoked_at"] + 1


def test_the_audit_trail_is_one_for_every_node(cluster):
    room = cluster[0].create_room()
    cluster[1].advance(room, by=1)
    cluster[2].post(f"/admin/v1/rooms/{room}/pause", admin=True)
    for node in cluster:
        r = node.get("/admin/v1/audit", admin=True, params={"room": room})
        assert r.status_code == 200, describe(r)
        assert [e["action"] for e in r.json()["entries"]] == [
            "PUT /admin/v1/rooms/{room}", "POST /admin/v1/rooms/{room}/advance",
            "POST /admin/v1/rooms/{room}/pause"]
