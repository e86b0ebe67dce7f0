"""A session ended on one node is never handed out as a pass by another (issue 23): 300 rounds of
claim on node A, a check at node B's gate (so B holds the pass), revoke on A (200), then at once
`POST .../pass` on B. Before, B answered from its copy of the room and handed the revoked pass out
again in 7-16 rounds of 300; now handing out a pass looks at the room's log first, and every one of
these is refused. The gate's own window (B's gate accepting the revoked pass for a moment, checked
from its copy without asking Redis) is measured here too: its longest is asserted under the
second docs/scaling.md states, and the figures go to the test's output."""

import time

from wrlib import describe, unique_room

GATE = "/gate/v1/check"
ROUNDS = 300


def test_a_revoked_pass_is_never_handed_out_by_another_node(cluster):
    a, b = cluster[0], cluster[1]
    room = a.create_room(unique_room("revoke"), admission={"mode": "manual"},
                         target_url="https://shop.example/",
                         abuse={"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0})
    handed_out, windows = [], []
    for i in range(ROUNDS):
        t = a.enqueue_ok(room)
        a.advance(room, to=t["position"])
        r = a.pass_for(room, t["ticket"])
        assert r.status_code == 200, describe(r)
        token = r.json()["pass"]
        auth = {"Authorization": f"Bearer {token}"}
        assert b.get(GATE, params={"room": room}, headers=auth).status_code == 204
        r = a.set_session(room, t["ticket"], "revoked")
        assert r.status_code == 200, describe(r)
        revoked_at = time.monotonic()
        again = b.pass_for(room, t["ticket"])
        if again.status_code == 200:
            handed_out.append((i, again.json()["pass"] == token))
        else:
            assert again.status_code == 410, describe(again)
        # The gate's window: until B's gate refuses the revoked pass.
        while b.get(GATE, params={"room": room}, headers=auth).status_code == 204:
            assert time.monotonic() - revoked_at < 2.0, "node B's gate kept the revoked pass"
        windows.append(time.monotonic() - revoked_at)
    assert handed_out == [], f"node B handed out revoked passes in rounds {handed_out}"
    windows.sort()
    p99, worst = windows[int(len(windows) * 0.99) - 1], windows[-1]
    accepted = sum(1 for w in windows if w > 0.0015)
    print(f"gate window after a revocation on another node, {ROUNDS} rounds: p50 "
          f"{windows[len(windows) // 2] * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, max "
          f"{worst * 1000:.1f} ms ({accepted} rounds over 1.5 ms, the pass call's own time "
          "included)")
    assert worst < 1.0, f"node B's gate refused a revoked pass only after {worst:.3f} s"
