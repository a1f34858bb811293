"""Where each rule lives: rule ``AZ-<FAMILY>-nnn`` is defined in ``scanner/rules/<module>.py``.

One table, so that whoever looks for AZ-KV-008 or adds AZ-NET-012 knows which module it belongs
in; ``tests/rules/test_catalogue.py`` checks that every rule sits where this table says and that
every rule module holds a family. A new family is a new module plus one line here.
"""

from __future__ import annotations

MODULE_OF_FAMILY: dict[str, str] = {
    "ACR": "acr",
    "AI": "aiservices",
    "AKS": "aks",
    "APP": "appservice",
    "CAPP": "containerapps",
    "CMP": "compute",
    "COSMOS": "cosmosdb",
    "DBW": "databricks",
    "DEF": "defender",
    "IAM": "identity",
    "KV": "keyvault",
    "MON": "monitoring",
    "MSG": "messaging",
    "MYSQL": "mysql",
    "NET": "network",
    "PG": "postgresql",
    "RSV": "recoveryservices",
    "SQL": "sql",
    "STOR": "storage",
}


def family(rule_id: str) -> str:
    """``"AZ-STOR-001"`` -> ``"STOR"``."""
    return rule_id.split("-")[1]


def module_of(rule_id: str) -> str:
    """The dotted name of the module that must define ``rule_id`` (KeyError for an unknown family)."""
    return f"scanner.rules.{MODULE_OF_FAMILY[family(rule_id)]}"
