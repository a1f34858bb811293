"""Retention: which scans are old enough to forget, and forgetting one of them.

A scan is pruned when all of these hold:

- it is terminal (``completed``, ``failed``, ``cancelled``): an active scan is never touched;
- it was created more than ``OPENSHIELD_RETENTION_DAYS`` (default 90) days ago;
- it is not one of the last ``OPENSHIELD_RETENTION_SCANS_PER_SUBSCRIPTION`` (default 10, at
  least 1) completed scans of its subscription, so the latest completed scan of a subscription
  (its current posture) and the scans a diff compares with survive however old they are;
- no CVE re-enrichment of it is pending or running.

Deleting is one short transaction per scan (its findings, results, rule outcomes and
enrichment runs, then the scan row), and a pass deletes a bounded number of scans: the database
is never locked for long, and the supervisor (:mod:`supervisor.retention`) spreads the work over
its ticks and removes the run directories.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Collection, Mapping

from sqlalchemy import delete, func, select

from store.clock import utcnow
from store.db import read_scope_engine, session_scope
from store.models import EnrichmentRun, Finding, ResultRow, RuleOutcome, Scan
from store.parsing import bounded_int
from store.status import ACTIVE, TERMINAL, RunStatus

_SCANS = Scan.__table__
_ENRICH = EnrichmentRun.__table__
_CHILDREN = (Finding.__table__, ResultRow.__table__, RuleOutcome.__table__, EnrichmentRun.__table__)


@dataclass(frozen=True)
class RetentionPolicy:
    days: int = 90
    scans_per_subscription: int = 10

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "RetentionPolicy":
        """``OPENSHIELD_RETENTION_DAYS`` and ``OPENSHIELD_RETENTION_SCANS_PER_SUBSCRIPTION``;
        ``ValueError`` naming a malformed one."""
        env = os.environ if environ is None else environ
        days = env.get("OPENSHIELD_RETENTION_DAYS", "").strip()
        keep = env.get("OPENSHIELD_RETENTION_SCANS_PER_SUBSCRIPTION", "").strip()
        return cls(
            days=bounded_int(days, "OPENSHIELD_RETENTION_DAYS", 1, 100_000) if days else cls.days,
            scans_per_subscription=bounded_int(keep, "OPENSHIELD_RETENTION_SCANS_PER_SUBSCRIPTION", 1, 100_000)
            if keep else cls.scans_per_subscription,
        )


def prunable_scan_ids(url: str, policy: RetentionPolicy, *, now: datetime | None = None,
                      limit: int = 20) -> list[str]:
    """Up to ``limit`` scans the policy lets go, oldest first."""
    cutoff = (now or utcnow()) - timedelta(days=policy.days)
    ranked = (
        select(_SCANS.c.scan_id,
               func.row_number().over(partition_by=_SCANS.c.subscription_id,
                                      order_by=(_SCANS.c.completed_at.desc(), _SCANS.c.scan_id.desc())).label("recency"))
        .where(_SCANS.c.status == RunStatus.COMPLETED)
        .subquery("ranked")
    )
    kept = select(ranked.c.scan_id).where(ranked.c.recency <= policy.scans_per_subscription)
    enriching = select(_ENRICH.c.scan_id).where(_ENRICH.c.status.in_(ACTIVE))
    statement = (
        select(_SCANS.c.scan_id)
        .where(_SCANS.c.status.in_(TERMINAL), _SCANS.c.created_at < cutoff,
               _SCANS.c.scan_id.not_in(kept), _SCANS.c.scan_id.not_in(enriching))
        .order_by(_SCANS.c.created_at, _SCANS.c.scan_id)
        .limit(limit)
    )
    with read_scope_engine(url).connect() as conn:
        return [str(row[0]) for row in conn.execute(statement)]


def delete_scan(url: str, scan_id: str) -> bool:
    """Delete one terminal scan and everything stored for it, in one transaction; false if it
    is gone or (somehow) active."""
    with session_scope(url) as session:
        status = session.scalar(select(_SCANS.c.status).where(_SCANS.c.scan_id == scan_id))
        if status not in TERMINAL:
            return False
        for table in _CHILDREN:
            session.execute(delete(table).where(table.c.scan_id == scan_id))
        session.execute(delete(_SCANS).where(_SCANS.c.scan_id == scan_id, _SCANS.c.status.in_(TERMINAL)))
        return True


def prune(url: str, policy: RetentionPolicy, *, now: datetime | None = None, max_scans: int = 20) -> list[str]:
    """One bounded pass: the ids of the scans deleted (at most ``max_scans``)."""
    return [scan_id for scan_id in prunable_scan_ids(url, policy, now=now, limit=max_scans)
            if delete_scan(url, scan_id)]


def existing_scan_ids(url: str, scan_ids: Collection[str]) -> set[str]:
    """Which of these scan ids have a row (run directories of the others can go)."""
    if not scan_ids:
        return set()
    with read_scope_engine(url).connect() as conn:
        rows = conn.execute(select(_SCANS.c.scan_id).where(_SCANS.c.scan_id.in_(list(scan_ids))))
        return {str(r[0]) for r in rows}
