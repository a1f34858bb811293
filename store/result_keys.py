"""The finding key: how one (rule, resource) verdict is followed from scan to scan.

``<RULE-ID>|<resource id, lower-cased>``. ARM resource ids are case-insensitive (Azure returns
the same id in different cases from different APIs), so the id is lower-cased; rule ids are
upper-case by construction. Rules about the subscription itself judge ``/subscriptions/<id>``,
so their key names the subscription. One function, used by the scanner when it stores results
and by every reader that compares scans.
"""

from __future__ import annotations

SEPARATOR = "|"


def finding_key(rule_id: str, resource_id: str) -> str:
    return f"{rule_id.upper()}{SEPARATOR}{resource_id.lower()}"


def resource_group_of(resource_id: str) -> str:
    """``/subscriptions/s/resourceGroups/<g>/...`` -> ``<g>`` ('' outside a resource group)."""
    parts = resource_id.strip("/").split("/")
    for index, part in enumerate(parts[:-1]):
        if part.lower() == "resourcegroups":
            return parts[index + 1]
    return ""
