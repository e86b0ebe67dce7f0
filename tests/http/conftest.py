"""Fixtures for the black-box HTTP suite.

- `server`: one waitroom process per test module (fast); tests must not assume
  other tests left a room untouched, so most create their own room.
- `fresh_server`: a new process for one test (restarts, kills, rotations).
- `server_factory`: start servers with a custom config / arguments.

Every server's stderr goes to a file in its temp dir; a failing test shows the
tail, and a sanitizer report in any log fails the test that owned the server.

`make test` runs the files of this suite in parallel (pytest -n 4 --dist loadfile:
one file per worker process, its tests in order) beside the other suites. A test
is safe there when it uses only its own ports (these fixtures, free_port()), its
own temp dirs, and stops only processes it started: tests/README.md.
"""


import pytest

from wrlib import Server, binary_path


def _require_binary():
    if not binary_path().exists():
        pytest.fail(f"waitroom binary not found at {binary_path()} (build it or set WAITROOM_BIN)",
                    pytrace=False)


class ServerFactory:
    def __init__(self):
        self.servers = []

    def __call__(self, **kw):
        srv = Server(**kw)
        self.servers.append(srv)
        return srv.start()

    def close(self):
        errors = []
        for srv in self.servers:
            try:
                srv.shut_down()
            except BaseException as e:  # pytest.fail raises an OutcomeException
                errors.append(e)
        if errors:
            raise errors[0]


@pytest.fixture(scope="module")
def server():
    _require_binary()
    srv = Server(name="waitroom-mod").start()
    yield srv
    srv.shut_down()


@pytest.fixture
def fresh_server():
    _require_binary()
    srv = Server(name="waitroom-fresh").start()
    yield srv
    srv.shut_down()


@pytest.fixture
def server_factory():
    _require_binary()
    f = ServerFactory()
    yield f
    f.close()


def _servers_of(item):
    out = []
    for v in getattr(item, "funcargs", {}).values():
        if isinstance(v, Server):
            out.append(v)
        elif isinstance(v, ServerFactory):
            out.extend(v.servers)
        elif isinstance(getattr(v, "nodes", None), list):  # tests/redis's Cluster
            out.extend(n for n in v.nodes if isinstance(n, Server))
    return out


@pytest.fixture(autouse=True)
def _server_survives(request):
    """A server that dies during a test fails that test (with its exit code and log)
    and is started again on the same data dir, so the rest of the module still runs.
    When the test already failed, its report says so and no extra error is added."""
    yield
    dead = []
    for srv in _servers_of(request.node):
        if srv.proc is not None and srv.proc.poll() is not None:
            rc = srv.proc.returncode
            srv._reap(rc)
            dead.append(f"waitroom (started from {srv.tmp}) died with exit code {rc} "
                        f"during this test:\n{srv.log_tail(40)}")
            try:
                srv.start()
            except Exception as e:  # the data dir may be what kills it
                dead.append(f"and could not be started again: {e}")
    rep = getattr(request.node, "rep_call", None)
    if dead and not (rep is not None and rep.failed):
        pytest.fail("\n".join(dead), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call":
        item.rep_call = rep
    if rep.failed:
        for i, srv in enumerate(_servers_of(item)):
            state = ""
            if srv.proc is not None and srv.proc.poll() is not None:
                state = f" — DIED with exit code {srv.proc.returncode}"
            rep.sections.append((f"waitroom stderr #{i} ({srv.tmp}){state}", srv.log_tail()))
