"""End-of-support dates of the software Azure runs for you, and version parsing.

Rules about outdated software compare a deployed version with the date its upstream project
stops shipping security fixes. The dates are facts published by each project (Kubernetes
release history, the PostgreSQL versioning policy, Oracle's MySQL lifetime support, python.org
status of versions, the Node.js release schedule, php.net supported versions, .NET support
policy); they are kept here, in one table, so a yearly review touches one file.

A version newer than every entry of its product is treated as supported (it was released after
the table was written); a version older than every entry is past support (the table starts at
releases that are long out of support). A rule compares against ``inventory.collected_at``, so a
verdict never depends on the wall clock of the evaluating machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# product -> ((major, minor) or (major,), end of upstream security support)
_SUPPORT_ENDS: dict[str, tuple[tuple[tuple[int, ...], date], ...]] = {
    # kubernetes.io/releases: each minor gets ~14 months of patches
    "kubernetes": (
        ((1, 24), date(2023, 7, 28)),
        ((1, 25), date(2023, 10, 28)),
        ((1, 26), date(2024, 2, 28)),
        ((1, 27), date(2024, 6, 28)),
        ((1, 28), date(2024, 10, 28)),
        ((1, 29), date(2025, 2, 28)),
        ((1, 30), date(2025, 6, 28)),
        ((1, 31), date(2025, 10, 28)),
        ((1, 32), date(2026, 2, 28)),
        ((1, 33), date(2026, 6, 28)),
        ((1, 34), date(2026, 10, 27)),
        ((1, 35), date(2027, 2, 28)),
        ((1, 36), date(2027, 6, 28)),
    ),
    # postgresql.org/support/versioning: five years per major version
    "postgresql": (
        ((10,), date(2022, 11, 10)),
        ((11,), date(2023, 11, 9)),
        ((12,), date(2024, 11, 21)),
        ((13,), date(2025, 11, 13)),
        ((14,), date(2026, 11, 12)),
        ((15,), date(2027, 11, 11)),
        ((16,), date(2028, 11, 9)),
        ((17,), date(2029, 11, 8)),
        ((18,), date(2030, 11, 14)),
    ),
    # Oracle lifetime support policy: end of Premier Support
    "mysql": (
        ((5, 6), date(2021, 2, 28)),
        ((5, 7), date(2023, 10, 31)),
        ((8, 0), date(2026, 4, 30)),
        ((8, 4), date(2032, 4, 30)),
    ),
    # python.org: end of security fixes
    "python": (
        ((3, 6), date(2021, 12, 23)),
        ((3, 7), date(2023, 6, 27)),
        ((3, 8), date(2024, 10, 7)),
        ((3, 9), date(2025, 10, 31)),
        ((3, 10), date(2026, 10, 31)),
        ((3, 11), date(2027, 10, 31)),
        ((3, 12), date(2028, 10, 31)),
        ((3, 13), date(2029, 10, 31)),
        ((3, 14), date(2030, 10, 31)),
    ),
    # Node.js release schedule: end of maintenance (odd majors never reach LTS)
    "node": (
        ((12,), date(2022, 4, 30)),
        ((14,), date(2023, 4, 30)),
        ((16,), date(2023, 9, 11)),
        ((17,), date(2022, 6, 1)),
        ((18,), date(2025, 4, 30)),
        ((19,), date(2023, 6, 1)),
        ((20,), date(2026, 4, 30)),
        ((21,), date(2024, 6, 1)),
        ((22,), date(2027, 4, 30)),
        ((23,), date(2025, 6, 1)),
        ((24,), date(2028, 4, 30)),
    ),
    # php.net/supported-versions: end of security support
    "php": (
        ((7, 4), date(2022, 11, 28)),
        ((8, 0), date(2023, 11, 26)),
        ((8, 1), date(2025, 12, 31)),
        ((8, 2), date(2026, 12, 31)),
        ((8, 3), date(2027, 12, 31)),
        ((8, 4), date(2028, 12, 31)),
    ),
    # .NET (Core) support policy
    "dotnet": (
        ((3, 1), date(2022, 12, 13)),
        ((5, 0), date(2022, 5, 10)),
        ((6, 0), date(2024, 11, 12)),
        ((7, 0), date(2024, 5, 14)),
        ((8, 0), date(2026, 11, 10)),
        ((9, 0), date(2026, 11, 10)),
        ((10, 0), date(2028, 11, 14)),
    ),
}

# how a finding names the software for CVE look-ups: CPE 2.3 vendor and product
CPE_NAMES: dict[str, tuple[str, str]] = {
    "kubernetes": ("kubernetes", "kubernetes"),
    "postgresql": ("postgresql", "postgresql"),
    "mysql": ("oracle", "mysql"),
    "python": ("python", "python"),
    "node": ("nodejs", "node.js"),
    "php": ("php", "php"),
    "dotnet": ("microsoft", ".net"),
}

DISPLAY_NAMES: dict[str, str] = {
    "kubernetes": "Kubernetes",
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "python": "Python",
    "node": "Node.js",
    "php": "PHP",
    "dotnet": ".NET",
}

_NUMBERS = re.compile(r"^\s*[vV~]?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def parse_version(text: object) -> tuple[int, ...] | None:
    """``"1.30.5"`` -> (1, 30, 5); ``"14-lts"`` -> (14,); ``"~18"`` -> (18,); None if no number."""
    match = _NUMBERS.match(str(text or ""))
    if not match:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


@dataclass(frozen=True)
class SupportStatus:
    """Where a version stands: ``ends`` is None when the version is newer than the table."""

    product: str
    release: tuple[int, ...]
    ends: date | None

    @property
    def release_text(self) -> str:
        return ".".join(str(p) for p in self.release)

    def past(self, today: date) -> bool:
        return self.ends is not None and today >= self.ends


def support_status(product: str, version: tuple[int, ...]) -> SupportStatus | None:
    """The support window of ``version``, or None when it names no release (e.g. ``(1,)`` for a
    product released by minor)."""
    table = _SUPPORT_ENDS[product]
    width = len(table[0][0])
    if len(version) < width:
        return None
    release = version[:width]
    for key, ends in table:
        if key == release:
            return SupportStatus(product, release, ends)
    if release < table[0][0]:
        return SupportStatus(product, release, table[0][1])
    if release > max(key for key, _ in table):
        return SupportStatus(product, release, None)
    # a gap inside the table (a release that never existed, e.g. .NET 4): no verdict
    return None


def software(product: str, version: str) -> dict[str, str]:
    """The ``software`` metadata CVE enrichment reads: CPE vendor/product and the version seen."""
    vendor, cpe_product = CPE_NAMES[product]
    return {"vendor": vendor, "product": cpe_product, "version": version}
