"""Honest estimates from the first seconds (issue 17, item 16).

From 15 s after admissions start:
- the median relative error of eta.p50_s is at most 10%: over the whole run in both kinds of
  line below, and in the 15-30 s right after the start in a line that moves like clockwork
  (the issue's case: a steady rate room, about 28% too long before this was fixed);
- eta.p90_s means what it says: 85-95% of visitors are admitted by it, in lines whose pace
  varies (some visitors left, so the serving counter skips their places at random). In a line
  that moves like clockwork p90_s is p50_s or just above, and covers nearly everyone; that is
  reported, not held to 95%;
- until the pace has been observed for 10 s the estimate says it stands on the configured pace
  (eta.basis "configured"), then "observed".

Each line waits in manual mode first, so that a pace sampled before admissions start (nothing
moving) would show, and then switches to a rate. All time is the manual test clock. The actual
wait of an estimate taken at clock time t is admitted_at - t, where admitted_at is the whole
second the admission happened in (so only waits of at least 20 s are scored, and an estimate
counts as covering a visitor admitted in the second that p90_s falls in). The lines with gone
visitors run at a slower rate, so that their waits are long against that second. Lines with gone visitors run as several rooms at
once, each with its own random gone places: one line is one draw of them, and its estimates
share that draw's luck, so coverage is measured over several.
"""

import random
import statistics

from conflib import (FastClient, admissions, clock_advance, clock_advance_to, expect,
                     enqueue_many, make_room, now_ms, set_room)

RATE = 120                    # two admissions a second (the clockwork line)
GONE_RATE = 30                # one admission every two seconds (the lines with gone visitors)
FIRST_SCORED_S = 15           # estimates from this long after admissions start are scored
SAMPLES_PER_ROUND = 10
MIN_WAIT_S = 20
MAX_MEDIAN_REL_ERR = 0.10
P90_COVERAGE = (0.85, 0.95)
GONE_SHARE = 0.25             # visitors who left before the start, at random places
GONE_ROOMS = 8
IDLE_TIMEOUT_S = 30


class Line:
    def __init__(self, srv, visitors, gone_share, seed):
        self.room = make_room(srv, ticket_idle_timeout_s=IDLE_TIMEOUT_S if gone_share else 0,
                              claim_timeout_s=0)
        tickets = enqueue_many(srv, self.room, visitors)
        self.by_pos = {t["position"]: t["ticket"] for t in tickets}
        rng = random.Random(seed)
        self.gone = {p for p in sorted(self.by_pos) if rng.random() < gone_share}
        self.estimates = []  # (position, t_ms, p50, p90)

    def sample(self, srv, client, t, t0, bases):
        serving = srv.stats(self.room)["serving"]
        candidates = [p for p in range(serving + 5, serving + 400)
                      if p in self.by_pos and p not in self.gone]
        for p in candidates[::max(1, len(candidates) // SAMPLES_PER_ROUND)]:
            body = expect(client.ticket(self.room, self.by_pos[p]), 200)
            if body["status"] != "waiting" or body["eta"] is None:
                continue
            eta = body["eta"]
            bases.append(((t - t0) / 1000, eta.get("basis")))
            self.estimates.append((p, t, eta["p50_s"], eta["p90_s"]))

    def scored(self, srv, t0):
        """(t_s after start, position, p50, p90, actual_s) of the estimates that count."""
        admitted_at = {a["position"]: a["admitted_at"] for a in admissions(srv, self.room)}
        out = []
        for p, t, p50, p90 in self.estimates:
            after_s = (t - t0) / 1000
            if after_s < FIRST_SCORED_S or p not in admitted_at:
                continue
            actual = admitted_at[p] - t / 1000
            if actual >= MIN_WAIT_S:
                out.append((after_s, p, p50, p90, round(actual, 1)))
        return out


def run_scenario(srv, rooms, visitors, gone_share, rate, every_s, until_s):
    """Returns (scored estimates of every room, bases seen by time after the start): the
    estimates are taken every `every_s` seconds of the `until_s` after the start."""
    lines = [Line(srv, visitors, gone_share, seed=17 + i) for i in range(rooms)]
    c = FastClient(srv)
    if gone_share:
        # The ones who stay show they are there; the others' idle time runs out, and then
        # idleness is switched off so that nobody else leaves during the measurement.
        clock_advance(srv, (IDLE_TIMEOUT_S - 10) * 1000)
        for line in lines:
            for p in sorted(set(line.by_pos) - line.gone):
                expect(c.ticket(line.room, line.by_pos[p]), 200)
        clock_advance(srv, 15_000)
        for line in lines:
            set_room(srv, line.room, ticket_idle_timeout_s=0)
    clock_advance(srv, 10_000)  # waiting, nothing moves: not a pace
    for line in lines:
        set_room(srv, line.room, admission={"mode": "rate", "rate_per_minute": rate})
    t0 = now_ms(srv)

    bases = []
    # 5 s after the start (the configured pace still stands in), then from FIRST_SCORED_S on.
    for after_s in [5] + list(range(FIRST_SCORED_S, until_s + 1, every_s)):
        t = clock_advance_to(srv, t0 + after_s * 1000)
        for line in lines:
            line.sample(srv, c, t, t0, bases)
    c.close()
    clock_advance_to(srv, t + visitors * 60 // rate * 1000)
    return [s for line in lines for s in line.scored(srv, t0)], bases


def summary(scored):
    rel = [abs(p50 - actual) / actual for _, _, p50, _, actual in scored]
    covered = sum(1 for _, _, _, p90, actual in scored if actual <= p90) / len(scored)
    early = [abs(p50 - a) / a for s, _, p50, _, a in scored if s < 30]
    return statistics.median(rel), covered, (statistics.median(early) if early else None)


def check_p50(name, scored, early_too):
    assert len(scored) >= 100, f"{name}: only {len(scored)} estimates could be scored"
    med, covered, early = summary(scored)
    early_cov = [a <= p90 for s, _, _, p90, a in scored if s < 30]
    print(f"{name}: p50 median relative error {med:.1%} (15-30 s after the start: {early:.1%}), "
          f"p90 covers {covered:.1%} of {len(scored)} estimates "
          f"(15-30 s after the start: {sum(early_cov) / max(1, len(early_cov)):.1%})")
    worst = sorted(scored, key=lambda s: -abs(s[2] - s[4]) / s[4])[:6]
    assert med <= MAX_MEDIAN_REL_ERR, (
        f"{name}: median relative error of eta.p50_s from {FIRST_SCORED_S} s after the start is "
        f"{med:.1%} (> {MAX_MEDIAN_REL_ERR:.0%}); worst (t_s, position, p50, p90, actual): {worst}")
    assert early is not None
    assert not early_too or early <= MAX_MEDIAN_REL_ERR, (
        f"{name}: between {FIRST_SCORED_S} and 30 s after the start the median relative error "
        f"of eta.p50_s is {early:.1%}")
    return covered


def check_bases(name, bases):
    first = [b for s, b in bases if s <= 5]
    late = [b for s, b in bases if s >= 30]
    assert first and set(first) == {"configured"}, (
        f"{name}: in the first 5 s the estimate should say it stands on the configured "
        f"pace: {first}")
    assert late and set(late) == {"observed"}, (
        f"{name}: from 30 s the estimate stands on the observed pace: {set(late)}")


def test_estimates_of_a_line_that_moves_like_clockwork(clock_server):
    scored, bases = run_scenario(clock_server, 1, 700, 0, RATE, 5, 150)
    covered = check_p50("clockwork line", scored, early_too=True)
    check_bases("clockwork line", bases)
    assert covered >= P90_COVERAGE[0], f"clockwork line: p90 covers only {covered:.1%}"


def test_estimates_of_lines_with_gone_visitors(clock_server):
    scored, bases = run_scenario(clock_server, GONE_ROOMS, 600, GONE_SHARE, GONE_RATE, 15, 600)
    # Right after the start a line has shown some 35 places; how many of the next few hundred
    # belong to visitors who left is uncertain, so early medians are only as good as that
    # sample (they are reported; p90_s allows for it and is held to its band).
    covered = check_p50("lines with gone visitors", scored, early_too=False)
    check_bases("lines with gone visitors", bases)
    lo, hi = P90_COVERAGE
    assert lo <= covered <= hi, (
        f"lines with gone visitors: eta.p90_s covers {covered:.1%} of {len(scored)} estimates, "
        f"want {lo:.0%}-{hi:.0%} (a 90th percentile, not a safe bound)")
