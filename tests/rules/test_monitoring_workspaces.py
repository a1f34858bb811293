"""AZ-MON-010..013: Log Analytics workspaces and Application Insights components."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.monitoring import COMPONENT_TYPE, WORKSPACE_TYPE
from tests.rules.builders import arm, inventory, only, with_unreadable

PUBLIC = {"AZ-MON-010": WORKSPACE_TYPE, "AZ-MON-013": COMPONENT_TYPE}


@pytest.mark.parametrize("rule_id", sorted(PUBLIC))
@pytest.mark.parametrize(("properties", "passed", "said"), [
    ({"publicNetworkAccessForIngestion": "Enabled", "publicNetworkAccessForQuery": "Disabled"}, False, "ingestion"),
    ({"publicNetworkAccessForIngestion": "Disabled", "publicNetworkAccessForQuery": "Enabled"}, False, "query"),
    ({}, False, "ingestion and query"),
    ({"publicNetworkAccessForIngestion": "Disabled", "publicNetworkAccessForQuery": "Disabled"}, True, "disabled"),
])
def test_public_access(rule_id: str, properties: dict[str, Any], passed: bool, said: str) -> None:
    result = only(rule_id, inventory(arm(PUBLIC[rule_id], "x1", properties)))
    assert result.passed is passed and said in result.detail


@pytest.mark.parametrize(("features", "passed"), [({"disableLocalAuth": True}, True),
                                                  ({"disableLocalAuth": False}, False), ({}, False)])
def test_mon011_workspace_local_auth(features: dict[str, Any], passed: bool) -> None:
    ws = arm(WORKSPACE_TYPE, "law1", {"sku": {"name": "PerGB2018"}, "features": features})
    assert only("AZ-MON-011", inventory(ws)).passed is passed


@pytest.mark.parametrize(("properties", "passed"), [({"DisableLocalAuth": True}, True),
                                                    ({"DisableLocalAuth": False}, False), ({}, False)])
def test_mon012_component_local_auth(properties: dict[str, Any], passed: bool) -> None:
    assert only("AZ-MON-012", inventory(arm(COMPONENT_TYPE, "appi1", properties))).passed is passed


@pytest.mark.parametrize(("rule_id", "rtype"), [("AZ-MON-010", WORKSPACE_TYPE), ("AZ-MON-011", WORKSPACE_TYPE),
                                                ("AZ-MON-012", COMPONENT_TYPE), ("AZ-MON-013", COMPONENT_TYPE)])
def test_unreadable_is_not_evaluated(rule_id: str, rtype: str) -> None:
    result = only(rule_id, with_unreadable(rtype, "x9", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail
