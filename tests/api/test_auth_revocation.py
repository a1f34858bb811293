"""Revocation of service tokens: a revoked ``jti`` and ``OPENSHIELD_TOKENS_NOT_BEFORE`` give 401.

The list of revoked ids is cached per worker (``OPENSHIELD_REVOCATION_CACHE_SECONDS``); the API
tests set it to 0 so that a revocation shows on the next request, and the cache itself is tested
with a counting loader and a hand-driven clock.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

import jwt
import pytest
from flask import Flask
from sqlalchemy.exc import OperationalError

from api.auth import issue_token_with_id
from api.auth.hs256 import ServiceToken
from api.auth.principal import AuthUnavailable, Principal, TokenError
from api.auth.revocation import RevocationList
from api.factory import create_app
from store.revocations import active_ids, list_revocations, revoke
from tests.api.conftest import SECRET, FakeLauncher, make_settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def fresh_app(monkeypatch: pytest.MonkeyPatch, make_app: Callable[[], Flask]) -> Flask:
    monkeypatch.setenv("OPENSHIELD_REVOCATION_CACHE_SECONDS", "0")
    return make_app()


def test_a_revoked_token_is_refused_and_others_are_not(fresh_app: Flask, database_url: str) -> None:
    client = fresh_app.test_client()
    token, claims = issue_token_with_id(SECRET, "operator")
    other, _ = issue_token_with_id(SECRET, "operator")
    assert client.get("/api/scans", headers=bearer(token)).status_code == 200
    assert revoke(database_url, claims["jti"], reason="leaked in a CI log") is True
    response = client.get("/api/scans", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json() == {"error": "token has been revoked"}
    assert client.get("/api/scans", headers=bearer(other)).status_code == 200
    assert revoke(database_url, claims["jti"]) is False  # a repeat changes nothing
    [row] = list_revocations(database_url)
    assert (row.jti, row.reason) == (claims["jti"], "leaked in a CI log")


def test_revocations_of_expired_tokens_are_not_loaded(database_url: str) -> None:
    past = datetime.now(timezone.utc) - timedelta(seconds=5)
    revoke(database_url, "expired-one", expires_at=past)
    revoke(database_url, "live-one", expires_at=past + timedelta(hours=1))
    revoke(database_url, "unknown-expiry")
    assert active_ids(database_url) == {"live-one", "unknown-expiry"}
    assert {r.jti for r in list_revocations(database_url, include_expired=True)} == {
        "expired-one", "live-one", "unknown-expiry"}


def test_long_expired_revocations_are_deleted_when_a_new_one_is_recorded(database_url: str) -> None:
    now = datetime.now(timezone.utc)
    revoke(database_url, "expired-long-ago", expires_at=now - timedelta(days=31))
    revoke(database_url, "expired-lately", expires_at=now - timedelta(days=29))
    revoke(database_url, "new-one")
    assert {r.jti for r in list_revocations(database_url, include_expired=True)} == {"expired-lately", "new-one"}


def test_tokens_issued_before_not_before_are_refused(
    monkeypatch: pytest.MonkeyPatch, make_app: Callable[[], Flask]
) -> None:
    cutoff = int(time.time()) - 60
    monkeypatch.setenv("OPENSHIELD_TOKENS_NOT_BEFORE",
                       datetime.fromtimestamp(cutoff, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    client = make_app().test_client()
    base = {"sub": "ci", "role": "reader", "exp": int(time.time()) + 600}
    old = jwt.encode({**base, "iat": cutoff - 1}, SECRET, algorithm="HS256")
    undated = jwt.encode(base, SECRET, algorithm="HS256")
    new = jwt.encode({**base, "iat": cutoff}, SECRET, algorithm="HS256")
    for token in (old, undated):
        response = client.get("/api/scans", headers=bearer(token))
        assert response.status_code == 401
        assert response.get_json() == {"error": "token was issued before OPENSHIELD_TOKENS_NOT_BEFORE and is revoked"}
    assert client.get("/api/scans", headers=bearer(new)).status_code == 200


@pytest.mark.parametrize("value", ["yesterday", "2026-11-30T09:00:00", "1700000000"])
def test_a_bad_not_before_stops_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str) -> None:
    monkeypatch.setenv("OPENSHIELD_TOKENS_NOT_BEFORE", value)
    with pytest.raises(RuntimeError, match="OPENSHIELD_TOKENS_NOT_BEFORE must be an ISO 8601 time with a zone"):
        create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), FakeLauncher())


def test_an_unreadable_revocation_list_is_503_not_a_pass(tmp_path: Path) -> None:
    # a database without the revoked_tokens table: the list cannot be read, so no token passes
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'bare.db'}", tmp_path / "data"), FakeLauncher())
    token, _ = issue_token_with_id(SECRET, "reader")
    response = app.test_client().get("/api/scans", headers=bearer(token))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"error": "cannot check whether the token is revoked: database unavailable"}


# --------------------------------------------------------------------------- the cache
def _token(jti: str | None) -> ServiceToken:
    return ServiceToken(Principal("reader", "ci"), time.time() + 60, None, time.time(), jti)


def test_the_list_is_reloaded_only_after_the_cache_period() -> None:
    loads: list[float] = []
    revoked: set[str] = set()
    now = [100.0]

    def load(_url: str) -> frozenset[str]:
        loads.append(now[0])
        return frozenset(revoked)

    revocations = RevocationList("sqlite://", cache_seconds=5, load=load, clock=lambda: now[0])
    revocations.check(_token("a"))
    revoked.add("a")
    now[0] += 4.9
    revocations.check(_token("a"))  # still the cached list: revocation not seen yet
    now[0] += 0.1
    with pytest.raises(TokenError, match="revoked"):
        revocations.check(_token("a"))
    assert loads == [100.0, 105.0]
    revocations.check(_token(None))  # tokens without a jti are revocable only by not-before


def test_a_failed_load_is_retried_on_the_next_request() -> None:
    calls = [0]

    def load(_url: str) -> frozenset[str]:
        calls[0] += 1
        if calls[0] == 1:
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return frozenset()

    revocations = RevocationList("sqlite://", cache_seconds=60, load=load)
    with pytest.raises(AuthUnavailable):
        revocations.check(_token("a"))
    revocations.check(_token("a"))
    assert calls[0] == 2
