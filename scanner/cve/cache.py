"""The NVD answer cache, in the database so that every scan and host shares it.

Keyed by the sha256 of the canonical query string (the paging parameters excluded); an entry
older than the TTL is treated as missing and replaced by the next fetch. A cache that cannot be
read or written only costs a request: enrichment never fails because of it.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from store.clock import utcnow
from store.db import read_scope_engine, session_scope
from store.models import NvdCacheEntry

log = logging.getLogger(__name__)

_TABLE = NvdCacheEntry.__table__


def cache_key(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


class NvdCache:
    def __init__(self, url: str) -> None:
        self.url = url

    def get(self, query: str, ttl_hours: float) -> list[dict[str, Any]] | None:
        if ttl_hours <= 0:
            return None
        try:
            with read_scope_engine(self.url).connect() as conn:
                row = conn.execute(
                    select(_TABLE.c.payload, _TABLE.c.fetched_at).where(_TABLE.c.key == cache_key(query))
                ).first()
        except SQLAlchemyError:
            log.warning("NVD cache read failed", exc_info=True)
            return None
        if row is None:
            return None
        payload, fetched_at = row
        if fetched_at is None or utcnow() - fetched_at > timedelta(hours=ttl_hours):
            return None
        return list(payload)

    def put(self, query: str, payload: list[dict[str, Any]]) -> None:
        values = {"key": cache_key(query), "query": query, "payload": payload, "fetched_at": utcnow()}
        try:
            with session_scope(self.url) as session:
                insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
                stmt = insert(NvdCacheEntry).values(**values)
                session.execute(stmt.on_conflict_do_update(
                    index_elements=[NvdCacheEntry.key],
                    set_={"payload": stmt.excluded.payload, "fetched_at": stmt.excluded.fetched_at},
                ))
        except SQLAlchemyError:
            log.warning("NVD cache write failed", exc_info=True)
