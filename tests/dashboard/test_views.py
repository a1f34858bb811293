"""The posture views in real headless Chromium: overview, findings explorer, compliance, a token
that stops working. One stack per module (gunicorn, supervisor, the HTTPS emulator) over SQLite.

The results are seeded through ScanStore exactly as a scan process stores them, so the numbers
are known: subscription A has findings (one resource name carries markup), B completed with no
finding, C was never scanned to completion (its only scan failed), and a large subscription L
with thousands of findings is used to print (never assert) how long grouping and filtering take.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
import uuid
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from api.auth import issue_token
from scanner.rules import all_rules
from store.clock import utcnow
from store.migrate import upgrade
from store.scans import ScanStore
from tests.dashboard.test_browser import ARTIFACTS, LAPTOP, browser, page, screenshot  # noqa: F401 - shared fixtures
from tests.fakeazure.harness import Emulator, start_emulator
from tests.stack import LiveStack
from tests.processes import wait_for

REPO_SHOTS = ARTIFACTS.parents[1] / "docs" / "screenshots"
SUB_A = "aaaaaaaa-0000-4000-8000-00000000000a"
SUB_B = "bbbbbbbb-0000-4000-8000-00000000000b"
SUB_C = "cccccccc-0000-4000-8000-00000000000c"
SUB_L = "dddddddd-0000-4000-8000-00000000000d"
MARKUP = '<img src=x onerror="document.title=\'pwned\'">'
LARGE_FINDINGS = int(os.environ.get("OPENSHIELD_DASH_LARGE", "5000"))
RULES = all_rules()

expect.set_options(timeout=15_000)


def _finding(sub: str, rule: Any, name: str) -> dict[str, Any]:
    return {
        "subscription_id": sub, "rule_id": rule.id, "rule_name": rule.title, "severity": rule.severity,
        "category": rule.category, "resource_id": f"/subscriptions/{sub}/resourceGroups/rg/providers/x/{name}",
        "resource_name": name, "resource_type": "Microsoft.Storage/storageAccounts", "description": "d",
        "remediation": "fix it like this", "frameworks": dict(rule.frameworks), "metadata": {}, "detected_at": utcnow(),
    }


def _complete(store: ScanStore, sub: str, findings: list[dict[str, Any]], score: float | None) -> str:
    scan = store.create(sub, launched_by="seed")  # launch taken: a running supervisor leaves it to us
    assert store.claim(scan.scan_id, pid=1, host="seed", process_create_time=None)
    failed: dict[str, int] = {}
    for f in findings:
        f["scan_id"] = scan.scan_id
        failed[f["rule_id"]] = failed.get(f["rule_id"], 0) + 1
    outcomes = [{"rule_id": r.id, "status": "ok", "reason": None, "evaluated_count": failed.get(r.id, 0) + 2,
                 "failed_count": failed.get(r.id, 0), "not_evaluated_count": 0} for r in RULES]
    assert store.complete_with_results(scan.scan_id, findings=findings, outcomes=outcomes, score=score)
    return scan.scan_id


def seed(store: ScanStore) -> None:
    a = [_finding(SUB_A, RULES[i % 6], f"res-{i:02d}") for i in range(30)]
    a.append(_finding(SUB_A, RULES[0], MARKUP))
    _complete(store, SUB_A, a, 61.5)
    _complete(store, SUB_B, [], 100.0)
    never = store.create(SUB_C)
    assert store.fail(never.scan_id, "the subscription could not be read")
    large = [_finding(SUB_L, RULES[i % len(RULES)], f"big-{i:05d}") for i in range(LARGE_FINDINGS)]
    _complete(store, SUB_L, large, 40.0)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo", any_subscription=True) as emu:
        yield emu


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, emulator: Emulator) -> Iterator[LiveStack]:
    root = tmp_path_factory.mktemp("dash-views")
    database_url = f"sqlite:///{root / 'openshield.db'}"
    upgrade(database_url)
    data_dir = root / "data"
    data_dir.mkdir()
    started = time.monotonic()
    seed(ScanStore(database_url))
    print(f"\nseeded {LARGE_FINDINGS + 31} findings in {time.monotonic() - started:.1f}s")
    live = LiveStack(database_url, data_dir, emulator)
    live.start()
    yield live
    for scan in live.get("/api/scans", params={"limit": 500}).json()["scans"]:
        if scan["status"] in ("pending", "running"):
            live.post(f"/api/scans/{scan['scan_id']}/cancel")
    wait_for(lambda: all(s["status"] not in ("pending", "running")
                         for s in live.get("/api/scans", params={"limit": 500}).json()["scans"]), 60, interval=0.2,
             what="active scans to end")
    live.stop()


def sign_in(page: Page, token: str, where: str = "/") -> None:
    page.goto(where)
    page.locator("#token-input").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-view")).to_be_hidden()


def doc_screenshot(page: Page, name: str, down_to: str | None = None) -> None:
    path = screenshot(page, name, down_to)
    if os.environ.get("OPENSHIELD_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(path, REPO_SHOTS / f"{name}.png")


def load_ms(page: Page, action: Any) -> int:
    """Run ``action`` and wait for the explorer's next load; the page's own figure (fetch + render)."""
    page.evaluate("document.querySelector('#findings-view').dataset.loadMs = ''")
    action()
    expect(page.locator("#findings-view")).not_to_have_attribute("data-load-ms", "")
    return int(page.locator("#findings-view").get_attribute("data-load-ms") or -1)


# --------------------------------------------------------------------------------------- tests
def test_overview_is_the_landing_page_with_posture_subscriptions_and_top_rules(page: Page, stack: LiveStack) -> None:
    started = time.monotonic()
    sign_in(page, stack.token("operator"))
    score = stack.get("/api/score").json()
    expect(page.locator("#overview-score")).to_have_text(str(score["overall_score"]))
    print(f"\noverview interactive {time.monotonic() - started:.2f}s after sign-in (load {os.getloadavg()[0]:.2f})")
    expect(page.locator('a[data-nav="overview"]')).to_have_attribute("aria-current", "page")
    for severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"):
        total = sum(s["findings_by_severity"][severity] for s in score["subscriptions"])
        expect(page.locator(f'a.sev-count[data-severity="{severity}"] .sev-count-n')).to_have_text(str(total))
    listed = stack.get("/api/subscriptions").json()["subscriptions"]
    rows = page.locator("#subscriptions-table tbody tr")
    expect(rows).to_have_count(4 + len(listed))  # the seeded ones (not listed by Azure) and the listed ones
    for sub in listed:  # Azure's name and state, and which schedules would scan it
        listed_row = page.locator(f'tr[data-subscription-id="{sub["subscription_id"]}"]')
        expect(listed_row.locator("td").nth(0)).to_contain_text(sub["display_name"])
        expect(listed_row.locator("td").nth(1)).to_have_text(sub["state"])
    expect(page.locator(f'tr[data-subscription-id="{SUB_A}"] td').nth(1)).to_have_text("not listed")
    expect(page.locator(f'tr[data-subscription-id="{SUB_B}"] td').nth(6)).to_have_text("0")  # 0 findings
    never = page.locator(f'tr[data-subscription-id="{SUB_C}"]')
    expect(never.locator("td").nth(3)).to_have_text("never")
    expect(never.locator(".badge")).to_have_text("failed")
    expect(never.locator("svg.sparkline")).to_have_count(0)  # no completed scan: no trend
    # A's trend is drawn from the score history; its one scan is its first: nothing to compare
    a_row = page.locator(f'tr[data-subscription-id="{SUB_A}"]')
    expect(a_row.locator("svg.sparkline")).to_have_attribute("aria-label", re.compile(r"one scan, 61\.5"))
    expect(a_row.locator("td.diff-counts")).to_have_text("first scan")
    top = stack.get("/api/findings/groups", params={"sort": "count", "limit": 10}).json()["groups"]
    expect(page.locator("#top-rules-table tbody tr").first).to_have_attribute("data-rule-id", top[0]["rule_id"])
    screenshot(page, "overview-seeded", "#top-rules-table")

    # an operator's Scan button starts a scan of that subscription
    page.get_by_role("button", name=f"Scan {SUB_B}").click()
    expect(page.locator("#overview-message")).to_contain_text("accepted")
    scans = stack.get("/api/scans", params={"subscription_id": SUB_B}).json()["scans"]
    assert scans[0]["status"] in ("pending", "running", "completed")
    stack.wait_terminal(scans[0]["scan_id"], 60)
    # once it completed, B has two points in its trend and a new/resolved count against its first scan
    b_row = page.locator(f'tr[data-subscription-id="{SUB_B}"]')
    expect(b_row.locator("svg.sparkline")).to_have_attribute("aria-label", re.compile(r"2 scans, from 100"), timeout=30_000)
    diff = stack.get(f"/api/scans/{scans[0]['scan_id']}/diff").json()
    expect(b_row.locator("td.diff-counts")).to_have_text(f"+{len(diff['new'])} / −{len(diff['resolved'])}")
    # the severity counts say how they changed since each subscription's previous scan
    change = {sev: 0 for sev in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO")}
    for sub in stack.get("/api/score").json()["subscriptions"]:
        d = stack.get(f"/api/scans/{sub['scan_id']}/diff").json()
        if d["against"] is None:
            continue  # a first scan: no change to speak of
        for f in d["new"]:
            change[f["severity"]] += 1
        for f in d["resolved"]:
            change[f["severity"]] -= 1
    for severity, n in change.items():
        text = f"+{n}" if n > 0 else f"−{-n}" if n < 0 else "±0"
        expect(page.locator(f'a.sev-count[data-severity="{severity}"] .sev-count-change')).to_have_text(text)

    # a severity count opens the explorer filtered by it
    page.locator('a.sev-count[data-severity="HIGH"]').click()
    expect(page).to_have_url(re.compile(r"#/findings\?severity=HIGH$"))
    expect(page.locator("#explorer-severity")).to_have_value("HIGH")


def test_scan_all_and_polling_keep_focus(page: Page, stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=2000)  # scans stay active: the overview polls every 2 s
    try:
        sign_in(page, stack.token("operator"))
        listed = [s["subscription_id"] for s in stack.get("/api/subscriptions").json()["subscriptions"] if s["scannable"]]
        scan_all = page.locator("#scan-all")
        scan_all.click()  # one request, {"all": true}: every subscription Azure lists
        expect(page.locator("#overview-message")).to_have_text(f"{len(listed)} scans accepted.")
        expect(page.locator("#subscriptions-table .progress")).to_have_count(len(listed))
        scan_all.click()  # again while they run: the API answers "active" for each
        expect(page.locator("#overview-message")).to_have_text(f"0 scans accepted; {len(listed)} already scanning.")
        # keyboard focus on a link in the table survives the polls that update the progress bars
        first = listed[0]
        link = page.locator(f'tr[data-subscription-id="{first}"] a').first
        link.focus()
        bar = page.locator(f'tr[data-subscription-id="{first}"] .progress')
        before = bar.get_attribute("aria-valuetext")
        expect(bar).not_to_have_attribute("aria-valuetext", before or "", timeout=40_000)  # a poll changed the row
        assert page.evaluate("document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.subscriptionId") == first
        print(f"\nprogress while focused: {before!r} -> {bar.get_attribute('aria-valuetext')!r}")
    finally:
        for scan in stack.get("/api/scans", params={"limit": 50}).json()["scans"]:
            if scan["status"] in ("pending", "running"):
                stack.post(f"/api/scans/{scan['scan_id']}/cancel")
        stack.emulator.set_faults(latency_ms=0)
        wait_for(lambda: all(s["status"] not in ("pending", "running")
                             for s in stack.get("/api/scans", params={"limit": 50}).json()["scans"]), 30, interval=0.2,
                 what="the scans to be cancelled")


def test_reader_sees_no_mutating_controls(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"))
    expect(page.locator("#subscriptions-table")).to_be_visible()
    for where in ("/#/", "/#/findings", "/#/compliance/nist"):
        page.goto(where)
        expect(page.locator("main .view:not([hidden]) h1")).to_be_visible()
        expect(page.get_by_role("button", name=re.compile(r"^(Scan|Cancel|Start scan|Mute)"))).to_have_count(0)


def test_explorer_groups_searches_filters_and_keeps_its_state_in_the_url(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"), "/#/findings")
    groups = stack.get("/api/findings/groups", params={"limit": 25}).json()
    expect(page.locator("#explorer-status")).to_contain_text(f"{groups['total_findings']} findings in {groups['count']} rules")
    expect(page.locator("#groups-table tbody tr[data-rule-id]")).to_have_count(len(groups["groups"]))
    screenshot(page, "findings-explorer-seeded", "#explorer-results")

    # search: the markup resource, shown as text in its rule's expanded resources
    page.locator("#explorer-q").fill("onerror")
    expect(page).to_have_url(re.compile(r"q=onerror"))
    expect(page.locator("#explorer-status")).to_contain_text("1 finding in 1 rule match")
    page.get_by_role("button", name=f"Resources failing {RULES[0].id}").click()
    item = page.locator("ul.resources li .resource-name")
    expect(item).to_have_text(MARKUP)
    assert page.locator("#explorer-results img").count() == 0
    assert page.title() != "pwned"

    # the state is in the URL: a reload (or a shared link) shows the same view
    page.locator("#explorer-subscription").select_option(SUB_A)
    expect(page).to_have_url(re.compile(f"subscription_id={SUB_A}"))
    page.reload()
    expect(page.locator("#explorer-q")).to_have_value("onerror")
    expect(page.locator("#explorer-subscription")).to_have_value(SUB_A)
    expect(page.locator("#groups-table tbody tr[data-rule-id]")).to_have_count(1)

    # flat list, sorted by resource, page size and page jump
    page.get_by_role("button", name="Clear filters").click()
    page.get_by_label("Every finding").check()
    page.get_by_label("Sort by").select_option("resource")
    page.get_by_label("Per page").select_option("50")
    total = stack.get("/api/findings", params={"limit": 1}).json()["count"]
    expect(page.locator("#explorer-status")).to_have_text(f"{total} findings; showing 1–50.")
    page.locator("#explorer-page").fill("3")
    page.get_by_role("button", name="Go").click()
    expect(page.locator("#explorer-status")).to_have_text(f"{total} findings; showing 101–150.")
    expect(page).to_have_url(re.compile(r"#/findings\?view=flat&sort=resource&size=50&page=3$"))
    names = page.locator("#explorer-table tbody tr[data-finding-id] td:nth-child(3)").all_inner_texts()
    expected = [f["resource_name"] for f in stack.get("/api/findings", params={"sort": "resource", "limit": 50, "offset": 100}).json()["findings"]]
    assert [n.split("\n")[0] for n in names] == expected


def test_a_scans_findings_open_in_the_explorer(page: Page, stack: LiveStack) -> None:
    scan_id = stack.get("/api/scans", params={"subscription_id": SUB_A, "status": "completed"}).json()["scans"][-1]["scan_id"]
    sign_in(page, stack.token("reader"), f"/#/scans/{scan_id}")
    # findings come before the rule outcomes
    findings_y = page.locator("#findings-title").bounding_box()["y"]
    assert findings_y < page.locator("#outcomes-title").bounding_box()["y"]
    page.locator("#scan-explore-link").click()
    expect(page).to_have_url(re.compile(f"#/findings\\?scan_id={scan_id}$"))
    expect(page.locator("#explorer-scope")).to_contain_text(f"Findings of scan {scan_id[:8]}")
    groups = stack.get("/api/findings/groups", params={"scan_id": scan_id}).json()
    expect(page.locator("#explorer-status")).to_contain_text(f"{groups['total_findings']} findings in {groups['count']} rules")
    page.locator("#explorer-severity").select_option("HIGH")
    expect(page).to_have_url(re.compile(f"scan_id={scan_id}&severity=HIGH"))


def test_explorer_shows_an_api_outage_and_recovers(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"), "/#/findings")
    expect(page.locator("#groups-table")).to_be_visible()
    rows = page.locator("#groups-table tbody tr[data-rule-id]").count()
    stack.kill_gunicorn()
    try:
        page.locator("#explorer-severity").select_option("HIGH")
        expect(page.locator("#connection")).to_contain_text("API unreachable since")
        expect(page.locator("#explorer-status")).to_contain_text("Could not load findings")
        expect(page.locator("#groups-table tbody tr[data-rule-id]")).to_have_count(rows)  # the last data stays
    finally:
        stack.start_gunicorn()
    page.locator("#explorer-severity").select_option("")
    expect(page.locator("#connection")).to_have_text("")
    expect(page.locator("#groups-table tbody tr[data-rule-id]")).to_have_count(rows)


def test_explorer_timings_on_a_large_subscription_are_printed(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"), "/#/findings")
    expect(page.locator("#groups-table")).to_be_visible()
    figures = {
        "group all": load_ms(page, lambda: page.get_by_label("Sort by").select_option("count")),
        "subscription L": load_ms(page, lambda: page.locator("#explorer-subscription").select_option(SUB_L)),
        "severity HIGH": load_ms(page, lambda: page.locator("#explorer-severity").select_option("HIGH")),
        "search big-01": load_ms(page, lambda: (page.locator("#explorer-q").fill("big-01"), page.locator("#explorer-q").press("Enter"))),
        "flat list": load_ms(page, lambda: page.get_by_label("Every finding").check()),
    }
    load = os.getloadavg()[0]
    for what, ms in figures.items():
        print(f"\nexplorer {what}: {ms} ms (fetch + render, {LARGE_FINDINGS + 31} findings stored, load {load:.2f})")
    assert all(ms >= 0 for ms in figures.values())


def test_explorer_by_keyboard_only(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"), "/#/findings")
    expect(page.locator("#groups-table")).to_be_visible()
    page.locator("#findings-view-title").focus()

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(f"document.activeElement && document.activeElement.matches({selector!r})"):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#explorer-q")
    page.keyboard.type("res-0")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=res-0"))
    tab_to("#explorer-severity")
    page.keyboard.press("ArrowDown")  # CRITICAL, or the first severity offered
    expect(page).to_have_url(re.compile(r"severity="))
    page.locator("#explorer-severity").evaluate("el => el.value = ''")
    page.locator("#explorer-severity").dispatch_event("change")
    expect(page.locator("#explorer-status")).not_to_have_text("Loading…")  # the table is not replaced under the focus
    tab_to('button[aria-controls^="group-"]')
    page.keyboard.press("Enter")
    expect(page.locator('button[aria-controls^="group-"]').first).to_have_attribute("aria-expanded", "true")
    tab_to("ul.resources button")
    page.keyboard.press("Enter")
    expect(page.locator("ul.resources .resource-details").first).to_contain_text("fix it like this")


def test_compliance_lists_controls_and_drills_into_a_control(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("reader"), "/#/compliance/cis")
    data = stack.get("/api/compliance/cis").json()
    expect(page.locator("#controls-table tbody tr[data-control]")).to_have_count(len(data["controls"]))
    expect(page.locator("#compliance-failed")).to_have_text(str(data["summary"]["failed"]))
    failed = next(c for c in data["controls"] if c["status"] == "failed")
    row = page.locator(f'#controls-table tr[data-control="{failed["control"]}"]')
    expect(row.locator("td").nth(3)).to_have_text(str(failed["failed"]))
    screenshot(page, "compliance-seeded", "#controls-table")
    with page.expect_download() as info:  # the controls as CSV, fetched with the reader's token
        page.locator("#compliance-export-csv").click()
    assert info.value.suggested_filename == "openshield-compliance-cis.csv"
    lines = open(info.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("control,") and len(lines) == 1 + len(data["controls"])
    row.get_by_role("button", name=f"Results of control {failed['control']}").click()
    # the whole control in the explorer: its failed resources, over its rules only
    page.locator("a.control-findings").click()
    expect(page).to_have_url(re.compile(rf"#/findings\?framework=cis&control={re.escape(failed['control'])}$"))
    expect(page.locator("#explorer-control")).to_have_value(failed["control"])
    expect(page.locator("#explorer-status")).to_contain_text(re.compile(r" rules? match"))  # the filtered groups arrived
    shown = set(page.locator("#groups-table tbody tr[data-rule-id]").evaluate_all("rs => rs.map(r => r.dataset.ruleId)"))
    assert shown and shown <= set(failed["rules"])
    page.go_back()
    row = page.locator(f'#controls-table tr[data-control="{failed["control"]}"]')
    row.get_by_role("button", name=f"Results of control {failed['control']}").click()
    link = page.locator(".control-rules a").first
    expect(link).to_contain_text("failed resource")
    link.click()
    expect(page).to_have_url(re.compile(r"#/findings\?rule_id=AZ-"))
    expect(page.locator("#groups-table tbody tr[data-rule-id]")).to_have_count(1)
    page.locator('nav[aria-label="Views"] a', has_text="Compliance").click()
    page.get_by_role("link", name="NIST CSF").click()
    expect(page.locator("#compliance-status")).to_contain_text("NIST")
    # CIS v6.0.0 sits beside v2.0.0 with its own numbering
    page.get_by_role("link", name="CIS v6").click()
    expect(page).to_have_url(re.compile(r"#/compliance/cis-v6$"))
    expect(page.locator("#compliance-status")).to_contain_text("v6.0.0")
    v6 = stack.get("/api/compliance/cis-v6").json()
    expect(page.locator("#controls-table tbody tr[data-control]")).to_have_count(len(v6["controls"]))
    expect(page.locator('#controls-table tr[data-control="7.1"] td').nth(1)).to_have_text(
        next(c for c in v6["controls"] if c["control"] == "7.1")["status"].replace("_", " "))


def test_a_token_that_stops_working_returns_to_sign_in_with_a_message(page: Page, stack: LiveStack) -> None:
    # what a restart with a new JWT_SECRET does to a signed-in tab: its token no longer verifies
    sign_in(page, stack.token("reader"), "/#/findings")
    stale = issue_token("a-secret-from-before-the-restart-" + "z" * 32, "reader")
    page.evaluate("t => sessionStorage.setItem('openshield.token', t)", stale)
    page.reload()
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#signin-error")).to_contain_text("Your session ended")
    expect(page.locator("#signin-error")).to_contain_text("Sign in again")
    # signing in again returns to the same view
    page.locator("#token-input").fill(stack.token("reader"))
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#findings-view")).to_be_visible()


def test_scan_progress_says_what_collection_is_doing(page: Page, stack: LiveStack) -> None:
    # per-type lists make collection a few rounds of requests: 2 s each keeps it on screen
    # across several of the page's 2 s polls
    stack.emulator.set_faults(latency_ms=2000)
    try:
        scan_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4())}).json()["scan_id"]
        sign_in(page, stack.token("reader"), f"/#/scans/{scan_id}")
        label = page.locator("#scan-summary .progress-label")
        # this API runs on the scan's host, so it also reports the reads from progress.json
        expect(label).to_have_text(re.compile(r"^collecting: [\d,]+ resources listed, [\d,]+/[\d,]+ reads · \d+%$"),
                                   timeout=60_000)
    finally:
        stack.emulator.set_faults(latency_ms=0)
    stack.wait_terminal(scan_id, 90)


def test_view_helpers_label_progress_filter_logs_and_read_urls(page: Page, stack: LiveStack) -> None:
    page.goto("/")
    result = page.evaluate(
        """async () => {
          const c = await import('/dashboard/js/components.js');
          const scan = await import('/dashboard/js/scan-view.js');
          const explorer = await import('/dashboard/js/explorer-view.js');
          const router = await import('/dashboard/js/router.js');
          const base = {status: 'running', phase: 'collecting', progress: 12, rules_completed: 0, total_rules: 82,
                        resources_collected: 1345};
          return {
            collecting: c.progressText(base).label,
            reads: c.progressText({...base, collection: {resources_listed: 1345, reads_done: 2445, reads_total: 2509}}).label,
            evaluating: c.progressText({...base, phase: 'evaluating', rules_completed: 40, progress: 80}).label,
            queued: c.progressText({...base, status: 'pending', phase: 'queued', progress: 0}).label,
            done: c.progressText({...base, status: 'completed', phase: 'done', rules_completed: 82, progress: 100}).label,
            labels: [{status: 'ok', failed_count: 12}, {status: 'skipped'}, {status: 'error'}].map(c.outcomeLabel),
            log: scan.visibleLogLines([
              '2026-11-30 00:32:18,710 INFO scanner.run: scan 1 claimed by pid 5 on h', 'phase: collecting',
              'collecting: 1 resources listed, 2/3 details fetched', '2026-11-30 INFO scanner.cve.enricher: x 1: 4 CVEs',
              '2026-11-30 WARNING scanner.azure: throttled', 'scan f425a2b1-33ca-49d0-81e4-82d176e50530 completed: 1 findings'], false),
            state: explorer.stateFromParams(new URLSearchParams('view=odd&sort=resource&size=7&page=-3&scan_id=nope&control=1.1')),
            flatSort: explorer.stateFromParams(new URLSearchParams('view=flat&sort=resource')).sort,
            hash: router.hashFor('/findings', {q: 'a b&c', severity: '', page: '2'}),
            parsed: Object.fromEntries(router.parseHash('#/findings?q=a+b%26c&page=2').params),
          };
        }"""
    )
    assert result["collecting"] == "collecting: 1,345 resources listed · 12%"
    assert result["reads"] == "collecting: 1,345 resources listed, 2,445/2,509 reads · 12%"
    assert result["evaluating"] == "40/82 rules · 80%"
    assert result["queued"] == "queued · 0%"
    assert result["done"] == "82/82 rules · 100%"
    assert result["labels"] == ["evaluated", "skipped", "error"]
    assert result["log"] == [
        "2026-11-30 00:32:18,710 INFO scanner.run: scan 1 claimed by pid 5 on h", "phase: collecting",
        "collecting: 1 resources listed, 2/3 details fetched", "2026-11-30 WARNING scanner.azure: throttled",
        "scan f425a2b1-33ca-49d0-81e4-82d176e50530 completed: 1 findings",
    ]
    state = result["state"]
    assert (state["view"], state["sort"], state["size"], state["page"], state["scan_id"], state["control"]) == (
        "grouped", "severity", "25", "1", "", "")  # a control without its framework means nothing
    assert result["flatSort"] == "resource"
    assert result["hash"] == "#/findings?q=a+b%26c&page=2"
    assert result["parsed"] == {"q": "a b&c", "page": "2"}


def test_overview_helpers_draw_trends_and_word_estate_answers(page: Page, stack: LiveStack) -> None:
    page.goto("/")
    result = page.evaluate(
        """async () => {
          const s = await import('/dashboard/js/sparkline.js');
          const o = await import('/dashboard/js/overview-view.js');
          const chart = s.sparkline([40, null, 100], { width: 104, height: 54, label: 'Score of X' });
          return {
            points: s.sparklinePoints([0, 50, 100], 104, 54),
            single: s.sparklinePoints([75], 104, 54),
            none: s.sparkline([null], {}),
            label: chart.getAttribute('aria-label'),
            polyline: chart.querySelector('polyline').getAttribute('points'),
            message: o.scanAllMessage({ scans: [{ result: 'created' }, { result: 'active' }, { result: 'skipped' }, { result: 'active' }] }),
            schedules: o.scheduleText([{ name: 'nightly', enabled: false, target: 'all' }]),
            noSchedule: o.scheduleText([]),
            trends: [...o.trendsBySubscription([{ subscription_id: 'a', score: 1 }, { subscription_id: 'b', score: 2 }, { subscription_id: 'a', score: 3 }])],
          };
        }"""
    )
    assert result["points"] == [[2, 52], [52, 27], [102, 2]]  # 0 at the bottom, 100 at the top
    assert result["single"] == [[52, 14.5]]
    assert result["none"] is None
    assert result["label"] == "Score of X: 2 scans, from 40 to 100"
    assert result["polyline"] == "2,32 102,2"
    assert result["message"] == "1 scan accepted; 2 already scanning, 1 not scannable."
    assert result["schedules"] == "nightly (paused, every subscription)"
    assert result["noSchedule"] == "—"
    assert result["trends"] == [["a", [1, 3]], ["b", [2]]]


SUB_E = "eeeeeeee-0000-4000-8000-00000000000e"


def test_scan_detail_compares_with_the_previous_scan_and_exports(page: Page, stack: LiveStack) -> None:
    store = ScanStore(stack.database_url)
    rule = RULES[0]
    _complete(store, SUB_E, [_finding(SUB_E, rule, f"e-{i}") for i in range(5)], 50.0)
    # the second scan: e-0 and e-1 were fixed, e-5 and a resource named with markup now fail
    names = [f"e-{i}" for i in range(2, 6)] + [MARKUP]
    second = _complete(store, SUB_E, [_finding(SUB_E, rule, n) for n in names], 45.0)
    diff = stack.get(f"/api/scans/{second}/diff").json()
    assert (len(diff["new"]), len(diff["resolved"]), diff["still_failing"]) == (2, 2, 3)

    sign_in(page, stack.token("reader"), f"/#/scans/{second}")
    expect(page.locator("#diff-summary")).to_have_text(
        f"2 new failures · 2 resolved failures · 3 still failing — compared with scan {diff['against'][:8]}.")
    expect(page.locator("#diff-new-table tbody tr")).to_have_count(2)
    expect(page.locator("#diff-new-table")).to_contain_text(MARKUP)  # shown as text, never interpreted
    assert page.title() != "pwned"
    expect(page.locator("#diff-resolved-table tbody tr td:nth-child(3)")).to_have_text(["e-0", "e-1"])
    doc_screenshot(page, "scan-diff", "#diff-resolved-table")
    page.locator("#diff-against").click()  # the compared scan: its first, so nothing to compare
    expect(page.locator("#diff-summary")).to_contain_text("first completed scan")

    # the explorer's "new only" filter gives the same two failures, filtered by the server
    page.goto(f"/#/findings?view=flat&scan_id={second}")
    flat = page.locator("#explorer-table tbody tr:not(.finding-details)")
    expect(flat).to_have_count(len(names))
    page.locator("#explorer-new").select_option("true")
    expect(flat).to_have_count(2)
    expect(page.locator("#explorer-status")).to_have_text("2 findings match; showing 1–2.")

    # exports: fetched with the reader's token, saved under the server's file name
    page.goto(f"/#/scans/{second}")
    for fmt, suffix in (("csv", "csv"), ("ocsf", "ocsf.json"), ("html", "html")):
        with page.expect_download() as info:
            page.locator(f"#export-{fmt}").click()
        download = info.value
        assert download.suggested_filename == f"openshield-{second}.{suffix}"
        content = open(download.path(), encoding="utf-8").read()
        expect(page.locator("#export-status")).to_have_text(f"Downloaded openshield-{second}.{suffix}.")
        if fmt == "csv":
            assert content.startswith("scan_id,subscription_id,status,")
            assert sum(1 for line in content.splitlines() if ",FAIL," in line) == len(names)
        elif fmt == "ocsf":
            assert '"class_uid": 2004' in content or '"class_uid":2004' in content
        else:
            assert "<html" in content.lower()


SUB_F = "ffffffff-0000-4000-8000-00000000000f"


def test_explorer_filters_by_result_and_muting_and_operators_mute_and_unmute(page: Page, stack: LiveStack) -> None:
    rule = RULES[1]
    muted = _finding(SUB_F, rule, "f-muted")
    mute = stack.post("/api/mutes", {"rule_id": rule.id, "resource": muted["resource_id"], "subscription_id": SUB_F,
                                     "justification": "seeded: accepted for the test"}).json()
    muted.update(muted=True, mute_id=mute["id"])
    passed = {"rule_id": rule.id, "status": "PASS", "resource_id": f"/subscriptions/{SUB_F}/x/f-pass",
              "resource_name": "f-pass", "resource_type": "Microsoft.Storage/storageAccounts", "location": "westeurope",
              "detail": None}
    store = ScanStore(stack.database_url)
    scan = store.create(SUB_F, launched_by="seed")
    assert store.claim(scan.scan_id, pid=1, host="seed", process_create_time=None)
    findings = [dict(_finding(SUB_F, rule, "f-open"), scan_id=scan.scan_id), dict(muted, scan_id=scan.scan_id)]
    assert store.complete_with_results(scan.scan_id, findings=findings, outcomes=[], score=50.0, results=[passed])

    sign_in(page, stack.token("operator"), f"/#/findings?view=flat&subscription_id={SUB_F}")
    rows = page.locator("#explorer-table tbody tr:not(.finding-details)")
    expect(rows).to_have_count(2)
    expect(page.locator("#explorer-table .badge-new")).to_have_count(2)  # the subscription's first scan

    # new only: the server filters (both are new in a first scan; the older scan of E has none new)
    page.locator("#explorer-new").select_option("true")
    expect(page).to_have_url(re.compile(r"new=true"))
    expect(rows).to_have_count(2)
    page.goto(f"/#/findings?view=flat&new=true&subscription_id={SUB_F}&status=PASS")  # not for passes
    expect(page.locator("#explorer-new")).to_be_disabled()
    expect(page.locator("#explorer-new")).to_have_value("")
    page.goto(f"/#/findings?view=flat&subscription_id={SUB_F}")
    expect(rows).to_have_count(2)

    # only muted: its details say which mute; Unmute deletes that mute
    page.locator("#explorer-muted").select_option("true")
    expect(page).to_have_url(re.compile(r"muted=true"))
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".badge-muted")).to_have_text("muted")
    page.get_by_role("button", name="Details of").first.click()
    expect(page.locator(".finding-details:not([hidden])")).to_contain_text(f"yes, by mute {mute['id']}")
    page.get_by_role("button", name=re.compile(r"^Unmute ")).click()
    expect(page.locator(".mute-status")).to_have_text(f"Mute {mute['id']} deleted: the next scan reports this failure again.")
    assert all(m["id"] != mute["id"] for m in stack.get("/api/mutes").json()["mutes"])

    # only open ones: first seen is shown; muting needs a justification
    page.locator("#explorer-muted").select_option("false")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("f-open")
    page.get_by_role("button", name="Details of").first.click()
    details = page.locator(".finding-details:not([hidden])")
    expect(details).to_contain_text("First seen")
    mute_button = page.get_by_role("button", name=f"Mute {rule.id} on f-open")
    page.locator(".mute-form textarea").fill("   ")
    mute_button.click()
    expect(details.locator(".mute-status")).to_have_text("Say why this risk is accepted before muting it.")
    page.locator(".mute-form textarea").fill("owned by the <b>platform</b> team, review in Q1")
    mute_button.click()
    expect(details.locator(".mute-status")).to_contain_text("Muted (mute ")
    created = [m for m in stack.get("/api/mutes").json()["mutes"] if m["resource"] == findings[0]["resource_id"]]
    assert [m["justification"] for m in created] == ["owned by the <b>platform</b> team, review in Q1"]

    # passed results: a flat list (groups count failures), the muted filter does not apply
    page.locator("#explorer-result").select_option("PASS")
    expect(page).to_have_url(re.compile(r"status=PASS"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-status", "PASS")
    expect(page.locator("#explorer-status")).to_contain_text("1 passed result")
    expect(page.locator("#explorer-view-grouped")).to_be_disabled()
    expect(page.locator("#explorer-muted")).to_be_disabled()
    page.get_by_role("button", name="Details of").first.click()
    expect(page.locator(".finding-details:not([hidden])")).to_contain_text("PASS: the rule judged this resource compliant")
    expect(page.get_by_role("button", name=re.compile(r"^(Mute|Unmute)"))).to_have_count(0)  # nothing to mute on a pass

    # a reader sees the same failures and details, without mute controls
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, stack.token("reader"), f"/#/findings?view=flat&subscription_id={SUB_F}")
    expect(rows).to_have_count(2)
    for toggle in page.get_by_role("button", name="Details of").all():
        toggle.click()
    expect(page.locator(".finding-details:not([hidden])")).to_have_count(2)
    expect(page.locator(".mute-controls")).to_have_count(0)


def test_schedules_and_mutes_pages_operator_edits_reader_views(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("operator"), "/#/schedules")
    expect(page.locator('a[data-nav="schedules"]')).to_have_attribute("aria-current", "page")
    # a bad cron is refused with the API's own words
    page.locator("#schedule-name").fill("bad")
    page.locator("#schedule-cron").fill("61 * * * *")
    page.get_by_role("button", name="Add schedule").click()
    expect(page.locator("#schedules-message")).to_contain_text("Could not add the schedule: invalid cron expression")
    page.locator("#schedule-name").fill("<i>nightly</i>")
    page.locator("#schedule-subscription").fill(SUB_A)
    page.locator("#schedule-cron").fill("0 2 * * *")
    page.locator("#schedule-timezone").fill("Europe/Berlin")
    page.get_by_role("button", name="Add schedule").click()
    expect(page.locator("#schedules-message")).to_contain_text("Schedule <i>nightly</i> added; next run")
    made = [s for s in stack.get("/api/schedules").json()["schedules"] if s["name"] == "<i>nightly</i>"]
    assert len(made) == 1 and made[0]["cron"] == "0 2 * * *" and made[0]["timezone"] == "Europe/Berlin"
    row = page.locator(f'#schedules-table tr[data-schedule-id="{made[0]["id"]}"]')
    expect(row.locator("td").nth(0)).to_have_text("<i>nightly</i>")  # text, not markup
    expect(row.locator("td").nth(2)).to_have_text("cron 0 2 * * * (Europe/Berlin)")
    page.get_by_role("button", name="Pause schedule <i>nightly</i>").click()
    expect(row.locator("td").nth(3)).to_have_text("paused")
    assert stack.get(f"/api/schedules/{made[0]['id']}").json()["enabled"] is False
    page.get_by_role("button", name="Resume schedule <i>nightly</i>").click()
    expect(row.locator("td").nth(3)).to_have_text("active")

    page.goto("/#/mutes")
    page.locator("#mute-rule").fill(RULES[2].id)
    page.locator("#mute-resource").fill("*/res-0?")
    page.locator("#mute-subscription").fill(SUB_A)
    page.locator("#mute-justification").fill("test data, <b>not</b> production")
    page.get_by_role("button", name="Add mute").click()
    expect(page.locator("#mutes-message")).to_contain_text("added: it applies from the next scan.")
    mute = [m for m in stack.get("/api/mutes").json()["mutes"] if m["resource"] == "*/res-0?"][0]
    mute_row = page.locator(f'#mutes-table tr[data-mute-id="{mute["id"]}"]')
    expect(mute_row.locator("td").nth(4)).to_have_text("test data, <b>not</b> production")
    doc_screenshot(page, "mutes", "#mutes-table")

    # a reader sees both tables and no control that changes anything
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, stack.token("reader"), "/#/mutes")
    expect(mute_row).to_be_visible()
    expect(page.locator("#mute-form")).to_have_count(0)
    page.goto("/#/schedules")
    expect(page.locator(f'#schedules-table tr[data-schedule-id="{made[0]["id"]}"]')).to_be_visible()
    expect(page.locator("#schedule-form")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile(r"^(Add|Pause|Resume|Delete)"))).to_have_count(0)

    # the operator deletes both
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, stack.token("operator"), "/#/schedules")
    page.get_by_role("button", name="Delete schedule <i>nightly</i>").click()  # the page fixture accepts the confirm
    expect(page.locator("#schedules-message")).to_have_text("Schedule <i>nightly</i> deleted.")
    assert stack.get(f"/api/schedules/{made[0]['id']}").status_code == 404
    page.goto("/#/mutes")
    page.get_by_role("button", name=f"Delete mute {mute['id']}").click()
    expect(page.locator("#mutes-message")).to_have_text(f"Mute {mute['id']} deleted: from the next scan its failures count again.")
    assert all(m["id"] != mute["id"] for m in stack.get("/api/mutes").json()["mutes"])


def _every_page(stack: LiveStack, params: dict[str, str]) -> list[dict[str, Any]]:
    """What paging through GET /api/findings with these filters lists, in order."""
    listed: list[dict[str, Any]] = []
    while True:
        body = stack.get("/api/findings", params={**params, "limit": 1000, "offset": len(listed)}).json()
        listed += body["findings"]
        if len(listed) >= body["count"]:
            return listed


def _download_csv(page: Page, button: str) -> tuple[str, list[dict[str, str]]]:
    with page.expect_download() as info:
        page.locator(button).click()
    download = info.value
    with open(download.path(), encoding="utf-8", newline="") as handle:
        return download.suggested_filename, list(csv.DictReader(handle))


def test_explorer_downloads_the_current_filter_as_csv(page: Page, stack: LiveStack) -> None:
    # a filter of the large subscription: many pages of the explorer, more than one of the API
    severity = RULES[0].severity
    sign_in(page, stack.token("reader"), f"/#/findings?subscription_id={SUB_L}&severity={severity}")
    expected = _every_page(stack, {"subscription_id": SUB_L, "severity": severity})
    expect(page.locator("#explorer-status")).to_contain_text(f"{len(expected)} findings in")
    name, rows = _download_csv(page, "#explorer-export-csv")
    assert re.fullmatch(r"openshield-findings-\d{8}T\d{6}Z\.csv", name)
    expect(page.locator("#explorer-export-status")).to_have_text(f"Downloaded {name}.")
    assert len(rows) == len(expected) > 25  # every page, not the one on screen
    assert [r["resource_id"] for r in rows] == [f["resource_id"] for f in expected]
    assert {(r["subscription_id"], r["severity"], r["status"]) for r in rows} == {(SUB_L, severity, "FAIL")}

    # the filter changed in the page (search, flat list sorted by resource): the file follows the URL
    page.get_by_role("button", name="Clear filters").click()
    page.locator("#explorer-subscription").select_option(SUB_A)
    page.locator("#explorer-q").fill("res-1")
    page.locator("#explorer-q").press("Enter")
    page.get_by_label("Every finding").check()
    page.get_by_label("Sort by").select_option("resource")
    expect(page).to_have_url(re.compile(r"q=res-1.*view=flat|view=flat.*q=res-1"))
    expect(page.locator("#explorer-status")).to_have_text("10 findings match; showing 1–10.")
    _, rows = _download_csv(page, "#explorer-export-csv")
    assert [r["resource_name"] for r in rows] == [f"res-{i}" for i in range(10, 20)]
    assert {r["subscription_id"] for r in rows} == {SUB_A}

    # a search that matches nothing: a header-only file, not an error
    page.locator("#explorer-q").fill("nothing-like-this")
    page.locator("#explorer-q").press("Enter")
    expect(page.locator("#explorer-status")).to_have_text("No findings match this search and these filters.")
    _, rows = _download_csv(page, "#explorer-export-csv")
    assert rows == []
