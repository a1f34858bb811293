"""The dashboard behind App Service Authentication, in headless Chromium: "Sign in with
Microsoft" appears only when the platform says auth is on, and the platform's session (its
``X-MS-CLIENT-PRINCIPAL`` header, which App Service injects and the browser context sets here)
signs the user in without a token, with the app role it carries.

The API runs in this process (Werkzeug's threaded server on 127.0.0.1): these tests are about
the page and the sign-in contract, not about gunicorn or scans.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from pathlib import Path
from typing import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import make_server

from api.factory import create_app
from store.migrate import upgrade
from tests.api.conftest import SECRET, FakeLauncher, make_settings
from tests.dashboard.test_browser import CHROMIUM, LAUNCH_ARGS

ROLE_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"


def principal(role: str) -> str:
    document = {"auth_typ": "aad", "name_typ": "name", "role_typ": ROLE_CLAIM,
                "claims": [{"typ": "name", "val": "ada@contoso.example"}, {"typ": ROLE_CLAIM, "val": role}]}
    return base64.b64encode(json.dumps(document).encode()).decode()


def serve(tmp: Path, easy_auth: bool) -> Iterator[str]:
    saved = {k: os.environ.get(k) for k in ("JWT_SECRET", "WEBSITE_AUTH_ENABLED", "OPENSHIELD_DEMO")}
    os.environ["JWT_SECRET"] = SECRET
    os.environ.pop("OPENSHIELD_DEMO", None)
    os.environ["WEBSITE_AUTH_ENABLED"] = "True" if easy_auth else "False"
    try:
        url = f"sqlite:///{tmp / 'openshield.db'}"
        upgrade(url)
        app = create_app(make_settings(url, tmp / "data"), FakeLauncher())  # auth settings are read here, once
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture(scope="module")
def easy_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory.mktemp("easy"), easy_auth=True)


@pytest.fixture(scope="module")
def plain_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from serve(tmp_path_factory.mktemp("plain"), easy_auth=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        yield chromium
        chromium.close()


def open_page(browser: Browser, url: str, headers: dict[str, str] | None = None) -> Page:
    context = browser.new_context(base_url=url, extra_http_headers=headers or {})
    page = context.new_page()
    page.goto("/")
    return page


def test_sign_in_with_microsoft_is_offered_behind_app_service_auth(browser: Browser, easy_url: str) -> None:
    page = open_page(browser, easy_url)
    link = page.locator("#signin-microsoft-link")
    expect(link).to_be_visible()
    assert link.get_attribute("href") == "/.auth/login/aad?post_login_redirect_uri=/"
    expect(page.locator("#token-input")).to_be_visible()  # tokens still work beside it
    page.context.close()


def test_no_microsoft_link_elsewhere(browser: Browser, plain_url: str) -> None:
    page = open_page(browser, plain_url, {"X-MS-CLIENT-PRINCIPAL": principal("OpenShield.Operator")})
    expect(page.locator("#signin-view")).to_be_visible()  # the header alone signs nobody in
    expect(page.locator("#signin-microsoft")).to_be_hidden()
    page.context.close()


def test_the_platform_session_signs_the_user_in(browser: Browser, easy_url: str) -> None:
    page = open_page(browser, easy_url, {"X-MS-CLIENT-PRINCIPAL": principal("OpenShield.Operator")})
    expect(page.locator("#scans-view")).to_be_visible()
    expect(page.locator("#session-info")).to_have_text("Signed in (ada@contoso.example, operator)")
    page.context.close()


def test_a_user_without_an_app_role_is_told_why(browser: Browser, easy_url: str) -> None:
    page = open_page(browser, easy_url, {"X-MS-CLIENT-PRINCIPAL": principal("Some.Other.Role")})
    expect(page.locator("#signin-view")).to_be_visible()
    expect(page.locator("#signin-error")).to_contain_text("no OpenShield app role")
    page.context.close()


def test_a_pasted_entra_token_shows_its_app_role(browser: Browser, plain_url: str) -> None:
    """The page reads an Entra ID token's app roles to shape the UI (the server decides)."""
    page = open_page(browser, plain_url)
    result = page.evaluate(
        """async () => {
          const { decodeToken } = await import("/dashboard/js/session.js");
          const encode = (o) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\\+/g, "-").replace(/\\//g, "_");
          const token = (claims) => `${encode({ alg: "RS256" })}.${encode(claims)}.c2ln`;
          const exp = Math.floor(Date.now() / 1000) + 600;
          const operator = decodeToken(token({ roles: ["OpenShield.Reader", "OpenShield.Operator"], exp,
                                                preferred_username: "ada@contoso.example" }));
          const reader = decodeToken(token({ roles: ["OpenShield.Reader"], exp, sub: "x" }));
          let problem = null;
          try { decodeToken(token({ roles: ["Other"], exp })); } catch (err) { problem = err.message; }
          return { operator: [operator.role, operator.sub], reader: reader.role, problem };
        }"""
    )
    assert result["operator"] == ["operator", "ada@contoso.example"]
    assert result["reader"] == "reader"
    assert "no reader or operator role" in result["problem"]
    page.context.close()
