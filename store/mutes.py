"""Mutes (accepted risks): the rules, their validation, their history, and the matcher.

A mute names a rule (or ``*``), a glob over resource ids (case-insensitive, ``*`` for any),
optionally a subscription and resource tags, a **required** justification, its author and an
optional expiry. It is applied when a scan is saved: a failure it matches is stored and shown
with ``muted: true`` and the mute's id, and is left out of the score and the CI gate. So a new
mute applies from the next scan, and an expired one stops applying at the next scan; stored
scans are never rewritten. Deleting a mute only marks it deleted (findings keep its id), and
every change is a ``mute_events`` row (who, when, the mute as it was).

One parser (:func:`parse_mute`) serves the API, the CLI and the YAML import: errors are
``ValueError`` with a short message that each caller turns into a 400 or exit code 2.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Collection, Iterable, Mapping

from sqlalchemy import insert, select, update

from store.clock import iso, utcnow
from store.db import read_scope_engine, session_scope
from store.models import Mute, MuteEvent
from store.parsing import parse_uuid

ANY = "*"
MUTE_FIELDS = ("rule_id", "resource", "subscription_id", "tags", "justification", "expires_at", "force")
MAX_JUSTIFICATION = 2000
MAX_PATTERN = 2000
_MUTES = Mute.__table__
_EVENTS = MuteEvent.__table__


@dataclass(frozen=True)
class MuteSpec:
    """A validated mute, before it has an id and an author."""

    rule_id: str
    resource_pattern: str
    justification: str
    subscription_id: str | None = None
    tags: dict[str, str] | None = None
    expires_at: datetime | None = None


def parse_mute(body: Mapping[str, Any], known_rules: Collection[str], *, now: datetime | None = None) -> MuteSpec:
    """Validate one mute as given by a person (JSON body, CLI options, one YAML entry).

    Refuses: unknown fields, a missing or blank justification, an unknown rule id, an expiry in
    the past or without a timezone, and a mute that would match everything (``*`` rule, ``*``
    resource, no subscription, no tags) unless ``force`` is true.
    """
    unknown = sorted(set(body) - set(MUTE_FIELDS))
    if unknown:
        raise ValueError(f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(MUTE_FIELDS)}")
    justification = body.get("justification")
    if not isinstance(justification, str) or not justification.strip():
        raise ValueError("justification is required: say why this risk is accepted")
    if len(justification) > MAX_JUSTIFICATION:
        raise ValueError(f"justification is longer than {MAX_JUSTIFICATION} characters")
    rule_id = body.get("rule_id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise ValueError("rule_id is required (a rule id, or * for every rule)")
    rule_id = rule_id.strip().upper()
    if rule_id != ANY and rule_id not in known_rules:
        raise ValueError(f"unknown rule id: {rule_id}")
    pattern = body.get("resource", ANY)
    if not isinstance(pattern, str) or not pattern.strip() or len(pattern) > MAX_PATTERN:
        raise ValueError("resource must be a non-empty glob over resource ids (* for every resource)")
    subscription = body.get("subscription_id")
    subscription_id = None if subscription is None else parse_uuid(subscription, "subscription_id")
    tags = _tags(body.get("tags"))
    expires_at = _expiry(body.get("expires_at"), now or utcnow())
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise ValueError("force must be true or false")
    if rule_id == ANY and pattern.strip() == ANY and subscription_id is None and not tags and not force:
        raise ValueError("this mute would match every failure (rule * and resource *): narrow it, or set force")
    return MuteSpec(rule_id=rule_id, resource_pattern=pattern.strip(), justification=justification.strip(),
                    subscription_id=subscription_id, tags=tags, expires_at=expires_at)


def _tags(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ValueError("tags must be an object of tag name to value (strings)")
    return dict(value) or None


def _expiry(value: Any, now: datetime) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError("expires_at must be an ISO 8601 time with a timezone (2027-01-31T00:00:00Z)") from None
    else:
        raise ValueError("expires_at must be an ISO 8601 time with a timezone (2027-01-31T00:00:00Z)")
    if moment.tzinfo is None:
        raise ValueError("expires_at must have a timezone (2027-01-31T00:00:00Z)")
    moment = moment.astimezone(timezone.utc)
    if moment <= now:
        raise ValueError("expires_at is in the past")
    return moment


# --------------------------------------------------------------------------------- matching
@dataclass(frozen=True)
class ActiveMute:
    """A mute in force, ready to test failures against."""

    id: int
    rule_id: str
    pattern: str  # lower-cased glob
    subscription_id: str | None
    tags: dict[str, str] | None  # tag names lower-cased

    def matches(self, rule_id: str, resource_id: str, subscription_id: str, tags: Mapping[str, Any] | None) -> bool:
        if self.rule_id != ANY and self.rule_id != rule_id.upper():
            return False
        if self.subscription_id is not None and self.subscription_id != subscription_id.lower():
            return False
        if not fnmatch.fnmatchcase(resource_id.lower(), self.pattern):
            return False
        if self.tags:
            # Azure tag names are case-insensitive, values are not
            have = {str(k).lower(): v for k, v in (tags or {}).items()}
            return all(have.get(name) == value for name, value in self.tags.items())
        return True

    @property
    def needs_tags(self) -> bool:
        return bool(self.tags)


def first_match(mutes: Iterable[ActiveMute], rule_id: str, resource_id: str, subscription_id: str,
                tags: Mapping[str, Any] | None) -> int | None:
    """The id of the oldest mute matching this failure, or None."""
    for mute in mutes:
        if mute.matches(rule_id, resource_id, subscription_id, tags):
            return mute.id
    return None


# ----------------------------------------------------------------------------------- storage
def mute_view(row: Mapping[str, Any], now: datetime | None = None) -> dict[str, Any]:
    """How a mute looks in the API, the CLI's ``--json`` and the history."""
    now = now or utcnow()
    expires = row["expires_at"]
    return {
        "id": row["id"],
        "rule_id": row["rule_id"],
        "resource": row["resource_pattern"],
        "subscription_id": row["subscription_id"],
        "tags": row["tags"],
        "justification": row["justification"],
        "author": row["author"],
        "created_at": iso(row["created_at"]),
        "expires_at": iso(expires),
        "expired": expires is not None and expires <= now,
        "deleted_at": iso(row["deleted_at"]),
    }


class MuteStore:
    """Mutes and their history against one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url

    def create(self, spec: MuteSpec, author: str) -> dict[str, Any]:
        now = utcnow()
        values = {
            "rule_id": spec.rule_id, "resource_pattern": spec.resource_pattern,
            "subscription_id": spec.subscription_id, "tags": spec.tags, "justification": spec.justification,
            "author": author, "created_at": now, "expires_at": spec.expires_at, "deleted_at": None,
        }
        with session_scope(self.url) as session:
            mute_id = session.execute(insert(_MUTES).returning(_MUTES.c.id), values).scalar_one()
            row = {"id": mute_id, **values}
            session.execute(insert(_EVENTS), {"mute_id": mute_id, "action": "created", "actor": author, "at": now,
                                              "mute": mute_view(row, now)})
        return mute_view(row, now)

    def delete(self, mute_id: int, actor: str) -> dict[str, Any] | None:
        """Mark a mute deleted (and record it); None when there is no such (undeleted) mute."""
        now = utcnow()
        with session_scope(self.url) as session:
            done = session.execute(
                update(_MUTES).where(_MUTES.c.id == mute_id, _MUTES.c.deleted_at.is_(None)).values(deleted_at=now)
            )
            if done.rowcount != 1:
                return None
            row = session.execute(select(_MUTES).where(_MUTES.c.id == mute_id)).mappings().one()
            view = mute_view(row, now)
            session.execute(insert(_EVENTS), {"mute_id": mute_id, "action": "deleted", "actor": actor, "at": now,
                                              "mute": view})
        return view

    def get(self, mute_id: int) -> dict[str, Any] | None:
        with read_scope_engine(self.url).connect() as conn:
            row = conn.execute(select(_MUTES).where(_MUTES.c.id == mute_id)).mappings().first()
        return None if row is None else mute_view(row)

    def list(self, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        statement = select(_MUTES).order_by(_MUTES.c.id)
        if not include_deleted:
            statement = statement.where(_MUTES.c.deleted_at.is_(None))
        now = utcnow()
        with read_scope_engine(self.url).connect() as conn:
            return [mute_view(r, now) for r in conn.execute(statement).mappings()]

    def history(self) -> list[dict[str, Any]]:
        """Every change, oldest first: ``{id, mute_id, action, actor, at, mute}``."""
        with read_scope_engine(self.url).connect() as conn:
            rows = conn.execute(select(_EVENTS).order_by(_EVENTS.c.id)).mappings()
            return [{"id": r["id"], "mute_id": r["mute_id"], "action": r["action"], "actor": r["actor"],
                     "at": iso(r["at"]), "mute": r["mute"]} for r in rows]

    def active(self, subscription_id: str, at: datetime | None = None) -> list[ActiveMute]:
        """Mutes in force for a subscription at ``at`` (not deleted, not expired), oldest first."""
        at = at or utcnow()
        statement = (
            select(_MUTES)
            .where(_MUTES.c.deleted_at.is_(None),
                   _MUTES.c.expires_at.is_(None) | (_MUTES.c.expires_at > at),
                   _MUTES.c.subscription_id.is_(None) | (_MUTES.c.subscription_id == subscription_id.lower()))
            .order_by(_MUTES.c.id)
        )
        with read_scope_engine(self.url).connect() as conn:
            return [
                ActiveMute(id=r["id"], rule_id=r["rule_id"], pattern=r["resource_pattern"].lower(),
                           subscription_id=r["subscription_id"],
                           tags={k.lower(): v for k, v in r["tags"].items()} if r["tags"] else None)
                for r in conn.execute(statement).mappings()
            ]
