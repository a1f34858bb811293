"""Reading Azure Monitor diagnostic settings (of the subscription's activity log or of one
resource): where a setting sends logs and which log categories it enables.

Shared by the activity-log rules (AZ-MON-001/002) and the per-resource log rules (AZ-KV-005
vault audit log, AZ-APP-010 HTTP logs, ...), so "does this setting export anything" means the
same everywhere; :func:`judge_log_export` is the whole per-resource judgement.
"""

from __future__ import annotations

from typing import Any, Collection

from scanner.inventory import ChildSpec, Inventory, props
from scanner.rules.support.base import resource_name
from scanner.rules.support.helpers import Judgement, Resource, as_dict, child_of, flag, unread_child

# Where a diagnostic setting can send logs; a setting with none of these exports nothing.
DESTINATIONS = ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")


def destinations(setting: Any) -> list[str]:
    """The destinations (``workspaceId``, ...) a diagnostic setting sends to."""
    p = props(as_dict(setting))
    return [key for key in DESTINATIONS if p.get(key)]


def enabled_log_entries(setting: Any) -> tuple[set[str], set[str]]:
    """(categories, category groups) a diagnostic setting has enabled, lower-cased."""
    categories: set[str] = set()
    groups: set[str] = set()
    logs = props(as_dict(setting)).get("logs")
    for entry in logs if isinstance(logs, list) else []:
        entry = as_dict(entry)
        if flag(entry.get("enabled")) is not True:
            continue
        if entry.get("category"):
            categories.add(str(entry["category"]).lower())
        if entry.get("categoryGroup"):
            groups.add(str(entry["categoryGroup"]).lower())
    return categories, groups


def sends_log(setting: Any, categories: Collection[str], groups: Collection[str]) -> bool:
    """The setting has a destination and enables one of ``categories`` or ``groups``
    (lower-cased names; a group such as ``allLogs`` contains the categories wanted)."""
    if not destinations(setting):
        return False
    enabled, enabled_groups = enabled_log_entries(setting)
    return bool(enabled & set(categories) or enabled_groups & set(groups))


def judge_log_export(inv: Inventory, spec: ChildSpec, resource: Resource, *, log: str,
                     categories: Collection[str], groups: Collection[str], metadata_key: str) -> Judgement:
    """One resource's diagnostic settings (``spec``, a list child) judged: passes when a setting
    sends ``log`` (the category or group names, in words) to a destination; not evaluated when
    the settings could not be read, never an empty list. ``metadata_key`` names the settings
    that send it."""
    settings = child_of(inv, spec, resource)
    if not isinstance(settings, list):
        return unread_child(inv, spec, resource, "diagnostic settings", unknown="not reported")
    names = sorted(resource_name(s) for s in settings if isinstance(s, dict))
    sending = sorted(resource_name(s) for s in settings if isinstance(s, dict) and sends_log(s, categories, groups))
    metadata = {"diagnosticSettings": names, metadata_key: sending}
    if sending:
        return Judgement(True, f"{log} sent by {', '.join(sending)}", metadata)
    if settings:
        return Judgement(False, f"diagnostic setting(s) {', '.join(names)} do not send {log} to a destination",
                         metadata)
    return Judgement(False, "no diagnostic setting", metadata)
