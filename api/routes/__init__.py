"""The API's blueprints and the per-app services they share.

Routes reach the database, the launcher and the settings through :func:`services` rather than
module globals, so that tests can build several apps (one per database) in one process and
inject a fake launcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from api.models.scan_state import ScanStore
from api.settings import Settings
from supervisor.launcher import LaunchResult

_EXTENSION = "openshield"


class ScanLauncher(Protocol):
    """What the API needs from :class:`supervisor.launcher.Launcher` (tests pass a fake)."""

    def launch(self, scan_id: str) -> LaunchResult: ...

    def launch_enrichment(self, scan_id: str, run_id: int) -> None: ...


@dataclass(frozen=True)
class Services:
    settings: Settings
    store: ScanStore
    launcher: ScanLauncher
    # rule ids of the catalogue, read once at start-up: a trigger never imports rule modules
    known_rules: frozenset[str]
    # AZURE_SUBSCRIPTION_ID, validated at start-up; None when unset
    default_subscription: str | None


def services() -> Services:
    return current_app.extensions[_EXTENSION]  # type: ignore[no-any-return]


def register_blueprints(app: Flask, app_services: Services) -> None:
    from api.routes.health import bp as health_bp
    from api.routes.scans import bp as scans_bp

    app.extensions[_EXTENSION] = app_services
    app.register_blueprint(health_bp)
    app.register_blueprint(scans_bp)
