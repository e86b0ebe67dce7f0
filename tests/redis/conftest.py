"""Fixtures for the scale-out suite (issue 7): a real redis-server and three
`waitroom` nodes on loopback sharing it (store = "redis"); for issue 23 also a real Redis
Cluster (redis_cluster.py) and nodes pointed at its seed list.

Reuses the black-box harness of tests/http (wrlib.py and its conftest's hooks:
server logs on failure, sanitizer reports fail the test)."""

import importlib.util
import shutil
import sys
import uuid
from pathlib import Path

import pytest

HTTP_SUITE = Path(__file__).resolve().parent.parent / "http"
if str(HTTP_SUITE) not in sys.path:
    sys.path.insert(0, str(HTTP_SUITE))

from wrlib import Server  # noqa: E402

from redis_cluster import RedisClusterServers  # noqa: E402
from redislib import RedisServer  # noqa: E402


def _load_http_conftest():
    name = "waitroom_http_conftest"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HTTP_SUITE / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


_http = _load_http_conftest()
_server_survives = _http._server_survives
pytest_runtest_makereport = _http.pytest_runtest_makereport
server_factory = _http.server_factory


class Cluster:
    """Three nodes on one Redis under one key prefix. `redis` is a RedisServer or a
    RedisClusterServers (its seed list); `url` overrides its URL, `env` adds to each node's
    environment (e.g. WAITROOM_REDIS_CLUSTER, WAITROOM_REDIS_WAIT_REPLICAS)."""

    def __init__(self, redis, nodes=3, config_text=None, threads=2, url=None, env=None):
        self.redis = redis
        self.url = url or redis.url
        self.prefix = "c" + uuid.uuid4().hex[:12]
        self.nodes = []
        for i in range(nodes):
            kw = {"name": f"waitroom-node{i}", "threads": threads,
                  "env": {"WAITROOM_STORE": "redis", "WAITROOM_REDIS_URL": self.url,
                          "WAITROOM_REDIS_KEY_PREFIX": self.prefix, **(env or {})}}
            if config_text is not None:
                kw["config_text"] = config_text
            self.nodes.append(Server(**kw))

    def start(self):
        for n in self.nodes:
            n.start()
        return self

    def close(self):
        errors = []
        for n in self.nodes:
            try:
                n.shut_down()
            except BaseException as e:
                errors.append(e)
        if errors:
            raise errors[0]

    def __getitem__(self, i):
        return self.nodes[i]

    def __iter__(self):
        return iter(self.nodes)


@pytest.fixture
def redis():
    r = RedisServer().start()
    yield r
    r.stop()
    shutil.rmtree(r.dir, ignore_errors=True)


@pytest.fixture
def cluster(redis):
    c = Cluster(redis).start()
    yield c
    c.close()


@pytest.fixture(scope="module")
def redis_cluster():
    """A started Redis Cluster (3 primaries with a replica each) shared by a module's tests.
    Tests that kill, restart or reshard must leave it ok (wait_ok()) for the next test; under
    pytest-xdist each worker running the module's tests starts its own."""
    rc = RedisClusterServers().start()
    yield rc
    rc.stop()


@pytest.fixture
def cluster_nodes(redis_cluster):
    """A factory: cluster_nodes(nodes=3, wait_replicas=None, cluster_flag=False, url=None,
    config_text=None, threads=2, env=None, start=True) builds a Cluster of waitroom nodes on
    redis_cluster's seed list (or `url`, e.g. one seed with cluster_flag=True), each run with
    WAITROOM_REDIS_WAIT_REPLICAS / WAITROOM_REDIS_CLUSTER=1 when given. Closed after the test."""
    made = []

    def make(nodes=3, wait_replicas=None, cluster_flag=False, url=None, config_text=None,
             threads=2, env=None, start=True):
        extra = dict(env or {})
        if wait_replicas is not None:
            extra["WAITROOM_REDIS_WAIT_REPLICAS"] = str(wait_replicas)
        if cluster_flag:
            extra["WAITROOM_REDIS_CLUSTER"] = "1"
        c = Cluster(redis_cluster, nodes=nodes, config_text=config_text, threads=threads,
                    url=url, env=extra)
        made.append(c)
        return c.start() if start else c

    yield make
    errors = []
    for c in made:
        try:
            c.close()
        except BaseException as e:
            errors.append(e)
    if errors:
        raise errors[0]
