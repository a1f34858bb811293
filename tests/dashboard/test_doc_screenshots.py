"""The pictures in docs/dashboard.md, from a real scan of the emulator's demo tenant.

One stack (gunicorn, the supervisor, the HTTPS emulator with its demo tenant) over SQLite; a
scan of the demo subscription is triggered through the API and run by the supervisor, so the
overview, the findings explorer and the compliance page show what a new user of ``bin/demo``
sees. Each test checks the page against the API before its picture is taken; the pictures are
copied to docs/screenshots/ only with ``OPENSHIELD_UPDATE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from store.migrate import upgrade
from tests.dashboard.test_browser import browser, page  # noqa: F401 - shared fixtures
from tests.dashboard.test_views import doc_screenshot, sign_in
from tests.fakeazure.harness import Emulator, start_emulator
from tests.stack import LiveStack

expect.set_options(timeout=15_000)
SCAN_TIMEOUT = 240


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, emulator: Emulator) -> Iterator[LiveStack]:
    """The stack with one completed scan of the demo subscription."""
    root = tmp_path_factory.mktemp("doc-shots")
    database_url = f"sqlite:///{root / 'openshield.db'}"
    upgrade(database_url)
    data_dir = root / "data"
    data_dir.mkdir()
    live = LiveStack(database_url, data_dir, emulator)
    live.start()
    try:
        started = time.monotonic()
        response = live.post("/api/scans/trigger", {})
        assert response.status_code == 202, response.text
        scan = live.wait_terminal(response.json()["scan_id"], SCAN_TIMEOUT)
        assert scan["status"] == "completed", scan
        print(f"\ndemo scan completed in {time.monotonic() - started:.1f}s")
        yield live
    finally:
        live.stop()


def test_overview_of_the_demo_tenant(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("operator"))
    score = stack.get("/api/score").json()
    expect(page.locator("#overview-score")).to_have_text(str(score["overall_score"]))
    sub = stack.emulator.env["AZURE_SUBSCRIPTION_ID"]
    expect(page.locator(f'tr[data-subscription-id="{sub}"]')).to_be_visible()
    top = stack.get("/api/findings/groups", params={"sort": "count", "limit": 10}).json()["groups"]
    for group in top[:3]:
        expect(page.locator("main")).to_contain_text(group["rule_id"])
    doc_screenshot(page, "overview")


def test_findings_explorer_of_the_demo_tenant(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"), "/#/findings")
    groups = stack.get("/api/findings/groups", params={"limit": 25}).json()
    expect(page.locator("#explorer-status")).to_contain_text(
        f"{groups['total_findings']} findings in {groups['count']} rules")
    expect(page.locator("#groups-table tbody tr[data-rule-id]")).to_have_count(len(groups["groups"]))
    expect(page.locator("#explorer-export-csv")).to_be_visible()
    # the first rule's failing resources open under it, as a user would look at them
    first = groups["groups"][0]["rule_id"]
    page.get_by_role("button", name=f"Resources failing {first}").click()
    expect(page.locator("ul.resources li .resource-name").first).to_be_visible()
    doc_screenshot(page, "findings-explorer")


def test_compliance_of_the_demo_tenant(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"), "/#/compliance/cis")
    report = stack.get("/api/compliance/cis").json()
    expect(page.locator("#controls-table tbody tr[data-control]")).to_have_count(len(report["controls"]))
    expect(page.locator("#compliance-failed")).to_have_text(str(report["summary"]["failed"]))
    doc_screenshot(page, "compliance")
