"""Estate reads: score history per subscription and the weight of each scan in the estate score.

Read-only queries over completed scans and their rule outcomes; no transitions here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select

from store.db import read_scope_engine
from store.models import RuleOutcome, Scan
from store.status import ACTIVE, RunStatus

_SCANS = Scan.__table__
_OUTCOMES = RuleOutcome.__table__


@dataclass(frozen=True)
class ScorePoint:
    subscription_id: str
    scan_id: str
    completed_at: datetime
    score: float | None
    total_findings: int


def score_history(url: str, *, since: datetime, subscription_id: str | None = None,
                  limit: int = 5000) -> list[ScorePoint]:
    """One point per completed scan since ``since``, oldest first."""
    conditions = [_SCANS.c.status == RunStatus.COMPLETED, _SCANS.c.completed_at >= since]
    if subscription_id is not None:
        conditions.append(_SCANS.c.subscription_id == subscription_id)
    statement = (select(_SCANS.c.subscription_id, _SCANS.c.scan_id, _SCANS.c.completed_at, _SCANS.c.score,
                        _SCANS.c.total_findings)
                 .where(*conditions).order_by(_SCANS.c.completed_at, _SCANS.c.scan_id).limit(limit))
    with read_scope_engine(url).connect() as conn:
        return [ScorePoint(**row) for row in conn.execute(statement).mappings()]


def evaluated_counts(url: str, scan_ids: Sequence[str]) -> dict[str, int]:
    """Per scan, the resource verdicts its rules reached (sum of ``evaluated_count`` over rules
    that ran): the weight of that scan's score in the estate score."""
    counts = dict.fromkeys(scan_ids, 0)
    if not scan_ids:
        return counts
    statement = (select(_OUTCOMES.c.scan_id, func.coalesce(func.sum(_OUTCOMES.c.evaluated_count), 0))
                 .where(_OUTCOMES.c.scan_id.in_(list(scan_ids)), _OUTCOMES.c.status == "ok")
                 .group_by(_OUTCOMES.c.scan_id))
    with read_scope_engine(url).connect() as conn:
        for scan_id, total in conn.execute(statement):
            counts[scan_id] = int(total)
    return counts


def active_scans(url: str) -> dict[str, dict[str, object]]:
    """The active scan of each subscription that has one (``scan_id``, ``status``, ``phase``, ``progress``)."""
    statement = select(_SCANS.c.subscription_id, _SCANS.c.scan_id, _SCANS.c.status, _SCANS.c.phase,
                       _SCANS.c.progress).where(_SCANS.c.status.in_(ACTIVE))
    with read_scope_engine(url).connect() as conn:
        return {row["subscription_id"]: {k: row[k] for k in ("scan_id", "status", "phase", "progress")}
                for row in conn.execute(statement).mappings()}


def weighted_score(scores: Sequence[tuple[float | None, int]]) -> float | None:
    """Σ score × weight / Σ weight over subscriptions with a score and a weight above 0."""
    pairs = [(s, w) for s, w in scores if s is not None and w > 0]
    total = sum(w for _, w in pairs)
    return round(sum(s * w for s, w in pairs) / total, 1) if total else None
