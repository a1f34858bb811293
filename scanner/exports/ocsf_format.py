"""JSON-OCSF export: one OCSF "Detection Finding" event (class 2004) per result, built and
validated with ``py-ocsf-models`` (pydantic models of the OCSF schema), as a JSON array
streamed event by event.

Mapping (OCSF 1.x Findings category): ``status_code`` is our result status (FAIL, PASS,
NOT_EVALUATED); ``status_id`` New for an open failure, Suppressed for a muted one, Resolved for a
pass, Unknown for not evaluated; ``severity_id`` from the rule's severity; ``finding_info.uid`` is
the finding key, stable across scans, ``first_seen_time`` when it first failed (unbroken);
``resources[0]`` the Azure resource; ``cloud.account`` the subscription; ``unmapped`` what OCSF has
no field for (frameworks, mute id, new).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Iterator

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.detection_finding import DetectionFinding
from py_ocsf_models.events.findings.detection_finding_type_id import DetectionFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.account import Account, TypeID
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.group import Group
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails

from scanner.exports.records import scan_records

_SEVERITY = {
    "CRITICAL": SeverityID.Critical, "HIGH": SeverityID.High, "MEDIUM": SeverityID.Medium,
    "LOW": SeverityID.Low, "INFO": SeverityID.Informational,
}
PRODUCT = Product(name="OpenShield", vendor_name="OpenShield", uid="openshield")


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _status(record: dict[str, Any]) -> StatusID:
    if record["status"] == "FAIL":
        return StatusID.Suppressed if record.get("muted") else StatusID.New
    return StatusID.Resolved if record["status"] == "PASS" else StatusID.Unknown


def detection_finding(record: dict[str, Any]) -> DetectionFinding:
    """The validated OCSF event of one result record (:mod:`scanner.exports.records`)."""
    severity = _SEVERITY.get(str(record.get("severity")), SeverityID.Unknown)
    detected = record.get("detected_at")
    status = _status(record)
    return DetectionFinding(
        activity_id=ActivityID.Create,
        activity_name=ActivityID.Create.name,
        type_uid=DetectionFindingTypeID.Create,
        type_name=f"Detection Finding: {ActivityID.Create.name}",
        severity_id=severity,
        severity=severity.name,
        status_id=status,
        status=status.name,
        status_code=str(record["status"]),
        status_detail=record.get("description") or None,
        message=f"{record['rule_id']} {record['status']}: {record.get('resource_name')}",
        time=_epoch(detected) or 0,
        time_dt=detected,
        metadata=Metadata(product=PRODUCT, event_code=record["rule_id"], profiles=["cloud", "datetime"],
                          uid=f"{record['scan_id']}/{record['finding_key']}"),
        finding_info=FindingInformation(
            uid=record["finding_key"],
            title=str(record.get("rule_name") or record["rule_id"]),
            desc=record.get("description") or None,
            types=[str(record.get("category"))] if record.get("category") else None,
            created_time=_epoch(detected),
            created_time_dt=detected,
            first_seen_time=_epoch(record.get("first_seen_at")),
            first_seen_time_dt=record.get("first_seen_at"),
        ),
        resources=[ResourceDetails(
            uid=record["resource_id"], name=record.get("resource_name"), type=record.get("resource_type"),
            region=record.get("location") or None, cloud_partition="AzureCloud",
            group=Group(name=record["resource_group"]) if record.get("resource_group") else None,
        )],
        cloud=Cloud(provider="Azure", region=record.get("location") or None,
                    account=Account(name=str(record.get("subscription_id")), uid=str(record.get("subscription_id")),
                                    type_id=TypeID.Other, type="Azure subscription")),
        remediation=Remediation(desc=record.get("remediation") or "") if record.get("remediation") else None,
        unmapped={"frameworks": record.get("frameworks") or {}, "muted": bool(record.get("muted")),
                  "mute_id": record.get("mute_id"), "new": bool(record.get("is_new"))},
    )


def scan_ocsf(url: str, scan_id: str) -> Iterator[str]:
    """A JSON array of Detection Finding events, one chunk per event."""
    return records_ocsf(scan_records(url, scan_id))


def records_ocsf(records: Iterable[dict[str, Any]]) -> Iterator[str]:
    """A JSON array of the records' Detection Finding events (a scan's or a filter's), streamed."""
    yield "["
    separator = "\n"
    for record in records:
        yield separator + detection_finding(record).model_dump_json(exclude_none=True)
        separator = ",\n"
    yield "\n]\n"
