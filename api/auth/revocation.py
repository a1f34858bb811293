"""Is this service token revoked? Checked on every request, against a list cached briefly.

Reading ``revoked_tokens`` on every request would add a query to each call; instead each worker
keeps the set of revoked ``jti`` for ``OPENSHIELD_REVOCATION_CACHE_SECONDS`` (default 5). So a
revocation takes effect on every worker within that many seconds. When the list cannot be read
the request is refused with 503 (fail closed) rather than letting a revoked token through.

``OPENSHIELD_TOKENS_NOT_BEFORE`` revokes every service token issued before a time (its ``iat``),
those without ``iat`` too, without a database row: the answer to a leaked ``JWT_SECRET`` is a new
secret, the answer to "revoke everything handed out so far" is this variable.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime
from typing import Callable

from sqlalchemy.exc import SQLAlchemyError

from api.auth.hs256 import ServiceToken
from api.auth.principal import AuthUnavailable, TokenError
from store.revocations import active_ids

log = logging.getLogger("openshield.api")

DEFAULT_CACHE_SECONDS = 5.0


class RevocationList:
    """The revoked ``jti`` of one database, reloaded when older than ``cache_seconds``."""

    def __init__(self, database_url: str, *, cache_seconds: float = DEFAULT_CACHE_SECONDS,
                 not_before: datetime | None = None,
                 load: Callable[[str], frozenset[str]] = active_ids,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._url = database_url
        self._cache_seconds = cache_seconds
        self._not_before = not_before.timestamp() if not_before is not None else None
        self._load = load
        self._clock = clock
        self._lock = threading.Lock()
        self._ids: frozenset[str] = frozenset()
        self._loaded_at: float | None = None

    def check(self, token: ServiceToken) -> None:
        """Raise :class:`TokenError` if ``token`` is revoked, :class:`AuthUnavailable` if unknowable."""
        if self._not_before is not None and (token.issued_at is None or token.issued_at < self._not_before):
            raise TokenError("token was issued before OPENSHIELD_TOKENS_NOT_BEFORE and is revoked")
        if token.jti is not None and token.jti in self._current():
            raise TokenError("token has been revoked")

    def _current(self) -> frozenset[str]:
        with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= self._cache_seconds:
                try:
                    self._ids = self._load(self._url)
                except SQLAlchemyError as exc:
                    first = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
                    log.warning("cannot read the revoked-token list (%s); refusing service tokens until it can be read",
                                first)
                    raise AuthUnavailable("cannot check whether the token is revoked: database unavailable") from None
                self._loaded_at = now
            return self._ids
