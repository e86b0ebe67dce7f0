"""The monitoring kit (deploy/monitoring) against a real server: every waitroom_* metric name its
alert rules and dashboard use is a series in /metrics, and every route it selects is one the
server answers.

The names come from `scripts/check-monitoring names`. One server is started with what makes the
conditional families appear: [[webhooks]] (webhook counters), [[routes]] (the built-in proxy's) and
[tls] (the certificate's expiry); the Redis store's own names (waitroom_redis_*) are checked on a
Redis-store node by tests/redis/test_monitoring_kit_redis.py. A name passes when /metrics has a
sample of exactly that name whose family is declared (`# TYPE`): `_bucket`, `_sum` and `_count` are
taken off only where the family is a histogram (or, for `_sum` and `_count`, a summary), so the bare
name of a histogram, which has no series, fails.
"""

import calendar
import json
import signal
import subprocess
import sys
import time

import pytest
from cryptography import x509

from test_tls import OPENSSL, CertificateAuthority, start_tls_server, wait_for_log
from wrlib import REPO, WebhookSink, binary_path, describe, free_port

CHECK = REPO / "scripts" / "check-monitoring"
REDIS_PREFIX = "waitroom_redis_"  # written by the Redis store only (tests/redis)
SUFFIXES = {"_bucket": ("histogram",), "_sum": ("histogram", "summary"),
            "_count": ("histogram", "summary")}


def kit(what):
    """{name: [where]} from scripts/check-monitoring (`names` or `routes`)."""
    out = subprocess.run([sys.executable, str(CHECK), what], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, f"scripts/check-monitoring {what}: {out.stderr}"
    return json.loads(out.stdout)


def families_and_samples(text):
    """({family: type} from the # TYPE lines, {sample name}) of a /metrics page."""
    types, samples = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line and not line.startswith("#"):
            samples.add(line.split("{", 1)[0].split(" ", 1)[0])
    return types, samples


def family_of(name, types):
    for suffix, kinds in SUFFIXES.items():
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) in kinds:
            return base
    return name


def missing_names(names, metrics_text):
    """The names (with where the kit uses them) that metrics_text has no series of."""
    types, samples = families_and_samples(metrics_text)
    missing = []
    for name, where in sorted(names.items()):
        family = family_of(name, types)
        if name not in samples or family not in types:
            kind = f" (its family {family} is a {types[family]})" if family in types else ""
            missing.append(f"{name}{kind}, used by {'; '.join(where)}")
    return missing


def test_the_kit_uses_metric_names_at_all():
    names = kit("names")
    assert len(names) >= 20, names
    assert any(n.startswith(REDIS_PREFIX) for n in names), "the Redis check would test nothing"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    assert OPENSSL, "needs the openssl command (scripts/bootstrap)"
    return CertificateAuthority(tmp_path_factory.mktemp("kit-ca"))


@pytest.fixture
def sink():
    s = WebhookSink().start()
    yield s
    s.stop()


def test_every_metric_name_of_the_kit_is_in_metrics(server_factory, ca, sink):
    extra = sink.config("kit-secret") + f"""
[[routes]]
path_prefix = "/shop/"
upstream = "http://127.0.0.1:{free_port()}/"
room = "demo"
"""
    srv = start_tls_server(server_factory, ca, name="kit", extra=extra)
    r = srv.get("/gate/v1/check?room=demo&on_fail=401")  # a refused pass check, for the route label
    assert r.status_code == 401, describe(r)
    r = srv.get("/metrics")
    assert r.status_code == 200, describe(r)

    names = {n: w for n, w in kit("names").items() if not n.startswith(REDIS_PREFIX)}
    missing = missing_names(names, r.text)
    assert not missing, "the monitoring kit uses names /metrics does not have:\n" + "\n".join(missing)

    # The selected routes are the server's own (and so are labels /metrics writes).
    answered = subprocess.run([str(binary_path()), "routes"], capture_output=True, text=True,
                              timeout=60).stdout.split("\n")
    patterns = {line.split(" ", 1)[1] for line in answered if " " in line}
    for route, where in kit("routes").items():
        assert route in patterns, f"route {route!r} ({'; '.join(where)}) is not a route the server answers"
        assert f'route="{route}"' in r.text, f"no waitroom_http_requests_total for {route}"


def test_the_certificate_expiry_is_the_certificate_in_use(server_factory, ca):
    srv = start_tls_server(server_factory, ca, name="expiry", serial=2000)

    def expiry():
        r = srv.get("/metrics")
        assert r.status_code == 200, describe(r)
        types, _ = families_and_samples(r.text)
        assert types.get("waitroom_tls_certificate_expiry_seconds") == "gauge", r.text[-500:]
        line = next(x for x in r.text.splitlines()
                    if x.startswith("waitroom_tls_certificate_expiry_seconds "))
        return int(line.split()[1])

    def not_after(pem_path):
        cert = x509.load_pem_x509_certificate(pem_path.read_bytes())  # the leaf: first in the chain
        return calendar.timegm(cert.not_valid_after.utctimetuple())

    first = expiry()
    assert first == not_after(srv.cert_dir / "cert.pem")
    assert abs(first - (time.time() + 86400)) < 600  # the test CA issues for one day

    # A renewal (one second later, so a later notAfter) shows after SIGHUP.
    time.sleep(1.1)
    chain, key, _ = ca.issue("expiry-renewed", 2001)
    (srv.cert_dir / "cert.pem").write_text(chain)
    (srv.cert_dir / "key.pem").write_text(key)
    since = len(srv.log_text())
    srv.proc.send_signal(signal.SIGHUP)
    wait_for_log(srv, "tls certificate reloaded", since)
    renewed = expiry()
    assert renewed == not_after(srv.cert_dir / "cert.pem") and renewed > first, (first, renewed)


def test_a_server_without_tls_has_no_certificate_expiry(server):
    r = server.get("/metrics")
    assert r.status_code == 200, describe(r)
    assert "waitroom_tls_certificate_expiry_seconds" not in r.text
