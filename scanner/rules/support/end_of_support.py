"""One judgement on a deployed software version against the end-of-support table.

The rules about software past end of support (AKS, PostgreSQL, MySQL, App Service runtimes)
share it, so every such finding reads the same and carries ``metadata["software"]`` (CPE
vendor, product, version as Azure reports it) for CVE enrichment. Dates come from
:mod:`scanner.rules.support.lifecycle` and are compared with the time of collection.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from scanner.rules.support import lifecycle
from scanner.rules.support.helpers import Judgement


def judge_version(product: str, raw: Any, today: date, extension: timedelta = timedelta(0),
                  plan: str = "") -> Judgement:
    """The judgement on one ``product`` version as a resource reports it (``raw``): failed on
    or after its end of support (pushed back by ``extension`` for a paid support ``plan``)."""
    name = lifecycle.DISPLAY_NAMES[product]
    if raw is None or str(raw).strip() == "":
        return Judgement(None, f"{name} version not reported")
    text = str(raw).strip()
    parsed = lifecycle.parse_version(text)
    status = lifecycle.support_status(product, parsed) if parsed else None
    metadata: dict[str, Any] = {"software": lifecycle.software(product, text)}
    if status is None:
        return Judgement(None, f"unrecognised {name} version {text!r}", metadata)
    ends = status.ends + extension if status.ends else None
    metadata["end_of_support"] = ends.isoformat() if ends else None
    if ends is None:
        return Judgement(True, f"{name} {text} is newer than the support table", metadata)
    suffix = f" ({plan})" if plan else ""
    if today >= ends:
        return Judgement(False, f"{name} {text} has been out of support since {ends.isoformat()}{suffix}", metadata)
    return Judgement(True, f"{name} {text} is supported until {ends.isoformat()}{suffix}", metadata)
