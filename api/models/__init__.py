"""Database models, engine setup and the scan state machine (no Flask imports here)."""

from api.models.base import Base, utcnow
from api.models.enrichment import EnrichmentRun, NvdCacheEntry
from api.models.finding import Finding, RuleOutcome
from api.models.scan import ACTIVE_STATUSES, PHASES, STATUSES, TERMINAL_STATUSES, Scan
from api.models.supervisor_beat import SupervisorBeat

__all__ = [
    "ACTIVE_STATUSES",
    "PHASES",
    "STATUSES",
    "TERMINAL_STATUSES",
    "Base",
    "EnrichmentRun",
    "Finding",
    "NvdCacheEntry",
    "RuleOutcome",
    "Scan",
    "SupervisorBeat",
    "utcnow",
]
