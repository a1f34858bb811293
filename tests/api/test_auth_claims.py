"""Validly signed service tokens with odd claims: always a 401 with a one-line reason, never a 500.

Issue 12 §2: ``{"role": ["operator"]}`` (unhashable) and ``exp = 10**400`` (float overflow) made
every protected route answer 500. The cases below are the shapes found; the property test signs
arbitrary claim dictionaries with the right key and asserts the API only ever says 200, 401 or
403. Tokens are signed by hand (HMAC-SHA256 over the JSON) so that no encoder refuses a shape
before the API sees it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import SECRET


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: Any, secret: str = SECRET, header: Any = None) -> str:
    """An HS256 JWT over ``claims`` serialised as-is (NaN, Infinity and huge integers included)."""
    head = _b64(json.dumps(header if header is not None else {"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(mac)}"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def good(**overrides: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {"sub": "ci", "role": "operator", "iat": int(time.time()), "exp": int(time.time()) + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not _DROP}


_DROP = object()
FUTURE = int(time.time()) + 600


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (good(role=["operator"]), "token role must be one of reader, operator"),
        (good(role={"name": "operator"}), "token role must be one of reader, operator"),
        (good(role=2), "token role must be one of reader, operator"),
        (good(role=None), "token role must be one of reader, operator"),
        (good(role=True), "token role must be one of reader, operator"),
        (good(exp=10**400), "token 'exp' claim is out of range"),
        (good(exp=float("inf")), "token 'exp' claim must be a finite number"),
        (good(exp=float("nan")), "token 'exp' claim must be a finite number"),
        (good(exp=str(FUTURE)), "token 'exp' claim must be a number of seconds since 1970"),
        (good(exp=True), "token 'exp' claim must be a number of seconds since 1970"),
        (good(exp=[FUTURE]), "token 'exp' claim must be a number of seconds since 1970"),
        (good(exp=-5), "token 'exp' claim is out of range"),
        (good(exp=None), "token has no 'exp' claim"),
        (good(iat="yesterday"), "token 'iat' claim must be a number of seconds since 1970"),
        (good(iat=-(10**30)), "token 'iat' claim is out of range"),
        (good(nbf={"at": 1}), "token 'nbf' claim must be a number of seconds since 1970"),
        (good(nbf=1e308), "token 'nbf' claim is out of range"),
        (good(sub=_DROP), "token has no 'sub' claim"),
        (good(sub=42), "token 'sub' claim must be a non-empty string of at most 256 characters"),
        (good(sub=""), "token 'sub' claim must be a non-empty string of at most 256 characters"),
        (good(jti=["a"]), "token 'jti' claim must be a non-empty string of at most 256 characters"),
        ([1, 2, 3], "token is malformed"),
        ("operator", "token is malformed"),
        (None, "token is malformed"),
    ],
)
def test_odd_claims_are_401_with_one_line(offline_client: FlaskClient, claims: Any, message: str) -> None:
    response = offline_client.get("/api/scans", headers=bearer(sign(claims)))
    assert response.status_code == 401, response.get_data(as_text=True)
    assert response.get_json() == {"error": message}
    assert "\n" not in message
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_float_expiry_is_accepted(client: FlaskClient) -> None:
    assert client.get("/api/scans", headers=bearer(sign(good(exp=time.time() + 600.5)))).status_code == 200


def test_odd_headers_are_401(offline_client: FlaskClient) -> None:
    for header in ({"alg": ["HS256"]}, {"alg": None}, [1], {"alg": "HS256", "kid": {"x": 1}}, {"alg": "HS256", "crit": 5}):
        response = offline_client.get("/api/scans", headers=bearer(sign(good(), header=header)))
        assert response.status_code == 401, (header, response.get_data(as_text=True))


def test_deeply_nested_claims_are_401(offline_client: FlaskClient) -> None:
    claims = good()
    token = sign(claims)
    head, _, _ = token.split(".")
    deep = "[" * 100_000 + "]" * 100_000
    body = _b64(('{"sub":"x","role":"operator","exp":%d,"x":%s}' % (FUTURE, deep)).encode())
    mac = hmac.new(SECRET.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    response = offline_client.get("/api/scans", headers=bearer(f"{head}.{body}.{_b64(mac)}"))
    assert response.status_code == 401


# --------------------------------------------------------------------------- property test
JSON_LEAVES = (
    st.none() | st.booleans() | st.text(max_size=12) | st.integers() | st.integers(min_value=-(10**500), max_value=10**500)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["reader", "operator", "admin", "", str(FUTURE)])
    | st.integers(min_value=0, max_value=2 * FUTURE)
)
JSON_VALUES = st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8)
CLAIM_NAMES = st.sampled_from(["sub", "role", "exp", "iat", "nbf", "jti", "aud", "iss", "roles"]) | st.text(max_size=6)
CLAIMS = st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=8)
# plausible tokens with one or two odd claims, so that the later checks are reached too
NEAR_GOOD = st.builds(lambda odd: {**good(), **odd}, st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=2))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(claims=CLAIMS | NEAR_GOOD | JSON_VALUES)
def test_any_signed_claims_answer_200_401_or_403(client: FlaskClient, claims: Any) -> None:
    response = client.post("/api/scans/00000000-0000-4000-8000-000000000000/cancel", headers=bearer(sign(claims)))
    assert response.status_code in (401, 403, 404), response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str) and "\n" not in body["error"]
    response = client.get("/api/scans?limit=1", headers=bearer(sign(claims)))
    assert response.status_code in (200, 401, 403), response.get_data(as_text=True)
