"""Bearer-token auth: 401 without a valid token, 403 for a reader on operator routes."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from flask.testing import FlaskClient

from api.auth import DEMO_JWT_SECRET, TokenError, issue_token, secret_from_env, verify_token
from api.factory import create_app
from store.migrate import upgrade
from tests.api.conftest import SECRET, SUB, FakeLauncher, auth, make_settings

SCAN_ID = "0b7c9a52-1f7e-4c3b-9d7e-2a1b3c4d5e6f"
OPERATOR_ROUTES = [
    ("post", "/api/scans/trigger"),
    ("post", f"/api/scans/{SCAN_ID}/cancel"),
    ("get", f"/api/scans/{SCAN_ID}/log"),
]
READER_ROUTES = [("get", "/api/scans"), ("get", f"/api/scans/{SCAN_ID}")]


def call(client: FlaskClient, method: str, path: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    kwargs = {"json": {"subscription_id": SUB}} if method == "post" else {}
    return getattr(client, method)(path, headers=headers or {}, **kwargs)


def raw_token(claims: dict, secret: str = SECRET, algorithm: str = "HS256") -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm=algorithm)}"}


def now() -> int:
    return int(time.time())


@pytest.mark.parametrize(("method", "path"), OPERATOR_ROUTES + READER_ROUTES)
def test_no_token_is_401_with_www_authenticate(offline_client: FlaskClient, method: str, path: str) -> None:
    response = call(offline_client, method, path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json() == {"error": "missing bearer token (Authorization: Bearer <token>)"}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        (auth(secret="another-secret-of-sufficient-length-0123456789"), "token signature is invalid"),
        (raw_token({"sub": "x", "role": "operator", "exp": now() - 3600}), "token expired"),
        (raw_token({"sub": "x", "role": "operator"}), "token has no 'exp' claim"),
        (raw_token({"sub": "x", "exp": now() + 3600}), "token has no 'role' claim"),
        (raw_token({"sub": "x", "role": "admin", "exp": now() + 3600}), "token role must be one of reader, operator"),
        (raw_token({"sub": "x", "role": "operator", "exp": now() + 3600}, algorithm="HS512"),
         "token must be signed with HS256"),
        (raw_token({"sub": "x", "role": "operator", "exp": now() + 3600, "nbf": now() + 3600}),
         "token is not valid yet"),
        ({"Authorization": "Bearer not.a.jwt"}, "token is malformed"),
        ({"Authorization": "Basic b3BlcmF0b3I6cHc="}, "Authorization header must be 'Bearer <token>'"),
        ({"Authorization": "Bearer"}, "Authorization header must be 'Bearer <token>'"),
    ],
)
def test_bad_tokens_are_401(offline_client: FlaskClient, headers: dict[str, str], message: str) -> None:
    response = offline_client.get("/api/scans", headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"error": message}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unsigned_tokens_are_refused(offline_client: FlaskClient) -> None:
    header = raw_token({"role": "operator", "exp": now() + 3600}, secret="", algorithm="none")
    response = offline_client.get("/api/scans", headers=header)
    assert response.status_code == 401


def test_the_error_never_echoes_the_token(offline_client: FlaskClient) -> None:
    token = issue_token("another-secret-of-sufficient-length-0123456789", "operator")
    response = offline_client.get("/api/scans", headers={"Authorization": f"Bearer {token}"})
    assert token not in response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path"), OPERATOR_ROUTES)
def test_a_reader_on_an_operator_route_is_403(offline_client: FlaskClient, method: str, path: str) -> None:
    response = call(offline_client, method, path, auth("reader"))
    assert response.status_code == 403
    assert response.get_json() == {"error": "this action needs the operator role; the token has reader"}


def test_a_reader_can_list_and_read_scans(client: FlaskClient, store) -> None:  # type: ignore[no-untyped-def]
    scan = store.create(SUB)
    assert client.get("/api/scans", headers=auth("reader")).status_code == 200
    assert client.get(f"/api/scans/{scan.scan_id}", headers=auth("reader")).status_code == 200


def test_health_needs_no_token(client: FlaskClient) -> None:
    assert client.get("/health").status_code == 200


# ------------------------------------------------------------------------- tokens and secrets
def test_issued_tokens_verify_and_expire() -> None:
    token = issue_token(SECRET, "reader", ttl_seconds=60, subject="alice")
    principal = verify_token(SECRET, token)
    assert (principal.role, principal.subject) == ("reader", "alice")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert 59 <= claims["exp"] - now() <= 60


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"role": "admin"}, "role must be one of"),
        ({"role": "reader", "ttl_seconds": 0}, "ttl_seconds must be a positive integer"),
        ({"role": "reader", "secret": "short"}, "JWT_SECRET must be at least 32 bytes"),
    ],
)
def test_issue_token_refuses_bad_arguments(kwargs: dict, error: str) -> None:
    arguments = {"secret": SECRET, **kwargs}
    with pytest.raises((ValueError, RuntimeError), match=error):
        issue_token(**arguments)


def test_the_app_refuses_to_start_without_a_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("JWT_SECRET")
    with pytest.raises(RuntimeError, match=r"JWT_SECRET is required \(or set OPENSHIELD_DEMO=1\)"):
        create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), FakeLauncher())


def test_the_app_refuses_a_short_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JWT_SECRET", "changeme")
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), FakeLauncher())


def test_demo_mode_uses_the_demo_secret_and_warns(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("JWT_SECRET")
    monkeypatch.setenv("OPENSHIELD_DEMO", "1")
    upgrade(f"sqlite:///{tmp_path / 'x.db'}")  # auth reads the revoked-token list
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), FakeLauncher())
    assert "demo secret" in caplog.text
    assert secret_from_env() == DEMO_JWT_SECRET
    response = app.test_client().get(f"/api/scans/{SCAN_ID}x", headers=auth("reader", secret=DEMO_JWT_SECRET))
    assert response.status_code == 400  # authenticated; refused for the bad id only


def test_an_explicit_secret_wins_in_demo_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENSHIELD_DEMO", "1")
    assert secret_from_env() == SECRET


def test_a_bad_default_subscription_stops_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", "my-subscription")
    with pytest.raises(RuntimeError, match="AZURE_SUBSCRIPTION_ID must be a subscription UUID"):
        create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), FakeLauncher())


def test_a_remembered_token_still_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_token(SECRET, "operator", ttl_seconds=60)
    assert verify_token(SECRET, token).role == "operator"  # verified and remembered
    monkeypatch.setattr("api.auth.hs256._now", lambda: time.time() + 61)
    with pytest.raises(TokenError, match="token expired"):
        verify_token(SECRET, token)


def test_a_token_is_remembered_per_secret() -> None:
    token = issue_token(SECRET, "operator")
    assert verify_token(SECRET, token).role == "operator"
    with pytest.raises(TokenError, match="signature is invalid"):
        verify_token("another-secret-of-sufficient-length-0123456789", token)
