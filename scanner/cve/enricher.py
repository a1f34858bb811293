"""Look up the CVEs of the software that findings name, once per distinct software.

Used by the scan's ``enriching`` phase (on findings before they are saved) and by
``python -m scanner.enrich`` (on stored findings). It knows nothing of processes or scan state:
it asks NVD through :class:`~scanner.cve.nvd.NvdClient` and reports progress through a callback.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from scanner.cve.cache import NvdCache
from scanner.cve.matching import Software, finding_cves
from scanner.cve.nvd import NvdClient
from scanner.cve.ratelimit import SlidingWindowLimiter
from scanner.cve.settings import NvdSettings

log = logging.getLogger(__name__)

RATE_STATE_FILE = "nvd-ratelimit.json"

Progress = Callable[[int, int], None]
CveFields = tuple[list[dict[str, Any]], float | None, bool]


def build_client(settings: NvdSettings, database_url: str, data_dir: Path,
                 stop: threading.Event | None = None) -> NvdClient:
    """A client whose rate limit is shared by every process of this host (a file in the data dir)."""
    limiter = SlidingWindowLimiter(settings.rate_requests, settings.rate_seconds, data_dir / RATE_STATE_FILE)
    return NvdClient(settings, limiter, NvdCache(database_url), stop=stop)


def lookup(client: NvdClient, software: Iterable[Software], on_progress: Progress | None = None) -> dict[Software, CveFields]:
    """The CVE fields for each distinct software (raises ``NvdError`` if NVD cannot answer)."""
    distinct = sorted(set(software))
    found: dict[Software, CveFields] = {}
    for index, item in enumerate(distinct, start=1):
        cves = client.cves(item.query())
        found[item] = finding_cves(cves)
        log.info("%s: %d CVEs", item.label(), len(cves))
        if on_progress is not None:
            on_progress(index, len(distinct))
    return found
