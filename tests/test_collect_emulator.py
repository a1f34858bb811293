"""The collectors through the real Azure SDKs against the HTTPS emulator.

Covers paging, 429 + Retry-After, transient 503, a Graph collection answering 403, and a wrong
client secret.
"""

from __future__ import annotations

import os
from typing import Iterator

import pytest

from scanner.azure.collector import PER_RESOURCE, Collector
from scanner.azure.errors import CollectionError
from scanner.engine import evaluate_rule
from scanner.inventory import ChildSpec, Inventory, Needs
from scanner.rules import all_rules
from tests.collect_helpers import collect, endpoints, inventory_form, resource_graph_view, verdicts
from tests.fakeazure import tenants as T
from tests.fakeazure.harness import Emulator, start_emulator

ENV_KEYS = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo", page_size=7, graph_max_page_size=5) as emu:
        saved = {k: os.environ.get(k) for k in ENV_KEYS}
        for key in ENV_KEYS:  # the SDKs read these from the process environment
            os.environ[key] = emu.env[key]
        yield emu
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(autouse=True)
def clean_faults(emulator: Emulator) -> Iterator[None]:
    emulator.set_faults(latency_ms=0, throttle_every=0, fail_every=0, forbid_graph=[], forbid_arm=[], forbid_lists=[],
                        retry_after=1, arg_status=0)
    emulator.reset_stats()
    yield




def summary(inv: Inventory) -> dict[str, object]:
    return {
        "types": {t: sorted(r["id"].lower() for r in rs) for t, rs in inv.resources.items()},
        "children": {k: sorted(v) for k, v in inv.children.items()},
        "graph": {k: len(v) for k, v in inv.graph.items()},
        "roles": (len(inv.role_assignments), len(inv.role_definitions)),
        "count": inv.resource_count,
    }


EXTENSIONS = ChildSpec("Microsoft.Compute/virtualMachines", "extensions", is_list=True)
SITE_CONFIG = ChildSpec("Microsoft.Web/sites", "config/web")


def planted_unreadable(inv: Inventory) -> str:
    """The VM whose extensions list the demo plants as failing (its ARM read answers 404)."""
    keys = [k for k in inv.unreadable if k.startswith(EXTENSIONS.key + "|")]
    assert len(inv.unreadable) == len(keys) == 1, inv.unreadable
    return keys[0].split("|", 1)[1]


def test_demo_collection_is_complete_and_paged(emulator: Emulator) -> None:
    inv = collect(emulator, resource_graph=False)
    assert inv.unavailable == {}
    # the demo plants exactly one unreadable child (a VM whose extensions list answers 404)
    planted_unreadable(inv)
    tenant = emulator.tenant_summary()
    assert inv.resource_count == tenant["resources"]
    for rtype in (r.lower() for rule in all_rules() for r in rule.needs.resource_types):
        assert inv.of_type(rtype), f"nothing collected for {rtype}"
    for name in ("users", "userRegistrationDetails", "directoryRoles", "applications", "servicePrincipals"):
        assert inv.graph_objects(name), f"Graph {name} empty"
    assert inv.role_assignments
    assert inv.role_definitions  # AZ-IAM-010 (custom roles with "*") needs them
    stats = emulator.stats()["by_route"]
    # page size 7 over 50+ resources: the SDK pager followed nextLink many times
    assert stats["arm.resources.list"] >= tenant["resources"] // 7
    assert stats["graph.users"] >= 2, "Graph paging was not followed"
    # resources come from per-type lists (page size 7: several pages) and parent collections,
    # one GET each only for the types ARM lists per resource group alone (VPN gateways)
    group_only = sum(len(inv.resources.get(t, [])) for t in T.GROUP_LIST_ONLY)
    assert group_only >= 1
    assert stats.get("arm.resource.get", 0) == group_only
    top_types = {t for t in inv.resources if t.count("/") == 1}
    assert stats["arm.list.subscription"] >= len(top_types) + 1
    assert stats["arm.list.children"] >= 1  # SQL databases from their servers' collections


def test_list_path_and_per_resource_path_agree(emulator: Emulator) -> None:
    by_lists = collect(emulator, resource_graph=False)
    by_resource = collect(emulator, strategy=PER_RESOURCE)
    assert inventory_form(by_lists) == inventory_form(by_resource)
    assert verdicts(by_lists) == verdicts(by_resource)
    # with Resource Graph: the same, except the VM whose ARM extensions read is planted to fail
    # (ARG has no rows for it, so it reads as a VM without extensions)
    by_arg = collect(emulator)
    assert by_arg.unreadable == {}
    assert by_arg.children[EXTENSIONS.key][planted_unreadable(by_resource)] == []
    patched = resource_graph_view(by_resource)
    assert inventory_form(by_arg) == inventory_form(patched)
    assert verdicts(by_arg) == verdicts(patched)


def test_resource_graph_replaces_the_per_parent_reads(emulator: Emulator, caplog) -> None:
    per_parent = collect(emulator, resource_graph=False)
    arm_reads = emulator.stats()["by_group"]["arm"]
    emulator.reset_stats()
    with caplog.at_level("INFO", logger="scanner.azure.collector"):
        inv = collect(emulator)
    stats = emulator.stats()
    vms, sites = len(inv.of_type("microsoft.compute/virtualmachines")), len(inv.of_type("microsoft.web/sites"))
    assert vms and sites
    # one query per table (demo: under 1,000 rows each) instead of one read per VM, per site and
    # per SQL server with databases (its databases collection)
    assert stats["by_route"]["arg.resources"] == 2
    db_servers = {d["id"].lower().rsplit("/databases/", 1)[0] for d in inv.of_type("microsoft.sql/servers/databases")}
    assert db_servers and stats["by_group"]["arm"] == arm_reads - vms - sites - len(db_servers)
    assert inventory_form(inv) == inventory_form(resource_graph_view(per_parent))
    # every parent has its payload: a list of extensions, the config object
    assert set(inv.children[EXTENSIONS.key]) == {v["id"].lower() for v in inv.of_type("microsoft.compute/virtualmachines")}
    assert set(inv.children[SITE_CONFIG.key]) == {s["id"].lower() for s in inv.of_type("microsoft.web/sites")}
    ext = next(v for v in inv.children[EXTENSIONS.key].values() if v)
    assert ext[0]["type"] == "Microsoft.Compute/virtualMachines/extensions"  # ARM's casing, not ARG's
    assert any("from Resource Graph" in r.message and "eventually consistent" in r.message for r in caplog.records)


@pytest.mark.parametrize("status,code", [(403, "AuthorizationFailed"), (400, "BadRequest")])
def test_a_denied_or_refused_resource_graph_falls_back_to_per_parent_reads(
        emulator: Emulator, caplog, status: int, code: str) -> None:
    baseline = inventory_form(collect(emulator, resource_graph=False))
    emulator.set_faults(arg_status=status)
    emulator.reset_stats()
    with caplog.at_level("WARNING", logger="scanner.azure.collector"):
        inv = collect(emulator)
    assert inventory_form(inv) == baseline  # nothing lost, the planted 404 included
    assert emulator.stats()["by_route"]["arg.resources"] >= 1
    warnings = [r.message for r in caplog.records if "Resource Graph query failed" in r.message]
    assert len(warnings) == 1 and f"HTTP {status} {code}" in warnings[0]
    assert "Microsoft.Compute/virtualMachines/extensions" in warnings[0] and "per parent instead" in warnings[0]


def test_resource_graph_can_be_turned_off(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSHIELD_COLLECT_ARG", "0")
    collect(emulator, resource_graph=None)
    assert "arg.resources" not in emulator.stats()["by_route"]
    monkeypatch.setenv("OPENSHIELD_COLLECT_ARG", "1")
    collect(emulator, resource_graph=None)
    assert emulator.stats()["by_route"]["arg.resources"] == 2


def test_a_refused_type_list_falls_back_to_one_get_per_resource(emulator: Emulator, caplog) -> None:
    baseline = inventory_form(collect(emulator))
    emulator.set_faults(forbid_lists=["Microsoft.Storage/storageAccounts"])
    emulator.reset_stats()
    with caplog.at_level("WARNING", logger="scanner.azure.collector"):
        inv = collect(emulator)
    assert inventory_form(inv) == baseline
    group_only = sum(len(inv.resources.get(t, [])) for t in T.GROUP_LIST_ONLY)  # always read one by one
    assert emulator.stats()["by_route"]["arm.resource.get"] == \
        len(inv.resources["microsoft.storage/storageaccounts"]) + group_only
    assert any("per-type list of microsoft.storage/storageaccounts failed (HTTP 403 AuthorizationFailed)" in r.message
               and "reading each resource instead" in r.message for r in caplog.records)
    # a type ARM lists per resource group only is not asked for at subscription scope (no warning)
    assert not any("virtualnetworkgateways" in r.message for r in caplog.records)


def test_throttling_and_transient_errors_are_retried(emulator: Emulator) -> None:
    baseline = summary(collect(emulator))
    # Retry-After 0: these 429s are random, not an empty bucket, and the pacer would otherwise
    # (rightly) hold every read for the whole second each one asks for
    # One read in 10 throttled and one in 13 failing: each read has 7 attempts (retry_total 6), so
    # at ~1,500 reads a scan loses one only once in ~150 runs; every 4th/9th (as before the
    # issue-17 reads doubled the demo's reads) lost one in ~2.
    emulator.set_faults(throttle_every=10, retry_after=0, fail_every=13)
    emulator.reset_stats()
    inv = collect(emulator)
    assert inv.unavailable == {} and inv.unreadable == {}  # the planted 404 is an ARM read; ARG read that VM
    assert summary(inv) == baseline
    statuses = emulator.stats()["by_status"]
    assert statuses.get("429", 0) > 0 and statuses.get("503", 0) > 0


def test_forbidden_graph_collection_marks_data_unavailable(emulator: Emulator) -> None:
    emulator.set_faults(forbid_graph=["userRegistrationDetails"])
    inv = collect(emulator)
    reason = inv.unavailable["graph:userRegistrationDetails"]
    assert "403" in reason and "AuditLog.Read.All" in reason
    rules = {r.id: r for r in all_rules()}
    outcome, findings = evaluate_rule(rules["AZ-IAM-001"], inv)
    assert outcome.status == "skipped" and "AuditLog.Read.All" in (outcome.reason or "") and findings == []
    # rules that do not need it are unaffected
    outcome, _ = evaluate_rule(rules["AZ-IAM-003"], inv)
    assert outcome.status == "ok"


def test_subscription_reads_and_locations_are_collected(emulator: Emulator) -> None:
    inv = collect(emulator)
    from scanner.rules.monitoring import ACTIVITY_LOG_SETTINGS, DEFENDER_PRICINGS

    assert [s["name"] for s in inv.subscription_read(ACTIVITY_LOG_SETTINGS)] == [
        "activity-log-to-nowhere", "activity-log-all-disabled", "activity-log-archive"]
    assert len(inv.subscription_read(DEFENDER_PRICINGS)) == 13  # + CloudPosture (Defender CSPM, AZ-MON-006)
    # every listed resource counted in its (normalised) region, needed by a rule or not
    assert sum(inv.locations.values()) == inv.resource_count
    assert {"westeurope", "northeurope", "eastus", "global"} == set(inv.locations)
    routes = emulator.stats()["by_route"]
    # 12 plans at page size 7: the second page came through nextLink
    assert routes["arm.subscription.pricings"] == 2 and routes["arm.subscription.diagnosticSettings"] == 1


def test_forbidden_subscription_read_skips_only_its_rules(emulator: Emulator) -> None:
    emulator.set_faults(forbid_arm=["pricings"])
    inv = collect(emulator)
    reason = inv.unavailable["sub:providers/microsoft.security/pricings"]
    assert reason == ("could not read Microsoft Defender for Cloud plans (pricings) (HTTP 403 AuthorizationFailed): "
                      "grant the identity Reader on the subscription")
    assert set(inv.unavailable) == {"sub:providers/microsoft.security/pricings"}
    rules = {r.id: r for r in all_rules()}
    outcome, findings = evaluate_rule(rules["AZ-MON-006"], inv)
    assert outcome.status == "skipped" and outcome.reason == reason and findings == []
    outcome, findings = evaluate_rule(rules["AZ-MON-001"], inv)
    assert outcome.status == "ok" and len(findings) == 1


def test_entra_diagnostic_settings_are_read_at_the_tenant(emulator: Emulator) -> None:
    """``GET /providers/microsoft.aadiam/diagnosticSettings`` (no subscription in the path, at
    its pinned api-version); refused, only AZ-MON-017/019 are skipped, naming the action."""
    from scanner.rules.monitoring import ENTRA_DIAGNOSTIC_SETTINGS

    inv = collect(emulator)
    assert [s["name"] for s in inv.subscription_read(ENTRA_DIAGNOSTIC_SETTINGS)] == ["entra-audit-to-law"]
    assert emulator.stats()["by_route"]["arm.tenant.aadiamDiagnosticSettings"] == 1
    rules = {r.id: r for r in all_rules()}
    for rule_id in ("AZ-MON-017", "AZ-MON-018"):
        outcome, findings = evaluate_rule(rules[rule_id], inv)
        assert outcome.status == "ok" and len(findings) == 1
    emulator.set_faults(forbid_arm=["aadiamDiagnosticSettings"])
    inv = collect(emulator)
    reason = inv.unavailable[ENTRA_DIAGNOSTIC_SETTINGS.key]
    assert reason == ("could not read Entra ID diagnostic settings (HTTP 403 AuthorizationFailed): grant a role with "
                      "microsoft.aadiam/diagnosticSettings/read at the tenant root scope '/' "
                      "(for example Reader assigned at '/')")
    assert set(inv.unavailable) == {ENTRA_DIAGNOSTIC_SETTINGS.key}
    for rule_id in ("AZ-MON-017", "AZ-MON-018"):
        outcome, findings = evaluate_rule(rules[rule_id], inv)
        assert outcome.status == "skipped" and outcome.reason == reason and findings == []


def test_wrong_client_secret_fails_with_short_message(emulator: Emulator) -> None:
    with pytest.raises(CollectionError) as info:
        collect(emulator, secret="not-the-secret")
    message = str(info.value)
    assert message == "Azure authentication failed: invalid client secret"
    assert "not-the-secret" not in message


def test_sequential_collection_gives_the_same_inventory(emulator: Emulator) -> None:
    assert summary(collect(emulator, concurrency=1)) == summary(collect(emulator, concurrency=16))


def test_a_read_without_a_pinned_api_version_fails_before_any_request(emulator: Emulator) -> None:
    """A child read nobody pinned an api-version for stops the scan at once, naming the read,
    instead of sending a request per resource that ARM would refuse."""
    needs = Needs(resource_types=frozenset({"Microsoft.Storage/storageAccounts"}),
                  children=(ChildSpec("Microsoft.Storage/storageAccounts", "queueServices/default"),))
    collector = Collector(emulator.env["AZURE_SUBSCRIPTION_ID"], needs, endpoints=endpoints(emulator))
    with pytest.raises(ValueError, match="no api-version pinned for child queueServices/default"):
        collector.collect()
    assert emulator.stats()["total"] == 0


def test_databases_resource_graph_lacks_are_read_from_their_server(
        emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    """ARG lags ARM: a database the ARM listing names but ARG has not indexed yet is read with
    its server's collection, so nothing ARM shows is missed."""
    from scanner.azure import resourcegraph as ARG

    emulator.reset_stats()
    baseline = inventory_form(collect(emulator))
    # other parents' collections read with ARG in step (e.g. the activity-log account's containers)
    lists_in_step = emulator.stats()["by_route"].get("arm.list.children", 0)
    real = ARG.read_table

    async def behind(arm, subscription_id, query):  # type: ignore[no-untyped-def]
        rows = await real(arm, subscription_id, query)
        databases = [r for r in rows if r.get("type") == "microsoft.sql/servers/databases"]
        return [r for r in rows if not databases or r is not databases[0]]

    monkeypatch.setattr(ARG, "read_table", behind)
    emulator.reset_stats()
    with caplog.at_level("INFO", logger="scanner.azure.collector"):
        inv = collect(emulator)
    assert inventory_form(inv) == baseline
    assert emulator.stats()["by_route"]["arm.list.children"] == lists_in_step + 1  # + that server's databases
    assert any("Resource Graph is behind ARM for 1 microsoft.sql/servers/databases" in r.message
               for r in caplog.records)


def test_vault_protected_items_are_listed_filtered_to_azure_vms(emulator: Emulator) -> None:
    """AZ-CMP-009 reads each vault's backupProtectedItems with $filter=backupManagementType eq
    'AzureIaasVM': the file share the demo's first vault also protects is not returned."""
    from scanner.rules.recoveryservices import VAULT_PROTECTED_VMS
    from scanner.rules.support.base import REGISTRY
    from tests.fakeazure.tenants import demo_tenant

    inv = collect(emulator)
    listed = [item for items in inv.children[VAULT_PROTECTED_VMS.key].values() for item in items]
    assert listed and {i["properties"]["backupManagementType"] for i in listed} == {"AzureIaasVM"}
    planted = [i for k, v in demo_tenant()["children"].items() if k.endswith("/backupProtectedItems") for i in v]
    assert {i["properties"]["backupManagementType"] for i in planted} == {"AzureIaasVM", "AzureStorage"}
    failing = {e.resource_name for e in REGISTRY["AZ-CMP-009"].evaluate(inv) if e.passed is False}
    assert failing == {"vm-linux-password-unset", "vm-linux-sshkey-only", "vm-unmanaged-vhd-01"}


def test_a_child_read_refused_everywhere_is_named_without_its_query() -> None:
    """A filtered child list (vaults' protected items) that no vault answered makes its rules'
    data unavailable, named by its path without the URL-encoded filter."""
    from scanner.rules.recoveryservices import VAULT_PROTECTED_VMS

    inv = Inventory(subscription_id="s")
    inv.unreadable[f"{VAULT_PROTECTED_VMS.key}|/subscriptions/s/v1"] = "HTTP 403 AuthorizationFailed"
    Collector._mark_wholly_unreadable(inv, set(), {"microsoft.recoveryservices/vaults": [VAULT_PROTECTED_VMS]})
    assert inv.unavailable[VAULT_PROTECTED_VMS.key] == (
        "could not read any backupProtectedItems of Microsoft.RecoveryServices/vaults: HTTP 403 AuthorizationFailed")
