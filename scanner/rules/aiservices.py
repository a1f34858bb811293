"""Azure AI services (Cognitive Services) account rules: network exposure, API-key (local)
authentication and customer-managed keys.

Every rule reads the account's own GET (``Microsoft.CognitiveServices/accounts``: Azure OpenAI,
AI Services, Speech, Language, ...), so no child read is needed.
"""

from __future__ import annotations

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support.base import rule
from scanner.rules.support.helpers import Judgement, Resource, as_dict, judge_each_resource

COGNITIVE_TYPE = "Microsoft.CognitiveServices/accounts"
_NEEDS = Needs(resource_types=frozenset({COGNITIVE_TYPE}))
each_account = judge_each_resource(COGNITIVE_TYPE, "AI services account")


@rule(
    id="AZ-AI-001",
    title="AI services account accepts traffic from all networks",
    severity="MEDIUM",
    category="ai",
    description=(
        "Public network access is on and the network rules' default action is Allow (or there "
        "are none), so the account's endpoint answers any client on the Internet; a leaked API "
        "key then gives anyone its models, data and quota."
    ),
    remediation=(
        "Portal: AI services account > Networking > 'Selected networks and private endpoints' or "
        "'Disabled', or `az cognitiveservices account update -g <rg> -n <account> "
        "--custom-domain <name>` then `az cognitiveservices account network-rule add ...` with "
        "`networkAcls.defaultAction` Deny."
    ),
    frameworks={"NIST": ["PR.AC-5"], "ISO27001": ["A.8.20"]},
    needs=_NEEDS,
)
@each_account
def ai_network_access(inv: Inventory, account: Resource) -> Judgement:
    """Passes when ``publicNetworkAccess`` is Disabled or ``networkAcls.defaultAction`` is Deny;
    absent values are the Azure defaults (Enabled, no rules = Allow)."""
    access = props(account).get("publicNetworkAccess")
    default_action = as_dict(props(account).get("networkAcls")).get("defaultAction")
    metadata = {"publicNetworkAccess": access, "defaultAction": default_action}
    if str(access or "").strip().lower() == "disabled":
        return Judgement(True, "public network access is Disabled", metadata)
    if str(default_action or "").strip().lower() == "deny":
        return Judgement(True, "network rules deny by default (selected networks only)", metadata)
    return Judgement(False, f"public network access is {access or 'Enabled (default)'} and the default "
                            f"network action is {default_action or 'Allow (no rules)'}", metadata)


@rule(
    id="AZ-AI-002",
    title="AI services account accepts API keys",
    severity="MEDIUM",
    category="ai",
    description=(
        "Local (API key) authentication is on: anyone holding one of the account's two keys can "
        "call it without Microsoft Entra ID, bypassing MFA, Conditional Access and per-identity "
        "RBAC and audit; keys end up in code, notebooks and configuration."
    ),
    remediation=(
        "Move callers to Microsoft Entra ID (managed identities with the Cognitive Services User "
        "role), then set `disableLocalAuth` true: `az resource update --ids <account-id> --set "
        "properties.disableLocalAuth=true`."
    ),
    frameworks={"NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.5.17", "A.8.5"]},
    needs=_NEEDS,
)
@each_account
def ai_local_auth(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``disableLocalAuth`` is false: keys are accepted by default."""
    disabled = props(account).get("disableLocalAuth")
    metadata = {"disableLocalAuth": disabled}
    if disabled is True:
        return Judgement(True, "API keys are disabled (Microsoft Entra ID only)", metadata)
    return Judgement(False, "API key (local) authentication is enabled", metadata)


@rule(
    id="AZ-AI-003",
    title="AI services account is not encrypted with a customer-managed key",
    severity="LOW",
    category="ai",
    description=(
        "Stored data (fine-tuning files, custom models, batch inputs) is encrypted with "
        "Microsoft-managed keys only; the organisation cannot rotate, audit or revoke the key "
        "that protects it."
    ),
    remediation=(
        "Portal: AI services account > Encryption > Customer-managed keys (a key in a Key Vault "
        "with purge protection, accessed by the account's managed identity)."
    ),
    frameworks={"NIST": ["PR.DS-1"], "ISO27001": ["A.8.24"]},
    needs=_NEEDS,
)
@each_account
def ai_customer_managed_key(inv: Inventory, account: Resource) -> Judgement:
    """Absent ``encryption.keySource`` is Microsoft.CognitiveServices (Microsoft-managed)."""
    source = as_dict(props(account).get("encryption")).get("keySource")
    metadata = {"keySource": source}
    if str(source or "").strip().lower() == "microsoft.keyvault":
        return Judgement(True, "encrypted with a customer-managed key", metadata)
    return Judgement(False, f"keySource is {source or 'Microsoft.CognitiveServices (default)'}", metadata)
