"""The HTML report: one self-contained file (inline CSS, no script, no external resource,
printable) with the score, failures per severity, the compliance summary per framework, the
failures new since the previous scan, the open failures grouped by rule with their resources,
and the muted ones with the mute's justification.

Rendered by Jinja2 with autoescaping on: resource names, tags and details come from whoever can
create Azure resources, and must reach the page as text, never as markup. The template is
rendered with ``generate()`` over streamed records (three passes over the failures), so the
whole scan is never in memory.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby
from typing import Any, Iterator

from jinja2 import Environment

from scanner.compliance import tally_controls
from scanner.exports.records import scan_records
from scanner.rules import all_rules
from scanner.rules.support.frameworks import FRAMEWORKS
from store.clock import iso
from store.findings import FindingsQuery
from store.status import SEVERITIES

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenShield report: subscription {{ scan.subscription_id }}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1b1f24; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccd; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { border: 1px solid #d0d7de; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; } td.num { text-align: right; }
.meta { color: #57606a; } .score { font-size: 2rem; font-weight: 700; }
.sev { display: inline-block; min-width: 5.5rem; font-weight: 600; }
.CRITICAL { color: #8b0000; } .HIGH { color: #c62828; } .MEDIUM { color: #b26a00; } .LOW { color: #2e6f9e; } .INFO { color: #57606a; }
code { font-size: 12px; word-break: break-all; }
@media print { body { margin: 0; } h2 { break-after: avoid; } tr { break-inside: avoid; } }
</style>
</head>
<body>
<h1>OpenShield security posture report</h1>
<p class="meta">Subscription {{ scan.subscription_id }} &middot; scan {{ scan.scan_id }} &middot; completed {{ completed_at }}</p>

<h2>Summary</h2>
<p><span class="score">{{ score }}</span> / 100 score (muted failures left out)</p>
<table>
<tr><th>Severity</th><th>Open failures</th></tr>
{% for severity in severities %}<tr><td class="{{ severity }}">{{ severity }}</td><td class="num">{{ open_counts[severity] }}</td></tr>
{% endfor %}
<tr><td>Muted (accepted risk)</td><td class="num">{{ muted_count }}</td></tr>
</table>

<h2>Compliance</h2>
<table>
<tr><th>Framework</th><th>Controls</th><th>Passed</th><th>Failed</th><th>Not evaluated</th></tr>
{% for row in compliance %}<tr><td>{{ row.name }}</td><td class="num">{{ row.controls }}</td><td class="num">{{ row.passed }}</td><td class="num">{{ row.failed }}</td><td class="num">{{ row.not_evaluated }}</td></tr>
{% endfor %}
</table>

<h2>New since the previous scan</h2>
{% set ns = namespace(any=false) %}
<table>
<tr><th>Severity</th><th>Rule</th><th>Resource</th></tr>
{% for f in new_failures %}{% set ns.any = true %}<tr><td class="{{ f.severity }}">{{ f.severity }}</td><td>{{ f.rule_id }} {{ f.rule_name }}</td><td>{{ f.resource_name }}<br><code>{{ f.resource_id }}</code></td></tr>
{% endfor %}
</table>
{% if not ns.any %}<p>No new failures.</p>{% endif %}

<h2>Open failures by rule</h2>
{% for rule, rows in open_groups %}
<h3><span class="sev {{ rule.severity }}">{{ rule.severity }}</span> {{ rule.rule_id }} &middot; {{ rule.rule_name }}</h3>
<p>{{ rule.remediation }}</p>
<table>
<tr><th>Resource</th><th>Group</th><th>Location</th><th>Detail</th><th>First seen</th></tr>
{% for f in rows %}<tr><td>{{ f.resource_name }}<br><code>{{ f.resource_id }}</code></td><td>{{ f.resource_group }}</td><td>{{ f.location or "" }}</td><td>{{ f.description }}</td><td>{{ f.first_seen }}</td></tr>
{% endfor %}
</table>
{% endfor %}

<h2>Muted (accepted risks)</h2>
<table>
<tr><th>Rule</th><th>Resource</th><th>Mute</th><th>Justification</th></tr>
{% for f in muted_failures %}<tr><td>{{ f.rule_id }} {{ f.rule_name }}</td><td>{{ f.resource_name }}<br><code>{{ f.resource_id }}</code></td><td>#{{ f.mute_id }}</td><td>{{ justifications.get(f.mute_id, "") }}</td></tr>
{% endfor %}
</table>
<p class="meta">{{ pass_count }} passed and {{ not_evaluated_count }} not evaluated results are in the CSV and OCSF exports.</p>
</body>
</html>
"""

_ENV = Environment(autoescape=True, trim_blocks=False)
_TEMPLATE = _ENV.from_string(TEMPLATE)


def _compliance(url: str, scan_id: str) -> list[dict[str, Any]]:
    outcomes = FindingsQuery(url).outcomes([scan_id])
    rows = []
    for framework in FRAMEWORKS:
        controls: dict[str, list[str]] = {}
        for rule in all_rules():
            for control in rule.frameworks.get(framework.key, ()):
                controls.setdefault(control, []).append(rule.id)
        statuses = Counter(t.status for t in tally_controls(controls, [scan_id], outcomes))
        rows.append({"name": framework.name, "controls": sum(statuses.values()), "passed": statuses["passed"],
                     "failed": statuses["failed"], "not_evaluated": statuses["not_evaluated"]})
    return rows


def _counts(url: str, scan_id: str) -> tuple[Counter[str], int, Counter[str], set[int]]:
    """Open failures per severity, muted failures, other results per status, mute ids (one pass)."""
    open_counts: Counter[str] = Counter()
    statuses: Counter[str] = Counter()
    mute_ids: set[int] = set()
    muted = 0
    for record in scan_records(url, scan_id):
        if record["status"] != "FAIL":
            statuses[record["status"]] += 1
        elif record.get("muted"):
            muted += 1
            if record.get("mute_id") is not None:
                mute_ids.add(int(record["mute_id"]))
        else:
            open_counts[record["severity"]] += 1
    return open_counts, muted, statuses, mute_ids


def _with_first_seen(record: dict[str, Any]) -> dict[str, Any]:
    record["first_seen"] = iso(record.get("first_seen_at")) or ""
    return record


def scan_html(url: str, scan_id: str) -> Iterator[str]:
    query = FindingsQuery(url)
    scan = query.scan_row(scan_id) or {}
    open_counts, muted, statuses, mute_ids = _counts(url, scan_id)

    def failures(keep: Any) -> Iterator[dict[str, Any]]:
        return (_with_first_seen(r) for r in scan_records(url, scan_id, failures_only=True) if keep(r))

    def open_groups() -> Iterator[tuple[dict[str, Any], Iterator[dict[str, Any]]]]:
        for _, rows in groupby(failures(lambda r: not r.get("muted")), key=lambda r: r["rule_id"]):
            first = next(rows)
            yield first, _chain(first, rows)

    return _TEMPLATE.generate(
        scan=scan,
        completed_at=iso(scan.get("completed_at")),
        score="-" if scan.get("score") is None else scan["score"],
        severities=SEVERITIES,
        open_counts=open_counts,
        muted_count=muted,
        compliance=_compliance(url, scan_id),
        new_failures=failures(lambda r: r.get("is_new") and not r.get("muted")),
        open_groups=open_groups(),
        muted_failures=failures(lambda r: r.get("muted")),
        justifications=query.mute_justifications(sorted(mute_ids)),
        pass_count=statuses["PASS"],
        not_evaluated_count=statuses["NOT_EVALUATED"],
    )


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest
