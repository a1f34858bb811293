"""AZ-IAM-023: users cannot create Microsoft 365 groups (Graph ``groupSettings``, Group.Unified)."""

from __future__ import annotations

from typing import Any

from scanner.engine import evaluate_rule
from scanner.rules.support.base import REGISTRY
from tests.rules.builders import inventory, only, run

TEMPLATE = "62375ab9-6b52-47ed-826b-58e47e0e304b"


def unified(**values: str) -> dict[str, Any]:
    return {"id": "gs-1", "displayName": "Group.Unified", "templateId": TEMPLATE,
            "values": [{"name": k, "value": v} for k, v in values.items()]}


def test_group_creation_enabled_fails() -> None:
    result = only("AZ-IAM-023", inventory(graph={"groupSettings": [unified(EnableGroupCreation="true")]}))
    assert (result.passed, result.detail) == (False, "users can create Microsoft 365 groups (EnableGroupCreation true)")
    assert (result.resource_id, result.resource_type) == ("/graph/groupSettings/gs-1", "Microsoft.Graph/groupSettings")


def test_no_group_unified_object_is_the_default_and_fails() -> None:
    other = {"id": "gs-2", "displayName": "Application", "templateId": "4bc7f740-180e-4586-adb6-38b2e9024e6b",
             "values": [{"name": "EnableGroupCreation", "value": "false"}]}  # another template: ignored
    result = only("AZ-IAM-023", inventory(graph={"groupSettings": [other]}))
    assert result.passed is False and "default allows it" in result.detail
    assert result.resource_id == "/graph/groupSettings/Group.Unified"


def test_group_creation_disabled_passes() -> None:
    assert only("AZ-IAM-023", inventory(graph={"groupSettings": [unified(EnableGroupCreation="False")]})).passed is True
    scoped = only("AZ-IAM-023", inventory(graph={"groupSettings": [
        unified(EnableGroupCreation="false", GroupCreationAllowedGroupId="0f1e2d3c")]}))
    assert (scoped.passed, scoped.detail) == (True, "only administrators and the allowed group can create Microsoft 365 groups")


def test_denied_group_settings_skip_the_rule_naming_the_permission() -> None:
    inv = inventory()
    reason = "Microsoft Graph denied groupSettings (HTTP 403 Authorization_RequestDenied): grant GroupSettings.Read.All"
    inv.unavailable["graph:groupSettings"] = reason
    outcome, findings = evaluate_rule(REGISTRY["AZ-IAM-023"], inv)
    assert (outcome.status, outcome.reason, findings) == ("skipped", reason, [])
    assert run("AZ-IAM-023", inventory()) == []  # not collected: nothing judged
