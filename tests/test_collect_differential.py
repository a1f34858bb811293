"""The list path (per-type lists, parent collections, Resource Graph for the children it
indexes) against the per-resource path, and a collection under ARM's throttling: same inventory,
same verdicts, no read given up.

Differential: on the demo tenant (test_collect_emulator.py), a ``large:N`` tenant and a tenant
file, both paths must hand the rules exactly the same data, so every rule reaches the same
outcome with the same findings. The one planted difference: a VM whose ARM extensions read is
planted to fail (404) has, for Resource Graph, simply no extension rows
(``collect_helpers.resource_graph_view``); without ARG the paths agree with no exception."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterator

import pytest

from scanner.azure.collector import PER_RESOURCE
from tests.collect_helpers import collect, inventory_form, resource_graph_view, verdicts
from tests.fakeazure import tenants as T
from tests.fakeazure.harness import Emulator, start_emulator

ENV_KEYS = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch):
    def apply(emu: Emulator) -> Emulator:
        for key in ENV_KEYS:  # the SDKs read these from the process environment
            monkeypatch.setenv(key, emu.env[key])
        return emu
    return apply


def tenant_file(tmp_path: Path) -> str:
    """A tenant file: the large generator's output with one storage account's network rules
    removed and an extra resource group, as an operator's edited dump would be."""
    tenant = T.large_tenant(300)
    storage = next(r for r in tenant["resources"] if r["type"] == "Microsoft.Storage/storageAccounts")
    storage["properties"].pop("networkAcls", None)
    path = tmp_path / "tenant.json"
    T.dump_tenant(tenant, str(path))
    return str(path)


@pytest.mark.parametrize("spec", ["large:500", "file"])
def test_list_path_equals_per_resource_path(tmp_path: Path, trust, spec: str) -> None:
    tenant = tenant_file(tmp_path) if spec == "file" else spec
    with start_emulator(tmp_path / "emu", tenant=tenant, page_size=100) as emu:
        trust(emu)
        by_arg = collect(emu, concurrency=16)
        arg_stats = emu.stats()["by_route"]
        emu.reset_stats()
        by_lists = collect(emu, concurrency=16, resource_graph=False)
        list_stats = emu.stats()["by_route"]
        emu.reset_stats()
        by_resource = collect(emu, concurrency=16, strategy=PER_RESOURCE)
        resource_stats = emu.stats()["by_route"]
    assert by_lists.resource_count == by_resource.resource_count == by_arg.resource_count > 0
    assert inventory_form(by_lists) == inventory_form(by_resource)
    assert verdicts(by_lists) == verdicts(by_resource)
    assert "arm.resource.get" not in list_stats and resource_stats["arm.resource.get"] > 0
    assert sum(list_stats.values()) < sum(resource_stats.values())
    # the Resource Graph path: the same data, two queries instead of a read per VM, per site and
    # per SQL server with databases
    seen_by_arg = resource_graph_view(by_resource)
    assert inventory_form(by_arg) == inventory_form(seen_by_arg)
    assert verdicts(by_arg) == verdicts(seen_by_arg)
    db_servers = {d["id"].lower().rsplit("/databases/", 1)[0] for d in by_arg.of_type("microsoft.sql/servers/databases")}
    parents = len(by_arg.of_type("microsoft.compute/virtualmachines")) + len(by_arg.of_type("microsoft.web/sites")) \
        + len(db_servers)
    assert db_servers
    assert arg_stats["arg.resources"] == 2 and "arg.resources" not in list_stats
    assert sum(v for k, v in arg_stats.items() if k.startswith("arm.")) == \
        sum(v for k, v in list_stats.items() if k.startswith("arm.")) - parents


def test_resource_graph_pages_over_a_thousand_rows(tmp_path: Path, trust) -> None:
    """More than 1,000 extension rows: the query follows ``$skipToken`` and loses none."""
    tenant = T.large_tenant(400)
    vms = [r for r in tenant["resources"] if r["type"] == "Microsoft.Compute/virtualMachines"]
    lists = [tenant["children"][f"{vm['id']}/extensions"] for vm in vms]
    template = next(items[0] for items in lists if items)
    readable = [(vm, items) for vm, items in zip(vms, lists) if items is not None]  # planted 404s stay
    for vm, items in readable:
        items += [{**template, "id": f"{vm['id']}/extensions/extra-{n}", "name": f"extra-{n}"}
                  for n in range(-(-1100 // len(readable)))]
    rows = sum(len(v) for k, v in tenant["children"].items() if k.endswith("/extensions") and v)
    assert rows > 1000
    path = tmp_path / "tenant.json"
    T.dump_tenant(tenant, str(path))
    with start_emulator(tmp_path / "emu", tenant=str(path)) as emu:
        trust(emu)
        by_arg = collect(emu, concurrency=16)
        assert emu.stats()["by_route"]["arg.resources"] == 3  # two pages of extensions, one of site config
        by_resource = collect(emu, concurrency=16, strategy=PER_RESOURCE)
    extensions = "child:microsoft.compute/virtualmachines/extensions"
    assert sum(len(v) for v in by_arg.children[extensions].values()) == rows
    assert inventory_form(by_arg) == inventory_form(resource_graph_view(by_resource))


def test_throttled_collection_is_paced_and_loses_nothing(tmp_path: Path, trust, caplog) -> None:
    with start_emulator(tmp_path / "free", tenant="demo") as emu:
        trust(emu)
        baseline = inventory_form(collect(emu))
    # a small bucket: the demo's ~115 reads need about 3 s of refill beyond it
    with start_emulator(tmp_path / "throttled", tenant="demo", arm_throttle="40/25") as emu:
        trust(emu)
        with caplog.at_level(logging.INFO, logger="scanner.azure.collector"):
            inv = collect(emu, concurrency=16)
        stats = emu.stats()
    assert inventory_form(inv) == baseline
    # paced on the remaining-reads header: the reads waited instead of meeting a 429 storm
    paced = [r.message for r in caplog.records if "ARM reads paced" in r.message]
    assert paced and " 0 waits" not in paced[0]
    # no 429 storm: a few reads already in flight when the mirror reached its reserve may meet
    # one (each is retried after its Retry-After, and the inventory above is whole)
    assert stats["throttled_429"] <= stats["by_group"]["arm"] // 10, stats
