"""``api/openapi.yaml`` is true: schemathesis drives a live gunicorn server from the served document.

The document is loaded from the running server (``GET /api/openapi.json``, which also tests
that route), and schemathesis generates requests for every operation, sent with an operator
token and then a reader token. Each answer must not be a 5xx and must conform to the document:
a documented status code, content type, headers and body schema.

The server runs without a supervisor and with one launch slot per host, already taken by a scan
that never starts: generated triggers are recorded and queued, and no scan process is spawned
(this test is about HTTP, not Azure). One completed scan with findings and rule outcomes is
stored first, so the result routes answer with real content.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Iterator

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from store.clock import utcnow
from store.db import get_engine
from store.scans import ScanStore
from api.routes.openapi import load_spec
from tests.conftest import empty_postgres
from tests.fakeazure.harness import Emulator, start_emulator
from tests.stack import LiveStack

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# GET / is the HTML dashboard: served by its own branch of work, and not JSON to validate.
EXCLUDED_PATHS = ["/"]
# per operation: ~14 operations x 2 backends stay well under two minutes
MAX_EXAMPLES = 15


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
         emulator: Emulator) -> Iterator[LiveStack]:
    from store.migrate import upgrade

    data_dir = tmp_path_factory.mktemp("openapi-data")
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'openshield.db'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    stack = LiveStack(url, data_dir, emulator, extra_env={"OPENSHIELD_MAX_CONCURRENT_SCANS": "1"})
    _seed(ScanStore(url), stack.host_id)
    stack.start_gunicorn()  # no supervisor: queued scans stay queued
    try:
        yield stack
    finally:
        stack.stop()
        if request.param == "postgresql":
            empty_postgres(url)


# path parameter values that name stored records, filled in by _seed
SEEDED: dict[str, list[object]] = {}


def _seed(store: ScanStore, host: str) -> None:
    """A completed scan with two findings, and a launched scan that holds the host's only slot."""
    done = store.create(str(uuid.uuid4()), rules=["AZ-STOR-001", "AZ-NET-001"])
    assert store.claim(done.scan_id, pid=1, host="seed-host", process_create_time=None)
    now = utcnow()
    findings = [
        {"scan_id": done.scan_id, "subscription_id": done.subscription_id, "rule_id": "AZ-STOR-001",
         "rule_name": "Storage account allows public blob access", "severity": "HIGH", "category": "storage",
         "resource_id": f"/subscriptions/{done.subscription_id}/resourceGroups/rg/providers/"
                        f"Microsoft.Storage/storageAccounts/sa{i}",
         "resource_name": f"sa{i}", "resource_type": "Microsoft.Storage/storageAccounts",
         "description": "public blob access is enabled", "remediation": "disable it",
         "frameworks": {"CIS": ["3.7"]}, "metadata": {"allowBlobPublicAccess": True}, "detected_at": now}
        for i in range(2)
    ]
    outcomes = [
        {"rule_id": "AZ-STOR-001", "status": "ok", "reason": None, "evaluated_count": 3, "failed_count": 2,
         "not_evaluated_count": 0},
        {"rule_id": "AZ-NET-001", "status": "skipped", "reason": "network watcher unreadable",
         "evaluated_count": 0, "failed_count": 0, "not_evaluated_count": 0},
    ]
    assert store.complete_with_results(done.scan_id, findings=findings, outcomes=outcomes, score=57.1)
    slot = store.create(str(uuid.uuid4()))
    assert store.reserve_launch(slot.scan_id, host=host, cap=1)
    with get_engine(store.url).connect() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT id FROM findings WHERE scan_id = :s"), {"s": done.scan_id})]
    SEEDED.clear()
    SEEDED.update(scan_id=[done.scan_id, slot.scan_id], finding_id=ids[:1])


@pytest.fixture(scope="module")
def api_schema(live: LiveStack) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live.url}/api/openapi.json")


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every documented operation except the excluded ones, at collection time."""
    methods = ("get", "post", "put", "patch", "delete")
    return [
        (m.upper(), path) for path, item in load_spec()["paths"].items() if path not in EXCLUDED_PATHS
        for m in item if m in methods
    ]


# schemathesis's own pytest integration (schema.parametrize / from_fixture) does not run on
# pytest 9, so each operation gets a Hypothesis test built from the operation's strategy.
@pytest.mark.parametrize(("method", "path"), _operations(), ids=lambda v: str(v))
def test_every_operation_conforms(method: str, path: str, api_schema: schemathesis.BaseSchema,
                                  live: LiveStack) -> None:
    operation = api_schema[path][method]  # KeyError: not in the served document
    headers = {role: live.headers(role) for role in ("operator", "reader")}
    # Random ids mostly find nothing (404): also aim at the stored records, for full 200 answers.
    known = {name: values for name, values in SEEDED.items() if "{" + name + "}" in path}
    strategies = [operation.as_strategy()]
    documented = load_spec()["paths"][path][method.lower()]
    if documented.get("parameters") or documented.get("requestBody"):  # something that can be invalid
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    for name, values in known.items():
        strategies += [operation.as_strategy(path_parameters={name: value}) for value in values]

    for strategy in strategies:
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def conforms(case: schemathesis.Case) -> None:
            for role in ("operator", "reader"):
                case.call_and_validate(headers=headers[role], checks=CHECKS, timeout=15)

        conforms()


def test_served_document_is_the_yaml_file(live: LiveStack) -> None:
    response = requests.get(f"{live.url}/api/openapi.json", timeout=10)  # no token needed
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == load_spec()
    assert response.json()["openapi"].startswith("3.1")


def test_every_flask_route_is_documented(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses
    import re

    from api.factory import create_app
    from store.settings import Settings
    from tests.api.conftest import FakeLauncher

    monkeypatch.setenv("JWT_SECRET", "x" * 40)
    settings_ = dataclasses.replace(Settings.from_env(), database_url=f"sqlite:///{tmp_path / 'db'}",
                                    data_dir=tmp_path)
    app = create_app(settings_, FakeLauncher())
    paths = load_spec()["paths"]
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):  # files, not API operations
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            served.add((path, method.lower()))
    missing = sorted(f"{m.upper()} {p}" for p, m in served if m not in paths.get(p, {}))
    assert not missing, f"routes missing from api/openapi.yaml: {missing}"
