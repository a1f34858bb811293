"""Collect, once, exactly what the selected rules need, in as few ARM reads as Azure allows.

On real Azure the number of reads sets a scan's time (ARM refills a subscription's read bucket
at 25 per second), so resources of a needed type come from that type's list (full properties,
1,000 per page) and nested types from their parent's collection; only children that no list
returns are read per parent, bounded by a semaphore and paced on ARM's remaining-reads header
(``scanner/azure/pacing.py``). Children Azure Resource Graph indexes (VM extensions, App Service
``config/web``) and SQL databases come from a few ARG queries for every parent at once
(``scanner/azure/resourcegraph.py``; ``OPENSHIELD_COLLECT_ARG=0`` turns that off, and a denied or
failed query falls back to the per-parent reads); a singleton child that is an item of a list
child read anyway (``configurations/require_secure_transport``) is taken from that list. A list
that is refused (403) or fails falls back to one GET per resource of that type, and the scan log
says so; a type ARM lists only per resource group (:data:`GROUP_LIST_ONLY`) is read that way from
the start. ``strategy=PER_RESOURCE`` keeps the older
shape (the subscription listing, then one GET per resource) for the differential test.
Microsoft Graph collections, role assignments and subscription-scope reads (activity-log
diagnostic settings, Defender pricings) are fetched concurrently on the same event loop.
Failures are recorded in the inventory (``unavailable`` / ``unreadable``) with a reason, so the
engine can skip a rule instead of reporting a false "no findings".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from azure.core.credentials_async import AsyncTokenCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

from scanner.azure import resourcegraph as ARG
from scanner.azure.api_versions import tenant_read_api_version, unpinned_reads
from scanner.azure.arm import ArmReader
from scanner.azure.credential import build_credential
from scanner.azure.endpoints import AzureEndpoints
from scanner.azure.errors import CollectionError, auth_failure_message, http_error_summary
from scanner.azure.graph import COLLECTIONS, GraphReader, graph_error_summary
from scanner.inventory import (
    ROLE_ASSIGNMENTS_KEY,
    ROLE_DEFINITIONS_KEY,
    ChildSpec,
    Inventory,
    Needs,
    arm_key,
    graph_key,
    normalise_location,
)
from store.settings import collect_arg

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 64
PROGRESS_INTERVAL = 0.25
LISTS = "lists"  # per-type lists and parent collections (the default: fewest ARM reads)
PER_RESOURCE = "per-resource"  # the subscription listing, then one GET per resource
STRATEGIES = (LISTS, PER_RESOURCE)
# Top-level types ARM lists per resource group only (no subscription-scope List operation:
# "Virtual Network Gateways - List" takes a resource group). Their per-type list is not
# attempted; each one the subscription listing names is read with its own GET, as for a refused list.
GROUP_LIST_ONLY = frozenset({"microsoft.network/virtualnetworkgateways"})


@dataclass(frozen=True)
class CollectProgress:
    """A progress event: ``done`` of ``total`` fetches known so far (total grows while listing)."""

    done: int
    total: int
    resources_listed: int
    listing_complete: bool


ProgressCallback = Callable[[CollectProgress], None]


class Cancelled(Exception):
    """Collection stopped because the scan was cancelled."""


class Collector:
    def __init__(
        self,
        subscription_id: str,
        needs: Needs,
        *,
        endpoints: AzureEndpoints | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        on_progress: ProgressCallback | None = None,
        stop: threading.Event | None = None,
        strategy: str = LISTS,
        resource_graph: bool | None = None,
    ) -> None:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown collection strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
        self.strategy = strategy
        # read the children ARG indexes from ARG (lists strategy only); None: OPENSHIELD_COLLECT_ARG
        self.resource_graph = collect_arg() if resource_graph is None else resource_graph
        self._arg_specs: list[ChildSpec] = []
        self._arg_nested: frozenset[str] = frozenset()
        self._arg_task: asyncio.Task[dict[str, list[dict[str, Any]]]] | None = None
        # list child key -> singleton children that are members of that list (taken from it)
        self._derived: dict[str, list[ChildSpec]] = {}
        self._not_per_parent: set[ChildSpec] = set()  # children the lists path does not read per parent
        self.subscription_id = subscription_id
        self.needs = needs
        self.endpoints = endpoints or AzureEndpoints.from_env()
        self.concurrency = max(1, concurrency)
        self.on_progress = on_progress
        self.stop = stop or threading.Event()
        self._done = 0
        self._submitted = 0
        self._last_emit = 0.0
        self._slots = asyncio.Semaphore(self.concurrency)
        self._collection_slots = asyncio.Semaphore(self.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ public
    def collect(self) -> Inventory:
        """Run the whole collection on a fresh event loop (blocking)."""
        return asyncio.run(self.collect_async())

    async def collect_async(self) -> Inventory:
        unknown = sorted((self.needs.graph | self.needs.optional_graph) - set(COLLECTIONS))
        if unknown:
            raise ValueError(f"unknown Graph collections: {unknown}")
        unpinned = unpinned_reads(self.needs)
        if unpinned:
            raise ValueError("; ".join(unpinned) + " (add it to scanner/azure/api_versions.py)")
        try:
            credential = build_credential(self.endpoints)
        except ValueError as exc:
            raise CollectionError(f"Azure authentication failed: {exc}") from None
        async with credential:
            await self._authenticate(credential)
            inventory = Inventory(subscription_id=self.subscription_id)
            async with ArmReader(credential, self.endpoints, self.subscription_id,
                                 max_connections=self.concurrency) as arm:
                side = asyncio.gather(self._graph(credential, inventory), self._roles(arm, inventory),
                                      self._subscription_reads(arm, inventory), self._tenant_reads(arm, inventory))
                try:
                    await self._collect_arm(arm, inventory)
                    await side
                except BaseException:
                    side.cancel()
                    raise
        return inventory

    # ---------------------------------------------------------------- internals
    async def _authenticate(self, credential: AsyncTokenCredential) -> None:
        """Fail fast, with a short reason, when the identity cannot get an ARM token at all."""
        try:
            await credential.get_token(self.endpoints.arm_scope)
        except ClientAuthenticationError as exc:
            log.debug("authentication failure", exc_info=True)
            raise CollectionError(auth_failure_message(exc)) from None

    async def _graph(self, credential: AsyncTokenCredential, inventory: Inventory) -> None:
        names = sorted(self.needs.graph | self.needs.optional_graph)
        if not names:
            return
        results = await GraphReader(credential, self.endpoints).collect(names)
        for name, result in results.items():
            if isinstance(result, BaseException):
                inventory.unavailable[graph_key(name)] = self._graph_reason(name, result)
            else:
                inventory.graph[name] = result

    async def _roles(self, arm: ArmReader, inventory: Inventory) -> None:
        jobs: dict[str, Callable[[], Awaitable[list[dict[str, Any]]]]] = {}
        if self.needs.role_assignments:
            jobs[ROLE_ASSIGNMENTS_KEY] = arm.role_assignments
        if self.needs.role_definitions:
            jobs[ROLE_DEFINITIONS_KEY] = arm.role_definitions
        results = await asyncio.gather(*(job() for job in jobs.values()), return_exceptions=True)
        for key, value in zip(jobs, results):
            if isinstance(value, (HttpResponseError, ClientAuthenticationError)):
                inventory.unavailable[key] = f"could not read {key.split(':', 1)[1]}: {http_error_summary(value)}"
            elif isinstance(value, BaseException):
                raise value
            elif key == ROLE_ASSIGNMENTS_KEY:
                inventory.role_assignments = value
            else:
                inventory.role_definitions = value

    async def _subscription_reads(self, arm: ArmReader, inventory: Inventory) -> None:
        """Subscription-scope collections (activity-log diagnostic settings, Defender pricings),
        concurrently. Any HTTP failure makes that data unavailable with a reason, so the rules
        reading it are skipped rather than judged on an empty list."""
        reads = self.needs.subscription_reads
        results = await asyncio.gather(
            *(arm.subscription_collection(r) for r in reads), return_exceptions=True
        )
        for read, value in zip(reads, results):
            if isinstance(value, (HttpResponseError, ClientAuthenticationError)):
                summary = http_error_summary(value)
                log.info("subscription read %s failed: %s", read.path, summary)
                hint = ""
                if getattr(value, "status_code", None) == 403:
                    hint = f": grant {read.grant or 'the identity Reader on the subscription'}"
                inventory.unavailable[read.key] = f"could not read {read.label} ({summary}){hint}"
            elif isinstance(value, BaseException):
                raise value
            else:
                inventory.subscription_reads[read.key] = value
        await self._destination_reads(arm, inventory)

    async def _tenant_reads(self, arm: ArmReader, inventory: Inventory) -> None:
        """Tenant-scope objects (the subscription policy). They lie outside the subscription, so
        a 403 names the action to grant at the root scope rather than "Reader"."""
        reads = self.needs.tenant_reads
        results = await asyncio.gather(
            *(arm.get_json(r.path, tenant_read_api_version(r)) for r in reads), return_exceptions=True)
        for read, value in zip(reads, results):
            if isinstance(value, (HttpResponseError, ClientAuthenticationError)):
                summary = http_error_summary(value)
                log.info("tenant read %s failed: %s", read.path, summary)
                hint = (f": grant the identity {read.action} at the tenant root scope (/)"
                        if getattr(value, "status_code", None) == 403 else "")
                inventory.unavailable[read.key] = f"could not read {read.label} ({summary}){hint}"
            elif isinstance(value, BaseException):
                raise value
            else:
                inventory.tenant_reads[read.key] = value

    async def _destination_reads(self, arm: ArmReader, inventory: Inventory) -> None:
        """Children read only under the parents a subscription read named (the activity log's
        storage accounts), in this subscription; a failure is recorded per parent."""
        jobs = []
        own = f"/subscriptions/{self.subscription_id}/".lower()
        for dest in self.needs.destination_reads:
            items = inventory.subscription_reads.get(dest.source.key)
            if not isinstance(items, list):
                continue
            inventory.children.setdefault(dest.child.key, {})
            parents = {str((item.get("properties") or {}).get(dest.field) or "").rstrip("/")
                       for item in items if isinstance(item, dict)}
            by_key = {p.lower(): p for p in sorted(parents) if p.lower().startswith(own)}
            jobs += [self._fetch_child(arm, parent, dest.child, inventory) for parent in by_key.values()]
        await asyncio.gather(*jobs)

    def _graph_reason(self, name: str, exc: BaseException) -> str:
        summary = graph_error_summary(exc)
        log.info("graph collection %s failed: %s", name, summary, exc_info=exc)
        if getattr(exc, "response_status_code", None) == 403:
            return f"Microsoft Graph denied {name} ({summary}): grant {COLLECTIONS[name].permission}"
        if isinstance(exc, ClientAuthenticationError):
            return f"Microsoft Graph {name}: {auth_failure_message(exc)}"
        return f"could not read Microsoft Graph {name}: {summary}"

    def _emit(self, inventory: Inventory, listing_complete: bool, force: bool = False) -> None:
        now = time.monotonic()
        if self.on_progress and (force or now - self._last_emit >= PROGRESS_INTERVAL):
            self._last_emit = now
            self.on_progress(CollectProgress(self._done, self._submitted, inventory.resource_count, listing_complete))

    async def _collect_arm(self, arm: ArmReader, inventory: Inventory) -> None:
        wanted = {t.lower() for t in self.needs.resource_types}
        children: dict[str, list[ChildSpec]] = {}
        for spec in self.needs.children:
            children.setdefault(spec.parent_type.lower(), []).append(spec)
            inventory.children.setdefault(spec.key, {})
        for t in wanted:
            inventory.resources.setdefault(t, [])
        self._slots = asyncio.Semaphore(self.concurrency)
        self._collection_slots = asyncio.Semaphore(self.concurrency)
        self._tasks = set()
        self._arg_specs = [s for s in self.needs.children if ARG.arg_source(s) is not None] \
            if self.strategy == LISTS and self.resource_graph else []
        self._arg_nested = ARG.ARG_NESTED & wanted if self.strategy == LISTS and self.resource_graph else frozenset()
        self._derived = derived_children(self.needs.children) if self.strategy == LISTS else {}
        self._not_per_parent = set(self._arg_specs) | {d for ds in self._derived.values() for d in ds}
        self._arg_task = None
        try:
            try:
                if self.strategy == PER_RESOURCE:
                    await self._per_resource(arm, inventory, wanted, children)
                else:
                    await self._by_lists(arm, inventory, wanted, children)
            except ClientAuthenticationError as exc:
                raise CollectionError(auth_failure_message(exc)) from None
            except HttpResponseError as exc:
                raise CollectionError(self._listing_failure(exc)) from None
            await self._drain(inventory)
            if self._arg_task is not None:
                await self._place_arg_children(arm, inventory)
                await self._drain(inventory)
        except BaseException:
            for task in self._tasks:
                task.cancel()
            if self._arg_task is not None:
                self._arg_task.cancel()
            raise
        self._emit(inventory, True, force=True)
        pacer = arm.pacer
        if pacer.waits or pacer.throttled:
            log.info("ARM reads paced on the remaining-reads header: %d waits, %d answered 429 (retried)",
                     pacer.waits, pacer.throttled)
        self._mark_wholly_unreadable(inventory, wanted, children)

    async def _drain(self, inventory: Inventory) -> None:
        """Wait for every submitted fetch, emitting progress."""
        while self._tasks:
            self._check_stop()
            done, _ = await asyncio.wait(set(self._tasks), timeout=PROGRESS_INTERVAL)
            for task in done:
                task.result()  # fetch functions record their own errors; anything else is a bug
            self._emit(inventory, True)

    async def _read_arg(self, arm: ArmReader) -> dict[str, list[dict[str, Any]]]:
        """Every row the scan takes from ARG (ARG-indexed children, nested types): one query per
        table, paged; ``table -> rows``."""
        tables = ARG.queries(self._arg_specs, self._arg_nested)
        rows = await asyncio.gather(*(ARG.read_table(arm, self.subscription_id, q) for q in tables.values()))
        return dict(zip(tables, rows))

    async def _arg_rows(self) -> dict[str, list[dict[str, Any]]] | None:
        """ARG's rows, or None if the queries failed (``_place_arg_children`` says why)."""
        assert self._arg_task is not None
        try:
            return await asyncio.shield(self._arg_task)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception:  # noqa: BLE001 - reported once, where the children fall back
            return None

    async def _place_arg_children(self, arm: ArmReader, inventory: Inventory) -> None:
        """Put ARG's rows where the per-parent reads would: under each collected parent, ``[]``
        or ``{}`` for a parent without rows. If ARG failed, read those children per parent."""
        assert self._arg_task is not None
        labels = ", ".join([f"{s.parent_type}/{s.path}" for s in self._arg_specs] + sorted(self._arg_nested))
        try:
            found = ARG.group_rows(self._arg_specs, await self._arg_task)
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - any ARG failure falls back to ARM
            summary = http_error_summary(exc) if isinstance(exc, (HttpResponseError, ClientAuthenticationError)) \
                else f"{type(exc).__name__}: {exc}"
            hint = " (grant the identity read access to Resource Graph, or set OPENSHIELD_COLLECT_ARG=0)" \
                if getattr(exc, "status_code", None) == 403 else ""
            log.warning("Resource Graph query failed (%s)%s: reading %s per parent instead", summary, hint, labels)
            for spec in self._arg_specs:
                for parent in inventory.resources.get(spec.parent_type.lower(), []):
                    await self._submit(self._fetch_child, arm, parent["id"], spec, inventory)
            return
        placed = 0
        for spec in self._arg_specs:
            rows = found.get(spec.key, {})
            target = inventory.children[spec.key]
            for parent in inventory.resources.get(spec.parent_type.lower(), []):
                pid = parent["id"].lower()
                target[pid] = rows.get(pid, [] if spec.is_list else {})
                placed += 1
        log.info("read %s from Resource Graph for %d parents (eventually consistent: seconds to minutes "
                 "behind ARM; OPENSHIELD_COLLECT_ARG=0 reads them per parent)", labels, placed)

    async def _submit(self, fetch: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Start one fetch once a slot is free: memory stays flat and a listing does not outrun
        the fetches by thousands of tasks."""
        await self._slots.acquire()
        task = asyncio.create_task(self._bounded(fetch(*args)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._submitted += 1

    async def _bounded(self, work: Awaitable[None]) -> None:
        try:
            await work
        finally:
            self._slots.release()
            self._done += 1

    def _count_listed(self, inventory: Inventory, listed: dict[str, Any]) -> None:
        inventory.resource_count += 1
        location = normalise_location(listed.get("location"))
        if location:
            inventory.locations[location] = inventory.locations.get(location, 0) + 1

    async def _per_resource(self, arm: ArmReader, inventory: Inventory, wanted: set[str],
                            children: dict[str, list[ChildSpec]]) -> None:
        """The subscription listing, then one GET per needed resource and per child (kept for
        the differential test and as the fallback's shape)."""
        async for listed in arm.list_resources():
            self._check_stop()
            self._count_listed(inventory, listed)
            rtype = (listed.get("type") or "").lower()
            if rtype in wanted:
                await self._submit(self._fetch_resource, arm, listed, rtype, inventory)
            for spec in children.get(rtype, []):
                await self._submit(self._fetch_child, arm, listed["id"], spec, inventory)
            self._emit(inventory, False)

    async def _by_lists(self, arm: ArmReader, inventory: Inventory, wanted: set[str],
                        children: dict[str, list[ChildSpec]]) -> None:
        """Top-level types from one per-type list each (full properties, 1,000 per page),
        nested types from their parents' collections, children per parent (no list returns
        them). The subscription listing still runs, concurrently: it counts every resource and
        region, and names the resources to read one by one if a type's list is refused."""
        top = sorted(t for t in wanted if t.count("/") == 1 and t not in GROUP_LIST_ONLY)
        nested = sorted(t for t in wanted if t.count("/") > 1)
        listed_of: dict[str, list[dict[str, Any]]] = {t: [] for t in wanted}
        refused: list[str] = sorted(wanted & GROUP_LIST_ONLY)

        async def listing() -> None:
            async for listed in arm.list_resources_raw():
                self._check_stop()
                self._count_listed(inventory, listed)
                rtype = (listed.get("type") or "").lower()
                if rtype in listed_of:
                    listed_of[rtype].append(listed)
                self._emit(inventory, False)

        async def type_list(rtype: str) -> None:
            try:
                items = await arm.list_type(rtype)
            except HttpResponseError as exc:
                log.warning("per-type list of %s failed (%s): reading each resource instead", rtype,
                            http_error_summary(exc))
                refused.append(rtype)
                return
            await self._take_listed(arm, inventory, rtype, items, children)

        if self._arg_specs or self._arg_nested:
            self._arg_task = asyncio.create_task(self._read_arg(arm))
        readers = [asyncio.create_task(listing())] + [asyncio.create_task(type_list(t)) for t in top]
        try:
            await asyncio.gather(*readers)
        except BaseException:
            for reader in readers:
                reader.cancel()
            raise
        for rtype in refused:
            for listed in listed_of[rtype]:
                await self._fetch_one_by_one(arm, inventory, rtype, listed, children)
        for rtype in nested:
            collections: dict[str, list[dict[str, Any]]] = {}
            for listed in listed_of[rtype]:
                collections.setdefault(listed["id"].rsplit("/", 1)[0], []).append(listed)
            if rtype in self._arg_nested:
                collections = await self._take_nested_from_arg(arm, inventory, rtype, collections, children)
            for path, members in collections.items():
                self._check_stop()
                # a collection read submits its members' child reads, so it must not hold one of
                # the slots those wait for (with concurrency 1 that would deadlock): own slots
                await self._collection_slots.acquire()
                task = asyncio.create_task(self._fetch_nested(arm, inventory, rtype, path, members, children))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                task.add_done_callback(lambda _: self._collection_slots.release())

    async def _take_nested_from_arg(self, arm: ArmReader, inventory: Inventory, rtype: str,
                                     collections: dict[str, list[dict[str, Any]]],
                                     children: dict[str, list[ChildSpec]]) -> dict[str, list[dict[str, Any]]]:
        """Members of a nested type from ARG's rows, for every parent whose members the ARM
        listing names and ARG holds; the collections left (ARG failed, or is behind ARM for that
        parent) are returned to be read per parent. ARM's listing decides what exists."""
        rows = await self._arg_rows()
        if rows is None:
            return collections
        by_id = {str(r.get("id", "")).lower(): r for r in rows.get("resources", [])
                 if str(r.get("type", "")).lower() == rtype}
        taken: list[dict[str, Any]] = []
        left: dict[str, list[dict[str, Any]]] = {}
        for path, members in collections.items():
            if all(m["id"].lower() in by_id for m in members):
                taken += [ARG.resource_body(by_id[m["id"].lower()], m) for m in members]
            else:
                left[path] = members
        if left:
            log.info("Resource Graph is behind ARM for %d %s collections: reading them per parent", len(left), rtype)
        await self._take_listed(arm, inventory, rtype, taken, children)
        return left

    async def _take_listed(self, arm: ArmReader, inventory: Inventory, rtype: str, items: list[dict[str, Any]],
                           children: dict[str, list[ChildSpec]]) -> None:
        inventory.resources[rtype].extend(items)
        for item in items:
            self._check_stop()
            for spec in children.get(rtype, []):
                if spec not in self._not_per_parent:
                    await self._submit(self._fetch_child, arm, item["id"], spec, inventory)

    async def _fetch_one_by_one(self, arm: ArmReader, inventory: Inventory, rtype: str, listed: dict[str, Any],
                                children: dict[str, list[ChildSpec]]) -> None:
        self._check_stop()
        await self._submit(self._fetch_resource, arm, listed, rtype, inventory)
        for spec in children.get(rtype, []):
            if spec not in self._not_per_parent:
                await self._submit(self._fetch_child, arm, listed["id"], spec, inventory)

    async def _fetch_nested(self, arm: ArmReader, inventory: Inventory, rtype: str, path: str,
                            members: list[dict[str, Any]], children: dict[str, list[ChildSpec]]) -> None:
        """One parent's collection of a nested type (``…/servers/{x}/databases``); if it cannot
        be read, each member the listing named is read on its own."""
        try:
            items = await arm.get_collection(path, await arm.api_version_for(members[0]["type"]))
        except HttpResponseError as exc:
            log.warning("collection %s failed (%s): reading each resource instead", path, http_error_summary(exc))
            for listed in members:
                await self._fetch_one_by_one(arm, inventory, rtype, listed, children)
            return
        items = [i for i in items if (i.get("type") or "").lower() == rtype]
        await self._take_listed(arm, inventory, rtype, items, children)

    def _check_stop(self) -> None:
        if self.stop.is_set():
            raise Cancelled()

    def _listing_failure(self, exc: HttpResponseError) -> str:
        status = exc.status_code
        if status == 403:
            return f"Azure authorization failed: the identity cannot list subscription {self.subscription_id} (grant it Reader)"
        if status == 404:
            return f"subscription {self.subscription_id} not found or not visible to this identity"
        return f"could not list subscription resources: {http_error_summary(exc)}"

    async def _fetch_resource(self, arm: ArmReader, listed: dict[str, Any], rtype: str, inventory: Inventory) -> None:
        rid = listed["id"]
        try:
            body = await arm.get_resource(rid, listed["type"])
        except HttpResponseError as exc:
            if exc.status_code == 404:
                return  # deleted between listing and GET: nothing to judge
            inventory.unreadable[rid.lower()] = http_error_summary(exc)
            return
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - one resource must not sink the scan
            log.warning("GET %s failed", rid, exc_info=True)
            inventory.unreadable[rid.lower()] = http_error_summary(exc)
            return
        inventory.resources[rtype].append(body)

    async def _fetch_child(self, arm: ArmReader, parent_id: str, spec: ChildSpec, inventory: Inventory) -> None:
        path = f"{parent_id}/{spec.path}"
        derived = self._derived.get(spec.key, [])
        try:
            payload: Any = await arm.get_child(parent_id, spec)
        except HttpResponseError as exc:
            if exc.status_code == 404 and not spec.is_list:
                # a singleton child that does not exist reads as unset, which rules judge
                payload = {}
            else:
                for failed in [spec, *derived]:
                    inventory.unreadable[f"{failed.key}|{parent_id.lower()}"] = http_error_summary(exc)
                return
        except (asyncio.CancelledError, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001
            log.warning("GET %s failed", path, exc_info=True)
            for failed in [spec, *derived]:
                inventory.unreadable[f"{failed.key}|{parent_id.lower()}"] = http_error_summary(exc)
            return
        inventory.children[spec.key][parent_id.lower()] = payload
        for member in derived:
            inventory.children[member.key][parent_id.lower()] = list_member(payload, f"{parent_id}/{member.path}")

    @staticmethod
    def _mark_wholly_unreadable(inventory: Inventory, wanted: set[str], children: dict[str, list[ChildSpec]]) -> None:
        """A type (or child) none of whose instances could be read is unavailable as a whole."""
        for rtype in wanted:
            failed = inventory.unreadable_of_type(rtype)
            if failed and not inventory.resources.get(rtype):
                reasons = sorted(set(failed.values()))
                inventory.unavailable[arm_key(rtype)] = f"could not read any {rtype}: {'; '.join(reasons[:3])}"
        for specs in children.values():
            for spec in specs:
                failures = [r for k, r in inventory.unreadable.items() if k.startswith(spec.key + "|")]
                if failures and not inventory.children.get(spec.key):
                    reasons = sorted(set(failures))
                    inventory.unavailable[spec.key] = (
                        f"could not read any {spec.name} of {spec.parent_type}: {'; '.join(reasons[:3])}"
                    )


def derived_children(specs: tuple[ChildSpec, ...]) -> dict[str, list[ChildSpec]]:
    """Singleton children that are members of a list child the scan reads anyway
    (``configurations/require_secure_transport`` of ``configurations``): taken from that list
    (each item is the object its own GET answers) instead of one more read per parent."""
    lists = {(s.parent_type.lower(), s.path.lower()): s for s in specs if s.is_list}
    derived: dict[str, list[ChildSpec]] = {}
    for spec in specs:
        collection, _, name = spec.path.rpartition("/")
        owner = lists.get((spec.parent_type.lower(), collection.lower()))
        if not spec.is_list and name and owner is not None and ARG.arg_source(owner) is None:
            derived.setdefault(owner.key, []).append(spec)
    return derived


def list_member(items: Any, member_id: str) -> dict[str, Any]:
    """The item of a list child whose id is ``member_id`` (``{}`` when absent: as a GET's 404)."""
    wanted = member_id.lower()
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("id", "")).lower() == wanted:
            return item
    return {}
