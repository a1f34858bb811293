"""Request validation: turn raw bodies and query strings into typed values, or a 400.

Validation is strict on purpose. A misspelt field or filter that were silently ignored would
start a scan of the wrong scope or list the wrong scans, and a security team would trust it.
Anything unknown, repeated or malformed is refused with a message naming the problem.
Identifiers are checked against the canonical UUID form before they reach a query or a path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Collection, Mapping

from flask import Request
from werkzeug.datastructures import MultiDict

from api.errors import ApiError
from store import parsing
from store.parsing import is_uuid, names
from store.status import SEVERITIES, STATUSES

__all__ = ["is_uuid"]

TRIGGER_FIELDS = ("subscription_id", "rules")
LIST_PARAMS = ("status", "subscription_id", "limit", "offset")
LOG_PARAMS = ("lines",)

DEFAULT_LIMIT, MAX_LIMIT = 50, 500
MAX_OFFSET = 999_999_999
DEFAULT_LOG_LINES, MAX_LOG_LINES = 200, 5000

def parse_uuid(value: object, name: str) -> str:
    """The canonical lower-case form of a UUID string, or a 400 naming the field."""
    try:
        return parsing.parse_uuid(value, name)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


# ----------------------------------------------------------------------------- JSON bodies
class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of repeated keys; a body that says two things is refused instead.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def json_object_body(request: Request) -> dict[str, Any]:
    """The request body as a JSON object: 415 for another Content-Type, 400 if not an object."""
    if request.mimetype != "application/json":
        raise ApiError(415, "Content-Type must be application/json")
    raw = request.get_data(cache=False)  # raises 413 beyond MAX_CONTENT_LENGTH
    try:
        body = json.loads(raw, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        raise ApiError(400, f"request body repeats the key {str(exc)!r}") from None
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"request body is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except (ValueError, RecursionError):
        raise ApiError(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, f"request body must be a JSON object, not {_json_type(body)}")
    return body


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


# --------------------------------------------------------------------------------- trigger
@dataclass(frozen=True)
class TriggerRequest:
    subscription_id: str
    rules: list[str] | None  # None: every rule


def parse_trigger(body: Mapping[str, Any], *, default_subscription: str | None, known_rules: Collection[str]) -> TriggerRequest:
    unknown = sorted(set(body) - set(TRIGGER_FIELDS))
    if unknown:
        raise ApiError(400, f"unknown field(s): {names(unknown)}; allowed: {', '.join(TRIGGER_FIELDS)}")
    if "subscription_id" in body:
        subscription_id = parse_uuid(body["subscription_id"], "subscription_id")
    elif default_subscription is not None:
        subscription_id = default_subscription
    else:
        raise ApiError(400, "subscription_id is required (the server has no AZURE_SUBSCRIPTION_ID default)")
    rules = _parse_rules(body["rules"], known_rules) if "rules" in body else None
    return TriggerRequest(subscription_id=subscription_id, rules=rules)


def _parse_rules(value: Any, known_rules: Collection[str]) -> list[str]:
    if not isinstance(value, list) or not value:
        raise ApiError(400, "rules must be a non-empty array of rule ids (omit it to run every rule)")
    if not all(isinstance(item, str) for item in value):
        raise ApiError(400, "rules must contain only rule id strings")
    try:
        return parsing.check_rule_ids(value, known_rules)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


# ---------------------------------------------------------------------------- query strings
def single_params(args: MultiDict[str, str], allowed: tuple[str, ...]) -> dict[str, str]:
    """Query parameters as a plain dict; unknown or repeated parameters are a 400."""
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise ApiError(400, f"unknown query parameter(s): {names(unknown)}; allowed: {', '.join(allowed)}")
    repeated = sorted(k for k in args if len(args.getlist(k)) > 1)
    if repeated:
        raise ApiError(400, f"query parameter(s) given more than once: {', '.join(repeated)}")
    return {k: args[k] for k in args}


def bounded_int(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """An optional integer query parameter within bounds, or a 400 naming it."""
    raw = params.get(name)
    if raw is None:
        return default
    try:
        return parsing.bounded_int(raw, name, low, high)
    except ValueError as exc:
        raise ApiError(400, str(exc)) from None


@dataclass(frozen=True)
class ListQuery:
    status: str | None
    subscription_id: str | None
    limit: int
    offset: int


def parse_list_query(args: MultiDict[str, str]) -> ListQuery:
    params = single_params(args, LIST_PARAMS)
    status = params.get("status")
    if status is not None and status not in STATUSES:
        raise ApiError(400, f"status must be one of {', '.join(STATUSES)}")
    subscription_id = params.get("subscription_id")
    return ListQuery(
        status=status,
        subscription_id=parse_uuid(subscription_id, "subscription_id") if subscription_id is not None else None,
        limit=bounded_int(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=bounded_int(params, "offset", 0, 0, MAX_OFFSET),
    )


def parse_log_lines(args: MultiDict[str, str]) -> int:
    return bounded_int(single_params(args, LOG_PARAMS), "lines", DEFAULT_LOG_LINES, 1, MAX_LOG_LINES)


# ------------------------------------------------------------------- findings and posture filters
def parse_severity(params: Mapping[str, str]) -> str | None:
    """``severity`` in any case; answered and compared in the canonical upper case."""
    raw = params.get("severity")
    if raw is None:
        return None
    if raw.upper() not in SEVERITIES:
        raise ApiError(400, f"severity must be one of {', '.join(SEVERITIES)}")
    return raw.upper()


def parse_category(params: Mapping[str, str], known: tuple[str, ...]) -> str | None:
    raw = params.get("category")
    if raw is not None and raw not in known:
        raise ApiError(400, f"category must be one of {', '.join(known)}")
    return raw


def parse_optional_uuid(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    return None if raw is None else parse_uuid(raw, name)
