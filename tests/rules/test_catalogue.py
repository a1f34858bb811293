"""The rule catalogue as a whole: ids, metadata completeness, declared needs."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from scanner.azure.api_versions import UnpinnedRead, child_api_version, subscription_read_api_version
from scanner.azure.api_versions import unpinned_reads
from scanner.inventory import ChildSpec, Inventory, Needs, SubscriptionRead
from scanner.rules import all_rules, rule_modules
from scanner.rules.support.base import FRAMEWORKS, SEVERITIES
from scanner.rules.support.families import MODULE_OF_FAMILY, family
from tests.rules.builders import SUB

# family -> how many rules it holds (numbered 001..n with no gaps): one line to change per family
RULES_PER_FAMILY = {
    "STOR": 22,
    "NET": 22,
    "CMP": 10,
    "KV": 11,
    "MON": 18,
    "SQL": 15,
    "PG": 9,
    "APP": 10,
    "IAM": 27,
    "AKS": 8,
    "ACR": 3,
    "MYSQL": 6,
    "COSMOS": 5,
    "AI": 3,
    "MSG": 4,
    "RSV": 3,
    "CAPP": 3,
    "DBW": 7,
    "DEF": 13,
}
EXPECTED_IDS = {f"AZ-{fam}-{n:03d}" for fam, count in RULES_PER_FAMILY.items()
                for n in range(1, count + 1)}


def test_every_spec_rule_is_registered() -> None:
    assert {r.id for r in all_rules()} == EXPECTED_IDS


def test_every_rule_lives_in_the_module_of_its_family() -> None:
    """AZ-<FAMILY>-nnn is defined in scanner/rules/<MODULE_OF_FAMILY[FAMILY]>.py, nowhere else."""
    misplaced = {
        r.id: r.evaluate.__module__
        for r in all_rules()
        if r.evaluate.__module__ != f"scanner.rules.{MODULE_OF_FAMILY.get(family(r.id), '?')}"
    }
    assert not misplaced, f"rules outside their family's module (support/families.py): {misplaced}"


def test_every_rule_module_is_one_family() -> None:
    assert rule_modules() == sorted(f"scanner.rules.{module}" for module in MODULE_OF_FAMILY.values())
    assert "scanner.rules.support" not in rule_modules()


def test_rule_metadata_is_complete() -> None:
    rules = all_rules()
    assert len({r.id for r in rules}) == len(rules)
    for r in rules:
        assert re.fullmatch(r"AZ-[A-Z]+-\d{3}", r.id), r.id
        assert r.severity in SEVERITIES, r.id
        assert r.title.strip() and r.description.strip() and r.remediation.strip(), r.id
        assert r.category.strip(), r.id
        assert set(r.frameworks) <= set(FRAMEWORKS), r.id
        assert r.frameworks.get("NIST"), f"{r.id} has no NIST mapping"
        assert all(codes for codes in r.frameworks.values()), f"{r.id} has an empty framework"
        assert r.needs.required_keys() or r.needs.optional_graph, r.id
        json.dumps(r.catalogue_entry())


def test_child_specs_are_shared_not_duplicated() -> None:
    """Rules reading the same child use the same spec object, so the collector fetches it once."""
    by_key: dict[str, object] = {}
    for r in all_rules():
        for child in r.needs.children:
            assert by_key.setdefault(child.key, child) is child, child.key


def test_every_read_a_rule_declares_has_a_pinned_api_version() -> None:
    """The collector refuses to start on an unpinned child or subscription read; this finds one
    before a scan does (pin it in scanner/azure/api_versions.py)."""
    assert unpinned_reads(r.needs for r in all_rules()) == []
    for r in all_rules():
        assert all(child_api_version(c) for c in r.needs.children), r.id
        assert all(subscription_read_api_version(s) for s in r.needs.subscription_reads), r.id


def test_an_unpinned_read_is_named() -> None:
    unpinned = Needs(children=(ChildSpec("Microsoft.Storage/storageAccounts", "queueServices/default"),),
                     subscription_reads=(SubscriptionRead("providers/Microsoft.Security/assessments", "assessments"),))
    assert unpinned_reads(unpinned) == [
        "no api-version pinned for child queueServices/default of Microsoft.Storage/storageAccounts",
        "no api-version pinned for subscription read providers/Microsoft.Security/assessments",
    ]
    with pytest.raises(UnpinnedRead):
        child_api_version(unpinned.children[0])


def test_every_rule_handles_an_empty_inventory() -> None:
    empty = Inventory(subscription_id=SUB)
    for r in all_rules():
        assert list(r.evaluate(empty)) == [], r.id


def _odd_inventory() -> Inventory:
    """Every data key filled with valid-but-odd REST shapes: nulls, empty objects, wrong types."""
    inv = Inventory(subscription_id=SUB)
    nulls = {
        key: None
        for key in (
            "allowBlobPublicAccess",
            "supportsHttpsTrafficOnly",
            "minimumTlsVersion",
            "networkAcls",
            "securityRules",
            "osProfile",
            "storageProfile",
            "encryption",
            "encryptionSettingsCollection",
            "enableSoftDelete",
            "enablePurgeProtection",
            "network",
            "httpsOnly",
        )
    }
    for r in all_rules():
        for resource_type in r.needs.resource_types:
            base = f"/subscriptions/{SUB}/resourceGroups/rg/providers/{resource_type}"
            docs: list[dict[str, Any]] = [
                {"id": f"{base}/a", "name": "a", "type": resource_type, "properties": None},
                {"id": f"{base}/b", "name": "b", "type": resource_type, "properties": nulls},
                {
                    "id": f"{base}/c",
                    "type": resource_type,
                    "properties": {
                        "osProfile": {"linuxConfiguration": None},
                        "securityRules": [None, {"properties": None}],
                    },
                },
                {"type": resource_type},
            ]
            inv.resources[resource_type.lower()] = docs
            for child in r.needs.children:
                inv.children[child.key] = {
                    f"{base}/a".lower(): None,
                    f"{base}/b".lower(): {"properties": None},
                    f"{base}/c".lower(): [None] if child.is_list else {"properties": {}},
                }
        for collection in r.needs.graph | r.needs.optional_graph:
            inv.graph[collection] = [{}, {"id": None, "members": [None, {}]}]
    inv.role_assignments = [{}, {"properties": None}, {"properties": {"principalType": None}}]
    return inv


def test_rules_never_raise_on_odd_rest_data() -> None:
    inv = _odd_inventory()
    for r in all_rules():
        for evaluation in r.evaluate(inv):
            json.dumps(dict(evaluation.metadata))


def test_rules_reference_doc_is_current() -> None:
    from pathlib import Path

    from scanner.rules.support.reference_doc import render

    path = Path(__file__).resolve().parents[2] / "docs" / "rules-reference.md"
    assert path.read_text() == render(), (
        "docs/rules-reference.md is stale: run `python -m scanner.rules.support.reference_doc > docs/rules-reference.md`"
    )
