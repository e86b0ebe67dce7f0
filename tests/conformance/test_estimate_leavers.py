"""Honest estimates in lines whose visitors leave while they wait: the third kind of line of
test_estimate_honesty.py (its docstring says what is held and what only reported). In a file of
its own so that it and the lines with gone visitors, the two long runs, go to different workers.
"""

from estimate_lines import (FIRST_SCORED_S, GONE_RATE, LEAVING_ROOMS, Line, MEAN_STAY_S,
                            check_bases, check_p50, check_p90, report, run_scenario)


def test_estimates_of_lines_whose_visitors_leave_while_they_wait(clock_server):
    lines = [Line(clock_server, 300, seed=100 + i, mean_stay_s=MEAN_STAY_S)
             for i in range(LEAVING_ROOMS)]
    scored, bases = run_scenario(clock_server, lines, GONE_RATE, 10, 600)
    name = "lines whose visitors leave"
    whole, _ = report(name, scored)
    check_p50(name, scored, whole, f"from {FIRST_SCORED_S} s after the start")
    check_p90(name, whole, "over the run", certain=False)
    check_bases(name, bases)
