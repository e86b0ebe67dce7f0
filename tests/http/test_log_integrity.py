"""A damaged log (issue 25), end to end through the real binary: start-up refuses it with a report,
`waitroom log check` prints the same report and exits 1, `waitroom log repair` cuts it at the
reported offset keeping a backup, and after the repair the room hands out positions above
everything the dropped records had reached (no position or ticket id twice).
"""

import os
import re
import subprocess

import pytest

from wrlib import Server, binary_path, describe

LOG = "waitroom.log"


def log_cmd(*args):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    return subprocess.run([str(binary_path()), "log", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=60)


def intact_size(data_dir):
    r = log_cmd("check", "--data-dir", data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    m = re.search(r"intact: (\d+) records in (\d+) bytes", r.stdout)
    assert m, r.stdout
    return int(m.group(1)), int(m.group(2))


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.stop()


def test_damage_refuses_start_then_check_and_repair_keep_counters_above_the_dropped_part(server):
    srv = server.start()
    tickets = [srv.enqueue_ok("demo") for _ in range(40)]
    positions = [t["position"] for t in tickets]
    assert positions == list(range(1, 41))
    assert srv.advance("demo", to=12) == 12
    assert srv.stop() == 0

    records, size = intact_size(srv.data_dir)
    assert records >= 40

    # One flipped byte in the middle of an acknowledged part of the log.
    log = srv.data_dir / LOG
    with open(log, "r+b") as f:
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0x40]))
    damaged_bytes = log.read_bytes()

    # Start-up refuses, says where and what to do, and changes nothing.
    with pytest.raises(RuntimeError):
        srv.start()
    text = srv.log_text()
    m = re.search(r"is damaged at offset (\d+): [^.]+\. (\d+) records were read before it; (\d+) intact "
                  r"records follow it", text)
    assert m, srv.log_tail()
    offset, before, after = (int(g) for g in m.groups())
    assert offset <= size // 2 and before > 0 and after > 0
    assert f"waitroom log repair --data-dir {srv.data_dir} --truncate-at {offset}" in text
    assert log.read_bytes() == damaged_bytes

    # The check prints the same report and exits 1.
    r = log_cmd("check", "--data-dir", srv.data_dir)
    assert r.returncode == 1, r.stdout + r.stderr
    assert m.group(0) in r.stdout

    # A repair at an offset that is not a record start changes nothing.
    r = log_cmd("repair", "--data-dir", srv.data_dir, "--truncate-at", offset + 1)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Nothing was changed" in r.stderr
    assert log.read_bytes() == damaged_bytes

    r = log_cmd("repair", "--data-dir", srv.data_dir, "--truncate-at", offset)
    assert r.returncode == 0, r.stdout + r.stderr
    out = r.stdout
    assert f"cut at offset {offset}, kept {before} records" in out, out
    backups = sorted(srv.data_dir.glob(LOG + ".before-repair-*"))
    assert [p.name for p in backups if not p.name.endswith(".end")], out
    assert next(p for p in backups if not p.name.endswith(".end")).read_bytes() == damaged_bytes
    m = re.search(r"room demo: (\d+) dropped records; they reached epoch (\d+), highest position (\d+), "
                  r"serving counter (\d+)", out)
    assert m, out
    highest, serving = int(m.group(3)), int(m.group(4))
    assert highest == 40 and serving == 12, out
    # The damaged record could not be read: the room goes a few positions further still.
    m = re.search(r"room demo continues in epoch 1 after position (\d+), serving counter at least (\d+)", out)
    assert m, out
    floor = int(m.group(1))
    assert highest < floor <= highest + 3 and int(m.group(2)) == serving, out

    r = log_cmd("check", "--data-dir", srv.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr

    # After the repair: it starts, and nothing the dropped part handed out is handed out again.
    srv.start()
    fresh = srv.enqueue_ok("demo")
    assert fresh["position"] == floor + 1, fresh
    assert srv.stats("demo")["serving"] >= serving
    # A ticket that only the dropped part held is over, not someone else's place.
    dropped = tickets[-1]
    r = srv.ticket("demo", dropped["ticket"])
    assert r.status_code == 200 and r.json()["status"] == "expired", describe(r)
    assert r.json()["position"] == dropped["position"]
    # And the records before the damage are all there.
    for t in tickets[: before // 2]:
        r = srv.ticket("demo", t["ticket"])
        assert r.status_code == 200 and r.json()["position"] == t["position"], describe(r)
    # The floor survives another restart.
    srv.restart()
    assert srv.enqueue_ok("demo")["position"] == floor + 2
    assert not srv.sanitizer_reports()


def test_check_reports_a_torn_tail_as_not_damage_and_start_up_cuts_it(server):
    srv = server.start()
    for _ in range(5):
        srv.enqueue_ok("demo")
    srv.kill9()
    records, size = intact_size(srv.data_dir)
    log = srv.data_dir / LOG
    # A torn last write after every acknowledged record: a header promising more than follows.
    with open(log, "r+b") as f:
        f.seek(size)
        f.write((500).to_bytes(4, "little") + b"\x01\x02\x03\x04" + (records + 1).to_bytes(8, "little") + b"torn")
    r = log_cmd("check", "--data-dir", srv.data_dir)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "torn last write" in r.stdout and "Not damage" in r.stdout, r.stdout
    srv.start()
    assert srv.enqueue_ok("demo")["position"] == 6
    assert "cut off a torn last write" in srv.log_text()


def test_check_of_a_missing_log_fails_clearly(tmp_path):
    r = log_cmd("check", "--data-dir", tmp_path)
    assert r.returncode == 2
    assert "no log at" in r.stderr
