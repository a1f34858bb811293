"""The WSGI entry point: ``gunicorn api.app:application``.

Building the app at import is what gunicorn needs, and it is also what makes a bad
configuration (no ``JWT_SECRET`` outside demo mode) stop the server at start-up with a clear
error instead of failing on the first request. Code that wants an app without that check at
import time uses :func:`api.factory.create_app`.
"""

from __future__ import annotations

from api.factory import create_app

__all__ = ["application", "create_app"]

application = create_app()
