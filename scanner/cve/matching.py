"""From a finding's ``software`` metadata to an NVD query, version-precisely.

Rules put ``{"software": {"vendor", "product", "version"}}`` in a finding's metadata, with CPE
vendor and product names and the version as Azure reports it; its numeric part is used
("14-lts" -> 14, "~14" -> 14, "v6.0" -> 6.0). Azure often reports only a major or major.minor
version (PostgreSQL "11", MySQL "5.7", Python "3.8"), so:

- a full version (three or more parts, e.g. Kubernetes "1.26.6") is asked for exactly, with
  ``cpeName=cpe:2.3:a:<vendor>:<product>:<version>:*:*:*:*:*:*:*``; NVD then returns the CVEs
  whose applicability (exact versions or ranges) includes that version;
- a partial version is asked for as the range it stands for, ``virtualMatchString=
  cpe:2.3:a:<vendor>:<product>`` with ``versionStart=11`` (including) and ``versionEnd=12``
  (excluding): the CVEs that affect some release of that line. Which patch level is deployed is
  not known, so these CVEs are "may affect"; docs/cve-enrichment.md says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# CPE names (``.net`` starts with a dot); nothing that could alter the CPE string (':', '*', spaces)
_NAME = re.compile(r"^[a-z0-9._\-]{1,100}$")
# the numeric version Azure reports, possibly with a prefix or a suffix: "14-lts", "~14", "v6.0"
_VERSION = re.compile(r"^[~^=v ]*(\d+(?:\.\d+){0,3})(?:$|[^\d.])", re.IGNORECASE)


@dataclass(frozen=True, order=True)
class Software:
    vendor: str
    product: str
    version: str

    @classmethod
    def from_metadata(cls, metadata: dict[str, Any] | None) -> "Software | None":
        """The software a finding names, or None (absent or not a plain CPE name and version)."""
        raw = (metadata or {}).get("software")
        if not isinstance(raw, dict):
            return None
        vendor, product, version = (str(raw.get(k, "")).strip() for k in ("vendor", "product", "version"))
        vendor, product = vendor.lower(), product.lower()
        parsed = _VERSION.match(version)
        if not (_NAME.match(vendor) and _NAME.match(product) and parsed):
            return None
        return cls(vendor, product, parsed.group(1))

    @property
    def exact(self) -> bool:
        return self.version.count(".") >= 2

    def query(self) -> dict[str, str]:
        """The NVD CVE API 2.0 query parameters for this software."""
        if self.exact:
            return {"cpeName": f"cpe:2.3:a:{self.vendor}:{self.product}:{self.version}:*:*:*:*:*:*:*"}
        parts = self.version.split(".")
        upper = ".".join(parts[:-1] + [str(int(parts[-1]) + 1)])
        return {
            "virtualMatchString": f"cpe:2.3:a:{self.vendor}:{self.product}",
            "versionStart": self.version,
            "versionStartType": "including",
            "versionEnd": upper,
            "versionEndType": "excluding",
        }

    def label(self) -> str:
        return f"{self.vendor}/{self.product} {self.version}"


def finding_cves(cves: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], float | None, bool]:
    """(``cve_references`` highest score first, ``cvss_score`` max, ``exploit_available``)."""
    references = [
        {"id": c["id"], "cvss_score": c.get("cvss_score"), "cvss_vector": c.get("cvss_vector"),
         "published": c.get("published")}
        for c in sorted(cves, key=lambda c: (-(c.get("cvss_score") or 0.0), c["id"]))
    ]
    scores = [c["cvss_score"] for c in cves if isinstance(c.get("cvss_score"), (int, float))]
    return references, (max(scores) if scores else None), any(bool(c.get("kev")) for c in cves)
