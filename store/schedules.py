"""Schedules: recurring scans of one subscription or of every subscription the identity sees.

Timing is an interval (seconds) or a five-field cron expression (parsed by ``cronsim``, never
by hand) evaluated in an IANA time zone (``zoneinfo``), so "02:00 Europe/Berlin" stays 02:00
across daylight-saving changes. ``next_run_at`` is stored in UTC.

Firing is decided by the database: a supervisor that sees a due schedule advances
``next_run_at`` with ``UPDATE … WHERE id = ? AND enabled AND next_run_at = <what it read>``;
exactly one host's UPDATE matches, the others do nothing. The new ``next_run_at`` is the first
slot after *now*, so a schedule that was due several times while every supervisor was down
fires once when one comes back (catch-up), not once per missed slot.

The shortest interval is ``OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS`` (default 300 s: a scan
of a real subscription takes minutes, and a schedule firing faster than scans finish would
only record "skipped: active scan"); tests lower it.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from sqlalchemy import delete, select, update

from store.clock import utcnow
from store.db import read_scope, session_scope
from store.models import Schedule
from store.runs import short_message, won

DEFAULT_MIN_INTERVAL_SECONDS = 300
MAX_INTERVAL_SECONDS = 366 * 24 * 3600


def min_interval_seconds(environ: dict[str, str] | None = None) -> int:
    """``OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS`` (default 300); ValueError when malformed."""
    raw = ((os.environ if environ is None else environ).get("OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS") or "").strip()
    if not raw:
        return DEFAULT_MIN_INTERVAL_SECONDS
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError("OPENSHIELD_SCHEDULE_MIN_INTERVAL_SECONDS must be a positive integer")
    return int(raw)


class ScheduleError(ValueError):
    """A schedule's timing or target is invalid (the message says which and why)."""


@dataclass(frozen=True)
class Timing:
    """When a schedule is due: exactly one of ``interval_seconds`` and ``cron``, in ``timezone``."""

    interval_seconds: int | None
    cron: str | None
    timezone: str = "UTC"

    def check(self, min_interval: int) -> "Timing":
        """Raise :class:`ScheduleError` naming the problem; return self when valid."""
        if (self.interval_seconds is None) == (self.cron is None):
            raise ScheduleError("give exactly one of interval_seconds and cron")
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"unknown time zone {self.timezone!r} (use an IANA name such as Europe/Berlin)") from None
        if self.interval_seconds is not None:
            if not min_interval <= self.interval_seconds <= MAX_INTERVAL_SECONDS:
                raise ScheduleError(f"interval_seconds must be from {min_interval} to {MAX_INTERVAL_SECONDS}")
            return self
        assert self.cron is not None
        if len(self.cron.split()) != 5:
            raise ScheduleError(f"cron {self.cron!r} must have five fields (minute hour day month weekday)")
        start = datetime.now(timezone.utc).astimezone(zone)
        try:
            it = CronSim(self.cron, start)
            first, second = next(it), next(it)
        except (CronSimError, StopIteration) as exc:
            raise ScheduleError(f"invalid cron expression {self.cron!r}: {exc or 'never matches'}") from None
        if (second - first).total_seconds() < min_interval:
            raise ScheduleError(f"cron {self.cron!r} fires more often than every {min_interval} s")
        return self

    def next_after(self, moment: datetime, previous_due: datetime | None = None) -> datetime:
        """The first due time strictly after ``moment`` (UTC). Interval schedules stay on their
        grid (``previous_due`` + k × interval) so catching up does not shift them."""
        if self.interval_seconds is not None:
            step = timedelta(seconds=self.interval_seconds)
            if previous_due is None:
                return moment + step
            missed = max(0, int((moment - previous_due) / step))
            due = previous_due + step * (missed + 1)
            while due <= moment:
                due += step
            return due
        assert self.cron is not None
        zone = ZoneInfo(self.timezone)
        due = next(CronSim(self.cron, moment.astimezone(zone).replace(microsecond=0)))
        return due.astimezone(timezone.utc)


def timing_of(row: Schedule) -> Timing:
    return Timing(row.interval_seconds, row.cron, row.timezone)


@dataclass
class FireResult:
    """What one firing did: scans created, subscriptions skipped and why, or an error."""

    scan_ids: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None


_EDITABLE = frozenset({"name", "subscription_id", "interval_seconds", "cron", "timezone", "enabled", "rules"})


class ScheduleStore:
    """Schedules in one database: CRUD for the API and CLI, due/claim/record for supervisors."""

    def __init__(self, url: str) -> None:
        self.url = url

    def create(self, *, name: str, subscription_id: str | None, timing: Timing, enabled: bool = True,
               rules: list[str] | None = None, now: datetime | None = None) -> Schedule:
        now = now or utcnow()
        row = Schedule(id=str(uuid.uuid4()), name=name, subscription_id=subscription_id.lower() if subscription_id else None,
                       interval_seconds=timing.interval_seconds, cron=timing.cron, timezone=timing.timezone,
                       enabled=enabled, rules=rules, next_run_at=timing.next_after(now), created_at=now)
        with session_scope(self.url) as session:
            session.add(row)
            session.flush()
            session.expunge(row)
        return row

    def list(self) -> list[Schedule]:
        with read_scope(self.url) as session:
            return list(session.scalars(select(Schedule).order_by(Schedule.created_at, Schedule.id)))

    def get(self, schedule_id: str) -> Schedule | None:
        with read_scope(self.url) as session:
            return session.get(Schedule, schedule_id)

    def for_subscriptions(self) -> dict[str | None, list[Schedule]]:
        """Schedules by target (None = all subscriptions), for the estate view."""
        out: dict[str | None, list[Schedule]] = {}
        for row in self.list():
            out.setdefault(row.subscription_id, []).append(row)
        return out

    def update(self, schedule_id: str, changes: dict[str, Any], *, min_interval: int,
               now: datetime | None = None) -> Schedule | None:
        """Apply ``changes``; a new timing or re-enabling recomputes ``next_run_at`` from now."""
        unknown = set(changes) - _EDITABLE
        if unknown:
            raise ScheduleError(f"cannot change {', '.join(sorted(unknown))}")
        now = now or utcnow()
        with session_scope(self.url) as session:
            row = session.get(Schedule, schedule_id, with_for_update=True)
            if row is None:
                return None
            retime = bool({"interval_seconds", "cron", "timezone"} & set(changes)) or (
                changes.get("enabled") is True and not row.enabled)
            for key, value in changes.items():
                setattr(row, key, value)
            if "interval_seconds" in changes and changes["interval_seconds"] is not None:
                row.cron = None
            if "cron" in changes and changes["cron"] is not None:
                row.interval_seconds = None
            timing = timing_of(row).check(min_interval)
            if retime:
                row.next_run_at = timing.next_after(now)
            session.flush()
            session.expunge(row)
            return row

    def delete(self, schedule_id: str) -> bool:
        with session_scope(self.url) as session:
            return won(session.execute(delete(Schedule).where(Schedule.id == schedule_id)))

    # ------------------------------------------------------------------ supervisor side
    def due(self, now: datetime | None = None, limit: int = 100) -> list[Schedule]:
        now = now or utcnow()
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(Schedule).where(Schedule.enabled.is_(True), Schedule.next_run_at <= now)
                .order_by(Schedule.next_run_at).limit(limit)))

    def claim_due(self, row: Schedule, *, host: str, now: datetime | None = None) -> bool:
        """Advance ``next_run_at`` past now if nobody else did since ``row`` was read: the
        winner fires this due time, everybody else does nothing."""
        now = now or utcnow()
        following = timing_of(row).next_after(now, row.next_run_at)
        with session_scope(self.url) as session:
            result = session.execute(
                update(Schedule)
                .where(Schedule.id == row.id, Schedule.enabled.is_(True), Schedule.next_run_at == row.next_run_at)
                .values(next_run_at=following, last_fired_at=now, last_fired_by=host,
                        last_scan_ids=[], last_skipped=[], last_error=None))
            return won(result)

    def record(self, schedule_id: str, result: FireResult) -> None:
        with session_scope(self.url) as session:
            session.execute(update(Schedule).where(Schedule.id == schedule_id).values(
                last_scan_ids=result.scan_ids, last_skipped=result.skipped,
                last_error=short_message(result.error) if result.error else None))
