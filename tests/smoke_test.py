"""Smoke test of a live OpenShield API: is this deployment answering, guarding and scanning?

    python tests/smoke_test.py --url URL --token OPERATOR_TOKEN [--subscription ID] [--timeout 120]

Run it after a deployment (App Service, ``bin/demo``): it checks that ``/health`` answers,
that the API refuses a request without a token, that it tells an unknown scan (404) from a
malformed id (400), and then runs one real scan end to end: trigger (202 and ``Location``),
poll until it ends (it must complete, evaluate every rule, find something and score 0-100),
and read its log. The token must have the ``operator`` role (trigger and log need it).

It prints one line per check and a final ``N passed, N failed`` line, and exits 0 only if
every check passed (1 otherwise, 2 on a usage error). It needs nothing but ``requests``, so it
can be copied to any machine that can reach the API; it never prints the token.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable

import requests

TERMINAL = ("completed", "failed", "cancelled")
POLL_SECONDS = 0.5
REQUEST_TIMEOUT = 15


class CheckFailed(Exception):
    """A check's expectation was not met; the message says what was seen instead."""


@dataclass
class Smoke:
    url: str
    token: str
    subscription: str | None
    timeout: float
    session: requests.Session = field(default_factory=requests.Session)
    passed: int = 0
    failed: int = 0
    scan_id: str | None = None

    # ------------------------------------------------------------------ plumbing
    def request(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if auth else {}
        return self.session.request(method, self.url + path, headers=headers, timeout=REQUEST_TIMEOUT, **kwargs)

    def check(self, name: str, run: Callable[[], str]) -> bool:
        """Run one check, print its line, count it. ``run`` returns a detail or raises."""
        try:
            detail = run()
        except CheckFailed as exc:
            return self._record(False, name, str(exc))
        except requests.RequestException as exc:
            return self._record(False, name, f"request failed: {type(exc).__name__}: {_first_line(exc)}")
        return self._record(True, name, detail)

    def skip(self, name: str, reason: str) -> None:
        """A check that could not run because an earlier one failed: counted as failed."""
        self._record(False, name, f"not run: {reason}")

    def _record(self, ok: bool, name: str, detail: str) -> bool:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
        return ok

    # ------------------------------------------------------------------ checks
    def health(self) -> str:
        response = self.request("GET", "/health", auth=False)
        expect_status(response, 200)
        body = json_of(response)
        supervisor = body.get("supervisor") or {}
        detail = f"200, status {body.get('status')}, db {body.get('db')}, supervisor alive {supervisor.get('alive')}"
        if body.get("status") != "ok":
            # A dead supervisor still answers 200 ("degraded"), but then no scan would start.
            raise CheckFailed(detail + " (expected status ok: is the supervisor running?)")
        return detail

    def needs_token(self) -> str:
        response = self.request("GET", "/api/scans", auth=False)
        expect_status(response, 401)
        if "WWW-Authenticate" not in response.headers:
            raise CheckFailed("401 without a WWW-Authenticate header")
        return "401 without a token"

    def unknown_scan(self) -> str:
        response = self.request("GET", f"/api/scans/{uuid.uuid4()}")
        expect_status(response, 404)
        return "404 for an unknown scan id"

    def malformed_id(self) -> str:
        response = self.request("GET", "/api/scans/not-a-uuid")
        expect_status(response, 400)
        return "400 for a scan id that is not a UUID"

    def trigger(self) -> str:
        body = {"subscription_id": self.subscription} if self.subscription else {}
        response = self.request("POST", "/api/scans/trigger", json=body)
        if response.status_code == 409:
            active = json_of(response).get("scan_id")
            raise CheckFailed(f"409: the subscription already has an active scan ({active}); "
                              "wait for it or cancel it, then run again")
        expect_status(response, 202)
        payload = json_of(response)
        scan_id = payload.get("scan_id")
        if not isinstance(scan_id, str) or not _is_uuid(scan_id):
            raise CheckFailed(f"202 without a scan_id: {payload}")
        location = response.headers.get("Location", "")
        if not location.endswith(f"/api/scans/{scan_id}"):
            raise CheckFailed(f"202 with Location {location!r}, expected /api/scans/{scan_id}")
        self.scan_id = scan_id
        return f"202, scan {scan_id} ({payload.get('message')})"

    def scan_completes(self) -> str:
        assert self.scan_id is not None
        started = time.monotonic()
        deadline = started + self.timeout
        last: dict[str, Any] = {}
        while True:
            response = self.request("GET", f"/api/scans/{self.scan_id}")
            expect_status(response, 200)
            last = json_of(response)
            if last.get("status") in TERMINAL:
                break
            if time.monotonic() > deadline:
                raise CheckFailed(f"still {last.get('status')} (phase {last.get('phase')}, "
                                  f"progress {last.get('progress')}%) after {self.timeout:g}s")
            time.sleep(POLL_SECONDS)
        took = time.monotonic() - started
        if last["status"] != "completed":
            raise CheckFailed(f"ended {last['status']}: {last.get('error_message')}")
        problems = []
        if last.get("rules_completed") != last.get("total_rules") or not last.get("total_rules"):
            problems.append(f"rules_completed {last.get('rules_completed')} != total_rules {last.get('total_rules')}")
        findings = last.get("total_findings")
        if not isinstance(findings, int) or findings <= 0:
            problems.append(f"total_findings {findings} (expected > 0)")
        score = last.get("score")
        if isinstance(score, bool) or not isinstance(score, (int, float)) or not 0 <= score <= 100:
            problems.append(f"score {score!r} (expected a number from 0 to 100)")
        if problems:
            raise CheckFailed("completed, but " + "; ".join(problems))
        return (f"completed in {took:.1f}s: {last['total_rules']} rules, {findings} findings, score {score}, "
                f"{last.get('resources_collected')} resources")

    def scan_log(self) -> str:
        assert self.scan_id is not None
        response = self.request("GET", f"/api/scans/{self.scan_id}/log")
        expect_status(response, 200)
        lines = json_of(response).get("lines")
        if not isinstance(lines, list) or not lines:
            raise CheckFailed(f"no log lines: {lines!r}")
        return f"{len(lines)} lines"

    # ------------------------------------------------------------------ the run
    def run(self) -> int:
        self.check("GET /health", self.health)
        self.check("GET /api/scans without a token", self.needs_token)
        self.check("GET /api/scans/<unknown id>", self.unknown_scan)
        self.check("GET /api/scans/not-a-uuid", self.malformed_id)
        if self.check("POST /api/scans/trigger", self.trigger):
            self.check("scan runs to completed", self.scan_completes)
            self.check("GET /api/scans/<id>/log", self.scan_log)
        else:
            self.skip("scan runs to completed", "the trigger failed")
            self.skip("GET /api/scans/<id>/log", "the trigger failed")
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def expect_status(response: requests.Response, status: int) -> None:
    if response.status_code != status:
        raise CheckFailed(f"HTTP {response.status_code}, expected {status}: {_error_text(response)}")


def json_of(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        text = response.text[:200]
        raise CheckFailed(f"HTTP {response.status_code} with a body that is not JSON: {text!r}") from None
    if not isinstance(body, dict):
        raise CheckFailed(f"HTTP {response.status_code} with JSON that is not an object: {body!r:.200}")
    return body


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict) and "error" in body:
            return str(body["error"])
    except ValueError:
        pass
    return repr(response.text[:200])


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _subscription(value: str) -> str:
    if not _is_uuid(value):
        raise argparse.ArgumentTypeError(f"not a subscription UUID: {value!r}")
    return value


def _positive(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError("must be positive")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python tests/smoke_test.py",
                                     description="Smoke-test a live OpenShield API with one real scan.")
    parser.add_argument("--url", required=True, help="base URL of the API, e.g. http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="an operator token (bin/openshield token --role operator)")
    parser.add_argument("--subscription", type=_subscription,
                        help="subscription to scan (default: the server's AZURE_SUBSCRIPTION_ID)")
    parser.add_argument("--timeout", type=_positive, default=120.0,
                        help="seconds to wait for the scan to end (default 120)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = args.url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        print(f"error: --url must start with http:// or https://, not {args.url!r}", file=sys.stderr)
        return 2
    with requests.Session() as session:
        return Smoke(url, args.token, args.subscription, args.timeout, session=session).run()


if __name__ == "__main__":
    sys.exit(main())
