"""docs/compliance-coverage.md agrees with the rules' CIS mappings: a rule claims a
recommendation exactly when the table lists it as covering that row."""

from __future__ import annotations

import re
from pathlib import Path

from scanner.rules import all_rules

DOC = Path(__file__).resolve().parents[2] / "docs" / "compliance-coverage.md"
ROW = re.compile(r"^\|\s*(\d+(?:\.\d+)+|\d+\.\d+)\s*\|[^|]*\|\s*(.*?)\s*\|\s*$")
RULE_ID = re.compile(r"AZ-[A-Z]+-\d{3}")


def covered_rows() -> dict[str, set[str]]:
    """CIS id -> rule ids the table says cover it (rows marked manual / not claimed: none)."""
    rows: dict[str, set[str]] = {}
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if not match:
            continue
        cis, coverage = match.groups()
        assert cis not in rows, f"{cis} listed twice"
        rows[cis] = set() if coverage.startswith(("manual", "not claimed")) else set(RULE_ID.findall(coverage))
    return rows


def test_every_claim_is_in_the_table_and_every_covered_row_is_claimed() -> None:
    rows = covered_rows()
    claims: dict[str, set[str]] = {}
    for r in all_rules():
        for cis in r.frameworks.get("CIS", ()):
            claims.setdefault(cis, set()).add(r.id)
    missing = {cis: ids for cis, ids in claims.items() if cis not in rows}
    assert not missing, f"claimed by rules but not in docs/compliance-coverage.md: {missing}"
    assert {cis: ids for cis, ids in claims.items()} == {cis: ids for cis, ids in rows.items() if ids}


def test_manual_rows_give_a_reason() -> None:
    for line in DOC.read_text().splitlines():
        match = ROW.match(line)
        if match and match.group(2).startswith(("manual", "not claimed")):
            assert ":" in match.group(2), line
