"""Reading Azure Monitor diagnostic settings (of the subscription's activity log or of one
resource): where a setting sends logs and which log categories it enables.

Shared by the activity-log rules (AZ-MON-001/002) and the vault audit-log rule (AZ-KV-005), so
"does this setting export anything" means the same everywhere.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import props
from scanner.rules.support.helpers import as_dict, flag

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
