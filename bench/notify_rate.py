"""The notify row of `make bench` (bench/run): how fast one node tells a line whose turn came.

One `waitroom serve` (the binary in WAITROOM_BIN, real clock) with [smtp] pointed at a local
aiosmtpd (tests/http/mail_sink.py, STARTTLS offered and used) and [push] at the local push service
of tests/http/push_receiver.mjs (which checks each VAPID JWT and decrypts each message, as a
browser's push service and the browser would). N visitors join a manual room and ask to be told,
half by e-mail and half by Web Push; then one operator's advance admits them all, and the clock
runs until every "it's your turn" message has reached its receiver. Prints one JSON line:
{"n", "email_s", "push_s", "email_per_s", "push_per_s", "failed"}. The receivers are part of what
is measured: both run on this machine, in Python and Node.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests/http"))

from mail_sink import MailSink  # noqa: E402
from wrlib import TEST_CLOCK_CONFIG, Server, free_port, new_session  # noqa: E402

N = int(os.environ.get("NOTIFY_N", "400"))
TIMEOUT_S = 120


def main():
    work = Path(os.environ.get("NOTIFY_TMP", "/tmp")) / f"notify-bench-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    sink = MailSink(free_port(), work).start()
    config = ('public_url = "https://queue.example.test"\n' + sink.config()
              + '\n[push]\nsubject = "mailto:ops@example.test"\nallowed_hosts = ["127.0.0.1"]\n'
              + TEST_CLOCK_CONFIG.replace("[testing]\nmanual_clock = true\n", ""))
    srv = Server(config_text=config, name="waitroom-notify-bench").start()
    receiver = None
    try:
        setup = srv.get("/v1/notify").json()
        log = work / "pushes.jsonl"
        log.touch()
        port = free_port()
        receiver = subprocess.Popen(
            ["node", str(REPO / "tests/http/push_receiver.mjs"), str(port), str(log),
             setup["push"]["public_key"]],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        subscription = json.loads(receiver.stdout.readline())
        room = "notifybench"
        r = srv.put(f"/admin/v1/rooms/{room}", admin=True,
                    json={"admission": {"mode": "manual"}, "away_max_s": 3600,
                          "notify_before_s": 0, "claim_timeout_s": 3600,
                          "abuse": {"tickets_per_ip_per_minute": 0, "polls_per_ip_per_second": 0}})
        assert r.status_code == 201, r.text
        s = new_session()
        for i in range(N):
            t = s.post(srv.url(f"/v1/rooms/{room}/tickets"), json={}, timeout=10).json()["ticket"]
            if i % 2 == 0:
                body = {"channel": "email", "email": f"v{i}@example.org"}
            else:
                sub = dict(subscription, endpoint=subscription["endpoint"] + f"v{i}")
                body = {"channel": "push", "subscription": sub, "key_id": setup["push"]["key_id"]}
            r = s.put(srv.url(f"/v1/rooms/{room}/tickets/{t}/notify"), json=body, timeout=10)
            assert r.status_code == 200, r.text
        emails = pushes = N // 2
        start = time.monotonic()
        srv.advance(room, by=N)
        email_s = push_s = None
        while time.monotonic() - start < TIMEOUT_S and (email_s is None or push_s is None):
            now = time.monotonic() - start
            if email_s is None and len(sink.received()) >= emails:
                email_s = now
            if push_s is None and sum(1 for _ in log.read_text().splitlines()) >= pushes:
                push_s = now
            time.sleep(0.02)
        received = [json.loads(line) for line in log.read_text().splitlines()]
        failed = sum(1 for p in received if not p["ok"]) + sum(1 for m in sink.received() if not m.tls)
        print(json.dumps({"n": N, "email_s": email_s, "push_s": push_s,
                          "email_per_s": round(emails / email_s) if email_s else None,
                          "push_per_s": round(pushes / push_s) if push_s else None,
                          "failed": failed}))
    finally:
        if receiver:
            receiver.terminate()
        srv.shut_down()
        sink.stop()


if __name__ == "__main__":
    main()
