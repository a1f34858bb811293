"""The emulator's estate: several subscriptions per tenant, listed and paged as ARM does,
one denied to the principal (absent from the list, 403 on reads)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.fakeazure import estate as E
from tests.fakeazure import tenants as T
from tests.fakeazure.server import TenantIndex

TOKEN = "fa.test-token"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def _app(tenant: dict[str, Any], **kwargs: Any) -> E.EstateApp:
    app = E.EstateApp(TenantIndex(tenant, "t"), tenant, **kwargs)
    app.tokens.add(TOKEN)
    return app


def _get(app: E.EstateApp, target: str) -> tuple[int, Any]:
    status, _, _, body = app.handle("GET", target, dict(AUTH), b"")
    return status, json.loads(body)


@pytest.fixture(scope="module")
def demo() -> E.EstateApp:
    return _app(E.demo_estate())


def test_demo_lists_three_subscriptions_with_names_and_states(demo: E.EstateApp) -> None:
    status, body = _get(demo, "/subscriptions?api-version=2022-12-01")
    assert status == 200
    by_id = {s["subscriptionId"]: s for s in body["value"]}
    assert set(by_id) == {T.SUBSCRIPTION_ID, E.DEMO_CLEAN_ID, E.DEMO_BAD_ID}
    assert by_id[E.DEMO_BAD_ID]["state"] == "Warned"
    assert by_id[T.SUBSCRIPTION_ID]["displayName"] == E.DEMO_PRIMARY_NAME


def test_demo_primary_keeps_its_resources_and_others_have_their_own(demo: E.EstateApp) -> None:
    plain = T.demo_tenant()
    _, primary = _get(demo, f"/subscriptions/{T.SUBSCRIPTION_ID}/resources?api-version=2021-04-01")
    assert len(primary["value"]) == len(plain["resources"])
    _, bad = _get(demo, f"/subscriptions/{E.DEMO_BAD_ID}/resources?api-version=2021-04-01")
    assert bad["value"] and all(E.DEMO_BAD_ID in r["id"] for r in bad["value"])
    _, one = _get(demo, f"/subscriptions/{E.DEMO_BAD_ID}?api-version=2022-12-01")
    assert one["displayName"] == E.DEMO_BAD_NAME


def test_tenants_list(demo: E.EstateApp) -> None:
    status, body = _get(demo, "/tenants?api-version=2022-12-01")
    assert status == 200 and body["value"][0]["tenantId"] == T.TENANT_ID


def test_subscription_list_pages_with_next_link() -> None:
    app = _app(E.large_estate(30, 7), subscription_page=3)
    seen: list[str] = []
    target = "/subscriptions?api-version=2022-12-01"
    while target:
        status, body = _get(app, target)
        assert status == 200
        seen += [s["subscriptionId"] for s in body["value"]]
        link = body.get("nextLink")
        target = link.split("127.0.0.1", 1)[1] if link else ""
    assert len(seen) == len(set(seen)) == 7


def test_large_spreads_resources_over_subscriptions() -> None:
    app = _app(E.large_estate(30, 3))
    counts = []
    for i in range(3):
        _, body = _get(app, f"/subscriptions/{E.large_subscription_id(i)}/resources?api-version=2021-04-01")
        counts.append(len(body["value"]))
    assert counts == [10, 10, 10]


def test_denied_subscription_is_absent_and_forbidden() -> None:
    tenant = E.large_estate(20, 3)
    denied = E.large_subscription_id(2)
    app = _app(tenant, deny=(denied,))
    _, body = _get(app, "/subscriptions?api-version=2022-12-01")
    assert denied not in {s["subscriptionId"] for s in body["value"]} and len(body["value"]) == 2
    status, err = _get(app, f"/subscriptions/{denied}/resources?api-version=2021-04-01")
    assert status == 403 and err["error"]["code"] == "AuthorizationFailed"
    status, _, _, _ = app.handle("GET", f"/subscriptions/{denied}/resources?api-version=2021-04-01", {}, b"")
    assert status == 401  # the token is checked first, as ARM does


def test_tenant_file_subscriptions_are_checked() -> None:
    with pytest.raises(E.EstateError, match="state"):
        E.other_subscriptions({"subscriptions": [{"subscriptionId": "x", "state": "Sleeping"}]})
    with pytest.raises(E.EstateError, match="duplicate"):
        E.other_subscriptions({"subscriptions": [{"subscriptionId": T.SUBSCRIPTION_ID}]})


def test_tenant_file_denied_flag() -> None:
    tenant = T.demo_tenant()
    tenant["subscriptions"] = [{"subscriptionId": "11111111-2222-3333-4444-555555555555", "denied": True}]
    app = _app(tenant)
    status, _ = _get(app, "/subscriptions/11111111-2222-3333-4444-555555555555/providers?api-version=2021-04-01")
    assert status == 403
