"""The dashboard's HTTP side: the page and its assets, their types and security headers.

Through Flask's test client (no browser): what the server promises the browser, checked
directly. The browser tests (test_browser.py) check what the page then does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest
from flask.testing import FlaskClient

from api.factory import create_app
from api.routes.dashboard import ASSETS
from store.settings import Settings
from supervisor.launcher import LaunchResult

SECRET = "dashboard-test-secret-" + "0123456789abcdef" * 2


class NoLauncher:
    def launch(self, scan_id: str) -> LaunchResult:
        raise AssertionError("the dashboard routes never launch scans")


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FlaskClient]:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.delenv("OPENSHIELD_DEMO", raising=False)
    monkeypatch.delenv("AZURE_SUBSCRIPTION_ID", raising=False)
    monkeypatch.setenv("OPENSHIELD_DATA_DIR", str(tmp_path))
    app = create_app(Settings.from_env(), launcher=NoLauncher())
    with app.test_client() as test_client:
        yield test_client


def asset_files() -> list[Path]:
    return sorted(p for p in ASSETS.rglob("*") if p.is_file())


def test_index_is_html_with_a_strict_policy(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and "unsafe" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    assert '<script type="module" src="/dashboard/js/main.js"></script>' in body


@pytest.mark.parametrize(
    ("path", "mimetype"),
    [("/dashboard/js/main.js", "text/javascript"), ("/dashboard/dashboard.css", "text/css"),
     ("/dashboard/icon.svg", "image/svg+xml")],
)
def test_assets_are_served_with_their_type_and_headers(client: FlaskClient, path: str, mimetype: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    etag = response.headers["ETag"]
    assert client.get(path, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.parametrize(
    "path",
    ["/dashboard/nope.js", "/dashboard/../routes/dashboard.py", "/dashboard/%2e%2e/factory.py",
     "/dashboard/js/../../routes/__init__.py", "/dashboard/js/main.py", "/dashboard/"],
)
def test_unknown_or_escaping_paths_are_404_json(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.is_json and response.get_json()["error"].startswith("not found")


def test_every_module_the_page_imports_exists() -> None:
    """A typo in an import path would only show as a blank page: check the graph statically."""
    js_dir = ASSETS / "js"
    for module in js_dir.glob("*.js"):
        for target in re.findall(r'^import .* from "(\./[^"]+)";$', module.read_text(), flags=re.M):
            assert (js_dir / target).is_file(), f"{module.name} imports missing {target}"


def test_assets_load_nothing_from_outside() -> None:
    """No CDN, no external fonts: App Service often has no outbound internet."""
    allowed = {"http://www.w3.org/2000/svg"}  # an XML namespace, never fetched
    for path in asset_files():
        urls = set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"')]*", path.read_text()))
        assert urls <= allowed, f"{path.relative_to(ASSETS)} refers to {urls - allowed}"


def test_no_inline_script_or_style_in_the_page() -> None:
    """The CSP forbids them, so any would silently not run."""
    html = (ASSETS / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=|<style|\son[a-z]+=", html)
    html_sinks = re.compile(r"\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write")
    for module in (ASSETS / "js").glob("*.js"):
        assert not html_sinks.search(module.read_text()), f"{module.name}: build nodes with dom.h, not HTML strings"


def test_api_routes_keep_their_json_404(client: FlaskClient) -> None:
    response = client.get("/api/nope")
    assert response.status_code == 404 and response.get_json() == {"error": "not found: /api/nope"}
    assert "Content-Security-Policy" not in response.headers  # the dashboard's headers stay on its routes
