"""docs/openapi.yaml must describe exactly the routes the server answers.

The route table is printed by `waitroom routes` (one "METHOD /pattern" per line); this test
compares it with the spec's paths and operations in both directions. It starts no server and
uses none of conftest's fixtures.

Binary: $WAITROOM_BIN, else build/asan/waitroom, else build/release/waitroom.
"""

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO / "docs" / "openapi.yaml"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
ADMIN_PREFIX = "/admin/v1/"


def _binary():
    env = os.environ.get("WAITROOM_BIN")
    if env:
        return Path(env).resolve()
    asan = REPO / "build" / "asan" / "waitroom"
    return asan if asan.exists() else REPO / "build" / "release" / "waitroom"


@pytest.fixture(scope="module")
def spec():
    with open(SPEC_PATH, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def binary_routes():
    binary = _binary()
    if not binary.exists():
        pytest.fail(f"waitroom binary not found at {binary} (build it or set WAITROOM_BIN)",
                    pytrace=False)
    out = subprocess.run([str(binary), "routes"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"`{binary} routes` exited {out.returncode}:\n{out.stderr}"
    routes = set()
    for line in out.stdout.splitlines():
        if not line.strip():
            continue
        method, _, path = line.strip().partition(" ")
        assert method and path.startswith("/"), f"unexpected line from `waitroom routes`: {line!r}"
        routes.add((method.upper(), path.strip()))
    assert routes, "`waitroom routes` printed no routes"
    return routes


def _operations(spec):
    for path, item in (spec.get("paths") or {}).items():
        for method, op in item.items():
            if method in HTTP_METHODS:
                yield method.upper(), path, op


def _fmt(routes):
    return "\n".join(f"  {m} {p}" for m, p in sorted(routes, key=lambda r: (r[1], r[0])))


def test_spec_is_openapi_3_1(spec):
    assert str(spec.get("openapi", "")).startswith("3.1"), "docs/openapi.yaml must be OpenAPI 3.1"
    assert spec.get("paths"), "docs/openapi.yaml has no paths"


def test_spec_routes_equal_binary_routes(spec, binary_routes):
    documented = {(m, p) for m, p, _ in _operations(spec)}
    missing = binary_routes - documented
    extra = documented - binary_routes
    message = []
    if missing:
        message.append("routes the server answers but docs/openapi.yaml does not document:\n"
                       + _fmt(missing))
    if extra:
        message.append("routes docs/openapi.yaml documents but the server does not answer:\n"
                       + _fmt(extra))
    assert not message, "\n".join(message)


def test_every_operation_has_a_success_response(spec):
    # A form post's success is "303 See Other" (post/redirect/get), the OAuth authorization
    # endpoint's is "302 Found" (back to the client or to the line); everything else answers 2xx.
    def succeeds(m, code):
        return (str(code).startswith("2") or (m == "POST" and str(code) == "303")
                or (m == "GET" and str(code) in ("302", "303")))
    lacking = [(m, p) for m, p, op in _operations(spec)
               if not any(succeeds(m, code) for code in (op.get("responses") or {}))]
    assert not lacking, "operations without a success response:\n" + _fmt(lacking)


def test_admin_operations_require_bearer_auth(spec):
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    bearer = schemes.get("bearerAuth") or {}
    assert bearer.get("type") == "http" and str(bearer.get("scheme", "")).lower() == "bearer", \
        "components.securitySchemes.bearerAuth must be an http bearer scheme"
    global_security = spec.get("security") or []
    no_401, no_bearer = [], []
    for m, p, op in _operations(spec):
        if not p.startswith(ADMIN_PREFIX):
            continue
        if "401" not in {str(c) for c in (op.get("responses") or {})}:
            no_401.append((m, p))
        security = op.get("security", global_security)
        if not any("bearerAuth" in (req or {}) for req in security):
            no_bearer.append((m, p))
    message = []
    if no_401:
        message.append("admin operations without a 401 response:\n" + _fmt(no_401))
    if no_bearer:
        message.append("admin operations without bearerAuth security:\n" + _fmt(no_bearer))
    assert not message, "\n".join(message)


def test_path_parameters_are_declared(spec):
    """Every {name} in a path has a matching `in: path` parameter (refs resolved)."""

    def resolve(node):
        while isinstance(node, dict) and "$ref" in node:
            cur = spec
            for part in node["$ref"].lstrip("#/").split("/"):
                cur = cur[part]
            node = cur
        return node

    problems = []
    for m, p, op in _operations(spec):
        wanted = {seg[1:-1] for seg in p.split("/") if seg.startswith("{") and seg.endswith("}")}
        params = [resolve(x) for x in (spec["paths"][p].get("parameters") or [])]
        params += [resolve(x) for x in (op.get("parameters") or [])]
        declared = {x.get("name") for x in params if x.get("in") == "path"}
        if wanted != declared:
            problems.append(f"  {m} {p}: path has {sorted(wanted)}, declared {sorted(declared)}")
    assert not problems, "path parameters do not match:\n" + "\n".join(problems)
