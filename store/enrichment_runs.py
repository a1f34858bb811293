"""CVE re-enrichment runs, and a scan's ``cve_enrichment_status`` / ``cve_enrichment_error``.

A re-enrichment is a supervised run like a scan (:class:`store.runs.RunStore`: the same
claim, fail, cancel, requeue and launch-slot transitions); what is its own is that every
change of a run also sets its scan's enrichment status, in the same transaction:

    run:  pending -> running -> completed | failed | cancelled;  pending -> failed | cancelled
    scan: cve_enrichment_status PENDING -> ENRICHING -> COMPLETED | FAILED (or SKIPPED)

One active run per scan is a partial unique index (``uq_enrichment_runs_active_scan``): two
concurrent ``POST /enrich`` cannot both insert, whatever worker or host they reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.db import read_scope, session_scope
from store.models import EnrichmentRun, Finding, Scan
from store.runs import RunStore, won
from store.status import CveStatus, RunStatus

_FINDINGS = Finding.__table__
_UPDATE_FINDING = (
    update(_FINDINGS)
    .where(_FINDINGS.c.id == bindparam("finding_id"))
    .values(
        cve_references=bindparam("cve_references"),
        cvss_score=bindparam("cvss_score"),
        exploit_available=bindparam("exploit_available"),
    )
)
# what a run's status means for its scan's cve_enrichment_status
_SCAN_STATUS = {
    RunStatus.PENDING: CveStatus.PENDING,
    RunStatus.RUNNING: CveStatus.ENRICHING,
    RunStatus.FAILED: CveStatus.FAILED,
    RunStatus.CANCELLED: CveStatus.FAILED,
}


class ScanNotEnrichable(Exception):
    """Only a completed scan has findings to enrich."""

    def __init__(self, scan_id: str, status: str) -> None:
        super().__init__(f"scan {scan_id} is {status}; only a completed scan can be enriched")
        self.scan_id = scan_id
        self.status = status


class EnrichmentActive(Exception):
    """The scan already has a pending or running re-enrichment."""

    def __init__(self, scan_id: str) -> None:
        super().__init__(f"scan {scan_id} is already being enriched")
        self.scan_id = scan_id


@dataclass(frozen=True)
class CveUpdate:
    """What enrichment found for one stored finding."""

    finding_id: int
    cve_references: list[dict[str, Any]]
    cvss_score: float | None
    exploit_available: bool

    def params(self) -> dict[str, Any]:
        return {
            "finding_id": self.finding_id,
            "cve_references": self.cve_references,
            "cvss_score": self.cvss_score,
            "exploit_available": self.exploit_available,
        }


class EnrichmentStore(RunStore[EnrichmentRun]):
    model = EnrichmentRun
    key_name = "id"

    # ------------------------------------------------------------------------ creation
    def start_run(self, scan_id: str) -> EnrichmentRun:
        """Queue a re-enrichment of a completed scan (a launcher then gives it a slot).

        Raises ``LookupError`` (unknown scan), :class:`ScanNotEnrichable` or
        :class:`EnrichmentActive`. The scan's status is read in the same transaction; a
        completed scan never changes status again, so that read cannot go stale.
        """
        values = {"scan_id": scan_id, "status": RunStatus.PENDING, "created_at": utcnow(), "findings_enriched": 0,
                  "attempt": 1, "cancel_requested": False}
        try:
            with session_scope(self.url) as session:
                status = session.scalar(select(Scan.status).where(Scan.scan_id == scan_id))
                if status is None:
                    raise LookupError(scan_id)
                if status != RunStatus.COMPLETED:
                    raise ScanNotEnrichable(scan_id, status)
                run_id = session.execute(insert(EnrichmentRun).values(**values).returning(EnrichmentRun.id)).scalar_one()
                _set_scan_status(session, scan_id, CveStatus.PENDING, None)
        except IntegrityError:
            raise EnrichmentActive(scan_id) from None
        return EnrichmentRun(id=run_id, **values)

    # ------------------------------------------------------------------------ process side
    def claim(self, scan_id: str, *, pid: int, host: str, process_create_time: float | None) -> int | None:
        """``pending -> running`` for the scan's queued or reserved run; the run id, or None."""
        return self._claim(EnrichmentRun.scan_id == scan_id, pid=pid, host=host,
                           process_create_time=process_create_time)

    def complete(self, run_id: int, updates: Sequence[CveUpdate], *, skipped: bool = False) -> bool:
        """Store the CVEs found and mark the run and its scan's enrichment completed, atomically.

        If the run is no longer ``running`` (the supervisor failed it meanwhile) nothing is
        written: the findings keep what they had. ``skipped``: no finding names software.
        """
        with session_scope(self.url) as session:
            scan_id = session.scalar(select(EnrichmentRun.scan_id).where(EnrichmentRun.id == run_id))
            if scan_id is None or not won(session.execute(
                update(EnrichmentRun)
                .where(EnrichmentRun.id == run_id, EnrichmentRun.status == RunStatus.RUNNING)
                .values(status=RunStatus.COMPLETED, completed_at=utcnow(), exit_code=0,
                        findings_enriched=len(updates))
                .execution_options(synchronize_session=False)
            )):
                session.rollback()
                return False
            if updates:
                session.execute(_UPDATE_FINDING, [u.params() for u in updates])
            _set_scan_status(session, scan_id, CveStatus.SKIPPED if skipped else CveStatus.COMPLETED, None)
            return True

    def after_transition(self, session: Session, key: Any, values: dict[str, Any]) -> None:
        status = values.get("status")
        if status not in _SCAN_STATUS:
            return
        scan_id = select(EnrichmentRun.scan_id).where(EnrichmentRun.id == key).scalar_subquery()
        _set_scan_status(session, scan_id, _SCAN_STATUS[status], values.get("error_message"))

    # ------------------------------------------------------------------------ queries
    def runs_for_scan(self, scan_id: str) -> list[EnrichmentRun]:
        """Every run of the scan, newest first."""
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(EnrichmentRun).where(EnrichmentRun.scan_id == scan_id).order_by(EnrichmentRun.id.desc())
            ))

    def software_findings(self, scan_id: str) -> list[tuple[int, dict[str, Any]]]:
        """``(finding id, metadata)`` of the scan's findings (the caller picks those naming software)."""
        with read_scope(self.url) as session:
            rows = session.execute(select(_FINDINGS.c.id, _FINDINGS.c.metadata).where(_FINDINGS.c.scan_id == scan_id))
            return [(int(r[0]), r[1] or {}) for r in rows]


def _set_scan_status(session: Session, scan_id: Any, status: CveStatus, error: str | None) -> None:
    session.execute(
        update(Scan)
        .where(Scan.scan_id == scan_id, Scan.status == RunStatus.COMPLETED)
        .values(cve_enrichment_status=status, cve_enrichment_error=error)
        .execution_options(synchronize_session=False)
    )
