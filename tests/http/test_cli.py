"""The command line: `waitroom admin …` drives a running server through the admin API, and
`waitroom keys …` manages the signing keys in a data dir."""

import json
import os
import subprocess

from wrlib import binary_path, free_port


def run_cli(*args, key=None, check=True, stdin=""):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    env.pop("WAITROOM_ADMIN_KEY", None)
    if key is not None:
        env["WAITROOM_ADMIN_KEY"] = key
    p = subprocess.run([str(binary_path()), *args], capture_output=True, text=True, env=env,
                       timeout=60, input=stdin)
    if check:
        assert p.returncode == 0, f"waitroom {' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}"
    return p


def test_admin_commands_drive_the_server(fresh_server):
    srv = fresh_server
    room = srv.create_room()
    for _ in range(3):
        srv.enqueue_ok(room)
    url = ["--url", srv.base_url]
    rooms = json.loads(run_cli("admin", "rooms", *url, key=srv.admin_key).stdout)
    assert room in [r["room"] for r in rooms["rooms"]]
    out = json.loads(run_cli("admin", "advance", room, "--by", "2", *url, key=srv.admin_key).stdout)
    assert out == {"serving": 2}
    out = json.loads(run_cli("admin", "advance", room, "--to", "3", *url, key=srv.admin_key).stdout)
    assert out == {"serving": 3}
    assert json.loads(run_cli("admin", "pause", room, *url, key=srv.admin_key).stdout)["status"] == "paused"
    assert json.loads(run_cli("admin", "resume", room, *url, key=srv.admin_key).stdout)["status"] == "open"
    stats = json.loads(run_cli("admin", "stats", room, *url, key=srv.admin_key).stdout)
    assert stats["queue_counter"] == 3 and stats["serving"] == 3
    reset = json.loads(run_cli("admin", "reset", room, "--yes", *url, key=srv.admin_key).stdout)
    assert reset["queue_length"] == 0 and reset["epoch"] == stats["epoch"] + 1
    told = json.loads(run_cli("admin", "message", room, "Doors open at 10:05, sorry!", *url,
                              key=srv.admin_key).stdout)
    assert told["message"]["text"] == "Doors open at 10:05, sorry!"
    assert srv.admin_room(room)["message"] == told["message"]
    run_cli("admin", "message", room, "--clear", *url, key=srv.admin_key)
    assert srv.admin_room(room)["message"] is None


def test_admin_inventory_and_signals_commands(fresh_server):
    srv = fresh_server
    room = srv.create_room(admission={"mode": "adaptive", "target_p95_ms": 300,
                                      "max_per_minute": 600})
    url = ["--url", srv.base_url]
    key = srv.admin_key
    shown = json.loads(run_cli("admin", "inventory", room, *url, key=key).stdout)
    assert shown["left"] is None and shown["sold_out"] is False
    assert json.loads(run_cli("admin", "inventory", room, "--set", "40", *url, key=key).stdout)["left"] == 40
    out = json.loads(run_cli("admin", "inventory", room, "--add", "-40", *url, key=key).stdout)
    assert out["left"] == 0 and out["sold_out"] is True
    p = run_cli("admin", "inventory", room, "--set", "1", "--add", "1", *url, key=key, check=False)
    assert p.returncode == 2 and "not both" in p.stderr
    assert srv.get(f"/admin/v1/rooms/{room}/inventory", admin=True).json()["left"] == 0
    posted = json.loads(run_cli("admin", "signals", room, "--p95-ms", "420.5", "--error-ratio",
                                "0.01", "--max-age", "30", *url, key=key).stdout)
    assert posted["posted"]["p95_ms"] == 420.5 and posted["posted"]["error_ratio"] == 0.01
    assert posted["posted"]["max_age_s"] == 30 and posted["combined"]["known"] is True
    shown = json.loads(run_cli("admin", "signals", room, *url, key=key).stdout)
    assert shown["posted"] == posted["posted"]
    p = run_cli("admin", "signals", room, "--error-ratio", "2", *url, key=key, check=False)
    assert p.returncode == 1 and "400" in p.stderr


def test_admin_command_errors_are_clear(fresh_server):
    srv = fresh_server
    url = ["--url", srv.base_url]
    p = run_cli("admin", "rooms", *url, check=False)
    assert p.returncode != 0 and "WAITROOM_ADMIN_KEY" in p.stderr
    p = run_cli("admin", "rooms", *url, key="not-the-key-0123456789", check=False)
    assert p.returncode == 1 and "401" in p.stderr
    p = run_cli("admin", "advance", "demo", *url, key=srv.admin_key, check=False)
    assert p.returncode == 2 and "--by or --to" in p.stderr
    p = run_cli("admin", "message", "demo", *url, key=srv.admin_key, check=False)
    assert p.returncode == 2 and "the text, or --clear" in p.stderr
    p = run_cli("admin", "stats", "no-such-room", *url, key=srv.admin_key, check=False)
    assert p.returncode == 1 and "404" in p.stderr
    assert srv.stats("demo")["serving"] == 0  # nothing changed


def test_admin_reset_asks_for_the_room_name_like_the_dashboard(fresh_server):
    srv = fresh_server
    room = srv.create_room()
    srv.enqueue_ok(room)
    url = ["--url", srv.base_url]
    for answer in ("", "y\n", "yes\n", room.upper() + "\n"):
        p = run_cli("admin", "reset", room, *url, key=srv.admin_key, check=False, stdin=answer)
        assert p.returncode == 1 and "nothing changed" in p.stderr, (answer, p.stdout, p.stderr)
        assert f"Type {room} to confirm" in p.stderr and p.stdout == ""
    assert srv.stats(room)["queue_counter"] == 1  # still there
    p = run_cli("admin", "reset", room, *url, key=srv.admin_key, stdin=room + "\n")
    assert json.loads(p.stdout)["queue_length"] == 0
    srv.enqueue_ok(room)
    p = run_cli("admin", "reset", room, "--yes", *url, key=srv.admin_key)  # scripts: no question
    assert json.loads(p.stdout)["queue_length"] == 0 and "confirm" not in p.stderr


def test_an_unreachable_server_is_one_readable_line(tmp_path):
    port = free_port()  # nothing listens there
    p = run_cli("admin", "rooms", "--url", f"http://127.0.0.1:{port}", key="k" * 32, check=False)
    assert p.returncode == 1, (p.stdout, p.stderr)
    assert p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.startswith(f"waitroom admin: cannot reach the server at http://127.0.0.1:{port}")
    assert "refused" in p.stderr.lower(), p.stderr
    assert ".hpp" not in p.stderr and "boost" not in p.stderr.lower(), p.stderr
    p = run_cli("admin", "stats", "demo", "--url", "http://no-such-host.invalid:8080",
                key="k" * 32, check=False)
    assert p.returncode == 1 and p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.startswith("waitroom admin: cannot resolve the host of"), p.stderr


def test_each_admin_action_has_its_own_help():
    top = run_cli("admin", "--help").stdout
    for action in ("rooms", "advance", "pause", "resume", "reset", "stats"):
        assert action in top, top
    helps = {a: run_cli("admin", a, "--help").stdout
             for a in ("rooms", "advance", "pause", "resume", "reset", "stats")}
    assert "--by" in helps["advance"] and "--to" in helps["advance"] and "serving counter" in helps["advance"]
    assert "--yes" in helps["reset"] and "loses their place" in helps["reset"]
    assert "--yes" not in helps["pause"] and "nobody is let in" in helps["pause"]
    assert "--url" in helps["rooms"] and "the room's name" not in helps["rooms"]
    assert all("the room's name" in helps[a] for a in ("advance", "pause", "resume", "reset", "stats"))
    assert len(set(helps.values())) == 6


def test_keys_rotate_and_list_in_a_data_dir(tmp_path):
    data = tmp_path / "data"
    listed = run_cli("keys", "list", "--data-dir", str(data)).stdout.split("\n")
    active = [line for line in listed if line.endswith(" active")]
    assert len(active) == 2 and {line.split()[1] for line in active} == {"ES256", "RS256"}
    rotated = run_cli("keys", "rotate", "--data-dir", str(data)).stdout.split("\n")
    assert sum(line.endswith(" retired") for line in rotated) == 2
    assert sum(line.endswith(" active") for line in rotated) == 2
    old_kids = {line.split()[0] for line in active}
    new_active = {line.split()[0] for line in rotated if line.endswith(" active")}
    assert not old_kids & new_active
    assert (data / "keys").stat().st_mode & 0o777 == 0o700


def test_keys_rotated_beside_a_running_server_are_picked_up_on_sighup(fresh_server):
    import signal
    import time
    srv = fresh_server
    before = {k["kid"] for k in srv.jwks()["keys"]}
    rotated = run_cli("keys", "rotate", "--data-dir", str(srv.data_dir)).stdout.split("\n")
    new_kids = {line.split()[0] for line in rotated if line.endswith(" active")}
    assert not new_kids & before
    srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        kids = {k["kid"] for k in srv.jwks()["keys"]}
        if new_kids <= kids:
            break
        time.sleep(0.1)
    assert new_kids <= kids and before <= kids  # new keys served, old ones kept for live passes
    assert srv.alive()


def test_tokens_commands_create_list_and_revoke(fresh_server):
    srv = fresh_server
    url = ("--url", srv.base_url)
    room = srv.create_room()
    made = json.loads(run_cli("tokens", "create", "--name", "alice", "--role", "operator",
                              "--rooms", f"{room},merch", "--expires-in", "3600", *url,
                              key=srv.admin_key).stdout)
    assert made["role"] == "operator" and made["rooms"] == [room, "merch"] and made["expires_at"]
    # The token drives the admin API, and the CLI too.
    out = json.loads(run_cli("admin", "advance", room, "--by", "1", *url, key=made["token"]).stdout)
    assert out["serving"] == 1
    listed = json.loads(run_cli("tokens", "list", *url, key=srv.admin_key).stdout)["tokens"]
    assert [t["name"] for t in listed] == ["alice"] and "token" not in listed[0]
    revoked = json.loads(run_cli("tokens", "revoke", made["id"], *url, key=srv.admin_key).stdout)
    assert revoked["revoked_at"]
    p = run_cli("admin", "advance", room, "--by", "1", *url, key=made["token"], check=False)
    assert p.returncode != 0 and "401" in p.stdout + p.stderr
    p = run_cli("tokens", "create", "--name", "x", "--role", "root", *url, key=srv.admin_key,
                check=False)
    assert p.returncode != 0 and "role" in p.stdout + p.stderr
