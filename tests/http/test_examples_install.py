"""examples/README.md, as written: its "Build and install the library" commands, then its "Build
this example against the installed library" commands, run one after another with only the
paths changed (the build dir and PREFIX in a temp dir, the example compiled in a copy), then the
program they built runs against the installed library."""

import os
import re
import shutil
import subprocess

import pytest

from wrlib import REPO

README = REPO / "examples" / "README.md"
BUILD_TIMEOUT_S = 900  # a Release build of the library on a busy 2-core machine


def shell_block(heading):
    """The first ```sh block after the `## heading` line of the README."""
    text = README.read_text()
    start = text.index("## " + heading)
    m = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert m, f"no sh block under {heading!r} in examples/README.md"
    # drop trailing comments; join continuation lines
    return m.group(1).replace("\\\n", " ")


def run(script, cwd, env):
    p = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert p.returncode == 0, f"$ {script}\n--- stdout\n{p.stdout[-4000:]}\n--- stderr\n{p.stderr[-4000:]}"
    return p


def test_the_examples_readme_install_and_build_commands_work_as_written(tmp_path):
    for tool in ("cmake", "ninja", "g++", "pkg-config"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} is not installed (scripts/bootstrap installs it)", pytrace=False)
    prefix = tmp_path / "prefix"
    build = tmp_path / "build-verify"
    env = dict(os.environ)
    env.pop("PKG_CONFIG_PATH", None)

    install = shell_block("Build and install the library")
    assert "cmake --install build/verify --prefix /usr/local" in install, install
    install = install.replace("build/verify", str(build)).replace("/usr/local", str(prefix))
    run(install, REPO, env)
    assert (prefix / "include" / "waitroom" / "verify.hpp").exists()
    assert (prefix / "lib" / "pkgconfig" / "waitroom_verify.pc").exists()
    assert not (prefix / "bin").exists(), "the library's install put the server there too"

    work = tmp_path / "example"
    work.mkdir()
    shutil.copy(REPO / "examples" / "verify_pass.cpp", work)
    example = shell_block("Build this example against the installed library")
    assert "PREFIX/lib/pkgconfig" in example, example
    run(example.replace("PREFIX", str(prefix)), work, env)

    # It runs against the installed library (found through its rpath): a bad command line is
    # exit status 2 with usage, not a loader error.
    p = subprocess.run([str(work / "verify_pass")], capture_output=True, text=True, timeout=30,
                       env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert "error while loading shared libraries" not in p.stderr, p.stderr
    ldd = subprocess.run(["ldd", str(work / "verify_pass")], capture_output=True, text=True)
    assert str(prefix) in ldd.stdout, ldd.stdout
