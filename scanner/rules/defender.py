"""Microsoft Defender for Cloud settings of the subscription (the plans themselves are
AZ-MON-006): who is told about alerts (security contacts), agent auto-provisioning, and the
integrations with Defender for Cloud Apps (MCAS) and Defender for Endpoint (WDATP); and, per IoT
hub, whether Defender for IoT covers it (AZ-DEF-013).

Each rule reads one subscription-scope collection under ``providers/Microsoft.Security`` and
gives one verdict on the subscription; when the collection could not be read the rule is
skipped with the reason (the engine does that from ``Needs``).
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import Inventory, Needs, SubscriptionRead, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import Judgement, Resource, as_dict, flag, judge_each_resource, judge_subscription

SECURITY_CONTACTS = SubscriptionRead("providers/Microsoft.Security/securityContacts",
                                     "Microsoft Defender for Cloud security contacts")
AUTO_PROVISIONING = SubscriptionRead("providers/Microsoft.Security/autoProvisioningSettings",
                                     "Microsoft Defender for Cloud auto-provisioning settings")
SECURITY_SETTINGS = SubscriptionRead("providers/Microsoft.Security/settings",
                                     "Microsoft Defender for Cloud settings")
_CONTACTS = Needs(subscription_reads=(SECURITY_CONTACTS,))
_NIST_CONTACTS = ["RS.CO-2", "DE.DP-4"]
_SEVERITY_ORDER = {"low": 0, "medium": 1, "high": 2}


def _contacts(inv: Inventory) -> list[dict[str, Any]] | None:
    payload = inv.subscription_read(SECURITY_CONTACTS)
    if not isinstance(payload, list):
        return None
    return [c for c in payload if isinstance(c, dict)]


@rule(
    id="AZ-DEF-001",
    title="Defender for Cloud has no security contact email",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "No security contact email is configured, so Microsoft's notifications about security "
        "alerts and about a compromised subscription reach no one who will act on them."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Email "
        "notifications > 'Additional email addresses', or `az security contact create -n default "
        "--emails soc@example.com --alert-notifications on`."
    ),
    frameworks={"CIS": ["2.1.19"], "NIST": _NIST_CONTACTS, "ISO27001": ["A.5.24", "A.6.8"]},
    needs=_CONTACTS,
)
@judge_subscription
def contact_email(inv: Inventory) -> Judgement | None:
    contacts = _contacts(inv)
    if contacts is None:
        return None
    emails = sorted({e.strip() for c in contacts for e in str(props(c).get("emails") or "").split(";") if e.strip()})
    if emails:
        return Judgement(True, f"{len(emails)} security contact email(s) configured", {"emails": len(emails)})
    return Judgement(False, "no security contact email configured", {"contacts": len(contacts)})


@rule(
    id="AZ-DEF-002",
    title="Defender for Cloud has no security contact phone number",
    severity="LOW",
    category="monitoring",
    description=(
        "No phone number is set on the security contact, so Microsoft cannot call anyone when it "
        "detects that the subscription has been compromised."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Email "
        "notifications > phone number, or `az security contact create -n default --emails <email> "
        "--phone <number>`."
    ),
    frameworks={"NIST": _NIST_CONTACTS, "ISO27001": ["A.5.24", "A.6.8"]},
    needs=_CONTACTS,
)
@judge_subscription
def contact_phone(inv: Inventory) -> Judgement | None:
    contacts = _contacts(inv)
    if contacts is None:
        return None
    if any(str(props(c).get("phone") or "").strip() for c in contacts):
        return Judgement(True, "a security contact phone number is configured")
    return Judgement(False, "no security contact phone number configured", {"contacts": len(contacts)})


@rule(
    id="AZ-DEF-003",
    title="Defender for Cloud does not email alerts of high severity",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "Alert email notifications are off, or only sent for a severity above High, so the "
        "security contact is not told when Defender for Cloud raises a high-severity alert."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Email "
        "notifications > 'Notify about alerts with the following severity (or higher)' = High "
        "(or lower), or `az security contact create -n default --emails <email> "
        "--alert-notifications on`."
    ),
    frameworks={"CIS": ["2.1.20"], "NIST": _NIST_CONTACTS, "ISO27001": ["A.5.24"]},
    needs=_CONTACTS,
)
@judge_subscription
def alert_notifications(inv: Inventory) -> Judgement | None:
    """An enabled contact with an ``Alert`` notification source (api-version 2023-12-01-preview:
    ``notificationsSources: [{sourceType: Alert, minimalSeverity}]``), or, in the older shape
    (2020-01-01-preview, kept for stored inventories), ``alertNotifications.state`` On; with
    ``minimalSeverity`` High, Medium or Low (absent: the API's default, High)."""
    contacts = _contacts(inv)
    if contacts is None:
        return None
    for contact in contacts:
        source = _notification_source(contact, "Alert")
        if source is not None:
            on, severity = True, str(source.get("minimalSeverity") or "High")
        else:
            notifications = as_dict(props(contact).get("alertNotifications"))
            on = str(notifications.get("state") or "").lower() == "on"
            severity = str(notifications.get("minimalSeverity") or "High")
        if on and severity.lower() in _SEVERITY_ORDER:
            return Judgement(True, f"alerts of severity {severity} or higher are emailed", {"minimalSeverity": severity})
    return Judgement(False, "alert email notifications are off", {"contacts": len(contacts)})


def _notification_source(contact: dict[str, Any], source_type: str) -> dict[str, Any] | None:
    """The contact's ``notificationsSources`` entry of ``source_type`` (Alert, AttackPath), or
    None; a contact with ``isEnabled`` false notifies no one, so it has none."""
    p = props(contact)
    if p.get("isEnabled") is False:
        return None
    for source in p.get("notificationsSources") or []:
        source = as_dict(source)
        if str(source.get("sourceType") or "").lower() == source_type.lower():
            return source
    return None


@rule(
    id="AZ-DEF-004",
    title="Defender for Cloud does not email subscription owners about alerts",
    severity="LOW",
    category="monitoring",
    description=(
        "Alert emails are not sent to the subscription's Owners, so the people accountable for "
        "the subscription learn about attacks on it second-hand or not at all."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Email "
        "notifications > 'All users with the following roles' = Owner."
    ),
    frameworks={"NIST": _NIST_CONTACTS, "ISO27001": ["A.5.24"]},
    needs=_CONTACTS,
)
@judge_subscription
def notify_owners(inv: Inventory) -> Judgement | None:
    contacts = _contacts(inv)
    if contacts is None:
        return None
    for contact in contacts:
        by_role = as_dict(props(contact).get("notificationsByRole"))
        roles = [str(r) for r in by_role.get("roles") or []]
        if str(by_role.get("state") or "").lower() == "on" and "owner" in {r.lower() for r in roles}:
            return Judgement(True, "alerts are emailed to: " + ", ".join(roles), {"roles": roles})
    return Judgement(False, "alert emails are not sent to subscription Owners", {"contacts": len(contacts)})


@rule(
    id="AZ-DEF-005",
    title="Defender for Cloud auto-provisioning is off",
    severity="LOW",
    category="monitoring",
    description=(
        "Automatic provisioning of the monitoring agent is off, so new virtual machines are not "
        "enrolled in Defender for Cloud's data collection and their threats go unseen until "
        "someone installs the agent by hand."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Settings "
        "& monitoring, turn the agents On; or `az security auto-provisioning-setting update -n "
        "default --auto-provision On`."
    ),
    frameworks={"NIST": ["DE.CM-4", "DE.CM-7"], "ISO27001": ["A.8.16"]},
    needs=Needs(subscription_reads=(AUTO_PROVISIONING,)),
)
@judge_subscription
def auto_provisioning(inv: Inventory) -> Judgement | None:
    payload = inv.subscription_read(AUTO_PROVISIONING)
    if not isinstance(payload, list):
        return None
    states = {str(s.get("name") or ""): props(s).get("autoProvision") for s in payload if isinstance(s, dict)}
    if any(str(v or "").lower() == "on" for v in states.values()):
        return Judgement(True, "auto-provisioning is On", {"settings": states})
    return Judgement(False, "auto-provisioning is Off" if states else "no auto-provisioning setting", {"settings": states})


def _integration(inv: Inventory, name: str, label: str) -> Judgement | None:
    payload = inv.subscription_read(SECURITY_SETTINGS)
    if not isinstance(payload, list):
        return None
    setting = next((s for s in payload if isinstance(s, dict) and str(s.get("name") or "").lower() == name.lower()), None)
    if setting is None:
        return Judgement(False, f"{label} integration ({name}) is not configured", {"setting": name})
    enabled = flag(props(setting).get("enabled"))
    metadata = {"setting": name, "enabled": enabled}
    if enabled is True:
        return Judgement(True, f"{label} integration ({name}) is enabled", metadata)
    return Judgement(False, f"{label} integration ({name}) is disabled", metadata)


_SETTINGS = Needs(subscription_reads=(SECURITY_SETTINGS,))


@rule(
    id="AZ-DEF-006",
    title="Defender for Cloud Apps integration is off",
    severity="LOW",
    category="monitoring",
    description=(
        "Defender for Cloud does not share data with Microsoft Defender for Cloud Apps (MCAS), so "
        "cloud-app activity and shadow IT are not correlated with the subscription's alerts."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > "
        "Integrations > 'Allow Microsoft Defender for Cloud Apps to access my data'."
    ),
    frameworks={"CIS": ["2.1.21"], "NIST": ["DE.CM-7", "DE.AE-3"], "ISO27001": ["A.8.16"]},
    needs=_SETTINGS,
)
@judge_subscription
def mcas_integration(inv: Inventory) -> Judgement | None:
    return _integration(inv, "MCAS", "Defender for Cloud Apps")


@rule(
    id="AZ-DEF-007",
    title="Defender for Endpoint integration is off",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "Defender for Cloud does not deploy Microsoft Defender for Endpoint (WDATP) to servers, "
        "so machines get no endpoint detection and response from their Defender for Servers plan."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > "
        "Integrations > 'Allow Microsoft Defender for Endpoint to access my data'."
    ),
    frameworks={"CIS": ["2.1.22"], "NIST": ["DE.CM-4", "PR.PT-1"], "ISO27001": ["A.8.7"]},
    needs=_SETTINGS,
)
@judge_subscription
def wdatp_integration(inv: Inventory) -> Judgement | None:
    return _integration(inv, "WDATP", "Defender for Endpoint")


# ------------------------------------------------- Defender for Cloud default initiative (2.1.14)
POLICY_ASSIGNMENTS = SubscriptionRead("providers/Microsoft.Authorization/policyAssignments",
                                      "Azure Policy assignments of the subscription")
DEFAULT_ASSIGNMENT = "SecurityCenterBuiltIn"  # the name Defender for Cloud gives its assignment
# the Microsoft cloud security benchmark initiative (formerly Azure Security Benchmark / "ASC Default")
MCSB_INITIATIVE = "1f3afdf9-d0c9-4c3d-847f-89da613e70a8"


def _default_assignment(assignments: list[Any]) -> dict[str, Any] | None:
    """Defender for Cloud's default assignment: by its name, else any assignment of the MCSB
    initiative (one assigned at a management group applies too; the list includes those)."""
    items = [a for a in assignments if isinstance(a, dict)]
    for item in items:
        if str(item.get("name", "")).lower() == DEFAULT_ASSIGNMENT.lower():
            return item
    for item in items:
        if str(props(item).get("policyDefinitionId") or "").rstrip("/").lower().endswith(f"/{MCSB_INITIATIVE}"):
            return item
    return None


@rule(
    id="AZ-DEF-008",
    title="Defender for Cloud default policy initiative is missing, not enforced or has policies disabled",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "Defender for Cloud's default assignment (SecurityCenterBuiltIn, the Microsoft cloud "
        "security benchmark initiative) is missing, set to DoNotEnforce, or sets some of its "
        "policies' effect to Disabled, so the recommendations those policies produce (missing "
        "updates, open management ports, unencrypted data, ...) are never raised. Parameters left "
        "at the initiative's defaults are not judged: the assignment does not carry them."
    ),
    remediation=(
        "Microsoft Defender for Cloud > Environment settings > <subscription> > Security policies: "
        "make sure the Microsoft cloud security benchmark is assigned and enforced; in the "
        "assignment's Parameters set every effect that reads Disabled to AuditIfNotExists or Audit "
        "(`az policy assignment show -n SecurityCenterBuiltIn --scope /subscriptions/<id>`)."
    ),
    frameworks={"CIS": ["2.1.14"], "NIST": ["ID.GV-1", "DE.CM-8"], "ISO27001": ["A.5.36", "A.8.8"]},
    needs=Needs(subscription_reads=(POLICY_ASSIGNMENTS,)),
)
@judge_subscription
def default_initiative(inv: Inventory) -> Judgement | None:
    """Fails when the assignment is absent, its ``enforcementMode`` is DoNotEnforce, or any
    parameter's ``value`` is the string "Disabled" (the effect parameters' off value)."""
    payload = inv.subscription_read(POLICY_ASSIGNMENTS)
    if not isinstance(payload, list):
        return None
    assignment = _default_assignment(payload)
    if assignment is None:
        return Judgement(False, "Defender for Cloud's default initiative (SecurityCenterBuiltIn) is not assigned",
                         {"assignments": len(payload)})
    p = props(assignment)
    parameters = as_dict(p.get("parameters"))
    disabled = sorted(name for name, param in parameters.items()
                      if str(as_dict(param).get("value") or "").strip().lower() == "disabled")
    mode = p.get("enforcementMode") or "Default"
    metadata = {"assignment": assignment.get("name"), "enforcementMode": mode, "disabledParameters": disabled,
                "scope": p.get("scope")}
    problems = []
    if str(mode).lower() == "donotenforce":
        problems.append("enforcement is DoNotEnforce")
    if disabled:
        problems.append(f"{len(disabled)} polic{'y' if len(disabled) == 1 else 'ies'} set to Disabled: "
                        + ", ".join(disabled[:5]) + (" ..." if len(disabled) > 5 else ""))
    if problems:
        return Judgement(False, "; ".join(problems), metadata)
    return Judgement(True, f"{assignment.get('name')} is assigned and enforced with no policy disabled", metadata)


# ---------------------------------------------------------------------------------------------
# Defender for Servers components (CIS v6 8.1.3.x): the ``extensions`` of the VirtualMachines
# pricing (``[{name, isEnabled: "True"|"False", additionalExtensionProperties}]``, api-version
# 2023-01-01 and later). One verdict on the subscription per rule, like the other settings here.
# ---------------------------------------------------------------------------------------------

from scanner.rules.monitoring import DEFENDER_PRICINGS  # noqa: E402  (the plans' read)

SERVERS_PLAN = "VirtualMachines"


def _servers_component(inv: Inventory, extension: str, label: str) -> Judgement | None:
    """Pass when Defender for Servers is on (Standard) and its ``extension`` reports
    ``isEnabled`` true; a Free plan fails (the component cannot run without the plan), and so
    does an extension the plan does not list (Azure lists the ones the plan offers). Not
    evaluated when the answer holds no VirtualMachines plan."""
    payload = inv.subscription_read(DEFENDER_PRICINGS)
    if not isinstance(payload, list):
        return None
    pricing = next((p for p in payload if isinstance(p, dict) and str(p.get("name") or "").lower()
                    == SERVERS_PLAN.lower()), None)
    if pricing is None:
        return Judgement(None, "Defender for Servers plan (VirtualMachines) not reported")
    p = props(pricing)
    tier = str(p.get("pricingTier") or "")
    entries = {str(as_dict(e).get("name") or "").lower(): as_dict(e) for e in p.get("extensions") or []}
    enabled = flag(entries.get(extension.lower(), {}).get("isEnabled"))
    metadata = {"plan": SERVERS_PLAN, "pricingTier": tier or None, "subPlan": p.get("subPlan"),
                "extension": extension, "isEnabled": enabled}
    if tier.lower() != "standard":
        return Judgement(False, f"{label} is off: Defender for Servers is not on (tier {tier or 'not set'})", metadata)
    if enabled is True:
        return Judgement(True, f"{label} ({extension}) is on", metadata)
    if extension.lower() not in entries:
        return Judgement(False, f"{label} ({extension}) is not among the plan's components", metadata)
    return Judgement(False, f"{label} ({extension}) is off", metadata)


_PRICINGS = Needs(subscription_reads=(DEFENDER_PRICINGS,))
_SERVERS_REMEDIATION = (
    "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Defender "
    "plans > Servers (Plan 2) > Settings & monitoring, set '{component}' On; or PUT "
    "`/subscriptions/<id>/providers/Microsoft.Security/pricings/VirtualMachines?api-version="
    "2024-01-01` with `pricingTier` Standard, `subPlan` P2 and `extensions` "
    "[{{\"name\": \"{extension}\", \"isEnabled\": \"True\"}}]."
)


@rule(
    id="AZ-DEF-009",
    title="Defender for Servers agentless scanning is off",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "The Defender for Servers component 'Agentless scanning for machines' is off (or the "
        "plan itself is), so machines' disks are not snapshotted and scanned for vulnerable "
        "software, malware and plain-text secrets unless an agent happens to be installed."
    ),
    remediation=_SERVERS_REMEDIATION.format(component="Agentless scanning for machines",
                                            extension="AgentlessVmScanning"),
    frameworks={"NIST": ["DE.CM-8", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=_PRICINGS,
)
@judge_subscription
def servers_agentless_scanning(inv: Inventory) -> Judgement | None:
    return _servers_component(inv, "AgentlessVmScanning", "agentless scanning for machines")


@rule(
    id="AZ-DEF-010",
    title="Defender for Servers file integrity monitoring is off",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "The Defender for Servers component 'File integrity monitoring' is off (or the plan "
        "itself is), so changes to operating-system files, registry keys and application "
        "binaries, a common sign of compromise, are not tracked or alerted on."
    ),
    remediation=_SERVERS_REMEDIATION.format(component="File integrity monitoring",
                                            extension="FileIntegrityMonitoring"),
    frameworks={"NIST": ["PR.DS-6", "DE.CM-7"], "ISO27001": ["A.8.16", "A.8.9"]},
    needs=_PRICINGS,
)
@judge_subscription
def servers_file_integrity_monitoring(inv: Inventory) -> Judgement | None:
    return _servers_component(inv, "FileIntegrityMonitoring", "file integrity monitoring")


# ---------------------------------------------------------------------------------------------
# Attack-path notifications (CIS v6 8.1.15): the security contact's ``AttackPath`` notification
# source (api-version 2023-12-01-preview).
# ---------------------------------------------------------------------------------------------

_RISK_LEVELS = ("Critical", "High", "Medium", "Low")


@rule(
    id="AZ-DEF-011",
    title="Defender for Cloud does not email attack-path notifications",
    severity="LOW",
    category="monitoring",
    description=(
        "No enabled security contact has attack-path notifications on, so nobody is emailed "
        "when Defender CSPM finds a path an attacker could follow from an exposed resource to a "
        "sensitive one (an Internet-facing VM with a vulnerability and a key to a storage "
        "account, for example). Any risk level passes; the finding's metadata gives the level."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Email "
        "notifications > 'Notify about attack paths with the following risk level (or higher)', "
        "choose a level (Critical or High keeps the volume low); or PUT the `default` security "
        "contact (api-version 2023-12-01-preview) with `notificationsSources` "
        "[{\"sourceType\": \"AttackPath\", \"minimalRiskLevel\": \"High\"}]."
    ),
    frameworks={"NIST": _NIST_CONTACTS, "ISO27001": ["A.5.24", "A.8.8"]},
    needs=_CONTACTS,
)
@judge_subscription
def attack_path_notifications(inv: Inventory) -> Judgement | None:
    """An enabled contact with an ``AttackPath`` source whose ``minimalRiskLevel`` is one of
    Critical, High, Medium, Low; a contact read in the older shape has no such source (fails)."""
    contacts = _contacts(inv)
    if contacts is None:
        return None
    for contact in contacts:
        source = _notification_source(contact, "AttackPath")
        level = str((source or {}).get("minimalRiskLevel") or "")
        if source is not None and level.lower() in {r.lower() for r in _RISK_LEVELS}:
            return Judgement(True, f"attack paths of risk level {level} or higher are emailed",
                             {"minimalRiskLevel": level})
    return Judgement(False, "attack-path email notifications are off", {"contacts": len(contacts)})


# ---------------------------------------------------------------------------------------------
# Defender for Servers vulnerability assessment (CIS v6 8.1.3.2): the subscription's
# ``serverVulnerabilityAssessmentsSettings`` (api-version 2023-05-01; ``azureServersSetting`` of
# kind AzureServersSetting, ``selectedProvider`` MdeTvm = Microsoft Defender Vulnerability
# Management), which the portal's "Vulnerability assessment for machines" component writes.
# ---------------------------------------------------------------------------------------------

SERVER_VA_SETTINGS = SubscriptionRead("providers/Microsoft.Security/serverVulnerabilityAssessmentsSettings",
                                      "Defender for Servers vulnerability assessment settings")


@rule(
    id="AZ-DEF-012",
    title="Defender for Servers vulnerability assessment is off",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "Defender for Servers' 'Vulnerability assessment for machines' component has no provider "
        "selected (or the plan itself is off), so the subscription's machines are not inventoried "
        "for vulnerable software and missing patches by Microsoft Defender Vulnerability "
        "Management."
    ),
    remediation=(
        "Portal: Microsoft Defender for Cloud > Environment settings > <subscription> > Defender "
        "plans > Servers > Settings & monitoring > 'Vulnerability assessment for machines' On "
        "(Microsoft Defender Vulnerability Management); or PUT `/subscriptions/<id>/providers/"
        "Microsoft.Security/serverVulnerabilityAssessmentsSettings/azureServersSetting?api-version="
        "2023-05-01` with `{\"kind\": \"AzureServersSetting\", \"properties\": {\"selectedProvider\": "
        "\"MdeTvm\"}}`."
    ),
    frameworks={"NIST": ["ID.RA-1", "DE.CM-8"], "ISO27001": ["A.8.8"]},
    needs=Needs(subscription_reads=(SERVER_VA_SETTINGS, DEFENDER_PRICINGS)),
)
@judge_subscription
def servers_vulnerability_assessment(inv: Inventory) -> Judgement | None:
    """Pass when Defender for Servers is Standard and an AzureServersSetting names a provider;
    fails without the plan (the component cannot run) or without a setting."""
    payload = inv.subscription_read(SERVER_VA_SETTINGS)
    pricings = inv.subscription_read(DEFENDER_PRICINGS)
    if not isinstance(payload, list) or not isinstance(pricings, list):
        return None
    servers = next((p for p in pricings if isinstance(p, dict) and str(p.get("name") or "").lower()
                    == SERVERS_PLAN.lower()), None)
    if servers is None:
        return Judgement(None, "Defender for Servers plan (VirtualMachines) not reported")
    tier = str(props(servers).get("pricingTier") or "")
    providers = sorted({str(props(s).get("selectedProvider")) for s in payload if isinstance(s, dict)
                        and str(s.get("kind") or "").lower() == "azureserverssetting"
                        and props(s).get("selectedProvider")})
    metadata = {"pricingTier": tier or None, "selectedProviders": providers}
    if tier.lower() != "standard":
        return Judgement(False, f"vulnerability assessment is off: Defender for Servers is not on "
                                f"(tier {tier or 'not set'})", metadata)
    if providers:
        return Judgement(True, "vulnerability assessment for machines is on (provider " + ", ".join(providers) + ")",
                         metadata)
    return Judgement(False, "vulnerability assessment for machines is off (no provider selected)", metadata)


# ---------------------------------------------------------------------------------------------
# Defender for IoT Hub (CIS v6 8.2.1): an IoT hub is protected when an IoT security solution
# (``Microsoft.Security/iotSecuritySolutions``, api-version 2019-08-01, one subscription list)
# with status Enabled names it in ``iotHubs``; that is what the hub's "Defender for IoT >
# Settings > Enable" writes.
# ---------------------------------------------------------------------------------------------

IOT_HUB_TYPE = "Microsoft.Devices/IotHubs"
IOT_SECURITY_SOLUTIONS = SubscriptionRead("providers/Microsoft.Security/iotSecuritySolutions",
                                          "Microsoft Defender for IoT security solutions")


@rule(
    id="AZ-DEF-013",
    title="Microsoft Defender for IoT is not enabled on the IoT hub",
    severity="MEDIUM",
    category="monitoring",
    description=(
        "No enabled IoT security solution (Microsoft Defender for IoT) covers the IoT hub, so its "
        "devices and the hub's configuration get no security recommendations and no alerts for "
        "suspicious device behaviour or compromised device credentials."
    ),
    remediation=(
        "Portal: IoT hub > Defender for IoT > Settings > Enable Microsoft Defender for IoT; or "
        "`az security iot-solution create --solution-name <name> -g <rg> --iot-hubs <hub id> "
        "--display-name <name> -l <region>`."
    ),
    frameworks={"NIST": ["DE.CM-1", "DE.CM-4"], "ISO27001": ["A.8.16"]},
    needs=Needs(resource_types=frozenset({IOT_HUB_TYPE}), subscription_reads=(IOT_SECURITY_SOLUTIONS,)),
)
@judge_each_resource(IOT_HUB_TYPE, "IoT hub")
def iot_hub_defender(inv: Inventory, hub: Resource) -> Judgement | None:
    """Passes when a solution whose ``status`` is Enabled (the default when absent) lists the
    hub's id (case-insensitive); a disabled solution naming it fails and is named."""
    solutions = inv.subscription_read(IOT_SECURITY_SOLUTIONS)
    if not isinstance(solutions, list):
        return None
    hub_id = str(hub.get("id") or "").rstrip("/").lower()
    naming = [s for s in solutions if isinstance(s, dict) and hub_id in
              {str(h).rstrip("/").lower() for h in props(s).get("iotHubs") or []}]
    enabled = sorted(str(s.get("name")) for s in naming
                     if str(props(s).get("status") or "Enabled").lower() == "enabled")
    metadata = {"iotSecuritySolutions": sorted(str(s.get("name")) for s in naming)}
    if enabled:
        return Judgement(True, "Defender for IoT is enabled by " + ", ".join(enabled), metadata)
    if naming:
        return Judgement(False, "Defender for IoT solution(s) " + ", ".join(metadata["iotSecuritySolutions"])
                         + " are disabled", metadata)
    return Judgement(False, "no Defender for IoT security solution covers the hub", metadata)
