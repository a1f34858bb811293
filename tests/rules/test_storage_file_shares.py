"""AZ-STOR-017: file share soft delete, read from ``fileServices/default``."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.storage import FILE_SERVICE, STORAGE_TYPE
from tests.rules.builders import Resource, arm, only, run, with_child, with_failed_child, with_unreadable


def _account(kind: str = "StorageV2") -> Resource:
    res = arm(STORAGE_TYPE, "stfiles", {"supportsHttpsTrafficOnly": True})
    res["kind"] = kind
    return res


def _file_service(account: Resource, policy: dict[str, Any] | None) -> dict[str, Any]:
    """``GET .../storageAccounts/{name}/fileServices/default`` (api-version 2023-05-01)."""
    properties: dict[str, Any] = {"cors": {"corsRules": []}}
    if policy is not None:
        properties["shareDeleteRetentionPolicy"] = policy
    return {"id": f"{account['id']}/fileServices/default", "name": "default",
            "type": "Microsoft.Storage/storageAccounts/fileServices", "properties": properties}


@pytest.mark.parametrize("policy", [{"enabled": False}, None])
def test_stor017_soft_delete_off_or_absent_fails(policy: dict[str, Any] | None) -> None:
    acct = _account()
    result = only("AZ-STOR-017", with_child(acct, FILE_SERVICE, _file_service(acct, policy)))
    assert result.passed is False
    assert "shareDeleteRetentionPolicy" in result.detail


def test_stor017_soft_delete_on_passes() -> None:
    acct = _account()
    result = only("AZ-STOR-017", with_child(acct, FILE_SERVICE, _file_service(acct, {"enabled": True, "days": 14})))
    assert result.passed is True
    assert "14 days" in result.detail


def test_stor017_blob_only_account_is_not_judged() -> None:
    acct = _account("BlockBlobStorage")
    assert run("AZ-STOR-017", with_child(acct, FILE_SERVICE, _file_service(acct, {"enabled": False}))) == []


def test_stor017_unreadable_is_not_evaluated() -> None:
    result = only("AZ-STOR-017", with_failed_child(_account(), FILE_SERVICE, "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail
    assert only("AZ-STOR-017", with_unreadable(STORAGE_TYPE, "st9", "HTTP 500")).passed is None
