"""Drawings: a scheduled event with queueing "draw" and `winners`, recomputed from its seed.

- when the pre-queue opens, GET /v1/rooms/{room}/draws publishes the commitment and the
  `winners`, and no seed; pre-queue tickets say `"drawing": {"status": "registered"}`;
- at the start the seed hashes to the commitment, and every entrant still there stands where
  the drawn order (recomputed here, in Python, from the published seed alone) puts it: the
  first `winners` of those who stayed are "won", the others are on the waitlist, numbered
  1, 2, 3... in drawn order, with no eta; visitors who left before the start cost no turn;
- joins and `advance {"to": n}` during the drawing are 409 problems, and `advance {"by": n}`
  lets nobody in beyond the turns;
- winners who do not claim their pass within claim_timeout_s expire and their turns go to
  the next on the waitlist, passing over one who left meanwhile: the admissions log equals the
  drawn order minus the leavers, cut at the winners plus the unclaimed turns; a waitlist number
  a polling visitor sees never goes up, and the rest of the waitlist ends numbered 1, 2, 3...;
- a visitor who leaves the waitlist takes no number: once their ticket says "expired", those
  still there are numbered 1, 2, 3... again, whatever the leaver's position was;
- the draw, the turns taken (claimed or not yet) and the standings survive a restart in the
  claim window;
- `waitroom verify-shuffle --winners` labels the drawn order won / waitlist n as Python does,
  accepts the served order with the unclaimed turns, and says FAIL for one admission too many.
"""

import hashlib
import subprocess

from conflib import (DURABILITY, TESTING_CONFIG, FastClient, admissions, clock_advance,
                     clock_advance_to, enqueue_many, expect, make_room, now_ms, rfc3339)
from test_shuffle import draw_order
from wrlib import assert_json, assert_problem, binary_path, describe

ENTRANTS = 40
WINNERS = 10
IDLE_S = 60          # ticket_idle_timeout_s: the leavers are gone before the start
CLAIM_S = 90         # claim_timeout_s: a late leaver is gone before the unclaimed turns pass on
NOT_CLAIMING = 3     # the first three winners (drawn order) never claim their pass
POLL_EVERY_S = 10


def draws(srv, room):
    r = srv.get(f"/v1/rooms/{room}/draws")
    return assert_json(r, 200)["draws"]


def verify_cli(*args):
    return subprocess.run([str(binary_path()), "verify-shuffle", *args], capture_output=True,
                          text=True, timeout=60)


def standing(body):
    """("won",) / ("waitlist", n) / ("registered",) / None from a ticket's JSON."""
    d = body.get("drawing")
    if d is None:
        return None
    if d.get("status") == "waitlist":
        return ("waitlist", d.get("waitlist_position"))
    return (d.get("status"),)


def test_drawing_recomputed_from_the_seed_with_waitlist_and_replacements(server_factory,
                                                                         tmp_path):
    srv = server_factory(config_text=TESTING_CONFIG, durability=DURABILITY)
    t0 = now_ms(srv) // 1000
    prequeue_start, start = t0 + 10, t0 + 100
    event = {"prequeue_start": rfc3339(prequeue_start), "start": rfc3339(start),
             "end": rfc3339(t0 + 36_000), "winners": WINNERS,
             "overrides": {"queueing": "draw",
                           "admission": {"mode": "rate", "rate_per_minute": 600}}}
    room = make_room(srv, pass_lifetime_s=3600, ticket_idle_timeout_s=IDLE_S,
                     claim_timeout_s=CLAIM_S, events=[event])
    [ev] = srv.admin_room(room)["events"]
    assert ev.get("winners") == WINNERS and ev["overrides"].get("queueing") == "draw", ev

    # ---- registration ---------------------------------------------------------------------
    clock_advance_to(srv, prequeue_start * 1000 + 100)
    [d] = draws(srv, room)
    assert d["seed"] is None and len(d["commitment"]) == 64, d
    assert d.get("winners") == WINNERS, f"/draws must publish the winners with the commitment: {d}"
    assert d["first_position"] == 1, d
    commitment = d["commitment"]

    joined = enqueue_many(srv, room, ENTRANTS)
    ticket = {t["position"]: t["ticket"] for t in joined}
    assert sorted(ticket) == list(range(1, ENTRANTS + 1)), sorted(ticket)
    c = FastClient(srv)

    def get(p):
        return expect(c.ticket(room, ticket[p]), 200)

    for p in ticket:
        body = get(p)
        assert body["status"] == "waiting" and body["ahead"] is None and body["eta"] is None, body
        assert body.get("drawing") == {"status": "registered"}, (
            f"a pre-queue entrant of a drawing is registered: position {p}: {body}")
    leavers = {p for p in ticket if p % 4 == 0}        # never seen again
    stayers = sorted(set(ticket) - leavers)            # keep their page open

    while now_ms(srv) < start * 1000 - POLL_EVERY_S * 1000:
        clock_advance(srv, POLL_EVERY_S * 1000)
        for p in stayers:
            body = get(p)
            assert body["status"] == "waiting" and body.get("drawing") == {"status": "registered"}, \
                f"position {p} polled every {POLL_EVERY_S} s: {body}"
    assert srv.stats(room)["admitted"] == 0, "nobody is admitted before the start"

    # ---- the draw ---------------------------------------------------------------------------
    clock_advance_to(srv, start * 1000 + 100)
    [d] = draws(srv, room)
    assert d["seed"] is not None and d["started_at"] is not None, d
    assert d.get("winners") == WINNERS and d["commitment"] == commitment, d
    seed = bytes.fromhex(d["seed"])
    assert hashlib.sha256(seed).hexdigest() == commitment, "the seed does not match the commitment"
    assert d["shuffled_first"] == 1 and d["last_position"] == ENTRANTS, d
    order = draw_order(seed, 1, ENTRANTS)

    present = [p for p in order if p not in leavers]   # drawn order of those still there
    winners = present[:WINNERS]
    not_claiming = set(winners[:NOT_CLAIMING])
    late_leaver = present[WINNERS + 1]                 # waitlist 2: stops polling now

    def expect_standings(who, label):
        wrong = []
        for i, p in enumerate(who):
            body = get(p)
            want = ("won",) if i < WINNERS else ("waitlist", i - WINNERS + 1)
            got = standing(body)
            if got != want or (got == ("waitlist", i - WINNERS + 1) and body["eta"] is not None):
                wrong.append(f"position {p} (drawn {order.index(p) + 1}, {i + 1} of those "
                             f"present): expected {want}, got {got}, status {body['status']}, "
                             f"eta {body['eta']}")
        assert not wrong, f"{label}: standings differ from the published seed's:\n" + \
            "\n".join(wrong)

    expect_standings(present, "at the start")
    for p in leavers:
        body = get(p)
        assert body["status"] == "expired" and standing(body) not in (("won",),), (
            f"position {p} left {IDLE_S}+ s before the start: {body}")

    # ---- registration is closed; the operator cannot let in more than the turns ---------------
    assert_problem(srv.enqueue(room), 409)
    assert_problem(srv.post(f"/admin/v1/rooms/{room}/advance", admin=True,
                            json={"to": ENTRANTS}), 409)
    r = srv.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"by": ENTRANTS})
    assert r.status_code in (200, 409), describe(r)
    clock_advance(srv, 2000)  # 10 a second: every winner's turn is taken
    log = [a["position"] for a in admissions(srv, room)]
    assert log == winners, (f"admitted {log}; the seed gives the winners {winners} "
                            f"(drawn order {order}, leavers {sorted(leavers)}; "
                            f"advance {{by: {ENTRANTS}}} answered {r.status_code})")
    r = srv.post(f"/admin/v1/rooms/{room}/advance", admin=True, json={"by": 5})
    assert r.status_code in (200, 409), describe(r)
    assert [a["position"] for a in admissions(srv, room)] == winners, (
        "advance {by: 5} let in more of the drawing than its winners" + describe(r))

    # ---- claims, unclaimed turns passing on ----------------------------------------------------
    claimed = set()
    numbers = {}   # position -> waitlist numbers seen, in order
    polling = [p for p in present if p != late_leaver]

    def poll_all():
        for p in polling:
            body = get(p)
            s = standing(body)
            if s and s[0] == "waitlist":
                numbers.setdefault(p, []).append(s[1])
            if body["status"] == "eligible" and p not in not_claiming and p not in claimed:
                assert s == ("won",), f"an eligible entrant of the drawing has won: {body}"
                assert_json(srv.pass_for(room, ticket[p]), 200)
                claimed.add(p)

    poll_all()
    assert claimed == set(winners) - not_claiming, (claimed, winners)
    expect_standings(present, "winners admitted")

    # A restart in the claim window keeps the draw, the turns taken and the standings. (The
    # manual clock restarts at the real time, behind the test's: it is moved back to where it
    # was with the visitors polling as before.)
    before = now_ms(srv)
    c.close()
    srv.restart()
    assert draws(srv, room) == [d], f"/draws changed across a restart: {draws(srv, room)} vs {[d]}"
    expect_standings(present, "after a restart")
    while now_ms(srv) < before:
        clock_advance(srv, POLL_EVERY_S * 1000)
        poll_all()
    assert [a["position"] for a in admissions(srv, room)] == winners, "admitted after a restart"

    end_at = start + 2 + CLAIM_S + 20
    while now_ms(srv) < end_at * 1000:
        clock_advance(srv, POLL_EVERY_S * 1000)
        poll_all()

    replacements = [p for p in present if p != late_leaver][WINNERS:WINNERS + NOT_CLAIMING]
    expected = winners + replacements
    log = admissions(srv, room)
    served = [a["position"] for a in log]
    assert served == expected, (
        f"admitted {served}; from the seed: winners {winners}, {NOT_CLAIMING} unclaimed turns "
        f"to {replacements} (waitlist minus {late_leaver}, who left)")
    assert claimed == set(expected) - not_claiming, (sorted(claimed), expected)
    for p in not_claiming:
        body = get(p)
        assert body["status"] == "expired", f"a winner who never claimed: {body}"
        assert_problem(srv.pass_for(room, ticket[p]), 410)
    body = get(late_leaver)
    assert body["status"] == "expired" and late_leaver not in served, body

    rises = [f"position {p}: {ns}" for p, ns in numbers.items()
             if any(b > a for a, b in zip(ns, ns[1:]))]
    assert not rises, "a waitlist number went up between polls:\n" + "\n".join(rises)
    still = [p for p in present if p not in expected and p != late_leaver]

    def expect_waitlist(label):
        got = [standing(get(p)) for p in still]
        want = [("waitlist", n) for n in range(1, len(still) + 1)]
        assert got == want, f"{label}: the rest of the waitlist {still} stands {got}"

    expect_waitlist("after the replacements")
    clock_advance(srv, 30_000)  # no more turns come free
    poll_all()
    assert [a["position"] for a in admissions(srv, room)] == expected
    expect_waitlist("30 s later")
    c.close()

    # ---- verify-shuffle --winners -------------------------------------------------------------
    labels = verify_cli("--seed", d["seed"], "--commitment", commitment, "--first", "1",
                        "--last", str(ENTRANTS), "--winners", str(WINNERS))
    assert labels.returncode == 0, labels.stderr
    want = [f"{p}\twon" if i < WINNERS else f"{p}\twaitlist {i - WINNERS + 1}"
            for i, p in enumerate(order)]
    assert labels.stdout.splitlines() == want, labels.stdout

    served_file = tmp_path / "served.txt"
    unclaimed_file = tmp_path / "unclaimed.txt"
    served_file.write_text("".join(f"{p}\n" for p in served))
    unclaimed_file.write_text("".join(f"{p}\n" for p in sorted(not_claiming)))
    args = ["--seed", d["seed"], "--commitment", commitment, "--first", "1",
            "--last", str(ENTRANTS), "--winners", str(WINNERS), "--served", str(served_file)]
    ok = verify_cli(*args, "--unclaimed", str(unclaimed_file))
    assert ok.returncode == 0 and "OK" in ok.stderr, ok.stderr
    no_unclaimed = verify_cli(*args)
    assert no_unclaimed.returncode == 1 and "FAIL" in no_unclaimed.stderr, no_unclaimed.stderr
    served_file.write_text("".join(f"{p}\n" for p in served + [still[0]]))
    extra = verify_cli(*args, "--unclaimed", str(unclaimed_file))
    assert extra.returncode == 1 and "FAIL" in extra.stderr, (
        f"one admission beyond the turns ({still[0]}, waitlist 1) must fail: {extra.stderr}")


def test_a_visitor_who_leaves_the_waitlist_takes_no_number(clock_server):
    """Once a waitlisted visitor is gone (idle past ticket_idle_timeout_s, their ticket says
    "expired"), the visitors behind them move up: the waitlist of those still there is
    numbered 1, 2, 3... in drawn order, whatever the leavers' positions (ticket numbers) were
    (a position at or below the serving counter as well as one above it)."""
    srv = clock_server
    entrants, winners_n = 30, 10
    t0 = now_ms(srv) // 1000
    start = t0 + 100
    room = make_room(srv, pass_lifetime_s=3600, ticket_idle_timeout_s=IDLE_S, claim_timeout_s=0,
                     events=[{"prequeue_start": rfc3339(t0 + 10), "start": rfc3339(start),
                              "end": rfc3339(t0 + 36_000), "winners": winners_n,
                              "overrides": {"queueing": "draw",
                                            "admission": {"mode": "rate",
                                                          "rate_per_minute": 600}}}])
    clock_advance_to(srv, (t0 + 10) * 1000 + 100)
    ticket = {t["position"]: t["ticket"] for t in enqueue_many(srv, room, entrants)}
    c = FastClient(srv)

    def get(p):
        return expect(c.ticket(room, ticket[p]), 200)

    def poll(positions):
        for p in positions:
            get(p)

    while now_ms(srv) < start * 1000 - POLL_EVERY_S * 1000:
        clock_advance(srv, POLL_EVERY_S * 1000)
        poll(ticket)
    clock_advance_to(srv, start * 1000 + 2000)  # the winners' turns are taken
    poll(ticket)
    [d] = draws(srv, room)
    order = draw_order(bytes.fromhex(d["seed"]), 1, entrants)
    assert [a["position"] for a in admissions(srv, room)] == order[:winners_n]
    serving = srv.room_status(room)["serving"]
    waitlist = order[winners_n:]
    # Behind waitlist 1 (who stays, so the line waits there): one leaver whose position the
    # serving counter has passed, and one whose position it has not.
    gone = [next(p for p in waitlist[1:] if p <= serving)]
    gone += [p for p in waitlist[1:] if p > serving][:1]

    for _ in range((IDLE_S + 2 * POLL_EVERY_S) // POLL_EVERY_S):
        clock_advance(srv, POLL_EVERY_S * 1000)
        poll(p for p in ticket if p not in gone)
    for p in gone:
        body = get(p)
        assert body["status"] == "expired", f"position {p} stopped polling {IDLE_S}+ s ago: {body}"
    rest = [p for p in waitlist if p not in gone]
    got = [(p, standing(get(p))) for p in rest]
    want = [(p, ("waitlist", n)) for n, p in enumerate(rest, 1)]
    c.close()
    assert got == want, (
        f"waitlist {waitlist} (serving {serving}); {gone} left and say \"expired\", so the others "
        f"should stand 1..{len(rest)} in drawn order:\n  got  {got}\n  want {want}\n"
        f"stats: {srv.stats(room)}")
