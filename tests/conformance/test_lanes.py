"""Priority lanes and access codes (issue 20, items 1 and 2; docs/admission.md).

- each lane gets its share of admissions within ±2% over 5 simulated minutes;
- a late VIP never moves anyone back: no waiting visitor's `ahead` ever grows
  under a steady stream of VIP arrivals;
- caps count every lane;
- a single-use code raced by 64 joins admits exactly one;
- codes are refused with a clear problem when unknown, used up, expired or
  withdrawn, and a code moves a visitor who is already waiting to its lane.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from conflib import (FastClient, admissions, clock_advance, expect, make_room, set_room)

LANES = [{"name": "vip", "share": 0.3}, {"name": "members", "share": 0.2}]
SHARES = {"vip": 0.3, "members": 0.2, "default": 0.5}


def new_code(srv, room, **body):
    r = srv.post(f"/admin/v1/rooms/{room}/codes", admin=True, json=body)
    out = expect_json(r, 201)
    assert isinstance(out.get("code"), str) and out["code"], out
    return out


def expect_json(r, status):
    assert r.status_code == status, (f"expected {status}, got {r.status_code}: {r.text[:500]}")
    return r.json()


def join_many(srv, room, n, code=None, threads=4):
    """n new visitors (201 each), with `code` if given; returns their answers."""
    per = [n // threads + (1 if i < n % threads else 0) for i in range(threads)]
    body = {"code": code} if code else {}

    def work(count):
        c = FastClient(srv)
        try:
            return [expect(c.request("POST", f"/v1/rooms/{room}/tickets", body=body), 201)
                    for _ in range(count)]
        finally:
            c.close()

    with ThreadPoolExecutor(max_workers=threads) as ex:
        return [t for part in ex.map(work, per) for t in part]


def lane_room(srv, **settings):
    base = {"ticket_idle_timeout_s": 0, "claim_timeout_s": 0, "lanes": LANES}
    base.update(settings)
    return make_room(srv, **base)


def test_lane_shares_hold_within_two_percent_over_five_minutes(clock_server):
    srv = clock_server
    room = lane_room(srv)
    # More in each lane than its share of 3,000 admissions, so no lane runs dry.
    counts = {"default": 2000, "vip": 1200, "members": 800}
    vip = new_code(srv, room, lane="vip", uses=counts["vip"])
    members = new_code(srv, room, lane="members", uses=counts["members"])
    lane_of = {}
    for code, lane in ((None, "default"), (vip["code"], "vip"), (members["code"], "members")):
        for t in join_many(srv, room, counts[lane], code):
            assert t["lane"] == lane, t
            lane_of[t["position"]] = lane
    set_room(srv, room, admission={"mode": "rate", "rate_per_minute": 600})
    for _ in range(10):
        clock_advance(srv, 30_000)
    log = admissions(srv, room)
    assert abs(len(log) - 3000) <= 60, f"{len(log)} admitted in 5 minutes at 600 a minute"
    got = {lane: 0 for lane in SHARES}
    for a in log:
        got[lane_of[a["position"]]] += 1
    for lane, share in SHARES.items():
        assert abs(got[lane] / len(log) - share) <= 0.02, (
            f"lane {lane} got {got[lane]} of {len(log)} admissions, expected {share:.0%} ±2%: {got}")
    # Each lane in its own order.
    for lane in SHARES:
        order = [a["position"] for a in log if lane_of[a["position"]] == lane]
        assert order == sorted(order), f"lane {lane} admitted out of order: {order[:20]}"
    listed = expect_json(srv.get(f"/admin/v1/rooms/{room}/codes", admin=True), 200)["codes"]
    assert [c["used"] for c in listed] == [counts["vip"], counts["members"]], listed
    assert all("code" not in c for c in listed), f"a code's text was listed: {listed}"


def test_nobodys_ahead_grows_while_vips_keep_arriving(clock_server):
    srv = clock_server
    room = lane_room(srv, admission={"mode": "rate", "rate_per_minute": 120})
    vip = new_code(srv, room, lane="vip", uses=1000)
    plain = join_many(srv, room, 150)
    vips = join_many(srv, room, 10, vip["code"])
    watched = [t for t in plain if t["position"] in (5, 60, 149)] + vips[-2:]
    last = {t["ticket"]: t["ahead"] for t in watched}
    c = FastClient(srv)
    try:
        for second in range(60):
            expect(c.request("POST", f"/v1/rooms/{room}/tickets", body={"code": vip["code"]}), 201)
            clock_advance(srv, 1000)
            for t in watched:
                now = expect(c.ticket(room, t["ticket"]), 200)
                if now["status"] != "waiting":
                    continue
                assert now["ahead"] <= last[t["ticket"]], (
                    f"after {second + 1} s of VIP arrivals, position {t['position']} "
                    f"({now['lane']}) went from {last[t['ticket']]} ahead to {now['ahead']}")
                last[t["ticket"]] = now["ahead"]
    finally:
        c.close()


def test_caps_count_every_lane(clock_server):
    srv = clock_server
    room = lane_room(srv, admission={"mode": "max_active", "max_active": 20})
    vip = new_code(srv, room, lane="vip", uses=100)
    join_many(srv, room, 40)
    join_many(srv, room, 40, vip["code"])
    clock_advance(srv, 2000)
    stats = srv.stats(room)
    assert stats["eligible"] + stats["active_sessions"] == 20, stats


def test_a_single_use_code_raced_by_64_joins_admits_one(clock_server):
    srv = clock_server
    room = lane_room(srv)
    code = new_code(srv, room, admit=True)["code"]
    barrier = threading.Barrier(64)
    answers = []
    lock = threading.Lock()

    def race():
        c = FastClient(srv)
        try:
            barrier.wait()
            r = c.request("POST", f"/v1/rooms/{room}/tickets", body={"code": code})
            with lock:
                answers.append(r)
        finally:
            c.close()

    threads = [threading.Thread(target=race) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = [r for r in answers if r.status == 201]
    assert len(won) == 1, f"{len(won)} of 64 joins got in with one single-use code"
    assert won[0].json()["status"] == "eligible", won[0].describe()
    lost = [r for r in answers if r.status != 201]
    assert all(r.status == 403 and "used up" in r.json()["detail"] for r in lost), (
        lost[0].describe())


def test_codes_refused_with_a_reason_and_a_waiting_visitor_moves_to_the_lane(clock_server):
    srv = clock_server
    room = lane_room(srv)
    c = FastClient(srv)
    try:
        def join(code, cookie=None):
            h = {"Cookie": f"waitroom_{room}={cookie}"} if cookie else None
            return c.request("POST", f"/v1/rooms/{room}/tickets", body={"code": code}, headers=h)

        r = join("no such code!")
        assert r.status == 400, r.describe()
        assert join("NOSUCHCODE").status == 403
        expiring = new_code(srv, room, lane="vip", expires_in_s=60)
        withdrawn = new_code(srv, room, lane="vip", uses=5)
        expect_json(srv.delete(f"/admin/v1/rooms/{room}/codes/{withdrawn['id']}", admin=True), 200)
        r = join(withdrawn["code"])
        assert r.status == 403 and "withdrawn" in r.json()["detail"], r.describe()
        clock_advance(srv, 61_000)
        r = join(expiring["code"])
        assert r.status == 403 and "expired" in r.json()["detail"], r.describe()

        # A visitor waiting in the default lane types a VIP code: a VIP place, the old one given up.
        first = expect(c.request("POST", f"/v1/rooms/{room}/tickets"), 201)
        vip = new_code(srv, room, lane="vip", uses=5, code="vip-2026-early")
        moved = expect(join("VIP2026EARLY", first["ticket"]), 201)  # case and dashes do not count
        assert moved["lane"] == "vip" and moved["ticket"] != first["ticket"], moved
        old = expect(c.ticket(room, first["ticket"]), 200)
        assert old["status"] == "expired", old
        again = expect(join("vip-2026-early", moved["ticket"]), 200)  # sent twice: the same place
        assert again["ticket"] == moved["ticket"]
        listed = expect_json(srv.get(f"/admin/v1/rooms/{room}/codes", admin=True), 200)["codes"]
        assert next(x for x in listed if x["id"] == vip["id"])["used"] == 1, listed
    finally:
        c.close()


def test_code_and_lane_settings_are_checked(clock_server):
    srv = clock_server
    room = lane_room(srv)
    for body in ({"lane": "gold"}, {}, {"lane": "vip", "admit": True}, {"lane": "vip", "uses": 0},
                 {"lane": "vip", "code": "abc"}, {"lane": "vip", "colour": "red"}):
        r = srv.post(f"/admin/v1/rooms/{room}/codes", admin=True, json=body)
        assert r.status_code == 400, f"{body}: {r.status_code} {r.text}"
        assert r.headers["Content-Type"].startswith("application/problem+json")
    vip = new_code(srv, room, lane="vip", uses=3)
    r = srv.post(f"/admin/v1/rooms/{room}/codes", admin=True, json={"lane": "vip",
                                                                      "code": vip["code"]})
    assert r.status_code == 409, r.text
    for lanes in ([{"name": "vip", "share": 0.6}, {"name": "x", "share": 0.5}],
                  [{"name": "default", "share": 0.1}], [{"name": "vip"}]):
        r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"lanes": lanes})
        assert r.status_code == 400, f"{lanes}: {r.text}"
    join_many(srv, room, 2, vip["code"])
    # A lane people wait in keeps its name and place; a new lane may follow it.
    r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"lanes": LANES[1:]})
    assert r.status_code == 409 and "vip" in r.json()["detail"], r.text
    set_room(srv, room, lanes=LANES + [{"name": "staff", "share": 0.1}])
    r = srv.put(f"/admin/v1/rooms/{room}", admin=True, json={"queueing": "random"})
    assert r.status_code == 400, r.text
