"""fakeazure: an HTTPS emulator of Entra ID (tokens), Azure Resource Manager and Microsoft Graph.

Run it with ``python -m tests.fakeazure --port 0 --tenant demo --env-file PATH`` or, from tests,
``tests.fakeazure.harness.start_emulator(tmp_path)``. Tenants are plain data
(:mod:`tests.fakeazure.tenants`); the server is :mod:`tests.fakeazure.server`.
"""

from .harness import Emulator, read_env_file, start_emulator

__all__ = ["Emulator", "read_env_file", "start_emulator"]
