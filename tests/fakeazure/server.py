"""The HTTPS emulator: Entra ID token endpoints, ARM and Microsoft Graph on one port.

Design for throughput: one thread per (keep-alive) connection, a small hand-written HTTP/1.1
loop instead of ``http.server``'s header parser, every JSON document pre-serialised to bytes
when the tenant is indexed, one ``send`` per response (TCP_NODELAY), no per-request logging.
Routes are classified first (for statistics and fault injection), then authenticated, then
possibly answered by an injected fault, and only then served.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import socket
import socketserver
import ssl
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any, Callable
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from . import resourcegraph as ARG
from . import tenants as T
from .lists import TypeLists
from .nvd import FakeNvd
from .oidc import FakeOidc
from .throttle import Arrivals, ArgThrottle, ArmThrottle, Decision, Limit

JSON = "application/json; charset=utf-8"
GRAPH_JSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

MAX_LINE = 65536
MAX_HEADERS = 200
MAX_BODY = 1 << 20
HANDSHAKE_TIMEOUT = 10.0
IDLE_TIMEOUT = 300.0
GRAPH_MAX_TOP = 999

_API_VERSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(-[a-z]+)?$", re.IGNORECASE)
# ``Backup Protected Items - List`` $filter: the one OData clause the emulator understands
_BACKUP_FILTER_RE = re.compile(r"^\s*backupManagementType\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)
_FILTER_CLAUSE_RE = re.compile(r"^\s*(resourceType|resourceGroup|name)\s+eq\s+'([^']*)'\s*$", re.IGNORECASE)
_REASONS = {s.value: s.phrase for s in HTTPStatus}
# "ns/type" (lower-cased) of subscription-scope collections -> short name (T.SUBSCRIPTION_READS)
_SUBSCRIPTION_READ_TYPES = {t.lower(): name for name, t in T.SUBSCRIPTION_READS.items() if name not in T.TENANT_COLLECTIONS}
# "ns/type" (lower-cased) of tenant-level collections (``/providers/<ns>/<type>``) -> short name
_TENANT_READ_TYPES = {t.lower(): name for name, t in T.TENANT_COLLECTIONS.items()}
_LOCATION_NAMES = {
    "westeurope": "West Europe", "northeurope": "North Europe", "eastus": "East US",
    "eastus2": "East US 2", "westus": "West US", "westus2": "West US 2", "uksouth": "UK South",
    "centralus": "Central US", "swedencentral": "Sweden Central", "germanywestcentral": "Germany West Central",
}
GRAPH_ROUTES = {  # lower-cased collection path -> canonical collection name
    "users": "users",
    "reports/authenticationmethods/userregistrationdetails": "userRegistrationDetails",
    "directoryroles": "directoryRoles",
    "applications": "applications",
    "serviceprincipals": "servicePrincipals",
    "identity/conditionalaccess/policies": "conditionalAccessPolicies",
    "groupsettings": "groupSettings",
}
# lower-cased singleton path -> the one-item collection that holds the object (Graph answers
# ``GET /policies/authorizationPolicy`` with the object itself, ``$metadata#policies/...$entity``)
GRAPH_SINGLETONS = {
    "policies/authorizationpolicy": "authorizationPolicy",
    "policies/identitysecuritydefaultsenforcementpolicy": "securityDefaults",
}
_GRAPH_CONTEXT = {
    "conditionalAccessPolicies": "identity/conditionalAccess/policies",
    "authorizationPolicy": "policies/authorizationPolicy",
    "securityDefaults": "policies/identitySecurityDefaultsEnforcementPolicy",
    "users": "users",
    "userRegistrationDetails": "reports/authenticationMethods/userRegistrationDetails",
    "directoryRoles": "directoryRoles",
    "applications": "applications",
    "servicePrincipals": "servicePrincipals",
    "groupSettings": "groupSettings",
}


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def _decode_skiptoken(token: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if not raw.startswith("o") or not raw[1:].isdigit():
        return None
    return int(raw[1:])


def _type_of_segments(segs: list[str]) -> str:
    """``[..., 'providers', 'ns', 'type', 'name', ...]`` -> ``ns/type`` (lower-cased) or ''.

    The LAST ``providers`` segment decides: an extension resource such as
    ``{vaultId}/providers/Microsoft.Insights/diagnosticSettings`` is versioned by its own
    provider (Microsoft.Insights), not by the resource it extends (the vault)."""
    for i in range(len(segs) - 1, -1, -1):
        if segs[i] == "providers" and i + 2 < len(segs):
            return f"{segs[i + 1]}/{segs[i + 2]}"
    return ""


# ---------------------------------------------------------------------------------------------
# state: faults and statistics
# ---------------------------------------------------------------------------------------------


class Faults:
    """Runtime-changeable fault injection settings (shared by all handler threads)."""

    KEYS = ("latency_ms", "throttle_every", "retry_after", "fail_every", "forbid_graph", "forbid_arm",
            "forbid_lists", "arg_status")
    ARG_STATUSES = (0, 400, 403, 500)

    def __init__(self, latency_ms: float = 0, throttle_every: int = 0, retry_after: float = 1,
                 fail_every: int = 0, forbid_graph: list[str] | tuple[str, ...] = (),
                 forbid_arm: list[str] | tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self.latency_ms = 0.0
        self.throttle_every = 0
        self.retry_after: float = 1
        self.fail_every = 0
        self.forbid_graph: frozenset[str] = frozenset()
        self.forbid_arm: frozenset[str] = frozenset()  # subscription-read short names, lower-cased
        self.forbid_lists: frozenset[str] = frozenset()  # ARM types whose per-type list answers 403
        self.arg_status = 0  # non-zero: every Resource Graph query answers this error (403 denied, 400 refused)
        self._seq = 0
        self.update({"latency_ms": latency_ms, "throttle_every": throttle_every, "retry_after": retry_after,
                     "fail_every": fail_every, "forbid_graph": list(forbid_graph), "forbid_arm": list(forbid_arm)})

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        unknown = set(changes) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        parsed: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "forbid_arm":
                if isinstance(value, str):
                    value = [v for v in value.split(",") if v.strip()]
                if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                    raise ValueError("forbid_arm must be a list of subscription read names")
                names = frozenset(v.strip().lower() for v in value if v.strip())
                unknown_reads = names - {r.lower() for r in T.FORBIDDABLE_ARM_READS}
                if unknown_reads:
                    raise ValueError(f"unknown subscription reads: {', '.join(sorted(unknown_reads))} "
                                     f"(known: {', '.join(T.FORBIDDABLE_ARM_READS)})")
                parsed[key] = names
                continue
            if key == "forbid_lists":
                if isinstance(value, str):
                    value = [v for v in value.split(",") if v.strip()]
                if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and "/" in v for v in value):
                    raise ValueError("forbid_lists must be a list of resource types (namespace/type)")
                parsed[key] = frozenset(v.strip().lower() for v in value if v.strip())
                continue
            if key == "forbid_graph":
                if isinstance(value, str):
                    value = [v for v in value.split(",") if v.strip()]
                if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                    raise ValueError("forbid_graph must be a list of collection names")
                names = frozenset(v.strip().lower() for v in value if v.strip())
                unknown_colls = names - {c.lower() for c in T.GRAPH_COLLECTIONS}
                if unknown_colls:
                    raise ValueError(f"unknown Graph collections: {', '.join(sorted(unknown_colls))}")
                parsed[key] = names
                continue
            if key == "arg_status":
                if isinstance(value, bool) or value not in self.ARG_STATUSES:
                    raise ValueError(f"arg_status must be one of {', '.join(map(str, self.ARG_STATUSES))}")
                parsed[key] = int(value)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{key} must be a number >= 0")
            if key in ("throttle_every", "fail_every"):
                if int(value) != value:
                    raise ValueError(f"{key} must be an integer")
                value = int(value)
            parsed[key] = value
        with self._lock:
            for key, value in parsed.items():
                setattr(self, key, value)
            self._seq = 0
        return self.as_dict()

    def next_fault(self) -> int:
        """0, 429 or 503 for the next counted ARM/Graph request."""
        throttle, fail = self.throttle_every, self.fail_every
        if not throttle and not fail:
            return 0
        with self._lock:
            self._seq += 1
            seq = self._seq
        if throttle and seq % throttle == 0:
            return 429
        if fail and seq % fail == 0:
            return 503
        return 0

    def reset_sequence(self) -> None:
        with self._lock:
            self._seq = 0

    def retry_after_header(self) -> str:
        value = self.retry_after
        return str(int(value)) if float(value).is_integer() else f"{value:g}"

    def as_dict(self) -> dict[str, Any]:
        graph_names = {c.lower(): c for c in T.GRAPH_COLLECTIONS}
        read_names = {r.lower(): r for r in T.FORBIDDABLE_ARM_READS}
        return {
            "latency_ms": self.latency_ms,
            "throttle_every": self.throttle_every,
            "retry_after": self.retry_after,
            "fail_every": self.fail_every,
            "forbid_graph": sorted(graph_names.get(c, c) for c in self.forbid_graph),
            "forbid_arm": sorted(read_names.get(c, c) for c in self.forbid_arm),
            "forbid_lists": sorted(self.forbid_lists),
            "arg_status": self.arg_status,
        }


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.total = 0
        self.by_route: dict[str, int] = {}
        self.by_group: dict[str, int] = {}
        self.by_status: dict[str, int] = {}

    def reset_locked(self) -> None:
        with self._lock:
            self.reset()

    def record(self, group: str, route: str, status: int) -> None:
        with self._lock:
            self.total += 1
            self.by_route[route] = self.by_route.get(route, 0) + 1
            self.by_group[group] = self.by_group.get(group, 0) + 1
            key = str(status)
            self.by_status[key] = self.by_status.get(key, 0) + 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self.total, "by_route": dict(self.by_route), "by_group": dict(self.by_group),
                    "by_status": dict(self.by_status)}


# ---------------------------------------------------------------------------------------------
# tenant index: everything pre-serialised
# ---------------------------------------------------------------------------------------------


class TenantIndex:
    def __init__(self, tenant: dict[str, Any], name: str = "tenant") -> None:
        tenant = T.normalize(tenant, name)
        self.tenant = tenant
        self.name = name
        self.tenant_id: str = tenant["tenantId"]
        self.subscription_id: str = tenant["subscriptionId"]
        self.client_id: str = tenant["clientId"]
        self.sub = self.subscription_id.lower()
        self.domain = str(tenant.get("domain") or T.TENANT_DOMAIN)
        self.tenant_aliases = {self.tenant_id.lower(), self.domain.lower()}

        self.api_versions = {k.lower(): set(v) for k, v in T.API_VERSIONS.items()}
        self.type_names = {k.lower(): k for k in T.API_VERSIONS}
        self.resource_bytes: dict[str, bytes] = {}
        self.resource_type: dict[str, str] = {}
        self.list_items: list[tuple[str, str, str, bytes]] = []  # (type, rg, name, summary bytes)
        rgs: dict[str, tuple[str, str]] = {}
        for res in tenant["resources"]:
            rid = res["id"].lower().rstrip("/")
            self.resource_bytes[rid] = dumps(res)
            self.resource_type[rid] = res["type"].lower()
            summary = {k: res[k] for k in ("id", "name", "type", "kind", "location", "managedBy", "sku",
                                           "identity", "plan", "tags", "extendedLocation") if k in res}
            segs = res["id"].strip("/").split("/")
            rg = segs[3] if len(segs) > 3 and segs[2].lower() == "resourcegroups" else ""
            if rg and rg.lower() not in rgs:
                rgs[rg.lower()] = (rg, res.get("location") or "")
            self.list_items.append((res["type"].lower(), rg.lower(), res["name"].lower(), dumps(summary)))
        self.resource_groups = rgs
        self.lists = TypeLists(tenant["resources"], self.resource_bytes)  # per-type collections (lists.py)
        self._resource_graph: ARG.ResourceGraph | None = None  # built on the first query
        self._resource_graph_lock = threading.Lock()
        self._filter_cache: dict[str, list[bytes]] = {}
        self._filter_lock = threading.Lock()

        # children: object -> bytes, collection -> list of item bytes (+ items addressable by id)
        self.child_objects: dict[str, bytes] = {}
        self.child_lists: dict[str, list[bytes]] = {}
        self.child_items: dict[str, bytes] = {}
        self.failing_children: set[str] = set()  # a null child: reading it answers 404
        for key, payload in tenant["children"].items():
            lkey = key.lower().rstrip("/")
            if payload is None:
                self.failing_children.add(lkey)
            elif isinstance(payload, list):
                self.child_lists[lkey] = [dumps(item) for item in payload]
                for item in payload:
                    if isinstance(item, dict) and isinstance(item.get("id"), str):
                        self.child_items[item["id"].lower().rstrip("/")] = dumps(item)
            else:
                self.child_objects[lkey] = dumps(payload)

        self.role_assignments = [dumps(a) for a in tenant["roleAssignments"]]
        self.role_definitions = [dumps(d) for d in tenant["roleDefinitions"]]
        self.role_assignment_by_name = {str(a.get("name", "")).lower(): dumps(a) for a in tenant["roleAssignments"]}
        self.role_definition_by_name = {str(d.get("name", "")).lower(): dumps(d) for d in tenant["roleDefinitions"]}

        graph = tenant["graph"]
        self.graph_items: dict[str, list[bytes]] = {}
        self.graph_by_id: dict[str, dict[str, bytes]] = {}
        for coll in T.GRAPH_COLLECTIONS:
            items = graph.get(coll, [])
            if coll == "directoryRoles":
                bare = [{k: v for k, v in role.items() if k != "members"} for role in items]
                self.graph_items[coll] = [dumps(r) for r in bare]
                self.graph_items["directoryRoles+members"] = [
                    dumps({**r, "members": role.get("members", [])}) for r, role in zip(bare, items)]
                self.role_members = {str(role.get("id", "")).lower(): [dumps(m) for m in role.get("members", [])]
                                     for role in items}
                by_id = {str(r.get("id", "")).lower(): dumps(r) for r in bare}
                by_id.update({str(r.get("roleTemplateId", "")).lower(): dumps(r) for r in bare if r.get("roleTemplateId")})
            elif coll == "applications":
                # like Graph, owners appear only with $expand=owners (then always, [] when none)
                bare = [{k: v for k, v in app.items() if k != "owners"} for app in items]
                self.graph_items[coll] = [dumps(a) for a in bare]
                self.graph_items["applications+owners"] = [
                    dumps({**a, "owners": app.get("owners") or []}) for a, app in zip(bare, items)]
                by_id = {str(a.get("id", "")).lower(): b for a, b in zip(bare, self.graph_items[coll])}
            else:
                self.graph_items[coll] = [dumps(o) for o in items]
                by_id = {str(o.get("id", "")).lower(): b for o, b in zip(items, self.graph_items[coll])}
                if coll == "users":
                    by_id.update({str(o.get("userPrincipalName", "")).lower(): b
                                  for o, b in zip(items, self.graph_items[coll])})
            self.graph_by_id[coll] = by_id
        self.organization = dumps({
            "id": self.tenant_id,
            "displayName": tenant.get("organizationName", "OpenShield Demo"),
            "tenantType": "AAD",
            "verifiedDomains": [{"name": self.domain, "isDefault": True, "isInitial": True,
                                 "type": "Managed", "capabilities": "Email, OfficeCommunicationsOnline"}],
        })
        self._build_providers(tenant)
        self.subscription = dumps({
            "id": f"/subscriptions/{self.subscription_id}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": self.subscription_id,
            "tenantId": self.tenant_id,
            "displayName": tenant.get("subscriptionName", "OpenShield Demo Subscription"),
            "state": "Enabled",
            "subscriptionPolicies": {"locationPlacementId": "Public_2014-09-01",
                                     "quotaId": "PayAsYouGo_2014-09-01", "spendingLimit": "Off"},
        })
        self.summary = T.summary(tenant)

    def _build_providers(self, tenant: dict[str, Any]) -> None:
        locations = sorted({_LOCATION_NAMES.get(str(r.get("location", "")).lower(), str(r.get("location", "")))
                            for r in tenant["resources"] if r.get("location")})
        types: dict[str, dict[str, str]] = {}  # ns lower -> {type lower: canonical}
        ns_names: dict[str, str] = {}

        def add(full_type: str) -> None:
            ns, _, rtype = full_type.partition("/")
            if not rtype:
                return
            ns_names.setdefault(ns.lower(), ns)
            types.setdefault(ns.lower(), {}).setdefault(rtype.lower(), rtype)

        for full_type in T.API_VERSIONS:
            add(full_type)
        for ns in T.NAMESPACE_API_VERSIONS:
            ns_names.setdefault(ns.lower(), ns)
        add("Microsoft.Authorization/roleAssignments")
        add("Microsoft.Authorization/roleDefinitions")
        for res in tenant["resources"]:
            add(res["type"])
        for parent, kids in T.CHILD_TYPES.items():
            for kid in kids:
                add(f"{parent}/{kid}")

        self.known_types = {f"{ns_l}/{rtype_l}" for ns_l, kinds in types.items() for rtype_l in kinds}
        self.providers: dict[str, bytes] = {}
        docs = []
        for ns_l, ns in sorted(ns_names.items()):
            entries = []
            for rtype_l, rtype in sorted(types.get(ns_l, {}).items()):
                parent = f"{ns_l}/{rtype_l.split('/')[0]}"
                versions = (self.api_versions.get(parent) or
                            set(T.NAMESPACE_API_VERSIONS.get(ns, ["2023-01-01"])))
                entries.append({
                    "resourceType": rtype,
                    "locations": [] if ns_l == "microsoft.authorization" else locations,
                    "apiVersions": sorted(versions, reverse=True),
                    "capabilities": "None",
                })
            doc = {"id": f"/subscriptions/{self.subscription_id}/providers/{ns}", "namespace": ns,
                   "registrationState": "Registered", "registrationPolicy": "RegistrationRequired",
                   "resourceTypes": entries}
            docs.append(doc)
            self.providers[ns_l] = dumps(doc)
        self.providers_list = b'{"value":[' + b",".join(dumps(d) for d in docs) + b"]}"

    @property
    def resource_graph(self) -> ARG.ResourceGraph:
        """Resource Graph's rows, built on first use (most runs never query ARG)."""
        with self._resource_graph_lock:
            if self._resource_graph is None:
                self._resource_graph = ARG.ResourceGraph(self.tenant["resources"], self.tenant_id,
                                                         self.tenant["children"])
            return self._resource_graph

    def filtered_resources(self, flt: str) -> list[bytes] | None:
        """Summaries matching an ARM ``$filter`` (``x eq 'v'`` clauses joined by ``or``); None if unsupported."""
        if not flt:
            return [item[3] for item in self.list_items]
        with self._filter_lock:
            cached = self._filter_cache.get(flt)
        if cached is not None:
            return cached
        clauses = []
        for part in re.split(r"\s+or\s+", flt.strip(), flags=re.IGNORECASE):
            m = _FILTER_CLAUSE_RE.match(part)
            if not m:
                return None
            field = {"resourcetype": 0, "resourcegroup": 1, "name": 2}[m.group(1).lower()]
            clauses.append((field, m.group(2).lower()))
        result = [item[3] for item in self.list_items if any(item[f] == v for f, v in clauses)]
        with self._filter_lock:
            if len(self._filter_cache) > 64:
                self._filter_cache.clear()
            self._filter_cache[flt] = result
        return result


# ---------------------------------------------------------------------------------------------
# the application
# ---------------------------------------------------------------------------------------------

Response = tuple[int, str, list[tuple[str, str]], bytes]


class Request:
    __slots__ = ("method", "path", "lpath", "segs", "query", "headers", "body", "base", "raw_query")

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes, default_base: str) -> None:
        self.method = method
        parts = urlsplit(target)
        self.path = unquote(parts.path) or "/"
        self.lpath = self.path.lower().rstrip("/") or "/"
        self.segs = [s for s in self.lpath.split("/") if s]
        self.raw_query = parts.query
        q = parse_qs(parts.query, keep_blank_values=True) if parts.query else {}
        self.query = {k.lower(): v[-1] for k, v in q.items()}
        self.headers = headers
        self.body = body
        host = headers.get("host")
        self.base = f"https://{host}" if host else default_base


class App:
    """Pure request -> response logic (no sockets)."""

    def __init__(self, index: TenantIndex, *, client_secret: str = T.DEFAULT_CLIENT_SECRET,
                 faults: Faults | None = None, page_size: int = 1000, graph_page_size: int = 100,
                 graph_max_page_size: int | None = None, base_url: str = "https://127.0.0.1",
                 any_subscription: bool = False, arm_throttle: Limit | None = None,
                 arg_throttle: Limit | None = None) -> None:
        if page_size < 1 or not (1 <= graph_page_size <= GRAPH_MAX_TOP):
            raise ValueError("page sizes must be >= 1 (Graph: 1..999)")
        if graph_max_page_size is not None and graph_max_page_size < 1:
            raise ValueError("graph_max_page_size must be >= 1")
        self.index = index
        self.client_secret = client_secret
        self.faults = faults or Faults()
        self.stats = Stats()
        self.page_size = page_size
        self.graph_page_size = graph_page_size
        # server-driven paging: pages never exceed this, whatever $top asks (None = honour $top)
        self.graph_max_page_size = graph_max_page_size
        self.base_url = base_url
        self.tokens: set[str] = set()
        self.token_clients: dict[str, str] = {}  # token -> client id: the principal throttles count per
        # --arm-throttle / --arg-throttle (throttle.py); None = unlimited
        self.arm_throttle = ArmThrottle(arm_throttle) if arm_throttle else None
        self.arg_throttle = ArgThrottle(arg_throttle) if arg_throttle else None
        self.arrivals = Arrivals()
        # serve the tenant under every subscription id (tests that need many subscriptions)
        self.any_subscription = any_subscription
        # the fake NVD CVE API (tests/fakeazure/nvd.py), on the same port
        self.nvd = FakeNvd()
        # signing keys and user access tokens for the tenant (tests/fakeazure/oidc.py)
        self.oidc = FakeOidc(index.tenant_id)

    def _as_own_subscription(self, req: Request) -> None:
        """Rewrite ``/subscriptions/<any>/...`` to the tenant's own subscription id."""
        if len(req.segs) >= 2 and req.segs[0] == "subscriptions" and req.segs[1] != self.index.sub:
            other = req.segs[1]
            req.segs[1] = self.index.sub
            req.path = re.sub(r"^/subscriptions/[^/]+", "/subscriptions/" + self.index.subscription_id, req.path,
                              flags=re.IGNORECASE)
            req.lpath = req.lpath.replace(other, self.index.sub, 1)

    # -- entry point ---------------------------------------------------------------------------
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Response:
        try:
            req = Request(method, target, headers, body, self.base_url)
        except ValueError:
            return 400, JSON, [], dumps({"error": {"code": "BadRequest", "message": "malformed request target"}})
        if self.any_subscription:
            self._as_own_subscription(req)
        group, route, handler = self.classify(req)
        if group == "admin":
            try:
                return handler(req)
            except Exception:
                traceback.print_exc(file=sys.stderr)
                return 500, JSON, [], dumps({"error": {"code": "InternalServerError", "message": "admin failed"}})
        latency = self.faults.latency_ms
        if latency:
            time.sleep(latency / 1000.0)
        try:
            resp = self._serve(req, group, route, handler)
        except Exception:  # a bug in the emulator: answer 500, tell stderr
            traceback.print_exc(file=sys.stderr)
            resp = self._error(group, 500, "InternalServerError", "fakeazure internal error", req)
        self.stats.record(group, route, resp[0])
        self.arrivals.record(resp[0])
        return resp

    def _serve(self, req: Request, group: str, route: str, handler: Callable[[Request], Response]) -> Response:
        decision = self._metered(req, group)
        if decision is not None and not decision.allowed:
            return self._throttled(req, group, decision)
        resp = self._serve_unmetered(req, group, route, handler)
        if decision is not None:
            resp = (resp[0], resp[1], resp[2] + decision.headers, resp[3])
        return resp

    def _metered(self, req: Request, group: str) -> Decision | None:
        """The throttle's decision for an authenticated ARM read or ARG query (None: not metered)."""
        if group not in ("arm", "arg"):
            return None
        throttle = self.arm_throttle if group == "arm" else self.arg_throttle
        if throttle is None or (group == "arm" and req.method not in ("GET", "HEAD")):
            return None
        scheme, _, token = req.headers.get("authorization", "").partition(" ")
        client = self.token_clients.get(token.strip()) if scheme.lower() == "bearer" else None
        if client is None:
            return None  # the 401 is not charged to anyone
        if isinstance(throttle, ArmThrottle):
            scope = req.segs[1] if len(req.segs) > 1 and req.segs[0] == "subscriptions" else "tenant"
            return throttle.read(scope, client)
        return throttle.query(client)

    def _throttled(self, req: Request, group: str, decision: Decision) -> Response:
        if group == "arm":
            msg = ("Number of 'read' requests for subscription actor exceeded. Please try again after "
                   f"'{int(decision.retry_after)}' seconds after additional tokens are available.")
            return self._error("arm", 429, "SubscriptionRequestsThrottled", msg, req, headers=decision.headers)
        msg = ("Please provide below info when asking for support: the user's Resource Graph query quota is "
               "exhausted.")
        return self._error("arm", 429, "RateLimiting", msg, req, headers=decision.headers)

    def _serve_unmetered(self, req: Request, group: str, route: str,
                         handler: Callable[[Request], Response]) -> Response:
        if group == "arg":
            return self._check_token(req, "arm") or handler(req)
        if group in ("arm", "graph"):
            denied = self._check_token(req, group)
            if denied:
                return denied
            fault = self.faults.next_fault()
            if fault == 429:
                code = "TooManyRequests"
                msg = ("Number of read requests for subscription exceeded the limit. Please try again "
                       f"after '{self.faults.retry_after_header()}' seconds.")
                if group == "graph":
                    msg = "Too many requests. Please retry after the time given in the Retry-After header."
                status, ctype, hdrs, body = self._error(group, 429, code, msg, req)
                hdrs = hdrs + [("Retry-After", self.faults.retry_after_header())]
                if group == "arm":
                    hdrs.append(("x-ms-ratelimit-remaining-subscription-reads", "0"))
                return status, ctype, hdrs, body
            if fault == 503:
                code = "ServiceUnavailable" if group == "arm" else "serviceNotAvailable"
                return self._error(group, 503, code, "The service is temporarily unavailable. Please retry.", req)
            if req.method not in ("GET", "HEAD"):
                return self._error(group, 405, "MethodNotAllowed" if group == "arm" else "Request_BadRequest",
                                   f"The requested HTTP method '{req.method}' is not supported.", req)
        return handler(req)

    # -- errors --------------------------------------------------------------------------------
    def _error(self, group: str, status: int, code: str, message: str, req: Request | None = None,
               headers: list[tuple[str, str]] | None = None) -> Response:
        if group == "graph":
            inner = {"date": _now_iso(), "request-id": str(uuid.uuid4()),
                     "client-request-id": (req.headers.get("client-request-id") if req else None) or str(uuid.uuid4())}
            body = dumps({"error": {"code": code, "message": message, "innerError": inner}})
            return status, JSON, list(headers or []), body
        return status, JSON, list(headers or []), dumps({"error": {"code": code, "message": message}})

    def _check_token(self, req: Request, group: str) -> Response | None:
        auth = req.headers.get("authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token in self.tokens:
            return None
        if not auth:
            msg = ("Authentication failed. The 'Authorization' header is missing." if group == "arm"
                   else "Access token is empty.")
        else:
            msg = "The access token is invalid." if group == "arm" else "Access token validation failure."
        challenge = (f'Bearer authorization_uri="{req.base}/{self.index.tenant_id}", error="invalid_token", '
                     f'error_description="{msg}"')
        return self._error(group, 401, "InvalidAuthenticationToken", msg, req,
                           headers=[("WWW-Authenticate", challenge)])

    # -- classification --------------------------------------------------------------------------
    def classify(self, req: Request) -> tuple[str, str, Callable[[Request], Response]]:
        segs = req.segs
        if not segs:
            return "other", "other", self._not_found_other
        head = segs[0]
        if head == "_admin":
            return "admin", "admin", self._admin
        if head == "v1.0":
            return self._classify_graph(req)
        if head in ("subscriptions", "providers"):
            return self._classify_arm(req)
        if head == "rest" and segs == ["rest", "json", "cves", "2.0"]:
            return "nvd", "nvd.cves", lambda r: self.nvd.handle(r.method, r.raw_query, r.headers)
        if len(segs) >= 2 and segs[1] in ("v2.0", "oauth2", ".well-known", "discovery"):
            if segs[1:] in (["v2.0", ".well-known", "openid-configuration"], [".well-known", "openid-configuration"]):
                return "token", "token.openid", self._openid
            if segs[1:] == ["oauth2", "v2.0", "token"]:
                return "token", "token", self._token
            if segs[1:] == ["discovery", "v2.0", "keys"]:
                return "token", "token.keys", lambda r: self.oidc.jwks()
        return "other", "other", self._not_found_other

    def _classify_arm(self, req: Request) -> tuple[str, str, Callable[[Request], Response]]:
        segs = req.segs
        n = len(segs)
        if segs[0] == "providers":  # tenant-level: role definitions by id, Resource Graph
            if segs[1:] == ["microsoft.resourcegraph", "resources"]:
                return "arg", "arg.resources", self._arg_resources
            if n >= 3 and segs[1] == "microsoft.authorization" and segs[2] == "roledefinitions":
                return "arm", "arm.roleDefinitions", self._arm_role_definitions
            if segs[1:] == ["microsoft.subscription", "policies", "default"]:
                return "arm", "arm.tenant.subscriptionPolicy", self._arm_subscription_policy
            if n in (3, 4) and f"{segs[1]}/{segs[2]}" in _TENANT_READ_TYPES:
                return "arm", f"arm.tenant.{_TENANT_READ_TYPES[f'{segs[1]}/{segs[2]}']}", self._arm_tenant_read
            return "arm", "arm.other", self._arm_not_found
        if n == 1:
            return "arm", "arm.subscriptions", self._arm_subscriptions
        if n == 2:
            return "arm", "arm.subscription", self._arm_subscription
        kind = segs[2]
        if kind == "resources" and n == 3:
            return "arm", "arm.resources.list", self._arm_list
        if kind == "resourcegroups" and n <= 4:
            return "arm", "arm.resourceGroups", self._arm_resource_groups
        if kind == "providers":
            if n <= 4:
                return "arm", "arm.providers", self._arm_providers
            if segs[3] == "microsoft.authorization" and n <= 6:
                if segs[4] == "roleassignments":
                    return "arm", "arm.roleAssignments", self._arm_role_assignments
                if segs[4] == "roledefinitions":
                    return "arm", "arm.roleDefinitions", self._arm_role_definitions
            read = _SUBSCRIPTION_READ_TYPES.get(f"{segs[3]}/{segs[4]}")
            if read and n <= 6:
                return "arm", f"arm.subscription.{read}", self._arm_subscription_read
            if n == 5:
                return "arm", "arm.list.subscription", self._arm_type_list
        if kind == "resourcegroups" and n == 7 and segs[4] == "providers":
            return "arm", "arm.list.resourceGroup", self._arm_type_list
        # a resource, a child of a resource, or nothing
        idx = self.index
        key = req.lpath
        if key in idx.resource_bytes:
            return "arm", "arm.resource.get", self._arm_resource
        if key in idx.child_objects or key in idx.child_lists or key in idx.child_items:
            return "arm", "arm.child.get", self._arm_child
        for k in range(n - 1, 5, -1):
            parent = "/" + "/".join(segs[:k])
            if parent in idx.resource_bytes:
                if key not in idx.failing_children and \
                        idx.lists.child_collection(idx.resource_type[parent], parent, segs[k:]) is not None:
                    return "arm", "arm.list.children", self._arm_child_collection
                return "arm", "arm.child.get", self._arm_child
        return "arm", "arm.resource.get", self._arm_resource

    def _classify_graph(self, req: Request) -> tuple[str, str, Callable[[Request], Response]]:
        segs = req.segs[1:]
        path = "/".join(segs)
        if path in GRAPH_SINGLETONS:
            return "graph", f"graph.{GRAPH_SINGLETONS[path]}", self._graph_singleton
        if path in GRAPH_ROUTES:
            coll = GRAPH_ROUTES[path]
            return "graph", f"graph.{coll}", self._graph_collection
        if segs and segs[0] == "organization":
            return "graph", "graph.organization", self._graph_organization
        if len(segs) >= 2:
            parent = "/".join(segs[:-1])
            if parent in GRAPH_ROUTES:
                return "graph", f"graph.{GRAPH_ROUTES[parent]}", self._graph_item
            if len(segs) == 3 and segs[0] == "directoryroles" and segs[2] == "members":
                return "graph", "graph.directoryRoles", self._graph_role_members
        return "graph", "graph.other", self._graph_not_found

    # -- token ---------------------------------------------------------------------------------
    def _aad_error(self, status: int, error: str, code: int, description: str, req: Request) -> Response:
        trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
        body = {
            "error": error,
            "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {corr} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": corr,
            "error_uri": f"{req.base}/error?code={code}",
        }
        return status, JSON, [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")], dumps(body)

    def _tenant_known(self, tenant: str) -> bool:
        return tenant.lower() in self.index.tenant_aliases

    def _openid(self, req: Request) -> Response:
        tenant = req.segs[0]
        if self.oidc.down:
            return self.oidc.jwks()  # the same 503 while the key endpoints are down
        if not self._tenant_known(tenant):
            return self._aad_error(400, "invalid_tenant", 90002,
                                   f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                                   "and are signing into the correct cloud.", req)
        base, tid = req.base, self.index.tenant_id
        doc = {
            "token_endpoint": f"{base}/{tid}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/{tid}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/{tid}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{base}/oidc/userinfo",
            "authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/{tid}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/{tid}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "tid", "oid", "appid", "roles"],
            "tenant_region_scope": "EU",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }
        return 200, JSON, [], dumps(doc)

    def _token(self, req: Request) -> Response:
        if req.method != "POST":
            return self._aad_error(405, "invalid_request", 900561,
                                   "The endpoint only accepts POST requests. Received a GET request.", req)
        tenant = req.segs[0]
        if not self._tenant_known(tenant):
            return self._aad_error(400, "invalid_request", 90002,
                                   f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                                   "and are signing into the correct cloud. Check with your subscription "
                                   "administrator, this may happen if there are no active subscriptions for the "
                                   "tenant.", req)
        try:
            form = {k: v[-1] for k, v in parse_qs(req.body.decode("utf-8"), keep_blank_values=True).items()}
        except UnicodeDecodeError:
            form = {}
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        basic = req.headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                user, _, pwd = base64.b64decode(basic[6:].strip()).decode().partition(":")
                client_id, secret = unquote(user) or client_id, unquote(pwd)
            except (binascii.Error, UnicodeDecodeError):
                pass
        grant = form.get("grant_type", "")
        if not grant:
            return self._aad_error(400, "invalid_request", 900144,
                                   "The request body must contain the following parameter: 'grant_type'.", req)
        if grant != "client_credentials":
            return self._aad_error(400, "unsupported_grant_type", 70003,
                                   f"The app requested an unsupported grant type '{grant}'.", req)
        if not client_id:
            return self._aad_error(400, "invalid_request", 900144,
                                   "The request body must contain the following parameter: 'client_id'.", req)
        if client_id.lower() != self.index.client_id.lower():
            return self._aad_error(400, "unauthorized_client", 700016,
                                   f"Application with identifier '{client_id}' was not found in the directory "
                                   f"'{self.index.domain}'. This can happen if the application has not been "
                                   "installed by the administrator of the tenant or consented to by any user in "
                                   "the tenant. You may have sent your authentication request to the wrong tenant.",
                                   req)
        if secret is None and "client_assertion" not in form:
            return self._aad_error(401, "invalid_client", 7000218,
                                   "The request body must contain the following parameter: 'client_assertion' or "
                                   "'client_secret'.", req)
        if secret != self.client_secret:
            return self._aad_error(401, "invalid_client", 7000215,
                                   "Invalid client secret provided. Ensure the secret being sent in the request is "
                                   "the client secret value, not the client secret ID, for a secret added to app "
                                   f"'{self.index.client_id}'.", req)
        scope = form.get("scope", "")
        if not scope:
            return self._aad_error(400, "invalid_request", 900144,
                                   "The request body must contain the following parameter: 'scope'.", req)
        if not any(s.endswith("/.default") for s in scope.split()):
            return self._aad_error(400, "invalid_scope", 1002012,
                                   f"The provided value for scope {scope} is not valid. Client credential flows "
                                   "must have a scope value with /.default suffixed to the resource identifier "
                                   "(application ID URI).", req)
        token = "fa." + secrets.token_urlsafe(32)
        self.tokens.add(token)
        self.token_clients[token] = self.index.client_id
        body = {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}
        return 200, JSON, [("Cache-Control", "no-store, no-cache"), ("Pragma", "no-cache")], dumps(body)

    # -- ARM -----------------------------------------------------------------------------------
    def _api_version(self, req: Request, rtype: str = "") -> Response | None:
        version = req.query.get("api-version")
        if not version:
            return self._error("arm", 400, "MissingApiVersionParameter",
                               "The api-version query parameter (?api-version=) is required for all requests.")
        if not _API_VERSION_RE.match(version):
            return self._error("arm", 400, "InvalidApiVersionParameter",
                               f"The api-version '{version}' is invalid. The supported versions are "
                               "'yyyy-mm-dd' or 'yyyy-mm-dd-preview'.")
        allowed = self.index.api_versions.get(rtype) if rtype else None
        if allowed is not None and version not in allowed:
            return self._error("arm", 400, "NoRegisteredProviderFound",
                               f"No registered resource provider found for location 'global' and API version "
                               f"'{version}' for type '{self.index.type_names.get(rtype, rtype).split('/', 1)[1]}'. "
                               "The supported api-versions are "
                               f"'{', '.join(sorted(allowed))}'.")
        return None

    def _wrong_subscription(self, req: Request) -> Response | None:
        if len(req.segs) >= 2 and req.segs[0] == "subscriptions" and req.segs[1] != self.index.sub:
            return self._error("arm", 404, "SubscriptionNotFound",
                               f"The subscription '{req.path.split('/')[2]}' could not be found.")
        return None

    def _arm_page(self, req: Request, items: list[bytes], page_size: int,
                  extra: dict[str, str] | None = None) -> Response:
        token = req.query.get("$skiptoken")
        offset = 0
        if token:
            decoded = _decode_skiptoken(token)
            if decoded is None:
                return self._error("arm", 400, "InvalidSkipToken", f"The skip token '{token}' is invalid.")
            offset = decoded
        page = items[offset:offset + page_size]
        body = b'{"value":[' + b",".join(page) + b"]"
        if offset + page_size < len(items):
            params = {"api-version": req.query["api-version"]}
            for key in ("$top", "$filter", "$expand"):
                if key in req.query:
                    params[key] = req.query[key]
            params.update(extra or {})
            params["$skiptoken"] = _encode_skiptoken(offset + page_size)
            link = f"{req.base}{quote(req.path)}?{urlencode(params, safe='$,()', quote_via=quote)}"
            body += b',"nextLink":' + dumps(link)
        return 200, JSON, [], body + b"}"

    def _arm_list(self, req: Request) -> Response:
        bad = self._api_version(req) or self._wrong_subscription(req)
        if bad:
            return bad
        items = self.index.filtered_resources(req.query.get("$filter", ""))
        if items is None:
            return self._error("arm", 400, "InvalidFilterInQueryString",
                               f"Invalid $filter '{req.query.get('$filter')}' specified in the query string.")
        page_size = self.page_size
        if "$top" in req.query:
            try:
                page_size = int(req.query["$top"])
                if page_size < 1:
                    raise ValueError
            except ValueError:
                return self._error("arm", 400, "InvalidTopInQueryString",
                                   f"The $top query parameter value '{req.query['$top']}' is invalid.")
        return self._arm_page(req, items, page_size)

    def _arm_subscriptions(self, req: Request) -> Response:
        return self._api_version(req) or (200, JSON, [], b'{"value":[' + self.index.subscription + b'],"count":{"type":"Total","value":1}}')

    def _arm_subscription(self, req: Request) -> Response:
        return self._api_version(req) or self._wrong_subscription(req) or (200, JSON, [], self.index.subscription)

    def _arm_resource_groups(self, req: Request) -> Response:
        bad = self._api_version(req) or self._wrong_subscription(req)
        if bad:
            return bad

        def doc(rg: str, loc: str) -> bytes:
            return dumps({"id": f"/subscriptions/{self.index.subscription_id}/resourceGroups/{rg}", "name": rg,
                          "type": "Microsoft.Resources/resourceGroups", "location": loc,
                          "properties": {"provisioningState": "Succeeded"}})

        groups = self.index.resource_groups
        if len(req.segs) == 4:
            found = groups.get(req.segs[3])
            if not found:
                return self._error("arm", 404, "ResourceGroupNotFound",
                                   f"Resource group '{req.path.split('/')[4]}' could not be found.")
            return 200, JSON, [], doc(*found)
        return self._arm_page(req, [doc(*g) for g in groups.values()], self.page_size)

    def _arm_providers(self, req: Request) -> Response:
        bad = self._api_version(req) or self._wrong_subscription(req)
        if bad:
            return bad
        if len(req.segs) == 3:
            return 200, JSON, [], self.index.providers_list
        found = self.index.providers.get(req.segs[3])
        if found is None:
            return self._error("arm", 404, "InvalidResourceNamespace",
                               f"The resource namespace '{req.path.split('/')[4]}' is invalid.")
        return 200, JSON, [], found

    def _arm_role_assignments(self, req: Request) -> Response:
        bad = self._api_version(req) or self._wrong_subscription(req)
        if bad:
            return bad
        if len(req.segs) == 6:
            found = self.index.role_assignment_by_name.get(req.segs[5])
            if found is None:
                return self._error("arm", 404, "RoleAssignmentNotFound",
                                   f"The role assignment '{req.segs[5]}' is not found.")
            return 200, JSON, [], found
        return self._arm_page(req, self.index.role_assignments, self.page_size)

    def _arm_role_definitions(self, req: Request) -> Response:
        bad = self._api_version(req) or self._wrong_subscription(req)
        if bad:
            return bad
        segs = req.segs
        if segs[-1] != "roledefinitions":
            found = self.index.role_definition_by_name.get(segs[-1])
            if found is None:
                return self._error("arm", 404, "RoleDefinitionDoesNotExist",
                                   f"The specified role definition with ID '{segs[-1]}' does not exist.")
            return 200, JSON, [], found
        return self._arm_page(req, self.index.role_definitions, self.page_size)

    def _arm_resource(self, req: Request) -> Response:
        bad = self._api_version(req, _type_of_segments(req.segs)) or self._wrong_subscription(req)
        if bad:
            return bad
        found = self.index.resource_bytes.get(req.lpath)
        if found is not None:
            return 200, JSON, [], found
        segs = req.path.strip("/").split("/")
        lsegs = req.segs
        if len(lsegs) >= 4 and lsegs[2] == "resourcegroups" and lsegs[3] not in self.index.resource_groups:
            return self._error("arm", 404, "ResourceGroupNotFound", f"Resource group '{segs[3]}' could not be found.")
        if "providers" in lsegs:
            i = lsegs.index("providers")
            rtype = "/".join(segs[i + 1:i + 3])
            name = "/".join(segs[i + 3:]) or "?"
            rg = segs[3] if len(segs) > 3 else ""
            msg = (f"The Resource '{rtype}/{name}' under resource group '{rg}' was not found. "
                   "For more details please go to https://aka.ms/ARMResourceNotFoundFix")
        else:
            msg = f"The resource '{req.path}' was not found."
        return self._error("arm", 404, "ResourceNotFound", msg)

    def _arm_child(self, req: Request) -> Response:
        bad = self._api_version(req, _type_of_segments(req.segs)) or self._wrong_subscription(req)
        if bad:
            return bad
        idx = self.index
        key = req.lpath
        found = idx.child_objects.get(key) or idx.child_items.get(key)
        if found is not None:
            return 200, JSON, [], found
        items = idx.child_lists.get(key)
        if items is not None:
            return self._filtered_page(req, items)
        segs = req.path.strip("/").split("/")
        return self._error("arm", 404, "ResourceNotFound",
                           f"The Resource '{'/'.join(segs[5:])}' under resource group '{segs[3] if len(segs) > 3 else ''}' "
                           "was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix")

    def _filtered_page(self, req: Request, items: list[bytes]) -> Response:
        """A child collection's page; a vault's ``backupProtectedItems`` honours ``$filter=
        backupManagementType eq '<type>'`` (Backup Protected Items - List), any other filter
        there is refused rather than ignored."""
        raw = req.query.get("$filter")
        if raw is None or req.segs[-1] != "backupprotecteditems":
            return self._arm_page(req, items, self.page_size)
        match = _BACKUP_FILTER_RE.match(raw)
        if not match:
            return self._error("arm", 400, "BMSUserErrorInvalidInput",
                               f"Invalid filter '{raw}': the emulator supports backupManagementType eq '<type>'.")
        wanted = match.group(1).lower()
        kept = [item for item in items
                if str(json.loads(item).get("properties", {}).get("backupManagementType", "")).lower() == wanted]
        return self._arm_page(req, kept, self.page_size)

    def _arm_subscription_read(self, req: Request) -> Response:
        """``/subscriptions/{id}/providers/<ns>/<type>[/<name>]``: a subscription-scope collection
        (or one item), served from the tenant's children under that path; an empty collection when
        the tenant has none, as Azure answers. 403 when ``forbid_arm`` names it."""
        segs = req.segs
        bad = self._api_version(req, f"{segs[3]}/{segs[4]}") or self._wrong_subscription(req)
        if bad:
            return bad
        read = _SUBSCRIPTION_READ_TYPES[f"{segs[3]}/{segs[4]}"]
        if read.lower() in self.faults.forbid_arm:
            action = f"{T.SUBSCRIPTION_READS[read]}/read"
            return self._error("arm", 403, "AuthorizationFailed",
                               f"The client '{self.index.client_id}' with object id '{self.index.client_id}' does not "
                               f"have authorization to perform action '{action}' over scope "
                               f"'/subscriptions/{self.index.subscription_id}' or the scope is invalid.")
        if len(segs) == 6:
            found = self.index.child_items.get(req.lpath)
            if found is None:
                return self._error("arm", 404, "ResourceNotFound", f"The resource '{req.path}' was not found.")
            return 200, JSON, [], found
        return self._arm_page(req, self.index.child_lists.get(req.lpath, []), self.page_size)

    def _arm_subscription_policy(self, req: Request) -> Response:
        """``GET /providers/Microsoft.Subscription/policies/default`` ("Subscription Policy - Get
        Policy For Tenant"): the tenant's ``subscriptionPolicy`` properties (both blocks false
        when the tenant sets none, Azure's default); 403 at the root scope when forbidden."""
        bad = self._api_version(req, "microsoft.subscription/policies")
        if bad:
            return bad
        if "subscriptionpolicy" in self.faults.forbid_arm:
            return self._error("arm", 403, "AuthorizationFailed",
                               f"The client '{self.index.client_id}' with object id '{self.index.client_id}' does not "
                               "have authorization to perform action 'Microsoft.Subscription/policies/read' over "
                               "scope '/' or the scope is invalid.")
        properties = {"policyId": T.guid("subscription-policy", self.index.tenant_id),
                      "blockSubscriptionsLeavingTenant": False, "blockSubscriptionsIntoTenant": False,
                      "exemptedPrincipals": [], **(self.index.tenant.get("subscriptionPolicy") or {})}
        return 200, JSON, [], dumps({"id": "/providers/Microsoft.Subscription/policies/default", "name": "default",
                                     "type": "Microsoft.Subscription/policies", "properties": properties})
    def _arm_tenant_read(self, req: Request) -> Response:
        """``/providers/<ns>/<type>[/<name>]`` at the tenant (Entra ID diagnostic settings:
        "Diagnostic Settings - List", microsoft.aadiam, api-version 2017-04-01): served from the
        tenant's children under that path, an empty collection when it has none; 403 at scope
        '/' when ``forbid_arm`` names it."""
        segs = req.segs
        bad = self._api_version(req, f"{segs[1]}/{segs[2]}")
        if bad:
            return bad
        read = _TENANT_READ_TYPES[f"{segs[1]}/{segs[2]}"]
        if read.lower() in self.faults.forbid_arm:
            return self._error("arm", 403, "AuthorizationFailed",
                               f"The client '{self.index.client_id}' with object id '{self.index.client_id}' does not "
                               f"have authorization to perform action '{T.TENANT_COLLECTIONS[read]}/read' over scope "
                               "'/' or the scope is invalid.")
        if len(segs) == 4:
            found = self.index.child_items.get(req.lpath)
            if found is None:
                return self._error("arm", 404, "ResourceNotFound", f"The resource '{req.path}' was not found.")
            return 200, JSON, [], found
        return self._arm_page(req, self.index.child_lists.get(req.lpath, []), self.page_size)

    def _arm_type_list(self, req: Request) -> Response:
        """``/subscriptions/{s}[/resourceGroups/{rg}]/providers/{ns}/{type}``: every resource of a
        type at that scope with full properties (lists.py), paged; empty when none."""
        segs = req.segs
        ns, rtype = segs[-2], segs[-1]
        full = f"{ns}/{rtype}"
        bad = self._api_version(req, full) or self._wrong_subscription(req)
        if bad:
            return bad
        if full in self.faults.forbid_lists:
            return self._error("arm", 403, "AuthorizationFailed",
                               f"The client '{self.index.client_id}' with object id '{self.index.client_id}' does not "
                               f"have authorization to perform action '{req.path.split('/')[-2]}/"
                               f"{req.path.split('/')[-1]}/read' over scope '/subscriptions/"
                               f"{self.index.subscription_id}' or the scope is invalid.")
        if ns not in self.index.providers:
            return self._error("arm", 404, "InvalidResourceNamespace",
                               f"The resource namespace '{req.path.split('/')[-2]}' is invalid.")
        if full not in self.index.known_types:
            return self._error("arm", 400, "InvalidResourceType",
                               f"The resource type '{req.path.split('/')[-1]}' could not be found in the namespace "
                               f"'{req.path.split('/')[-2]}' for api version '{req.query['api-version']}'.")
        if len(segs) != 7 and full in T.GROUP_LIST_ONLY:
            # the provider has no subscription-scope List for this type (only per resource
            # group): ARM finds no such collection at this scope
            return self._error("arm", 400, "InvalidResourceType",
                               f"The resource type '{req.path.split('/')[-1]}' could not be found in the namespace "
                               f"'{req.path.split('/')[-2]}' for api version '{req.query['api-version']}'.")
        if len(segs) == 7:
            if segs[3] not in self.index.resource_groups:
                return self._error("arm", 404, "ResourceGroupNotFound",
                                   f"Resource group '{req.path.split('/')[4]}' could not be found.")
            return self._arm_page(req, self.index.lists.group_list(segs[3], full), self.page_size)
        return self._arm_page(req, self.index.lists.subscription_list(full), self.page_size)

    def _arm_child_collection(self, req: Request) -> Response:
        """A collection under a resource (``…/servers/{x}/databases``, ``…/firewallRules``,
        ``{id}/providers/Microsoft.Insights/diagnosticSettings``) that the tenant holds no
        children for: its nested resources, or 200 with an empty list, as ARM answers."""
        bad = self._api_version(req, _type_of_segments(req.segs)) or self._wrong_subscription(req)
        if bad:
            return bad
        segs = req.segs
        for k in range(len(segs) - 1, 5, -1):
            parent = "/" + "/".join(segs[:k])
            if parent in self.index.resource_bytes:
                items = self.index.lists.child_collection(self.index.resource_type[parent], parent, segs[k:])
                return self._filtered_page(req, items or [])
        return self._arm_not_found(req)

    def _arg_resources(self, req: Request) -> Response:
        """Azure Resource Graph ``resources`` queries (resourcegraph.py)."""
        if req.method != "POST":
            return self._error("arm", 405, "MethodNotAllowed",
                               f"The requested HTTP method '{req.method}' is not supported.")
        bad = self._api_version(req)
        if bad:
            return bad
        injected = self.faults.arg_status
        if injected == 403:
            return self._error("arm", 403, "AuthorizationFailed",
                               f"The client '{self.index.client_id}' with object id '{self.index.client_id}' does not "
                               "have authorization to perform action 'Microsoft.ResourceGraph/resources/read' over "
                               "scope '/providers/Microsoft.ResourceGraph' or the scope is invalid.")
        if injected == 400:
            return 400, JSON, [], dumps(ARG.error_body("the query was refused (fault injected)", str(uuid.uuid4())))
        if injected:
            return self._error("arm", injected, "InternalServerError", "Encountered an internal server error.")
        try:
            body = json.loads(req.body or b"{}")
            return 200, JSON, [], dumps(self.index.resource_graph.answer(body))
        except (ValueError, ARG.QueryError) as exc:
            return 400, JSON, [], dumps(ARG.error_body(str(exc), str(uuid.uuid4())))

    def _stats_document(self) -> dict[str, Any]:
        return {**self.stats.snapshot(), **self.arrivals.snapshot()}

    def _reset_throttles(self) -> None:
        self.arrivals.reset()
        for throttle in (self.arm_throttle, self.arg_throttle):
            if throttle is not None:
                throttle.reset()

    def _arm_not_found(self, req: Request) -> Response:
        return self._api_version(req) or self._error("arm", 404, "ResourceNotFound",
                                                     f"The resource '{req.path}' was not found.")

    # -- Graph ---------------------------------------------------------------------------------
    def _forbidden(self, coll: str, req: Request) -> Response | None:
        if coll.lower() in self.faults.forbid_graph:
            return self._error("graph", 403, "Authorization_RequestDenied",
                               "Insufficient privileges to complete the operation.", req)
        return None

    def _graph_page(self, req: Request, items: list[bytes], context: str) -> Response:
        q = req.query
        raw_top = q.get("$top", q.get("top"))
        top = self.graph_page_size
        if raw_top is not None:
            try:
                top = int(raw_top)
            except ValueError:
                top = -1
            if not 1 <= top <= GRAPH_MAX_TOP:
                return self._error("graph", 400, "Request_UnsupportedQuery",
                                   f"Invalid page size specified: '{raw_top}'. Must be between 1 and "
                                   f"{GRAPH_MAX_TOP} inclusive.", req)
        asked = top
        if self.graph_max_page_size:
            top = min(top, self.graph_max_page_size)
        offset = 0
        token = q.get("$skiptoken")
        if token:
            decoded = _decode_skiptoken(token)
            if decoded is None:
                return self._error("graph", 400, "Directory_InvalidSkipToken",
                                   "The specified page token value has expired or is invalid.", req)
            offset = decoded
        page = items[offset:offset + top]
        body = b'{"@odata.context":' + dumps(f"{req.base}/v1.0/$metadata#{context}")
        if q.get("$count", "").lower() == "true":
            body += b',"@odata.count":' + str(len(items)).encode()
        if offset + top < len(items):
            params = {k: v for k, v in q.items() if k not in ("$skiptoken", "top")}
            params["$top"] = str(asked)
            params["$skiptoken"] = _encode_skiptoken(offset + top)
            link = f"{req.base}{quote(req.path)}?{urlencode(params, safe='$,()', quote_via=quote)}"
            body += b',"@odata.nextLink":' + dumps(link)
        body += b',"value":[' + b",".join(page) + b"]}"
        return 200, GRAPH_JSON, [], body

    def _graph_collection(self, req: Request) -> Response:
        coll = GRAPH_ROUTES["/".join(req.segs[1:])]
        denied = self._forbidden(coll, req)
        if denied:
            return denied
        context = _GRAPH_CONTEXT[coll]
        items = self.index.graph_items[coll]
        if coll == "directoryRoles" and "members" in req.query.get("$expand", "").lower():
            items = self.index.graph_items["directoryRoles+members"]
            context = "directoryRoles(members())"
        if coll == "applications" and "owners" in req.query.get("$expand", "").lower():
            items = self.index.graph_items["applications+owners"]
            context = "applications(owners())"
        return self._graph_page(req, items, context)

    def _graph_singleton(self, req: Request) -> Response:
        coll = GRAPH_SINGLETONS["/".join(req.segs[1:])]
        denied = self._forbidden(coll, req)
        if denied:
            return denied
        items = self.index.graph_items[coll]
        if not items:
            return self._graph_not_found(req)
        context = dumps(f"{req.base}/v1.0/$metadata#{_GRAPH_CONTEXT[coll]}/$entity")
        return 200, GRAPH_JSON, [], b'{"@odata.context":' + context + b"," + items[0][1:]

    def _graph_item(self, req: Request) -> Response:
        coll = GRAPH_ROUTES["/".join(req.segs[1:-1])]
        denied = self._forbidden(coll, req)
        if denied:
            return denied
        key = req.segs[-1]
        found = self.index.graph_by_id[coll].get(key)
        if found is None:
            return self._error("graph", 404, "Request_ResourceNotFound",
                               f"Resource '{req.path.rsplit('/', 1)[-1]}' does not exist or one of its queried "
                               "reference-property objects are not present.", req)
        if coll == "directoryRoles" and "members" in req.query.get("$expand", "").lower():
            role = json.loads(found)
            role["members"] = [json.loads(m) for m in self.index.role_members.get(str(role["id"]).lower(), [])]
            found = dumps(role)
        context = dumps(f"{req.base}/v1.0/$metadata#{_GRAPH_CONTEXT[coll]}/$entity")
        return 200, GRAPH_JSON, [], b'{"@odata.context":' + context + b"," + found[1:]

    def _graph_role_members(self, req: Request) -> Response:
        denied = self._forbidden("directoryRoles", req)
        if denied:
            return denied
        role_id = req.segs[2]
        found = self.index.graph_by_id["directoryRoles"].get(role_id)
        if found is None:
            return self._error("graph", 404, "Request_ResourceNotFound",
                               f"Resource '{req.path.split('/')[3]}' does not exist or one of its queried "
                               "reference-property objects are not present.", req)
        real_id = str(json.loads(found)["id"]).lower()
        return self._graph_page(req, self.index.role_members.get(real_id, []), "directoryObjects")

    def _graph_organization(self, req: Request) -> Response:
        if len(req.segs) == 2:
            return self._graph_page(req, [self.index.organization], "organization")
        if len(req.segs) == 3 and req.segs[2] == self.index.tenant_id.lower():
            return 200, GRAPH_JSON, [], self.index.organization
        return self._graph_not_found(req)

    def _graph_not_found(self, req: Request) -> Response:
        segment = req.path.rstrip("/").rsplit("/", 1)[-1]
        return self._error("graph", 404, "Request_ResourceNotFound",
                           f"Resource not found for the segment '{segment}'.", req)

    def _not_found_other(self, req: Request) -> Response:
        return self._error("other", 404, "NotFound", f"No route for {req.method} {req.path}")

    # -- admin ---------------------------------------------------------------------------------
    def _admin(self, req: Request) -> Response:
        route = "/".join(req.segs[1:])
        method = req.method
        if route == "stats" and method == "GET":
            return 200, JSON, [], dumps(self._stats_document())
        if route == "stats/reset" and method == "POST":
            self.stats.reset_locked()
            self._reset_throttles()
            self.faults.reset_sequence()
            self.nvd.reset()
            return 200, JSON, [], dumps(self._stats_document())
        if route == "faults" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    changes = json.loads(req.body or b"{}")
                    if not isinstance(changes, dict):
                        raise ValueError("body must be a JSON object")
                    return 200, JSON, [], dumps(self.faults.update(changes))
                except ValueError as exc:
                    return 400, JSON, [], dumps({"error": {"code": "BadRequest", "message": str(exc)}})
            return 200, JSON, [], dumps(self.faults.as_dict())
        if route == "nvd/faults" and method in ("GET", "POST"):
            if method == "POST":
                try:
                    changes = json.loads(req.body or b"{}")
                    if not isinstance(changes, dict):
                        raise ValueError("body must be a JSON object")
                    return 200, JSON, [], dumps(self.nvd.faults.update(changes))
                except ValueError as exc:
                    return 400, JSON, [], dumps({"error": {"code": "BadRequest", "message": str(exc)}})
            return 200, JSON, [], dumps(self.nvd.faults.as_dict())
        if route == "nvd/requests" and method == "GET":
            return 200, JSON, [], dumps({"requests": self.nvd.request_log()})
        if route == "tenant/patch" and method == "POST":
            return self._patch_tenant(req)
        if route == "tenant-summary" and method == "GET":
            return 200, JSON, [], dumps(self.index.summary)
        if route == "health" and method == "GET":
            return 200, JSON, [], b'{"status":"ok"}'
        oidc = self.oidc.admin(route, method, req.body, req.base)
        if oidc is not None:
            return oidc
        return 404, JSON, [], dumps({"error": {"code": "NotFound", "message": f"no admin route {method} {req.path}"}})


    def _patch_tenant(self, req: Request) -> Response:
        """``POST /_admin/tenant/patch`` (tests/fakeazure/tenant_patch.py): a new tenant, swapped in whole."""
        from tests.fakeazure.tenant_patch import PatchError, apply_patch

        try:
            tenant = apply_patch(self.index.tenant, json.loads(req.body or b"{}"))
            self.index = TenantIndex(tenant, self.index.name)
        except (ValueError, T.TenantError) as exc:
            return 400, JSON, [], dumps({"error": {"code": "BadRequest", "message": str(exc)}})
        return 200, JSON, [], dumps(self.index.summary)


# ---------------------------------------------------------------------------------------------
# sockets
# ---------------------------------------------------------------------------------------------


class _Handler(socketserver.StreamRequestHandler):
    """A minimal HTTP/1.1 keep-alive loop (one instance per TLS connection)."""

    timeout = IDLE_TIMEOUT
    disable_nagle_algorithm = True

    def handle(self) -> None:
        app: App = self.server.app  # type: ignore[attr-defined]
        rfile, wfile = self.rfile, self.wfile
        while True:
            try:
                line = rfile.readline(MAX_LINE + 1)
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    continue
                parts = line.split()
                if len(parts) != 3 or len(line) > MAX_LINE:
                    self._simple(400, "malformed request line")
                    return
                method, target, version = (p.decode("latin-1") for p in parts)
                headers: dict[str, str] = {}
                for _ in range(MAX_HEADERS + 1):
                    raw = rfile.readline(MAX_LINE + 1)
                    if raw in (b"\r\n", b"\n", b""):
                        break
                    name, sep, value = raw.partition(b":")
                    if sep:
                        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
                else:
                    self._simple(431, "too many headers")
                    return
                if headers.get("expect", "").lower() == "100-continue":
                    wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                if "chunked" in headers.get("transfer-encoding", "").lower():
                    body = self._read_chunked()
                    if body is None:
                        self._simple(400, "bad chunked body")
                        return
                else:
                    try:
                        length = int(headers.get("content-length") or 0)
                    except ValueError:
                        self._simple(400, "bad content-length")
                        return
                    if length > MAX_BODY or length < 0:
                        self._simple(413, "body too large")
                        return
                    body = rfile.read(length) if length else b""
                conn = headers.get("connection", "").lower()
                keep = "close" not in conn if version == "HTTP/1.1" else "keep-alive" in conn
                status, ctype, extra, payload = app.handle(method, target, headers, body)
                head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}\r\n"
                        f"Content-Type: {ctype}\r\nContent-Length: {len(payload)}\r\n"]
                for hname, hvalue in extra:
                    head.append(f"{hname}: {hvalue}\r\n")
                if not keep:
                    head.append("Connection: close\r\n")
                elif version != "HTTP/1.1":
                    head.append("Connection: keep-alive\r\n")
                head.append("\r\n")
                out = "".join(head).encode("latin-1")
                wfile.write(out if method == "HEAD" else out + payload)
                if not keep:
                    return
            except (OSError, ssl.SSLError, ValueError):
                return

    def _read_chunked(self) -> bytes | None:
        chunks = []
        total = 0
        while True:
            size_line = self.rfile.readline(MAX_LINE)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while self.rfile.readline(MAX_LINE) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(MAX_LINE)

    def _simple(self, status: int, message: str) -> None:
        body = dumps({"error": {"code": "BadRequest", "message": message}})
        self.wfile.write(f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\nContent-Type: {JSON}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)


class FakeAzureServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """Threaded TLS server; the TLS handshake runs in the connection's thread, not the acceptor."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], app: App, ssl_context: ssl.SSLContext) -> None:
        self.app = app
        self.ssl_context = ssl_context
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def finish_request(self, request: socket.socket, client_address: Any) -> None:  # type: ignore[override]
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request.settimeout(HANDSHAKE_TIMEOUT)
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError, ValueError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a connection-level failure; never log per request
        pass
