"""Resource Graph reads of the collector (scanner/azure/resourcegraph.py): which rows belong to
which parent, the per-parent shape they are given, the quota, and a collection against the
emulator's ARG quota (``--arg-throttle``) that loses nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner.azure import resourcegraph as ARG
from scanner.inventory import ChildSpec
from tests.collect_helpers import collect, inventory_form
from tests.fakeazure.harness import start_emulator

VM = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm1"
SITE = "/subscriptions/s/resourceGroups/g/providers/Microsoft.Web/sites/app1"
EXTENSIONS = ChildSpec("Microsoft.Compute/virtualMachines", "extensions", is_list=True)
WEB = ChildSpec("Microsoft.Web/sites", "config/web")


def test_parent_of_matches_only_that_child() -> None:
    assert ARG.parent_of(EXTENSIONS, f"{VM}/extensions/MDE.Linux") == VM.lower()
    assert ARG.parent_of(EXTENSIONS, f"{VM}/extensions") is None
    assert ARG.parent_of(EXTENSIONS, f"{VM}/extensions/a/b") is None
    assert ARG.parent_of(WEB, f"{SITE}/config/web") == SITE.lower()
    assert ARG.parent_of(WEB, f"{SITE}/config/authsettingsV2") is None


def test_rows_are_grouped_in_the_per_parent_shape() -> None:
    rows = {
        "resources": [
            {"id": f"{VM}/extensions/b", "name": "b", "type": "microsoft.compute/virtualmachines/extensions",
             "location": "westeurope", "properties": {"publisher": "P"}, "tenantId": "t"},
            {"id": f"{VM}/extensions/a", "name": "a", "type": "microsoft.compute/virtualmachines/extensions",
             "location": "westeurope", "properties": {}},
            {"id": VM, "name": "vm1", "type": "microsoft.compute/virtualmachines"},  # not a child row
        ],
        "appserviceresources": [
            {"id": f"{SITE}/config/web", "name": "app1", "type": "microsoft.web/sites/config", "location": "westeurope",
             "properties": {"minTlsVersion": "1.2"}},
            {"id": f"{SITE}/config/authsettingsV2", "name": "authsettingsV2", "type": "microsoft.web/sites/config",
             "location": "westeurope", "properties": {}},
        ],
    }
    found = ARG.group_rows([EXTENSIONS, WEB], rows)
    extensions = found[EXTENSIONS.key][VM.lower()]
    assert [e["name"] for e in extensions] == ["a", "b"]  # sorted by id
    assert extensions[1] == {"id": f"{VM}/extensions/b", "name": "b", "type": "Microsoft.Compute/virtualMachines/extensions",
                             "location": "westeurope", "properties": {"publisher": "P"}}  # ARM's casing, no ARG columns
    assert found[WEB.key] == {SITE.lower(): {"id": f"{SITE}/config/web", "name": "app1", "type": "Microsoft.Web/sites/config",
                                             "location": "westeurope", "properties": {"minTlsVersion": "1.2"}}}


def test_queries_one_per_table_with_id_projected() -> None:
    queries = ARG.queries([EXTENSIONS, WEB], frozenset({"microsoft.sql/servers/databases"}))
    assert set(queries) == {"resources", "appserviceresources"}
    assert queries["resources"].startswith(
        "resources | where type in~ ('microsoft.compute/virtualmachines/extensions', 'microsoft.sql/servers/databases')")
    assert "| project id, " in queries["resources"] and "| project id, " in queries["appserviceresources"]
    assert ARG.queries([ChildSpec("Microsoft.KeyVault/vaults", "keys", is_list=True)]) == {}


def test_resource_body_keeps_the_keys_the_arm_listing_shows() -> None:
    row = {"id": "/x/databases/db", "name": "db", "type": "microsoft.sql/servers/databases", "kind": "",
           "location": "westeurope", "managedBy": "", "sku": {"name": "S0"}, "identity": None, "plan": None,
           "tags": {}, "extendedLocation": None, "properties": {"status": "Online"}}
    listed = {"id": "/X/databases/db", "name": "db", "type": "Microsoft.Sql/servers/databases", "location": "westeurope",
              "sku": {"name": "S0"}}
    assert ARG.resource_body(row, listed) == {"id": "/X/databases/db", "name": "db", "type": "Microsoft.Sql/servers/databases",
                                              "location": "westeurope", "sku": {"name": "S0"},
                                              "properties": {"status": "Online"}}


def test_quota_wait() -> None:
    assert ARG.quota_wait({"x-ms-user-quota-remaining": "3", "x-ms-user-quota-resets-after": "00:00:04"}) == 0
    assert ARG.quota_wait({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:04"}) == 4
    assert ARG.quota_wait({"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "bad"}) == 1
    assert ARG.quota_wait({}) == 0


def test_collection_within_a_tiny_arg_quota_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One query per 2 s: the second table's query meets a 429 and is retried after its
    Retry-After (a POST the pipeline is told to retry); pages wait for the quota to reset."""
    with start_emulator(tmp_path / "free", tenant="large:300", page_size=100) as emu:
        for key in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            monkeypatch.setenv(key, emu.env[key])
        baseline = inventory_form(collect(emu, concurrency=16))
    with start_emulator(tmp_path / "quota", tenant="large:300", page_size=100, arg_throttle="1/2") as emu:
        for key in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
            monkeypatch.setenv(key, emu.env[key])
        inv = collect(emu, concurrency=16)
        stats = emu.stats()
    assert inventory_form(inv) == baseline
    assert stats["by_route"]["arg.resources"] >= 3 and stats["throttled_429"] >= 1  # 2 accepted + at least one 429


def test_the_setting_turns_resource_graph_on_and_off() -> None:
    from store.settings import collect_arg

    assert collect_arg({}) is True and collect_arg({"OPENSHIELD_COLLECT_ARG": "1"}) is True
    assert collect_arg({"OPENSHIELD_COLLECT_ARG": "0"}) is False and collect_arg({"OPENSHIELD_COLLECT_ARG": "off"}) is False
    with pytest.raises(ValueError, match="OPENSHIELD_COLLECT_ARG must be 1 or 0"):
        collect_arg({"OPENSHIELD_COLLECT_ARG": "maybe"})


def test_a_singleton_inside_a_list_read_anyway_is_taken_from_it() -> None:
    """``configurations/require_secure_transport`` is an item of ``configurations``: when a rule
    reads the list, the parameter comes from it instead of one more read per server."""
    from scanner.azure.collector import derived_children, list_member

    pg = "Microsoft.DBforPostgreSQL/flexibleServers"
    listed = ChildSpec(pg, "configurations", is_list=True)
    single = ChildSpec(pg, "configurations/require_secure_transport")
    other = ChildSpec("Microsoft.DBforMySQL/flexibleServers", "configurations/require_secure_transport")
    assert derived_children((listed, single, other, WEB)) == {listed.key: [single]}
    assert derived_children((single,)) == {}  # no list read: it stays a read of its own
    server = "/subscriptions/s/resourceGroups/g/providers/Microsoft.DBforPostgreSQL/flexibleServers/p1"
    item = {"id": f"{server}/configurations/require_secure_transport", "properties": {"value": "on"}}
    assert list_member([{"id": f"{server}/configurations/x"}, item], f"{server.upper()}/configurations/require_secure_transport") == item
    assert list_member([], f"{server}/configurations/require_secure_transport") == {}  # as a 404 reads
