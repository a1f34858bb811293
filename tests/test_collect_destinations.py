"""Issue-17 monitoring and tenant reads through the real SDKs against the emulator. Reads that follow another read (``DestinationRead``) through the real SDKs against the
emulator's demo estate: the activity log's storage account containers are read only under the
accounts a subscription diagnostic setting names (AZ-MON-015), and the destination rules give
the planted verdicts in the bad and the nearly clean subscription."""

from __future__ import annotations

from scanner.azure.collector import Collector
from scanner.engine import evaluate_rule_results
from scanner.inventory import Needs
from scanner.rules.monitoring import CONTAINERS
from scanner.rules.support.base import REGISTRY
from tests.collect_helpers import endpoints
from tests.fakeazure import estate as E
from tests.fakeazure.harness import Emulator
from tests.test_collect_emulator import clean_faults, emulator  # noqa: F401 (module-scoped emulator)

RULES = ("AZ-MON-014", "AZ-MON-015", "AZ-MON-016")


def verdicts_of(emu: Emulator, subscription: str) -> dict[str, list[tuple[bool | None, str]]]:
    needs = Needs.union(REGISTRY[r].needs for r in RULES)
    inv = Collector(subscription, needs, endpoints=endpoints(emu), concurrency=4).collect()
    out = {}
    for rule_id in RULES:
        outcome, failed, others = evaluate_rule_results(REGISTRY[rule_id], inv)
        assert outcome.status == "ok", (rule_id, outcome)
        out[rule_id] = sorted((f.evaluation.passed, f.evaluation.resource_name) for f in failed + others)
    out["containers"] = sorted(p.rsplit("/", 1)[-1] for p in inv.children[CONTAINERS.key])
    return out


def test_bad_subscription_exports_to_a_public_container_without_cmk(emulator: Emulator) -> None:
    got = verdicts_of(emulator, E.DEMO_BAD_ID)
    assert got["AZ-MON-014"] == [(False, "stsandboxpublic")]
    assert got["AZ-MON-015"] == [(False, "stsandboxpublic")]
    assert got["AZ-MON-016"] == [(False, E.DEMO_BAD_ID)]
    assert got["containers"] == ["stsandboxpublic"]


def test_clean_subscription_passes_and_reads_only_the_destination_containers(emulator: Emulator) -> None:
    got = verdicts_of(emulator, E.DEMO_CLEAN_ID)
    assert got["AZ-MON-014"] == [(True, "stsharedlogs01")]
    assert got["AZ-MON-015"] == [(True, "stsharedlogs01")]
    assert got["AZ-MON-016"] == [(True, E.DEMO_CLEAN_ID)]
    # two storage accounts, one destination: one containers read
    assert got["containers"] == ["stsharedlogs01"]


def test_primary_demo_has_a_violating_and_a_compliant_destination(emulator: Emulator) -> None:
    got = verdicts_of(emulator, emulator.env["AZURE_SUBSCRIPTION_ID"])
    assert got["AZ-MON-014"] == got["AZ-MON-015"] == [(False, "stpublicblob01"), (True, "stsecure01")]
    assert got["containers"] == ["stpublicblob01", "stsecure01"]  # of the demo's 22 accounts
    assert got["AZ-MON-016"] == [(True, emulator.env["AZURE_SUBSCRIPTION_ID"])]


def test_denied_group_settings_skip_only_az_iam_023_naming_the_permission(emulator: Emulator) -> None:
    emulator.set_faults(forbid_graph=["groupSettings"])
    inv = Collector(emulator.env["AZURE_SUBSCRIPTION_ID"], REGISTRY["AZ-IAM-023"].needs,
                    endpoints=endpoints(emulator)).collect()
    outcome, _, _ = evaluate_rule_results(REGISTRY["AZ-IAM-023"], inv)
    assert outcome.status == "skipped"
    assert outcome.reason == ("Microsoft Graph denied groupSettings (HTTP 403 Authorization_RequestDenied): "
                              "grant GroupSettings.Read.All")


def test_demo_tenant_lets_users_create_m365_groups(emulator: Emulator) -> None:
    inv = Collector(emulator.env["AZURE_SUBSCRIPTION_ID"], REGISTRY["AZ-IAM-023"].needs,
                    endpoints=endpoints(emulator)).collect()
    outcome, failed, _ = evaluate_rule_results(REGISTRY["AZ-IAM-023"], inv)
    assert (outcome.status, [f.evaluation.detail for f in failed]) == (
        "ok", ["users can create Microsoft 365 groups (EnableGroupCreation true)"])


def test_default_policy_initiative_across_the_demo_estate(emulator: Emulator) -> None:
    rule = REGISTRY["AZ-DEF-008"]
    got = {}
    for sub in (emulator.env["AZURE_SUBSCRIPTION_ID"], E.DEMO_CLEAN_ID, E.DEMO_BAD_ID):
        inv = Collector(sub, rule.needs, endpoints=endpoints(emulator)).collect()
        outcome, failed, others = evaluate_rule_results(rule, inv)
        got[sub] = [(f.evaluation.passed, f.evaluation.detail) for f in failed + others]
    assert got[emulator.env["AZURE_SUBSCRIPTION_ID"]] == [(False, "2 policies set to Disabled: "
                                                           "endpointProtectionMonitoringEffect, systemUpdatesMonitoringEffect")]
    assert got[E.DEMO_CLEAN_ID] == [(True, "SecurityCenterBuiltIn is assigned and enforced with no policy disabled")]
    assert got[E.DEMO_BAD_ID] == [(False, "Defender for Cloud's default initiative (SecurityCenterBuiltIn) is not assigned")]


def test_forbidden_policy_assignments_skip_az_def_008(emulator: Emulator) -> None:
    emulator.set_faults(forbid_arm=["policyAssignments"])
    rule = REGISTRY["AZ-DEF-008"]
    inv = Collector(emulator.env["AZURE_SUBSCRIPTION_ID"], rule.needs, endpoints=endpoints(emulator)).collect()
    outcome, _, _ = evaluate_rule_results(rule, inv)
    assert outcome.status == "skipped" and outcome.reason == (
        "could not read Azure Policy assignments of the subscription (HTTP 403 AuthorizationFailed): "
        "grant the identity Reader on the subscription")


def test_subscription_policy_is_read_at_tenant_scope(emulator: Emulator) -> None:
    rule = REGISTRY["AZ-IAM-024"]
    inv = Collector(E.DEMO_CLEAN_ID, rule.needs, endpoints=endpoints(emulator)).collect()
    outcome, failed, _ = evaluate_rule_results(rule, inv)
    assert (outcome.status, [(f.evaluation.resource_id, f.evaluation.detail) for f in failed]) == (
        "ok", [("/providers/Microsoft.Subscription/policies/default", "subscriptions may enter the tenant")])
    assert emulator.stats()["by_route"]["arm.tenant.subscriptionPolicy"] == 1


def test_forbidden_subscription_policy_skips_naming_the_action(emulator: Emulator) -> None:
    emulator.set_faults(forbid_arm=["subscriptionPolicy"])
    rule = REGISTRY["AZ-IAM-024"]
    inv = Collector(emulator.env["AZURE_SUBSCRIPTION_ID"], rule.needs, endpoints=endpoints(emulator)).collect()
    outcome, _, _ = evaluate_rule_results(rule, inv)
    assert (outcome.status, outcome.reason) == (
        "skipped", "could not read the tenant's subscription policy (HTTP 403 AuthorizationFailed): grant the "
                   "identity Microsoft.Subscription/policies/read at the tenant root scope (/)")
