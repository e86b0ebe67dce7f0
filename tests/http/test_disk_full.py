"""A full disk under the data directory (a small tmpfs): changes get 503 with Retry-After, the
server stays up and /readyz says it cannot write, nothing on disk is corrupted, and it serves
again by itself within seconds of space returning, with every acknowledged ticket kept.
"""

import os
import subprocess
import time

import pytest

from wrlib import Server, describe


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt, leave_bytes, name="filler"):
    st = os.statvfs(mnt)
    free = st.f_bavail * st.f_frsize
    filler = mnt / name
    subprocess.run(["fallocate", "-l", str(max(free - leave_bytes, 4096)), str(filler)], check=True)
    return filler


def test_a_full_disk_answers_503_keeps_what_was_acknowledged_and_recovers(small_disk):
    srv = Server(config_text="")  # no rooms in the config: nothing is written at start
    srv.data_dir = small_disk / "data"
    srv.data_dir.mkdir()
    srv.start()
    try:
        room = srv.create_room()  # the log's first write: it zero-fills 8 MiB ahead
        acked = [srv.enqueue_ok(room) for _ in range(20)]
        # Now fill the disk and write past the zero-filled space: a room with big settings is
        # one large record each.
        filler = fill(small_disk, 64 * 1024)
        refused = None
        big = {"target_url": "https://shop.example/" + "x" * 2000}
        for i in range(8000):
            r = srv.put(f"/admin/v1/rooms/big{i}", admin=True, json=big)
            if r.status_code == 503:
                refused = r
                break
            assert r.status_code == 201, describe(r)
            t = srv.enqueue(room)
            assert t.status_code == 201, describe(t)
            acked.append(t.json())
        assert refused is not None, "the disk never filled"
        assert refused.headers.get("Retry-After"), describe(refused)
        assert refused.headers["Content-Type"].startswith("application/problem+json")
        # Refused while full, and the server says so; reads still work.
        assert srv.enqueue(room).status_code == 503
        assert srv.get("/readyz").status_code == 503
        assert srv.get(f"/v1/rooms/{room}/tickets/{acked[0]['ticket']}").status_code == 200
        assert srv.alive()

        filler.unlink()  # space returns
        deadline = time.monotonic() + 10
        while srv.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert srv.get("/readyz").status_code == 200, "not writable 10 s after space returned"
        after = srv.enqueue(room)
        assert after.status_code == 201, describe(after)
        acked.append(after.json())

        # Nothing acknowledged was lost, no position was given twice, the log replays cleanly.
        srv.restart()
        positions = [t["position"] for t in acked]
        assert len(set(positions)) == len(positions)
        for t in acked:
            r = srv.get(f"/v1/rooms/{room}/tickets/{t['ticket']}")
            assert r.status_code == 200 and r.json()["position"] == t["position"], describe(r)
        assert not srv.sanitizer_reports()
    finally:
        srv.stop()


def test_a_small_disk_with_1_mib_free_starts_and_takes_writes(small_disk):
    """Issue 17 item 5: the log's zero-filled space ahead shrinks to the space there is, so a disk
    with 1 MiB free is enough to start (the config's rooms are written at start) and take joins;
    503 comes only when a record truly cannot be written."""
    data = small_disk / "data"
    data.mkdir()
    filler = fill(small_disk, 1024 * 1024)
    srv = Server()  # two rooms in the config: the log's first write happens during start-up
    srv.data_dir = data
    try:
        srv.start()
        assert srv.get("/readyz").status_code == 200
        acked = [srv.enqueue_ok("demo") for _ in range(200)]
        assert [t["position"] for t in acked] == list(range(1, 201))
        assert srv.get("/readyz").status_code == 200
        st = os.statvfs(small_disk)
        assert st.f_bavail * st.f_frsize > 0, "preallocation took every free byte"
        # Still honest when the disk is truly full: big records until one cannot be written.
        filler2 = fill(small_disk, 16 * 1024, name="filler2")
        big = {"target_url": "https://shop.example/" + "x" * 2000}
        statuses = set()
        for i in range(2000):
            r = srv.put(f"/admin/v1/rooms/big{i}", admin=True, json=big)
            statuses.add(r.status_code)
            if r.status_code == 503:
                break
            assert r.status_code == 201, describe(r)
        assert 503 in statuses, "the disk never filled"
        filler2.unlink()
        filler.unlink()
        deadline = time.monotonic() + 10
        while srv.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        srv.restart()
        for t in acked:
            r = srv.get(f"/v1/rooms/demo/tickets/{t['ticket']}")
            assert r.status_code == 200 and r.json()["position"] == t["position"], describe(r)
        assert not srv.sanitizer_reports()
    finally:
        srv.stop()
