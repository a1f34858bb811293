"""``python -m tests.fakeazure``: run the HTTPS Azure emulator (see ``--help``)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading

from . import estate as E
from . import tenants as T
from . import tls
from .server import Faults, FakeAzureServer, TenantIndex
from .throttle import Limit


def _limit(value: str) -> Limit:
    try:
        return Limit.parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return n


def _non_negative_int(value: str) -> int:
    n = int(value)
    if n < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return n


def _non_negative_float(value: str) -> float:
    n = float(value)
    if n < 0:
        raise argparse.ArgumentTypeError("must be >= 0")
    return n


def _graph_collections(value: str) -> list[str]:
    known = {c.lower(): c for c in T.GRAPH_COLLECTIONS}
    out = []
    for name in (v.strip() for v in value.split(",")):
        if not name:
            continue
        if name.lower() not in known:
            raise argparse.ArgumentTypeError(
                f"unknown Graph collection {name!r} (known: {', '.join(T.GRAPH_COLLECTIONS)})")
        out.append(known[name.lower()])
    return out


def _subscription_reads(value: str) -> list[str]:
    known = {c.lower(): c for c in T.FORBIDDABLE_ARM_READS}
    out = []
    for name in (v.strip() for v in value.split(",")):
        if not name:
            continue
        if name.lower() not in known:
            raise argparse.ArgumentTypeError(
                f"unknown subscription read {name!r} (known: {', '.join(T.FORBIDDABLE_ARM_READS)})")
        out.append(known[name.lower()])
    return out


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m tests.fakeazure",
        description="HTTPS emulator of Entra ID tokens, Azure Resource Manager and Microsoft Graph "
                    "for OpenShield tests and benchmarks.")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = pick a free one)")
    p.add_argument("--tenant", default="demo", help="demo | large:N | path/to/tenant.json (default demo)")
    p.add_argument("--env-file", help="where to write KEY=VALUE settings once listening (required to serve)")
    p.add_argument("--latency-ms", type=_non_negative_float, default=0, help="sleep per request")
    p.add_argument("--throttle-every", type=_non_negative_int, default=0,
                   help="every K-th ARM/Graph request answers 429")
    p.add_argument("--retry-after", type=_non_negative_float, default=1, help="Retry-After seconds for 429s")
    p.add_argument("--fail-every", type=_non_negative_int, default=0,
                   help="every K-th ARM/Graph request answers 503")
    p.add_argument("--forbid-graph", type=_graph_collections, default=[],
                   help="comma-separated Graph collections answering 403")
    p.add_argument("--forbid-arm", type=_subscription_reads, default=[],
                   help="comma-separated subscription-scope reads answering 403 "
                        f"({', '.join(T.SUBSCRIPTION_READS)})")
    p.add_argument("--forbid-lists", default="",
                   help="comma-separated resource types whose per-type list answers 403 AuthorizationFailed")
    p.add_argument("--page-size", type=_positive, default=1000, help="ARM page size (default 1000)")
    p.add_argument("--graph-page-size", type=_positive, default=100,
                   help="default Graph $top (default 100, max 999)")
    p.add_argument("--graph-max-page-size", type=_positive, default=None,
                   help="cap every Graph page at N items even when $top asks for more (server-driven "
                        "paging, as Graph may do); default: honour $top")
    p.add_argument("--client-secret", default=T.DEFAULT_CLIENT_SECRET, help="the accepted client secret")
    p.add_argument("--any-subscription", action="store_true",
                   help="serve the tenant under any subscription id (for tests that scan many subscriptions)")
    p.add_argument("--subscriptions", type=_positive, default=1,
                   help="large:N only: spread the N resources over K subscriptions (default 1)")
    p.add_argument("--deny-subscription", action="append", default=[], metavar="ID",
                   help="the principal has no role on this subscription: absent from GET /subscriptions, "
                        "403 AuthorizationFailed on reads (repeatable)")
    p.add_argument("--subscription-page-size", type=_positive, default=E.SUBSCRIPTION_LIST_PAGE,
                   help=f"GET /subscriptions page size (default {E.SUBSCRIPTION_LIST_PAGE})")
    p.add_argument("--nvd-rate-limit", default="",
                   help="fake NVD: answer 403 beyond N requests per S seconds without an apiKey (N/S, e.g. 5/30)")
    p.add_argument("--nvd-keyed-rate-limit", default="", help="fake NVD: the same limit for requests with an apiKey")
    p.add_argument("--nvd-latency-ms", type=_non_negative_float, default=0, help="fake NVD: extra sleep per request")
    p.add_argument("--arm-throttle", type=_limit, default=None, metavar="BUCKET/REFILL",
                   help="ARM subscription reads: a token bucket of BUCKET per subscription and client id, "
                        "refilled at REFILL per second; 429 + Retry-After when empty (Azure: 250/25)")
    p.add_argument("--arg-throttle", type=_limit, default=None, metavar="QUERIES/SECONDS",
                   help="Resource Graph: QUERIES per SECONDS window per client id (Azure: 15/5)")
    p.add_argument("--dump-tenant", metavar="PATH", help="write the chosen tenant as JSON to PATH and exit")
    return p


def ca_path_for(env_file: str) -> str:
    """``dir/fakeazure.env`` -> ``dir/fakeazure-ca.pem`` (one CA file per env file)."""
    directory = os.path.dirname(os.path.abspath(env_file))
    stem = os.path.splitext(os.path.basename(env_file))[0] or "fakeazure"
    return os.path.join(directory, f"{stem}-ca.pem")


def write_atomic(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".fakeazure-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.graph_page_size > 999:
        parser.error("--graph-page-size must be at most 999")
    try:
        name, tenant = E.load(args.tenant, args.subscriptions)
    except (T.TenantError, E.EstateError, ValueError) as exc:
        print(f"fakeazure: {exc}", file=sys.stderr)
        return 2

    if args.dump_tenant:
        T.dump_tenant(tenant, args.dump_tenant)
        print(f"fakeazure: wrote tenant {name} ({len(tenant['resources'])} resources) to {args.dump_tenant}",
              flush=True)
        return 0
    if not args.env_file:
        parser.error("--env-file is required (unless --dump-tenant)")

    try:
        index = TenantIndex(tenant, name)
        E.other_subscriptions(tenant, name)
    except (T.TenantError, E.EstateError) as exc:
        print(f"fakeazure: {exc}", file=sys.stderr)
        return 2
    material = tls.generate()
    faults = Faults(latency_ms=args.latency_ms, throttle_every=args.throttle_every,
                    retry_after=args.retry_after, fail_every=args.fail_every, forbid_graph=args.forbid_graph,
                    forbid_arm=args.forbid_arm)
    try:
        faults.update({"forbid_lists": args.forbid_lists})
    except ValueError as exc:
        parser.error(str(exc))
    app = E.EstateApp(index, tenant, deny=tuple(args.deny_subscription), subscription_page=args.subscription_page_size,
                      client_secret=args.client_secret, faults=faults, page_size=args.page_size,
              graph_page_size=args.graph_page_size, graph_max_page_size=args.graph_max_page_size,
              any_subscription=args.any_subscription, arm_throttle=args.arm_throttle,
              arg_throttle=args.arg_throttle)
    try:
        app.nvd.faults.update({"rate_limit": args.nvd_rate_limit, "keyed_rate_limit": args.nvd_keyed_rate_limit,
                               "latency_ms": args.nvd_latency_ms})
    except ValueError as exc:
        parser.error(str(exc))
    server = FakeAzureServer(("127.0.0.1", args.port), app, material.server_context())
    base = f"https://127.0.0.1:{server.port}"
    app.base_url = base

    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              name="fakeazure-accept", daemon=True)
    thread.start()

    ca_file = ca_path_for(args.env_file)
    write_atomic(ca_file, material.ca_cert_pem)
    env = {
        "AZURE_TENANT_ID": index.tenant_id,
        "AZURE_CLIENT_ID": index.client_id,
        "AZURE_CLIENT_SECRET": args.client_secret,
        "AZURE_SUBSCRIPTION_ID": index.subscription_id,
        "AZURE_AUTHORITY_HOST": base,
        "AZURE_ARM_ENDPOINT": base,
        "AZURE_GRAPH_ENDPOINT": base,
        "REQUESTS_CA_BUNDLE": ca_file,
        "SSL_CERT_FILE": ca_file,
        "FAKEAZURE_URL": base,
        "NVD_API_URL": f"{base}/rest/json/cves/2.0",
    }
    write_atomic(args.env_file, "".join(f"{k}={v}\n" for k, v in env.items()).encode())
    print(f"fakeazure: {base} ca={ca_file} tenant={name} resources={len(tenant['resources'])} "
          f"subscriptions={1 + len(app.others)}", flush=True)

    try:
        while not stop.wait(0.5):
            if not thread.is_alive():
                print("fakeazure: accept loop died", file=sys.stderr, flush=True)
                return 1
    finally:
        server.shutdown()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
