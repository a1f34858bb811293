"""The one module that changes CVE enrichment state: re-enrichment runs and a scan's
``cve_enrichment_status`` / ``cve_enrichment_error``.

Like :mod:`api.models.scan_state`, every transition is one conditional UPDATE that reports
whether it won, so a finishing enrichment process and the supervisor reaping it never both win.
A run and its scan's enrichment status change in the same transaction.

    run:  pending -> running -> completed | failed;  pending -> failed
    scan: cve_enrichment_status PENDING -> ENRICHING -> COMPLETED | FAILED (or SKIPPED)

One active run per scan is a partial unique index (``uq_enrichment_runs_active_scan``): two
concurrent ``POST /enrich`` cannot both insert, whatever worker or host they reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.models.base import utcnow
from api.models.db import read_scope, session_scope
from api.models.enrichment import RUN_ACTIVE_STATUSES, EnrichmentRun
from api.models.finding import Finding
from api.models.scan import Scan
from api.models.scan_state import _short, _won

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


@dataclass
class EnrichmentStore:
    url: str

    # ------------------------------------------------------------------ creation
    def start_run(self, scan_id: str, *, host: str) -> EnrichmentRun:
        """Record a re-enrichment of a completed scan, launched by ``host`` now.

        Raises ``LookupError`` (unknown scan), :class:`ScanNotEnrichable` or
        :class:`EnrichmentActive`. The scan's status is read in the same transaction; a
        completed scan never changes status again, so that read cannot go stale.
        """
        now = utcnow()
        values = {"scan_id": scan_id, "status": "pending", "created_at": now, "host": host, "launched_at": now,
                  "findings_enriched": 0}
        try:
            with session_scope(self.url) as session:
                status = session.scalar(select(Scan.status).where(Scan.scan_id == scan_id))
                if status is None:
                    raise LookupError(scan_id)
                if status != "completed":
                    raise ScanNotEnrichable(scan_id, status)
                run_id = session.execute(insert(EnrichmentRun).values(**values).returning(EnrichmentRun.id)).scalar_one()
                self._scan_status(session, scan_id, "PENDING", None)
        except IntegrityError:
            raise EnrichmentActive(scan_id) from None
        return EnrichmentRun(id=run_id, **values)

    # -------------------------------------------------------------- transitions
    def claim(self, scan_id: str, *, pid: int, host: str, process_create_time: float | None) -> int | None:
        """``pending -> running`` for the enrichment process of ``host``; the run id, or None."""
        now = utcnow()
        with session_scope(self.url) as session:
            run_id = session.execute(
                update(EnrichmentRun)
                .where(EnrichmentRun.scan_id == scan_id, EnrichmentRun.status == "pending", EnrichmentRun.host == host)
                .values(status="running", started_at=now, heartbeat_at=now, pid=pid,
                        process_create_time=process_create_time)
                .returning(EnrichmentRun.id)
            ).scalar()
            if run_id is not None:
                self._scan_status(session, scan_id, "ENRICHING", None)
            return run_id

    def heartbeat(self, run_id: int) -> bool:
        """Touch ``heartbeat_at``; false once the run is no longer running (the supervisor failed it)."""
        with session_scope(self.url) as session:
            result = session.execute(
                update(EnrichmentRun)
                .where(EnrichmentRun.id == run_id, EnrichmentRun.status == "running")
                .values(heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return _won(result)

    def complete(self, run_id: int, updates: Sequence[CveUpdate], *, skipped: bool = False) -> bool:
        """Store the CVEs found and mark the run and its scan's enrichment completed, atomically.

        If the run is no longer ``running`` (the supervisor failed it meanwhile) nothing is
        written: the findings keep what they had. ``skipped``: no finding names software.
        """
        now = utcnow()
        with session_scope(self.url) as session:
            run = session.get(EnrichmentRun, run_id)
            won = _won(session.execute(
                update(EnrichmentRun)
                .where(EnrichmentRun.id == run_id, EnrichmentRun.status == "running")
                .values(status="completed", completed_at=now, exit_code=0, findings_enriched=len(updates))
                .execution_options(synchronize_session=False)
            ))
            if not won or run is None:
                session.rollback()
                return False
            if updates:
                session.execute(_UPDATE_FINDING, [u.params() for u in updates])
            self._scan_status(session, run.scan_id, "SKIPPED" if skipped else "COMPLETED", None)
            return True

    def fail(self, run_id: int, message: str, *, exit_code: int | None = None,
             from_statuses: Iterable[str] = RUN_ACTIVE_STATUSES) -> bool:
        """``pending|running -> failed``; the scan's enrichment becomes ``FAILED`` with the message."""
        message = _short(message)
        with session_scope(self.url) as session:
            run = session.get(EnrichmentRun, run_id)
            won = _won(session.execute(
                update(EnrichmentRun)
                .where(EnrichmentRun.id == run_id, EnrichmentRun.status.in_(tuple(from_statuses)))
                .values(status="failed", completed_at=utcnow(), error=message, exit_code=exit_code)
                .execution_options(synchronize_session=False)
            ))
            if won and run is not None:
                self._scan_status(session, run.scan_id, "FAILED", message)
            return won

    @staticmethod
    def _scan_status(session: Session, scan_id: str, status: str, error: str | None) -> None:
        session.execute(
            update(Scan)
            .where(Scan.scan_id == scan_id, Scan.status == "completed")
            .values(cve_enrichment_status=status, cve_enrichment_error=error)
            .execution_options(synchronize_session=False)
        )

    # ------------------------------------------------------------------ queries
    def get(self, run_id: int) -> EnrichmentRun | None:
        with read_scope(self.url) as session:
            return session.get(EnrichmentRun, run_id)

    def runs_for_scan(self, scan_id: str) -> list[EnrichmentRun]:
        """Every run of the scan, newest first."""
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(EnrichmentRun).where(EnrichmentRun.scan_id == scan_id).order_by(EnrichmentRun.id.desc())
            ))

    def active_on_host(self, host: str) -> list[EnrichmentRun]:
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(EnrichmentRun).where(EnrichmentRun.host == host, EnrichmentRun.status.in_(RUN_ACTIVE_STATUSES))
            ))

    def active_elsewhere(self, host: str) -> list[EnrichmentRun]:
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(EnrichmentRun).where(EnrichmentRun.host != host, EnrichmentRun.status.in_(RUN_ACTIVE_STATUSES))
            ))

    def software_findings(self, scan_id: str) -> list[tuple[int, dict[str, Any]]]:
        """``(finding id, metadata)`` of the scan's findings (the caller picks those naming software)."""
        with read_scope(self.url) as session:
            rows = session.execute(select(_FINDINGS.c.id, _FINDINGS.c.metadata).where(_FINDINGS.c.scan_id == scan_id))
            return [(int(r[0]), r[1] or {}) for r in rows]
