"""Child inputs read from Azure Resource Graph (ARG) instead of one ARM read per parent.

ARM offers no subscription-wide list of a VM's extensions or of an App Service site's
``config/web``: read per parent they cost one request per VM and per site (1,500 of a
``large:10000`` scan's ~12,400). ARG indexes both ("Azure Resource Graph table and resource type
reference", https://learn.microsoft.com/azure/governance/resource-graph/reference/supported-tables-resources:
``microsoft.compute/virtualmachines/extensions`` in the ``resources`` table,
``microsoft.web/sites/config`` in ``appserviceresources``) and answers up to 1,000 rows per query
page, so a few queries replace those reads. SQL databases, which ARM lists only per server
("Databases - List By Server"), come from the same ``resources`` query
(``microsoft.sql/servers/databases``): only those the ARM subscription listing names are taken,
with the top-level keys that listing shows, and a server whose databases ARG has not indexed
yet is read per server, so ARM still decides what exists.

Why the REST call and not ``azure-mgmt-resourcegraph``: the query is one POST
(``/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01``, "Resources -
Resources", https://learn.microsoft.com/rest/api/azureresourcegraph/resourcegraph/resources/resources).
Sent through :class:`~scanner.azure.arm.ArmReader`'s pipeline it shares the scan's credential,
connection pool, retry policy and TLS context; the SDK client would build a second pipeline and
aiohttp session per scan and turn every row into a model only to turn it back into the JSON the
rules read. No dependency is added.

Rows keep the shape the per-parent read returns: ``id``, ``name``, ``type``, ``location``,
``properties`` projected, ``type`` restored to ARM's casing (ARG lower-cases it), grouped under
the parent id. A parent with no rows gets ``[]`` (a list child) or ``{}`` (a singleton: as a
per-parent 404 reads today).

Trade-off: ARG is eventually consistent — a change reaches it seconds to minutes after ARM
("Azure Resource Graph overview": resources are updated on change notifications, with a full
crawl as the backstop). A VM extension installed a minute before the scan may not be seen yet.
``OPENSHIELD_COLLECT_ARG=0`` turns ARG off (every child is read per parent from ARM); if ARG is
denied (403), refuses the query (400) or fails, the collector does the same and says so in the
scan log.

ARG's quota (15 queries per 5 s window per user, "Guidance for throttled requests",
https://learn.microsoft.com/azure/governance/resource-graph/concepts/guidance-for-throttled-requests)
is respected: when ``x-ms-user-quota-remaining`` reaches 0 the next page waits
``x-ms-user-quota-resets-after``; a 429 is retried after its ``Retry-After`` by the pipeline's
retry policy (told to retry this POST: it only reads), so no page is lost.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from scanner.inventory import ChildSpec

log = logging.getLogger(__name__)

ARG_API_VERSION = "2022-10-01"
ARG_PATH = "/providers/Microsoft.ResourceGraph/resources"
PAGE_ROWS = 1000  # ARG's largest $top
COLUMNS = ("id", "name", "type", "location", "properties")
QUOTA_REMAINING = "x-ms-user-quota-remaining"
QUOTA_RESETS_AFTER = "x-ms-user-quota-resets-after"


@dataclass(frozen=True)
class ArgChild:
    """Where ARG keeps one child input: its table, its (lower-case) ARG type and ARM's casing."""

    table: str
    arg_type: str
    arm_type: str


# (parent type, child path), lower case -> its ARG source
ARG_CHILDREN: dict[tuple[str, str], ArgChild] = {
    ("microsoft.compute/virtualmachines", "extensions"):
        ArgChild("resources", "microsoft.compute/virtualmachines/extensions",
                 "Microsoft.Compute/virtualMachines/extensions"),
    ("microsoft.web/sites", "config/web"):
        ArgChild("appserviceresources", "microsoft.web/sites/config", "Microsoft.Web/sites/config"),
}


# nested resource types ARM lists only per parent, read from ARG's ``resources`` table instead
# (``microsoft.sql/servers/databases``: "List By Server" is one request per server)
ARG_NESTED = frozenset({"microsoft.sql/servers/databases"})
# columns of a resource row; a body keeps those the ARM listing shows for it (plus properties)
RESOURCE_COLUMNS = ("id", "name", "type", "kind", "location", "managedBy", "sku", "identity", "plan",
                    "tags", "extendedLocation", "properties")


def arg_source(spec: ChildSpec) -> ArgChild | None:
    return ARG_CHILDREN.get((spec.parent_type.lower(), spec.path.lower()))


def queries(specs: list[ChildSpec], nested: frozenset[str] = frozenset()) -> dict[str, str]:
    """One query per table for the given children and nested resource types."""
    types: dict[str, set[str]] = {}
    for spec in specs:
        source = arg_source(spec)
        if source is not None:
            types.setdefault(source.table, set()).add(source.arg_type)
    if nested:
        types.setdefault("resources", set()).update(nested)
    return {table: f"{table} | where type in~ ({', '.join(repr(t) for t in sorted(wanted))}) "
                   f"| project {', '.join(RESOURCE_COLUMNS if table == 'resources' and nested else COLUMNS)}"
            for table, wanted in sorted(types.items())}


def resource_body(row: dict[str, Any], listed: dict[str, Any]) -> dict[str, Any]:
    """A nested resource's ARM body from its ARG row: the top-level keys the ARM listing shows
    for it (ARG fills absent ones with ``""``, ``{}`` or null), ``type`` in the listing's casing."""
    body = {c: row.get(c) for c in RESOURCE_COLUMNS if c in listed or c == "properties"}
    body["id"], body["type"] = listed["id"], listed["type"]
    return body


def parent_of(spec: ChildSpec, row_id: str) -> str | None:
    """The (lower-case) parent id a row belongs to for ``spec``, or None if it is not that child
    (``…/config/authsettingsV2`` is no ``config/web``)."""
    rid = row_id.lower().rstrip("/")
    path = spec.path.lower()
    if spec.is_list:
        parent, sep, name = rid.rpartition(f"/{path}/")
        return parent if sep and name and "/" not in name else None
    return rid[: -len(path) - 1] if rid.endswith(f"/{path}") else None


def group_rows(specs: list[ChildSpec], rows_by_table: Mapping[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """``spec.key -> {parent id -> payload}`` in the per-parent read's shape."""
    out: dict[str, dict[str, Any]] = {}
    for spec in specs:
        source = arg_source(spec)
        if source is None:
            continue
        found: dict[str, Any] = out.setdefault(spec.key, {})
        for row in rows_by_table.get(source.table, []):
            if str(row.get("type", "")).lower() != source.arg_type or not isinstance(row.get("id"), str):
                continue
            parent = parent_of(spec, row["id"])
            if parent is None:
                continue
            body = {c: row.get(c) for c in COLUMNS}
            body["type"] = source.arm_type
            if spec.is_list:
                found.setdefault(parent, []).append(body)
            else:
                found[parent] = body
        for items in found.values():
            if isinstance(items, list):
                items.sort(key=lambda item: str(item.get("id", "")).lower())
    return out


def quota_wait(headers: Mapping[str, str]) -> float:
    """Seconds to wait before the next query: ARG's reset time once the quota is spent, else 0."""
    remaining = headers.get(QUOTA_REMAINING)
    try:
        if remaining is None or int(remaining) > 0:
            return 0.0
    except ValueError:
        return 0.0
    return _hms_seconds(headers.get(QUOTA_RESETS_AFTER)) or 1.0


def _hms_seconds(value: str | None) -> float:
    """``hh:mm:ss`` -> seconds (0 if absent or malformed)."""
    try:
        hours, minutes, seconds = (float(part) for part in str(value).split(":"))
    except ValueError:
        return 0.0
    return max(0.0, hours * 3600 + minutes * 60 + seconds)


async def read_table(arm: Any, subscription_id: str, query: str) -> list[dict[str, Any]]:
    """Every row of one ARG query, following ``$skipToken``, waiting out a spent quota."""
    rows: list[dict[str, Any]] = []
    token: str | None = None
    pages = 0
    while True:
        options: dict[str, Any] = {"$top": PAGE_ROWS, "resultFormat": "objectArray"}
        if token:
            options["$skipToken"] = token
        body, headers = await arm.post_json(ARG_PATH, ARG_API_VERSION,
                                            {"subscriptions": [subscription_id], "query": query, "options": options})
        pages += 1
        data = body.get("data")
        if not isinstance(data, list):
            raise ValueError("Resource Graph answered without a row list")
        rows.extend(r for r in data if isinstance(r, dict))
        token = body.get("$skipToken")
        if not token:
            if str(body.get("resultTruncated", "false")).lower() == "true":
                raise ValueError("Resource Graph truncated the answer")
            log.debug("ARG query answered %d rows in %d pages", len(rows), pages)
            return rows
        wait = quota_wait(headers)
        if wait:
            log.info("Resource Graph quota spent; waiting %.1f s for it to reset", wait)
            await asyncio.sleep(wait)
