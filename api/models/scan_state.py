"""The one module that changes a scan's status.

Every transition is a single conditional UPDATE (``... WHERE scan_id = :id AND status IN
(...)``) and reports whether it won. When the scanner finishing and the supervisor reaping
race, exactly one UPDATE matches and the other is a no-op: terminal states never change again.

    pending -> running -> completed | failed | cancelled
    pending -> cancelled | failed
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import bindparam, func, insert, or_, select, text, update
from sqlalchemy.exc import IntegrityError

from api.models.base import utcnow
from api.models.db import get_engine, read_scope, read_scope_engine, session_scope
from api.models.finding import Finding, RuleOutcome
from api.models.scan import ACTIVE_STATUSES, Scan, scan_view

MAX_ERROR_LENGTH = 500

# Statements on the trigger path, built once: constructing them per call cost more than running
# them on SQLite.
_SCANS = Scan.__table__
_INSERT_SCAN = insert(_SCANS)  # type: ignore[arg-type]
_COUNT_ACTIVE = select(func.count()).select_from(_SCANS).where(_SCANS.c.status.in_(ACTIVE_STATUSES))
_COUNT_ACTIVE_ON_HOST = _COUNT_ACTIVE.where(_SCANS.c.host == bindparam("host"))
_SELECT_SCAN = select(_SCANS).where(_SCANS.c.scan_id == bindparam("scan_id"))
_OUTCOMES = RuleOutcome.__table__
_SELECT_OUTCOMES = select(_OUTCOMES).where(_OUTCOMES.c.scan_id == bindparam("scan_id")).order_by(_OUTCOMES.c.rule_id)


class ActiveScanExists(Exception):
    """The subscription already has a pending or running scan."""

    def __init__(self, subscription_id: str, scan_id: str | None) -> None:
        super().__init__(f"subscription {subscription_id} already has an active scan {scan_id}")
        self.subscription_id = subscription_id
        self.scan_id = scan_id


@dataclass
class ScanStore:
    """Scan lifecycle operations against one database URL."""

    url: str

    # ----------------------------------------------------------------- creation
    def create(
        self,
        subscription_id: str,
        *,
        trigger: str = "api",
        rules: list[str] | None = None,
        scan_id: str | None = None,
    ) -> Scan:
        """Insert a ``pending`` scan, or raise :class:`ActiveScanExists`.

        The partial unique index on active scans decides races; we only read afterwards to
        name the winner in the error.
        """
        values: dict[str, Any] = {
            "scan_id": scan_id or str(uuid.uuid4()),
            "subscription_id": subscription_id.lower(),
            "status": "pending",
            "phase": "queued",
            "created_at": utcnow(),
            "trigger": trigger,
            "rules": rules,
            "attempt": 1,
            "cancel_requested": False,
            "rules_completed": 0,
            "total_rules": 0,
            "progress": 0,
            "resources_collected": 0,
            "total_findings": 0,
            "cve_enrichment_status": "PENDING",
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
                select(Scan.scan_id).where(
                    Scan.subscription_id == subscription_id.lower(), Scan.status.in_(ACTIVE_STATUSES)
                )
            )

    def get(self, scan_id: str) -> Scan | None:
        with read_scope(self.url) as session:
            return session.get(Scan, scan_id)

    # -------------------------------------------------------------- transitions
    def _update(self, scan_id: str, from_statuses: Iterable[str], values: dict[str, Any], *also: Any) -> bool:
        """The one shape of every transition: a conditional UPDATE that reports whether it won."""
        with session_scope(self.url) as session:
            result = session.execute(
                update(Scan)
                .where(Scan.scan_id == scan_id, Scan.status.in_(tuple(from_statuses)), *also)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            return _won(result)

    def claim(self, scan_id: str, *, pid: int, host: str, process_create_time: float | None) -> bool:
        """``pending -> running`` for the process that will run it; false if someone else has it."""
        now = utcnow()
        return self._update(
            scan_id,
            ("pending",),
            {
                "status": "running",
                "phase": "starting",
                "started_at": now,
                "heartbeat_at": now,
                "pid": pid,
                "host": host,
                "process_create_time": process_create_time,
                "error_message": None,
            },
            Scan.cancel_requested.is_(False),
            or_(Scan.host.is_(None), Scan.host == host),
        )

    def reserve_launch(self, scan_id: str, *, host: str, cap: int) -> bool:
        """Give a queued scan one of ``host``'s launch slots, if one is free.

        Counting the host's active scans and taking the slot happen in one serialised
        transaction (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: a per-host advisory lock), so two
        gunicorn workers or a worker and the supervisor cannot both fill the last slot. The
        ``host IS NULL`` condition makes a queued scan claimable exactly once across hosts.
        """
        # The common busy case (host full) costs one read and no lock; the count is taken again
        # under the lock before a slot is actually given.
        if self.count_active(host) >= cap:
            return False
        with session_scope(self.url) as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:h))"), {"h": "openshield-launch:" + host})
            active = session.scalar(
                select(func.count()).select_from(Scan).where(Scan.host == host, Scan.status.in_(ACTIVE_STATUSES))
            )
            if int(active or 0) >= cap:
                return False
            result = session.execute(
                update(Scan)
                .where(
                    Scan.scan_id == scan_id,
                    Scan.status == "pending",
                    Scan.host.is_(None),
                    Scan.cancel_requested.is_(False),
                )
                .values(host=host, phase="starting", launched_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            return _won(result)

    def release_launch(self, scan_id: str, host: str) -> bool:
        """Give a reserved slot back (the process was never started); the scan is queued again."""
        return self._update(
            scan_id, ("pending",), {"host": None, "phase": "queued", "launched_at": None},
            Scan.host == host, Scan.pid.is_(None),
        )

    def queued(self, limit: int = 50) -> list[Scan]:
        """Scans waiting for a launch slot, oldest first."""
        with read_scope(self.url) as session:
            return list(
                session.scalars(
                    select(Scan)
                    .where(Scan.status == "pending", Scan.host.is_(None), Scan.cancel_requested.is_(False))
                    .order_by(Scan.created_at, Scan.scan_id)
                    .limit(limit)
                )
            )

    def active_on_host(self, host: str) -> list[Scan]:
        with read_scope(self.url) as session:
            return list(
                session.scalars(select(Scan).where(Scan.host == host, Scan.status.in_(ACTIVE_STATUSES)))
            )

    def active_elsewhere(self, host: str) -> list[Scan]:
        with read_scope(self.url) as session:
            return list(
                session.scalars(
                    select(Scan).where(Scan.host.is_not(None), Scan.host != host, Scan.status.in_(ACTIVE_STATUSES))
                )
            )

    def requeue(self, scan_id: str, *, from_host: str, reason: str) -> bool:
        """``running -> pending`` once, after the whole machine restarted under the scan.

        The scan gets ``attempt + 1`` and ``trigger=retry``; its old process is known dead.
        """
        return self._update(
            scan_id,
            ("running",),
            {
                "status": "pending",
                "phase": "queued",
                "host": None,
                "pid": None,
                "process_create_time": None,
                "launched_at": None,
                "started_at": None,
                "heartbeat_at": None,
                "attempt": Scan.attempt + 1,
                "trigger": "retry",
                "error_message": _short(reason),
                "rules_completed": 0,
                "progress": 0,
            },
            Scan.host == from_host,
            Scan.attempt < 2,
        )

    def progress(self, scan_id: str, **values: Any) -> bool:
        """Progress fields of a running scan (phase, counters); refuses other fields."""
        allowed = {"phase", "rules_completed", "total_rules", "progress", "resources_collected", "heartbeat_at"}
        unknown = set(values) - allowed
        if unknown:
            raise ValueError(f"not progress fields: {sorted(unknown)}")
        return self._update(scan_id, ("running",), values)

    def heartbeat(self, scan_id: str) -> tuple[bool, bool]:
        """Touch ``heartbeat_at``; returns (still running, cancel requested)."""
        with session_scope(self.url) as session:
            result = session.execute(
                update(Scan)
                .where(Scan.scan_id == scan_id, Scan.status == "running")
                .values(heartbeat_at=utcnow())
                .returning(Scan.cancel_requested)
            )
            row = result.first()
            return (row is not None, bool(row[0]) if row is not None else False)

    def complete_with_results(
        self,
        scan_id: str,
        *,
        findings: list[dict[str, Any]],
        outcomes: list[dict[str, Any]],
        score: float | None,
        cve_enrichment_status: str = "SKIPPED",
        cve_enrichment_error: str | None = None,
        chunk_size: int = 1000,
    ) -> bool:
        """Store findings and rule outcomes and mark the scan completed, atomically.

        If the scan is no longer ``running`` (cancelled, or failed by the supervisor meanwhile)
        the whole transaction is rolled back: a scan's findings exist only if it completed.
        """
        now = utcnow()
        with session_scope(self.url) as session:
            scan = session.get(Scan, scan_id)
            started = scan.started_at if scan is not None else None
            result = session.execute(
                update(Scan)
                .where(Scan.scan_id == scan_id, Scan.status == "running")
                .values(
                    status="completed",
                    completed_at=now,
                    duration_seconds=round((now - started).total_seconds(), 3) if started else None,
                    total_findings=len(findings),
                    score=score,
                    phase="done",
                    progress=100,
                    exit_code=0,
                    cve_enrichment_status=cve_enrichment_status,
                    cve_enrichment_error=_short(cve_enrichment_error) if cve_enrichment_error else None,
                )
                .execution_options(synchronize_session=False)
            )
            if not _won(result):
                session.rollback()
                return False
            if outcomes:
                session.execute(insert(RuleOutcome), [{"scan_id": scan_id, **o} for o in outcomes])
            for start in range(0, len(findings), chunk_size):
                # the table, not the entity: rows are keyed by column name ("metadata")
                session.execute(insert(Finding.__table__), findings[start : start + chunk_size])  # type: ignore[arg-type]
            return True

    def fail(self, scan_id: str, message: str, *, exit_code: int | None = None,
             from_statuses: Iterable[str] = ACTIVE_STATUSES) -> bool:
        return self._finish(
            scan_id, "failed", from_statuses, {"error_message": _short(message), "exit_code": exit_code}
        )

    def cancel(self, scan_id: str, message: str, *, exit_code: int | None = None,
               from_statuses: Iterable[str] = ACTIVE_STATUSES) -> bool:
        return self._finish(
            scan_id,
            "cancelled",
            from_statuses,
            {"error_message": _short(message), "exit_code": exit_code, "cancel_requested": True},
        )

    def request_cancel(self, scan_id: str) -> bool:
        """Flag a running scan for cancellation (its process or supervisor acts on it)."""
        return self._update(scan_id, ("pending", "running"), {"cancel_requested": True})

    def stop(self, scan_id: str, attempts: int = 3) -> str | None:
        """Cancel a queued scan at once, or flag a launched/running one (``bin/openshield scans cancel``).

        Returns ``"cancelled_now"`` (it never started), ``"requested"`` (its process or supervisor
        stops it), the terminal status it already had, or None for an unknown scan. A scan that
        changes state between the read and the update is looked at again.
        """
        status: str | None = None
        for _ in range(attempts):
            scan = self.get(scan_id)
            if scan is None:
                return None
            status = scan.status
            if status not in ACTIVE_STATUSES:
                return status
            if status == "pending" and scan.host is None:
                if self.cancel(scan_id, "cancelled on request", from_statuses=("pending",)):
                    return "cancelled_now"
            elif self.request_cancel(scan_id):
                return "requested"
        return status

    def _finish(self, scan_id: str, status: str, from_statuses: Iterable[str], values: dict[str, Any]) -> bool:
        now = utcnow()
        scan = self.get(scan_id)
        duration = None
        if scan is not None and scan.started_at is not None:
            duration = round((now - scan.started_at).total_seconds(), 3)
        return self._update(
            scan_id,
            from_statuses,
            {"status": status, "completed_at": now, "duration_seconds": duration, **values},
        )

    # ------------------------------------------------------------------ queries
    def count_active(self, host: str | None = None) -> int:
        with read_scope_engine(self.url).connect() as conn:
            if host is None:
                return int(conn.execute(_COUNT_ACTIVE).scalar() or 0)
            return int(conn.execute(_COUNT_ACTIVE_ON_HOST, {"host": host}).scalar() or 0)

    def view(self, scan_id: str) -> dict[str, Any] | None:
        """The API object of one scan with its rule outcomes, or None (``GET /api/scans/<id>``).

        The hottest read of the product (dashboards poll it): plain Core selects on one
        connection, no ORM identity map, and the outcomes query only for completed scans.
        """
        with read_scope_engine(self.url).connect() as conn:
            row = conn.execute(_SELECT_SCAN, {"scan_id": scan_id}).mappings().first()
            if row is None:
                return None
            view = scan_view(dict(row))
            rows: list[Any] = []
            if row["status"] == "completed":
                rows = list(conn.execute(_SELECT_OUTCOMES, {"scan_id": scan_id}).mappings())
        view["rule_outcomes"] = [
            {k: r[k] for k in ("rule_id", "status", "reason", "evaluated_count", "failed_count", "not_evaluated_count")}
            for r in rows
        ]
        return view

    def list_scans(
        self,
        *,
        status: str | None = None,
        subscription_id: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[Scan]]:
        """(total matching, one page newest first); ``scan_id`` breaks ``created_at`` ties so pages are stable."""
        conditions = []
        if status is not None:
            conditions.append(Scan.status == status)
        if subscription_id is not None:
            conditions.append(Scan.subscription_id == subscription_id.lower())
        with read_scope(self.url) as session:
            total = session.scalar(select(func.count()).select_from(Scan).where(*conditions))
            page = session.scalars(
                select(Scan)
                .where(*conditions)
                .order_by(Scan.created_at.desc(), Scan.scan_id.desc())
                .limit(limit)
                .offset(offset)
            )
            return int(total or 0), list(page)


def _won(result: object) -> bool:
    """Did a conditional UPDATE match exactly one row (the transition happened)?"""
    return int(getattr(result, "rowcount", 0)) == 1


def _short(message: str) -> str:
    """First line, bounded: error messages are for people, tracebacks go to scan.log."""
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else "unknown error"
    return line if len(line) <= MAX_ERROR_LENGTH else line[: MAX_ERROR_LENGTH - 1] + "…"


def elapsed_since(moment: datetime | None) -> float | None:
    return None if moment is None else (utcnow() - moment).total_seconds()
