"""What changed between two completed scans of one subscription (read-only, no Flask).

Failures are compared by finding key (:mod:`store.result_keys`): ``new`` failed in the scan but
not in the one compared with, ``resolved`` failed there and not any more, ``still_failing``
failed in both. Muted failures are listed like any other (they carry ``muted``) and counted in
``muted`` so that accepting a risk never hides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from store.db import read_scope_engine
from store.models import Finding, Scan
from store.status import RunStatus

_SCANS = Scan.__table__
_FINDINGS = Finding.__table__
PREVIOUS = "previous"


class DiffError(Exception):
    """The diff cannot be made; ``status`` is the HTTP-like code (404, 409, 400)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ScanDiff:
    scan_id: str
    against: str | None  # None: the scan is its subscription's first completed scan
    new: list[dict[str, Any]]
    resolved: list[dict[str, Any]]
    still_failing: int
    muted: int


def _scan(conn: Any, scan_id: str) -> Any:
    return conn.execute(
        select(_SCANS.c.scan_id, _SCANS.c.subscription_id, _SCANS.c.status, _SCANS.c.completed_at)
        .where(_SCANS.c.scan_id == scan_id)
    ).first()


def _completed(conn: Any, scan_id: str, role: str) -> Any:
    row = _scan(conn, scan_id)
    if row is None:
        raise DiffError(404, f"scan {scan_id} not found")
    if row.status != RunStatus.COMPLETED:
        raise DiffError(409, f"{role} scan {scan_id} is {row.status}; a diff needs completed scans")
    return row


def _previous(conn: Any, scan: Any) -> str | None:
    return conn.execute(
        select(_SCANS.c.scan_id)
        .where(_SCANS.c.subscription_id == scan.subscription_id, _SCANS.c.status == RunStatus.COMPLETED,
               _SCANS.c.scan_id != scan.scan_id,
               (_SCANS.c.completed_at < scan.completed_at)
               | ((_SCANS.c.completed_at == scan.completed_at) & (_SCANS.c.scan_id < scan.scan_id)))
        .order_by(_SCANS.c.completed_at.desc(), _SCANS.c.scan_id.desc())
        .limit(1)
    ).scalar()


def _failures(conn: Any, scan_id: str) -> dict[str, dict[str, Any]]:
    rows = conn.execute(select(_FINDINGS).where(_FINDINGS.c.scan_id == scan_id)).mappings()
    return {str(r["finding_key"] or ""): dict(r) for r in rows}


def scan_diff(url: str, scan_id: str, against: str = PREVIOUS) -> ScanDiff:
    """The diff of ``scan_id`` against a scan id or ``"previous"`` (the subscription's completed
    scan before it; none: every failure is new). Raises :class:`DiffError`."""
    with read_scope_engine(url).connect() as conn:
        scan = _completed(conn, scan_id, "the")
        if against == PREVIOUS:
            other_id = _previous(conn, scan)
        else:
            other = _completed(conn, against, "the compared")
            if other.subscription_id != scan.subscription_id:
                raise DiffError(400, f"scan {against} is of subscription {other.subscription_id}, not "
                                     f"{scan.subscription_id}: only scans of one subscription can be compared")
            other_id = other.scan_id
        now = _failures(conn, scan_id)
        before = _failures(conn, other_id) if other_id is not None else {}
    order = sorted
    return ScanDiff(
        scan_id=scan_id,
        against=other_id,
        new=[now[k] for k in order(now.keys() - before.keys())],
        resolved=[before[k] for k in order(before.keys() - now.keys())],
        still_failing=len(now.keys() & before.keys()),
        muted=sum(1 for row in now.values() if row["muted"]),
    )
