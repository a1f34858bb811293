"""Revoked service tokens: the one module that writes ``revoked_tokens`` and reads it back.

``openshield token revoke`` adds a row; the API loads the ``jti`` of every revocation that may
still matter (its token has not expired, or its expiry is unknown) every few seconds
(:mod:`api.auth.revocation`). Revoking twice keeps the first row: the first revocation is what
happened, a repeat changes nothing. Rows of tokens expired for more than 30 days are deleted
when a new revocation is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from datetime import timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from store.clock import utcnow
from store.db import read_scope, session_scope
from store.models import RevokedToken

MAX_JTI = 256
# Revocations of tokens that expired longer ago than this are deleted when the next one is
# recorded: such a token is refused anyway, and the table stays as small as what matters.
KEEP_EXPIRED = timedelta(days=30)


@dataclass(frozen=True)
class Revocation:
    jti: str
    revoked_at: datetime
    expires_at: datetime | None
    subject: str | None
    reason: str | None


def revoke(url: str, jti: str, *, expires_at: datetime | None = None, subject: str | None = None,
           reason: str | None = None) -> bool:
    """Record that token ``jti`` is revoked; True if this call added it, False if it already was."""
    if not jti or len(jti) > MAX_JTI:
        raise ValueError(f"a token id is 1 to {MAX_JTI} characters")
    with session_scope(url) as session:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(RevokedToken).values(
            jti=jti, revoked_at=utcnow(), expires_at=expires_at, subject=subject, reason=reason,
        ).on_conflict_do_nothing(index_elements=[RevokedToken.jti]).returning(RevokedToken.jti)
        # a row comes back only when this insert added it (rowcount is unreliable here across drivers)
        added = session.execute(statement).first() is not None
        session.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow() - KEEP_EXPIRED))
        return added


def list_revocations(url: str, *, include_expired: bool = False) -> list[Revocation]:
    """Revocations, newest first; by default only those whose token could still be presented."""
    query = select(RevokedToken).order_by(RevokedToken.revoked_at.desc(), RevokedToken.jti)
    if not include_expired:
        query = query.where(_still_matters())
    with read_scope(url) as session:
        return [Revocation(r.jti, r.revoked_at, r.expires_at, r.subject, r.reason) for r in session.scalars(query)]


def active_ids(url: str) -> frozenset[str]:
    """The ``jti`` of every revocation whose token has not expired yet (or whose expiry is unknown)."""
    with read_scope(url) as session:
        return frozenset(session.scalars(select(RevokedToken.jti).where(_still_matters())))


def _still_matters():  # type: ignore[no-untyped-def]
    return or_(RevokedToken.expires_at.is_(None), RevokedToken.expires_at > utcnow())
