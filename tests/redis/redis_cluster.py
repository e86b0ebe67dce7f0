"""A real Redis Cluster for the scale-out tests (issue 23): `primaries` Debian redis-servers with
`replicas_per_primary` replicas each, on free loopback ports, each in its own temp dir with AOF
(`appendfsync always` by default) and a short cluster-node-timeout, so a killed primary's replica
takes over within a few seconds. Tests can kill and restart nodes, wait for a failover, and move
chosen slots (the slots of chosen rooms) to another primary while load runs.

Like redislib, it talks RESP over a socket; only the cluster's creation and
reshard_with_redis_cli() use redis-cli.

    with RedisClusterServers() as rc:             # or rc = RedisClusterServers().start(); rc.stop()
        rc.seed_url                               # redis://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/0
        slot = slot_of("waitroom:{room}:log")
        primary = rc.primary_for_slot(slot)
        rc.kill9(primary)
        print(rc.wait_promoted(slot, 30))         # seconds from the kill until a primary serves it
        rc.restart(primary)                       # rejoins as a replica of the promoted node
        rc.move_slots([slot], rc.replica_of(...)) # a live reshard of that one slot
"""

import shutil
import socket
import subprocess
import time

from redislib import RedisServer, wait_for

REDIS_CLI = "/usr/bin/redis-cli"
HOST = "127.0.0.1"
SLOTS = 16384


# ---- key → slot, exactly as Redis's keyHashSlot (cluster.c) ------------------------------------

def _crc16_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC16_TABLE = _crc16_table()


def crc16(data):
    """CRC16-CCITT (XModem): polynomial 0x1021, initial value 0, no reflection, no final XOR."""
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16_TABLE[((crc >> 8) ^ b) & 0xFF]
    return crc


def slot_of(key):
    """The hash slot of a key (str: UTF-8, or bytes). Only the part between the first `{` and the
    first `}` after it is hashed, when that part is not empty; otherwise the whole key."""
    k = key.encode() if isinstance(key, str) else bytes(key)
    s = k.find(b"{")
    if s != -1:
        e = k.find(b"}", s + 1)
        if e != -1 and e != s + 1:
            k = k[s + 1:e]
    return crc16(k) % SLOTS


_TAG_FOR_SLOT = {}
_TAG_SEARCHED = [0]


def tag_for_slot(slot):
    """A short tag ("s" and a number, a valid room name) with slot_of("{" + tag + "}") == slot:
    a room named so has its keys in that slot. Found by search once (about 16k CRCs), cached."""
    if not 0 <= slot < SLOTS:
        raise ValueError(f"slot {slot} out of range")
    while slot not in _TAG_FOR_SLOT:
        tag = f"s{_TAG_SEARCHED[0]}"
        _TAG_SEARCHED[0] += 1
        _TAG_FOR_SLOT.setdefault(slot_of(tag), tag)
    return _TAG_FOR_SLOT[slot]


def key_for_slot(slot, suffix=""):
    """A key in `slot`: "{tag}" + suffix."""
    return "{" + tag_for_slot(slot) + "}" + suffix


def _free_ports(n):
    """n distinct loopback ports nobody listens on right now (all bound at once, then closed)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# ---- the nodes ---------------------------------------------------------------------------------

class ClusterNode(RedisServer):
    """One redis-server of the cluster. Its cluster bus port is chosen explicitly (`cluster-port`,
    Redis 7), since port + 10000 may be taken or above 65535. restart() keeps port, bus port and
    dir (with nodes.conf), so a node comes back as the same cluster node."""

    def __init__(self, port, bus_port, appendfsync, node_timeout_ms, require_full_coverage):
        super().__init__(appendfsync=appendfsync, prefix="waitroom-rcluster-", extra_args=[
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
            "--cluster-port", str(bus_port), "--cluster-node-timeout", str(node_timeout_ms),
            "--cluster-require-full-coverage", "yes" if require_full_coverage else "no",
            # A node back from a kill copies its primary's data at once, not after 5 s.
            "--repl-diskless-sync-delay", "0"])
        self.port = port
        self.bus_port = bus_port
        self._id = None

    @property
    def addr(self):
        return f"{HOST}:{self.port}"

    @property
    def id(self):
        """The cluster node id (kept in nodes.conf, so the same after a restart)."""
        if self._id is None:
            self._id = self.command("CLUSTER", "MYID")
        return self._id

    def cluster_info(self):
        out = {}
        for line in self.command("CLUSTER", "INFO").splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                out[k] = int(v) if v.isdigit() else v
        return out

    def cluster_nodes(self):
        """This node's view, one dict per known node: id, port, flags (set), master_id (None for a
        primary), slots (set of slot numbers it serves), link."""
        out = []
        for line in self.command("CLUSTER", "NODES").splitlines():
            f = line.split()
            if len(f) < 8:
                continue
            slots = set()
            for r in f[8:]:
                if r.startswith("["):  # [slot->-id] migrating, [slot-<-id] importing
                    continue
                a, _, b = r.partition("-")
                slots.update(range(int(a), int(b or a) + 1))
            port = f[1].split("@")[0].rsplit(":", 1)[1]
            out.append({"id": f[0], "port": int(port) if port.isdigit() else 0,
                        "flags": set(f[2].split(",")), "master_id": None if f[3] == "-" else f[3],
                        "epoch": int(f[6]), "link": f[7], "slots": slots})
        return out

    def slot_ranges(self):
        """CLUSTER SLOTS as [(start, end, primary port, [replica ports])], sorted. Redis 7.0 leaves
        out replicas whose replication offset is still 0 (a new cluster before its first write or
        replication ping): ask replicas_of() who replicates whom."""
        return sorted((r[0], r[1], int(r[2][1]), [int(x[1]) for x in r[3:]])
                      for r in self.command("CLUSTER", "SLOTS"))

    def __repr__(self):
        state = "up" if self.alive() else "down"
        return f"<ClusterNode {self.addr} {state} {self._id[:8] if self._id else ''}>"


class RedisClusterServers:
    """primaries × (1 + replicas_per_primary) redis-servers forming one Redis Cluster."""

    def __init__(self, primaries=3, replicas_per_primary=1, appendfsync="always",
                 node_timeout_ms=1000, require_full_coverage=False):
        # require_full_coverage=False as in deploy/scale-out/redis-cluster.conf: while one shard
        # has no primary, the others keep serving their slots.
        self.primaries_count = primaries
        self.replicas_per_primary = replicas_per_primary
        self.node_timeout_ms = node_timeout_ms
        n = primaries * (1 + replicas_per_primary)
        ports = _free_ports(2 * n)
        self._nodes = [ClusterNode(ports[i], ports[n + i], appendfsync, node_timeout_ms,
                                   require_full_coverage) for i in range(n)]
        self._seeds = []
        self.last_kill = None  # time.monotonic() of the last kill9()

    # ---- life cycle -----------------------------------------------------------------------------
    def start(self, timeout_s=90.0):
        """Starts the servers, creates the cluster with redis-cli and waits until every node says
        cluster_state:ok with all 16384 slots served. Returns self."""
        try:
            for node in self._nodes:
                node.start()
            cmd = [REDIS_CLI, "--cluster", "create", *[n.addr for n in self._nodes],
                   "--cluster-replicas", str(self.replicas_per_primary), "--cluster-yes"]
            r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                               timeout=timeout_s)
            if r.returncode != 0:
                raise RuntimeError(f"redis-cli --cluster create failed ({r.returncode}):\n"
                                   + r.stdout[-3000:] + r.stderr[-2000:])
            self.wait_ok(timeout_s)
            self._seeds = sorted(self.current_primaries(), key=lambda p: min(self._owned(p)))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        """Stops every server (SIGTERM, SIGKILL after 10 s) and removes their dirs. Idempotent."""
        errors = []
        for node in self._nodes:
            try:
                node.stop()
            except BaseException as e:  # stop the others anyway
                errors.append(e)
            shutil.rmtree(node.dir, ignore_errors=True)
        if errors:
            raise errors[0]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ---- addresses --------------------------------------------------------------------------------
    @property
    def nodes(self):
        """All servers (ClusterNode), alive or not, in creation order."""
        return list(self._nodes)

    @property
    def seeds(self):
        """The primaries right after creation, ordered by their first slot: ["127.0.0.1:P", ...]."""
        return [n.addr for n in self._seeds]

    @property
    def seed_url(self):
        """redis://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3/0: the primaries at creation (fixed;
        after a failover some of them are replicas or down, as in a real seed list)."""
        return "redis://" + ",".join(self.seeds) + "/0"

    url = seed_url  # so tests' Cluster(redis) accepts a RedisClusterServers like a RedisServer

    def node_by_port(self, port):
        for n in self._nodes:
            if n.port == port:
                return n
        raise KeyError(port)

    def node_by_id(self, node_id):
        for n in self._nodes:
            if n._id == node_id:
                return n
        for n in self._nodes:
            if n.alive() and n.id == node_id:
                return n
        raise KeyError(node_id)

    def live_nodes(self):
        return [n for n in self._nodes if n.alive()]

    # ---- who serves what ------------------------------------------------------------------------------
    def _claims(self):
        """{node: (epoch, slots)} for every live node that is a primary in its own view."""
        out = {}
        for n in self.live_nodes():
            try:
                view = n.cluster_nodes()
            except (OSError, RuntimeError):
                continue
            for e in view:
                if "myself" in e["flags"] and "master" in e["flags"]:
                    out[n] = (e["epoch"], e["slots"])
        return out

    def _owned(self, node):
        claim = self._claims().get(node)
        return claim[1] if claim else set()

    def current_primaries(self):
        """The live nodes that are primaries with at least one slot, in their own view."""
        return [n for n, (_, slots) in self._claims().items() if slots]

    def primary_for_slot(self, slot):
        """The live node that serves `slot` as primary in its own view (the highest config epoch
        wins while an old primary that came back has not yet learnt it was replaced), or None
        while no live primary claims it (between a primary's death and its replica's promotion)."""
        best = None
        for n, (epoch, slots) in self._claims().items():
            if slot in slots and (best is None or epoch > best[0]):
                best = (epoch, n)
        return best[1] if best else None

    def command(self, *args, timeout_s=5.0):
        """One keyed command (GET key, SET key ...) sent to the primary serving its key's slot,
        as a RedisServer.command: tests written for one Redis can run on the cluster."""
        deadline = time.monotonic() + timeout_s
        while True:
            node = self.primary_for_slot(slot_of(args[1]))
            try:
                if node is None:
                    raise RuntimeError("CLUSTERDOWN no primary serves the slot yet")
                return node.command(*args, timeout_s=timeout_s)
            except (OSError, RuntimeError) as e:
                retry = isinstance(e, OSError) or str(e).startswith(("MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN"))
                if not retry or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    def slots_of(self, node):
        """The slots `node` serves as primary, in its own view (empty for a replica or a dead node)."""
        return set(self._owned(node)) if node.alive() else set()

    def replicas_of(self, primary):
        """The nodes recorded as replicas of `primary` (alive or not), in a live node's view."""
        for n in sorted(self.live_nodes(), key=lambda x: x is not primary):
            try:
                view = n.cluster_nodes()
            except (OSError, RuntimeError):
                continue
            return [self.node_by_id(e["id"]) for e in view
                    if e["master_id"] == primary.id and ("slave" in e["flags"] or "replica" in e["flags"])]
        return []

    def replica_of(self, primary):
        """The first replica of `primary` (a live one when there is one), or None."""
        reps = sorted(self.replicas_of(primary), key=lambda n: not n.alive())
        return reps[0] if reps else None

    # ---- failures -------------------------------------------------------------------------------------
    def kill9(self, node):
        self.last_kill = time.monotonic()
        node.kill9()

    def restart(self, node, timeout_s=30.0):
        """Starts a stopped or killed node on its port and dir again; a former primary whose slots
        were taken over rejoins as a replica of its successor. Waits until the cluster is ok."""
        if node.alive():
            raise RuntimeError(f"{node} is running")
        node.start(timeout_s=timeout_s)
        self.wait_ok(timeout_s)
        return node

    def _serves(self, slot):
        """A live node that answers a read of a key in `slot` (no MOVED, no CLUSTERDOWN)."""
        key = key_for_slot(slot)
        for n in self.live_nodes():
            try:
                ranges = n.slot_ranges()
            except (OSError, RuntimeError):
                continue
            for start, end, port, _ in ranges:
                if start <= slot <= end:
                    try:
                        owner = self.node_by_port(port)
                    except KeyError:
                        continue
                    if owner.alive():
                        try:
                            owner.command("EXISTS", key, timeout_s=2.0)
                            return owner
                        except (OSError, RuntimeError):
                            pass
        return None

    def wait_promoted(self, slot, timeout_s=30.0, since=None):
        """Polls CLUSTER SLOTS on the live nodes until the primary it names for `slot` answers a
        read of a key in the slot. Returns the seconds since `since` (a time.monotonic() value;
        default: the last kill9(), or this call). Raises TimeoutError after timeout_s."""
        started = time.monotonic()
        since = since if since is not None else (self.last_kill if self.last_kill is not None else started)
        while time.monotonic() - started < timeout_s:
            if self._serves(slot) is not None:
                return time.monotonic() - since
            time.sleep(0.05)
        raise TimeoutError(f"no live primary serves slot {slot} after {timeout_s} s\n" + self.describe())

    def _ok(self):
        live = self.live_nodes()
        if not live:
            return False
        live_ids = set()
        try:
            ranges = None
            for n in live:
                live_ids.add(n.id)
                info = n.cluster_info()
                if (info.get("cluster_state") != "ok" or info.get("cluster_slots_assigned") != SLOTS
                        or info.get("cluster_slots_ok") != SLOTS
                        or info.get("cluster_known_nodes") != len(self._nodes)):
                    return False
                r = [(a, b, p) for a, b, p, _ in n.slot_ranges()]
                if ranges is None:
                    ranges = r
                elif r != ranges:
                    return False
            if any(not self.node_by_port(p).alive() for _, _, p in ranges):
                return False
            roles = None
            for n in live:  # nobody thinks a live node is failing, all agree on who replicates whom
                view = {}
                for e in n.cluster_nodes():
                    if e["id"] in live_ids:
                        if e["flags"] & {"fail", "fail?", "handshake", "noaddr"}:
                            return False
                        view[e["id"]] = ("master" in e["flags"], e["master_id"])
                if roles is None:
                    roles = view
                elif view != roles:
                    return False
            for n in live:  # every live replica's link to its primary is up (WAIT counts it)
                info = n.command("INFO", "replication")
                if "role:slave" in info and "master_link_status:up" not in info:
                    return False
        except (OSError, RuntimeError, KeyError):
            return False
        return True

    def wait_ok(self, timeout_s=30.0):
        """Waits until every live node says cluster_state:ok with all 16384 slots assigned and ok,
        knows every node, sees no live node as failing, and all agree on who serves which slots
        (all of them live primaries) and on who replicates whom, and every live replica's link to
        its primary is up. Raises TimeoutError after
        timeout_s."""
        if not wait_for(self._ok, timeout_s, 0.05):
            raise TimeoutError(f"cluster not ok after {timeout_s} s\n" + self.describe())

    def describe(self):
        """CLUSTER NODES of the first live node, and each node's state: for failure messages."""
        lines = [repr(n) for n in self._nodes]
        for n in self.live_nodes():
            try:
                lines.append(f"CLUSTER NODES at {n.addr}:\n" + n.command("CLUSTER", "NODES"))
                break
            except (OSError, RuntimeError):
                continue
        return "\n".join(lines)

    # ---- resharding ----------------------------------------------------------------------------------
    def move_slots(self, slots, to_node, batch=100, timeout_s=60.0):
        """Moves `slots` to the primary `to_node` live, one slot after another, the way
        redis-cli does: SETSLOT IMPORTING at the target, MIGRATING at the source, the keys over in
        batches (CLUSTER GETKEYSINSLOT + MIGRATE ... KEYS), then SETSLOT NODE at the target, the
        source and every other live primary. While a slot moves, clients get ASK redirections
        (and TRYAGAIN for multi-key commands whose keys are split between the nodes). Waits until
        every live node names `to_node` for each slot. Returns the slots that moved (those
        `to_node` already had are skipped)."""
        if not any({"myself", "master"} <= e["flags"] for e in to_node.cluster_nodes()):
            raise ValueError(f"{to_node} is not a primary")
        deadline = time.monotonic() + timeout_s
        moved = []
        for slot in slots:
            src = self.primary_for_slot(slot)
            if src is None:
                raise RuntimeError(f"no live primary serves slot {slot}\n" + self.describe())
            if src is to_node:
                continue
            to_node.command("CLUSTER", "SETSLOT", slot, "IMPORTING", src.id)
            src.command("CLUSTER", "SETSLOT", slot, "MIGRATING", to_node.id)
            while True:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"slot {slot} still has keys at {src} after {timeout_s} s")
                keys = src.command("CLUSTER", "GETKEYSINSLOT", slot, batch)
                if not keys:
                    break
                src.command("MIGRATE", HOST, to_node.port, "", 0, 10000, "KEYS", *keys, timeout_s=30.0)
            to_node.command("CLUSTER", "SETSLOT", slot, "NODE", to_node.id)
            src.command("CLUSTER", "SETSLOT", slot, "NODE", to_node.id)
            for p in self.current_primaries():
                if p is not to_node and p is not src:
                    p.command("CLUSTER", "SETSLOT", slot, "NODE", to_node.id)
            moved.append(slot)
        self._wait_owner(moved, to_node, max(1.0, deadline - time.monotonic()))
        return moved

    def _wait_owner(self, slots, owner, timeout_s):
        def everyone_agrees():
            for n in self.live_nodes():
                try:
                    ranges = n.slot_ranges()
                except (OSError, RuntimeError):
                    return False
                for slot in slots:
                    if not any(a <= slot <= b and p == owner.port for a, b, p, _ in ranges):
                        return False
            return True
        if not wait_for(everyone_agrees, timeout_s, 0.05):
            raise TimeoutError(f"not every node names {owner} for slots {slots[:10]}...\n" + self.describe())

    def reshard_with_redis_cli(self, count, from_node, to_node, timeout_s=120.0):
        """`redis-cli --cluster reshard` of `count` slots from one primary to another. Returns the
        sorted slots that moved."""
        before = self.slots_of(from_node)
        cmd = [REDIS_CLI, "--cluster", "reshard", from_node.addr, "--cluster-from", from_node.id,
               "--cluster-to", to_node.id, "--cluster-slots", str(count), "--cluster-yes"]
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=timeout_s)
        if r.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster reshard failed ({r.returncode}):\n"
                               + r.stdout[-3000:] + r.stderr[-2000:])
        moved = sorted(before & self.slots_of(to_node))
        self._wait_owner(moved, to_node, timeout_s)
        return moved
