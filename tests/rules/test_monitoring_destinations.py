"""AZ-MON-014..016: the storage account the activity log is exported to (customer-managed key,
activity-log container not public) and Application Insights presence (CIS 5.1.3, 5.1.4, 5.3.1)."""

from __future__ import annotations

from typing import Any

from scanner.inventory import Inventory
from scanner.rules.monitoring import ACTIVITY_LOG_SETTINGS, COMPONENT_TYPE, CONTAINERS, STORAGE_TYPE
from scanner.rules.support.base import REGISTRY
from scanner.rules.support.helpers import SUBSCRIPTION_TYPE
from tests.rules.builders import SUB, Resource, arm, categories, diagnostic_setting, fail_child, fail_resource, inventory
from tests.rules.builders import only, run, set_child

ADMIN = categories("Administrative")


def account(name: str, **properties: Any) -> Resource:
    return arm(STORAGE_TYPE, name, properties, rg="rg-logs")


def exported_to(*accounts: Resource, settings: list[Resource] | None = None) -> Inventory:
    """An inventory holding ``accounts``, each the destination of one activity-log setting."""
    inv = inventory(*accounts)
    inv.subscription_reads[ACTIVITY_LOG_SETTINGS.key] = settings if settings is not None else [
        diagnostic_setting(f"to-{a['name']}", ADMIN, storageAccountId=a["id"]) for a in accounts]
    return inv


# ------------------------------------------------------------------------------- AZ-MON-014
def test_mon014_microsoft_managed_key_fails_on_the_destination_account() -> None:
    plain = account("stlogsplain", encryption={"keySource": "Microsoft.Storage"})
    result = only("AZ-MON-014", exported_to(plain))
    assert (result.passed, result.resource_id, result.resource_type) == (False, plain["id"], STORAGE_TYPE)
    assert result.detail == "encrypted with a Microsoft-managed key (keySource Microsoft.Storage)"
    assert result.metadata["diagnosticSettings"] == ["to-stlogsplain"]


def test_mon014_customer_managed_key_passes_and_other_accounts_are_not_judged() -> None:
    cmk = account("stlogscmk", encryption={"keySource": "Microsoft.Keyvault",
                                           "keyvaultproperties": {"keyname": "k"}})
    bystander = account("stother", encryption={"keySource": "Microsoft.Storage"})
    inv = exported_to(cmk, bystander, settings=[
        diagnostic_setting("a", ADMIN, storageAccountId=cmk["id"]),
        # the same account named by a second setting, in another case: still one verdict
        diagnostic_setting("b", ADMIN, storageAccountId=cmk["id"].upper(), workspaceId="/x/law"),
    ])
    result = only("AZ-MON-014", inv)
    assert (result.passed, result.resource_name) == (True, "stlogscmk")
    assert result.metadata["diagnosticSettings"] == ["a", "b"]


def test_mon014_absent_key_source_fails() -> None:
    assert only("AZ-MON-014", exported_to(account("stlogsbare"))).passed is False


def test_mon014_account_outside_the_inventory_or_unreadable_is_not_evaluated() -> None:
    elsewhere = "/subscriptions/other/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stcentral"
    inv = exported_to(settings=[diagnostic_setting("central", ADMIN, storageAccountId=elsewhere)])
    result = only("AZ-MON-014", inv)
    assert (result.passed, result.resource_id, result.resource_name) == (None, elsewhere, "stcentral")
    assert "not in this subscription's inventory" in result.detail
    unreadable = exported_to(settings=[diagnostic_setting(
        "x", ADMIN, storageAccountId=arm(STORAGE_TYPE, "stdenied")["id"])])
    fail_resource(unreadable, STORAGE_TYPE, "stdenied", "HTTP 403 AuthorizationFailed")
    assert only("AZ-MON-014", unreadable).detail == \
        "activity-log storage account could not be read: HTTP 403 AuthorizationFailed"


def test_mon014_no_storage_destination_no_verdict() -> None:
    inv = exported_to(settings=[diagnostic_setting("law-only", ADMIN)])
    assert run("AZ-MON-014", inv) == []
    assert run("AZ-MON-014", inventory()) == []  # settings not collected: nothing judged


# ------------------------------------------------------------------------------- AZ-MON-016
def component(name: str) -> Resource:
    return arm(COMPONENT_TYPE, name, {"ApplicationId": name}, kind="web")


def test_mon016_no_component_fails_on_the_subscription() -> None:
    inv = inventory()
    inv.resources[COMPONENT_TYPE.lower()] = []
    result = only("AZ-MON-016", inv)
    assert (result.passed, result.resource_type, result.resource_id) == (False, SUBSCRIPTION_TYPE, f"/subscriptions/{SUB}")
    assert result.detail == "no Application Insights component in the subscription"


def test_mon016_a_component_passes_even_when_its_get_failed() -> None:
    assert only("AZ-MON-016", inventory(component("appi-web"))).passed is True
    inv = inventory()
    inv.resources[COMPONENT_TYPE.lower()] = []
    fail_resource(inv, COMPONENT_TYPE, "appi-locked", "HTTP 403 AuthorizationFailed")
    result = only("AZ-MON-016", inv)
    assert result.passed is True and result.metadata["components"] == ["appi-locked"]


def test_mon016_components_not_collected_no_verdict() -> None:
    assert run("AZ-MON-016", inventory()) == []


# ------------------------------------------------------------------------------- AZ-MON-015
def container(name: str, access: str | None) -> Resource:
    item: Resource = {"id": f"/x/containers/{name}", "name": name,
                      "type": "Microsoft.Storage/storageAccounts/blobServices/containers", "properties": {}}
    if access is not None:
        item["properties"]["publicAccess"] = access
    return item


def with_containers(acct: Resource, *items: Resource) -> Inventory:
    inv = exported_to(acct)
    set_child(inv, CONTAINERS, acct, list(items))
    return inv


def test_mon015_public_activity_log_container_fails() -> None:
    acct = account("stlogspublic", allowBlobPublicAccess=True)
    result = only("AZ-MON-015", with_containers(acct, container("insights-activity-logs", "Container")))
    assert (result.passed, result.resource_name) == (False, "stlogspublic")
    assert result.detail == "insights-activity-logs allows anonymous read access (publicAccess Container)"
    # allowBlobPublicAccess absent is the old permissive default: the container still decides
    blob = only("AZ-MON-015", with_containers(account("stlogsold"), container("insights-activity-logs", "Blob")))
    assert blob.passed is False


def test_mon015_private_container_or_account_switch_passes() -> None:
    acct = account("stlogs", allowBlobPublicAccess=True)
    private = with_containers(acct, container("insights-activity-logs", "None"),
                              container("public-assets", "Blob"))  # another container is not judged
    assert only("AZ-MON-015", private).detail == "insights-activity-logs is private"
    assert only("AZ-MON-015", with_containers(acct)).passed is True  # no activity-log container yet
    # the account switch overrides container ACLs: passes without the containers read
    locked = exported_to(account("stlocked", allowBlobPublicAccess=False))
    assert only("AZ-MON-015", locked).detail == "anonymous access is disallowed on the account"


def test_mon015_containers_not_readable_is_not_evaluated() -> None:
    acct = account("stlogs", allowBlobPublicAccess=True)
    inv = exported_to(acct)
    fail_child(inv, CONTAINERS, acct, "HTTP 403 AuthorizationFailed")
    result = only("AZ-MON-015", inv)
    assert (result.passed, result.detail) == (None, "the account's blob containers could not be read: HTTP 403 AuthorizationFailed")


def test_mon015_reads_containers_only_under_the_destination_accounts() -> None:
    needs = REGISTRY["AZ-MON-015"].needs
    assert CONTAINERS not in needs.children  # never one read per storage account
    assert [d.child for d in needs.destination_reads] == [CONTAINERS]
    assert ACTIVITY_LOG_SETTINGS.key in needs.required_keys()


def test_union_keeps_destination_and_tenant_reads_once_and_adds_their_source() -> None:
    from scanner.inventory import Needs
    from scanner.rules.identity import SUBSCRIPTION_POLICY

    union = Needs.union([REGISTRY["AZ-MON-015"].needs, REGISTRY["AZ-MON-015"].needs,
                         Needs(destination_reads=REGISTRY["AZ-MON-015"].needs.destination_reads),
                         REGISTRY["AZ-IAM-024"].needs])
    assert [d.child for d in union.destination_reads] == [CONTAINERS]
    assert union.subscription_reads == (ACTIVITY_LOG_SETTINGS,)
    assert union.tenant_reads == (SUBSCRIPTION_POLICY,)
    assert SUBSCRIPTION_POLICY.key in union.required_keys()
