"""Scans: creation, progress, results, cancellation, and the queries that list them.

The lifecycle transitions every supervised run shares (claim, fail, cancel, requeue, launch
slots) live in :class:`store.runs.RunStore`; this module adds what only a scan has: one active
scan per subscription, progress fields, and results stored atomically with ``completed``.

    pending -> running -> completed | failed | cancelled
    pending -> cancelled | failed
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.db import get_engine, read_scope, read_scope_engine, session_scope
from store.models import Finding, RuleOutcome, Scan
from store.runs import RunStore, short_message, won
from store.status import ACTIVE, CveStatus, Phase, RunStatus, Trigger

# Statements on the trigger and poll paths, built once: constructing them per call cost more
# than running them on SQLite.
_SCANS = Scan.__table__
_INSERT_SCAN = insert(_SCANS)  # type: ignore[arg-type]
_SELECT_SCAN = select(_SCANS).where(_SCANS.c.scan_id == bindparam("scan_id"))
_OUTCOMES = RuleOutcome.__table__
_SELECT_OUTCOMES = select(_OUTCOMES).where(_OUTCOMES.c.scan_id == bindparam("scan_id")).order_by(_OUTCOMES.c.rule_id)
_PROGRESS_FIELDS = frozenset({"phase", "rules_completed", "total_rules", "progress", "resources_collected"})


class ActiveScanExists(Exception):
    """The subscription already has a pending or running scan."""

    def __init__(self, subscription_id: str, scan_id: str | None) -> None:
        super().__init__(f"subscription {subscription_id} already has an active scan {scan_id}")
        self.subscription_id = subscription_id
        self.scan_id = scan_id


class ScanStore(RunStore[Scan]):
    """Scan lifecycle operations against one database URL."""

    model = Scan
    key_name = "scan_id"
    reserved_values = {"phase": Phase.STARTING}
    queued_values = {"phase": Phase.QUEUED}

    # ------------------------------------------------------------------------ creation
    def create(self, subscription_id: str, *, trigger: str = Trigger.API, rules: list[str] | None = None,
               scan_id: str | None = None, launched_by: str | None = None) -> Scan:
        """Insert a ``pending`` scan, or raise :class:`ActiveScanExists`.

        The partial unique index on active scans decides races; we only read afterwards to
        name the winner in the error. ``launched_by`` (a host id) creates the record with that
        host's launch already taken: a foreground ``scanner.run --subscription`` runs its own
        record, and no supervisor may launch it meanwhile (if the process dies before claiming
        it, the supervisor queues it again after its launch timeout, as for any launch).
        """
        now = utcnow()
        values: dict[str, Any] = {
            "scan_id": scan_id or str(uuid.uuid4()),
            "subscription_id": subscription_id.lower(),
            "status": RunStatus.PENDING,
            "phase": Phase.QUEUED,
            "created_at": now,
            "host": launched_by,
            "launched_at": now if launched_by is not None else None,
            "trigger": trigger,
            "rules": rules,
            "attempt": 1,
            "cancel_requested": False,
            "rules_completed": 0,
            "total_rules": 0,
            "progress": 0,
            "resources_collected": 0,
            "total_findings": 0,
            "cve_enrichment_status": CveStatus.PENDING,
        }
        try:
            # a Core INSERT: every trigger pays for this, and the ORM unit of work doubled it
            with get_engine(self.url).begin() as conn:
                conn.execute(_INSERT_SCAN, values)
        except IntegrityError:
            raise ActiveScanExists(subscription_id, self.active_scan_id(subscription_id)) from None
        return Scan(**values)

    def active_scan_id(self, subscription_id: str) -> str | None:
        with read_scope(self.url) as session:
            return session.scalar(
                select(Scan.scan_id).where(Scan.subscription_id == subscription_id.lower(), Scan.status.in_(ACTIVE))
            )

    # ------------------------------------------------------------------------ process side
    def claim(self, scan_id: str, *, pid: int, host: str, process_create_time: float | None) -> bool:
        """``pending -> running`` for the process that will run it; false if someone else has it."""
        return self._claim(Scan.scan_id == scan_id, pid=pid, host=host, process_create_time=process_create_time,
                           phase=Phase.STARTING) is not None

    def progress(self, scan_id: str, **values: Any) -> bool:
        """Progress fields of a running scan (phase, counters); refuses other fields."""
        unknown = set(values) - _PROGRESS_FIELDS
        if unknown:
            raise ValueError(f"not progress fields: {sorted(unknown)}")
        return self._transition(scan_id, (RunStatus.RUNNING,), values)

    def complete_with_results(
        self,
        scan_id: str,
        *,
        findings: list[dict[str, Any]],
        outcomes: list[dict[str, Any]],
        score: float | None,
        cve_enrichment_status: str = CveStatus.SKIPPED,
        cve_enrichment_error: str | None = None,
        chunk_size: int = 1000,
    ) -> bool:
        """Store findings and rule outcomes and mark the scan completed, atomically.

        If the scan is no longer ``running`` (cancelled, or failed by the supervisor meanwhile)
        the whole transaction is rolled back: a scan's findings exist only if it completed.
        """
        now = utcnow()
        with session_scope(self.url) as session:
            result = session.execute(
                update(Scan)
                .where(Scan.scan_id == scan_id, Scan.status == RunStatus.RUNNING)
                .values(
                    status=RunStatus.COMPLETED,
                    completed_at=now,
                    total_findings=len(findings),
                    score=score,
                    phase=Phase.DONE,
                    progress=100,
                    exit_code=0,
                    cve_enrichment_status=cve_enrichment_status,
                    cve_enrichment_error=short_message(cve_enrichment_error) if cve_enrichment_error else None,
                    **self.finish_values(session, scan_id, now),
                )
                .execution_options(synchronize_session=False)
            )
            if not won(result):
                session.rollback()
                return False
            if outcomes:
                session.execute(insert(RuleOutcome), [{"scan_id": scan_id, **o} for o in outcomes])
            for start in range(0, len(findings), chunk_size):
                # the table, not the entity: rows are keyed by column name ("metadata")
                session.execute(insert(Finding.__table__), findings[start : start + chunk_size])  # type: ignore[arg-type]
            return True

    def finish_values(self, session: Session, key: Any, now: datetime) -> dict[str, Any]:
        started = session.scalar(select(Scan.started_at).where(Scan.scan_id == key))
        return {"duration_seconds": round((now - started).total_seconds(), 3) if started else None}

    def requeue_values(self) -> dict[str, Any]:
        return {**self.queued_values, "trigger": Trigger.RETRY, "rules_completed": 0, "progress": 0}

    # ------------------------------------------------------------------------ operator side
    def stop(self, scan_id: str, attempts: int = 3) -> str | None:
        """Cancel a queued scan at once, or flag a launched or running one.

        What ``POST /api/scans/<id>/cancel`` and ``bin/openshield scans cancel`` do. Returns
        ``"cancelled_now"`` (it never started), ``"requested"`` (its process or supervisor stops
        it), the terminal status it already had, or None for an unknown scan. A scan handed to a
        process (``host`` set) cannot be cancelled here without racing that process, so it is
        flagged; one that changes state between the read and the update is looked at again.
        """
        status: str | None = None
        for _ in range(attempts):
            scan = self.get(scan_id)
            if scan is None:
                return None
            status = scan.status
            if status not in ACTIVE:
                return status
            if status == RunStatus.PENDING and scan.host is None:
                if self.cancel_queued(scan_id):
                    return "cancelled_now"
            elif self.request_cancel(scan_id):
                return "requested"
        return status

    # ------------------------------------------------------------------------ queries
    def detail(self, scan_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
        """One scan's row and its rule outcomes (``GET /api/scans/<id>``), or None.

        The hottest read of the product (dashboards poll it): plain Core selects on one
        connection, no ORM identity map, and the outcomes query only for completed scans.
        """
        with read_scope_engine(self.url).connect() as conn:
            row = conn.execute(_SELECT_SCAN, {"scan_id": scan_id}).mappings().first()
            if row is None:
                return None
            outcomes: list[dict[str, Any]] = []
            if row["status"] == RunStatus.COMPLETED:
                outcomes = [dict(r) for r in conn.execute(_SELECT_OUTCOMES, {"scan_id": scan_id}).mappings()]
        return dict(row), outcomes

    def list_scans(self, *, status: str | None = None, subscription_id: str | None = None, limit: int = 50,
                   offset: int = 0) -> tuple[int, list[Scan]]:
        """(total matching, one page newest first); ``scan_id`` breaks ``created_at`` ties so pages are stable."""
        conditions = []
        if status is not None:
            conditions.append(Scan.status == status)
        if subscription_id is not None:
            conditions.append(Scan.subscription_id == subscription_id.lower())
        with read_scope(self.url) as session:
            total = session.scalar(select(func.count()).select_from(Scan).where(*conditions))
            page = session.scalars(
                select(Scan).where(*conditions).order_by(Scan.created_at.desc(), Scan.scan_id.desc())
                .limit(limit).offset(offset)
            )
            return int(total or 0), list(page)

    def active_count_by_host(self) -> dict[str | None, int]:
        """Active scans per host (None: queued, no host yet)."""
        with read_scope(self.url) as session:
            rows = session.execute(select(Scan.host, func.count()).where(Scan.status.in_(ACTIVE)).group_by(Scan.host))
            return {host: int(count) for host, count in rows}
