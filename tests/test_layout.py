"""The layout's promises, checked on the source: imports flow one way
(``cli → api → scanner → supervisor → store``), nothing below the API imports Flask, and a rule
module declares what it needs without knowing how Azure is read (no ``scanner.azure``).

Every import counts, including those inside functions (the lazy ones), because a lazy import
of the web app from a scan process still drags Flask into it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

LAYERS = ("store", "supervisor", "scanner", "api", "cli")  # lowest first
THIRD_PARTY_BANNED = {"store": ("flask", "werkzeug"), "supervisor": ("flask", "werkzeug"),
                      "scanner": ("flask", "werkzeug")}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def sources(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def top(module: str) -> str:
    return module.split(".", 1)[0]


@pytest.mark.parametrize("package", LAYERS)
def test_imports_flow_one_way(package: str) -> None:
    higher = set(LAYERS[LAYERS.index(package) + 1 :])
    banned = THIRD_PARTY_BANNED.get(package, ())
    wrong = []
    for path in sources(package):
        for module in imported_modules(path):
            if top(module) in higher or top(module) in banned:
                wrong.append(f"{path.relative_to(REPO)} imports {module}")
    assert not wrong, f"{package}/ may only import lower layers ({', '.join(LAYERS[:LAYERS.index(package)])}):\n" + \
        "\n".join(sorted(set(wrong)))


def test_rule_modules_do_not_know_how_azure_is_read() -> None:
    wrong = [f"{path.relative_to(REPO)} imports {module}"
             for path in sources("scanner/rules") for module in imported_modules(path)
             if module == "scanner.azure" or module.startswith("scanner.azure.")]
    assert not wrong, "rules declare what they need (scanner.inventory.Needs), not how to read it:\n" + "\n".join(wrong)


def test_the_layers_exist() -> None:
    """The test above checks something: every layer has code."""
    for package in LAYERS:
        assert len(sources(package)) >= 3, package
