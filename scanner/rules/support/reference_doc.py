"""Render ``docs/rules-reference.md`` from the rules' own metadata.

    python -m scanner.rules.support.reference_doc > docs/rules-reference.md

A test fails when the committed file differs from this output, so the reference cannot drift
from the code.
"""

from __future__ import annotations

import sys

from scanner.rules import all_rules
from scanner.rules.support.frameworks import FRAMEWORKS


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    rules = all_rules()
    out = [
        "# Rules reference",
        "",
        "Generated from the rules' metadata by `python -m scanner.rules.support.reference_doc`; do not edit by hand.",
        "",
        f"{len(rules)} rules. Framework mappings: "
        + "; ".join(f"**{f.key}** = {f.name}" for f in FRAMEWORKS)
        + ".",
        "",
        "| id | severity | category | title | CIS | CIS v6 | NIST | ISO 27001 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rules:
        fw = {k: ", ".join(v) for k, v in r.frameworks.items()}
        out.append(
            f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {r.category} | {_cell(r.title)} | "
            f"{fw.get('CIS', '—')} | {fw.get('CIS6', '—')} | {fw.get('NIST', '—')} | {fw.get('ISO27001', '—')} |"
        )
    for r in rules:
        needs = r.needs
        reads = sorted(needs.resource_types) + [f"{c.parent_type}/{c.path}" for c in needs.children]
        reads += [f"Microsoft Graph {g}" for g in sorted(needs.graph)]
        reads += [f"Microsoft Graph {g} (optional)" for g in sorted(needs.optional_graph)]
        if needs.role_assignments:
            reads.append("role assignments")
        if needs.role_definitions:
            reads.append("role definitions")
        out += [
            "",
            f"## {r.id}",
            "",
            f"**{r.title}** — {r.severity}, {r.category}",
            "",
            r.description,
            "",
            f"*Remediation:* {r.remediation}",
            "",
            f"*Reads:* {', '.join(reads)}",
        ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
