"""Honest estimates from the first seconds (issue 17, item 16).

A ticket's eta counts the visitors still waiting ahead of it (the places of visitors found gone
cost nothing) at the line's pace in admissions per second, less those ahead expected to leave
(docs/admission.md, "Estimates"). Scored from 15 s after admissions start, in three kinds of line:

1. A line that moves like clockwork (a steady rate room: the issue's case, about 28% too long
   15 s after the start before it was fixed), and
2. lines where a quarter of the visitors left before the start (found gone by their idle
   timeout, at random places; each room is one draw of them):
   - the median relative error of eta.p50_s is at most 10%, over the whole run and in the
     15-30 s right after the start;
   - eta.p90_s covers 85-100% of visitors, over the whole run and in those 15-30 s. These waits
     are certain: the rate is fixed, the room knows which places are empty, and nobody leaves
     during the run, so the 90th percentile is the wait itself and p90_s is p50_s or a second
     above; it covers nearly everyone, and holding it to 95% would mean holding it to be wrong
     for one visitor in twenty. That it is not a safe bound shows instead in how close it is:
     the median of (p90_s - actual) / actual is at most 5%.
3. Lines whose visitors leave while they wait (each stays for a random time, on average 20
   minutes; those who stay ask every 20 s, and 30 s without asking counts as gone):
   - the median relative error of eta.p50_s over the whole run is at most 10%, and eta.p90_s
     covers at least 85% of visitors;
   - reported, not held: the 15-30 s window, when nobody has been found gone yet (a visitor is
     found gone 30 s after they last asked), so the estimate still expects everyone ahead to
     stay and is long by the share who will not; and p90_s's coverage above 95% (the visitors
     who left less than 30 s ago still count as waiting, which makes the estimate a little long).

Until the pace has been observed for 10 s the estimate says it stands on the configured pace
(eta.basis "configured"), then "observed".

Each line waits in manual mode first, so that a pace sampled before admissions start (nothing
moving) would show, and then switches to a rate. All time is the manual test clock. The actual
wait of an estimate taken at clock time t is admitted_at - t, where admitted_at is the whole
second the admission happened in (so only waits of at least 20 s are scored, and an estimate
counts as covering a visitor admitted in the second that p90_s falls in). The lines with gone
visitors run at a slower rate, so that their waits are long against that second, and as several
rooms at once: one line is one draw of who leaves, and its estimates share that draw's luck.
"""

from estimate_lines import (GONE_RATE, GONE_ROOMS, GONE_SHARE, Line, RATE, check_certain_line,
                            run_scenario)


def test_estimates_of_a_line_that_moves_like_clockwork(clock_server):
    lines = [Line(clock_server, 700, seed=17)]
    scored, bases = run_scenario(clock_server, lines, RATE, 5, 150)
    check_certain_line("clockwork line", scored, bases)


def test_estimates_of_lines_with_gone_visitors(clock_server):
    lines = [Line(clock_server, 600, seed=17 + i, gone_share=GONE_SHARE)
             for i in range(GONE_ROOMS)]
    scored, bases = run_scenario(clock_server, lines, GONE_RATE, 15, 600)
    check_certain_line("lines with gone visitors", scored, bases)
