"""Log integrity on Redis (issue 25, item 4): every record a node appends to a room's log is
sealed with a CRC-32C (src/store/redis/redis_record.hpp). A record damaged in Redis stops that
room alone with a clear 503, never a silent skip or a wrong copy; the other rooms keep serving;
once the record is put right in Redis the room is served again without a restart. Records of
older versions (unsealed) are still read.

Each test starts its own redis-server and nodes, and damages records with plain RESP commands
(LINDEX / LSET), as an operator's mistake or a bad restore would."""

import json

from wrlib import assert_json, assert_problem, describe, unique_room

from conftest import Cluster
from redislib import wait_for

SEAL = 0xFF
SEAL_BYTES = 5  # marker + CRC-32C


def as_bytes(v):
    return v if isinstance(v, bytes) else v.encode()


def log_key(cluster, room):
    return f"{cluster.prefix}:{{{room}}}:log"


def records(redis, key):
    return [as_bytes(r) for r in redis.command("LRANGE", key, 0, -1)]



def log_lines(node):
    out = []
    for line in node.log_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def test_a_damaged_record_stops_its_room_with_a_clear_503_while_other_rooms_keep_working(redis):
    cluster = Cluster(redis, nodes=2)
    try:
        writer, reader = cluster[0], cluster[1]
        writer.start()
        damaged_room = writer.create_room(unique_room("dmg"), admission={"mode": "manual"})
        healthy_room = writer.create_room(unique_room("ok"), admission={"mode": "manual"})
        tickets = [writer.enqueue_ok(damaged_room)["ticket"] for _ in range(6)]
        writer.enqueue_ok(healthy_room)

        key = log_key(cluster, damaged_room)
        stored = records(redis, key)
        assert len(stored) == 7, stored  # the room's settings, then one record per ticket
        assert all(r[0] == SEAL for r in stored), "records are not sealed"
        # Record 3 is the third ticket's: flip one bit of its count field (17 bytes before its
        # end: count, entry time, flags). Unsealed, this would read as a room with more tickets.
        index = 3
        original = stored[index]
        damaged = bytearray(original)
        damaged[-17] ^= 0x04
        assert redis.command("LSET", key, index, bytes(damaged)) == "OK"

        # A node that starts now reads every log: it starts, and stops only the damaged room.
        reader.start()
        r = reader.get(f"/v1/rooms/{damaged_room}")
        body = assert_problem(r, 503)
        detail = body["detail"]
        for part in (f'room "{damaged_room}"', f"record {index}", key, f"index {index}",
                     "checksum mismatch", "docs/operations.md"):
            assert part in detail, (part, detail)
        assert int(r.headers["Retry-After"]) > 0, describe(r)
        # Every operation of that room answers the same: joins, polls, the admin API.
        assert assert_problem(reader.enqueue(damaged_room), 503)["detail"] == detail
        assert assert_problem(reader.ticket(damaged_room, tickets[0]), 503)["detail"] == detail
        assert assert_problem(reader.ticket(damaged_room, tickets[5]), 503)["detail"] == detail
        r = reader.post(f"/admin/v1/rooms/{damaged_room}/advance", admin=True, json={"to": 1})
        assert assert_problem(r, 503)["detail"] == detail
        # Nothing was appended to the damaged log.
        assert redis.command("LLEN", key) == 7

        # The other room is served by the same node, reads and writes.
        assert reader.room_status(healthy_room)["queue_length"] == 1
        assert reader.enqueue_ok(healthy_room)["position"] == 2
        # Readiness stays: the damage is in Redis, shared by every node; failing /readyz would take
        # the healthy rooms down everywhere. The stopped room is counted in /metrics instead.
        assert_json(reader.get("/readyz"), 200)
        metrics = reader.get("/metrics").text
        assert "waitroom_redis_stopped_rooms 1\n" in metrics, metrics[-2000:]

        # One JSON line at level error says which room and record, what failed and what to do.
        errors = [l for l in log_lines(reader)
                  if l.get("level") == "error" and l.get("room") == damaged_room]
        assert len(errors) == 1, reader.log_tail()
        line = errors[0]
        assert line["index"] == index and line["key"] == key, line
        assert "checksum mismatch" in line["error"], line
        assert "backup" in line["what_to_do"], line

        # Put right in Redis (the record restored from a backup): served again, nothing lost.
        assert redis.command("LSET", key, index, original) == "OK"
        assert wait_for(lambda: reader.get(f"/v1/rooms/{damaged_room}").status_code == 200, 25, 0.1), \
            describe(reader.get(f"/v1/rooms/{damaged_room}"))
        assert reader.room_status(damaged_room)["queue_length"] == 6
        assert_json(reader.ticket(damaged_room, tickets[5]), 200)
        assert reader.enqueue_ok(damaged_room)["position"] == 7
        assert "waitroom_redis_stopped_rooms 0\n" in reader.get("/metrics").text
    finally:
        cluster.close()


def test_records_written_by_an_older_version_are_still_read(redis):
    cluster = Cluster(redis, nodes=2)
    try:
        old, new = cluster[0], cluster[1]
        old.start()
        room = old.create_room(unique_room("old"), admission={"mode": "manual"})
        tickets = [old.enqueue_ok(room)["ticket"] for _ in range(4)]
        old.advance(room, to=2)
        assert_json(old.pass_for(room, tickets[0]), 200)
        old.stop()

        # Rewrite the log as a version before sealing wrote it: the bare payloads.
        key = log_key(cluster, room)
        stored = records(redis, key)
        assert stored and all(r[0] == SEAL for r in stored), "records are not sealed"
        for i, r in enumerate(stored):
            assert redis.command("LSET", key, i, r[SEAL_BYTES:]) == "OK"

        new.start()
        status = new.room_status(room)
        assert status["queue_length"] == 4 and status["serving"] == 2, status
        assert_json(new.ticket(room, tickets[3]), 200)
        assert_json(new.pass_for(room, tickets[0]), 200)
        assert new.enqueue_ok(room)["position"] == 5
        # What this version appends is sealed; the older records stay as they were.
        after = records(redis, key)
        assert [r for r in after[:len(stored)]] == [r[SEAL_BYTES:] for r in stored]
        assert all(r[0] == SEAL for r in after[len(stored):]), after[len(stored):]
    finally:
        cluster.close()
