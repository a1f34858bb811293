"""Values every entry point checks the same way: ids, rule lists, bounded numbers, the default
subscription.

The API, ``bin/openshield``, ``python -m scanner.run`` and the monitor all accept scan ids,
subscription ids and rule lists from people; one parser each means one notion of "valid" and
one wording of "invalid". Errors are ``ValueError`` with a short message naming the value;
each caller turns it into its own answer (HTTP 400, exit code 2). Pure Python, no imports
beyond the standard library: the monitor uses it and must start in milliseconds.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from typing import Collection, Iterable, Mapping

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_UNSIGNED = re.compile(r"[0-9]{1,12}")
# how many offending names a message lists before "… (+N more)"
_MAX_NAMED = 10


def is_uuid(value: object) -> bool:
    """The canonical 8-4-4-4-12 form (any case); braces, URNs and bare hex are not accepted."""
    return isinstance(value, str) and _UUID.fullmatch(value) is not None


def parse_uuid(value: object, name: str = "id") -> str:
    """The lower-case form of a UUID string, or ``ValueError`` naming ``name``.

    Validated before an id reaches a query, a path or an argv.
    """
    if not is_uuid(value):
        raise ValueError(f"{name} must be a UUID (8-4-4-4-12 hexadecimal digits)")
    return str(value).lower()


def split_rule_ids(raw: str) -> list[str]:
    """``"az-stor-001, AZ-NET-002"`` -> ``["AZ-STOR-001", "AZ-NET-002"]`` (a shell's spelling)."""
    return [part.strip().upper() for part in raw.split(",") if part.strip()]


def check_rule_ids(rule_ids: list[str], known: Collection[str], what: str = "rules") -> list[str]:
    """The ids as given if none is repeated or unknown and there is at least one."""
    if not rule_ids:
        raise ValueError(f"{what} is empty (omit it to run every rule)")
    repeated = sorted(rule for rule, count in Counter(rule_ids).items() if count > 1)
    if repeated:
        raise ValueError(f"{what} repeats: {names(repeated)}")
    unknown = [rule for rule in rule_ids if rule not in known]
    if unknown:
        raise ValueError(f"unknown rule id(s): {names(unknown)}")
    return list(rule_ids)


def bounded_int(raw: str, name: str, low: int, high: int) -> int:
    """A whole number from ``low`` to ``high`` written in decimal digits (no sign, no spaces)."""
    value = int(raw) if _UNSIGNED.fullmatch(raw) else None
    if value is None or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}")
    return value


def default_subscription(environ: Mapping[str, str] | None = None) -> str | None:
    """``AZURE_SUBSCRIPTION_ID`` in canonical form, None when unset; ``ValueError`` when malformed."""
    raw = (os.environ if environ is None else environ).get("AZURE_SUBSCRIPTION_ID", "").strip()
    if not raw:
        return None
    if not is_uuid(raw):
        raise ValueError("AZURE_SUBSCRIPTION_ID must be a subscription UUID")
    return raw.lower()


def names(values: Iterable[str]) -> str:
    """``a, b, c, … (+N more)``: offending values in a message, bounded."""
    listed = list(values)
    shown = ", ".join(listed[:_MAX_NAMED])
    rest = len(listed) - _MAX_NAMED
    return shown + (f", … (+{rest} more)" if rest > 0 else "")
