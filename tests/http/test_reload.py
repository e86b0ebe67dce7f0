"""The config file's rooms on start and on SIGHUP (docs/configuration.md#the-config-files-rooms-on-start-and-on-sighup):
for the rooms the file names, the keys it writes are what runs, after a restart as after SIGHUP;
keys a section leaves out keep what the admin API made of them; every difference the file
overrides is logged, one line per setting, with its cause. A config that no longer parses changes
nothing, and settings read only at start are named for a restart. The server keeps serving.
"""

import datetime
import json
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


def setting_lines(srv, room):
    """The log's "config file sets a room setting" lines for `room`, as dicts, oldest first."""
    out = []
    for line in srv.log_text().splitlines():
        if '"config file sets a room setting"' in line:
            entry = json.loads(line)
            if entry["room"] == room:
                out.append(entry)
    return out


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


RATE_CONFIG = DEFAULT_CONFIG + """
[rooms.sale]
pass_lifetime_s = 600
admission = { mode = "rate", rate_per_minute = 600 }
"""


def test_a_restart_applies_an_edited_rate_and_logs_the_difference(server_factory):
    srv = server_factory(config_text=RATE_CONFIG)
    assert srv.admin_room("sale")["admission"]["rate_per_minute"] == 600
    srv.stop()
    srv.config_path.write_text(RATE_CONFIG.replace("rate_per_minute = 600", "rate_per_minute = 1200"))
    srv.start()
    assert srv.admin_room("sale")["admission"]["rate_per_minute"] == 1200, srv.log_tail()
    lines = setting_lines(srv, "sale")
    assert [(x["setting"], x["running"], x["file"], x["cause"], x["level"]) for x in lines] == [
        ("admission.rate_per_minute", 600, 1200, "stored_room_differs", "info")], lines
    # An unchanged file changes nothing and says nothing at the next start.
    srv.restart()
    assert len(setting_lines(srv, "sale")) == 1, srv.log_tail()
    assert srv.admin_room("sale")["admission"]["rate_per_minute"] == 1200


def test_sighup_applies_an_edited_rate_after_a_restart(server_factory):
    # The trap this guards against: a file edited, the server restarted (baseline = the edited
    # file), then SIGHUP finding "no change" while the room still runs the old rate.
    srv = server_factory(config_text=RATE_CONFIG)
    srv.restart()
    srv.config_path.write_text(RATE_CONFIG.replace("rate_per_minute = 600", "rate_per_minute = 900"))
    log = reload_and_wait(srv, "config reloaded")
    assert '"rooms_updated":"sale"' in log, srv.log_tail()
    assert srv.admin_room("sale")["admission"]["rate_per_minute"] == 900
    lines = setting_lines(srv, "sale")
    assert [(x["setting"], x["running"], x["file"], x["cause"]) for x in lines] == [
        ("admission.rate_per_minute", 600, 900, "file_edited")], lines


def test_sighup_reports_and_replaces_an_admin_api_change_to_a_key_the_file_writes(server_factory):
    srv = server_factory(config_text=RATE_CONFIG)
    r = srv.put("/admin/v1/rooms/sale", admin=True,
                json={"admission": {"rate_per_minute": 60}, "issuer": "https://from-the-api"})
    assert r.status_code == 200, describe(r)
    reload_and_wait(srv, "config reloaded")
    room = srv.admin_room("sale")
    assert room["admission"]["rate_per_minute"] == 600  # the file writes it: the file's value
    assert room["issuer"] == "https://from-the-api"      # the file leaves it out: the API's
    lines = setting_lines(srv, "sale")
    assert [(x["setting"], x["running"], x["file"], x["cause"], x["level"]) for x in lines] == [
        ("admission.rate_per_minute", 60, 600, "changed_through_admin_api", "warning")], lines


def wait_for_phase(srv, room, phase, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        event = srv.admin_room(room)["event"]
        if (event or {}).get("phase") == phase:
            return
        time.sleep(0.05)
    raise AssertionError(f"{room} never reached {phase}: {srv.admin_room(room)}")


def rfc3339(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_section_added_for_an_api_room_keeps_its_running_event_unless_it_writes_events(
        server_factory):
    srv = server_factory()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    event = {"start": rfc3339(now - datetime.timedelta(minutes=1)),
             "end": rfc3339(now + datetime.timedelta(hours=1)),
             "overrides": {"admission": {"mode": "rate", "rate_per_minute": 120}}}
    srv.create_room("launch", events=[event])
    wait_for_phase(srv, "launch", "running")  # the admission driver's next step starts it

    srv.config_path.write_text(DEFAULT_CONFIG + "\n[rooms.launch]\npass_lifetime_s = 300\n")
    reload_and_wait(srv, "config reloaded")
    room = srv.admin_room("launch")
    assert room["pass_lifetime_s"] == 300 and room["event"]["phase"] == "running", room
    assert len(room["events"]) == 1
    lines = setting_lines(srv, "launch")
    assert [(x["setting"], x["running"], x["file"], x["cause"]) for x in lines] == [
        ("pass_lifetime_s", 900, 300, "file_edited")], lines
    assert "ends the room's running scheduled event" not in srv.log_text()

    # A section that writes `events` is the source of truth for them too: said loudly.
    srv.config_path.write_text(DEFAULT_CONFIG + "\n[rooms.launch]\npass_lifetime_s = 300\nevents = []\n")
    reload_and_wait(srv, "config reloaded")
    room = srv.admin_room("launch")
    assert room["events"] == [] and room["event"] is None, room
    assert "config file ends the room's running scheduled event" in srv.log_text(), srv.log_tail()
    assert [x["setting"] for x in setting_lines(srv, "launch")] == ["pass_lifetime_s", "events"]
