"""Bounded state on the embedded store (issue 18): sale after sale, compaction keeps the log at
the live state (a reset room: its settings and counters), not at its history, and a start after
the last sale replays a handful of records. See sale_cycles.py for the cycle."""

import re
import time

from sale_cycles import CYCLES, ROOM_SETTINGS, VISITORS, assert_bounded, run_cycles
from wrlib import TEST_CLOCK_CONFIG, Server, unique_room


def log_bytes(srv):
    """The log's logical size (its records; the file runs on with zero-filled space)."""
    return int(re.search(r"^waitroom_log_bytes (\d+)$", srv.get("/metrics").text, re.M).group(1))


def test_sale_after_sale_the_compacted_log_stays_at_the_live_state():
    srv = Server(config_text="compact_after_mb = 0\n" + TEST_CLOCK_CONFIG, name="waitroom-cycles").start()
    try:
        room = srv.create_room(unique_room("sale"), **ROOM_SETTINGS)
        cycles = run_cycles(srv, room, lambda: log_bytes(srv))
        for cycle, report, kept, took in cycles:
            print(f"cycle {cycle}: log {report['bytes_before']} bytes ({report['records_before']} records) "
                  f"-> {report['bytes_after']} ({report['records_after']}); kept {kept} bytes; {took} s")
        assert_bounded(cycles, slack_bytes=4096)
        assert all(report["bytes_after"] < 64 * 1024 for _, report, _, _ in cycles), cycles
        assert cycles[-1][1]["bytes_before"] > 100 * VISITORS // 10, "the cycles wrote less than expected"
        started = time.monotonic()
        srv.restart()
        print(f"start-up after {CYCLES} cycles of {VISITORS} visitors: {time.monotonic() - started:.2f} s "
              f"(stop and start, ASan build)")
        assert "\"replayed_records\":" in srv.log_text()
        replayed = int(srv.log_text().rsplit('"replayed_records":', 1)[1].split("}")[0].split(",")[0])
        assert replayed <= 10, f"start-up replayed {replayed} records after compaction"
        # Lifetime totals survive the compactions: every visitor of every sale is counted.
        issued = re.search(rf'^waitroom_tickets_issued_total{{room="{room}"}} (\d+)$',
                           srv.get("/metrics").text, re.M)
        assert issued and int(issued.group(1)) == CYCLES * VISITORS, issued
    finally:
        srv.stop()
