"""The data layer every OpenShield process shares: settings, schema, sessions, and one module
per aggregate that owns its state transitions (``scans``, ``enrichment_runs``, ``findings``,
``supervisors``).

Imports flow one way (``cli → api → scanner → supervisor → store``): nothing here imports
Flask, the API, the scanner or the supervisor. This package's ``__init__`` imports nothing, so
a process that needs one small module (the monitor reads ``store.parsing``) pays for no more.
"""
