"""The HTTP API: the Flask app factory, auth, request validation, routes and the dashboard.

It knows nothing of processes (it asks ``supervisor.launcher`` to start a run) and keeps its
data in ``store``. ``api.views`` is Flask-free so the CLI can print the same objects.
"""
