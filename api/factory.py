"""The Flask app factory: configuration is checked here, once, before the first request.

Kept apart from :mod:`api.app` (which builds the WSGI object at import) so that tests and tools
can import ``create_app`` without needing a production configuration. Anything slow or fallible
(the secret, the default subscription, the rule catalogue) is settled at start-up so that
request paths do no imports and no catalogue work.
"""

from __future__ import annotations

import logging

from flask import Flask

from api.auth import DEMO_JWT_SECRET, Authenticator, init_auth, secret_from_env
from api.auth.config import AuthConfig
from api.auth.entra import EntraVerifier
from api.auth.revocation import RevocationList
from api.catalogue import Catalogue
from api.errors import register_error_handlers
from api.routes import RunLauncher, Services, openapi, register_blueprints
from store.parsing import default_subscription
from store.scans import ScanStore
from store.settings import Settings

log = logging.getLogger("openshield.api")

# Trigger bodies are a subscription id and a list of rule ids; anything bigger is a mistake.
MAX_BODY_BYTES = 64 * 1024


def create_app(settings: Settings | None = None, launcher: RunLauncher | None = None) -> Flask:
    """Build the API. Raises ``RuntimeError`` on a configuration that must not serve requests."""
    settings = settings or Settings.from_env()
    secret = secret_from_env()
    auth_config = AuthConfig.from_env()
    if secret == DEMO_JWT_SECRET:
        log.warning("OPENSHIELD_DEMO=1 and no JWT_SECRET: using the public demo secret; never expose this API")
    if launcher is None:
        from supervisor.launcher import Launcher

        launcher = Launcher(settings)

    app = Flask("openshield")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented field order
    revocations = RevocationList(
        settings.database_url,
        cache_seconds=auth_config.revocation_cache_seconds,
        not_before=auth_config.tokens_not_before,
    )
    entra = EntraVerifier(auth_config.entra) if auth_config.entra is not None else None
    init_auth(app, Authenticator(secret, revocations, entra=entra, easy_auth=auth_config.easy_auth))
    register_error_handlers(app)
    try:
        subscription = default_subscription()
    except ValueError as exc:
        raise RuntimeError(str(exc)) from None
    register_blueprints(
        app,
        Services(
            settings=settings,
            store=ScanStore(settings.database_url),
            launcher=launcher,
            catalogue=Catalogue.load(),
            default_subscription=subscription,
        ),
    )
    openapi.load_spec()  # a broken OpenAPI document fails at start-up, not on the first request
    return app
