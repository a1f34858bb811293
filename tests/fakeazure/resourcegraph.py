"""Azure Resource Graph's ``resources`` table for the query shapes a scanner sends.

``POST /providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01`` with
``{"subscriptions": [...], "query": "...", "options": {"$top", "$skip", "$skipToken",
"resultFormat"}}`` (https://learn.microsoft.com/rest/api/azureresourcegraph/resourcegraph/resources/resources).
Answers ``{"totalRecords", "count", "data", "facets", "resultTruncated", "$skipToken"}``; rows
carry ARG's columns (``type`` lower-cased, ``resourceGroup``, ``subscriptionId``, ``tenantId``).
Pages hold ``$top`` rows (default 100, at most 1,000: "Working with large Azure resource data
sets", https://learn.microsoft.com/azure/governance/resource-graph/concepts/work-with-data);
paging with ``$skipToken`` needs ``id`` among the projected columns, otherwise a longer answer is
cut at the page with ``resultTruncated: "true"``.

Tables ("Azure Resource Graph table and resource type reference",
https://learn.microsoft.com/azure/governance/resource-graph/reference/supported-tables-resources):
``resources`` holds the tenant's resources plus the child types that page lists under it and the
tenant keeps as children (``microsoft.compute/virtualmachines/extensions``);
``appserviceresources`` holds ``microsoft.web/sites/config`` (each site's ``config/*`` children,
``config/web`` among them). Child rows come from the same tenant children the per-parent routes
answer from, so ARG and ARM can never disagree; a child the tenant plants as failing (``null``:
its per-parent read answers 404) has no row, as ARG indexes only what exists.

Understood (KQL, case-insensitive operators as in Kusto):

    resources | appserviceresources
    | where type in~ ('microsoft.storage/storageaccounts', ...)   (or: type =~ '...')
    | where subscriptionId == '...'                               (optional)
    | project id, name, type, properties, ...                     (optional)
    | order by id asc                                             (optional)

Anything else is refused with 400 ``BadRequest`` / ``InvalidQuery`` as ARG refuses a query it
cannot parse: never a silent wrong answer.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DEFAULT_TOP = 100
MAX_TOP = 1000
COLUMNS = ("id", "name", "type", "tenantId", "kind", "location", "resourceGroup", "subscriptionId",
           "managedBy", "sku", "plan", "properties", "tags", "identity", "zones", "extendedLocation")
_LOWER_COLUMNS = {c.lower(): c for c in COLUMNS}
_TYPE_IN = re.compile(r"^where\s+type\s+in~\s*\((.*)\)$", re.IGNORECASE | re.DOTALL)
_TYPE_EQ = re.compile(r"^where\s+type\s*=~\s*('[^']*'|\"[^\"]*\")$", re.IGNORECASE)
_SUB_EQ = re.compile(r"^where\s+subscriptionId\s*(?:==|=~)\s*('[^']*'|\"[^\"]*\")$", re.IGNORECASE)
_PROJECT = re.compile(r"^project\s+(.+)$", re.IGNORECASE | re.DOTALL)
_ORDER = re.compile(r"^(?:order|sort)\s+by\s+id(?:\s+(asc|desc))?$", re.IGNORECASE)
_STRING = re.compile(r"\s*('[^']*'|\"[^\"]*\")\s*(,|$)")
TABLES = ("resources", "appserviceresources")
# child types served as rows (lower case) -> the table that holds them
CHILD_TABLES = {
    "microsoft.compute/virtualmachines/extensions": "resources",
    "microsoft.web/sites/config": "appserviceresources",
}


class QueryError(ValueError):
    """A query outside the understood shapes (ARG: 400 BadRequest, InvalidQuery)."""


@dataclass(frozen=True)
class Query:
    table: str
    types: frozenset[str]
    subscription: str | None
    columns: tuple[str, ...]
    descending: bool


def _strings(text: str) -> list[str]:
    out: list[str] = []
    pos = 0
    while pos < len(text):
        m = _STRING.match(text, pos)
        if not m:
            raise QueryError(f"expected a list of string literals, got {text!r}")
        out.append(m.group(1)[1:-1])
        pos = m.end()
    if not out:
        raise QueryError("empty 'in~' list")
    return out


def parse(text: str) -> Query:
    stages = [s.strip() for s in text.strip().split("|")]
    if not stages or stages[0].lower() not in TABLES:
        raise QueryError(f"only the tables {', '.join(TABLES)} are served")
    types: set[str] | None = None
    subscription = None
    columns: tuple[str, ...] = COLUMNS
    descending = False
    for stage in stages[1:]:
        if m := _TYPE_IN.match(stage):
            types = {t.lower() for t in _strings(m.group(1))}
        elif m := _TYPE_EQ.match(stage):
            types = {m.group(1)[1:-1].lower()}
        elif m := _SUB_EQ.match(stage):
            subscription = m.group(1)[1:-1].lower()
        elif m := _PROJECT.match(stage):
            names = [c.strip() for c in m.group(1).split(",")]
            unknown = [c for c in names if c.lower() not in _LOWER_COLUMNS]
            if unknown or not all(names):
                raise QueryError(f"unknown column(s) in project: {', '.join(unknown) or '(empty)'}")
            columns = tuple(_LOWER_COLUMNS[c.lower()] for c in names)
        elif m := _ORDER.match(stage):
            descending = (m.group(1) or "asc").lower() == "desc"
        else:
            raise QueryError(f"unsupported query operator: {stage[:60]!r}")
    if types is None:
        raise QueryError("a 'where type in~ (...)' filter is required")
    return Query(stages[0].lower(), frozenset(types), subscription, columns, descending)


def arg_row(resource: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    """A resource as a row of ARG's ``resources`` table (every column)."""
    segs = resource["id"].split("/")
    group = segs[4].lower() if len(segs) > 4 and segs[3].lower() == "resourcegroups" else ""
    row = {c: resource.get(c) for c in COLUMNS}
    row.update({"id": resource["id"], "type": resource["type"].lower(), "tenantId": tenant_id,
                "resourceGroup": group, "subscriptionId": segs[2] if len(segs) > 2 else "",
                "kind": resource.get("kind") or "", "managedBy": resource.get("managedBy") or "",
                "properties": resource.get("properties") or {}, "tags": resource.get("tags") or {}})
    return row


class ResourceGraph:
    """Answers ARG queries over the tenant's resources."""

    def __init__(self, resources: list[dict[str, Any]], tenant_id: str,
                 children: dict[str, Any] | None = None) -> None:
        tables: dict[str, list[dict[str, Any]]] = {t: [] for t in TABLES}
        tables["resources"] = [arg_row(r, tenant_id) for r in resources]
        for item in child_items(children or {}):
            tables[CHILD_TABLES[item["type"].lower()]].append(arg_row(item, tenant_id))
        self.tables = {t: sorted(rows, key=lambda r: r["id"].lower()) for t, rows in tables.items()}
        self.rows = self.tables["resources"]

    def answer(self, body: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise QueryError("the request body must hold a 'query' string")
        query = parse(body["query"])
        options = body.get("options") or {}
        subscriptions = {str(s).lower() for s in body.get("subscriptions") or []}
        top = _int_option(options, "$top", DEFAULT_TOP)
        if not 1 <= top <= MAX_TOP:
            raise QueryError(f"$top must be between 1 and {MAX_TOP}")
        skip = _int_option(options, "$skip", 0)
        token = options.get("$skipToken")
        if token:
            skip = _decode(token)
        rows = [r for r in self.tables[query.table] if r["type"] in query.types
                and (not subscriptions or r["subscriptionId"].lower() in subscriptions)
                and (query.subscription is None or r["subscriptionId"].lower() == query.subscription)]
        if query.descending:
            rows.reverse()
        page = rows[skip:skip + top]
        more = skip + top < len(rows)
        answer: dict[str, Any] = {
            "totalRecords": len(rows),
            "count": len(page),
            "data": [{c: r[c] for c in query.columns} for r in page],
            "facets": [],
            "resultTruncated": "true" if more and "id" not in query.columns else "false",
        }
        if more and "id" in query.columns:
            answer["$skipToken"] = _encode(skip + top)
        return answer


def child_items(children: dict[str, Any]) -> list[dict[str, Any]]:
    """The tenant's child objects (and members of child collections) of a type ARG indexes."""
    items: list[dict[str, Any]] = []
    for payload in children.values():
        for item in payload if isinstance(payload, list) else [payload]:
            if isinstance(item, dict) and isinstance(item.get("id"), str) \
                    and str(item.get("type", "")).lower() in CHILD_TABLES:
                items.append(item)
    return items


def _int_option(options: dict[str, Any], key: str, default: int) -> int:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise QueryError(f"{key} must be an integer")
    return value


def _encode(offset: int) -> str:
    return json.dumps({"$skip": offset}).encode().hex()


def _decode(token: Any) -> int:
    try:
        offset = json.loads(bytes.fromhex(str(token)))["$skip"]
    except (ValueError, KeyError, TypeError):
        raise QueryError("the $skipToken is invalid") from None
    if not isinstance(offset, int) or offset < 0:
        raise QueryError("the $skipToken is invalid")
    return offset


def error_body(message: str, correlation: str) -> dict[str, Any]:
    """ARG's 400 for a query it does not accept."""
    return {"error": {"code": "BadRequest",
                      "message": f"Please provide below info when asking for support: correlationId = {correlation}.",
                      "details": [{"code": "InvalidQuery",
                                   "message": "Query is invalid. Please refer to the documentation for the Azure "
                                              "Resource Graph service and fix the error before retrying."},
                                  {"code": "ParserFailure", "message": message}]}}
