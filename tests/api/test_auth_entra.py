"""Entra ID access tokens (RS256) against the emulator's tenant: keys from its OpenID
configuration and JWKS, app roles mapped to reader/operator, everything else a 401, a user
without an app role a 403, and an unreachable Entra a 503 (issue 12 §4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.factory import create_app
from store.migrate import upgrade
from tests.api.conftest import FakeLauncher, auth, make_settings
from tests.fakeazure.harness import Emulator, start_emulator
from tests.fakeazure.oidc import DEFAULT_AUDIENCE

UNKNOWN_SCAN = "/api/scans/00000000-0000-4000-8000-000000000000/cancel"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), tenant="demo") as emu:
        yield emu


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('entra') / 'openshield.db'}"
    upgrade(url)
    return url


@pytest.fixture
def entra_app(emulator: Emulator, database: str, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Callable[[], FlaskClient]:
    """A fresh app (empty key cache) configured for the emulator's tenant."""
    monkeypatch.setenv("OPENSHIELD_ENTRA_TENANT_ID", emulator.env["AZURE_TENANT_ID"])
    monkeypatch.setenv("OPENSHIELD_ENTRA_AUDIENCE", f"{DEFAULT_AUDIENCE}, 11111111-0000-4000-8000-000000000001")
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", emulator.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_file)
    # a rotated key is fetched at once in these tests (production waits 30 s between forced refreshes)
    monkeypatch.setattr("api.auth.entra.KEY_REFRESH_COOLDOWN_SECONDS", 0.0)

    def build() -> FlaskClient:
        app: Flask = create_app(make_settings(database, tmp_path / "data"), FakeLauncher())
        return app.test_client()

    return build


@pytest.fixture(autouse=True)
def entra_up(emulator: Emulator) -> Iterator[None]:
    yield
    emulator.set_oidc_down(False)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_app_roles_map_to_reader_and_operator(entra_app: Callable[[], FlaskClient], emulator: Emulator) -> None:
    client = entra_app()
    reader = emulator.user_token(roles=["OpenShield.Reader"])
    operator = emulator.user_token(roles=["OpenShield.Reader", "OpenShield.Operator"])
    assert client.get("/api/scans", headers=bearer(reader)).status_code == 200
    refused = client.post(UNKNOWN_SCAN, headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "this action needs the operator role; the token has reader"}
    assert client.post(UNKNOWN_SCAN, headers=bearer(operator)).status_code == 404  # authorised; no such scan
    # the second audience in the list is accepted too; service tokens keep working beside Entra ID
    other_audience = emulator.user_token(roles=["OpenShield.Reader"], audience="11111111-0000-4000-8000-000000000001")
    assert client.get("/api/scans", headers=bearer(other_audience)).status_code == 200
    assert client.get("/api/scans", headers=auth("reader")).status_code == 200


@pytest.mark.parametrize("roles", [None, [], ["Some.Other.Role"]])
def test_a_user_without_an_app_role_is_403(entra_app: Callable[[], FlaskClient], emulator: Emulator,
                                           roles: list[str] | None) -> None:
    response = entra_app().get("/api/scans", headers=bearer(emulator.user_token(roles=roles)))
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "the token has no OpenShield app role (OpenShield.Reader or OpenShield.Operator)"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"audience": "api://someone-else"}, "token audience is not this API"),
        ({"issuer": "https://sts.windows.net/elsewhere/"}, "token issuer is not the configured Entra ID tenant"),
        ({"expires_in": -120}, "token expired"),
        ({"tenant": "other"}, "token signing key is not one of the tenant's keys"),
        ({"claims": {"roles": "OpenShield.Operator"}}, "token 'roles' claim must be a list of strings"),
        ({"claims": {"exp": "tomorrow"}}, "token 'exp' claim must be a number of seconds since 1970"),
        ({"claims": {"tid": "99999999-8888-4777-8666-555555555555"}}, "token is from another tenant"),
    ],
)
def test_bad_entra_tokens_are_401(entra_app: Callable[[], FlaskClient], emulator: Emulator,
                                  options: dict, message: str) -> None:
    token = emulator.user_token(roles=["OpenShield.Operator"], **options)
    response = entra_app().get("/api/scans", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json() == {"error": message}
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_rotated_key_is_fetched_and_a_retired_one_refused(entra_app: Callable[[], FlaskClient],
                                                           emulator: Emulator) -> None:
    client = entra_app()
    before = emulator.user_token(roles=["OpenShield.Reader"])
    assert client.get("/api/scans", headers=bearer(before)).status_code == 200  # keys fetched and cached
    keys_fetched = emulator.stats()["by_route"].get("token.keys", 0)
    emulator.rotate_signing_key()
    after = emulator.user_token(roles=["OpenShield.Reader"])
    assert client.get("/api/scans", headers=bearer(after)).status_code == 200  # unknown kid: keys fetched again
    assert emulator.stats()["by_route"]["token.keys"] == keys_fetched + 1
    assert client.get("/api/scans", headers=bearer(after)).status_code == 200  # now cached
    assert emulator.stats()["by_route"]["token.keys"] == keys_fetched + 1
    response = client.get("/api/scans", headers=bearer(before))
    assert response.status_code == 401
    assert response.get_json() == {"error": "token signing key is not one of the tenant's keys"}


def test_entra_out_of_reach_is_503(entra_app: Callable[[], FlaskClient], emulator: Emulator) -> None:
    token = emulator.user_token(roles=["OpenShield.Reader"])
    emulator.set_oidc_down(True)
    fresh = entra_app()
    response = fresh.get("/api/scans", headers=bearer(token))  # nothing cached yet
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"error": "cannot reach Entra ID to read the tenant's OpenID configuration"}
    emulator.set_oidc_down(False)
    fetches = emulator.stats()["by_route"].get("token.openid", 0)
    assert fresh.get("/api/scans", headers=bearer(token)).status_code == 503  # no new attempt for 5 s
    assert emulator.stats()["by_route"].get("token.openid", 0) == fetches
    client = entra_app()
    assert client.get("/api/scans", headers=bearer(token)).status_code == 200
    emulator.set_oidc_down(True)
    emulator.rotate_signing_key(retire_old=False)
    response = client.get("/api/scans", headers=bearer(emulator.user_token(roles=["OpenShield.Reader"])))
    assert response.status_code == 503  # a new kid needs the keys, which cannot be read
    assert response.get_json() == {"error": "cannot reach Entra ID to check the token's signing key"}
    assert client.get("/api/scans", headers=bearer(token)).status_code == 200  # cached keys still verify


def test_rs256_tokens_are_refused_when_entra_is_off(emulator: Emulator, database: str, tmp_path: Path) -> None:
    client = create_app(make_settings(database, tmp_path / "data"), FakeLauncher()).test_client()
    response = client.get("/api/scans", headers=bearer(emulator.user_token(roles=["OpenShield.Operator"])))
    assert response.status_code == 401
    assert response.get_json() == {"error": "token must be signed with HS256"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OPENSHIELD_ENTRA_TENANT_ID": "6c0f5d3e-0000-4000-8000-000000000000"}, "must be set together"),
        ({"OPENSHIELD_ENTRA_TENANT_ID": "contoso", "OPENSHIELD_ENTRA_AUDIENCE": "api://x"}, "a UUID"),
        ({"OPENSHIELD_ENTRA_TENANT_ID": "6c0f5d3e-0000-4000-8000-000000000000", "OPENSHIELD_ENTRA_AUDIENCE": "api://x",
          "AZURE_AUTHORITY_HOST": "http://login.example"}, "https:// URL"),
    ],
)
def test_bad_entra_settings_stop_start_up(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          env: dict[str, str], message: str) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=message):
        create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path), FakeLauncher())


# --------------------------------------------------------------------------- property test
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.text(max_size=8) | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats() | st.sampled_from(["OpenShield.Reader", "OpenShield.Operator", DEFAULT_AUDIENCE]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
ODD_CLAIMS = st.dictionaries(
    st.sampled_from(["roles", "exp", "nbf", "iat", "aud", "iss", "tid", "oid", "preferred_username", "sub"])
    | st.text(max_size=5), JSON_VALUES, max_size=3)


_CLIENTS: dict[int, FlaskClient] = {}


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(claims=ODD_CLAIMS)
def test_entra_tokens_with_any_claims_answer_200_401_or_403(entra_app: Callable[[], FlaskClient],
                                                            emulator: Emulator, claims: dict) -> None:
    client = _CLIENTS.get(id(entra_app)) or _CLIENTS.setdefault(id(entra_app), entra_app())  # one app per test
    token = emulator.user_token(roles=["OpenShield.Reader"], claims=claims)
    response = client.get("/api/scans", headers=bearer(token))
    assert response.status_code in (200, 401, 403), response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, (dict, list)) or body is None
    if response.status_code != 200:
        assert isinstance(body["error"], str) and "\n" not in body["error"]
