"""What one scan collected from Azure Resource Manager and Microsoft Graph.

Rules are pure functions over an :class:`Inventory`; they never call Azure themselves. The
inventory keeps every object in its REST shape (camelCase keys, ARM ``properties`` nested), so
that a tenant file, the emulator and a real subscription look alike to a rule.

Data that could not be read is not silently empty: ``unavailable`` maps a data key (see
:class:`Needs`) to the reason, and ``unreadable`` maps single resources whose detail GET
failed. The engine turns the former into a *skipped* rule outcome; rules turn the latter into
"could not evaluate" results instead of pretending the resource is compliant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Iterable


class _Missing:
    """Sentinel for a child resource that was not collected or could not be read."""

    _instance: "_Missing | None" = None

    def __new__(cls) -> "_Missing":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class ChildSpec:
    """A child or extension resource read under each resource of ``parent_type``.

    ``path`` is appended to the parent id (``{parent_id}/{path}``); ``is_list`` says the answer
    is an ARM collection (``{"value": [...]}``, possibly paged) rather than one object. A path
    may carry a query string, already URL-encoded (``backupProtectedItems?$filter=...``); the
    api-version is added to it. Which api-version reads it is the collector's business
    (``scanner/azure/api_versions.py``).
    """

    parent_type: str
    path: str
    is_list: bool = False

    @cached_property
    def key(self) -> str:
        # cached: rules ask for it once per resource they judge (tens of thousands per scan)
        return f"child:{self.parent_type.lower()}/{self.path}"

    @property
    def name(self) -> str:
        """The path without its query string (``backupProtectedItems?$filter=...`` reads as
        ``backupProtectedItems``), for messages."""
        return self.path.split("?", 1)[0]


@dataclass(frozen=True)
class SubscriptionRead:
    """A read of one subscription-scope path that is not a listed resource, such as
    ``providers/Microsoft.Security/pricings`` or the subscription's activity-log diagnostic
    settings. ``path`` is relative to ``/subscriptions/{id}/``; ``label`` names the data in
    words for skip reasons. The answer is an ARM collection (``{"value": [...]}``, paged); its
    api-version is pinned in ``scanner/azure/api_versions.py``."""

    path: str
    label: str
    # what to grant when ARM answers 403 (empty: Reader on the subscription)
    grant: str = ""

    @cached_property
    def key(self) -> str:
        return f"sub:{self.path.lower()}"

    @property
    def tenant_level(self) -> bool:
        """A ``path`` starting with ``/`` is a tenant-level collection (``/providers/...``, such
        as Entra ID's diagnostic settings), read as it is rather than under the subscription;
        each subscription's scan reads it once, so its rules judge the tenant like the Graph
        policy rules do."""
        return self.path.startswith("/")


@dataclass(frozen=True)
class TenantRead:
    """A GET of one tenant-scope ARM object (``path`` from the ARM root, e.g.
    ``/providers/Microsoft.Subscription/policies/default``), not a collection. ``label`` names
    it in skip reasons and ``action`` is the RBAC action that reads it (named when ARM answers
    403: the object lies outside the subscription the identity is Reader on)."""

    path: str
    label: str
    action: str

    @property
    def key(self) -> str:
        return f"tenant:{self.path.lower()}"


@dataclass(frozen=True)
class DestinationRead:
    """A child read only under the resources that a subscription-scope read points at: the
    ``field`` property (e.g. ``storageAccountId``) of each item ``source`` returned names a
    parent, and ``child`` is read under each such parent in this subscription, never under every
    resource of the type. CIS 5.1.3 asks about the containers of the activity log's storage
    account only; reading the containers of every account would cost one request per account."""

    source: SubscriptionRead
    field: str
    child: ChildSpec

    @property
    def key(self) -> str:
        return f"{self.child.key}<{self.source.key}.{self.field}"


@dataclass(frozen=True)
class Needs:
    """The data a rule reads; the collector fetches the union of all selected rules' needs once.

    ``resource_types`` are ARM types (any case; compared lower-cased) whose full GET is needed.
    ``graph`` lists Microsoft Graph collections (see ``scanner.azure.graph.COLLECTIONS``) the rule
    cannot work without; ``optional_graph`` ones it only uses to enrich its findings (a missing
    optional collection does not skip the rule).
    """

    resource_types: frozenset[str] = frozenset()
    children: tuple[ChildSpec, ...] = ()
    graph: frozenset[str] = frozenset()
    optional_graph: frozenset[str] = frozenset()
    role_assignments: bool = False
    role_definitions: bool = False
    subscription_reads: tuple[SubscriptionRead, ...] = ()
    # children read only under the parents a subscription read names (their source read is
    # required; a parent whose child read failed is recorded per parent, like any child)
    destination_reads: tuple[DestinationRead, ...] = ()
    tenant_reads: tuple[TenantRead, ...] = ()

    def required_keys(self) -> list[str]:
        """Data keys whose absence makes the rule impossible to evaluate."""
        keys = [arm_key(t) for t in sorted(self.resource_types)]
        keys += [c.key for c in self.children]
        keys += [graph_key(g) for g in sorted(self.graph)]
        if self.role_assignments:
            keys.append(ROLE_ASSIGNMENTS_KEY)
        if self.role_definitions:
            keys.append(ROLE_DEFINITIONS_KEY)
        keys += [r.key for r in self.subscription_reads]
        keys += [d.source.key for d in self.destination_reads if d.source not in self.subscription_reads]
        keys += [t.key for t in self.tenant_reads]
        return keys

    @staticmethod
    def union(needs: Iterable["Needs"]) -> "Needs":
        types: set[str] = set()
        children: dict[str, ChildSpec] = {}
        graph: set[str] = set()
        optional: set[str] = set()
        assignments = definitions = False
        reads: dict[str, SubscriptionRead] = {}
        linked: dict[str, DestinationRead] = {}
        tenant: dict[str, TenantRead] = {}
        for need in needs:
            types |= {t.lower() for t in need.resource_types}
            for child in need.children:
                children.setdefault(child.key, child)
            graph |= need.graph
            optional |= need.optional_graph
            assignments = assignments or need.role_assignments
            definitions = definitions or need.role_definitions
            for read in need.subscription_reads:
                reads.setdefault(read.key, read)
            for dest in need.destination_reads:
                linked.setdefault(dest.key, dest)
                reads.setdefault(dest.source.key, dest.source)
            for read in need.tenant_reads:
                tenant.setdefault(read.key, read)
        return Needs(
            resource_types=frozenset(types),
            children=tuple(children[k] for k in sorted(children)),
            graph=frozenset(graph),
            optional_graph=frozenset(optional - graph),
            role_assignments=assignments,
            role_definitions=definitions,
            subscription_reads=tuple(reads[k] for k in sorted(reads)),
            destination_reads=tuple(linked[k] for k in sorted(linked)),
            tenant_reads=tuple(tenant[k] for k in sorted(tenant)),
        )


ROLE_ASSIGNMENTS_KEY = "arm:roleAssignments"
ROLE_DEFINITIONS_KEY = "arm:roleDefinitions"


def arm_key(resource_type: str) -> str:
    return f"arm:{resource_type.lower()}"


def graph_key(collection: str) -> str:
    return f"graph:{collection}"


@dataclass
class Inventory:
    """Everything collected for one subscription and its tenant."""

    subscription_id: str
    # when collection ran; rules that compare dates use this, never the wall clock
    collected_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    # lower-cased ARM type -> full resources (REST shape) whose GET succeeded
    resources: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # ChildSpec.key -> {lower-cased parent id -> payload (dict, or list for is_list specs)}
    children: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Graph collection name -> objects (REST shape)
    graph: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    role_assignments: list[dict[str, Any]] = field(default_factory=list)
    role_definitions: list[dict[str, Any]] = field(default_factory=list)
    # SubscriptionRead.key -> the collection read (list of REST objects)
    subscription_reads: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # TenantRead.key -> the object read
    tenant_reads: dict[str, dict[str, Any]] = field(default_factory=dict)
    # data key -> why it could not be read at all (403, throttled out, ...)
    unavailable: dict[str, str] = field(default_factory=dict)
    # lower-cased resource id (or "<child key>|<parent id>") -> why that one could not be read
    unreadable: dict[str, str] = field(default_factory=dict)
    # every resource the subscription listing returned, needed by a rule or not
    resource_count: int = 0
    # normalised location (lower case, no spaces) -> how many listed resources are there; every
    # listed resource counts, needed by a rule or not (AZ-NET-009 compares regions in use with
    # the regions that have a Network Watcher)
    locations: dict[str, int] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        """Readable resources of one ARM type (case-insensitive)."""
        return self.resources.get(resource_type.lower(), [])

    def unreadable_of_type(self, resource_type: str) -> dict[str, str]:
        """Resources of a type that were listed but whose GET failed: id -> reason."""
        prefix_type = resource_type.lower()
        return {
            rid: reason
            for rid, reason in self.unreadable.items()
            if "|" not in rid and _type_of_id(rid) == prefix_type
        }

    def child(self, spec: ChildSpec, parent_id: str) -> Any:
        """The child payload under ``parent_id``, or :data:`MISSING` if it could not be read."""
        return self.children.get(spec.key, {}).get(parent_id.lower(), MISSING)

    def child_error(self, spec: ChildSpec, parent_id: str) -> str:
        """Why a child could not be read (empty if it was read or never asked for)."""
        return self.unreadable.get(f"{spec.key}|{parent_id.lower()}", "")

    def subscription_read(self, read: SubscriptionRead) -> Any:
        """The collection a :class:`SubscriptionRead` returned, or :data:`MISSING` if it was not
        read (not collected, or unavailable: then ``unavailable[read.key]`` says why)."""
        return self.subscription_reads.get(read.key, MISSING)

    def tenant_read(self, read: TenantRead) -> Any:
        """The object a :class:`TenantRead` returned, or :data:`MISSING` if it was not read."""
        return self.tenant_reads.get(read.key, MISSING)

    def graph_objects(self, collection: str) -> list[dict[str, Any]]:
        return self.graph.get(collection, [])

    def has(self, key: str) -> bool:
        return key not in self.unavailable


def _type_of_id(resource_id: str) -> str:
    """``/subscriptions/s/resourceGroups/g/providers/Microsoft.X/a/n/b/m`` -> ``microsoft.x/a/b``."""
    parts = resource_id.strip("/").split("/")
    try:
        idx = [p.lower() for p in parts].index("providers")
    except ValueError:
        return ""
    tail = parts[idx + 1 :]
    if not tail:
        return ""
    names = [tail[0]] + tail[1::2]
    return "/".join(names).lower()


def normalise_location(location: Any) -> str:
    """``"West Europe"`` / ``"westeurope"`` -> ``"westeurope"`` ('' for absent)."""
    return str(location or "").replace(" ", "").lower()


def resource_type_of_id(resource_id: str) -> str:
    """Public form of the id -> type helper (lower-cased)."""
    return _type_of_id(resource_id)


def props(resource: dict[str, Any]) -> dict[str, Any]:
    """A resource's ``properties`` (empty dict if absent or null)."""
    value = resource.get("properties")
    return value if isinstance(value, dict) else {}
