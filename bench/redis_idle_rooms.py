#!/usr/bin/env python3
"""Redis commands a second that one node sends while it drives idle rooms.

    bench/redis_idle_rooms.py BINARY [ROOMS] [WAITING]

Starts a redis-server and one `waitroom serve` (store redis) on free loopback ports, creates
ROOMS rooms (default 50) in manual mode with WAITING tickets each (default 3: people wait, but
nobody is let in; 0: rooms between sales), waits 3 s,
then counts the calls in Redis's `INFO commandstats` over 10 s (the inner calls of Lua scripts
included). Everything it starts is stopped, and its temp dir removed, however it ends.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

ADMIN_KEY = "bench-admin-key-0123456789"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_calls(port):
    out = subprocess.run(["redis-cli", "-p", str(port), "INFO", "commandstats"],
                         capture_output=True, text=True, timeout=10).stdout
    return sum(int(line.split("calls=")[1].split(",")[0])
               for line in out.splitlines() if "calls=" in line)


def main():
    binary, rooms = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 50
    waiting = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    tmp = tempfile.mkdtemp(prefix="waitroom-idle-")
    redis_port, port = free_port(), free_port()
    procs = []
    try:
        procs.append(subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
             "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL))
        env = dict(os.environ, WAITROOM_STORE="redis", WAITROOM_ADMIN_KEY=ADMIN_KEY,
                   WAITROOM_REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
        time.sleep(0.3)
        procs.append(subprocess.Popen(
            [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", f"{tmp}/data"],
            env=env, stderr=subprocess.DEVNULL))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("waitroom did not become ready in 20 s")
                time.sleep(0.1)

        def call(method, path, body=None):
            req = urllib.request.Request(
                base + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"})
            return urllib.request.urlopen(req, timeout=10).read()

        for i in range(rooms):
            call("PUT", f"/admin/v1/rooms/idle{i}", {"admission": {"mode": "manual"}})
            for _ in range(waiting):
                call("POST", f"/v1/rooms/idle{i}/tickets", {})
        time.sleep(3)
        before = redis_calls(redis_port)
        time.sleep(10)
        after = redis_calls(redis_port) - 1  # less the first INFO
        print(f"{rooms} idle rooms, {waiting} waiting in each: {(after - before) / 10:,.0f} Redis commands/s "
              f"({(after - before) / 10 / rooms:,.0f} per room)")
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
