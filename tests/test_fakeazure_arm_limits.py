"""The emulator as ARM behaves at its limits: per-type lists, nested and empty collections,
Resource Graph queries and paging, the subscription-read token bucket and ARG's quota.

Most tests drive ``App.handle`` in-process (no sockets, no sleeps; throttles get a fake clock);
one starts the real emulator to check the command-line flags reach it."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.fakeazure import resourcegraph as ARG
from tests.fakeazure import tenants as T
from tests.fakeazure.harness import start_emulator
from tests.fakeazure.server import App, TenantIndex
from tests.fakeazure.throttle import ArgThrottle, ArmThrottle, Limit

STORAGE = "Microsoft.Storage/storageAccounts"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def index() -> TenantIndex:
    return TenantIndex(T.demo_tenant(), "demo")


def make_app(index: TenantIndex, **kw: Any) -> tuple[App, dict[str, str]]:
    app = App(index, page_size=kw.pop("page_size", 1000), **kw)
    form = urlencode({"grant_type": "client_credentials", "client_id": index.client_id,
                      "client_secret": T.DEFAULT_CLIENT_SECRET, "scope": "https://x/.default"}).encode()
    status, _, _, body = app.handle("POST", f"/{index.tenant_id}/oauth2/v2.0/token", {}, form)
    assert status == 200
    return app, {"authorization": "Bearer " + json.loads(body)["access_token"]}


def get(app: App, auth: dict[str, str], path: str, version: str = "2023-05-01") -> tuple[int, dict[str, str], Any]:
    target = path if "api-version=" in path else f"{path}{'&' if '?' in path else '?'}api-version={version}"
    status, _, headers, body = app.handle("GET", target, dict(auth), b"")
    return status, dict(headers), json.loads(body) if body else None


def follow(app: App, auth: dict[str, str], path: str, version: str) -> tuple[list[dict[str, Any]], int]:
    items, pages, url = [], 0, path
    while url:
        status, _, body = get(app, auth, url, version)
        assert status == 200, body
        items += body["value"]
        pages += 1
        url = body.get("nextLink")
        if url:
            parts = urlsplit(url)
            url = f"{parts.path}?{parts.query}"
    return items, pages


def resources_of(index: TenantIndex, rtype: str) -> list[dict[str, Any]]:
    return [r for r in index.tenant["resources"] if r["type"].lower() == rtype.lower()]


# ------------------------------------------------------------------------------ per-type lists
def test_per_type_list_at_subscription_scope_has_full_properties_and_pages(index: TenantIndex) -> None:
    app, auth = make_app(index, page_size=3)
    sub = f"/subscriptions/{index.subscription_id}"
    items, pages = follow(app, auth, f"{sub}/providers/{STORAGE}", "2023-05-01")
    expected = resources_of(index, STORAGE)
    assert sorted(i["id"] for i in items) == sorted(r["id"] for r in expected)
    assert pages == -(-len(expected) // 3) and pages > 1
    by_id = {r["id"]: r for r in expected}
    assert all(item == by_id[item["id"]] for item in items)  # the GET's body: properties included
    assert app.stats.snapshot()["by_route"]["arm.list.subscription"] == pages


def test_per_type_list_at_resource_group_scope(index: TenantIndex) -> None:
    app, auth = make_app(index)
    first = resources_of(index, STORAGE)[0]
    group = first["id"].split("/")[4]
    status, _, body = get(app, auth, f"/subscriptions/{index.subscription_id}/resourceGroups/{group}/providers/{STORAGE}")
    assert status == 200
    want = {r["id"] for r in resources_of(index, STORAGE) if r["id"].split("/")[4].lower() == group.lower()}
    assert {i["id"] for i in body["value"]} == want
    status, _, body = get(app, auth, f"/subscriptions/{index.subscription_id}/resourceGroups/nope/providers/{STORAGE}")
    assert status == 404 and body["error"]["code"] == "ResourceGroupNotFound"


def test_type_without_resources_is_an_empty_list_and_unknown_types_are_refused(index: TenantIndex) -> None:
    app, auth = make_app(index)
    sub = f"/subscriptions/{index.subscription_id}"
    assert get(app, auth, f"{sub}/providers/Microsoft.Authorization/roleAssignments", "2022-04-01")[0] == 200
    status, _, body = get(app, auth, f"{sub}/providers/Microsoft.Web/serverFarms", "2023-12-01")
    assert status == 200 and isinstance(body["value"], list)
    status, _, body = get(app, auth, f"{sub}/providers/Microsoft.Storage/noSuchThings")
    assert status == 400 and body["error"]["code"] == "InvalidResourceType"
    status, _, body = get(app, auth, f"{sub}/providers/Microsoft.Nothing/things")
    assert status == 404 and body["error"]["code"] == "InvalidResourceNamespace"
    status, _, body = get(app, auth, f"{sub}/providers/{STORAGE}", "2019-01-01")
    assert status == 400 and body["error"]["code"] == "NoRegisteredProviderFound"


def test_nested_collections_and_empty_child_lists(index: TenantIndex) -> None:
    app, auth = make_app(index)
    databases = resources_of(index, "Microsoft.Sql/servers/databases")
    server_id = databases[0]["id"].rsplit("/databases/", 1)[0]
    status, _, body = get(app, auth, f"{server_id}/databases", "2021-11-01")
    assert status == 200
    assert {d["id"] for d in body["value"]} == {d["id"] for d in databases if d["id"].startswith(server_id + "/")}
    # a collection with no members under an existing parent: 200 and an empty list, not 404
    plain_server = next(s["id"] for s in resources_of(index, "Microsoft.Sql/servers")
                        if not any(d["id"].startswith(s["id"] + "/") for d in databases))
    status, _, body = get(app, auth, f"{plain_server}/databases", "2021-11-01")
    assert (status, body) == (200, {"value": []})
    account = resources_of(index, STORAGE)[0]["id"]
    status, _, body = get(app, auth, f"{account}/providers/Microsoft.Insights/diagnosticSettings", "2021-05-01-preview")
    assert status == 200 and isinstance(body["value"], list)
    assert app.stats.snapshot()["by_route"]["arm.list.children"] >= 2
    # not a collection of that type: still 404
    assert get(app, auth, f"{plain_server}/noSuchCollection", "2021-11-01")[0] == 404


# ------------------------------------------------------------------------------ Resource Graph
def arg(app: App, auth: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    status, _, headers, raw = app.handle("POST", "/providers/Microsoft.ResourceGraph/resources?api-version=2022-10-01",
                                         dict(auth), json.dumps(body).encode())
    return status, dict(headers), json.loads(raw)


def test_resource_graph_pages_with_skip_token(index: TenantIndex) -> None:
    app, auth = make_app(index)
    types = ["microsoft.storage/storageaccounts", "microsoft.keyvault/vaults"]
    query = f"resources | where type in~ ({', '.join(repr(t) for t in types)}) | project id, type, properties"
    rows, token, pages = [], None, 0
    while True:
        options: dict[str, Any] = {"$top": 2, "resultFormat": "objectArray"}
        if token:
            options["$skipToken"] = token
        status, _, body = arg(app, auth, {"subscriptions": [index.subscription_id], "query": query, "options": options})
        assert status == 200, body
        assert body["resultTruncated"] == "false" and body["count"] == len(body["data"]) <= 2
        rows += body["data"]
        pages += 1
        token = body.get("$skipToken")
        if not token:
            break
    want = [r for r in index.tenant["resources"] if r["type"].lower() in types]
    assert pages == -(-len(want) // 2) and body["totalRecords"] == len(want)
    assert sorted(r["id"] for r in rows) == sorted(r["id"] for r in want)
    by_id = {r["id"]: r for r in want}
    assert all(row["properties"] == by_id[row["id"]]["properties"] and set(row) == {"id", "type", "properties"}
               for row in rows)
    assert all(row["type"] == row["type"].lower() for row in rows)  # ARG lower-cases types


def test_resource_graph_without_id_truncates_instead_of_paging(index: TenantIndex) -> None:
    app, auth = make_app(index)
    status, _, body = arg(app, auth, {"query": f"resources | where type =~ '{STORAGE}' | project name",
                                      "options": {"$top": 1}})
    assert status == 200 and body["resultTruncated"] == "true" and "$skipToken" not in body


@pytest.mark.parametrize("query", [
    "resources | summarize count() by type",
    "resourcecontainers | where type in~ ('microsoft.resources/subscriptions')",
    "resources | project id",  # no type filter: refused rather than answered partially
    "resources | where type in~ ('a') | project id, secretSauce",
    "resources | where type in~ ('a') | extend x = 1",
])
def test_resource_graph_refuses_queries_it_does_not_understand(index: TenantIndex, query: str) -> None:
    app, auth = make_app(index)
    status, _, body = arg(app, auth, {"query": query})
    assert status == 400
    assert body["error"]["code"] == "BadRequest"
    assert body["error"]["details"][0]["code"] == "InvalidQuery"


def _all_rows(app: App, auth: dict[str, str], query: str, top: int = 1000) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    token = None
    while True:
        options: dict[str, Any] = {"$top": top, **({"$skipToken": token} if token else {})}
        status, _, body = arg(app, auth, {"query": query, "options": options})
        assert status == 200, body
        rows += body["data"]
        token = body.get("$skipToken")
        if not token:
            return rows


def test_resource_graph_serves_vm_extensions_from_the_tenant_children(index: TenantIndex) -> None:
    """``microsoft.compute/virtualmachines/extensions`` is a type of the ``resources`` table: its
    rows are the extensions the per-VM list answers, and a VM whose list is planted to fail has
    none."""
    app, auth = make_app(index)
    rows = _all_rows(app, auth, "resources | where type in~ ('microsoft.compute/virtualmachines/extensions') "
                                "| project id, name, type, location, properties", top=3)
    children = index.tenant["children"]
    want = [item for key, payload in children.items() if key.lower().endswith("/extensions") and payload
            for item in payload]
    assert want and sorted(r["id"] for r in rows) == sorted(i["id"] for i in want)
    by_id = {i["id"]: i for i in want}
    for row in rows:
        item = by_id[row["id"]]
        assert row["type"] == "microsoft.compute/virtualmachines/extensions"
        assert (row["name"], row["location"], row["properties"]) == (item["name"], item["location"], item["properties"])
        # the same object the per-parent route answers (ARG only lower-cases the type)
        vm = row["id"].rsplit("/extensions/", 1)[0]
        status, _, body = get(app, auth, f"{vm}/extensions", "2024-07-01")
        assert status == 200 and item in body["value"]
    failing = [k for k, v in children.items() if k.lower().endswith("/extensions") and v is None]
    assert failing and not [r for r in rows if r["id"].lower().startswith(failing[0].lower() + "/")]
    # the extensions are children, not listed resources: the resources table's other types are unchanged
    assert not [r for r in index.resource_graph.tables["resources"] if r["type"] == "microsoft.web/sites/config"]


def test_resource_graph_serves_site_config_in_appserviceresources(index: TenantIndex) -> None:
    app, auth = make_app(index)
    rows = _all_rows(app, auth, "appserviceresources | where type =~ 'microsoft.web/sites/config' "
                                "| project id, name, type, location, properties")
    configs = {k.lower(): v for k, v in index.tenant["children"].items()
               if "/microsoft.web/sites/" in k.lower() and "/config/" in k.lower() and v}
    assert {r["id"].lower() for r in rows} == {v["id"].lower() for v in configs.values()}
    web = [r for r in rows if r["id"].lower().endswith("/config/web")]
    assert web and all(r["properties"] == configs[r["id"].lower()]["properties"] for r in web)
    assert all(set(r) == {"id", "name", "type", "location", "properties"} for r in rows)
    # the table holds only App Service types; the resources table does not hold them
    assert _all_rows(app, auth, "appserviceresources | where type in~ ('microsoft.storage/storageaccounts') "
                                "| project id") == []
    assert _all_rows(app, auth, "resources | where type =~ 'microsoft.web/sites/config' | project id") == []


@pytest.mark.parametrize("status", [403, 400])
def test_resource_graph_faults_deny_or_refuse_every_query(index: TenantIndex, status: int) -> None:
    app, auth = make_app(index)
    app.faults.update({"arg_status": status})
    code, _, body = arg(app, auth, {"query": "resources | where type =~ 'microsoft.compute/virtualmachines'"})
    assert code == status
    assert body["error"]["code"] == ("AuthorizationFailed" if status == 403 else "BadRequest")
    app.faults.update({"arg_status": 0})
    assert arg(app, auth, {"query": "resources | where type =~ 'microsoft.compute/virtualmachines'"})[0] == 200
    with pytest.raises(ValueError):
        app.faults.update({"arg_status": 418})


def test_resource_graph_needs_a_token(index: TenantIndex) -> None:
    app, _ = make_app(index)
    assert arg(app, {}, {"query": "resources | where type =~ 'x'"})[0] == 401


# ------------------------------------------------------------------------------ throttling
def test_limit_parsing() -> None:
    assert Limit.parse("250/25") == Limit(250, 25.0)
    for bad in ("250", "0/25", "250/0", "a/b", "250/-1"):
        with pytest.raises(ValueError):
            Limit.parse(bad)


def test_arm_bucket_empties_then_refills_at_the_set_rate() -> None:
    clock = Clock()
    throttle = ArmThrottle(Limit(250, 25), clock)
    remaining = [int(dict(throttle.read("sub", "app").headers)["x-ms-ratelimit-remaining-subscription-reads"])
                 for _ in range(250)]
    assert remaining[0] == 249 and remaining[-1] == 0
    denied = throttle.read("sub", "app")
    assert not denied.allowed and dict(denied.headers)["Retry-After"] == "1"
    # other principals and other subscriptions have buckets of their own
    assert throttle.read("sub", "other-app").allowed and throttle.read("sub2", "app").allowed
    clock.now += 2.0  # 2 s at 25/s = 50 tokens, not more
    granted = sum(throttle.read("sub", "app").allowed for _ in range(60))
    assert granted == 50
    clock.now += 3600  # never beyond the bucket's size
    assert sum(throttle.read("sub", "app").allowed for _ in range(300)) == 250


def test_arg_quota_window_and_headers() -> None:
    clock = Clock()
    throttle = ArgThrottle(Limit(15, 5), clock)
    decisions = [throttle.query("app") for _ in range(16)]
    assert all(d.allowed for d in decisions[:15]) and not decisions[15].allowed
    assert dict(decisions[0].headers)["x-ms-user-quota-remaining"] == "14"
    assert dict(decisions[0].headers)["x-ms-user-quota-resets-after"] == "00:00:05"
    clock.now += 4.0
    assert dict(decisions[15].headers)["Retry-After"] == "5"
    assert not throttle.query("app").allowed
    clock.now += 1.0
    assert throttle.query("app").allowed


def test_app_answers_429_with_retry_after_and_counts_it(index: TenantIndex) -> None:
    app, auth = make_app(index, arm_throttle=Limit(3, 1))
    path = f"/subscriptions/{index.subscription_id}/providers/{STORAGE}"
    answers = [get(app, auth, path) for _ in range(4)]
    assert [a[0] for a in answers] == [200, 200, 200, 429]
    assert [a[1]["x-ms-ratelimit-remaining-subscription-reads"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[3][1]["Retry-After"] == "1"
    assert answers[3][2]["error"]["code"] == "SubscriptionRequestsThrottled"
    stats = app._stats_document()
    assert stats["throttled_429"] == 1 and stats["first_request_at"] <= stats["last_request_at"]
    # unauthenticated requests are not charged, and resetting the stats refills the bucket
    assert get(app, {}, path)[0] == 401
    app.handle("POST", "/_admin/stats/reset", {}, b"{}")
    assert get(app, auth, path)[0] == 200


def test_unthrottled_app_sends_no_quota_headers(index: TenantIndex) -> None:
    app, auth = make_app(index)
    _, headers, _ = get(app, auth, f"/subscriptions/{index.subscription_id}/providers/{STORAGE}")
    assert "x-ms-ratelimit-remaining-subscription-reads" not in headers


def test_arg_quota_through_the_app(index: TenantIndex) -> None:
    app, auth = make_app(index, arg_throttle=Limit(2, 5))
    query = {"query": f"resources | where type =~ '{STORAGE}' | project id"}
    answers = [arg(app, auth, query) for _ in range(3)]
    assert [a[0] for a in answers] == [200, 200, 429]
    assert answers[0][1]["x-ms-user-quota-remaining"] == "1" and "Retry-After" in answers[2][1]


def test_command_line_flags_reach_the_emulator(tmp_path) -> None:
    import requests

    with start_emulator(tmp_path, "demo", arm_throttle="2/1", arg_throttle="15/5") as emu:
        token = requests.post(f"{emu.url}/{emu.env['AZURE_TENANT_ID']}/oauth2/v2.0/token", verify=emu.ca_file,
                              data={"grant_type": "client_credentials", "client_id": emu.env["AZURE_CLIENT_ID"],
                                    "client_secret": emu.env["AZURE_CLIENT_SECRET"],
                                    "scope": f"{emu.url}/.default"}, timeout=10).json()["access_token"]
        url = f"{emu.url}/subscriptions/{emu.env['AZURE_SUBSCRIPTION_ID']}/providers/{STORAGE}?api-version=2023-05-01"
        codes = [requests.get(url, headers={"Authorization": f"Bearer {token}"}, verify=emu.ca_file,
                              timeout=10).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        stats = emu.stats()
        assert stats["throttled_429"] == 1 and stats["by_route"]["arm.list.subscription"] == 3
        assert stats["first_request_at"] is not None
