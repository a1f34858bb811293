"""The dashboard in real headless Chromium against a real stack (gunicorn, supervisor, scans,
the HTTPS Azure emulator): sign in, trigger, watch progress, kill -9, cancel, findings, log,
the API going away and coming back, keyboard use and contrast.

One stack and one browser per module. The emulator pages ARM and Graph five items at a time,
so its latency makes a scan's collection take visibly long (``latency_ms`` 300: about 10 s;
2000: about a minute). Screenshots go to ``test-artifacts/dashboard/`` (printed); with
``OPENSHIELD_UPDATE_SCREENSHOTS=1`` the scans-table picture is also written to
``docs/screenshots/scans-table.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Locator, Page, expect, sync_playwright

from api.auth import issue_token
from store.migrate import upgrade
from tests.conftest import REPO
from tests.fakeazure.harness import Emulator, start_emulator
from tests.processes import wait_for
from tests.stack import LiveStack


CHROMIUM = os.environ.get("OPENSHIELD_TEST_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
DOC_SCREENSHOT = REPO / "docs" / "screenshots" / "scans-table.png"
LAPTOP = {"width": 1440, "height": 900}
SLOW_MS = 2000  # a scan stays running for about a minute
PICTURE_MS = 1000  # about 30 s: time to take a picture of it and cancel it
WATCH_MS = 300  # a scan runs for about ten seconds: long enough to watch, short enough to wait for

expect.set_options(timeout=15_000)


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo", any_subscription=True,
                        page_size=5, graph_page_size=5) as emu:
        yield emu


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, emulator: Emulator) -> Iterator[LiveStack]:
    root = tmp_path_factory.mktemp("dashboard")
    database_url = f"sqlite:///{root / 'openshield.db'}"
    upgrade(database_url)
    data_dir = root / "data"
    data_dir.mkdir()
    live = LiveStack(database_url, data_dir, emulator, extra_env={"OPENSHIELD_MAX_CONCURRENT_SCANS": "4"})
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\ndashboard screenshots: {ARTIFACTS}")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def quiet_stack(stack: LiveStack) -> Iterator[None]:
    """Each test starts with a fast emulator and leaves no active scan behind."""
    stack.emulator.set_faults(latency_ms=0)
    yield
    if stack.gunicorn is None:
        stack.start_gunicorn()
    for scan in active_scans(stack):
        stack.post(f"/api/scans/{scan['scan_id']}/cancel")
    stack.emulator.set_faults(latency_ms=0)
    wait_for(lambda: not active_scans(stack), 60, interval=0.2, what="active scans to end")


@pytest.fixture
def page(browser: Browser, stack: LiveStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(base_url=stack.url, viewport=LAPTOP, color_scheme="light")
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"uncaught: {exc}"))
    tab.on("console", lambda msg: _console(msg, problems))
    tab.on("dialog", _accept)  # the cancel buttons ask for confirmation
    yield tab
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}-last.png"))
    context.close()
    assert not problems, problems


def _console(message: ConsoleMessage, problems: list[str]) -> None:
    # Failed requests while the API is down are expected (and shown by the page itself).
    if message.type == "error" and "Failed to load resource" not in message.text:
        problems.append(message.text)


def _accept(dialog: Dialog) -> None:
    dialog.accept()


# ------------------------------------------------------------------------------------- helpers
def active_scans(stack: LiveStack) -> list[dict[str, Any]]:
    scans = stack.get("/api/scans", params={"limit": 500}).json()["scans"]
    return [s for s in scans if s["status"] in ("pending", "running")]


def sign_in(page: Page, token: str) -> None:
    """Sign in on the scans table (#/scans; the landing page #/ is the overview)."""
    page.goto("/#/scans")
    page.locator("#token-input").fill(token)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#scans-view")).to_be_visible()


def row(page: Page, scan_id: str) -> Locator:
    return page.locator(f'#scans-table tbody tr[data-scan-id="{scan_id}"]')


def trigger_in_page(page: Page, subscription: str = "") -> str:
    """Start a scan with the form; the id of the new row that appears at the top."""
    before = set(page.locator("#scans-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.scanId)"))
    page.locator("#subscription-input").fill(subscription)
    page.get_by_role("button", name="Start scan").click()
    expect(page.locator("#trigger-message")).to_contain_text("accepted")
    first = page.locator("#scans-table tbody tr").first
    scan_id = first.get_attribute("data-scan-id")
    assert scan_id and scan_id not in before
    return scan_id


def wait_running_pid(page: Page, scan_id: str) -> int:
    process = row(page, scan_id).locator("td").nth(6)
    expect(process).to_have_text(re.compile(r"^\d+ @ "), timeout=20_000)
    return int(process.inner_text().split(" @ ")[0])


def screenshot(page: Page, name: str, down_to: str | None = None) -> Path:
    """The viewport, or its top down to the element ``down_to`` (no empty page below it)."""
    path = ARTIFACTS / f"{name}.png"
    clip = None
    if down_to is not None:
        box = page.locator(down_to).bounding_box()
        assert box is not None
        clip = {"x": 0, "y": 0, "width": LAPTOP["width"], "height": min(LAPTOP["height"], box["y"] + box["height"] + 24)}
    page.screenshot(path=str(path), clip=clip, animations="disabled")
    return path


def relative_luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg: tuple[float, float, float], bg: tuple[float, float, float]) -> float:
    light, dark = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# --------------------------------------------------------------------------------------- tests
def test_sign_in_refuses_bad_tokens_and_keeps_the_token_in_the_tab(page: Page, stack: LiveStack) -> None:
    page.goto("/")
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#token-input")).to_be_focused()
    expect(page.get_by_label("API token")).to_be_visible()

    page.locator("#token-input").fill("not a token")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Sign in button, by keyboard
    expect(page.locator("#signin-error")).to_contain_text("not an API token")

    forged = issue_token("some-other-secret-" + "y" * 40, "operator")
    page.locator("#token-input").fill(forged)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_have_text("The API refused this token: token signature is invalid.")
    expect(page.locator("#scans-view")).to_be_hidden()

    reader = stack.token("reader")
    sign_in(page, reader)
    expect(page.locator("#session-info")).to_have_text(re.compile(r"reader\)$"))
    expect(page.locator("#trigger-form")).to_be_hidden()
    assert page.evaluate("sessionStorage.getItem('openshield.token')") == reader
    assert page.evaluate("Object.keys(localStorage).filter(k => k.includes('token')).length") == 0

    page.reload()  # the tab keeps its session
    expect(page.locator("#scans-view")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#signin-view")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('openshield.token')") is None


def test_operator_triggers_a_scan_and_watches_it_complete(page: Page, stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=WATCH_MS)
    sign_in(page, stack.token("operator"))
    expect(page.locator("#subscription-input")).to_have_attribute("placeholder", re.compile("default"))
    scan_id = trigger_in_page(page)  # empty: the server's AZURE_SUBSCRIPTION_ID
    assert stack.scan(scan_id)["subscription_id"] == stack.emulator.env["AZURE_SUBSCRIPTION_ID"].lower()
    the_row = row(page, scan_id)
    bar = the_row.get_by_role("progressbar")

    seen: list[tuple[str, int, str]] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        status = the_row.get_attribute("data-status") or ""
        seen.append((status, int(bar.get_attribute("aria-valuenow") or -1), bar.inner_text()))
        if status == "running" and len(seen) % 10 == 0:
            screenshot(page, "scan-running")
        if status in ("completed", "failed", "cancelled"):
            break
        page.wait_for_timeout(250)
    statuses = [s for s, _, _ in seen]
    assert statuses[-1] == "completed", seen[-5:]
    assert "running" in statuses, seen
    partial = [pct for s, pct, _ in seen if s == "running" and 0 < pct < 100]
    assert partial, f"no progress between 0 and 100% was shown: {seen}"
    rules = stack.get("/api/rules").json()["count"]
    assert any(re.search(rf"\d+/{rules} rules · \d+%", label) for _, _, label in seen), seen
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(bar).to_have_text(f"{rules}/{rules} rules · 100%")
    expect(the_row.locator(".badge")).to_have_text("completed")
    scan = stack.scan(scan_id)
    expect(the_row.locator("td.col-message")).to_have_text(f"{scan['total_findings']} findings · score {js_number(scan['score'])}")
    expect(the_row.locator("td.num")).to_have_text(re.compile(r"^\d+ s$"))
    expect(the_row.get_by_role("button", name=re.compile("Cancel"))).to_have_count(0)
    screenshot(page, "scan-completed")


def test_kill_9_shows_the_scan_failed_with_the_supervisors_message(page: Page, stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=SLOW_MS)
    sign_in(page, stack.token("operator"))
    subscription = str(uuid.uuid4())
    scan_id = trigger_in_page(page, subscription)
    expect(row(page, scan_id).locator("td").nth(2)).to_have_text(subscription)
    pid = wait_running_pid(page, scan_id)
    assert stack.scan(scan_id)["pid"] == pid  # the pid on screen is the scan's
    os.kill(pid, signal.SIGKILL)
    the_row = row(page, scan_id)
    expect(the_row).to_have_attribute("data-status", "failed")
    message = the_row.locator("td.col-message")
    expect(message).to_have_text("scan process killed by SIGKILL")
    expect(message).to_have_class(re.compile("error-text"))


def test_scans_table_screenshot_then_cancel_from_the_table(page: Page, stack: LiveStack) -> None:
    ensure_completed_and_failed(stack)
    stack.emulator.set_faults(latency_ms=PICTURE_MS)
    sign_in(page, stack.token("operator"))
    scan_id = trigger_in_page(page, str(uuid.uuid4()))
    wait_running_pid(page, scan_id)
    the_row = row(page, scan_id)
    # for the picture: a running scan that has made some progress
    expect(the_row.get_by_role("progressbar")).to_have_attribute("aria-valuenow", re.compile(r"^[1-9]\d?$"), timeout=30_000)
    for status in ("running", "completed", "failed"):
        expect(page.locator(f'#scans-table tbody tr[data-status="{status}"]').first).to_be_visible()
    picture = screenshot(page, "scans-table", down_to="#scans-view .table-wrap")
    if os.environ.get("OPENSHIELD_UPDATE_SCREENSHOTS") == "1":
        DOC_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(picture, DOC_SCREENSHOT)
    page.get_by_role("button", name="Dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "scans-table-dark", down_to="#scans-view .table-wrap")
    page.get_by_role("button", name="Dark theme").click()

    short = scan_id[:8]
    cancel = the_row.get_by_role("button", name=f"Cancel scan {short}")
    cancel.click()  # confirmed by the dialog handler
    expect(the_row).to_have_attribute("data-status", "cancelled")
    # the supervisor's SIGTERM ("… (SIGTERM)") or the scan's own heartbeat noticing the request
    # first: both are the scan recording a cancel that was asked for
    expect(the_row.locator("td.col-message")).to_have_text(re.compile(r"^cancelled on request( \(SIGTERM\))?$"))
    expect(the_row.get_by_role("button")).to_have_count(0)
    assert stack.scan(scan_id)["status"] == "cancelled"


def ensure_completed_and_failed(stack: LiveStack) -> None:
    """The picture needs one completed and one failed scan; earlier tests usually left them."""
    statuses = {s["status"] for s in stack.get("/api/scans", params={"limit": 500}).json()["scans"]}
    if "completed" not in statuses:
        scan_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4())}).json()["scan_id"]
        assert stack.wait_terminal(scan_id, 60)["status"] == "completed"
    if "failed" not in statuses:
        stack.emulator.set_faults(latency_ms=SLOW_MS)
        scan_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4())}).json()["scan_id"]
        scan = wait_for(lambda: (s := stack.scan(scan_id))["pid"] and s, 60, what="pid")
        os.kill(scan["pid"], signal.SIGKILL)
        assert stack.wait_terminal(scan_id, 10)["status"] == "failed"


def js_number(value: float) -> str:
    """A number as the page's ``String(n)`` writes it (60.0 → "60", 57.5 → "57.5")."""
    return str(int(value)) if float(value).is_integer() else str(value)


def completed_scan(stack: LiveStack) -> dict[str, Any]:
    """A completed scan of every rule (the module's tests also run scans limited to a few rules)."""
    done = stack.get("/api/scans", params={"status": "completed", "limit": 100}).json()["scans"]
    full = [scan for scan in done if not scan["rules"]]
    if full:
        return stack.scan(full[0]["scan_id"])
    scan_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4())}).json()["scan_id"]
    return stack.wait_terminal(scan_id, 60)


def test_scan_detail_summary_outcomes_findings_filters_and_log(page: Page, stack: LiveStack) -> None:
    scan = completed_scan(stack)
    assert scan["status"] == "completed" and scan["total_findings"] > 25
    scan_id = scan["scan_id"]
    sign_in(page, stack.token("operator"))
    row(page, scan_id).get_by_role("link").click()
    expect(page).to_have_url(re.compile(f"#/scans/{scan_id}$"))
    expect(page.locator("#scan-title")).to_have_text(f"Scan {scan_id[:8]} completed")
    expect(page.locator("#scan-score")).to_have_text(js_number(scan["score"]))
    expect(page.locator("#scan-findings-total")).to_have_text(str(scan["total_findings"]))

    # findings by severity, as the API counts them
    counts = {}
    for severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"):
        answer = stack.get("/api/findings", params={"scan_id": scan_id, "severity": severity, "limit": 1}).json()
        counts[severity] = answer["count"]
        expect(page.locator(f'button.sev-count[data-severity="{severity}"] .sev-count-n')).to_have_text(str(answer["count"]))
    assert sum(counts.values()) == scan["total_findings"]

    # rule outcomes
    outcomes = scan["rule_outcomes"]
    by = {k: sum(1 for o in outcomes if o["status"] == k) for k in ("ok", "skipped", "error")}
    failing = sum(1 for o in outcomes if o["status"] == "ok" and o["failed_count"] > 0)
    expect(page.locator("#outcomes-summary")).to_contain_text(
        f"{by['ok']} evaluated ({failing} with failed resources) · {by['skipped']} skipped · {by['error']} error")
    only_problems = page.get_by_label("Only rules that were skipped or failed")
    only_problems.uncheck()
    expect(page.locator("#outcomes-table tbody tr[data-rule-id]")).to_have_count(len(outcomes))
    # a rule that failed on resources is "evaluated", never "ok"
    failed_rule = next(o for o in outcomes if o["status"] == "ok" and o["failed_count"] > 0)
    expect(page.locator(f'#outcomes-table tr[data-rule-id="{failed_rule["rule_id"]}"] .badge')).to_have_text("evaluated")
    expect(page.locator("#outcomes-table .badge", has_text=re.compile("^ok$"))).to_have_count(0)
    only_problems.check()
    problems = by["skipped"] + by["error"]
    if problems:
        expect(page.locator("#outcomes-table tbody tr[data-rule-id]")).to_have_count(problems)
    else:
        expect(page.locator("#outcomes-table tbody")).to_have_text("No rule was skipped or failed.")

    # findings table: first page, then a severity filter, details, paging
    total = scan["total_findings"]
    # more than a page of findings: grouped by rule first, each rule expanding to its resources
    groups = stack.get("/api/findings/groups", params={"scan_id": scan_id, "limit": 25}).json()
    expect(page.locator("#findings-status")).to_have_text(
        f"{total} findings in {groups['count']} rules; rules 1–{len(groups['groups'])}.")
    first_group = groups["groups"][0]
    page.get_by_role("button", name=f"Resources failing {first_group['rule_id']}").click()
    expect(page.locator("#scan-groups ul.resources li")).to_have_count(min(first_group["failed"], 50))
    page.get_by_label("Every finding").check()
    expect(page.locator("#findings-status")).to_have_text(f"{total} findings; showing 1–25.")
    expect(page.locator("#findings-table tbody tr[data-finding-id]")).to_have_count(25)
    top = max((s for s in counts if counts[s]), key=lambda s: counts[s])
    page.get_by_label("Severity", exact=True).select_option(top)
    expect(page.locator("#findings-status")).to_contain_text(f"{counts[top]} finding")
    rows = page.locator("#findings-table tbody tr[data-finding-id]")
    expect(rows).to_have_count(min(25, counts[top]))
    assert set(rows.evaluate_all("rs => rs.map(r => r.dataset.severity)")) == {top}
    first = rows.first
    details = first.get_by_role("button", name=re.compile("^Details of "))
    details.click()
    expect(details).to_have_attribute("aria-expanded", "true")
    detail_row = page.locator(f"#{details.get_attribute('aria-controls')}")
    expect(detail_row).to_be_visible()
    expect(detail_row).to_contain_text("How to fix it")
    page.get_by_role("button", name="Clear filters").click()
    expect(page.locator("#findings-status")).to_have_text(f"{total} findings; showing 1–25.")
    page.get_by_role("button", name="Next page").click()
    expect(page.locator("#findings-status")).to_have_text(f"{total} findings; showing 26–{min(50, total)}.")
    # a severity count filters the table
    page.locator(f'button.sev-count[data-severity="{top}"]').click()
    expect(page.get_by_label("Severity", exact=True)).to_have_value(top)

    # operators see the log tail
    log = page.locator("#scan-log-text")
    expect(log).to_contain_text(f"scan {scan_id} completed")
    # phase lines by default, every line on request
    expect(log).not_to_contain_text("scanner.run: completed:")
    page.get_by_label("Show every line").check()
    expect(log).to_contain_text("scanner.run: completed:")
    page.get_by_label("Show every line").uncheck()
    screenshot(page, "scan-detail")
    page.get_by_role("link", name="All scans", exact=True).click()
    expect(page.locator("#scans-view")).to_be_visible()


def test_reader_sees_no_trigger_cancel_or_log(page: Page, stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=SLOW_MS)
    scan_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4())}).json()["scan_id"]
    sign_in(page, stack.token("reader"))
    the_row = row(page, scan_id)
    expect(the_row).to_have_attribute("data-status", re.compile("pending|running"))
    expect(page.locator("#trigger-form")).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("^Cancel"))).to_have_count(0)
    the_row.get_by_role("link").click()
    expect(page.locator("#scan-log")).to_have_text("The scan log needs an operator token.")
    expect(page.get_by_role("button", name=re.compile("Cancel"))).to_have_count(0)
    expect(page.locator("#rule-outcomes")).to_contain_text("appear when the scan completes")


def test_api_unreachable_is_shown_and_polling_recovers(page: Page, stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=SLOW_MS)
    scan_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4())}).json()["scan_id"]
    sign_in(page, stack.token("operator"))
    expect(row(page, scan_id)).to_have_attribute("data-status", "running")
    rows_before = page.locator("#scans-table tbody tr").count()
    stack.kill_gunicorn()
    banner = page.locator("#connection")
    expect(banner).to_contain_text("API unreachable since")
    expect(page.locator("#scans-table tbody tr")).to_have_count(rows_before)  # the last data stays
    screenshot(page, "api-unreachable")
    stack.start_gunicorn()
    expect(banner).to_have_text("", timeout=20_000)
    expect(row(page, scan_id)).to_have_attribute("data-status", "running")
    requests.post(f"{stack.url}/api/scans/{scan_id}/cancel", headers=stack.headers(), timeout=10)
    expect(row(page, scan_id)).to_have_attribute("data-status", "cancelled")


def test_keyboard_only_trigger_and_labelled_controls(page: Page, stack: LiveStack) -> None:
    sign_in(page, stack.token("operator"))
    page.locator("#main").focus()
    for _ in range(20):  # Tab through the page to the form, as a keyboard user would
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "subscription-input":
            break
    expect(page.locator("#subscription-input")).to_be_focused()
    page.keyboard.type(str(uuid.uuid4()))
    page.keyboard.press("Enter")
    expect(page.locator("#trigger-message")).to_contain_text("accepted")
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
               .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                             && !el.textContent.trim())
               .map(el => el.outerHTML)"""
    )
    assert unlabelled == []
    # a bad subscription id is refused in the page, with the field marked
    page.locator("#subscription-input").fill("not-a-uuid")
    page.get_by_role("button", name="Start scan").click()
    expect(page.locator("#trigger-message")).to_contain_text("is not a subscription id")
    expect(page.locator("#subscription-input")).to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(page: Page, stack: LiveStack, theme: str) -> None:
    sign_in(page, stack.token("operator"))
    page.evaluate(f"localStorage.setItem('openshield.theme', '{theme}')")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", theme)
    pairs = page.evaluate(
        """() => {
          const probe = document.createElement('div');
          document.querySelector('#scans-view').appendChild(probe);
          const classes = ['badge status-pending', 'badge status-running', 'badge status-completed',
            'badge status-failed', 'badge status-cancelled', 'badge sev-critical', 'badge sev-high',
            'badge sev-medium', 'badge sev-low', 'badge sev-info', 'badge outcome-skipped', 'badge outcome-ok',
            'badge outcome-error', 'badge outcome-failing', 'muted',
            'alert', 'alert alert-error', 'form-error', 'progress-label', 'connection is-down'];
          const rgb = s => s.match(/[\\d.]+/g).slice(0, 3).map(Number);
          const bgOf = el => {
            for (let e = el; e; e = e.parentElement) {
              const c = getComputedStyle(e).backgroundColor;
              if (c && !c.endsWith(', 0)') && c !== 'transparent') return c;
            }
            return getComputedStyle(document.documentElement).backgroundColor;
          };
          const out = classes.map(cls => {
            const el = document.createElement('span');
            el.className = cls; el.textContent = 'x'; probe.appendChild(el);
            return [cls, rgb(getComputedStyle(el).color), rgb(bgOf(el))];
          });
          for (const sel of ['body', 'a', '.button-primary', '#scans-table th']) {
            const el = document.querySelector(sel);
            out.push([sel, rgb(getComputedStyle(el).color), rgb(bgOf(el))]);
          }
          probe.remove();
          return out;
        }"""
    )
    low = {name: round(contrast(tuple(fg), tuple(bg)), 2) for name, fg, bg in pairs if contrast(tuple(fg), tuple(bg)) < 4.5}
    assert not low, f"{theme}: contrast below 4.5:1: {low}"


def test_page_helpers_format_and_never_interpret_markup(page: Page, stack: LiveStack) -> None:
    page.goto("/")
    result = page.evaluate(
        """async ([reader, forged]) => {
          const fmt = await import('/dashboard/js/format.js');
          const dom = await import('/dashboard/js/dom.js');
          const session = await import('/dashboard/js/session.js');
          const scans = await import('/dashboard/js/scans-view.js');
          const cell = dom.h('td', {title: '"><b>'}, '<img src=x onerror=alert(1)>', 7);
          let problem = null;
          try { session.decodeToken('a.b'); } catch (e) { problem = e.message; }
          return {
            durations: [59, 61, 3700, null].map(fmt.formatDuration),
            cellHtml: cell.innerHTML, cellTitle: cell.getAttribute('title'), images: cell.querySelectorAll('img').length,
            role: session.decodeToken(reader).role, problem,
            ended: scans.elapsedSeconds({status: 'failed', duration_seconds: null,
              created_at: '2026-11-28T10:00:00Z', completed_at: '2026-11-28T10:00:42Z'}),
            running: scans.elapsedSeconds({status: 'running', started_at: '2026-11-28T10:00:00Z'},
              Date.parse('2026-11-28T10:01:30Z')),
          };
        }""",
        [stack.token("reader"), "x"],
    )
    assert result["durations"] == ["59 s", "1 min 01 s", "1 h 01 min", "—"]
    assert result["cellHtml"] == "&lt;img src=x onerror=alert(1)&gt;7" and result["images"] == 0
    assert result["cellTitle"] == '"><b>'
    assert result["role"] == "reader"
    assert result["problem"] and "three parts" in result["problem"]
    assert result["ended"] == 42 and result["running"] == 90


def test_trigger_for_a_busy_subscription_links_to_its_active_scan(page: Page, stack: LiveStack) -> None:
    stack.emulator.set_faults(latency_ms=SLOW_MS)
    subscription = str(uuid.uuid4())
    active = stack.post("/api/scans/trigger", {"subscription_id": subscription}).json()["scan_id"]
    sign_in(page, stack.token("operator"))
    page.locator("#subscription-input").fill(subscription.upper())
    page.get_by_role("button", name="Start scan").click()
    message = page.locator("#trigger-message")
    expect(message).to_contain_text(f"subscription {subscription} already has an active scan: scan {active[:8]}.")
    expect(message).to_have_class(re.compile("form-error"))
    message.get_by_role("link", name="Open it").click()
    expect(page.locator("#scan-title")).to_contain_text(f"Scan {active[:8]}")
    cancel = page.get_by_role("button", name="Cancel scan")
    cancel.click()
    expect(page.locator("#scan-title .badge")).to_have_text("cancelled")
    expect(page.locator("#scan-error")).to_have_text(re.compile("^cancelled on request"))
    expect(page.locator("#findings")).to_have_text("No findings: the scan was cancelled before saving results.")
    expect(cancel).to_have_count(0)


def finished_scan(stack: LiveStack, rules: list[str]) -> dict[str, Any]:
    """A real scan of the demo tenant limited to ``rules``, waited for until it is terminal."""
    answer = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4()), "rules": rules})
    assert answer.status_code == 202, answer.text
    return stack.wait_terminal(answer.json()["scan_id"], 90)


def test_cve_data_is_shown_when_findings_carry_it(page: Page, stack: LiveStack) -> None:
    """The CVE column and details appear exactly when a scan's findings carry CVE data.

    Deterministic: which scan is enriched is chosen by its rules, not by timing. A scan finishes
    its ``enriching`` phase before it completes, so a completed scan of AZ-PG-003 (the demo's
    PostgreSQL 11) carries the fake NVD's CVEs, and a scan of AZ-KV-001 (findings naming no
    software) has nothing to enrich (``SKIPPED``).
    """
    plain = finished_scan(stack, ["AZ-KV-001"])
    assert (plain["status"], plain["cve_enrichment_status"]) == ("completed", "SKIPPED"), plain
    assert plain["total_findings"] > 0
    enriched = finished_scan(stack, ["AZ-PG-003"])
    assert (enriched["status"], enriched["cve_enrichment_status"]) == ("completed", "COMPLETED"), enriched
    findings = stack.get("/api/findings", params={"scan_id": enriched["scan_id"], "limit": 100}).json()["findings"]
    with_cves = [f for f in findings if f["cve_references"]]
    assert with_cves, findings
    finding = with_cves[0]
    cve_ids = [ref["id"] for ref in finding["cve_references"]]

    sign_in(page, stack.token("operator"))
    page.goto(f"/#/scans/{plain['scan_id']}")
    expect(page.locator("#scan-title")).to_contain_text(f"Scan {plain['scan_id'][:8]}")
    expect(page.locator("#findings-table tbody tr[data-finding-id]")).to_have_count(plain["total_findings"])
    expect(page.locator("#findings-table thead")).not_to_contain_text("CVE")  # nothing to show: no column
    expect(page.locator("#scan-summary")).to_contain_text("SKIPPED")

    page.goto(f"/#/scans/{enriched['scan_id']}")
    expect(page.locator("#scan-title")).to_contain_text(f"Scan {enriched['scan_id'][:8]}")
    expect(page.locator("#findings-table thead")).to_contain_text("CVE")
    row_of_finding = page.locator(f'#findings-table tbody tr[data-finding-id="{finding["id"]}"]')
    expect(row_of_finding.locator("td.cve")).to_contain_text(cve_ids[0])
    if finding["cvss_score"] is not None:
        expect(row_of_finding.locator("td.cve")).to_contain_text(f"CVSS {finding['cvss_score']:.1f}")
    row_of_finding.get_by_role("button", name=re.compile("^Details of ")).click()
    details = page.locator("#findings-table tr.finding-details").first
    expect(details).to_contain_text("CVE references")
    expect(details).to_contain_text(cve_ids[0])
    expect(page.locator("#scan-summary")).to_contain_text("CVE enrichment")
    expect(page.locator("#scan-summary")).to_contain_text("COMPLETED")


def test_moving_between_scans_shows_each_scans_own_numbers(page: Page, stack: LiveStack) -> None:
    full = completed_scan(stack)
    small_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4()), "rules": ["AZ-KV-001"]}).json()["scan_id"]
    small = stack.wait_terminal(small_id, 60)
    assert small["status"] == "completed" and small["total_findings"] != full["total_findings"]
    sign_in(page, stack.token("reader"))
    for scan in (full, small):
        page.goto(f"/#/scans/{scan['scan_id']}")
        expect(page.locator("#scan-findings-total")).to_have_text(str(scan["total_findings"]))
        counts = page.locator(".sev-count-n")
        expect(counts).to_have_count(5)
        assert sum(int(n) for n in counts.all_inner_texts()) == scan["total_findings"]
        expect(page.locator("#outcomes-summary")).to_contain_text(f"{len(scan['rule_outcomes'])} evaluated")
        expect(page.get_by_label("Rule", exact=True)).to_be_visible()
    expect(page.locator("#outcomes-table tbody tr[data-rule-id]")).to_have_count(1)  # no problem: every rule listed
    expect(page.get_by_label("Only rules that were skipped or failed")).not_to_be_checked()


def test_skipped_rules_are_listed_with_their_reason(page: Page, stack: LiveStack) -> None:
    stack.emulator.set_faults(forbid_graph=["users"])
    try:
        scan_id = stack.post("/api/scans/trigger", {"subscription_id": str(uuid.uuid4())}).json()["scan_id"]
        scan = stack.wait_terminal(scan_id, 60)
    finally:
        stack.emulator.set_faults(forbid_graph=[])
    skipped = [o for o in scan["rule_outcomes"] if o["status"] == "skipped"]
    assert scan["status"] == "completed" and skipped
    sign_in(page, stack.token("reader"))
    page.goto(f"/#/scans/{scan_id}")
    expect(page.locator("#outcomes-summary")).to_contain_text(f"{len(skipped)} skipped")
    expect(page.locator("#outcomes-summary")).to_contain_text("not a clean result")
    expect(page.get_by_label("Only rules that were skipped or failed")).to_be_checked()
    rows = page.locator("#outcomes-table tbody tr[data-rule-id]")
    expect(rows).to_have_count(len(skipped))
    first = skipped[0]
    the_row = page.locator(f'#outcomes-table tbody tr[data-rule-id="{first["rule_id"]}"]')
    expect(the_row.locator(".badge")).to_have_text("skipped")
    expect(the_row.locator("td.reason")).to_have_text(first["reason"])
    assert "users" in first["reason"]
