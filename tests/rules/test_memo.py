"""Derived views shared by rules (scanner/rules/support/memo.py): once per object inside the
engine's evaluating phase, afresh outside it, never confused between objects."""

from __future__ import annotations

from typing import Any

from scanner.rules.support import nsg
from scanner.rules.support.databases import server_parameters
from scanner.rules.support.memo import evaluation_scope, per_object

calls: list[int] = []


@per_object
def count_items(payload: list[Any]) -> int:
    calls.append(id(payload))
    return len(payload)


def test_once_per_object_inside_a_scope_and_afresh_outside() -> None:
    calls.clear()
    a, b = [1, 2], [1, 2, 3]
    with evaluation_scope():
        assert [count_items(a), count_items(b), count_items(a), count_items(b)] == [2, 3, 2, 3]
        assert calls == [id(a), id(b)]
    # outside a scope (a unit test that changes its fixture between calls): never stale
    a.append(9)
    assert count_items(a) == 3
    a.append(10)
    assert count_items(a) == 4
    # a new scope starts empty
    with evaluation_scope():
        assert count_items(a) == 4
    assert len(calls) == 5


def test_memoised_support_parsers_give_the_same_answers() -> None:
    group = {"properties": {"securityRules": [
        {"name": "ssh", "properties": {"priority": 200, "access": "Allow", "direction": "Inbound", "protocol": "Tcp",
                                       "sourceAddressPrefix": "*", "destinationPortRange": "22"}},
        {"name": "deny", "properties": {"priority": 100, "access": "Deny", "direction": "Inbound", "protocol": "*",
                                        "sourceAddressPrefix": "Internet", "destinationPortRange": "3389"}},
    ]}}
    configurations = [{"name": "TLS_Version", "properties": {"value": "TLSv1.2"}}]
    plain = (nsg.inbound_rules(group), nsg.exposed_tcp_ports(group, (22, 3389)), server_parameters(configurations))
    with evaluation_scope():
        first = (nsg.inbound_rules(group), nsg.exposed_tcp_ports(group, (22, 3389)), server_parameters(configurations))
        again = (nsg.inbound_rules(group), nsg.exposed_tcp_ports(group, (22, 3389)), server_parameters(configurations))
        # a caller changing its list does not change what the next rule reads
        first[0].clear()
        assert [r.name for r in nsg.inbound_rules(group)] == ["deny", "ssh"]
    assert plain[1:] == again[1:] and plain[0] == again[0]
    assert list(plain[1]) == [22] and plain[2] == {"tls_version": "TLSv1.2"}


def test_unreadable_resources_grouped_once_give_what_each_type_lists() -> None:
    from scanner.inventory import Inventory
    from scanner.rules.support.helpers import unreadable

    inv = Inventory(subscription_id="s")
    base = "/subscriptions/s/resourcegroups/g/providers/"
    inv.unreadable = {
        f"{base}microsoft.storage/storageaccounts/b": "HTTP 500",
        f"{base}microsoft.storage/storageaccounts/a": "HTTP 403",
        f"{base}microsoft.keyvault/vaults/v": "HTTP 404",
        f"child:microsoft.storage/storageaccounts/blobservices/default|{base}microsoft.storage/storageaccounts/c": "x",
    }
    for storage_type in ("Microsoft.Storage/storageAccounts", "microsoft.storage/storageaccounts"):
        expected = sorted(inv.unreadable_of_type(storage_type).items())
        plain = [(e.resource_id, e.detail) for e in unreadable(inv, storage_type, "account")]
        with evaluation_scope():
            remembered = [(e.resource_id, e.detail) for e in unreadable(inv, storage_type, "account")]
            again = [(e.resource_id, e.detail) for e in unreadable(inv, storage_type, "account")]
        assert [rid for rid, _ in plain] == [rid for rid, _ in expected] == [f"{base}microsoft.storage/storageaccounts/a",
                                                                             f"{base}microsoft.storage/storageaccounts/b"]
        assert plain == remembered == again and plain[0][1] == "account could not be read: HTTP 403"
    with evaluation_scope():
        assert [e.resource_name for e in unreadable(inv, "Microsoft.KeyVault/vaults")] == ["v"]
        assert list(unreadable(inv, "Microsoft.Compute/virtualMachines")) == []
