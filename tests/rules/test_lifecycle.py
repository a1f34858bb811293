"""The end-of-support table (scanner.rules.support.lifecycle): version parsing and support
status."""

from __future__ import annotations

from datetime import date

import pytest

from scanner.rules.support import lifecycle


# --- lifecycle table ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, parsed", [
    ("1.30.5", (1, 30, 5)), ("14-lts", (14,)), ("~18", (18,)), ("v8.0", (8, 0)), ("3.8", (3, 8)),
    ("", None), ("latest", None), (None, None),
])
def test_parse_version(text: object, parsed: object) -> None:
    assert lifecycle.parse_version(text) == parsed


def test_support_status_edges() -> None:
    # inside the table
    assert lifecycle.support_status("postgresql", (14,)).ends == date(2026, 11, 12)  # type: ignore[union-attr]
    # older than the table: past support; newer: supported (released after the table)
    assert lifecycle.support_status("postgresql", (9,)).past(date(2020, 1, 1)) is False  # type: ignore[union-attr]
    assert lifecycle.support_status("postgresql", (9,)).past(date(2023, 1, 1))  # type: ignore[union-attr]
    assert lifecycle.support_status("postgresql", (40,)).ends is None  # type: ignore[union-attr]
    # a version that names no release of a minor-released product, or a gap: no verdict
    assert lifecycle.support_status("kubernetes", (1,)) is None
    assert lifecycle.support_status("dotnet", (4, 0)) is None
