"""AZ-MSG-001..004 (Event Hubs, Service Bus namespaces) and AZ-AI-001..003 (AI services accounts):
each read from the resource's own GET."""

from __future__ import annotations

from typing import Any

import pytest

from scanner.rules.aiservices import COGNITIVE_TYPE
from scanner.rules.messaging import EVENT_HUB_TYPE, SERVICE_BUS_TYPE
from tests.rules.builders import arm, inventory, only, with_unreadable

PUBLIC = {"AZ-MSG-001": EVENT_HUB_TYPE, "AZ-MSG-003": SERVICE_BUS_TYPE}
LOCAL_AUTH = {"AZ-MSG-002": EVENT_HUB_TYPE, "AZ-MSG-004": SERVICE_BUS_TYPE}


@pytest.mark.parametrize("rule_id", sorted(PUBLIC))
@pytest.mark.parametrize(("properties", "passed"), [
    ({"publicNetworkAccess": "Enabled"}, False),
    ({}, False),
    ({"publicNetworkAccess": "Disabled"}, True),
    ({"publicNetworkAccess": "SecuredByPerimeter"}, True),
])
def test_namespace_public_access(rule_id: str, properties: dict[str, Any], passed: bool) -> None:
    assert only(rule_id, inventory(arm(PUBLIC[rule_id], "ns1", properties))).passed is passed


@pytest.mark.parametrize("rule_id", sorted(LOCAL_AUTH))
@pytest.mark.parametrize(("properties", "passed"), [
    ({"disableLocalAuth": False}, False),
    ({}, False),
    ({"disableLocalAuth": True}, True),
])
def test_namespace_local_auth(rule_id: str, properties: dict[str, Any], passed: bool) -> None:
    assert only(rule_id, inventory(arm(LOCAL_AUTH[rule_id], "ns1", properties))).passed is passed


@pytest.mark.parametrize(("properties", "passed"), [
    ({"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Allow", "ipRules": []}}, False),
    ({}, False),
    ({"publicNetworkAccess": "Enabled", "networkAcls": {"defaultAction": "Deny",
                                                        "ipRules": [{"value": "203.0.113.0/24"}]}}, True),
    ({"publicNetworkAccess": "Disabled"}, True),
])
def test_ai001_network_access(properties: dict[str, Any], passed: bool) -> None:
    assert only("AZ-AI-001", inventory(arm(COGNITIVE_TYPE, "ai1", properties))).passed is passed


@pytest.mark.parametrize(("properties", "passed"), [({"disableLocalAuth": True}, True), ({}, False),
                                                    ({"disableLocalAuth": False}, False)])
def test_ai002_local_auth(properties: dict[str, Any], passed: bool) -> None:
    assert only("AZ-AI-002", inventory(arm(COGNITIVE_TYPE, "ai1", properties))).passed is passed


@pytest.mark.parametrize(("properties", "passed"), [
    ({"encryption": {"keySource": "Microsoft.KeyVault",
                     "keyVaultProperties": {"keyName": "k", "keyVaultUri": "https://kv.vault.azure.net/"}}}, True),
    ({"encryption": {"keySource": "Microsoft.CognitiveServices"}}, False),
    ({}, False),
])
def test_ai003_customer_managed_key(properties: dict[str, Any], passed: bool) -> None:
    assert only("AZ-AI-003", inventory(arm(COGNITIVE_TYPE, "ai1", properties))).passed is passed


@pytest.mark.parametrize(("rule_id", "rtype"), [
    *PUBLIC.items(), *LOCAL_AUTH.items(),
    ("AZ-AI-001", COGNITIVE_TYPE), ("AZ-AI-002", COGNITIVE_TYPE), ("AZ-AI-003", COGNITIVE_TYPE),
])
def test_unreadable_resource_is_not_evaluated(rule_id: str, rtype: str) -> None:
    result = only(rule_id, with_unreadable(rtype, "x1", "HTTP 403 AuthorizationFailed"))
    assert result.passed is None and "403" in result.detail
