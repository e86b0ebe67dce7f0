"""A real Debian redis-server for the scale-out tests: started on a free loopback
port with its own directory, AOF on with `appendfsync always` (every acknowledged
write is on disk before Redis answers), killable with SIGKILL and restartable on
the same port and files. Talks RESP over a socket, so no Redis client library is
needed."""

import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from wrlib import free_port

REDIS_SERVER = "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, appendfsync="always", extra_args=(), prefix="waitroom-redis-"):
        self.dir = Path(tempfile.mkdtemp(prefix=prefix))
        self.port = free_port()
        self.appendfsync = appendfsync
        self.extra_args = list(extra_args)  # more redis-server options, e.g. ["--maxmemory", "1gb"]
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s=10.0):
        args = [REDIS_SERVER, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir),
                "--save", "", "--appendonly", "yes", "--appendfsync", self.appendfsync,
                "--daemonize", "no", "--logfile", str(self.dir / "redis.log")] + self.extra_args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self.command("PING") == "PONG":
                    return self
            except OSError:
                pass
            except RuntimeError as e:  # "LOADING …": still reading its AOF
                if not str(e).startswith("LOADING"):
                    raise
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}: "
                                   + (self.dir / "redis.log").read_text(errors="replace")[-2000:])
            time.sleep(0.02)
        raise RuntimeError("redis-server did not answer PING")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars=2000):
        try:
            return (self.dir / "redis.log").read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def kill9(self):
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    def command(self, *args, timeout_s=5.0):
        """One command; returns str, int, None, list, or raises RuntimeError on an error reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout_s) as s:
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            return _read_reply(s.makefile("rb"))


def _read_reply(f):
    line = f.readline()
    if not line:
        raise OSError("connection closed")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)[:-2]
        try:
            return data.decode()
        except UnicodeDecodeError:
            return data
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError(f"bad reply {line!r}")


def commandstats(redis):
    """{command: calls} from INFO commandstats."""
    out = {}
    for line in redis.command("INFO", "commandstats").splitlines():
        if line.startswith("cmdstat_"):
            name, rest = line[len("cmdstat_"):].split(":", 1)
            fields = dict(kv.split("=") for kv in rest.split(","))
            out[name] = int(fields["calls"])
    return out


def wait_for(predicate, timeout_s, step_s=0.01):
    """Polls predicate() every step_s until it is true or timeout_s passed; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()
