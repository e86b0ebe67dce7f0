"""Every admin API route (/admin/v1), whatever the method or body, answers 401 problem+json
without the right key (or a dashboard session), and changes nothing."""

import pytest

from wrlib import assert_problem, describe

TICKET = "00000000-0000-4000-8000-000000000000"


def admin_routes(room, ticket=TICKET):
    """(method, path, json body) for every admin route, plus wrong methods and
    bodies: the key check comes before routing details and validation."""
    base = f"/admin/v1/rooms/{room}"
    return [
        ("GET", "/admin/v1/rooms", None),
        ("GET", base, None),
        ("PUT", base, {"pass_lifetime_s": 60}),
        ("PUT", base, None),
        ("DELETE", base, None),
        ("POST", f"{base}/advance", {"by": 5}),
        ("POST", f"{base}/advance", {"to": 7}),
        ("POST", f"{base}/advance", {"by": "bad"}),
        ("POST", f"{base}/pause", None),
        ("POST", f"{base}/resume", None),
        ("POST", f"{base}/reset", None),
        ("PUT", f"{base}/sessions/{ticket}", {"status": "revoked"}),
        ("PUT", f"{base}/sessions/{ticket}", {"status": "nonsense"}),
        ("PUT", f"{base}/message", {"text": "The sale starts at noon"}),
        ("DELETE", f"{base}/message", None),
        ("GET", f"{base}/codes", None),
        ("POST", f"{base}/codes", {"admit": True}),
        ("DELETE", f"{base}/codes/I", None),
        ("GET", f"{base}/stats", None),
        ("GET", f"{base}/signals", None),
        ("POST", f"{base}/signals", {"p95_ms": 100}),
        ("GET", f"{base}/inventory", None),
        ("POST", f"{base}/inventory", {"set": 10}),
        ("GET", f"{base}/admissions", None),
        ("GET", f"{base}/admissions?from=0", None),
        ("GET", f"{base}/history", None),
        ("POST", "/admin/v1/keys/rotate", None),
        ("POST", "/admin/v1/push/keys/rotate", None),
        ("GET", "/admin/v1/keys", None),
        ("POST", "/admin/v1/compact", None),
        ("GET", "/admin/v1/events", None),
        ("GET", "/admin/v1/tokens", None),
        ("GET", "/admin/v1/audit", None),
        ("POST", "/admin/v1/tokens", {"name": "x", "role": "admin"}),
        ("DELETE", "/admin/v1/tokens/I", None),
        # wrong methods on known admin routes
        ("PATCH", base, {"x": 1}),
        ("POST", "/admin/v1/rooms", {}),
        ("DELETE", "/admin/v1/keys", None),
        ("GET", "/admin/v1/keys/rotate", None),
        ("GET", "/admin/v1/compact", None),
        ("GET", f"{base}/advance", None),
        # rooms that do not exist still answer 401, not 404
        ("GET", "/admin/v1/rooms/no-such-room", None),
        ("POST", "/admin/v1/rooms/no-such-room/advance", {"by": 1}),
        ("PUT", "/admin/v1/rooms/brand-new-room", {}),
    ]


BAD_AUTH = {
    "missing": {},
    "wrong-key": {"Authorization": "Bearer wrong-key"},
    "empty-bearer": {"Authorization": "Bearer "},
    "basic": None,  # filled in with the real key, wrong scheme
    "no-scheme": None,  # the real key without "Bearer "
    "key-prefix": None,  # the real key minus its last character
    "key-suffix": None,  # the real key plus one character
}


def bad_headers(server, kind):
    key = server.admin_key
    return {
        "basic": {"Authorization": f"Basic {key}"},
        "no-scheme": {"Authorization": key},
        "key-prefix": {"Authorization": f"Bearer {key[:-1]}"},
        "key-suffix": {"Authorization": f"Bearer {key}x"},
    }.get(kind, BAD_AUTH[kind])


def snapshot(server, room, ticket):
    return {
        "room": server.admin_room(room),
        "stats": server.stats(room),
        "keys": server.get("/admin/v1/keys", admin=True).json(),
        "ticket": server.ticket(room, ticket).json(),
        "rooms": sorted(o["room"] for o in server.get("/admin/v1/rooms", admin=True).json()["rooms"]),
    }


@pytest.mark.parametrize("kind", list(BAD_AUTH))
def test_every_admin_route_requires_key(server, kind):
    room = server.create_room()
    t = server.enqueue_ok(room)
    server.advance(room, by=1)
    assert server.pass_for(room, t["ticket"]).status_code == 200
    before = snapshot(server, room, t["ticket"])
    headers = bad_headers(server, kind)
    failures = []
    for method, path, body in admin_routes(room, t["ticket"]):
        kw = {"json": body} if body is not None else {}
        r = server.request(method, path, headers=headers, **kw)
        try:
            problem = assert_problem(r, 401)
            assert server.admin_key not in r.text, "admin key echoed back"
            del problem
        except AssertionError as e:
            failures.append(f"{method} {path}: {e}")
    assert not failures, "\n".join(failures)
    assert snapshot(server, room, t["ticket"]) == before


def test_right_key_works_on_same_routes(server):
    # guards the test above against passing for the wrong reason (all admin routes 401)
    r = server.get("/admin/v1/rooms", admin=True)
    assert r.status_code == 200, describe(r)
    r = server.get("/admin/v1/keys", admin=True)
    assert r.status_code == 200, describe(r)


def listed_routes():
    """(method, pattern) from `waitroom routes`, so new admin routes get checked too."""
    import subprocess

    from wrlib import binary_path
    try:
        # Generous: it opens a throwaway data dir (new signing keys), slow under ASan on a machine
        # that runs every suite at once; a timeout here would skip the checks below.
        out = subprocess.run([str(binary_path()), "routes"], capture_output=True, text=True,
                             timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    routes = []
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].startswith("/"):
            routes.append((parts[0], parts[1]))
    return routes


def test_every_listed_admin_route_requires_key(server):
    # /admin/v1 is the admin API. The rest of /admin/ is the dashboard's sign-in page, its
    # session endpoints and assets (tests/http/test_dashboard.py checks those).
    routes = [(m, p) for m, p in listed_routes() if p.startswith("/admin/v1/")]
    assert routes, "`waitroom routes` lists no admin routes"
    room = server.create_room()
    t = server.enqueue_ok(room)
    covered = {(m, p.replace("{room}", "R").replace("{ticket}", "T").replace("{id}", "I")) for m, p, _ in
               admin_routes("R", "T")}
    failures = []
    for method, pattern in routes:
        if (method, pattern.replace("{room}", "R").replace("{ticket}", "T").replace("{id}", "I")) not in covered:
            failures.append(f"{method} {pattern}: not in admin_routes() of this file; add it")
        path = pattern.replace("{room}", room).replace("{ticket}", t["ticket"]).replace("{id}", "0" * 16)
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            r = server.request(method, path, headers=headers, json={})
            if r.status_code != 401:
                failures.append(f"{method} {path} {headers}: {r.status_code}" + describe(r))
    assert not failures, "\n".join(failures)
    assert server.admin_room(room)["queue_length"] == 1


def test_every_listed_route_exists(server):
    """Each route `waitroom routes` prints reaches its handler: no 405, and no 404 from the router
    ("no such resource"). A handler's own 404 for a made-up parameter (the page's static files,
    a resume token) shows the route exists."""
    routes = listed_routes()
    assert routes, "`waitroom routes` printed nothing"
    room = server.create_room()
    t = server.enqueue_ok(room)
    failures = []
    for method, pattern in routes:
        if method == "DELETE":
            continue  # would delete the room the others use
        path = pattern.replace("{room}", room).replace("{ticket}", t["ticket"]).replace("{id}", "0" * 16)
        # stream=True: the live update stream (…/events) answers 200 and never ends by itself.
        r = server.request(method, path, admin=path.startswith("/admin/"), json={}, stream=True)
        if r.status_code == 405 or (r.status_code == 404 and "no such resource" in r.text):
            failures.append(f"{method} {path}: {r.status_code}" + describe(r))
        r.close()
    assert not failures, "\n".join(failures)


def test_admin_key_never_reaches_the_logs(fresh_server):
    """The admin key is a bearer secret: neither a valid nor a rejected use of it is logged."""
    srv = fresh_server
    assert srv.get("/admin/v1/rooms", admin=True).status_code == 200
    wrong = srv.admin_key[::-1]
    assert srv.get("/admin/v1/rooms", headers={"Authorization": f"Bearer {wrong}"}).status_code == 401
    srv.restart()
    log = srv.log_text()
    assert srv.admin_key not in log and wrong not in log
