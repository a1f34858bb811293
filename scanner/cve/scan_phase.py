"""The scan's ``enriching`` phase: CVEs for the findings about deployed software, before saving.

Enrichment never fails a scan. If NVD cannot answer, the scan still completes with its findings
and records ``cve_enrichment_status=FAILED`` with a short reason (re-enrich later with
``POST /api/scans/<id>/enrich``). No finding naming software, or ``OPENSHIELD_CVE_ENRICHMENT=0``,
gives ``SKIPPED``. A cancel or a signal still stops the scan at once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from store.settings import Settings
from scanner.cve.enricher import build_client, lookup
from scanner.cve.matching import Software
from scanner.cve.nvd import NvdError
from scanner.cve.ratelimit import Stopped
from scanner.cve.settings import NvdSettings

log = logging.getLogger(__name__)

# the share of the progress bar before enrichment (collect + evaluate) and what it may add
ENRICH_FROM = 90
ENRICH_SHARE = 9


class EnrichSink(Protocol):
    def phase(self, name: str) -> None: ...
    def enriching(self, done: int, total: int, percent: int) -> None: ...


class EnrichmentStopped(Exception):
    """The scan was asked to stop while enriching."""


def enrich_rows(rows: list[dict[str, Any]], *, settings: Settings, scan_id: str, sink: EnrichSink,
                stop: threading.Event) -> tuple[str, str | None]:
    """Fill the CVE fields of ``rows`` (finding rows) in place; (``cve_enrichment_status``, error)."""
    try:
        nvd = NvdSettings.from_env()
    except ValueError as exc:
        return "FAILED", f"CVE enrichment is misconfigured: {exc}"
    if not nvd.enabled:
        return "SKIPPED", None
    targets = [(row, sw) for row in rows if (sw := Software.from_metadata(row.get("metadata"))) is not None]
    if not targets:
        return "SKIPPED", None
    # The scan's cve_enrichment_status stays PENDING until the scan completes (it is stored with
    # the findings, in one transaction); phase "enriching" shows the work. ENRICHING is kept for
    # re-enrichment processes, so a scan that fails here never shows a stale ENRICHING.
    sink.phase("enriching")
    client = build_client(nvd, settings.database_url, settings.data_dir, stop)

    def progress(done: int, total: int) -> None:
        sink.enriching(done, total, ENRICH_FROM + ENRICH_SHARE * done // max(total, 1))

    try:
        found = lookup(client, [sw for _, sw in targets], progress)
    except Stopped:
        raise EnrichmentStopped() from None
    except NvdError as exc:
        log.warning("CVE enrichment failed: %s", exc)
        return "FAILED", str(exc)
    except Exception as exc:  # noqa: BLE001 - enrichment must not sink the scan; traceback to scan.log
        log.exception("CVE enrichment failed")
        return "FAILED", f"internal error during CVE enrichment: {type(exc).__name__}"
    for row, sw in targets:
        row["cve_references"], row["cvss_score"], row["exploit_available"] = found[sw]
    log.info("scan %s: CVE enrichment of %d findings, %d NVD requests, %d cache hits", scan_id, len(targets),
             client.requests_sent, client.cache_hits)
    return "COMPLETED", None
