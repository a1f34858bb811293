"""The named values of a supervised run's lifecycle: status, phase, trigger, CVE enrichment.

They are ``StrEnum`` members, so they are stored and serialised as the plain strings the API
documents (``"running"``), compare equal to those strings, and a typo is an AttributeError at
import time instead of a query that silently matches nothing.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Status of a scan or of a CVE re-enrichment run (both are supervised runs)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in ACTIVE

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


ACTIVE: tuple[RunStatus, ...] = (RunStatus.PENDING, RunStatus.RUNNING)
TERMINAL: tuple[RunStatus, ...] = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)
STATUSES: tuple[RunStatus, ...] = ACTIVE + TERMINAL
# SQL text of "the run is active", for the partial unique indexes (one active run per key)
ACTIVE_SQL = "status IN ('pending', 'running')"


class Phase(StrEnum):
    """Where a scan is in its work (``status`` says whether it is still going)."""

    QUEUED = "queued"
    STARTING = "starting"
    COLLECTING = "collecting"
    EVALUATING = "evaluating"
    ENRICHING = "enriching"
    SAVING = "saving"
    DONE = "done"


PHASES: tuple[Phase, ...] = tuple(Phase)


class Trigger(StrEnum):
    """Who asked for a scan."""

    API = "api"
    CLI = "cli"
    RETRY = "retry"
    SCHEDULE = "schedule"


TRIGGERS: tuple[Trigger, ...] = tuple(Trigger)


class CveStatus(StrEnum):
    """A scan's ``cve_enrichment_status``."""

    PENDING = "PENDING"
    ENRICHING = "ENRICHING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"


CVE_STATUSES: tuple[CveStatus, ...] = tuple(CveStatus)


class Severity(StrEnum):
    """How bad a failed rule is; also the order findings are listed in."""

    CRITICAL = "CRITICAL"
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"
    INFO = "INFO"


SEVERITIES: tuple[Severity, ...] = tuple(Severity)


class ResultStatus(StrEnum):
    """A rule's verdict on one resource (one row of a scan's results).

    ``FAIL`` rows are the findings (``findings`` table, full detail, CVEs, muting); ``PASS`` and
    ``NOT_EVALUATED`` (the rule could not read what decides that one resource: its GET or a
    child answered 403, ...) are compact rows of ``scan_results``. A rule that could not run at
    all is not a per-resource result: its ``scan_rule_outcomes`` row says ``skipped`` or ``error``.
    """

    PASS = "PASS"
    FAIL = "FAIL"
    NOT_EVALUATED = "NOT_EVALUATED"


RESULT_STATUSES: tuple[ResultStatus, ...] = tuple(ResultStatus)
