"""The lines and scoring of the estimate honesty tests (test_estimate_honesty.py says what
they hold and why; test_estimate_leavers.py runs its third kind of line in its own file so that
the two long runs go to different workers)."""


import random
import statistics

from conflib import (FastClient, admissions, clock_advance, clock_advance_to, expect,
                     enqueue_many, make_room, now_ms, set_room)

RATE = 120                    # two admissions a second (the clockwork line)
GONE_RATE = 30                # one admission every two seconds (the lines with gone visitors)
FIRST_SCORED_S = 15           # estimates from this long after admissions start are scored
EARLY_UNTIL_S = 30            # ... and those before this are the early window
SAMPLES_PER_ROUND = 10
MIN_WAIT_S = 20
MAX_MEDIAN_REL_ERR = 0.10
MIN_P90_COVERAGE = 0.85
MAX_MEDIAN_P90_EXCESS = 0.05  # a certain wait: p90_s no further than this beyond it (median)
GONE_SHARE = 0.25             # visitors who left before the start, at random places
GONE_ROOMS = 8
IDLE_TIMEOUT_S = 30
LEAVING_ROOMS = 6
MEAN_STAY_S = 1200            # lines whose visitors leave while they wait: the mean stay
ASK_EVERY_S = 20              # ... and how often those still there ask


class Line:
    def __init__(self, srv, visitors, seed, gone_share=0.0, mean_stay_s=None):
        tracks = gone_share or mean_stay_s
        self.room = make_room(srv, ticket_idle_timeout_s=IDLE_TIMEOUT_S if tracks else 0,
                              claim_timeout_s=0)
        tickets = enqueue_many(srv, self.room, visitors)
        self.by_pos = {t["position"]: t["ticket"] for t in tickets}
        rng = random.Random(seed)
        self.gone = {p for p in sorted(self.by_pos) if rng.random() < gone_share}
        # Seconds after the start each visitor stops asking (none: stays until admitted).
        self.leaves_at = ({p: rng.expovariate(1 / mean_stay_s) for p in sorted(self.by_pos)}
                          if mean_stay_s else {})
        self.done = set()    # positions no longer waiting, as the answers said
        self.estimates = []  # (position, t_ms, p50, p90)

    def there(self, p, after_s):
        return p not in self.gone and p not in self.done and self.leaves_at.get(p, 1e18) > after_s

    def ask_all(self, client, after_s):
        """Every visitor still there asks about their ticket (shows they are there)."""
        for p in sorted(self.by_pos):
            if self.there(p, after_s):
                body = expect(client.ticket(self.room, self.by_pos[p]), 200)
                if body["status"] != "waiting":
                    self.done.add(p)

    def sample(self, srv, client, t, t0, bases):
        serving = srv.stats(self.room)["serving"]
        after_s = (t - t0) / 1000
        candidates = [p for p in range(serving + 5, serving + 400)
                      if p in self.by_pos and self.there(p, after_s)]
        for p in candidates[::max(1, len(candidates) // SAMPLES_PER_ROUND)]:
            body = expect(client.ticket(self.room, self.by_pos[p]), 200)
            if body["status"] != "waiting" or body["eta"] is None:
                continue
            eta = body["eta"]
            bases.append((after_s, eta.get("basis")))
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


def find_gone(srv, client, lines):
    """The ones who stay show they are there; the others' idle time runs out, and then
    idleness is switched off so that nobody else leaves during the measurement."""
    clock_advance(srv, (IDLE_TIMEOUT_S - 10) * 1000)
    for line in lines:
        line.ask_all(client, 0)
    clock_advance(srv, 15_000)
    for line in lines:
        set_room(srv, line.room, ticket_idle_timeout_s=0)


def run_scenario(srv, lines, rate, every_s, until_s):
    """Returns (scored estimates of every line, bases seen by time after the start): the
    estimates are taken every `every_s` seconds of the `until_s` after the start. In lines
    whose visitors leave while they wait (Line.leaves_at) everyone still there asks every
    ASK_EVERY_S seconds, until their time to leave."""
    c = FastClient(srv)
    if any(line.gone for line in lines):
        find_gone(srv, c, lines)
    clock_advance(srv, 10_000)  # waiting, nothing moves: not a pace
    for line in lines:
        set_room(srv, line.room, admission={"mode": "rate", "rate_per_minute": rate})
    t0 = now_ms(srv)
    leaving = [line for line in lines if line.leaves_at]

    bases = []
    # 5 s after the start (the configured pace still stands in), then from FIRST_SCORED_S on.
    rounds = sorted({5, *range(FIRST_SCORED_S, until_s + 1, every_s),
                     *(range(0, until_s + 1, ASK_EVERY_S) if leaving else [])})
    for after_s in rounds:
        t = clock_advance_to(srv, t0 + after_s * 1000) if after_s else t0
        for line in leaving:
            if after_s % ASK_EVERY_S == 0:
                line.ask_all(c, after_s)
        if after_s == 5 or (after_s >= FIRST_SCORED_S and after_s % every_s == 0):
            for line in lines:
                line.sample(srv, c, t, t0, bases)
    c.close()
    visitors = max(len(line.by_pos) for line in lines)
    clock_advance_to(srv, t + visitors * 60 // rate * 1000)
    return [s for line in lines for s in line.scored(srv, t0)], bases


def summary(scored):
    """(median relative error of p50, share p90 covered, median of (p90 - actual) / actual)."""
    rel = [abs(p50 - actual) / actual for _, _, p50, _, actual in scored]
    covered = sum(1 for _, _, _, p90, actual in scored if actual <= p90) / len(scored)
    excess = statistics.median((p90 - actual) / actual for _, _, _, p90, actual in scored)
    return statistics.median(rel), covered, excess


def report(name, scored):
    """Prints the figures of the whole run and the early window; returns both summaries."""
    assert len(scored) >= 100, f"{name}: only {len(scored)} estimates could be scored"
    early = [s for s in scored if s[0] < EARLY_UNTIL_S]
    assert early, f"{name}: no estimate between {FIRST_SCORED_S} and {EARLY_UNTIL_S} s was scored"
    whole, first = summary(scored), summary(early)
    print(f"{name}: p50 median relative error {whole[0]:.1%} "
          f"({FIRST_SCORED_S}-{EARLY_UNTIL_S} s after the start: {first[0]:.1%}), "
          f"p90 covers {whole[1]:.1%} of {len(scored)} estimates "
          f"({FIRST_SCORED_S}-{EARLY_UNTIL_S} s after the start: {first[1]:.1%} of {len(early)}), "
          f"p90 beyond the actual wait by {whole[2]:+.1%} (median; early {first[2]:+.1%})")
    return whole, first


def check_p50(name, scored, figures, when):
    worst = sorted(scored, key=lambda s: -abs(s[2] - s[4]) / s[4])[:6]
    assert figures[0] <= MAX_MEDIAN_REL_ERR, (
        f"{name}: median relative error of eta.p50_s {when} is {figures[0]:.1%} "
        f"(> {MAX_MEDIAN_REL_ERR:.0%}); worst (t_s, position, p50, p90, actual): {worst}")


def check_p90(name, figures, when, certain):
    assert figures[1] >= MIN_P90_COVERAGE, (
        f"{name}: eta.p90_s covers only {figures[1]:.1%} of visitors {when}")
    assert not certain or figures[2] <= MAX_MEDIAN_P90_EXCESS, (
        f"{name}: eta.p90_s lies {figures[2]:.1%} beyond the actual wait {when} (median), in a "
        f"line whose wait is certain: a safe bound, not a 90th percentile")


def check_bases(name, bases):
    first = [b for s, b in bases if s <= 5]
    late = [b for s, b in bases if s >= 30]
    assert first and set(first) == {"configured"}, (
        f"{name}: in the first 5 s the estimate should say it stands on the configured "
        f"pace: {first}")
    assert late and set(late) == {"observed"}, (
        f"{name}: from 30 s the estimate stands on the observed pace: {set(late)}")


def check_certain_line(name, scored, bases):
    """Lines 1 and 2 of the docstring: held over the whole run and the early window."""
    whole, early = report(name, scored)
    window = f"between {FIRST_SCORED_S} and {EARLY_UNTIL_S} s after the start"
    check_p50(name, scored, whole, f"from {FIRST_SCORED_S} s after the start")
    check_p50(name, [s for s in scored if s[0] < EARLY_UNTIL_S], early, window)
    check_p90(name, whole, "over the run", certain=True)
    check_p90(name, early, window, certain=True)
    check_bases(name, bases)
