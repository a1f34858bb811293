"""Benchmark: what authentication costs per request (not run by CI).

    .venv/bin/python -m tests.bench.bench_auth [--calls 20000] [--revoked 0,1000,10000]

In process, on one thread, with a SQLite database in a temporary directory and the emulator
(for Entra ID's keys). Measures:

(a) an HS256 service token: the first check (signature and claims, then remembered) and a
    repeated one (validity window + revocation lookup in the cached list), per call;
(b) reloading the revoked-token list (every ``OPENSHIELD_REVOCATION_CACHE_SECONDS`` per worker)
    with N revocations in the table;
(c) an Entra ID access token with the keys cached (RS256 signature + claims, every call: these
    are not remembered);
(d) an ``X-MS-CLIENT-PRINCIPAL`` header (App Service Authentication).

Each figure is printed with the 1-minute load average beside it (the machine is shared).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Callable

from api.auth.easyauth import principal_from_header
from api.auth.entra import EntraSettings, EntraVerifier, ssl_context_from_env
from api.auth.hs256 import _verify_signed, issue_token, verify_service_token
from api.auth.revocation import RevocationList
from store.migrate import upgrade
from store.revocations import active_ids, revoke
from tests.fakeazure.harness import start_emulator
from tests.fakeazure.oidc import DEFAULT_AUDIENCE

SECRET = "bench-secret-" + "0123456789abcdef" * 3


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def per_call(fn: Callable[[], object], calls: int) -> float:
    """Microseconds per call of ``fn`` (best of three rounds of ``calls``)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--revoked", default="0,1000,10000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        revocations = RevocationList(url, cache_seconds=3600)

        tokens = [issue_token(SECRET, "operator", subject=f"user-{i}") for i in range(args.calls)]
        started = time.perf_counter()
        for token in tokens:
            _verify_signed(SECRET, token)
        first = (time.perf_counter() - started) / len(tokens) * 1e6
        print(f"(a) HS256 first check (signature, claims):         {first:8.1f} us/call   [{load()}]")

        def repeated() -> None:
            revocations.check(verify_service_token(SECRET, tokens[0]))

        print(f"(a) HS256 repeated check (+ revocation lookup):    {per_call(repeated, args.calls):8.1f} us/call   [{load()}]")

        done = 0
        for target in (int(n) for n in args.revoked.split(",")):
            for i in range(done, target):
                revoke(url, f"jti-{i}")
            done = max(done, target)
            reload_ms = per_call(lambda: active_ids(url), 20) / 1000
            print(f"(b) reload revoked list, {target:6d} rows:              {reload_ms:8.2f} ms/reload  [{load()}]")

        with start_emulator(Path(tmp) / "emu", tenant="demo") as emu:
            os.environ["REQUESTS_CA_BUNDLE"] = emu.ca_file
            settings = EntraSettings(tenant_id=emu.env["AZURE_TENANT_ID"], audiences=(DEFAULT_AUDIENCE,),
                                     authority=emu.url)
            verifier = EntraVerifier(settings, ssl_context_from_env())
            token = emu.user_token(roles=["OpenShield.Operator"])
            verifier.principal(token)  # fetch metadata and keys once
            us = per_call(lambda: verifier.principal(token), max(1000, args.calls // 10))
            print(f"(c) Entra ID token, keys cached (RS256 + claims):  {us:8.1f} us/call   [{load()}]")

        document = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles",
                    "claims": [{"typ": "name", "val": "ada@contoso.example"}, {"typ": "roles", "val": "OpenShield.Reader"}]}
        header = base64.b64encode(json.dumps(document).encode()).decode()
        us = per_call(lambda: principal_from_header(header), args.calls)
        print(f"(d) X-MS-CLIENT-PRINCIPAL header:                  {us:8.1f} us/call   [{load()}]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
