"""The Flask app factory: configuration is checked here, once, before the first request.

Kept apart from :mod:`api.app` (which builds the WSGI object at import) so that tests and tools
can import ``create_app`` without needing a production configuration. Anything slow or fallible
(the secret, the default subscription, the rule catalogue) is settled at start-up so that
request paths do no imports and no catalogue work.
"""

from __future__ import annotations

import logging
import os

from flask import Flask

from api.auth import DEMO_JWT_SECRET, init_auth, secret_from_env
from api.errors import register_error_handlers
from api.models.scan_state import ScanStore
from api.routes import ScanLauncher, Services, dashboard, findings, openapi, posture, register_blueprints
from api.settings import Settings
from api.validation import is_uuid

log = logging.getLogger("openshield.api")

# Trigger bodies are a subscription id and a list of rule ids; anything bigger is a mistake.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, launcher: ScanLauncher | None = None) -> Flask:
    """Build the API. Raises ``RuntimeError`` on a configuration that must not serve requests."""
    settings = settings or Settings.from_env()
    secret = secret_from_env()
    if secret == DEMO_JWT_SECRET:
        log.warning("OPENSHIELD_DEMO=1 and no JWT_SECRET: using the public demo secret; never expose this API")
    if launcher is None:
        from supervisor.launcher import Launcher

        launcher = Launcher(settings)

    app = Flask("openshield")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order
    init_auth(app, secret)
    register_error_handlers(app)
    register_blueprints(
        app,
        Services(
            settings=settings,
            store=ScanStore(settings.database_url),
            launcher=launcher,
            known_rules=_rule_ids(),
            default_subscription=_default_subscription(),
        ),
    )
    app.register_blueprint(findings.bp)
    app.register_blueprint(posture.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(openapi.bp)
    openapi.load_spec()  # a broken docs/openapi.yaml fails at start-up, not on the first request
    return app


def _default_subscription() -> str | None:
    raw = os.environ.get("AZURE_SUBSCRIPTION_ID", "").strip()
    if not raw:
        return None
    if not is_uuid(raw):
        raise RuntimeError("AZURE_SUBSCRIPTION_ID must be a subscription UUID")
    return raw.lower()


def _rule_ids() -> frozenset[str]:
    # Imported here, once per app: the catalogue pulls in every rule module.
    from scanner.rules import all_rules

    return frozenset(rule.id for rule in all_rules())
