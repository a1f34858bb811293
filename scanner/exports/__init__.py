"""Exports of one completed scan: CSV, JSON-OCSF (Detection Finding events), a self-contained
HTML report, and a compliance CSV per framework.

Every exporter is a generator of text chunks over :func:`records.scan_records`, which streams
the scan's results from the database in batches, so a 10,000-resource scan is never held in
memory as a whole: the API streams the chunks as the response body, ``bin/openshield scans
export`` and ``python -m scanner.run --output-dir`` write them to files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

FORMATS = ("csv", "ocsf", "html")
# what --output-dir writes when --output-formats is not given
DEFAULT_OUTPUT_FORMATS = FORMATS


@dataclass(frozen=True)
class Format:
    media_type: str
    extension: str


FORMAT_INFO = {
    "csv": Format("text/csv; charset=utf-8", "csv"),
    "ocsf": Format("application/json", "ocsf.json"),
    "html": Format("text/html; charset=utf-8", "html"),
}


class ExportError(Exception):
    """The export cannot be made; ``status`` is the HTTP-like code (404 unknown scan, 409 not
    completed)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def exporter(fmt: str) -> Callable[[str, str], Iterator[str]]:
    """The chunk generator of one format: ``exporter("csv")(database_url, scan_id)``."""
    if fmt == "csv":
        from scanner.exports.csv_format import scan_csv

        return scan_csv
    if fmt == "ocsf":
        from scanner.exports.ocsf_format import scan_ocsf

        return scan_ocsf
    if fmt == "html":
        from scanner.exports.html_report import scan_html

        return scan_html
    raise ValueError(f"format must be one of {', '.join(FORMATS)}")


# what an export of a findings filter (GET /api/findings/export) can be: the HTML report is a
# scan's report (score, outcomes, diff), which a filter across subscriptions does not have
FILTER_FORMATS = ("csv", "ocsf")


def filter_exporter(fmt: str) -> Callable[[Iterable[dict[str, Any]]], Iterator[str]]:
    """The chunk generator of one format over result records (:func:`records.filter_records`)."""
    if fmt == "csv":
        from scanner.exports.csv_format import records_csv

        return records_csv
    if fmt == "ocsf":
        from scanner.exports.ocsf_format import records_ocsf

        return records_ocsf
    raise ValueError(f"format must be one of {', '.join(FILTER_FORMATS)}")


def check_exportable(url: str, scan_id: str) -> None:
    """Raise :class:`ExportError` unless the scan exists and completed (before streaming starts,
    so the API can still answer 404 / 409)."""
    from store.findings import FindingsQuery
    from store.status import RunStatus

    status = FindingsQuery(url).scan_status(scan_id)
    if status is None:
        raise ExportError(404, f"scan {scan_id} not found")
    if status != RunStatus.COMPLETED:
        raise ExportError(409, f"scan {scan_id} is {status}; only a completed scan has results to export")


def parse_formats(raw: str) -> tuple[str, ...]:
    """``"csv,html"`` -> ``("csv", "html")``; ``ValueError`` naming an unknown format."""
    names = tuple(dict.fromkeys(part.strip().lower() for part in raw.split(",") if part.strip()))
    unknown = [n for n in names if n not in FORMATS]
    if not names or unknown:
        raise ValueError(f"output formats must be among {', '.join(FORMATS)} (got {raw!r})")
    return names


def file_name(scan_id: str, fmt: str) -> str:
    return f"openshield-{scan_id}.{FORMAT_INFO[fmt].extension}"


def write_exports(url: str, scan_id: str, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write each format to ``out_dir/openshield-<scan_id>.<ext>`` (temp file + rename)."""
    check_exportable(url, scan_id)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        target = out_dir / file_name(scan_id, fmt)
        partial = target.with_name(target.name + ".partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            for chunk in exporter(fmt)(url, scan_id):
                handle.write(chunk)
        partial.replace(target)
        written.append(target)
    return written
