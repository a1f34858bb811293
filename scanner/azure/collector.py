"""Collect, once, exactly what the selected rules need.

One pass over the subscription listing; each resource of a needed type gets one detail GET and
one GET per needed child, run on a bounded thread pool while the listing is still paging.
Microsoft Graph collections and role assignments are fetched concurrently with the ARM work.
Failures are recorded in the inventory (``unavailable`` / ``unreadable``) with a reason, so the
engine can skip a rule instead of reporting a false "no findings".
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError

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
)

log = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 32


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
    ) -> None:
        self.subscription_id = subscription_id
        self.needs = needs
        self.endpoints = endpoints or AzureEndpoints.from_env()
        self.concurrency = max(1, concurrency)
        self.on_progress = on_progress
        self.stop = stop or threading.Event()

    # ------------------------------------------------------------------ public
    def collect(self) -> Inventory:
        try:
            credential = build_credential(self.endpoints)
        except ValueError as exc:
            raise CollectionError(f"Azure authentication failed: {exc}") from None
        self._authenticate(credential)
        inventory = Inventory(subscription_id=self.subscription_id)
        arm = ArmReader(credential, self.endpoints, self.subscription_id, max_connections=self.concurrency + 4)
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="collect")
        finished = False
        try:
            side_jobs = self._start_side_jobs(pool, arm, credential)
            self._collect_arm(pool, arm, inventory)
            self._finish_side_jobs(side_jobs, inventory)
            finished = True
        finally:
            # On cancel or error do not wait for queued fetches: the scan must stop promptly.
            pool.shutdown(wait=finished, cancel_futures=not finished)
            if finished:
                arm.close()
        return inventory

    # ---------------------------------------------------------------- internals
    def _authenticate(self, credential: Any) -> None:
        """Fail fast, with a short reason, when the identity cannot get an ARM token at all."""
        try:
            credential.get_token(self.endpoints.arm_scope)
        except ClientAuthenticationError as exc:
            log.debug("authentication failure", exc_info=True)
            raise CollectionError(auth_failure_message(exc)) from None

    def _start_side_jobs(self, pool: ThreadPoolExecutor, arm: ArmReader, credential: Any) -> dict[str, Future[Any]]:
        jobs: dict[str, Future[Any]] = {}
        graph_names = sorted(self.needs.graph | self.needs.optional_graph)
        unknown = [g for g in graph_names if g not in COLLECTIONS]
        if unknown:
            raise ValueError(f"unknown Graph collections: {unknown}")
        if graph_names:
            reader = GraphReader(credential, self.endpoints)
            jobs["graph"] = pool.submit(lambda: asyncio.run(reader.collect(graph_names)))
        if self.needs.role_assignments:
            jobs[ROLE_ASSIGNMENTS_KEY] = pool.submit(arm.role_assignments)
        if self.needs.role_definitions:
            jobs[ROLE_DEFINITIONS_KEY] = pool.submit(arm.role_definitions)
        return jobs

    def _finish_side_jobs(self, jobs: dict[str, Future[Any]], inventory: Inventory) -> None:
        for key, future in jobs.items():
            if key == "graph":
                for name, result in future.result().items():
                    if isinstance(result, BaseException):
                        inventory.unavailable[graph_key(name)] = self._graph_reason(name, result)
                    else:
                        inventory.graph[name] = result
                continue
            try:
                value = future.result()
            except (HttpResponseError, ClientAuthenticationError) as exc:
                inventory.unavailable[key] = f"could not read {key.split(':', 1)[1]}: {http_error_summary(exc)}"
                continue
            if key == ROLE_ASSIGNMENTS_KEY:
                inventory.role_assignments = value
            else:
                inventory.role_definitions = value

    def _graph_reason(self, name: str, exc: BaseException) -> str:
        log.info("graph collection %s failed: %s", name, graph_error_summary(exc), exc_info=exc)
        summary = graph_error_summary(exc)
        if getattr(exc, "response_status_code", None) == 403:
            return f"Microsoft Graph denied {name} ({summary}): grant {COLLECTIONS[name].permission}"
        if isinstance(exc, ClientAuthenticationError):
            return f"Microsoft Graph {name}: {auth_failure_message(exc)}"
        return f"could not read Microsoft Graph {name}: {summary}"

    def _collect_arm(self, pool: ThreadPoolExecutor, arm: ArmReader, inventory: Inventory) -> None:
        wanted = {t.lower() for t in self.needs.resource_types}
        children: dict[str, list[ChildSpec]] = {}
        for spec in self.needs.children:
            children.setdefault(spec.parent_type.lower(), []).append(spec)
            inventory.children.setdefault(spec.key, {})
        for t in wanted:
            inventory.resources.setdefault(t, [])

        pending: set[Future[None]] = set()
        done = 0
        submitted = 0
        last_emit = 0.0

        def emit(listing_complete: bool, force: bool = False) -> None:
            nonlocal last_emit
            now = time.monotonic()
            if self.on_progress and (force or now - last_emit >= 0.25):
                last_emit = now
                self.on_progress(CollectProgress(done, submitted, inventory.resource_count, listing_complete))

        def drain(block: bool) -> None:
            nonlocal done, pending
            if not pending:
                return
            finished, pending = wait(pending, timeout=None if block else 0, return_when=FIRST_COMPLETED)
            for future in finished:
                future.result()  # the task functions record their own errors
                done += 1

        try:
            for listed in arm.list_resources():
                if self.stop.is_set():
                    raise Cancelled()
                inventory.resource_count += 1
                rtype = (listed.get("type") or "").lower()
                if rtype in wanted:
                    pending.add(pool.submit(self._fetch_resource, arm, listed, rtype, inventory))
                    submitted += 1
                for spec in children.get(rtype, []):
                    pending.add(pool.submit(self._fetch_child, arm, listed["id"], spec, inventory))
                    submitted += 1
                # keep memory bounded and progress moving while the listing pages
                while len(pending) > self.concurrency * 8:
                    drain(block=True)
                drain(block=False)
                emit(False)
        except Cancelled:
            raise
        except ClientAuthenticationError as exc:
            raise CollectionError(auth_failure_message(exc)) from None
        except HttpResponseError as exc:
            raise CollectionError(self._listing_failure(exc)) from None
        finally:
            if self.stop.is_set():
                for future in pending:
                    future.cancel()
        while pending:
            if self.stop.is_set():
                for future in pending:
                    future.cancel()
                raise Cancelled()
            drain(block=True)
            emit(True)
        emit(True, force=True)
        self._mark_wholly_unreadable(inventory, wanted, children)

    def _listing_failure(self, exc: HttpResponseError) -> str:
        status = exc.status_code
        if status == 403:
            return f"Azure authorization failed: the identity cannot list subscription {self.subscription_id} (grant it Reader)"
        if status == 404:
            return f"subscription {self.subscription_id} not found or not visible to this identity"
        return f"could not list subscription resources: {http_error_summary(exc)}"

    def _fetch_resource(self, arm: ArmReader, listed: dict[str, Any], rtype: str, inventory: Inventory) -> None:
        rid = listed["id"]
        try:
            body = arm.get_resource(rid, listed["type"])
        except HttpResponseError as exc:
            if exc.status_code == 404:
                return  # deleted between listing and GET: nothing to judge
            inventory.unreadable[rid.lower()] = http_error_summary(exc)
            return
        except Exception as exc:  # noqa: BLE001 - one resource must not sink the scan
            log.warning("GET %s failed", rid, exc_info=True)
            inventory.unreadable[rid.lower()] = http_error_summary(exc)
            return
        inventory.resources[rtype].append(body)  # list.append is atomic under the GIL

    def _fetch_child(self, arm: ArmReader, parent_id: str, spec: ChildSpec, inventory: Inventory) -> None:
        path = f"{parent_id}/{spec.path}"
        try:
            payload: Any = arm.get_collection(path, spec.api_version) if spec.is_list else arm.get_json(path, spec.api_version)
        except HttpResponseError as exc:
            if exc.status_code == 404 and not spec.is_list:
                # a singleton child that does not exist (e.g. never configured) reads as empty
                payload = {}
            else:
                inventory.unreadable[f"{spec.key}|{parent_id.lower()}"] = http_error_summary(exc)
                return
        except Exception as exc:  # noqa: BLE001
            log.warning("GET %s failed", path, exc_info=True)
            inventory.unreadable[f"{spec.key}|{parent_id.lower()}"] = http_error_summary(exc)
            return
        inventory.children[spec.key][parent_id.lower()] = payload

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
                    inventory.unavailable[spec.key] = f"could not read any {spec.path} of {spec.parent_type}: {'; '.join(reasons[:3])}"
