"""One verdict on a deployed software version against the end-of-support table.

The rules about software past end of support (AKS, PostgreSQL, MySQL, App Service runtimes)
share it, so every such finding reads the same and carries ``metadata["software"]`` (CPE
vendor, product, version as Azure reports it) for CVE enrichment. Dates come from
:mod:`scanner.rules.support.lifecycle` and are compared with the time of collection.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from scanner.rules.support import lifecycle
from scanner.rules.support.base import Evaluation
from scanner.rules.support.helpers import verdict


def judge_version(resource: dict[str, Any], resource_type: str, product: str, raw: Any, today: date,
                  extension: timedelta = timedelta(0), plan: str = "") -> Evaluation:
    """One verdict for one product version reported by ``resource``."""
    name = lifecycle.DISPLAY_NAMES[product]
    if raw is None or str(raw).strip() == "":
        return verdict(resource, resource_type, None, f"{name} version not reported")
    text = str(raw).strip()
    parsed = lifecycle.parse_version(text)
    status = lifecycle.support_status(product, parsed) if parsed else None
    metadata: dict[str, Any] = {"software": lifecycle.software(product, text)}
    if status is None:
        return verdict(resource, resource_type, None, f"unrecognised {name} version {text!r}", metadata)
    ends = status.ends + extension if status.ends else None
    metadata["end_of_support"] = ends.isoformat() if ends else None
    if ends is None:
        return verdict(resource, resource_type, True, f"{name} {text} is newer than the support table", metadata)
    suffix = f" ({plan})" if plan else ""
    if today >= ends:
        return verdict(resource, resource_type, False,
                       f"{name} {text} has been out of support since {ends.isoformat()}{suffix}", metadata)
    return verdict(resource, resource_type, True, f"{name} {text} is supported until {ends.isoformat()}{suffix}",
                   metadata)
