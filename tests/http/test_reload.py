"""SIGHUP re-reads the config file (docs/operations.md#signals): rooms whose section is new or
changed take the file's settings, rooms whose section did not change keep what the admin API made
of them, a config that no longer parses changes nothing, and settings read only at start are named
for a restart. The server keeps serving throughout.
"""

import signal
import time

from wrlib import DEFAULT_CONFIG, describe


def reload_and_wait(srv, marker, timeout=10):
    before = srv.log_text().count(marker)
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.log_text().count(marker) > before:
            return srv.log_text()
        time.sleep(0.05)
    raise AssertionError(f"no {marker!r} in the log after SIGHUP:\n{srv.log_tail()}")


CONFIG = DEFAULT_CONFIG + """
[rooms.kept]
pass_lifetime_s = 600

[rooms.edited]
pass_lifetime_s = 600
"""


def test_sighup_applies_new_and_changed_room_sections_only(server_factory):
    srv = server_factory(config_text=CONFIG)
    # The operator changes a room through the admin API; its section in the file stays the same.
    r = srv.put("/admin/v1/rooms/kept", admin=True, json={"issuer": "https://from-the-api"})
    assert r.status_code == 200, describe(r)
    t = srv.enqueue_ok("edited")

    srv.config_path.write_text(CONFIG.replace("[rooms.edited]\npass_lifetime_s = 600",
                                              "[rooms.edited]\npass_lifetime_s = 120\nqueueing = \"random\"")
                               + "\n[rooms.added]\nalgorithm = \"RS256\"\n")
    log = reload_and_wait(srv, "config reloaded")
    assert '"rooms_created":"added"' in log and '"rooms_updated":"edited"' in log, srv.log_tail()

    assert srv.admin_room("added")["algorithm"] == "RS256"
    edited = srv.admin_room("edited")
    assert edited["pass_lifetime_s"] == 120 and edited["queueing"] == "random"
    assert srv.admin_room("kept")["issuer"] == "https://from-the-api"  # its section did not change
    # The line itself is untouched: the ticket is still there, at its place.
    assert srv.ticket("edited", t["ticket"]).json()["position"] == t["position"]

    # A second SIGHUP with the same file changes nothing.
    log = reload_and_wait(srv, "config reloaded")
    assert log.rstrip().splitlines()[-1].count('"rooms_updated":""') == 1, srv.log_tail()


def test_a_broken_file_changes_nothing_and_start_only_settings_are_named(server_factory):
    srv = server_factory(config_text=CONFIG)
    srv.config_path.write_text(CONFIG + "\n[rooms.broken\n")
    reload_and_wait(srv, "config reload failed")
    assert srv.get("/healthz").status_code == 200
    r = srv.get("/v1/rooms/broken")
    assert r.status_code == 404, describe(r)

    srv.config_path.write_text(CONFIG + "\n[limits]\nheader_timeout_s = 3\n")
    log = reload_and_wait(srv, "config reloaded")
    assert '"restart_needed_for":"limits"' in log, srv.log_tail()
    # Invalid room settings stop the reload at that room, with its name.
    srv.config_path.write_text(CONFIG + "\n[rooms.zz]\npass_lifetime_s = 5\n")
    log = reload_and_wait(srv, "config reload failed")
    assert "pass_lifetime_s" in log, srv.log_tail()
    assert srv.get("/v1/rooms/zz").status_code == 404
