"""The API's blueprints and the per-app services they share.

Routes reach the database, the launcher, the settings and the rule catalogue through
:func:`services` rather than module globals, so that tests can build several apps (one per
database) in one process and inject a fake launcher. :func:`register_blueprints` is the one
place every blueprint is registered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from api.catalogue import Catalogue
from store.scans import ScanStore
from store.settings import Settings
from supervisor.launcher import LaunchResult

_EXTENSION = "openshield"


class RunLauncher(Protocol):
    """What the API needs from :class:`supervisor.launcher.Launcher` (tests pass a fake)."""

    def launch(self, scan_id: str) -> LaunchResult: ...

    def launch_enrichment(self, scan_id: str, run_id: int) -> LaunchResult: ...


# the name earlier code and tests use
ScanLauncher = RunLauncher


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: ScanStore
    launcher: RunLauncher
    catalogue: Catalogue
    # AZURE_SUBSCRIPTION_ID, validated at start-up; None when unset
    default_subscription: str | None

    @property
    def known_rules(self) -> frozenset[str]:
        return self.catalogue.rule_ids


def services() -> Services:
    return current_app.extensions[_EXTENSION]  # type: ignore[no-any-return]


def register_blueprints(app: Flask, app_services: Services) -> None:
    from api.routes import dashboard, findings, health, openapi, posture, scans
    from api.routes import session as session_route

    app.extensions[_EXTENSION] = app_services
    for module in (health, scans, findings, posture, dashboard, openapi, session_route):
        app.register_blueprint(module.bp)
