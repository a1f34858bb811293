"""The lifecycle every supervised run shares: a scan and a CVE re-enrichment alike.

A supervised run is a row (``scans`` or ``enrichment_runs``) plus one OS process that claims
it. Every status change is one conditional UPDATE (``… WHERE key = ? AND status IN (…)``) that
reports whether it won, so when a finishing process and the supervisor race, exactly one wins
and a terminal status never changes again. The transitions have names; no caller chooses the
statuses a transition starts from:

    pending --reserve_launch--> pending (host set) --claim--> running
    running --complete (per kind)--> completed
    running --fail_running / cancel_running--> failed / cancelled
    pending --fail_unstarted / cancel_queued--> failed / cancelled
    pending|running --fail / cancel--> failed / cancelled   (whatever it was doing)
    running --requeue (once, after a machine restart)--> pending
    pending (host set, never started) --release_launch--> pending (queued again)

Launch slots are per host and shared by every kind: a host's cap counts its scans and its
enrichment runs together, under one lock (SQLite ``BEGIN IMMEDIATE``, PostgreSQL a per-host
advisory lock), so two API workers and the supervisor cannot fill the last slot twice.

A slot is held from ``reserve_launch`` (or a claim) until the host has seen the run's process
exit, **whatever the row's status says**: a cancelled or failed run whose process is still
starting (imports) or still exiting keeps its slot, otherwise the cap would bound rows, not
processes. ``slot_released_at`` records the release (``release_slot``, called by
:mod:`supervisor.slots` once the process and its monitor are gone); rows holding a slot are
``host IS NOT NULL AND slot_released_at IS NULL`` (a partial index keeps that count small).

    reserve_launch / claim --> slot held --(process exited, seen on that host)--> release_slot
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, ClassVar, Generic, TypeVar

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from store.clock import utcnow
from store.db import read_scope, read_scope_engine, session_scope
from store.models import EnrichmentRun, Scan
from store.status import ACTIVE, TERMINAL, RunStatus

MAX_MESSAGE_LENGTH = 500

Row = TypeVar("Row", Scan, EnrichmentRun)
Key = Any  # a scan id (str) or an enrichment run id (int)


def short_message(message: str | None) -> str:
    """First line, bounded: messages are for people; tracebacks go to the run's log."""
    text_ = (message or "").strip()
    line = text_.splitlines()[0] if text_ else "unknown error"
    return line if len(line) <= MAX_MESSAGE_LENGTH else line[: MAX_MESSAGE_LENGTH - 1] + "…"


def won(result: object) -> bool:
    """Did a conditional UPDATE match exactly one row (the transition happened)?"""
    return int(getattr(result, "rowcount", 0)) == 1


def _holds_slot(model: Any, host: str) -> Any:
    """The condition of a run holding one of ``host``'s launch slots (store.models.SLOT_HELD_SQL)."""
    return (model.host == host) & model.slot_released_at.is_(None)


@dataclass(frozen=True)
class _SlotsOnHost:
    """How many launch slots of a host runs of every kind hold (live, starting or exiting)."""

    url: str

    def count(self, host: str, session: Session | None = None) -> int:
        statements = [
            select(func.count()).select_from(model).where(_holds_slot(model, host))
            for model in (Scan, EnrichmentRun)
        ]
        if session is not None:
            return sum(int(session.scalar(s) or 0) for s in statements)
        with read_scope_engine(self.url).connect() as conn:
            return sum(int(conn.execute(s).scalar() or 0) for s in statements)


def slots_taken(url: str, host: str) -> int:
    """Launch slots of ``host`` held by runs of every kind, including ended runs whose process
    has not been seen to exit yet."""
    return _SlotsOnHost(url).count(host)


class RunStore(Generic[Row]):
    """Named transitions and supervisor queries over one kind's table."""

    model: ClassVar[type[Any]]
    key_name: ClassVar[str]
    # extra values when a queued run gets a slot / goes back to the queue (a scan's phase)
    reserved_values: ClassVar[dict[str, Any]] = {}
    queued_values: ClassVar[dict[str, Any]] = {}

    def __init__(self, url: str) -> None:
        self.url = url

    # --------------------------------------------------------------------- helpers
    @property
    def _key(self) -> Any:
        return getattr(self.model, self.key_name)

    def _transition(self, key: Key, from_statuses: tuple[RunStatus, ...],
                    values: dict[str, Any] | Callable[[Session], dict[str, Any]], *also: Any) -> bool:
        """The one shape of every transition: a conditional UPDATE that reports whether it won.

        ``values`` may be a function of the session, for values read in the same transaction.
        """
        with session_scope(self.url) as session:
            if callable(values):
                values = values(session)
            result = session.execute(
                update(self.model)
                .where(self._key == key, self.model.status.in_(from_statuses), *also)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            if not won(result):
                return False
            self.after_transition(session, key, values)
            return True

    def after_transition(self, session: Session, key: Key, values: dict[str, Any]) -> None:
        """Hook: what else changes in the same transaction (an enrichment run's scan)."""

    def finish_values(self, session: Session, key: Key, now: datetime) -> dict[str, Any]:
        """Hook: extra columns set when a run ends (a scan's duration)."""
        return {}

    def _finish(self, key: Key, status: RunStatus, from_statuses: tuple[RunStatus, ...], message: str,
                exit_code: int | None, **extra: Any) -> bool:
        now = utcnow()
        return self._transition(key, from_statuses, lambda session: {
            "status": status, "completed_at": now, "error_message": short_message(message), "exit_code": exit_code,
            **self.finish_values(session, key, now), **extra})

    # --------------------------------------------------------------------- launch slots
    def reserve_launch(self, key: Key, *, host: str, cap: int) -> bool:
        """Give a queued run one of ``host``'s launch slots, if one is free.

        Counting the host's active runs and taking the slot happen in one serialised
        transaction, so two processes cannot both fill the last slot; ``host IS NULL`` makes a
        queued run claimable exactly once across hosts.
        """
        counter = _SlotsOnHost(self.url)
        # The common busy case (host full) costs one read and no lock; the count is taken again
        # under the lock before a slot is actually given.
        if counter.count(host) >= cap:
            return False
        with session_scope(self.url) as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:h))"), {"h": "openshield-launch:" + host})
            if counter.count(host, session) >= cap:
                return False
            return won(session.execute(
                update(self.model)
                .where(self._key == key, self.model.status == RunStatus.PENDING, self.model.host.is_(None),
                       self.model.cancel_requested.is_(False))
                .values(host=host, launched_at=utcnow(), slot_released_at=None, **self.reserved_values)
                .execution_options(synchronize_session=False)
            ))

    def release_slot(self, key: Key, host: str) -> bool:
        """Give back the slot of an ended run whose process ``host`` has seen exit.

        Only the host that ran the process can tell (pids are per host), so only it calls this;
        an active run keeps its slot until it ends (the supervisor settles a dead one first).
        """
        return self._transition(key, TERMINAL, {"slot_released_at": utcnow()},
                                self.model.host == host, self.model.slot_released_at.is_(None))

    def release_launch(self, key: Key, host: str) -> bool:
        """Give back a reserved slot whose process never started; the run is queued again."""
        return self._transition(
            key, (RunStatus.PENDING,), {"host": None, "launched_at": None, **self.queued_values},
            self.model.host == host, self.model.pid.is_(None),
        )

    # --------------------------------------------------------------------- process side
    def _claim(self, condition: Any, *, pid: int, host: str, process_create_time: float | None,
               **extra: Any) -> Any:
        """``pending -> running`` for the process that will do the work; its key, or None."""
        now = utcnow()
        with session_scope(self.url) as session:
            key = session.execute(
                update(self.model)
                .where(condition, self.model.status == RunStatus.PENDING, self.model.cancel_requested.is_(False),
                       or_(self.model.host.is_(None), self.model.host == host))
                .values(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, pid=pid, host=host,
                        process_create_time=process_create_time, error_message=None, slot_released_at=None,
                        **extra)
                .returning(self._key)
            ).scalar()
            if key is not None:
                self.after_transition(session, key, {"status": RunStatus.RUNNING})
            return key

    def heartbeat(self, key: Key) -> tuple[bool, bool]:
        """Touch ``heartbeat_at``; returns (still running, cancel requested)."""
        with session_scope(self.url) as session:
            row = session.execute(
                update(self.model)
                .where(self._key == key, self.model.status == RunStatus.RUNNING)
                .values(heartbeat_at=utcnow())
                .returning(self.model.cancel_requested)
            ).first()
            return (row is not None, bool(row[0]) if row is not None else False)

    # --------------------------------------------------------------------- endings
    def fail_running(self, key: Key, message: str, *, exit_code: int | None = None) -> bool:
        """``running -> failed`` (the process died, hung, ran over time, or failed itself)."""
        return self._finish(key, RunStatus.FAILED, (RunStatus.RUNNING,), message, exit_code)

    def fail_unstarted(self, key: Key, message: str, *, exit_code: int | None = None) -> bool:
        """``pending -> failed`` (its process could not be started, or exited before claiming)."""
        return self._finish(key, RunStatus.FAILED, (RunStatus.PENDING,), message, exit_code)

    def fail(self, key: Key, message: str, *, exit_code: int | None = None) -> bool:
        """``pending|running -> failed``, whatever the run was doing."""
        return self._finish(key, RunStatus.FAILED, ACTIVE, message, exit_code)

    def cancel_queued(self, key: Key, message: str = "cancelled on request") -> bool:
        """``pending -> cancelled`` for a run no process has claimed (a claim can no longer win)."""
        return self._finish(key, RunStatus.CANCELLED, (RunStatus.PENDING,), message, None, cancel_requested=True)

    def cancel_running(self, key: Key, message: str, *, exit_code: int | None = None) -> bool:
        """``running -> cancelled`` (stopped on request or by a signal)."""
        return self._finish(key, RunStatus.CANCELLED, (RunStatus.RUNNING,), message, exit_code, cancel_requested=True)

    def cancel(self, key: Key, message: str, *, exit_code: int | None = None) -> bool:
        """``pending|running -> cancelled``, whatever the run was doing."""
        return self._finish(key, RunStatus.CANCELLED, ACTIVE, message, exit_code, cancel_requested=True)

    def request_cancel(self, key: Key) -> bool:
        """Flag an active run for cancellation (its process, or the supervisor, acts on it)."""
        return self._transition(key, ACTIVE, {"cancel_requested": True})

    def requeue(self, key: Key, *, from_host: str, reason: str) -> bool:
        """``running -> pending`` once, after the whole machine restarted under the run.

        The run gets ``attempt + 1``; its old process is known dead. A second restart fails it.
        """
        return self._transition(
            key,
            (RunStatus.RUNNING,),
            {"status": RunStatus.PENDING, "host": None, "pid": None, "process_create_time": None,
             "launched_at": None, "started_at": None, "heartbeat_at": None, "attempt": self.model.attempt + 1,
             "error_message": short_message(reason), **self.requeue_values()},
            self.model.host == from_host,
            self.model.attempt < 2,
        )

    def requeue_values(self) -> dict[str, Any]:
        """Hook: what else a re-queued run resets (a scan's progress and trigger)."""
        return dict(self.queued_values)

    # --------------------------------------------------------------------- queries
    def get(self, key: Key) -> Row | None:
        with read_scope(self.url) as session:
            return session.get(self.model, key)  # type: ignore[no-any-return]

    def active(self) -> list[Row]:
        """Every pending or running run of every host, oldest first."""
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(self.model).where(self.model.status.in_(ACTIVE)).order_by(self.model.created_at)
            ))

    def active_on_host(self, host: str) -> list[Row]:
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(self.model).where(self.model.host == host, self.model.status.in_(ACTIVE))
            ))

    def maybe_alive_on_host(self, host: str) -> list[Row]:
        """Runs of ``host`` that may have a live process: the active ones, and ended ones whose
        launch slot is still held (their process may still be starting or exiting)."""
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(self.model).where(self.model.host == host,
                                         or_(self.model.status.in_(ACTIVE), self.model.slot_released_at.is_(None)))
            ))

    def active_elsewhere(self, host: str) -> list[Row]:
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(self.model).where(self.model.host.is_not(None), self.model.host != host,
                                         self.model.status.in_(ACTIVE))
            ))

    def draining(self, host: str) -> list[Row]:
        """Ended runs of ``host`` still holding a slot: their process may be starting or exiting."""
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(self.model).where(_holds_slot(self.model, host), self.model.status.in_(TERMINAL))
            ))

    def queued(self, limit: int = 50) -> list[Row]:
        """Runs waiting for a launch slot, oldest first."""
        with read_scope(self.url) as session:
            return list(session.scalars(
                select(self.model)
                .where(self.model.status == RunStatus.PENDING, self.model.host.is_(None),
                       self.model.cancel_requested.is_(False))
                .order_by(self.model.created_at, self._key)
                .limit(limit)
            ))
