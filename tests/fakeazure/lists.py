"""Per-type collections, as Azure Resource Manager serves them.

ARM lists every resource type at subscription and at resource-group scope with full properties
("List by subscription" / "List by resource group" of each provider's REST reference, for example
https://learn.microsoft.com/rest/api/storagerp/storage-accounts/list), paged with ``nextLink``;
nested types are listed under their parent (``…/servers/{x}/databases``,
https://learn.microsoft.com/rest/api/sql/databases/list-by-server); a collection of an existing
parent with no members is ``200 {"value": []}``, never 404 (ARM's resource-provider contract,
https://github.com/cloud-and-ai-microsoft/resource-provider-contract/blob/master/v1.0/proxy-api-reference.md
"Get Resources": "an empty array if no resources exist").

The index here is built once from the tenant: the same pre-serialised bodies the per-resource
GET answers with, so a list and a GET can never disagree.
"""

from __future__ import annotations

from typing import Any

from . import tenants as T

# Extension collections any resource may have (read under ``{resource id}/providers/...``).
EXTENSION_COLLECTIONS = frozenset({"microsoft.insights/diagnosticsettings"})
# Collections under a parent's singleton service (parent type -> path), e.g. a storage account's
# blob containers ("Blob Containers - List", GET {account}/blobServices/default/containers,
# https://learn.microsoft.com/en-us/rest/api/storagerp/blob-containers/list): empty when the
# tenant plants none.
SERVICE_COLLECTIONS = {"microsoft.storage/storageaccounts": frozenset({"blobservices/default/containers"})}


class TypeLists:
    """Full resource bodies grouped by type (subscription scope), by (group, type) and by parent
    collection (nested types), plus the collection names each parent type has."""

    def __init__(self, resources: list[dict[str, Any]], bodies: dict[str, bytes]) -> None:
        self.by_type: dict[str, list[bytes]] = {}
        self.by_group_type: dict[tuple[str, str], list[bytes]] = {}
        self.by_parent: dict[str, list[bytes]] = {}
        # parent type (lower) -> its child collection names (lower), for empty collections
        self.collections: dict[str, set[str]] = {}
        for parent, kids in T.CHILD_TYPES.items():
            self.collections.setdefault(parent.lower(), set()).update(k.lower() for k in kids)
        for full in T.API_VERSIONS:
            ns, _, rest = full.lower().partition("/")
            parts = rest.split("/")
            if len(parts) > 1:
                self.collections.setdefault(f"{ns}/{'/'.join(parts[:-1])}", set()).add(parts[-1])
        for res in resources:
            rid = res["id"].lower().rstrip("/")
            body = bodies[rid]
            rtype = res["type"].lower()
            ns, _, rest = rtype.partition("/")
            if "/" in rest:
                parent_collection = rid.rsplit("/", 1)[0]
                self.by_parent.setdefault(parent_collection, []).append(body)
                parent_type = rtype.rsplit("/", 1)[0]
                self.collections.setdefault(parent_type, set()).add(rtype.rsplit("/", 1)[1])
                continue
            self.by_type.setdefault(rtype, []).append(body)
            segs = rid.strip("/").split("/")
            if len(segs) > 3 and segs[2] == "resourcegroups":
                self.by_group_type.setdefault((segs[3], rtype), []).append(body)

    def subscription_list(self, rtype: str) -> list[bytes]:
        return self.by_type.get(rtype, [])

    def group_list(self, group: str, rtype: str) -> list[bytes]:
        return self.by_group_type.get((group, rtype), [])

    def child_collection(self, parent_type: str, parent_id: str, rest: list[str]) -> list[bytes] | None:
        """The members of ``{parent_id}/{rest}`` if it names a collection of ``parent_type``
        (``databases``, ``firewallRules``, ``providers/Microsoft.Insights/diagnosticSettings``);
        None if it names no collection. Members held as tenant children are served elsewhere."""
        if len(rest) == 1 and rest[0] in self.collections.get(parent_type, ()):
            return self.by_parent.get(f"{parent_id}/{rest[0]}", [])
        if len(rest) == 3 and rest[0] == "providers" and f"{rest[1]}/{rest[2]}" in EXTENSION_COLLECTIONS:
            return []
        if "/".join(rest) in SERVICE_COLLECTIONS.get(parent_type, ()):
            return []
        return None
