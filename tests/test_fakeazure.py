"""Tests of the HTTPS Azure emulator (tests/fakeazure): routes, faults, tenants, real SDKs."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) puts only tests/ on sys.path
    sys.path.insert(0, str(ROOT))

from tests.fakeazure import tenants as T  # noqa: E402
from tests.fakeazure.harness import read_env_file, start_emulator, wait_until  # noqa: E402
from tests.fakeazure.server import TenantIndex  # noqa: E402

PAGE = 20
GRAPH_PAGE = 4


class Client:
    """requests with the emulator's CA (per call: REQUESTS_CA_BUNDLE in the env would win over Session.verify)."""

    def __init__(self, emu: Any) -> None:
        self.emu = emu
        self.base = emu.url
        self.env = emu.env
        self.session = requests.Session()
        self._token: str | None = None

    def request(self, method: str, path: str, *, token: bool = True, **kw: Any) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers.setdefault("Authorization", f"Bearer {self.token()}")
        url = path if path.startswith("https://") else self.base + path
        return self.session.request(method, url, headers=headers, verify=self.emu.ca_file, timeout=10, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def token_response(self, secret: str | None = None, client_id: str | None = None,
                       tenant: str | None = None) -> requests.Response:
        data = {
            "grant_type": "client_credentials",
            "client_id": client_id or self.env["AZURE_CLIENT_ID"],
            "client_secret": self.env["AZURE_CLIENT_SECRET"] if secret is None else secret,
            "scope": f"{self.base}/.default",
        }
        return self.request("POST", f"/{tenant or self.env['AZURE_TENANT_ID']}/oauth2/v2.0/token",
                            token=False, data=data)

    def token(self) -> str:
        if self._token is None:
            resp = self.token_response()
            assert resp.status_code == 200, resp.text
            self._token = resp.json()["access_token"]
        return self._token

    @property
    def sub(self) -> str:
        return f"/subscriptions/{self.env['AZURE_SUBSCRIPTION_ID']}"


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory):
    with start_emulator(tmp_path_factory.mktemp("fakeazure"), "demo", page_size=PAGE,
                        graph_page_size=GRAPH_PAGE) as emulator:
        yield emulator


@pytest.fixture
def client(emu):
    emu.set_faults(latency_ms=0, throttle_every=0, fail_every=0, retry_after=1, forbid_graph=[], forbid_arm=[])
    emu.reset_stats()
    yield Client(emu)
    emu.set_faults(latency_ms=0, throttle_every=0, fail_every=0, retry_after=1, forbid_graph=[], forbid_arm=[])


def _follow(client: Client, path: str, link_key: str = "nextLink") -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    url: str | None = path
    while url:
        resp = client.get(url)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        items += body["value"]
        pages += 1
        url = body.get(link_key)
        assert pages < 1000
    return items, pages


# ------------------------------------------------------------------------------------------------
# start-up, env file, tokens
# ------------------------------------------------------------------------------------------------


def test_env_file_and_banner(emu):
    env = read_env_file(emu.env_file)
    base = env["FAKEAZURE_URL"]
    assert base.startswith("https://127.0.0.1:") and int(base.rsplit(":", 1)[1]) > 0
    for key in ("AZURE_AUTHORITY_HOST", "AZURE_ARM_ENDPOINT", "AZURE_GRAPH_ENDPOINT"):
        assert env[key] == base
    assert env["AZURE_TENANT_ID"] == T.TENANT_ID
    assert env["AZURE_SUBSCRIPTION_ID"] == T.SUBSCRIPTION_ID
    assert env["AZURE_CLIENT_ID"] == T.CLIENT_ID
    assert env["AZURE_CLIENT_SECRET"] == T.DEFAULT_CLIENT_SECRET
    assert env["REQUESTS_CA_BUNDLE"] == env["SSL_CERT_FILE"] == str(emu.env_file.parent / "fakeazure-ca.pem")
    assert Path(env["SSL_CERT_FILE"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    log = wait_until(lambda: emu.log().strip(), timeout=5)
    assert f"fakeazure: {base} ca={env['SSL_CERT_FILE']} tenant=demo resources=" in log
    # the server certificate is valid for localhost too
    resp = requests.get(base.replace("127.0.0.1", "localhost") + "/_admin/health", verify=emu.ca_file, timeout=5)
    assert resp.json() == {"status": "ok"}


def test_openid_configuration_points_back(client):
    resp = client.get(f"/{T.TENANT_ID}/v2.0/.well-known/openid-configuration", token=False)
    assert resp.status_code == 200
    doc = resp.json()
    assert doc["token_endpoint"] == f"{client.base}/{T.TENANT_ID}/oauth2/v2.0/token"
    assert doc["issuer"] == f"{client.base}/{T.TENANT_ID}/v2.0"
    for key in ("authorization_endpoint", "jwks_uri"):
        assert doc[key].startswith(client.base)
    [key] = client.get(doc["jwks_uri"], token=False).json()["keys"]  # the tenant's one signing key
    assert {k: key[k] for k in ("kty", "use", "e")} == {"kty": "RSA", "use": "sig", "e": "AQAB"}
    assert key["kid"] and key["n"]
    bad = client.get("/no-such-tenant/v2.0/.well-known/openid-configuration", token=False)
    assert bad.status_code == 400 and "AADSTS90002" in bad.json()["error_description"]


def test_token_success_shape(client):
    resp = client.token_response()
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3599 and body["ext_expires_in"] == 3599
    assert len(body["access_token"]) > 20
    assert client.token_response().json()["access_token"] != body["access_token"]


def test_token_errors(client, emu):
    wrong = client.token_response(secret="not-the-secret")
    assert wrong.status_code == 401
    body = wrong.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert body["error_codes"] == [7000215]
    assert {"timestamp", "trace_id", "correlation_id"} <= set(body)

    unknown_client = client.token_response(client_id="00000000-0000-0000-0000-0000000000aa")
    assert unknown_client.status_code == 400
    assert unknown_client.json()["error"] == "unauthorized_client"
    assert unknown_client.json()["error_codes"] == [700016]

    unknown_tenant = client.token_response(tenant="11111111-2222-3333-4444-555555555555")
    assert unknown_tenant.status_code == 400
    assert unknown_tenant.json()["error"] == "invalid_request"
    assert unknown_tenant.json()["error_description"].startswith("AADSTS90002")

    # the secret never reaches the emulator's output
    assert T.DEFAULT_CLIENT_SECRET not in emu.log()
    assert "not-the-secret" not in emu.log()


def test_no_or_bad_token_is_401(client):
    arm = client.get(f"{client.sub}/resources?api-version=2021-04-01", token=False)
    assert arm.status_code == 401
    assert arm.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "Bearer" in arm.headers["WWW-Authenticate"]
    graph = client.get("/v1.0/users", token=False)
    assert graph.status_code == 401
    assert graph.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert "innerError" in graph.json()["error"]
    forged = client.get("/v1.0/users", headers={"Authorization": "Bearer not-issued-here"})
    assert forged.status_code == 401


# ------------------------------------------------------------------------------------------------
# ARM
# ------------------------------------------------------------------------------------------------


def test_missing_api_version_is_400(client):
    resp = client.get(f"{client.sub}/resources")
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == "MissingApiVersionParameter"
    rid = f"{client.sub}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stsecure01"
    assert client.get(rid).status_code == 400
    wrong_version = client.get(f"{rid}?api-version=2099-01-01")
    assert wrong_version.status_code == 400
    assert wrong_version.json()["error"]["code"] == "NoRegisteredProviderFound"


def test_unknown_resource_is_404(client):
    rg = f"{client.sub}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts"
    missing = client.get(f"{rg}/stdoesnotexist?api-version=2023-05-01")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "ResourceNotFound"
    # a missing child of an existing resource is a 404 too (planted: no blobServices)
    child = client.get(f"{rg}/stblobsvcmissing01/blobServices/default?api-version=2023-05-01")
    assert child.status_code == 404 and child.json()["error"]["code"] == "ResourceNotFound"
    # ids are case-insensitive
    upper = client.get(f"{rg}/STSECURE01?api-version=2023-05-01".replace("rg-data", "RG-DATA"))
    assert upper.status_code == 200 and upper.json()["name"] == "stsecure01"
    other_sub = client.get("/subscriptions/00000000-0000-0000-0000-000000000000/resources?api-version=2021-04-01")
    assert other_sub.status_code == 404 and other_sub.json()["error"]["code"] == "SubscriptionNotFound"


def test_resource_list_pages(client, emu):
    items, pages = _follow(client, f"{client.sub}/resources?api-version=2021-04-01")
    n = emu.tenant_summary()["resources"]
    assert len(items) == n and pages == -(-n // PAGE) and pages >= 3
    assert len({i["id"].lower() for i in items}) == n
    assert all("properties" not in i for i in items)
    assert all({"id", "name", "type", "location"} <= set(i) for i in items)
    first = client.get(f"{client.sub}/resources?api-version=2021-04-01").json()
    link = urlsplit(first["nextLink"])
    assert first["nextLink"].startswith(client.base + client.sub + "/resources?")
    assert "$skiptoken" in parse_qs(link.query) and parse_qs(link.query)["api-version"] == ["2021-04-01"]
    # $top overrides the page size
    top_items, top_pages = _follow(client, f"{client.sub}/resources?api-version=2021-04-01&$top=7")
    assert len(top_items) == n and top_pages == -(-n // 7)
    # a resourceType filter
    nsgs, _ = _follow(client, f"{client.sub}/resources?api-version=2021-04-01"
                              "&$filter=resourceType eq 'Microsoft.Network/networkSecurityGroups'")
    assert nsgs and all(i["type"] == "Microsoft.Network/networkSecurityGroups" for i in nsgs)


def test_resource_and_child_gets(client):
    sql = f"{client.sub}/resourceGroups/rg-data/providers/Microsoft.Sql/servers"
    full = client.get(f"{sql}/sql-fw-azureonly-audit-off?api-version=2021-11-01").json()
    assert full["properties"]["fullyQualifiedDomainName"].endswith(".database.windows.net")
    audit = client.get(f"{sql}/sql-fw-azureonly-audit-off/auditingSettings/default?api-version=2021-11-01").json()
    assert audit["properties"]["state"] == "Disabled"
    # a long child collection is paged with nextLink like the list
    rules, pages = _follow(client, f"{sql}/sql-fw-manyrules-allowall/firewallRules?api-version=2021-11-01")
    assert pages == 2 and len(rules) == 31
    assert rules[-1]["properties"] == {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"}
    site = f"{client.sub}/resourceGroups/rg-prod/providers/Microsoft.Web/sites/app-tls10-ftp-allowed"
    web = client.get(f"{site}/config/web?api-version=2023-12-01").json()
    assert web["properties"]["minTlsVersion"] == "1.0" and web["properties"]["ftpsState"] == "AllAllowed"


def test_backup_protected_items_honour_the_management_type_filter(client):
    rsv = f"{client.sub}/resourceGroups/rg-prod/providers/Microsoft.RecoveryServices/vaults/rsv-unprotected-01"
    everything = client.get(f"{rsv}/backupProtectedItems?api-version=2024-04-01").json()["value"]
    assert {i["properties"]["backupManagementType"] for i in everything} == {"AzureIaasVM", "AzureStorage"}
    vms = client.get(f"{rsv}/backupProtectedItems?api-version=2024-04-01"
                     "&$filter=backupManagementType%20eq%20%27AzureIaasVM%27").json()["value"]
    assert vms and {i["properties"]["backupManagementType"] for i in vms} == {"AzureIaasVM"}
    refused = client.get(f"{rsv}/backupProtectedItems?api-version=2024-04-01&$filter=policyName%20eq%20%27x%27")
    assert refused.status_code == 400
    # a vault protecting nothing answers an empty list, as Azure does; a server's Defender policy is served
    assert client.get(f"{rsv.replace('rsv-unprotected-01', 'rsv-locked-01')}/backupProtectedItems"
                      "?api-version=2024-04-01&$filter=backupManagementType eq 'AzureIaasVM'").status_code == 200
    sql = f"{client.sub}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-fw-none-audit-on"
    policy = client.get(f"{sql}/securityAlertPolicies/Default?api-version=2021-11-01").json()
    assert policy["properties"]["state"] in ("Enabled", "Disabled")


def test_extension_resources_are_versioned_by_their_own_provider(client):
    vault = f"{client.sub}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-secure-01"
    path = f"{vault}/providers/Microsoft.Insights/diagnosticSettings"
    settings = client.get(f"{path}?api-version=2021-05-01-preview")
    assert settings.status_code == 200, settings.text
    assert [s["name"] for s in settings.json()["value"]] == ["auditevent-to-law"]
    # the vault's own api-version is not one Microsoft.Insights knows
    wrong = client.get(f"{path}?api-version=2023-07-01")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "NoRegisteredProviderFound"
    assert "diagnosticSettings" in wrong.json()["error"]["message"]
    watcher = f"{client.sub}/resourceGroups/rg-prod/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westeurope"
    flow_logs = client.get(f"{watcher}/flowLogs?api-version=2024-05-01").json()["value"]
    assert len(flow_logs) == 4 and all(f["properties"]["targetResourceId"] for f in flow_logs)


def test_subscription_scope_reads(client, emu):
    diag = f"{client.sub}/providers/Microsoft.Insights/diagnosticSettings"
    names = [d["name"] for d in client.get(f"{diag}?api-version=2021-05-01-preview").json()["value"]]
    assert names == ["activity-log-to-nowhere", "activity-log-all-disabled", "activity-log-archive"]
    pricings = f"{client.sub}/providers/Microsoft.Security/pricings"
    plans = client.get(f"{pricings}?api-version=2024-01-01").json()["value"]
    assert {p["name"]: p["properties"]["pricingTier"] for p in plans}["VirtualMachines"] == "Standard"
    one = client.get(f"{pricings}/CosmosDbs?api-version=2024-01-01")
    assert one.status_code == 200 and one.json()["properties"]["pricingTier"] == "Free"
    assert client.get(f"{pricings}?api-version=2023-07-01").status_code == 400
    assert client.get(f"{pricings}").json()["error"]["code"] == "MissingApiVersionParameter"
    other = "/subscriptions/00000000-0000-4000-8000-000000000000/providers/Microsoft.Security/pricings"
    assert client.get(f"{other}?api-version=2024-01-01").status_code == 404
    routes = emu.stats()["by_route"]
    assert routes["arm.subscription.pricings"] == 5 and routes["arm.subscription.diagnosticSettings"] == 1
    # 403 on demand, like a Reader-less identity; the other read is unaffected
    assert emu.set_faults(forbid_arm=["pricings"])["forbid_arm"] == ["pricings"]
    denied = client.get(f"{pricings}?api-version=2024-01-01")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "AuthorizationFailed"
    assert "Microsoft.Security/pricings/read" in denied.json()["error"]["message"]
    assert client.get(f"{diag}?api-version=2021-05-01-preview").status_code == 200
    resp = requests.post(f"{emu.url}/_admin/faults", json={"forbid_arm": ["nope"]}, verify=emu.ca_file, timeout=5)
    assert resp.status_code == 400 and "known: diagnosticSettings, pricings" in resp.text


def test_subscription_read_absent_from_tenant_is_an_empty_collection(tmp_path):
    from tests.fakeazure.server import App

    tenant = {"resources": [], "children": {}}
    app = App(TenantIndex(tenant, "bare"))
    status, _, _, _ = app.handle("GET", "/subscriptions/x/providers/Microsoft.Security/pricings?api-version=2024-01-01",
                                 {}, b"")
    assert status == 401  # routes still need a token
    app.tokens.add("t")
    status, _, _, body = app.handle(
        "GET", f"/subscriptions/{T.SUBSCRIPTION_ID}/providers/Microsoft.Security/pricings?api-version=2024-01-01",
        {"authorization": "Bearer t"}, b"")
    assert (status, json.loads(body)) == (200, {"value": []})


def test_providers_and_roles(client):
    prov = client.get(f"{client.sub}/providers/Microsoft.Storage?api-version=2021-04-01").json()
    assert prov["namespace"] == "Microsoft.Storage" and prov["registrationState"] == "Registered"
    sa = next(t for t in prov["resourceTypes"] if t["resourceType"] == "storageAccounts")
    assert "2023-05-01" in sa["apiVersions"] and sa["locations"]
    everything = client.get(f"{client.sub}/providers?api-version=2021-04-01").json()["value"]
    assert {"Microsoft.Network", "Microsoft.Web", "Microsoft.Sql"} <= {p["namespace"] for p in everything}
    assert client.get(f"{client.sub}/providers/Microsoft.Nope?api-version=2021-04-01").status_code == 404

    auth = f"{client.sub}/providers/Microsoft.Authorization"
    assignments = client.get(f"{auth}/roleAssignments?api-version=2022-04-01").json()["value"]
    definitions = client.get(f"{auth}/roleDefinitions?api-version=2022-04-01").json()["value"]
    # + the resource-group UAA (AZ-IAM-022), frank.disabled's Reader (AZ-IAM-025), two VM login roles (AZ-IAM-027)
    assert len(assignments) == 16 and len(definitions) == 6
    assert {d["properties"]["type"] for d in definitions} == {"BuiltInRole", "CustomRole"}


# ------------------------------------------------------------------------------------------------
# Graph
# ------------------------------------------------------------------------------------------------


def test_graph_paging(client):
    users, pages = _follow(client, "/v1.0/users?$select=id,displayName,userPrincipalName,userType",
                           "@odata.nextLink")
    assert len(users) == 12 and pages == 3
    first = client.get("/v1.0/users").json()
    assert first["@odata.context"].endswith("/v1.0/$metadata#users")
    assert first["@odata.nextLink"].startswith(client.base + "/v1.0/users?")
    assert "$skiptoken" in first["@odata.nextLink"]
    # percent-encoded query keys are understood
    encoded = client.get("/v1.0/users?%24top=5").json()
    assert len(encoded["value"]) == 5
    details, _ = _follow(client, "/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999",
                         "@odata.nextLink")
    assert len(details) == 12 and {d["isMfaRegistered"] for d in details} == {True, False}
    assert client.get("/v1.0/users?$top=1000").status_code == 400
    unknown = client.get("/v1.0/nothingHere")
    assert unknown.status_code == 404 and "innerError" in unknown.json()["error"]


def test_applications_expand_owners(client):
    plain = client.get("/v1.0/applications?$top=50").json()["value"]
    assert plain and all("owners" not in a for a in plain)
    first = client.get("/v1.0/applications?$expand=owners($select=id,displayName)&$top=3").json()
    assert first["@odata.context"].endswith("/v1.0/$metadata#applications(owners())")
    assert "owners" in parse_qs(urlsplit(first["@odata.nextLink"]).query)["$expand"][0]
    expanded = client.get("/v1.0/applications?$expand=owners&$top=50").json()["value"]
    owners = {a["displayName"]: a["owners"] for a in expanded}
    assert owners["app-without-owners"] == []
    assert owners["app-old-secret"][0]["@odata.type"] == "#microsoft.graph.user"


def test_directory_roles_expand_members(client):
    plain = client.get("/v1.0/directoryRoles?$top=50").json()["value"]
    assert plain and all("members" not in r for r in plain)
    expanded = client.get("/v1.0/directoryRoles?$expand=members&$top=50").json()["value"]
    ga = next(r for r in expanded if r["roleTemplateId"] == T.ROLE_TEMPLATES["Global Administrator"])
    assert any("#EXT#" in m["userPrincipalName"] for m in ga["members"])
    assert all(m["@odata.type"] == "#microsoft.graph.user" for m in ga["members"])


# ------------------------------------------------------------------------------------------------
# faults and stats
# ------------------------------------------------------------------------------------------------


def test_throttle_every_kth_request(client, emu):
    emu.set_faults(throttle_every=3, retry_after=2)
    statuses = []
    for i in range(9):
        path = f"{client.sub}/resources?api-version=2021-04-01" if i % 2 else "/v1.0/users"
        resp = client.get(path)
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert resp.headers["Retry-After"] == "2"
            assert resp.json()["error"]["code"] == "TooManyRequests"
    assert statuses == [200, 200, 429] * 3
    stats = emu.stats()
    assert stats["by_status"]["429"] == 3
    # token requests are not throttled
    assert all(client.token_response().status_code == 200 for _ in range(4))


def test_fail_every_kth_request(client, emu):
    emu.set_faults(fail_every=2)
    statuses = [client.get("/v1.0/applications").status_code for _ in range(6)]
    assert statuses == [200, 503] * 3
    assert emu.stats()["by_status"]["503"] == 3


def test_forbidden_graph_collection(client, emu):
    emu.set_faults(forbid_graph=["users", "userRegistrationDetails"])
    denied = client.get("/v1.0/users")
    assert denied.status_code == 403
    err = denied.json()["error"]
    assert err["code"] == "Authorization_RequestDenied"
    assert err["message"] == "Insufficient privileges to complete the operation."
    assert "innerError" in err
    assert client.get("/v1.0/reports/authenticationMethods/userRegistrationDetails").status_code == 403
    assert client.get("/v1.0/applications").status_code == 200
    assert emu.faults()["forbid_graph"] == ["userRegistrationDetails", "users"]


def test_latency_injection(client, emu):
    emu.set_faults(latency_ms=150)
    started = time.perf_counter()
    assert client.get("/v1.0/servicePrincipals").status_code == 200
    assert time.perf_counter() - started >= 0.15
    emu.set_faults(latency_ms=5000)
    started = time.perf_counter()
    emu.stats()  # admin routes get no latency: far less than the 5 s every other route waits
    assert time.perf_counter() - started < 5.0
    emu.set_faults(latency_ms=150)


def test_stats_counting(client, emu):
    client.token()  # one token request
    rid = f"{client.sub}/resourceGroups/rg-data/providers/Microsoft.KeyVault/vaults/kv-secure-01"
    client.get(f"{rid}?api-version=2023-07-01")
    client.get(f"{rid}?api-version=2023-07-01")
    client.get(f"{client.sub}/resources?api-version=2021-04-01")
    sql = f"{client.sub}/resourceGroups/rg-data/providers/Microsoft.Sql/servers/sql-fw-none-audit-on"
    client.get(f"{sql}/firewallRules?api-version=2021-11-01")
    client.get(f"{client.sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01")
    client.get(f"{client.sub}/providers/Microsoft.Authorization/roleDefinitions?api-version=2022-04-01")
    client.get(f"{client.sub}/providers/Microsoft.Web?api-version=2021-04-01")
    client.get("/v1.0/users")
    client.get("/v1.0/users", token=False)
    client.get(f"{rid}")  # 400
    emu.stats()
    emu.tenant_summary()
    stats = emu.stats()
    assert stats["total"] == 11
    routes = stats["by_route"]
    assert routes["token"] == 1
    assert routes["arm.resource.get"] == 3
    assert routes["arm.resources.list"] == 1
    assert routes["arm.child.get"] == 1
    assert routes["arm.roleAssignments"] == 1 and routes["arm.roleDefinitions"] == 1
    assert routes["arm.providers"] == 1
    assert routes["graph.users"] == 2
    assert stats["by_group"] == {"token": 1, "arm": 8, "graph": 2}
    assert stats["by_status"] == {"200": 9, "401": 1, "400": 1}
    emu.reset_stats()
    assert emu.stats()["total"] == 0


def test_admin_rejects_bad_faults(emu):
    resp = requests.post(f"{emu.url}/_admin/faults", json={"throttle_every": -1}, verify=emu.ca_file, timeout=5)
    assert resp.status_code == 400
    resp = requests.post(f"{emu.url}/_admin/faults", json={"forbid_graph": ["nope"]}, verify=emu.ca_file, timeout=5)
    assert resp.status_code == 400


# ------------------------------------------------------------------------------------------------
# real SDKs
# ------------------------------------------------------------------------------------------------


def _sdk_env(monkeypatch: pytest.MonkeyPatch, emu: Any) -> None:
    for key, value in emu.env.items():
        monkeypatch.setenv(key, value)


def test_real_sdks_identity_and_arm(client, emu, monkeypatch):
    _sdk_env(monkeypatch, emu)
    from azure.core.rest import HttpRequest
    from azure.identity import ClientSecretCredential
    from azure.mgmt.resource.resources import ResourceManagementClient

    base = emu.url
    cred = ClientSecretCredential(emu.env["AZURE_TENANT_ID"], emu.env["AZURE_CLIENT_ID"],
                                  emu.env["AZURE_CLIENT_SECRET"], authority=base, disable_instance_discovery=True)
    token = cred.get_token(f"{base}/.default")
    assert token.token and token.expires_on > time.time() + 3000

    arm = ResourceManagementClient(cred, emu.env["AZURE_SUBSCRIPTION_ID"], base_url=base,
                                   credential_scopes=[f"{base}/.default"])
    emu.reset_stats()
    resources = list(arm.resources.list())
    n = emu.tenant_summary()["resources"]
    assert len(resources) == n
    assert emu.stats()["by_route"]["arm.resources.list"] == -(-n // PAGE) >= 3

    storage = next(r for r in resources if r.name == "stpublicblob01")
    resp = arm.send_request(HttpRequest("GET", f"{base}{storage.id}?api-version=2023-05-01"))
    assert resp.status_code == 200 and resp.json()["properties"]["allowBlobPublicAccess"] is True

    # azure-core honours 429 + Retry-After and retries: the listing still completes
    emu.set_faults(throttle_every=2, retry_after=0)
    assert len(list(arm.resources.list())) == n
    assert emu.stats()["by_status"]["429"] >= 2

    bad = ClientSecretCredential(emu.env["AZURE_TENANT_ID"], emu.env["AZURE_CLIENT_ID"], "wrong-secret",
                                 authority=base, disable_instance_discovery=True)
    from azure.core.exceptions import ClientAuthenticationError

    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        bad.get_token(f"{base}/.default")


def test_real_msgraph_sdk_paging(client, emu, monkeypatch):
    _sdk_env(monkeypatch, emu)
    from azure.identity import ClientSecretCredential
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient

    base = emu.url
    cred = ClientSecretCredential(emu.env["AZURE_TENANT_ID"], emu.env["AZURE_CLIENT_ID"],
                                  emu.env["AZURE_CLIENT_SECRET"], authority=base, disable_instance_discovery=True)

    async def collect() -> tuple[list[Any], int]:
        auth = AzureIdentityAuthenticationProvider(cred, scopes=[f"{base}/.default"], allowed_hosts=["127.0.0.1"])
        adapter = GraphRequestAdapter(auth)
        adapter.base_url = f"{base}/v1.0"
        graph = GraphServiceClient(request_adapter=adapter)
        page = await graph.users.get()
        users, pages = list(page.value), 1
        while page.odata_next_link:
            page = await graph.users.with_url(page.odata_next_link).get()
            users += page.value
            pages += 1
        return users, pages

    users, pages = asyncio.run(collect())
    assert len(users) == 12 and pages == 3
    assert any(u.user_type == "Guest" and "#EXT#" in u.user_principal_name for u in users)


# ------------------------------------------------------------------------------------------------
# tenants
# ------------------------------------------------------------------------------------------------

_ANY_SOURCE = {"*", "0.0.0.0/0", "internet", "any", "::/0"}
_DB_PORTS = (1433, 1434, 3306, 5432, 27017, 6379, 9042, 5984, 1521)


def _port_spec_covers(spec: str, port: int) -> bool:
    spec = spec.strip()
    if spec == "*":
        return True
    if "-" in spec:
        lo, hi = spec.split("-")
        return int(lo) <= port <= int(hi)
    return spec.isdigit() and int(spec) == port


def _first_applying(nsg: dict[str, Any], applies: Any) -> bool:
    """Reference evaluation from rules-spec.md: the first applying inbound rule decides."""
    rules = [r["properties"] for r in nsg["properties"]["securityRules"]
             if r["properties"]["direction"] == "Inbound"]
    for p in sorted(rules, key=lambda p: p["priority"]):
        sources = [p.get("sourceAddressPrefix") or ""] + list(p.get("sourceAddressPrefixes") or [])
        if not any(s.lower() in _ANY_SOURCE for s in sources):
            continue
        ports = [p.get("destinationPortRange") or ""] + list(p.get("destinationPortRanges") or [])
        if applies(p, [x for x in ports if x]):
            return p["access"] == "Allow"
    return False


def _tcp_open(nsg: dict[str, Any], port: int) -> bool:
    return _first_applying(nsg, lambda p, ports: p["protocol"] in ("Tcp", "*")
                           and any(_port_spec_covers(s, port) for s in ports))


def _any_any(nsg: dict[str, Any]) -> bool:
    return _first_applying(nsg, lambda p, ports: p["protocol"] == "*" and any(s in ("*", "0-65535") for s in ports))


def _violations(tenant: dict[str, Any], now: datetime) -> dict[str, set[str]]:
    """Names violating each rule, evaluated the way rules-spec.md describes."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for r in tenant["resources"]:
        by_type.setdefault(r["type"].lower(), []).append(r)

    def of(t: str) -> list[dict[str, Any]]:
        return by_type.get(t.lower(), [])

    def child(r: dict[str, Any], path: str) -> Any:
        return tenant["children"].get(f"{r['id']}/{path}")

    out: dict[str, set[str]] = {}
    sa = of("Microsoft.Storage/storageAccounts")
    out["AZ-STOR-001"] = {r["name"] for r in sa if r["properties"].get("allowBlobPublicAccess", True) is not False}
    out["AZ-STOR-002"] = {r["name"] for r in sa if r["properties"].get("supportsHttpsTrafficOnly", True) is False}
    out["AZ-STOR-003"] = {r["name"] for r in sa if r["properties"].get("minimumTlsVersion", "TLS1_0") in ("TLS1_0", "TLS1_1")}
    out["AZ-STOR-004"] = {r["name"] for r in sa
                          if r["properties"].get("networkAcls", {}).get("defaultAction", "Allow") == "Allow"}
    out["AZ-STOR-005"] = {r["name"] for r in sa if child(r, "blobServices/default") is not None
                          and not all(child(r, "blobServices/default")["properties"][k]["enabled"] is True
                                      for k in ("deleteRetentionPolicy", "containerDeleteRetentionPolicy"))}
    out["AZ-STOR-006"] = {r["name"] for r in sa if r["properties"].get("allowSharedKeyAccess", True) is not False}
    out["AZ-STOR-007"] = {r["name"] for r in sa
                          if (child(r, "blobServices/default") or {}).get("properties", {}).get("isVersioningEnabled") is not True}
    out["AZ-STOR-008"] = {r["name"] for r in sa
                          if r["properties"]["encryption"].get("requireInfrastructureEncryption") is not True}
    out["AZ-STOR-009"] = {r["name"] for r in sa if not r["sku"]["name"].endswith(("GRS", "GZRS"))}
    out["AZ-STOR-010"] = {r["name"] for r in sa if r["properties"].get("allowCrossTenantReplication") is True}
    out["AZ-STOR-011"] = {r["name"] for r in sa if not any(
        c["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
        for c in r["properties"]["privateEndpointConnections"])}
    stale = now - timedelta(days=90)
    out["AZ-STOR-012"] = {r["name"] for r in sa if r["properties"].get("allowSharedKeyAccess", True) is not False
                          and any(datetime.fromisoformat(t.replace("Z", "+00:00")) < stale
                                  for t in r["properties"]["keyCreationTime"].values())}
    out["AZ-STOR-013"] = {r["name"] for r in sa if "keyPolicy" not in r["properties"]}
    out["AZ-STOR-014"] = {r["name"] for r in sa if "sasPolicy" not in r["properties"]}
    out["AZ-STOR-015"] = {r["name"] for r in sa
                          if "AzureServices" not in r["properties"].get("networkAcls", {}).get("bypass", "AzureServices")}
    out["AZ-STOR-016"] = {r["name"] for r in sa if r["properties"]["encryption"]["keySource"] != "Microsoft.Keyvault"}
    nsgs = of("Microsoft.Network/networkSecurityGroups")
    out["AZ-NET-001"] = {n["name"] for n in nsgs if _tcp_open(n, 22)}
    out["AZ-NET-002"] = {n["name"] for n in nsgs if _tcp_open(n, 3389)}
    out["AZ-NET-003"] = {n["name"] for n in nsgs if any(_tcp_open(n, p) for p in _DB_PORTS)}
    out["AZ-NET-004"] = {n["name"] for n in nsgs if _any_any(n)}
    out["AZ-CMP-001"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines")
                         if "linuxConfiguration" in v["properties"]["osProfile"]
                         and v["properties"]["osProfile"]["linuxConfiguration"].get("disablePasswordAuthentication") is not True}
    out["AZ-CMP-002"] = {d["name"] for d in of("Microsoft.Compute/disks")
                         if d["properties"].get("encryption", {}).get("type", "EncryptionAtRestWithPlatformKey")
                         == "EncryptionAtRestWithPlatformKey"
                         and d["properties"].get("encryptionSettingsCollection", {}).get("enabled") is not True}
    out["AZ-CMP-007"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines")
                         if v["properties"]["securityProfile"].get("securityType") != "TrustedLaunch"}
    out["AZ-CMP-008"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines")
                         if v["properties"]["securityProfile"]["encryptionAtHost"] is not True}
    out["AZ-CMP-003"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines")
                         if "managedDisk" not in v["properties"]["storageProfile"]["osDisk"]}
    protection = {"MDE.Linux", "MDE.Windows", "IaaSAntimalware"}
    out["AZ-CMP-004"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines")
                         if child(v, "extensions") is not None and not any(
                             e["properties"]["type"] in protection
                             or e["properties"]["publisher"] == "Microsoft.Azure.AzureDefenderForServers"
                             for e in child(v, "extensions"))}
    out["AZ-CMP-005"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines")
                         if v["properties"]["osProfile"].get("linuxConfiguration", v["properties"]["osProfile"].get(
                             "windowsConfiguration"))["patchSettings"]["patchMode"]
                         not in ("AutomaticByPlatform", "AutomaticByOS")}
    vnets = of("Microsoft.Network/virtualNetworks")
    exempt = {"GatewaySubnet", "AzureFirewallSubnet", "AzureFirewallManagementSubnet", "AzureBastionSubnet",
              "RouteServerSubnet"}
    out["AZ-NET-005"] = {n["name"] for n in vnets if any(
        s["name"] not in exempt and "networkSecurityGroup" not in s["properties"] for s in n["properties"]["subnets"])}
    out["AZ-NET-006"] = {p["name"] for p in of("Microsoft.Network/publicIPAddresses")
                         if "ipConfiguration" not in p["properties"] and "natGateway" not in p["properties"]}
    out["AZ-NET-007"] = {g["name"] for g in of("Microsoft.Network/applicationGateways")
                         if g["properties"].get("webApplicationFirewallConfiguration", {}).get("enabled") is False
                         or (g["properties"]["sku"]["tier"] not in ("WAF", "WAF_v2")
                             and "firewallPolicy" not in g["properties"])}
    out["AZ-NET-008"] = {n["name"] for n in vnets if n["properties"].get("enableDdosProtection") is not True}
    kv = of("Microsoft.KeyVault/vaults")
    out["AZ-KV-001"] = {v["name"] for v in kv if v["properties"].get("enableSoftDelete") is False}
    out["AZ-KV-009"] = {v["name"] for v in kv if any(
        k["properties"]["attributes"]["enabled"] and not any(
            a["action"]["type"] == "rotate" for a in k["properties"]["rotationPolicy"]["lifetimeActions"])
        for k in child(v, "keys"))}
    out["AZ-KV-010"] = {v["name"] for v in kv if not v["properties"].get("privateEndpointConnections")}
    out["AZ-KV-011"] = {v["name"] for v in kv if v["properties"].get("publicNetworkAccess") != "Disabled"}
    out["AZ-KV-002"] = {v["name"] for v in kv if v["properties"].get("enablePurgeProtection") is not True}
    out["AZ-KV-003"] = {v["name"] for v in kv if v["properties"].get("enableRbacAuthorization") is not True}
    out["AZ-KV-004"] = {v["name"] for v in kv if v["properties"].get("publicNetworkAccess", "Enabled") != "Disabled"
                        and not v["properties"].get("privateEndpointConnections")
                        and v["properties"].get("networkAcls", {}).get("defaultAction", "Allow") != "Deny"}
    out["AZ-KV-006"] = {v["name"] for v in kv if any(
        k["properties"]["attributes"]["enabled"] and "exp" not in k["properties"]["attributes"]
        for k in child(v, "keys") or [])}
    out["AZ-KV-007"] = {v["name"] for v in kv if any(
        k["properties"]["attributes"]["enabled"] and "exp" in k["properties"]["attributes"]
        and datetime.fromtimestamp(k["properties"]["attributes"]["exp"], timezone.utc) <= now + timedelta(days=30)
        for k in child(v, "keys") or [])}
    sql = of("Microsoft.Sql/servers")
    out["AZ-SQL-001"] = {s["name"] for s in sql if any(
        fw["properties"] == {"startIpAddress": "0.0.0.0", "endIpAddress": "255.255.255.255"}
        for fw in child(s, "firewallRules") or [])}
    out["AZ-SQL-002"] = {s["name"] for s in sql
                         if child(s, "auditingSettings/default")["properties"]["state"] != "Enabled"}
    out["AZ-SQL-003"] = {s["name"] for s in sql
                         if s["properties"].get("administrators", {}).get("administratorType") != "ActiveDirectory"}
    out["AZ-SQL-004"] = {s["name"] for s in sql if s["properties"]["publicNetworkAccess"] != "Disabled" and any(
        fw["properties"] == {"startIpAddress": "0.0.0.0", "endIpAddress": "0.0.0.0"}
        for fw in child(s, "firewallRules") or [])}
    out["AZ-SQL-005"] = {s["name"] for s in sql if child(s, "auditingSettings/default")["properties"]["state"] == "Enabled"
                         and 0 < child(s, "auditingSettings/default")["properties"]["retentionDays"] < 90}
    out["AZ-SQL-007"] = {d["name"] for d in of("Microsoft.Sql/servers/databases")
                         if child(d, "transparentDataEncryption/current")["properties"]["state"] == "Disabled"}
    out["AZ-KV-008"] = {v["name"] for v in kv if any(
        s["properties"]["attributes"]["enabled"] and "exp" not in s["properties"]["attributes"]
        for s in child(v, "secrets") or [])}
    nics = {n["id"]: n for n in of("Microsoft.Network/networkInterfaces")}
    subnet_nsg = {sn["id"]: sn["properties"].get("networkSecurityGroup") for v in of("Microsoft.Network/virtualNetworks")
                  for sn in v["properties"]["subnets"]}
    out["AZ-CMP-006"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines") if any(
        "publicIPAddress" in c["properties"] and "networkSecurityGroup" not in nics[r["id"]]["properties"]
        and not subnet_nsg.get(c["properties"]["subnet"]["id"], True)
        for r in v["properties"]["networkProfile"]["networkInterfaces"] if r["id"] in nics
        for c in nics[r["id"]]["properties"]["ipConfigurations"])}
    out["AZ-SQL-006"] = {s["name"] for s in sql if s["properties"]["publicNetworkAccess"] == "Enabled"}
    out["AZ-SQL-008"] = {s["name"] for s in sql if s["properties"].get("minimalTlsVersion", "None") in ("1.0", "1.1", "None")}
    out["AZ-SQL-009"] = {s["name"] for s in sql
                         if s["properties"].get("administrators", {}).get("azureADOnlyAuthentication") is not True}
    pgs = of("Microsoft.DBforPostgreSQL/flexibleServers")
    out["AZ-PG-003"] = {p["name"] for p in pgs if int(p["properties"]["version"]) <= 13}
    out["AZ-PG-004"] = {p["name"] for p in pgs if p["properties"]["network"]["publicNetworkAccess"] == "Enabled"
                        and any(fw["properties"]["startIpAddress"] == "0.0.0.0"
                                and fw["properties"]["endIpAddress"] in ("0.0.0.0", "255.255.255.255")
                                for fw in child(p, "firewallRules"))}
    out["AZ-AKS-007"] = {c["name"] for c in of("Microsoft.ContainerService/managedClusters")
                         if c["properties"]["currentKubernetesVersion"].startswith("1.2")}
    out["AZ-MYSQL-003"] = {m["name"] for m in of("Microsoft.DBforMySQL/flexibleServers")
                           if m["properties"]["version"].startswith("5.")}
    out["AZ-APP-006"] = {s["name"] for s in of("Microsoft.Web/sites")
                         if child(s, "config/web")["properties"]["linuxFxVersion"] in ("PYTHON|3.8", "NODE|14-lts")}
    # UDP from any source on any port, not shadowed (the demo has no UDP Deny rules)
    out["AZ-NET-011"] = {n["name"] for n in of("Microsoft.Network/networkSecurityGroups")
                         if _first_applying(n, lambda p, ports: p["protocol"] in ("Udp", "*") and ports)}
    out["AZ-PG-002"] = {p["name"] for p in of("Microsoft.DBforPostgreSQL/flexibleServers")
                        if (child(p, "configurations/require_secure_transport") or {}).get("properties", {}).get("value") == "off"}
    aks = of("Microsoft.ContainerService/managedClusters")
    out["AZ-AKS-001"] = {c["name"] for c in aks if not c["properties"]["apiServerAccessProfile"]["enablePrivateCluster"]
                         and not c["properties"]["apiServerAccessProfile"].get("authorizedIPRanges")}
    out["AZ-AKS-002"] = {c["name"] for c in aks if c["properties"]["disableLocalAccounts"] is not True}
    out["AZ-AKS-003"] = {c["name"] for c in aks if c["properties"].get("enableRBAC") is False}
    out["AZ-AKS-004"] = {c["name"] for c in aks if c["properties"]["networkProfile"].get("networkPolicy", "none") == "none"}
    out["AZ-AKS-005"] = {c["name"] for c in aks if not c["properties"]["addonProfiles"]["azurepolicy"]["enabled"]}
    out["AZ-AKS-006"] = {c["name"] for c in aks
                         if c["properties"].get("autoUpgradeProfile", {}).get("upgradeChannel", "none") == "none"}
    acr = of("Microsoft.ContainerRegistry/registries")
    out["AZ-ACR-001"] = {r["name"] for r in acr if r["properties"].get("adminUserEnabled") is True}
    out["AZ-ACR-002"] = {r["name"] for r in acr if r["properties"].get("anonymousPullEnabled") is True}
    out["AZ-ACR-003"] = {r["name"] for r in acr if r["properties"].get("publicNetworkAccess", "Enabled") != "Disabled"
                         and r["properties"].get("networkRuleSet", {}).get("defaultAction", "Allow") != "Deny"}
    mysql = of("Microsoft.DBforMySQL/flexibleServers")
    out["AZ-MYSQL-001"] = {m["name"] for m in mysql if m["properties"]["network"]["publicNetworkAccess"] == "Enabled"}
    out["AZ-MYSQL-002"] = {m["name"] for m in mysql if (child(m, "configurations/require_secure_transport") or {})
                           .get("properties", {}).get("value") == "OFF"}
    out["AZ-PG-001"] = {p["name"] for p in of("Microsoft.DBforPostgreSQL/flexibleServers")
                        if p["properties"]["network"]["publicNetworkAccess"] == "Enabled"}
    sites = of("Microsoft.Web/sites")
    out["AZ-APP-001"] = {s["name"] for s in sites if s["properties"].get("httpsOnly") is not True}
    out["AZ-APP-002"] = {s["name"] for s in sites if "minTlsVersion" in child(s, "config/web")["properties"]
                         and float(child(s, "config/web")["properties"]["minTlsVersion"]) < 1.2}
    out["AZ-APP-003"] = {s["name"] for s in sites if child(s, "config/web")["properties"].get("ftpsState") == "AllAllowed"}
    out["AZ-APP-004"] = {s["name"] for s in sites if child(s, "config/web")["properties"].get("remoteDebuggingEnabled") is True}
    out["AZ-APP-005"] = {s["name"] for s in sites if s.get("identity", {}).get("type", "None") == "None"}
    out["AZ-APP-007"] = {s["name"] for s in sites if not s["properties"]["clientCertEnabled"]
                         or s["properties"]["clientCertMode"] != "Required"}
    out["AZ-APP-008"] = {s["name"] for s in sites if child(s, "config/web")["properties"]["http20Enabled"] is not True}
    out["AZ-APP-009"] = {s["name"] for s in sites if child(s, "config/authsettingsV2") is not None
                         and child(s, "config/authsettingsV2")["properties"]["platform"]["enabled"] is not True}
    graph = tenant["graph"]
    disabled = {u["id"] for u in graph["users"] if u["accountEnabled"] is False}
    out["AZ-IAM-001"] = {d["userPrincipalName"].split("@")[0].split("_")[0]
                         for d in graph["userRegistrationDetails"] if d["isMfaRegistered"] is False
                         and d["id"] not in disabled}
    guests = {u["id"] for u in graph["users"] if u["userType"] == "Guest" or "#EXT#" in u["userPrincipalName"]}
    privileged = {"Global Administrator", "Privileged Role Administrator", "Security Administrator",
                  "User Administrator", "Application Administrator"}
    out["AZ-IAM-002"] = {r["displayName"] for r in graph["directoryRoles"]
                         if r["displayName"] in privileged and any(m["id"] in guests for m in r["members"])}
    out["AZ-IAM-003"] = {a["displayName"] for a in graph["applications"] if any(
        datetime.strptime(c["startDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        < now - timedelta(days=90) for c in a["passwordCredentials"])}
    sps = {sp["id"]: sp["displayName"] for sp in graph["servicePrincipals"]}
    owner = f"/subscriptions/{tenant['subscriptionId']}/providers/Microsoft.Authorization/roleDefinitions/{T.OWNER}"
    out["AZ-IAM-004"] = {sps[a["properties"]["principalId"]] for a in tenant["roleAssignments"]
                         if a["properties"]["principalType"] == "ServicePrincipal"
                         and a["properties"]["roleDefinitionId"].lower() == owner.lower()
                         and a["properties"]["scope"].lower() == f"/subscriptions/{tenant['subscriptionId']}".lower()}
    out["AZ-IAM-005"] = {u["displayName"] for u in graph["users"] if u["userType"] == "Guest"
                         and u.get("externalUserState") == "PendingAcceptance"}

    def ends(c: dict[str, Any]) -> datetime:
        return datetime.strptime(c["endDateTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)

    out["AZ-IAM-006"] = {a["displayName"] for a in graph["applications"] if any(
        ends(c) <= now + timedelta(days=30) for c in a["passwordCredentials"] + a["keyCredentials"])}
    out["AZ-IAM-007"] = {a["displayName"] for a in graph["applications"] if not a["owners"]}
    out["AZ-IAM-008"] = {a["displayName"] for a in graph["applications"] if any(
        (u.startswith("http://") and not u.startswith("http://localhost")) or "*" in u or "//bit.ly/" in u
        for u in a["web"]["redirectUris"])}
    out["AZ-IAM-009"] = {a["displayName"] for a in graph["applications"]
                         if a["web"]["implicitGrantSettings"]["enableAccessTokenIssuance"]}
    out["AZ-IAM-010"] = {d["properties"]["roleName"] for d in tenant["roleDefinitions"]
                         if d["properties"]["type"] == "CustomRole"
                         and any("*" in p["actions"] for p in d["properties"]["permissions"])}
    managed = {sp["id"]: sp["displayName"] for sp in graph["servicePrincipals"]
               if sp["servicePrincipalType"] == "ManagedIdentity"}
    broad = {f"/subscriptions/{tenant['subscriptionId']}/providers/Microsoft.Authorization/roleDefinitions/{r}".lower()
             for r in (T.OWNER, T.CONTRIBUTOR)}
    # monitoring: subscription-level rules name the subscription (MON-001/002) or the operations
    # no alert covers (MON-003..005); regions for NET-009, plans for MON-006
    sub_children = f"/subscriptions/{tenant['subscriptionId']}/providers"
    dest_keys = ("workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId")
    exporting = [d for d in tenant["children"].get(f"{sub_children}/Microsoft.Insights/diagnosticSettings", [])
                 if any(d["properties"].get(k) for k in dest_keys)]
    if not any(log["enabled"] for d in exporting for log in d["properties"]["logs"]):
        out["AZ-MON-001"] = {tenant["subscriptionId"]}
    captured = {log["category"] for d in exporting for log in d["properties"]["logs"] if log["enabled"]}
    if not {"Administrative", "Security", "Policy", "Alert"} <= captured:
        out["AZ-MON-002"] = {tenant["subscriptionId"]}
    alerts = [a["properties"] for a in of("Microsoft.Insights/activityLogAlerts")]

    def alerted(op: str) -> bool:
        for a in alerts:
            if not a["enabled"] or a["scopes"] != [f"/subscriptions/{tenant['subscriptionId']}"]:
                continue
            ops = set()
            for c in a["condition"]["allOf"]:
                ops |= {c["equals"]} if c.get("field") == "operationName" else set()
                ops |= {x["equals"] for x in c.get("anyOf", [])}
            if op in ops:
                return True
        return False

    for rule_id, kind in (("AZ-MON-003", "Microsoft.Authorization/policyAssignments"),
                          ("AZ-MON-004", "Microsoft.Network/networkSecurityGroups"),
                          ("AZ-MON-005", "Microsoft.Security/securitySolutions"),
                          ("AZ-MON-007", "Microsoft.Sql/servers/firewallRules"),
                          ("AZ-MON-008", "Microsoft.Network/publicIPAddresses")):
        out[rule_id] = {f"{kind}/{verb}" for verb in ("write", "delete") if not alerted(f"{kind}/{verb}")}
    plans = {"VirtualMachines", "AppServices", "SqlServers", "SqlServerVirtualMachines",
             "OpenSourceRelationalDatabases", "StorageAccounts", "Containers", "CosmosDbs", "KeyVaults", "Arm",
             "Dns", "Api", "CloudPosture"}
    health = [a for a in of("Microsoft.Insights/activityLogAlerts") if a["properties"]["enabled"]
              and a["properties"]["scopes"] == [f"/subscriptions/{tenant['subscriptionId']}"]
              and {"field": "category", "equals": "ServiceHealth"} in a["properties"]["condition"]["allOf"]]
    out["AZ-MON-009"] = set() if health else {tenant["subscriptionId"]}
    security = f"/subscriptions/{tenant['subscriptionId']}/providers/Microsoft.Security"
    contacts = [c["properties"] for c in tenant["children"].get(f"{security}/securityContacts", [])]
    settings = {s["name"]: s["properties"]["enabled"] for s in tenant["children"].get(f"{security}/settings", [])}
    failing = {
        "AZ-DEF-001": not any(c["emails"] for c in contacts),
        "AZ-DEF-002": not any(c["phone"] for c in contacts),
        "AZ-DEF-003": not any(c["isEnabled"] and any(n["sourceType"] == "Alert" for n in c["notificationsSources"])
                              for c in contacts),
        "AZ-DEF-011": not any(c["isEnabled"] and any(n["sourceType"] == "AttackPath" for n in c["notificationsSources"])
                              for c in contacts),
        "AZ-DEF-004": not any(c["notificationsByRole"]["state"] == "On" and "Owner" in c["notificationsByRole"]["roles"]
                              for c in contacts),
        "AZ-DEF-005": not any(s["properties"]["autoProvision"] == "On"
                              for s in tenant["children"].get(f"{security}/autoProvisioningSettings", [])),
        "AZ-DEF-006": settings.get("MCAS") is not True,
        "AZ-DEF-007": settings.get("WDATP") is not True,
    }
    servers = next((p["properties"] for p in tenant["children"].get(f"{security}/pricings", [])
                    if p["name"] == "VirtualMachines"), {})
    components = {e["name"]: e["isEnabled"] == "True" for e in servers.get("extensions", [])}
    for rule_id, component in (("AZ-DEF-009", "AgentlessVmScanning"), ("AZ-DEF-010", "FileIntegrityMonitoring")):
        failing[rule_id] = servers.get("pricingTier") != "Standard" or not components.get(component)
    failing["AZ-DEF-012"] = servers.get("pricingTier") != "Standard" or not any(
        s["properties"].get("selectedProvider")
        for s in tenant["children"].get(f"{security}/serverVulnerabilityAssessmentsSettings", []))
    out.update({rule_id: {tenant["subscriptionId"]} if bad else set() for rule_id, bad in failing.items()})
    out["AZ-MON-006"] = {p["name"] for p in tenant["children"].get(f"{sub_children}/Microsoft.Security/pricings", [])
                         if p["name"] in plans and p["properties"]["pricingTier"] != "Standard"}
    out["AZ-KV-005"] = {v["name"] for v in kv if not any(
        any(d["properties"].get(k) for k in dest_keys) and any(
            log["enabled"] and (log.get("category") == "AuditEvent" or log.get("categoryGroup") in ("audit", "allLogs"))
            for log in d["properties"]["logs"])
        for d in child(v, "providers/Microsoft.Insights/diagnosticSettings"))}
    watched = {w["location"] for w in of("Microsoft.Network/networkWatchers")}
    out["AZ-NET-009"] = {r["location"] for r in tenant["resources"]
                         if r["location"].lower() != "global" and r["location"] not in watched}
    flow_logs = {f["properties"]["targetResourceId"].lower(): f["properties"]
                 for w in of("Microsoft.Network/networkWatchers") for f in child(w, "flowLogs")}

    def flow_ok(f: dict[str, Any] | None) -> bool:
        if not f or not f["enabled"]:
            return False
        retention = f["retentionPolicy"]
        return not retention["enabled"] or retention["days"] == 0 or retention["days"] >= 90

    nic_subnet = {n["id"].lower(): n["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"].lower()
                  for n in of("Microsoft.Network/networkInterfaces")}

    def vnet_flow_ok(scopes: list[str]) -> bool:
        # the most specific scope holding a VNet flow log decides
        decided = next((flow_logs[s] for s in scopes if s in flow_logs), None)
        return flow_ok(decided)

    def covered(n: dict[str, Any]) -> bool:
        if flow_ok(flow_logs.get(n["id"].lower())):
            return True
        scopes = [[s["id"].lower(), s["id"].lower().rsplit("/subnets/", 1)[0]] for s in n["properties"].get("subnets", [])]
        for ref in n["properties"].get("networkInterfaces", []):
            subnet = nic_subnet[ref["id"].lower()]
            scopes.append([ref["id"].lower(), subnet, subnet.rsplit("/subnets/", 1)[0]])
        return bool(scopes) and all(vnet_flow_ok(s) for s in scopes)

    out["AZ-NET-010"] = {n["name"] for n in nsgs if not covered(n)}
    backed_up = {i["properties"]["sourceResourceId"].lower(): i["properties"]["protectionState"]
                 for v in of("Microsoft.RecoveryServices/vaults") for i in child(v, "backupProtectedItems") or []}
    out["AZ-CMP-009"] = {v["name"] for v in of("Microsoft.Compute/virtualMachines")
                         if backed_up.get(v["id"].lower()) not in ("Protected", "IRPending")}
    sql_plan_on = any(p["name"] == "SqlServers" and p["properties"]["pricingTier"] == "Standard"
                      for p in tenant["children"].get(f"{sub_children}/Microsoft.Security/pricings", []))
    out["AZ-SQL-015"] = set() if sql_plan_on else {
        s["name"] for s in of("Microsoft.Sql/servers")
        if (child(s, "securityAlertPolicies/Default") or {}).get("properties", {}).get("state") != "Enabled"}
    out["AZ-SQL-010"] = {s["name"] for s in of("Microsoft.Sql/servers")
                         if child(s, "sqlVulnerabilityAssessments/default")["properties"]["state"] != "Enabled"
                         and not child(s, "vulnerabilityAssessments/default")["properties"].get("storageContainerPath")}
    def exports(r: dict[str, Any], categories: set[str], groups: set[str]) -> bool:
        return any(any(d["properties"].get(k) for k in dest_keys) and any(
            log["enabled"] and (log.get("category") in categories or log.get("categoryGroup") in groups)
            for log in d["properties"]["logs"]) for d in child(r, "providers/Microsoft.Insights/diagnosticSettings") or [])

    out["AZ-AKS-008"] = {c["name"] for c in of("Microsoft.ContainerService/managedClusters")
                         if not exports(c, {"kube-audit", "kube-audit-admin"}, {"audit", "allLogs"})}
    out["AZ-NET-014"] = {g["name"] for g in of("Microsoft.Network/applicationGateways")
                         if not exports(g, {"ApplicationGatewayAccessLog"}, {"allLogs"})}
    out["AZ-APP-010"] = {s["name"] for s in of("Microsoft.Web/sites")
                         if "functionapp" not in s["kind"] and not exports(s, {"AppServiceHTTPLogs"}, {"allLogs"})}
    def params(server: dict[str, Any]) -> dict[str, str]:
        return {c["name"]: c["properties"]["value"] for c in child(server, "configurations")}

    flex_pg = of("Microsoft.DBforPostgreSQL/flexibleServers")
    for rule_id, name in (("AZ-PG-005", "log_checkpoints"), ("AZ-PG-006", "log_connections"),
                          ("AZ-PG-007", "log_disconnections"), ("AZ-PG-008", "connection_throttle.enable")):
        out[rule_id] = {p["name"] for p in flex_pg if params(p)[name] != "on"}
    out["AZ-PG-009"] = {p["name"] for p in flex_pg if int(params(p)["logfiles.retention_days"]) <= 3}
    flex_mysql = of("Microsoft.DBforMySQL/flexibleServers")
    out["AZ-MYSQL-004"] = {m["name"] for m in flex_mysql if "TLSv1," in params(m)["tls_version"] + ","
                           or "TLSv1.1" in params(m)["tls_version"]}
    out["AZ-MYSQL-005"] = {m["name"] for m in flex_mysql if params(m)["audit_log_enabled"] != "ON"}
    out["AZ-MYSQL-006"] = {m["name"] for m in flex_mysql if params(m)["audit_log_enabled"] != "ON"
                           or "CONNECTION" not in params(m)["audit_log_events"].split(",")}
    cosmos = of("Microsoft.DocumentDB/databaseAccounts")
    out["AZ-COSMOS-001"] = {c["name"] for c in cosmos if c["properties"]["publicNetworkAccess"] == "Enabled"
                            and not c["properties"]["isVirtualNetworkFilterEnabled"]
                            and not [r for r in c["properties"]["ipRules"] if r["ipAddressOrRange"] != "0.0.0.0"]}
    out["AZ-COSMOS-002"] = {c["name"] for c in cosmos if not c["properties"]["privateEndpointConnections"]}
    out["AZ-COSMOS-003"] = {c["name"] for c in cosmos if c["properties"]["disableLocalAuth"] is not True}
    out["AZ-COSMOS-004"] = {c["name"] for c in cosmos if "keyVaultKeyUri" not in c["properties"]}
    out["AZ-COSMOS-005"] = {c["name"] for c in cosmos if c["properties"]["backupPolicy"]["type"] != "Continuous"}
    authz = graph["authorizationPolicy"][0]
    perms = authz["defaultUserRolePermissions"]
    policy_failures = {
        "AZ-IAM-013": any(p.startswith("ManagePermissionGrantsForSelf.") for p in perms["permissionGrantPoliciesAssigned"]),
        "AZ-IAM-014": perms["allowedToCreateApps"],
        "AZ-IAM-015": perms["allowedToCreateSecurityGroups"],
        "AZ-IAM-016": perms["allowedToCreateTenants"],
        "AZ-IAM-017": authz["allowInvitesFrom"] not in ("none", "adminsAndGuestInviters"),
        "AZ-IAM-018": authz["guestUserRoleId"] == "a0b1b346-4d3e-4e8b-98f8-753987be4970",
    }
    out.update({k: {"Authorization policy"} if bad else set() for k, bad in policy_failures.items()})
    mfa_policies = [p for p in graph["conditionalAccessPolicies"]
                    if p["state"] == "enabled" and "mfa" in p["grantControls"]["builtInControls"]]
    defaults_on = graph["securityDefaults"][0]["isEnabled"]
    out["AZ-IAM-019"] = set() if defaults_on or any(
        "62e90394-69f5-4237-9190-012177145e10" in p["conditions"]["users"]["includeRoles"] for p in mfa_policies) \
        else {"Conditional Access / security defaults"}
    out["AZ-IAM-020"] = set() if defaults_on or any(
        "All" in p["conditions"]["users"]["includeUsers"] for p in mfa_policies) \
        else {"Conditional Access / security defaults"}
    global_admins = [len(r["members"]) for r in graph["directoryRoles"]
                     if r.get("roleTemplateId") == "62e90394-69f5-4237-9190-012177145e10"]
    out["AZ-IAM-021"] = {"Global Administrator"} if not 2 <= sum(global_admins) <= 4 else set()
    out["AZ-IAM-022"] = {a["properties"]["principalId"] for a in tenant["roleAssignments"]
                         if a["properties"]["roleDefinitionId"].endswith(T.USER_ACCESS_ADMIN)
                         and a["properties"]["scope"].lower() in ("/", f"/subscriptions/{tenant['subscriptionId']}".lower())}
    out["AZ-IAM-012"] = {managed[a["properties"]["principalId"]] for a in tenant["roleAssignments"]
                         if a["properties"]["principalId"] in managed
                         and a["properties"]["roleDefinitionId"].lower() in broad
                         and a["properties"]["scope"].lower() == f"/subscriptions/{tenant['subscriptionId']}".lower()}
    sub_scope = f"/subscriptions/{tenant['subscriptionId']}".lower()
    owners = {a["properties"]["principalId"] for a in tenant["roleAssignments"]
              if a["properties"]["roleDefinitionId"].lower().endswith(T.OWNER.lower())
              and (a["properties"]["scope"].lower() == sub_scope
                   or a["properties"]["scope"].lower().startswith("/providers/microsoft.management/"))}
    out["AZ-IAM-011"] = {tenant["subscriptionId"]} if not 2 <= len(owners) <= 3 else set()
    return out


def test_demo_tenant_plants_every_rule():
    now = datetime.now(timezone.utc)
    tenant = T.demo_tenant(now)
    assert 50 <= len(tenant["resources"]) <= 175  # grows by two resources per new resource type (violating + compliant)
    types = {r["type"] for r in tenant["resources"]}
    assert {"Microsoft.Network/virtualNetworks", "Microsoft.Network/publicIPAddresses",
            "Microsoft.Network/networkInterfaces"} <= types
    assert 2 <= len({r["id"].split("/")[4] for r in tenant["resources"]}) <= 3

    expected = {
        "AZ-STOR-001": {"stpublicblob01", "stpublicunset01"},
        "AZ-STOR-002": {"sthttpallowed01"},
        "AZ-STOR-003": {"sttls10legacy01", "sttls11legacy01", "sttlsunset01"},
        "AZ-STOR-004": {"stnetopen01", "stnetaclunset01"},
        "AZ-STOR-005": {"stnosoftdelete01", "stnocontainersd01"},
        "AZ-STOR-006": {"stsharedkeyon01", "stsharedkeyunset01"},
        # the account without a blobServices child reads as unset (versioning off)
        "AZ-STOR-007": {"stnoversioning01", "stblobsvcmissing01"},
        "AZ-STOR-008": {"stnoinfraenc01", "stinfraencunset01"},
        "AZ-STOR-009": {"stlrsonly01", "stzrsonly01"},
        "AZ-STOR-010": {"stlrsonly01"},
        "AZ-STOR-011": {n for n, _ in T.STORAGE_CASES} - {"stsecure01", "stsecure02"},
        "AZ-STOR-012": {"stsharedkeyon01", "stsharedkeyunset01"},
        "AZ-STOR-013": {"stzrsonly01"},
        "AZ-STOR-014": {"stzrsonly01"},
        "AZ-STOR-015": {"sttls11legacy01"},
        "AZ-STOR-016": {n for n, _ in T.STORAGE_CASES} - {"stsecure01", "stsecure02"},
        "AZ-NET-001": {"nsg-ssh-open-star", "nsg-ssh-open-cidr-any", "nsg-ssh-open-internet",
                       "nsg-ssh-open-any-tag", "nsg-ssh-open-ipv6-any", "nsg-ssh-open-source-list",
                       "nsg-ssh-open-range", "nsg-ssh-open-port-list", "nsg-all-tcp-ports-open",
                       "nsg-ssh-open-private-deny-skipped", "nsg-any-any-allow", "nsg-any-any-full-range"},
        "AZ-NET-002": {"nsg-rdp-open", "nsg-all-tcp-ports-open", "nsg-any-any-allow", "nsg-any-any-full-range"},
        "AZ-NET-003": {"nsg-db-open-mssql-postgres", "nsg-db-open-mysql-range", "nsg-all-tcp-ports-open",
                       "nsg-any-any-allow", "nsg-any-any-full-range"},
        "AZ-NET-004": {"nsg-any-any-allow", "nsg-any-any-full-range"},
        "AZ-CMP-001": {"vm-linux-password-auth", "vm-linux-password-unset"},
        "AZ-CMP-002": {"disk-platform-key-01", "disk-encryption-unset-01"},
        "AZ-CMP-003": {"vm-unmanaged-vhd-01"},
        "AZ-CMP-007": {"vm-linux-password-auth"},
        "AZ-CMP-008": {"vm-linux-password-auth"},
        "AZ-CMP-004": {"vm-linux-password-auth", "vm-unmanaged-vhd-01"},
        "AZ-CMP-005": {"vm-linux-password-auth", "vm-linux-password-unset", "vm-unmanaged-vhd-01"},
        "AZ-NET-005": {"vnet-prod"},
        "AZ-NET-006": {"pip-orphaned-01"},
        "AZ-NET-007": {"appgw-standard-01"},
        "AZ-NET-008": {"vnet-prod"},
        "AZ-KV-001": {"kv-nosoftdelete-01"},
        "AZ-KV-002": {"kv-nosoftdelete-01", "kv-nopurgeprot-01", "kv-purgeprot-false-01"},
        "AZ-SQL-001": {"sql-fw-allowall-audit-on", "sql-fw-manyrules-allowall"},
        "AZ-SQL-002": {"sql-fw-azureonly-audit-off"},
        "AZ-KV-003": {"kv-accesspolicies-01", "kv-rbac-unset-01"},
        "AZ-KV-009": {"kv-accesspolicies-01"},
        **{f"AZ-PG-00{n}": {"psql-public-access-01"} for n in range(5, 9)},
        "AZ-PG-009": {"psql-public-access-01", "psql-tls-not-required-01"},
        "AZ-MYSQL-004": {"mysql-public-tls-off-01"},
        "AZ-MYSQL-005": {"mysql-public-tls-off-01"},
        "AZ-MYSQL-006": {"mysql-public-tls-off-01", "mysql-tls-unreported-01"},
        "AZ-COSMOS-001": {"cosmos-open-01", "cosmos-azure-dc-only-01"},
        "AZ-COSMOS-002": {"cosmos-open-01", "cosmos-firewalled-01", "cosmos-azure-dc-only-01"},
        "AZ-COSMOS-003": {"cosmos-open-01", "cosmos-azure-dc-only-01"},
        "AZ-COSMOS-004": {"cosmos-open-01", "cosmos-firewalled-01", "cosmos-azure-dc-only-01"},
        "AZ-COSMOS-005": {"cosmos-open-01", "cosmos-azure-dc-only-01"},
        "AZ-KV-010": {n for n, _ in T.VAULT_CASES} - {"kv-private-endpoint-01"},
        "AZ-KV-011": {n for n, _ in T.VAULT_CASES} - {"kv-private-endpoint-01"},
        "AZ-KV-004": {"kv-public-open-01", "kv-network-unset-01"},
        "AZ-KV-006": {"kv-accesspolicies-01"},
        "AZ-KV-007": {"kv-rbac-unset-01"},
        "AZ-SQL-003": {"sql-no-entra-admin-retention-30d"},
        "AZ-SQL-004": {"sql-fw-azureonly-audit-off"},
        "AZ-SQL-005": {"sql-no-entra-admin-retention-30d"},
        "AZ-SQL-006": {"sql-fw-allowall-audit-on", "sql-fw-azureonly-audit-off", "sql-fw-manyrules-allowall",
                       "sql-fw-none-audit-on", "sql-no-entra-admin-retention-30d"},
        "AZ-SQL-008": {"sql-fw-azureonly-audit-off", "sql-fw-none-audit-on"},
        "AZ-SQL-009": {"sql-fw-allowall-audit-on", "sql-fw-azureonly-audit-off", "sql-fw-manyrules-allowall",
                       "sql-no-entra-admin-retention-30d", "sql-private-retention-unlimited"},
        "AZ-PG-001": {"psql-public-access-01", "psql-public-narrow-fw-01"},
        "AZ-PG-003": {"psql-public-access-01"},
        "AZ-PG-004": {"psql-public-access-01"},
        "AZ-AKS-007": {"aks-insecure-01"},
        "AZ-SQL-007": {"reportsdb"},
        "AZ-KV-008": {"kv-public-open-01"},
        "AZ-CMP-006": {"vm-linux-password-auth"},
        "AZ-MYSQL-003": {"mysql-public-tls-off-01"},
        "AZ-APP-006": {"app-python38-01", "app-node14-01"},
        "AZ-NET-011": {"nsg-ssh-open-any-tag", "nsg-ssh-udp-only", "nsg-any-any-allow", "nsg-any-any-full-range"},
        "AZ-IAM-011": {T.SUBSCRIPTION_ID},
        "AZ-PG-002": {"psql-tls-not-required-01"},
        "AZ-AKS-001": {"aks-insecure-01"},
        "AZ-AKS-002": {"aks-insecure-01", "aks-authorized-ranges-01"},
        "AZ-AKS-003": {"aks-insecure-01"},
        "AZ-AKS-004": {"aks-insecure-01"},
        "AZ-AKS-005": {"aks-insecure-01", "aks-authorized-ranges-01"},
        "AZ-AKS-006": {"aks-insecure-01"},
        "AZ-ACR-001": {"acrinsecure01"},
        "AZ-ACR-002": {"acrinsecure01"},
        "AZ-ACR-003": {"acrinsecure01", "acrdefaults01"},
        "AZ-MYSQL-001": {"mysql-public-tls-off-01"},
        "AZ-MYSQL-002": {"mysql-public-tls-off-01"},
        "AZ-APP-001": {"app-http-allowed-01", "app-httpsonly-unset-01"},
        "AZ-APP-002": {"app-tls10-ftp-allowed", "app-tls11-ftps-only"},
        "AZ-APP-003": {"app-tls10-ftp-allowed", "func-ftp-allowed-01"},
        "AZ-APP-007": {"app-client-cert-optional-01", "app-client-cert-off-01"},
        "AZ-APP-008": {"app-client-cert-optional-01"},
        "AZ-APP-009": {"app-client-cert-optional-01"},
        "AZ-APP-004": {"app-remote-debugging-on-01"},
        "AZ-APP-005": {"app-no-managed-identity-01"},
        # frank.disabled has no MFA but cannot sign in: left out
        "AZ-IAM-001": {"bob.nomfa", "erin.admin.nomfa", "guest.nomfa", "guest.pending.invite"},
        "AZ-IAM-002": {"Global Administrator", "User Administrator"},
        "AZ-IAM-003": {"app-old-secret", "app-mixed-old-and-fresh"},
        "AZ-IAM-004": {"sp-automation-owner"},
        "AZ-IAM-005": {"Guest Invitation Never Accepted"},
        "AZ-IAM-006": {"app-secret-expiring-in-10-days", "app-cert-expired-still-present"},
        "AZ-IAM-007": {"app-without-owners"},
        "AZ-IAM-008": {"app-redirect-http-and-wildcard", "app-redirect-url-shortener"},
        "AZ-IAM-009": {"app-implicit-access-tokens"},
        "AZ-IAM-010": {"OpenShield Demo All Actions Admin"},
        "AZ-IAM-012": {"mi-contributor-on-subscription"},
        **{f"AZ-IAM-0{n}": {"Authorization policy"} for n in range(13, 19)},
        "AZ-IAM-019": {"Conditional Access / security defaults"},
        "AZ-IAM-020": {"Conditional Access / security defaults"},
        "AZ-IAM-021": {"Global Administrator"},
        "AZ-IAM-022": {u["id"] for u in tenant["graph"]["users"] if u["userPrincipalName"].startswith("carol.secadmin@")},
        "AZ-KV-005": {"kv-nosoftdelete-01", "kv-public-open-01"},
        "AZ-MON-001": {T.SUBSCRIPTION_ID},
        "AZ-MON-002": {T.SUBSCRIPTION_ID},
        "AZ-MON-003": {"Microsoft.Authorization/policyAssignments/delete"},
        "AZ-MON-004": {"Microsoft.Network/networkSecurityGroups/write", "Microsoft.Network/networkSecurityGroups/delete"},
        "AZ-MON-005": {"Microsoft.Security/securitySolutions/delete"},
        "AZ-MON-006": {"AppServices", "SqlServers", "SqlServerVirtualMachines", "OpenSourceRelationalDatabases", "Containers",
                       "CosmosDbs", "Dns", "Api", "CloudPosture"},
        "AZ-MON-007": {"Microsoft.Sql/servers/firewallRules/delete"},
        "AZ-MON-008": {"Microsoft.Network/publicIPAddresses/write", "Microsoft.Network/publicIPAddresses/delete"},
        "AZ-MON-009": {T.SUBSCRIPTION_ID},
        **{f"AZ-DEF-00{n}": {T.SUBSCRIPTION_ID} for n in range(1, 8)},
        "AZ-DEF-009": {T.SUBSCRIPTION_ID},
        "AZ-DEF-010": {T.SUBSCRIPTION_ID},
        "AZ-DEF-011": {T.SUBSCRIPTION_ID},
        "AZ-DEF-012": {T.SUBSCRIPTION_ID},
        "AZ-NET-009": {"eastus"},
        # no backup (password-unset, unmanaged-vhd) or backup stopped (sshkey-only)
        "AZ-CMP-009": {"vm-linux-password-unset", "vm-linux-sshkey-only", "vm-unmanaged-vhd-01"},
        # the other server without classic VA settings is on the express configuration
        "AZ-SQL-010": {"sql-fw-allowall-audit-on"},
        "AZ-AKS-008": {"aks-insecure-01", "aks-authorized-ranges-01"},
        "AZ-NET-014": {"appgw-standard-01"},
        "AZ-SQL-015": {"sql-fw-allowall-audit-on", "sql-fw-manyrules-allowall", "sql-no-entra-admin-retention-30d"},
        # no setting, or the audit group only; function apps are not judged
        "AZ-APP-010": {"app-http-allowed-01", "app-tls10-ftp-allowed", "app-secure-01", "app-tls-unreported-01",
                       "app-no-managed-identity-01", "app-client-cert-off-01", "app-user-identity-01",
                       "app-node14-01"},
        # every NSG but the two whose flow logs are enabled and kept long enough
        # (and the one a VNet flow log covers); the one whose subnet flow log keeps 30 days fails
        "AZ-NET-010": ({name for name, _ in T.NSG_CASES} - {"nsg-web-only", "nsg-ssh-private-only"})
        | {"nsg-vnet-flow-short"},
    }
    got = _violations(tenant, now)
    assert got == expected
    # every rule also has compliant objects of its kind
    assert {"stsecure01", "nsg-ssh-deny-shadows-allow", "nsg-ssh-private-only", "nsg-any-any-shadowed",
            "vm-linux-sshkey-only", "disk-cmk-01", "disk-ade-enabled-01", "kv-secure-01", "sql-fw-none-audit-on",
            "psql-private-vnet-01", "aks-hardened-01", "acrprivate01", "acrfirewalled01", "mysql-private-01",
            "app-secure-01", "app-tls13-01", "kv-private-endpoint-01",
            "sql-private-retention-unlimited", "app-user-identity-01", "vnet-data", "pip-vm-windows-01",
            "appgw-waf-policy-01", "NetworkWatcher_westeurope", "NetworkWatcher_northeurope",
            "alert-policy-assignment-write", "alert-security-solution-write"} <= {r["name"] for r in tenant["resources"]}
    # compliant monitoring objects: Defender plans on, vaults logging AuditEvent, long-kept flow logs
    assert {"VirtualMachines", "KeyVaults"} <= {p["name"] for p in tenant["children"][
        f"/subscriptions/{T.SUBSCRIPTION_ID}/providers/Microsoft.Security/pricings"]
        if p["properties"]["pricingTier"] == "Standard"}
    assert "AZ-NET-010" in got and "nsg-web-only" not in got["AZ-NET-010"]
    assert {"Security Administrator", "Directory Readers"} <= {r["displayName"] for r in tenant["graph"]["directoryRoles"]}
    # planted "could not evaluate" cases
    stor = {r["name"]: r for r in tenant["resources"]}
    assert f"{stor['stblobsvcmissing01']['id']}/blobServices/default" not in tenant["children"]
    # VM extensions: one VM's list is missing (AZ-CMP-004 not evaluated)
    assert tenant["children"][f"{stor['vm-linux-password-unset']['id']}/extensions"] is None  # answers 404
    assert "minTlsVersion" not in tenant["children"][f"{stor['app-tls-unreported-01']['id']}/config/web"]["properties"]
    # SQL: only the Azure-services rule + a narrow one on the compliant server
    fw = tenant["children"][f"{stor['sql-fw-azureonly-audit-off']['id']}/firewallRules"]
    assert [r["name"] for r in fw] == ["AllowAllWindowsAzureIps", "office"]
    # role definitions: 4 built-ins + a scoped custom role + an all-actions one (AZ-IAM-010)
    kinds = sorted(d["properties"]["type"] for d in tenant["roleDefinitions"])
    assert kinds == ["BuiltInRole"] * 4 + ["CustomRole"] * 2


def test_demo_tenant_is_deterministic():
    a = T.demo_tenant(datetime(2025, 1, 1, tzinfo=timezone.utc))
    b = T.demo_tenant(datetime(2025, 1, 1, tzinfo=timezone.utc))
    c = T.demo_tenant(datetime(2025, 6, 1, tzinfo=timezone.utc))
    assert a == b
    assert a["resources"] == c["resources"] and a["children"] == c["children"]
    assert a["roleAssignments"] == c["roleAssignments"]
    old = next(x for x in c["graph"]["applications"] if x["displayName"] == "app-old-secret")
    assert old["passwordCredentials"][0]["startDateTime"] == "2024-11-13T00:00:00Z"  # 200 days before


def test_large_tenant_10000_is_exact():
    """Its speed is a benchmark's business (tests/bench/bench_collect.py), not this test's."""
    tenant = T.large_tenant(10_000)
    assert len(tenant["resources"]) == 10_000
    assert len({r["id"].lower() for r in tenant["resources"]}) == 10_000
    types: dict[str, int] = {}
    for r in tenant["resources"]:
        types[r["type"]] = types.get(r["type"], 0) + 1
    rule_types = {"Microsoft.Storage/storageAccounts", "Microsoft.Network/networkSecurityGroups",
                  "Microsoft.Compute/virtualMachines", "Microsoft.Compute/disks", "Microsoft.KeyVault/vaults",
                  "Microsoft.Sql/servers", "Microsoft.DBforPostgreSQL/flexibleServers", "Microsoft.Web/sites",
                  "Microsoft.ContainerService/managedClusters", "Microsoft.ContainerRegistry/registries",
                  "Microsoft.DBforMySQL/flexibleServers", "Microsoft.Sql/servers/databases",
                  "Microsoft.Network/networkWatchers", "Microsoft.Insights/activityLogAlerts",
                  "Microsoft.DocumentDB/databaseAccounts", "Microsoft.RecoveryServices/vaults",
                  "Microsoft.EventHub/namespaces", "Microsoft.ServiceBus/namespaces",
                  "Microsoft.CognitiveServices/accounts", "Microsoft.OperationalInsights/workspaces",
                  "Microsoft.Insights/components", "Microsoft.App/containerApps", "Microsoft.Databricks/workspaces",
                  "Microsoft.Network/bastionHosts"}
    assert rule_types <= set(types)
    assert types["Microsoft.Network/networkWatchers"] == 2  # one per region, none in eastus (AZ-NET-009)
    other = sum(n for t, n in types.items() if t not in rule_types)
    assert 800 <= other <= 1200
    children = [key.lower() for key in tenant["children"]]
    for suffix in ("/blobservices/default", "/firewallrules", "/auditingsettings/default", "/config/web",
                   "/configurations/require_secure_transport", "/extensions",
                   "/keys", "/secrets", "/transparentdataencryption/current", "/flowlogs",
                   "/providers/microsoft.insights/diagnosticsettings", "/backupprotecteditems",
                   "/securityalertpolicies/default"):
        assert any(k.endswith(suffix) for k in children), suffix
    assert len(tenant["graph"]["users"]) == 500 and len(tenant["graph"]["applications"]) == 100
    assert len(tenant["roleAssignments"]) == 200 + 5  # + managed identities (AZ-IAM-012)
    now = datetime.strptime(tenant["generatedAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    violations = _violations(tenant, now)
    assert all(violations[rule] for rule in violations)  # a mix: every rule violated somewhere...
    assert len(violations["AZ-STOR-002"]) < types["Microsoft.Storage/storageAccounts"]  # ...and not everywhere
    started = time.perf_counter()
    TenantIndex(tenant, "large:10000")
    assert time.perf_counter() - started < 5.0
    later = datetime(2099, 1, 1, tzinfo=timezone.utc)
    assert T.large_tenant(50)["resources"] == T.large_tenant(50, now=later)["resources"]


def test_dump_tenant_round_trip_and_cli_faults(tmp_path):
    dumped = tmp_path / "tenant.json"
    out = subprocess.run([sys.executable, "-m", "tests.fakeazure", "--tenant", "demo", "--dump-tenant", str(dumped)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    data = json.loads(dumped.read_text())
    assert {"tenantId", "subscriptionId", "clientId", "resources", "children", "roleAssignments",
            "roleDefinitions", "graph"} <= set(data)
    name, loaded = T.load_tenant(str(dumped))
    assert name == "tenant.json" and loaded == T.normalize(data)

    with start_emulator(tmp_path / "run", str(dumped), latency_ms=5, throttle_every=7, retry_after=3,
                        fail_every=11, forbid_graph=["applications"], page_size=50, graph_page_size=10,
                        graph_max_page_size=3, client_secret="s3cret") as emu:
        assert emu.env["AZURE_CLIENT_SECRET"] == "s3cret"
        assert emu.faults() == {"latency_ms": 5, "throttle_every": 7, "retry_after": 3, "fail_every": 11,
                                "forbid_graph": ["applications"], "forbid_arm": [], "forbid_lists": [], "arg_status": 0}
        assert emu.tenant_summary()["resources"] == len(data["resources"])
        c = Client(emu)
        emu.set_faults(throttle_every=0, fail_every=0)
        items, pages = _follow(c, f"{c.sub}/resources?api-version=2021-04-01")
        assert sorted(i["id"] for i in items) == sorted(r["id"] for r in data["resources"])
        assert pages == -(-len(data["resources"]) // 50)
        assert c.get("/v1.0/applications").status_code == 403
        # --graph-max-page-size caps pages even when the client asks $top=999
        users, user_pages = _follow(c, "/v1.0/users?$top=999", "@odata.nextLink")
        assert len(users) == 12 and user_pages == 4

        # SIGTERM ends the process cleanly
        emu.process.send_signal(signal.SIGTERM)
        assert emu.process.wait(timeout=10) == 0


def test_bad_tenant_spec_fails_fast(tmp_path):
    with pytest.raises(RuntimeError, match="neither 'demo'"):
        start_emulator(tmp_path, "no/such/file.json", timeout=20)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"resources": [{"id": "/x"}]}))
    with pytest.raises(RuntimeError, match="needs string id, name and type"):
        start_emulator(tmp_path, str(bad), timeout=20)


def test_vpn_gateways_list_per_resource_group_only(client):
    """"Virtual Network Gateways - List" takes a resource group: the subscription-scope
    collection is refused, the resource group's answers the gateways with full properties."""
    path = "providers/Microsoft.Network/virtualNetworkGateways?api-version=2024-05-01"
    refused = client.get(f"{client.sub}/{path}")
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "InvalidResourceType"
    listed = client.get(f"{client.sub}/resourceGroups/rg-prod/{path}")
    assert listed.status_code == 200
    gateways = {g["name"]: g for g in listed.json()["value"]}
    assert set(gateways) == {"vgw-p2s-entra-01", "vgw-p2s-cert-01", "vgw-s2s-01"}
    assert gateways["vgw-p2s-entra-01"]["properties"]["vpnClientConfiguration"]["vpnAuthenticationTypes"] == ["AAD"]
    one = client.get(f"{client.sub}/resourceGroups/rg-prod/providers/Microsoft.Network/virtualNetworkGateways/"
                     "vgw-s2s-01?api-version=2024-05-01")
    assert one.status_code == 200 and "vpnClientConfiguration" not in one.json()["properties"]
