"""`make install`, black box: installs the already-built tree (the ASan build `make test` made)
with `cmake --install` into a temporary DESTDIR, then checks what landed there works: the binary,
its man page, the systemd unit, the example config, the data dir, and the waitroom_verify library
through its pkg-config file (a small program compiles, links and runs against it). The last test
builds the .deb from the same tree (uncompressed, to stay fast) and reads it back."""

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from wrlib import REPO, binary_path

PREFIX = "/usr"
UNIT_HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "CapabilityBoundingSet": "",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "SystemCallFilter": "@system-service",
    "MemoryDenyWriteExecute": "yes",
    "StateDirectory": "waitroom",
    "ExecReload": "/bin/kill -HUP $MAINPID",
}


def build_dir():
    return binary_path().parent


def sanitized():
    cache = (build_dir() / "CMakeCache.txt").read_text()
    return re.search(r"^WAITROOM_SANITIZE:BOOL=ON$", cache, re.M) is not None


def quiet_env(**extra):
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    env.pop("WAITROOM_ADMIN_KEY", None)
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def destdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("destdir")
    p = subprocess.run(["cmake", "--install", str(build_dir()), "--prefix", PREFIX],
                       env=quiet_env(DESTDIR=str(root)), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"cmake --install failed\n{p.stdout}\n{p.stderr}"
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_binary_is_installed_and_runs(destdir):
    exe = destdir / "usr/bin/waitroom"
    p = subprocess.run([str(exe), "--help"], capture_output=True, text=True, env=quiet_env(), timeout=60)
    assert p.returncode == 0, p.stderr
    for sub in ("serve", "keys", "admin", "routes"):
        assert sub in p.stdout


def test_man_page_renders(destdir):
    page = destdir / "usr/share/man/man1/waitroom.1"
    assert page.exists(), "no man page: is help2man installed (scripts/bootstrap)?"
    roff = page.read_text()
    assert re.search(r'^\.TH WAITROOM "?1"?', roff, re.M), roff[:300]
    assert "waitroom serve" in roff and "--data-dir" in roff
    if shutil.which("man"):
        p = subprocess.run(["man", "-l", str(page)], capture_output=True, text=True, timeout=60,
                           env=quiet_env(MANPAGER="cat", MANWIDTH="100", LANG="C.UTF-8"))
        assert p.returncode == 0, p.stderr
        for heading in ("NAME", "SYNOPSIS", "SUBCOMMANDS", "SIGNALS"):
            assert heading in p.stdout
        assert "--durability" in p.stdout  # from `waitroom serve --help`
        assert "warning" not in p.stderr.lower(), p.stderr


def unit_settings(text):
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            settings.setdefault(k.strip(), []).append(v.strip())
    return settings


def test_systemd_unit_is_hardened(destdir):
    unit = destdir / "usr/lib/systemd/system/waitroom.service"
    settings = unit_settings(unit.read_text())
    for key, value in UNIT_HARDENING.items():
        assert value in settings.get(key, []), f"{key}={value} missing from the unit"
    assert settings["ExecStart"] == [f"{PREFIX}/bin/waitroom serve --config /etc/waitroom/waitroom.toml"]
    assert int(settings["LimitNOFILE"][0]) >= 65536
    assert settings["User"] == ["waitroom"]


def comment_above(text, key):
    """The comment lines right above the unit's `key=` line, joined."""
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith(key + "="))
    out = []
    while i > 0 and lines[i - 1].startswith("#"):
        i -= 1
        out.insert(0, lines[i].lstrip("# "))
    return " ".join(out)


def default_shutdown_timeout_s():
    docs = (REPO / "docs" / "configuration.md").read_text()
    return int(re.search(r"^\| `shutdown_timeout_s` \| `(\d+)`", docs, re.M).group(1))


def test_the_unit_and_the_man_page_say_what_the_signals_do(destdir):
    # What serve.cpp does (docs/operations.md#signals): SIGHUP reloads the keys, the certificate
    # and the config file's rooms; SIGTERM drains within shutdown_timeout_s.
    text = (destdir / "usr/lib/systemd/system/waitroom.service").read_text()
    reload, stop = comment_above(text, "ExecReload"), comment_above(text, "KillSignal")
    for claim in ("SIGHUP", "signing keys", "certificate", "rooms", "restart"):
        assert claim in reload, f"the unit's SIGHUP comment lacks {claim!r}: {reload}"
    for claim in ("SIGTERM", "drains", "in flight finish", "shutdown_timeout_s", "exits 0"):
        assert claim in stop, f"the unit's SIGTERM comment lacks {claim!r}: {stop}"
    assert "at once" not in stop, stop
    timeout = int(unit_settings(text)["TimeoutStopSec"][0])
    assert timeout >= default_shutdown_timeout_s() + 15, "systemd would kill a drain in progress"
    roff = (destdir / "usr/share/man/man1/waitroom.1").read_text()
    signals = roff[roff.index("SIGHUP"):]
    assert "rooms" in signals and "drain" in signals, signals[:800]


def test_systemd_analyze_accepts_the_unit(destdir, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("no systemd-analyze")
    # The unit names /usr/bin/waitroom, which is in DESTDIR here: a copy points at that one, so
    # the check (which also wants every ExecStart/ExecReload binary to exist) must pass clean.
    text = (destdir / "usr/lib/systemd/system/waitroom.service").read_text()
    unit = tmp_path / "waitroom.service"
    unit.write_text(text.replace(f"ExecStart={PREFIX}/bin/waitroom", f"ExecStart={destdir}{PREFIX}/bin/waitroom"))
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "waitroom.service" not in p.stderr, p.stderr


def test_example_config_starts_a_server(destdir, tmp_path):
    config = destdir / "etc/waitroom/waitroom.toml"
    assert config.stat().st_mode & 0o777 == 0o644  # root's, readable by the service user
    assert (destdir / "var/lib/waitroom").is_dir()
    assert (destdir / "var/lib/waitroom").stat().st_mode & 0o077 == 0
    # The installed config as it is, with the flags overriding where it points at /etc and /var.
    env = quiet_env(WAITROOM_ADMIN_KEY="install-test-admin-key-0123456789")
    proc = subprocess.Popen([str(destdir / "usr/bin/waitroom"), "serve", "--config", str(config),
                             "--listen", "127.0.0.1:0", "--data-dir", str(tmp_path / "data")],
                            env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        lines = []
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if '"listening"' in line or "listening" in line:
                break
        assert any("listening" in line for line in lines), "".join(lines)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_reinstall_keeps_an_edited_config(destdir):
    config = destdir / "etc/waitroom/waitroom.toml"
    original = config.read_text()
    config.write_text(original + "\n# edited by the operator\n")
    p = subprocess.run(["cmake", "--install", str(build_dir()), "--prefix", PREFIX],
                       env=quiet_env(DESTDIR=str(destdir)), capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert config.read_text().endswith("# edited by the operator\n")


def test_verify_library_links_through_pkg_config(destdir, tmp_path):
    pcs = list(destdir.glob("usr/lib/**/pkgconfig/waitroom_verify.pc"))
    assert len(pcs) == 1, pcs
    env = quiet_env(PKG_CONFIG_PATH=str(pcs[0].parent))
    p = subprocess.run(["pkg-config", "--cflags", "--libs", "waitroom_verify"], env=env,
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    flags = p.stdout.split()
    assert f"-I{destdir}/usr/include" in [os.path.normpath(f) if f.startswith("-I") else f
                                           for f in flags], flags
    src = tmp_path / "check.cpp"
    src.write_text(
        '#include <waitroom/verify.hpp>\n#include <iostream>\n'
        "int main() {\n"
        "  std::cout << waitroom::verify::to_string(waitroom::verify::ErrorCode::expired) << '\\n';\n"
        "  return 0;\n}\n")
    exe = tmp_path / "check"
    # The library of a sanitizer build needs its runtime in the program too.
    san = ["-fsanitize=address,undefined"] if sanitized() else []
    p = subprocess.run(["g++", "-std=c++17", *san, str(src), "-o", str(exe), *flags], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    libdir = next(f[2:] for f in flags if f.startswith("-L"))
    p = subprocess.run([str(exe)], env=quiet_env(LD_LIBRARY_PATH=libdir), capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.strip() == "expired", (p.stdout, p.stderr)


def test_deb_package(tmp_path):
    if not shutil.which("dpkg-deb") or not shutil.which("dpkg-shlibdeps"):
        pytest.skip("no dpkg-dev")
    p = subprocess.run([str(REPO / "packaging/debian/build-deb"), str(build_dir()), str(tmp_path)],
                       env=quiet_env(DEB_COMPRESS="none"), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    deb = Path(p.stdout.strip().splitlines()[-1])
    assert re.fullmatch(r"waitroom_\d+\.\d+\.\d+_[a-z0-9]+\.deb", deb.name), deb.name
    info = subprocess.run(["dpkg-deb", "-I", str(deb)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^ Depends: .*libc6", info, re.M), info
    assert re.search(r"^ Depends: .*libssl3", info, re.M), info
    for script in ("postinst", "prerm", "postrm", "conffiles", "md5sums"):
        assert re.search(rf"^ .* {script}\b", info, re.M), f"{script} missing\n{info}"
    conffiles = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True, check=True).stdout
    assert b"/etc/waitroom/waitroom.toml" in conffiles
    contents = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    for path in ("./usr/bin/waitroom", "./usr/share/man/man1/waitroom.1.gz",
                 "./usr/lib/systemd/system/waitroom.service", "./etc/waitroom/waitroom.toml",
                 "./usr/include/waitroom/verify.hpp", "/pkgconfig/waitroom_verify.pc"):
        assert path in contents, f"{path} not in the package\n{contents}"
    # Owned by root whoever built it (dpkg-deb --root-owner-group).
    assert re.search(r"^-rwxr-xr-x root/root .* \./usr/bin/waitroom$", contents, re.M), contents
