"""App Service Authentication: ``X-MS-CLIENT-PRINCIPAL`` counts only when the platform says
authentication is on (``WEBSITE_AUTH_ENABLED=True``); elsewhere anyone could send it, so it is
ignored. ``GET /api/session`` tells the dashboard whether to offer "Sign in with Microsoft".
"""

from __future__ import annotations

import base64
import json
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import auth

UNKNOWN_SCAN = "/api/scans/00000000-0000-4000-8000-000000000000/cancel"
ROLE_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"


def principal_header(roles: list[str], name: str = "ada@contoso.example", **extra: Any) -> dict[str, str]:
    """The header as App Service builds it: base64 JSON, claims as typ/val pairs."""
    claims = [{"typ": "name", "val": name},
              {"typ": "http://schemas.microsoft.com/identity/claims/objectidentifier", "val": "0f1e2d3c"}]
    claims += [{"typ": ROLE_CLAIM, "val": role} for role in roles]
    document = {"auth_typ": "aad", "claims": claims, "name_typ": "name", "role_typ": ROLE_CLAIM, **extra}
    return {"X-MS-CLIENT-PRINCIPAL": base64.b64encode(json.dumps(document).encode()).decode()}


@pytest.fixture
def easy_client(monkeypatch: pytest.MonkeyPatch, make_app: Callable[[], Flask]) -> FlaskClient:
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "True")
    return make_app().test_client()


def test_the_header_is_ignored_unless_the_platform_says_auth_is_on(client: FlaskClient) -> None:
    response = client.get("/api/scans", headers=principal_header(["OpenShield.Operator"]))
    assert response.status_code == 401
    assert response.get_json() == {"error": "missing bearer token (Authorization: Bearer <token>)"}
    assert client.get("/api/session", headers=principal_header(["OpenShield.Operator"])).get_json() == {
        "sign_in": {"easy_auth": False, "entra_id": False, "login_url": None, "logout_url": None},
        "principal": None, "refused": None,
    }


def test_the_platform_principal_is_signed_in_with_its_app_role(easy_client: FlaskClient) -> None:
    reader, operator = principal_header(["OpenShield.Reader"]), principal_header(["OpenShield.Operator"])
    assert easy_client.get("/api/scans", headers=reader).status_code == 200
    refused = easy_client.post(UNKNOWN_SCAN, headers={**reader, "X-Requested-With": "openshield"})
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "this action needs the operator role; you have reader"}
    assert easy_client.post(UNKNOWN_SCAN, headers={**operator, "X-Requested-With": "openshield"}).status_code == 404
    assert easy_client.get("/api/scans", headers=auth("reader")).status_code == 200  # service tokens still work


def test_a_cookie_session_must_say_it_is_not_cross_site_on_writes(easy_client: FlaskClient) -> None:
    response = easy_client.post(UNKNOWN_SCAN, headers=principal_header(["OpenShield.Operator"]))
    assert response.status_code == 403
    assert response.get_json() == {"error": "a browser session must send X-Requested-With on POST requests"}


def test_a_user_without_an_app_role_is_403(easy_client: FlaskClient) -> None:
    response = easy_client.get("/api/scans", headers=principal_header(["Some.Other.Role"]))
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "the signed-in user has no OpenShield app role (OpenShield.Reader or OpenShield.Operator)"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "X-MS-CLIENT-PRINCIPAL is not base64 JSON"),
        (base64.b64encode(b"[1, 2]").decode(), "X-MS-CLIENT-PRINCIPAL is not a JSON object"),
        (base64.b64encode(b'{"claims": 5}').decode(), "X-MS-CLIENT-PRINCIPAL has no claims"),
    ],
)
def test_a_malformed_header_is_401(easy_client: FlaskClient, value: str, message: str) -> None:
    response = easy_client.get("/api/scans", headers={"X-MS-CLIENT-PRINCIPAL": value})
    assert response.status_code == 401
    assert response.get_json() == {"error": message}


def test_session_offers_microsoft_sign_in_and_names_the_user(easy_client: FlaskClient) -> None:
    anonymous = easy_client.get("/api/session")
    assert anonymous.status_code == 200
    assert anonymous.get_json() == {
        "sign_in": {"easy_auth": True, "entra_id": False, "login_url": "/.auth/login/aad?post_login_redirect_uri=/",
                    "logout_url": "/.auth/logout?post_logout_redirect_uri=/"},
        "principal": None, "refused": None,
    }
    signed_in = easy_client.get("/api/session", headers=principal_header(["OpenShield.Operator"])).get_json()
    assert signed_in["principal"] == {"role": "operator", "subject": "ada@contoso.example", "kind": "easyauth"}
    no_role = easy_client.get("/api/session", headers=principal_header([])).get_json()
    assert no_role["principal"] is None
    assert "no OpenShield app role" in no_role["refused"]


def test_session_with_a_service_token(client: FlaskClient) -> None:
    body = client.get("/api/session", headers=auth("reader")).get_json()
    assert body["principal"] == {"role": "reader", "subject": "openshield", "kind": "service"}
    assert client.get("/api/session?x=1").status_code == 400


# --------------------------------------------------------------------------- property test
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.text(max_size=8) | st.integers() | st.floats()
    | st.sampled_from(["OpenShield.Reader", "OpenShield.Operator", "roles", ROLE_CLAIM, "name"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["typ", "val", "claims", "role_typ", "name_typ"]) | st.text(max_size=4), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(document=JSON_VALUES, raw=st.binary(max_size=40))
def test_any_principal_header_answers_200_401_or_403(easy_client: FlaskClient, document: Any, raw: bytes) -> None:
    for value in (base64.b64encode(json.dumps(document).encode()).decode(), base64.b64encode(raw).decode(),
                  raw.decode("latin-1")):
        try:
            response = easy_client.get("/api/scans", headers={"X-MS-CLIENT-PRINCIPAL": value})
        except ValueError:
            continue  # a header value the HTTP client itself refuses to send (newlines)
        assert response.status_code in (200, 401, 403), response.get_data(as_text=True)
