"""AZ-STOR-018..022 (CIS v6 9.1.2, 9.1.3, 9.3.2.2, 9.3.3.1, 9.3.9): SMB versions and channel
encryption of the file service, public network access, portal Entra authorization, delete locks."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.storage import FILE_SERVICE, MANAGEMENT_LOCKS, STORAGE_TYPE
from tests.rules.builders import (SUB, Resource, arm, inventory, only, run, with_child, with_failed_child,
                                  with_unreadable)


def _account(kind: str = "StorageV2", **properties: Any) -> Resource:
    res = arm(STORAGE_TYPE, "stfiles", {"supportsHttpsTrafficOnly": True, **properties})
    res["kind"] = kind
    return res


def _file_service(account: Resource, smb: dict[str, Any]) -> dict[str, Any]:
    """``GET .../fileServices/default`` (2023-05-01) with ``protocolSettings.smb``."""
    return {"id": f"{account['id']}/fileServices/default", "name": "default",
            "type": "Microsoft.Storage/storageAccounts/fileServices",
            "properties": {"cors": {"corsRules": []}, "protocolSettings": {"smb": smb}}}


@pytest.mark.parametrize(("versions", "passed"), [
    ("SMB3.1.1", True), ("SMB3.0;SMB3.1.1", False), ("SMB2.1;SMB3.0;SMB3.1.1", False), (None, False)])
def test_stor018_smb_versions(versions: str | None, passed: bool) -> None:
    acct = _account()
    smb = {"multichannel": {"enabled": False}, **({"versions": versions} if versions else {})}
    assert only("AZ-STOR-018", with_child(acct, FILE_SERVICE, _file_service(acct, smb))).passed is passed


@pytest.mark.parametrize(("channel", "passed"), [
    ("AES-256-GCM", True), ("AES-128-GCM;AES-256-GCM", False), ("AES-128-CCM", False), (None, False)])
def test_stor019_channel_encryption(channel: str | None, passed: bool) -> None:
    acct = _account()
    smb = {"channelEncryption": channel} if channel else {}
    result = only("AZ-STOR-019", with_child(acct, FILE_SERVICE, _file_service(acct, smb)))
    assert result.passed is passed
    if channel == "AES-128-GCM;AES-256-GCM":
        assert result.detail == "weaker SMB channel encryption allowed: AES-128-GCM"


@pytest.mark.parametrize("rule_id", ["AZ-STOR-018", "AZ-STOR-019"])
def test_smb_rules_unread_and_out_of_scope(rule_id: str) -> None:
    failed = only(rule_id, with_failed_child(_account(), FILE_SERVICE, "HTTP 403 AuthorizationFailed"))
    assert failed.passed is None and "file service properties could not be read" in failed.detail
    assert run(rule_id, inventory(_account("BlockBlobStorage"))) == []
    assert only(rule_id, with_unreadable(STORAGE_TYPE, "st9", "HTTP 403")).passed is None


@pytest.mark.parametrize(("value", "passed"), [("Disabled", True), ("Enabled", False), ("SecuredByPerimeter", False),
                                               (None, False)])
def test_stor020_public_network_access(value: str | None, passed: bool) -> None:
    acct = _account(**({"publicNetworkAccess": value} if value else {}))
    assert only("AZ-STOR-020", inventory(acct)).passed is passed


@pytest.mark.parametrize(("value", "passed"), [(True, True), (False, False), (None, False)])
def test_stor021_default_to_entra(value: bool | None, passed: bool) -> None:
    acct = _account(**({} if value is None else {"defaultToOAuthAuthentication": value}))
    assert only("AZ-STOR-021", inventory(acct)).passed is passed


@pytest.mark.parametrize("rule_id", ["AZ-STOR-020", "AZ-STOR-021", "AZ-STOR-022"])
def test_account_rules_unreadable(rule_id: str) -> None:
    result = only(rule_id, with_unreadable(STORAGE_TYPE, "st9", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail


def _lock(scope: str, level: str, name: str = "lock1") -> dict[str, Any]:
    """One item of ``GET /subscriptions/{id}/providers/Microsoft.Authorization/locks`` (2020-05-01)."""
    return {"id": f"{scope}/providers/Microsoft.Authorization/locks/{name}", "name": name,
            "type": "Microsoft.Authorization/locks", "properties": {"level": level, "notes": ""}}


def _with_locks(account: Resource, locks: list[dict[str, Any]]) -> Any:
    inv = inventory(account)
    inv.subscription_reads[MANAGEMENT_LOCKS.key] = locks
    return inv


@pytest.mark.parametrize(("where", "level", "passed"), [
    ("account", "CanNotDelete", True), ("group", "ReadOnly", True), ("subscription", "CanNotDelete", True),
    ("account", "NotSpecified", False), ("other-group", "CanNotDelete", False), (None, None, False)])
def test_stor022_delete_lock_scopes(where: str | None, level: str | None, passed: bool) -> None:
    acct = _account()
    scopes = {"account": acct["id"], "group": f"/subscriptions/{SUB}/resourceGroups/rg-test",
              "subscription": f"/subscriptions/{SUB}", "other-group": f"/subscriptions/{SUB}/resourceGroups/rg-test2"}
    locks = [_lock(scopes[where], str(level))] if where else []
    result = only("AZ-STOR-022", _with_locks(acct, locks))
    assert result.passed is passed
    if where == "group":
        assert result.detail == "resource group lock lock1 (ReadOnly)"


def test_stor022_locks_not_read_is_not_evaluated() -> None:
    result = only("AZ-STOR-022", inventory(_account()))
    assert result.passed is None and result.detail == "management locks could not be read"
