"""Read-only queries behind the findings, score and compliance routes (no Flask here).

Everything is a Core ``SELECT`` on a read-only connection: these routes return hundreds of rows
per call and the ORM identity map would only add cost. The one idea shared by all of them is
"the current posture": the latest *completed* scan of each subscription. Older completed scans
are history, and a failed or cancelled scan has no findings at all (results are stored only
when a scan completes), so mixing them in would report problems that may already be fixed.
That selection is a single statement (a ``ROW_NUMBER()`` window over completed scans) that
SQLite (3.25+) and PostgreSQL both run.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, case, func, or_, select

from store.db import read_scope_engine
from store.models import Finding, Mute, ResultRow, RuleOutcome, Scan
from store.status import SEVERITIES, ResultStatus, RunStatus

_SCANS = Scan.__table__
_FINDINGS = Finding.__table__
_OUTCOMES = RuleOutcome.__table__
_RESULTS = ResultRow.__table__

_SEVERITY_RANK = case(
    {name: rank for rank, name in enumerate(SEVERITIES)}, value=_FINDINGS.c.severity, else_=len(SEVERITIES)
)


@dataclass(frozen=True)
class LatestScan:
    """A subscription's current posture: its most recently completed scan."""

    scan_id: str
    subscription_id: str
    score: float | None
    completed_at: datetime | None
    total_findings: int


def latest_completed_scan_ids(subscription_id: str | None = None) -> Select[Any]:
    """``SELECT scan_id`` of the latest completed scan of each subscription (optionally one).

    Ties on ``completed_at`` are broken by ``scan_id`` so the choice is deterministic.
    """
    return select(_latest(subscription_id).c.scan_id)


def _latest(subscription_id: str | None) -> Any:
    conditions = [_SCANS.c.status == RunStatus.COMPLETED]
    if subscription_id is not None:
        conditions.append(_SCANS.c.subscription_id == subscription_id)
    ranked = (
        select(
            _SCANS.c.scan_id,
            _SCANS.c.subscription_id,
            _SCANS.c.score,
            _SCANS.c.completed_at,
            _SCANS.c.total_findings,
            func.row_number()
            .over(
                partition_by=_SCANS.c.subscription_id,
                order_by=(_SCANS.c.completed_at.desc(), _SCANS.c.scan_id.desc()),
            )
            .label("recency"),
        )
        .where(*conditions)
        .subquery("ranked")
    )
    return select(ranked).where(ranked.c.recency == 1).subquery("latest")


@dataclass(frozen=True)
class FindingFilter:
    severity: str | None = None
    category: str | None = None
    rule_id: str | None = None
    scan_id: str | None = None
    subscription_id: str | None = None
    # case-insensitive substring of the resource name or id, the rule id or the rule title
    q: str | None = None
    # only these rules (a framework control's rules; for PASS / NOT_EVALUATED also the rules of
    # the severity and category asked, since those rows store no rule metadata); None: any rule
    rule_ids: tuple[str, ...] | None = None
    # FAIL (findings) by default; PASS / NOT_EVALUATED read the compact results
    status: str = ResultStatus.FAIL
    # FAIL only: muted (True) or not (False); None both
    muted: bool | None = None
    # FAIL only: new since the subscription's previous completed scan (True) or not; None both
    new: bool | None = None


# How ``sort=`` orders findings: a named key first, then enough columns to make pages stable.
FINDING_SORTS: dict[str, tuple[Any, ...]] = {
    "severity": (_SEVERITY_RANK, _FINDINGS.c.rule_id, _FINDINGS.c.resource_id, _FINDINGS.c.id),
    "rule": (_FINDINGS.c.rule_id, _FINDINGS.c.resource_id, _FINDINGS.c.id),
    "resource": (_FINDINGS.c.resource_name, _FINDINGS.c.resource_id, _SEVERITY_RANK, _FINDINGS.c.rule_id, _FINDINGS.c.id),
}
GROUP_SORTS = ("severity", "rule", "count")


@dataclass(frozen=True)
class RuleGroup:
    """The findings of one rule under a filter: what the grouped findings explorer lists."""

    rule_id: str
    rule_name: str
    severity: str
    category: str
    failed: int
    subscriptions: int


def _conditions(where: FindingFilter) -> list[Any]:
    """The WHERE clause of a filter; without ``scan_id``, only the current posture counts."""
    conditions: list[Any] = []
    if where.scan_id is not None:
        conditions.append(_FINDINGS.c.scan_id == where.scan_id)
    else:
        conditions.append(_FINDINGS.c.scan_id.in_(latest_completed_scan_ids(where.subscription_id)))
    if where.subscription_id is not None:
        conditions.append(_FINDINGS.c.subscription_id == where.subscription_id)
    if where.severity is not None:
        conditions.append(_FINDINGS.c.severity == where.severity)
    if where.category is not None:
        conditions.append(_FINDINGS.c.category == where.category)
    if where.rule_id is not None:
        conditions.append(_FINDINGS.c.rule_id == where.rule_id)
    if where.rule_ids is not None:
        conditions.append(_FINDINGS.c.rule_id.in_(list(where.rule_ids)))
    if where.muted is not None:
        conditions.append(_FINDINGS.c.muted.is_(where.muted))
    if where.new is not None:
        conditions.append(_FINDINGS.c.is_new.is_(where.new))
    if where.q:
        # icontains is ILIKE on PostgreSQL and lower() LIKE lower() on SQLite; autoescape makes
        # % and _ in the search text literal characters
        conditions.append(
            or_(
                *(
                    column.icontains(where.q, autoescape=True)
                    for column in (
                        _FINDINGS.c.resource_name,
                        _FINDINGS.c.resource_id,
                        _FINDINGS.c.rule_id,
                        _FINDINGS.c.rule_name,
                    )
                )
            )
        )
    return conditions


def _result_conditions(where: FindingFilter) -> list[Any]:
    """The WHERE clause of a PASS / NOT_EVALUATED filter, on ``scan_results`` alone: the
    subscription is chosen through the scans' ids, so counting and paging never join every
    result to its scan (without planner statistics PostgreSQL did that as 47,000 index lookups)."""
    conditions: list[Any] = [_RESULTS.c.status == where.status]
    if where.scan_id is not None:
        conditions.append(_RESULTS.c.scan_id == where.scan_id)
        if where.subscription_id is not None:
            conditions.append(_RESULTS.c.scan_id.in_(
                select(_SCANS.c.scan_id).where(_SCANS.c.subscription_id == where.subscription_id)))
    else:
        conditions.append(_RESULTS.c.scan_id.in_(latest_completed_scan_ids(where.subscription_id)))
    if where.rule_id is not None:
        conditions.append(_RESULTS.c.rule_id == where.rule_id)
    if where.rule_ids is not None:
        conditions.append(_RESULTS.c.rule_id.in_(list(where.rule_ids)))
    if where.q:
        conditions.append(or_(*(column.icontains(where.q, autoescape=True) for column in (
            _RESULTS.c.resource_name, _RESULTS.c.resource_id, _RESULTS.c.rule_id))))
    return conditions


_RESULT_ORDER = (_RESULTS.c.rule_id, _RESULTS.c.resource_id, _RESULTS.c.id)


def _results_with_scan() -> Select[Any]:
    """Result rows with their scan's subscription and completion time (``detected_at``)."""
    return select(_RESULTS, _SCANS.c.subscription_id, _SCANS.c.completed_at.label("detected_at")).select_from(
        _RESULTS.join(_SCANS, _SCANS.c.scan_id == _RESULTS.c.scan_id))


def _results_select(where: FindingFilter) -> Select[Any]:
    """Every PASS / NOT_EVALUATED row of a filter with its scan's subscription and completion
    time, in ``rule_id``, ``resource_id``, ``id`` order (they have no severity of their own)."""
    return _results_with_scan().where(*_result_conditions(where)).order_by(*_RESULT_ORDER)


def _count_select(where: FindingFilter) -> Select[Any]:
    """``SELECT count(*)`` of the rows a filter matches (failures or the results it asks for)."""
    if where.status == ResultStatus.FAIL:
        return select(func.count()).select_from(_FINDINGS).where(*_conditions(where))
    return select(func.count()).select_from(_RESULTS).where(*_result_conditions(where))


def _keyed_page(conn: Connection, id_column: Any, conditions: list[Any], order: Sequence[Any], count: Select[Any], *,
                limit: int, offset: int, searching: bool) -> tuple[int, list[int]]:
    """(rows matching, the ids of one page in ``order``): the page is chosen by sorting only the
    ids and their sort keys, and the caller reads its few full rows by id. Sorting the full rows
    (descriptions, frameworks, metadata: ~1.7 kB a finding) made PostgreSQL spill 15 MB to disk
    for a deep page of 22k findings.

    A search evaluates its LIKEs on every row of the posture, so it counts in the same pass (a
    window); without one the count is an index-only count, and a window would only make the
    database hold every matching row (SQLite: 47k PASS rows, 30 ms -> 290 ms) instead of the top
    ``offset + limit`` of its sort."""
    if searching:
        keyed = select(id_column, func.count().over()).where(*conditions).order_by(*order).limit(limit).offset(offset)
        rows = conn.execute(keyed).all()
        if rows:
            return int(rows[0][1]), [row[0] for row in rows]
        return int(conn.execute(count).scalar() or 0), []  # past the end: no row carries the count
    total = int(conn.execute(count).scalar() or 0)
    if total <= offset:
        return total, []
    return total, list(conn.execute(select(id_column).where(*conditions).order_by(*order).limit(limit).offset(offset)).scalars())


class FindingsQuery:
    """The findings, score and compliance reads against one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    # ----------------------------------------------------------------------------- findings
    def list_findings(
        self, where: FindingFilter, *, limit: int, offset: int, sort: str = "severity"
    ) -> tuple[int, list[dict[str, Any]]]:
        """(total matching, one page) in ``FINDING_SORTS[sort]`` order (default: CRITICAL first,
        then ``rule_id``, ``resource_id``, ``id``).

        Without ``scan_id`` only the latest completed scan of each subscription counts.
        PASS / NOT_EVALUATED (``where.status``) come from the compact results.
        """
        if where.status != ResultStatus.FAIL:
            return self._list_results(where, limit=limit, offset=offset)
        with read_scope_engine(self.url).connect() as conn:
            total, ids = _keyed_page(conn, _FINDINGS.c.id, _conditions(where), FINDING_SORTS[sort], _count_select(where),
                                     limit=limit, offset=offset, searching=bool(where.q))
            if not ids:
                return total, []
            found = {row["id"]: dict(row) for row in conn.execute(select(_FINDINGS).where(_FINDINGS.c.id.in_(ids))).mappings()}
        return total, [found[i] for i in ids if i in found]

    def rule_groups(
        self, where: FindingFilter, *, limit: int, offset: int, sort: str = "severity"
    ) -> tuple[int, int, list[RuleGroup]]:
        """(groups matching, findings matching, one page of groups): the filter's findings counted
        per rule, in one ``GROUP BY`` so the explorer never pages through findings to group them.

        ``sort``: ``severity`` (CRITICAL first, then rule id), ``rule`` (rule id) or ``count``
        (most failed first, then severity and rule id).
        """
        conditions = _conditions(where)
        failed = func.count().label("failed")
        rank = func.min(_SEVERITY_RANK).label("rank")
        grouped = (
            select(
                _FINDINGS.c.rule_id,
                func.max(_FINDINGS.c.rule_name).label("rule_name"),
                func.max(_FINDINGS.c.severity).label("severity"),
                func.max(_FINDINGS.c.category).label("category"),
                failed,
                func.count(_FINDINGS.c.subscription_id.distinct()).label("subscriptions"),
                rank,
            )
            .where(*conditions)
            .group_by(_FINDINGS.c.rule_id)
            .subquery("grouped")
        )
        order = {
            "severity": (grouped.c.rank, grouped.c.rule_id),
            "rule": (grouped.c.rule_id,),
            "count": (grouped.c.failed.desc(), grouped.c.rank, grouped.c.rule_id),
        }[sort]
        # the totals ride on the page as windows: one GROUP BY pass instead of two (a search
        # evaluates its LIKEs on every finding of the posture, so each pass counts)
        page = (
            select(grouped, func.count().over().label("groups_total"),
                   func.sum(grouped.c.failed).over().label("findings_total"))
            .order_by(*order).limit(limit).offset(offset)
        )
        totals = select(func.count(), func.coalesce(func.sum(grouped.c.failed), 0))
        with read_scope_engine(self.url).connect() as conn:
            rows = list(conn.execute(page).mappings())
            if rows:
                groups, findings = rows[0]["groups_total"], rows[0]["findings_total"]
            else:  # past the last group, or none: no row carries the totals
                groups, findings = conn.execute(totals).one()
        return (
            int(groups),
            int(findings),
            [
                RuleGroup(
                    rule_id=r["rule_id"],
                    rule_name=r["rule_name"],
                    # the highest severity the rule's findings carry (a rule re-rated between two
                    # subscriptions' scans), the one the groups are ordered by
                    severity=SEVERITIES[r["rank"]] if r["rank"] < len(SEVERITIES) else r["severity"],
                    category=r["category"],
                    failed=int(r["failed"]),
                    subscriptions=int(r["subscriptions"]),
                )
                for r in rows
            ],
        )

    def _list_results(self, where: FindingFilter, *, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        """PASS or NOT_EVALUATED rows, with their scan's subscription and completion time, in
        ``rule_id``, ``resource_id``, ``id`` order (they have no severity of their own)."""
        with read_scope_engine(self.url).connect() as conn:
            total, ids = _keyed_page(conn, _RESULTS.c.id, _result_conditions(where), _RESULT_ORDER, _count_select(where),
                                     limit=limit, offset=offset, searching=bool(where.q))
            if not ids:
                return total, []
            found = {row["id"]: dict(row) for row in conn.execute(
                _results_with_scan().where(_RESULTS.c.id.in_(ids))).mappings()}
        return total, [found[i] for i in ids if i in found]

    def count_matching(self, where: FindingFilter) -> int:
        """How many rows ``list_findings`` would page through for this filter (failures, or the
        PASS / NOT_EVALUATED results that ``where.status`` asks for)."""
        with read_scope_engine(self.url).connect() as conn:
            return int(conn.execute(_count_select(where)).scalar() or 0)

    def iter_matching(self, where: FindingFilter, *, sort: str = "severity", limit: int | None = None,
                      batch: int = 500) -> Iterator[dict[str, Any]]:
        """Every row of the filter in ``list_findings`` order, streamed in batches (an export of
        the explorer's current view): never the whole answer in memory. At most ``limit`` rows.
        Failures carry ``status`` FAIL; PASS / NOT_EVALUATED rows their scan's subscription and
        ``detected_at`` (no rule metadata: the caller adds it)."""
        if where.status == ResultStatus.FAIL:
            statement = select(_FINDINGS).where(*_conditions(where)).order_by(*FINDING_SORTS[sort])
        else:
            statement = _results_select(where)
        if limit is not None:
            statement = statement.limit(limit)
        with read_scope_engine(self.url).connect() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=batch)
            for row in streaming.execute(statement).mappings():
                yield {**row, "status": ResultStatus.FAIL} if where.status == ResultStatus.FAIL else dict(row)

    def unmuted_failures_at_or_above(self, scan_id: str, severity: str) -> dict[str, int]:
        """Non-muted failures of a scan per severity, for severities at or above ``severity``
        (the CI gate): e.g. ``{"CRITICAL": 1, "HIGH": 3}``; empty when there are none."""
        wanted = list(SEVERITIES[: SEVERITIES.index(severity) + 1])  # type: ignore[arg-type]
        statement = (
            select(_FINDINGS.c.severity, func.count())
            .where(_FINDINGS.c.scan_id == scan_id, _FINDINGS.c.muted.is_(False), _FINDINGS.c.severity.in_(wanted))
            .group_by(_FINDINGS.c.severity)
        )
        with read_scope_engine(self.url).connect() as conn:
            counts = {severity: int(count) for severity, count in conn.execute(statement)}
        return {s: counts[s] for s in wanted if counts.get(s)}

    # ------------------------------------------------------------------------------ exports
    def scan_row(self, scan_id: str) -> dict[str, Any] | None:
        with read_scope_engine(self.url).connect() as conn:
            row = conn.execute(select(_SCANS).where(_SCANS.c.scan_id == scan_id)).mappings().first()
        return None if row is None else dict(row)

    def iter_scan_results(self, scan_id: str, batch: int = 500, *,
                          failures_only: bool = False) -> Iterator[dict[str, Any]]:
        """Every result of one scan, streamed (never the whole scan in memory): the failures in
        severity, rule, resource order, then the PASS and NOT_EVALUATED rows in rule, resource
        order (those carry ``status`` and no rule metadata; the caller adds it)."""
        failures = (
            select(_FINDINGS).where(_FINDINGS.c.scan_id == scan_id)
            .order_by(_SEVERITY_RANK, _FINDINGS.c.rule_id, _FINDINGS.c.resource_id, _FINDINGS.c.id)
        )
        others = (
            select(_RESULTS).where(_RESULTS.c.scan_id == scan_id)
            .order_by(_RESULTS.c.rule_id, _RESULTS.c.resource_id, _RESULTS.c.id)
        )
        with read_scope_engine(self.url).connect() as conn:
            streaming = conn.execution_options(stream_results=True, yield_per=batch)
            for row in streaming.execute(failures).mappings():
                yield {**row, "status": ResultStatus.FAIL}
            if failures_only:
                return
            for row in streaming.execute(others).mappings():
                yield dict(row)

    def mute_justifications(self, mute_ids: Sequence[int]) -> dict[int, str]:
        """Mute id -> justification (the HTML report shows why a failure is muted)."""
        if not mute_ids:
            return {}
        mutes = Mute.__table__
        with read_scope_engine(self.url).connect() as conn:
            rows = conn.execute(select(mutes.c.id, mutes.c.justification).where(mutes.c.id.in_(list(mute_ids))))
            return {int(i): str(j) for i, j in rows}

    def get_finding(self, finding_id: int) -> dict[str, Any] | None:
        with read_scope_engine(self.url).connect() as conn:
            row = conn.execute(select(_FINDINGS).where(_FINDINGS.c.id == finding_id)).mappings().first()
        return None if row is None else dict(row)

    def scan_status(self, scan_id: str) -> str | None:
        """The scan's status, or None if there is no such scan."""
        with read_scope_engine(self.url).connect() as conn:
            return conn.execute(select(_SCANS.c.status).where(_SCANS.c.scan_id == scan_id)).scalar()

    # -------------------------------------------------------------------------------- score
    def latest_scans(self, subscription_id: str | None = None) -> list[LatestScan]:
        """The latest completed scan of each subscription, ordered by ``subscription_id``."""
        latest = _latest(subscription_id)
        statement = select(
            latest.c.scan_id, latest.c.subscription_id, latest.c.score, latest.c.completed_at, latest.c.total_findings
        ).order_by(latest.c.subscription_id)
        with read_scope_engine(self.url).connect() as conn:
            return [LatestScan(**row) for row in conn.execute(statement).mappings()]

    def severity_counts(self, scan_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per scan, the number of findings of each severity (every severity present, 0 if none)."""
        counts = {scan_id: dict.fromkeys(SEVERITIES, 0) for scan_id in scan_ids}
        if not scan_ids:
            return counts
        statement = (
            select(_FINDINGS.c.scan_id, _FINDINGS.c.severity, func.count())
            .where(_FINDINGS.c.scan_id.in_(list(scan_ids)))
            .group_by(_FINDINGS.c.scan_id, _FINDINGS.c.severity)
        )
        with read_scope_engine(self.url).connect() as conn:
            for scan_id, severity, count in conn.execute(statement):
                counts[scan_id][severity] = counts[scan_id].get(severity, 0) + int(count)
        return counts

    # ---------------------------------------------------------------------------- compliance
    def outcomes(self, scan_ids: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """Rule outcomes of the given scans keyed by ``(scan_id, rule_id)``."""
        if not scan_ids:
            return {}
        statement = select(
            _OUTCOMES.c.scan_id,
            _OUTCOMES.c.rule_id,
            _OUTCOMES.c.status,
            _OUTCOMES.c.evaluated_count,
            _OUTCOMES.c.failed_count,
            _OUTCOMES.c.not_evaluated_count,
        ).where(_OUTCOMES.c.scan_id.in_(list(scan_ids)))
        with read_scope_engine(self.url).connect() as conn:
            return {(r["scan_id"], r["rule_id"]): dict(r) for r in conn.execute(statement).mappings()}
