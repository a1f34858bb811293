"""CSV export: one row per result, RFC 4180 (comma, CRLF, double quotes doubled), UTF-8, and
safe to open in a spreadsheet.

Formula injection: a cell beginning with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return,
which some spreadsheets skip before looking) is read as a formula by Excel, LibreOffice and
Google Sheets. Resource names and tags are chosen by whoever can create resources, so every
such cell is prefixed with a single quote (OWASP "CSV Injection"), which spreadsheets show as text.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Iterator

from scanner.exports.records import scan_records
from store.clock import iso

COLUMNS = (
    "scan_id", "subscription_id", "status", "muted", "mute_id", "rule_id", "rule_name", "severity", "category",
    "resource_id", "resource_name", "resource_type", "resource_group", "location", "frameworks", "description",
    "remediation", "first_seen_at", "new", "finding_key",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A value as CSV cell text, neutralised if a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, dict):
        text = "; ".join(f"{name}: {', '.join(controls)}" for name, controls in value.items() if controls)
    else:
        text = iso(value) if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows_csv(header: Iterable[str], rows: Iterable[Iterable[Any]], batch: int = 200) -> Iterator[str]:
    """RFC 4180 text for a header and rows, in chunks of ``batch`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([safe_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def records_csv(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """The CSV of result records (:mod:`scanner.exports.records`): a scan's or a filter's."""
    def values(record: dict[str, Any]) -> list[Any]:
        return [record.get("is_new") if column == "new" else record.get(column) for column in COLUMNS]

    return rows_csv(COLUMNS, (values(r) for r in records))


def scan_csv(url: str, scan_id: str) -> Iterator[str]:
    return records_csv(scan_records(url, scan_id))
