"""Seed completed scans whose findings name deployed software, as the version rules store them."""

from __future__ import annotations

import uuid
from typing import Any

from store.clock import utcnow
from store.scans import ScanStore

# what the demo tenant's version rules report (AKS, PostgreSQL, MySQL, App Service stacks)
DEMO_SOFTWARE = [
    ("AZ-AKS-007", "Microsoft.ContainerService/managedClusters", "kubernetes", "kubernetes", "1.26.6"),
    ("AZ-PG-003", "Microsoft.DBforPostgreSQL/flexibleServers", "postgresql", "postgresql", "11"),
    ("AZ-MYSQL-003", "Microsoft.DBforMySQL/flexibleServers", "oracle", "mysql", "5.7"),
    ("AZ-APP-006", "Microsoft.Web/sites", "python", "python", "3.8"),
    ("AZ-APP-006", "Microsoft.Web/sites", "nodejs", "node.js", "14"),
]


def finding_row(scan_id: str, subscription: str, rule_id: str, rtype: str, name: str,
                metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "scan_id": scan_id, "subscription_id": subscription, "rule_id": rule_id, "rule_name": f"title of {rule_id}",
        "severity": "HIGH", "category": "compute",
        "resource_id": f"/subscriptions/{subscription}/resourceGroups/rg/providers/{rtype}/{name}",
        "resource_name": name, "resource_type": rtype, "description": "d", "remediation": "r",
        "frameworks": {"CIS": ["1.1"]}, "metadata": metadata, "detected_at": utcnow(),
        "cve_references": None, "cvss_score": None, "exploit_available": False,
    }


def seed_completed_scan(store: ScanStore, software: list[tuple[str, str, str, str, str]] = DEMO_SOFTWARE,
                        *, other_findings: int = 1, subscription: str | None = None) -> str:
    """A completed scan with one finding per ``software`` entry plus findings naming no software."""
    subscription = subscription or str(uuid.uuid4())
    scan = store.create(subscription)
    assert store.claim(scan.scan_id, pid=1, host="seed", process_create_time=None)
    rows = [
        finding_row(scan.scan_id, subscription, rule, rtype, f"{product}-{n}",
                    {"software": {"vendor": vendor, "product": product, "version": version}})
        for n, (rule, rtype, vendor, product, version) in enumerate(software)
    ]
    rows += [finding_row(scan.scan_id, subscription, "AZ-STOR-001", "Microsoft.Storage/storageAccounts",
                         f"store{n}", {"detail": "no software here"}) for n in range(other_findings)]
    assert store.complete_with_results(scan.scan_id, findings=rows, outcomes=[], score=50.0,
                                       cve_enrichment_status="SKIPPED")
    return scan.scan_id
