"""Fixtures for the admission conformance suite (issue 4).

The suite reuses the black-box harness of tests/http (wrlib.py and the fixtures
of its conftest.py): a real `waitroom serve` process on a free loopback port
with a temp data dir, its stderr kept, sanitizer reports failing the test.

Every server here runs with the test-only manual clock:

    [testing]
    manual_clock = true

so simulated minutes cost only the admission driver's work
(POST /admin/v1/testing/clock {"advance_ms": n}). Helpers are in conflib.py.

They also run with `--durability relaxed`: nothing here tests power loss, and
not waiting for fdatasync on every join makes the bulk tests 2-3x faster on the
ASan build (a SIGTERM restart keeps everything either way).
"""

import importlib.util
import sys
from pathlib import Path

import pytest

HTTP_SUITE = Path(__file__).resolve().parent.parent / "http"
if str(HTTP_SUITE) not in sys.path:
    sys.path.insert(0, str(HTTP_SUITE))

from wrlib import Server  # noqa: E402

from conflib import DURABILITY, TESTING_CONFIG  # noqa: E402


def _load_http_conftest():
    """The fixtures and hooks of tests/http/conftest.py, loaded under another
    module name (both files are called conftest.py)."""
    name = "waitroom_http_conftest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HTTP_SUITE / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


_http = _load_http_conftest()

# Re-exported so pytest finds them here: the autouse "server died during this
# test" check, the stderr tail on failure, and a factory for custom servers.
_server_survives = _http._server_survives
pytest_runtest_makereport = _http.pytest_runtest_makereport
server_factory = _http.server_factory
_require_binary = _http._require_binary


@pytest.fixture(scope="module")
def clock_server():
    """One server with the manual clock per test module. Tests create their own
    rooms; the clock is shared, so a test must not assume how far another test
    moved it (read it with now_ms)."""
    _require_binary()
    srv = Server(config_text=TESTING_CONFIG, durability=DURABILITY, name="waitroom-conf").start()
    yield srv
    srv.shut_down()


@pytest.fixture
def fresh_clock_server():
    """A server with the manual clock for one test (restarts, heavy rooms)."""
    _require_binary()
    srv = Server(config_text=TESTING_CONFIG, durability=DURABILITY,
                 name="waitroom-conf-fresh").start()
    yield srv
    srv.shut_down()
