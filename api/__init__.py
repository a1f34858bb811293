"""OpenShield API package.

Deliberately free of Flask imports: the scanner and the supervisor import ``api.models`` and
``api.settings`` and must not pay for the web stack.
"""
