"""App Service rules: HTTPS-only, minimum TLS version, FTP deployment, remote debugging,
managed identity, language runtimes past end of support, and whether the HTTP log is exported
(the site's diagnostic settings, judged as for Key Vault's audit log).

The TLS and FTP settings live in the site's ``config/web`` child resource, not in the site GET,
so those rules report "not evaluated" when that child could not be read rather than guessing.
"""

from __future__ import annotations

from typing import Any

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support import lifecycle
from scanner.rules.support.base import rule
from scanner.rules.support.diagnostic_settings import judge_log_export
from scanner.rules.support.end_of_support import judge_version
from scanner.rules.support.helpers import (
    Judgement,
    Resource,
    as_dict,
    child_of,
    flag,
    judge_each_resource,
    unread_child,
)

SITE_TYPE = "Microsoft.Web/sites"
WEB_CONFIG = ChildSpec(SITE_TYPE, "config/web")
each_site = judge_each_resource(SITE_TYPE, "site")

_MIN_TLS = (1, 2)


def _web_config(inv: Inventory, site: Resource) -> dict[str, Any] | Judgement:
    """The site's config/web properties, or the "not evaluated" judgement saying why they are
    unavailable."""
    config = child_of(inv, WEB_CONFIG, site)
    if not isinstance(config, dict):
        return unread_child(inv, WEB_CONFIG, site, "site configuration")
    return props(config)


def _tls_version(value: Any) -> tuple[int, ...] | None:
    """``"1.2"`` -> (1, 2); None when absent or not a dotted number."""
    if value is None:
        return None
    try:
        return tuple(int(part) for part in str(value).strip().split("."))
    except ValueError:
        return None


@rule(
    id="AZ-APP-001",
    title="Web app accepts plain HTTP",
    severity="HIGH",
    category="appservice",
    description=(
        "The app answers unencrypted HTTP requests instead of redirecting them to HTTPS, so "
        "session cookies, credentials and data can be read or altered on the network."
    ),
    remediation=(
        "Portal: App Service > Configuration (or TLS/SSL settings) > 'HTTPS Only' = On, or "
        "`az webapp update -g <rg> -n <app> --https-only true`."
    ),
    frameworks={"CIS": ["9.2"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE})),
)
@each_site
def https_only(inv: Inventory, site: Resource) -> Judgement:
    """Absent ``httpsOnly`` fails: the platform default is false."""
    raw = props(site).get("httpsOnly")
    metadata = {"httpsOnly": raw}
    if raw is True or str(raw).strip().lower() == "true":
        return Judgement(True, "HTTPS only is on", metadata)
    return Judgement(False, "httpsOnly is not enabled", metadata)


@rule(
    id="AZ-APP-002",
    title="Web app accepts TLS versions below 1.2",
    severity="MEDIUM",
    category="appservice",
    description=(
        "The app's minimum inbound TLS version is 1.0 or 1.1, deprecated protocols with known "
        "weaknesses that let attackers downgrade and attack client connections."
    ),
    remediation=(
        "Portal: App Service > Configuration > General settings > 'Minimum Inbound TLS "
        "Version' = 1.2, or `az webapp config set -g <rg> -n <app> --min-tls-version 1.2`."
    ),
    frameworks={"CIS": ["9.3"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE}), children=(WEB_CONFIG,)),
)
@each_site
def minimum_tls(inv: Inventory, site: Resource) -> Judgement:
    """Versions compare numerically ("1.10" would be above "1.2"); absent is not evaluated."""
    config = _web_config(inv, site)
    if isinstance(config, Judgement):
        return config
    raw = config.get("minTlsVersion")
    version = _tls_version(raw)
    metadata = {"minTlsVersion": raw}
    if version is None:
        detail = "minTlsVersion not reported" if raw is None else f"unrecognised minTlsVersion {raw!r}"
        return Judgement(None, detail, metadata)
    if version < _MIN_TLS:
        return Judgement(False, f"minimum TLS version is {raw}", metadata)
    return Judgement(True, f"minimum TLS version is {raw}", metadata)


@rule(
    id="AZ-APP-003",
    title="Web app allows unencrypted FTP deployment",
    severity="MEDIUM",
    category="appservice",
    description=(
        "The app's FTP endpoint accepts plain FTP, which sends deployment credentials and "
        "content in clear text; anyone who captures them can replace the app's code."
    ),
    remediation=(
        "Portal: App Service > Configuration > General settings > 'FTP state' = Disabled (or "
        "FTPS only if FTP is required), or `az webapp config set -g <rg> -n <app> "
        "--ftps-state Disabled`."
    ),
    frameworks={"CIS": ["9.10"], "NIST": ["PR.DS-2"], "ISO27001": ["A.8.24"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE}), children=(WEB_CONFIG,)),
)
@each_site
def ftp_deployment(inv: Inventory, site: Resource) -> Judgement:
    """Absent ``ftpsState`` is not evaluated: the setting decides and was not reported."""
    config = _web_config(inv, site)
    if isinstance(config, Judgement):
        return config
    raw = config.get("ftpsState")
    metadata = {"ftpsState": raw}
    if raw is None:
        return Judgement(None, "ftpsState not reported", metadata)
    if str(raw).strip().lower() == "allallowed":
        return Judgement(False, "FTP state is AllAllowed (plain FTP accepted)", metadata)
    return Judgement(True, f"FTP state is {raw}", metadata)


@rule(
    id="AZ-APP-004",
    title="Web app has remote debugging enabled",
    severity="MEDIUM",
    category="appservice",
    description=(
        "Remote debugging opens extra inbound debugger ports on the app and lets anyone holding "
        "publishing credentials attach a debugger to production code and read its memory."
    ),
    remediation=(
        "Portal: App Service > Configuration > General settings > 'Remote debugging' = Off, or "
        "`az webapp config set -g <rg> -n <app> --remote-debugging-enabled false`."
    ),
    frameworks={"NIST": ["PR.PT-3"], "ISO27001": ["A.8.9"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE}), children=(WEB_CONFIG,)),
)
@each_site
def remote_debugging(inv: Inventory, site: Resource) -> Judgement:
    """Absent ``remoteDebuggingEnabled`` passes: remote debugging is off unless turned on (it
    also switches itself off after 48 hours)."""
    config = _web_config(inv, site)
    if isinstance(config, Judgement):
        return config
    raw = config.get("remoteDebuggingEnabled")
    metadata = {"remoteDebuggingEnabled": raw, "remoteDebuggingVersion": config.get("remoteDebuggingVersion")}
    if flag(raw) is True:
        return Judgement(False, "remote debugging is enabled", metadata)
    if raw is None:
        return Judgement(True, "remote debugging off (not reported; default off)", metadata)
    return Judgement(True, "remote debugging is off", metadata)


@rule(
    id="AZ-APP-005",
    title="Web app has no managed identity",
    severity="LOW",
    category="appservice",
    description=(
        "The app has neither a system- nor a user-assigned managed identity, so it must reach "
        "databases, storage and Key Vault with secrets kept in its configuration, which can "
        "leak and must be rotated by hand."
    ),
    remediation=(
        "Portal: App Service > Identity > System assigned > Status = On (or add a user-assigned "
        "identity), or `az webapp identity assign -g <rg> -n <app>`; then grant it roles and "
        "remove stored credentials."
    ),
    frameworks={"CIS": ["9.5"], "NIST": ["PR.AC-1"], "ISO27001": ["A.5.17"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE})),
)
@each_site
def managed_identity(inv: Inventory, site: Resource) -> Judgement:
    """Absent ``identity`` fails: Azure omits it (or reports type None) when no identity is
    assigned. Read from the site's top-level ``identity``, not ``properties``."""
    identity_type = as_dict(site.get("identity")).get("type")
    metadata = {"identityType": identity_type}
    shown = str(identity_type or "").strip()
    if shown and shown.lower() != "none":
        return Judgement(True, f"managed identity: {shown}", metadata)
    return Judgement(False, "no managed identity assigned", metadata)


# linuxFxVersion stack name -> lifecycle product; JAVA/TOMCAT/JBOSS and DOCKER are not judged
_LINUX_STACKS = {"python": "python", "node": "node", "php": "php", "dotnetcore": "dotnet", "dotnet": "dotnet"}
_OUT_OF_SCOPE = "stack not judged"
_NOT_JUDGED = {"java", "tomcat", "jbosseap", "docker", "compose", "kube", "wildfly", "ruby"}


def _runtime_stacks(config: dict[str, Any]) -> tuple[list[tuple[str, str]], str]:
    """The (product, version) stacks a site runs, or ([], why none can be judged).

    Linux sites name one stack in ``linuxFxVersion`` (``PYTHON|3.11``); Windows sites set
    per-language fields (``phpVersion``, ``pythonVersion``, ``nodeVersion``) and
    ``netFrameworkVersion`` (``v4.0`` is the .NET Framework, a supported Windows component;
    ``v6.0`` and up are .NET).
    """
    fx = str(config.get("linuxFxVersion") or "").strip()
    if fx:
        stack, _, version = fx.partition("|")
        key = stack.strip().lower()
        if key in _LINUX_STACKS:
            return [(_LINUX_STACKS[key], version.strip())], ""
        if key in _NOT_JUDGED:
            return [], f"{_OUT_OF_SCOPE}: {fx}"
        return [], f"unrecognised runtime stack {fx!r}"
    stacks: list[tuple[str, str]] = []
    for field, product in (("phpVersion", "php"), ("pythonVersion", "python"), ("nodeVersion", "node")):
        value = str(config.get(field) or "").strip()
        if value and value.lower() != "off":
            stacks.append((product, value))
    net = str(config.get("netFrameworkVersion") or "").strip()
    parsed = lifecycle.parse_version(net)
    if parsed and parsed[0] >= 5:
        stacks.append(("dotnet", net.lstrip("vV")))
    if stacks:
        return stacks, ""
    if net:
        return [], f"{_OUT_OF_SCOPE}: .NET Framework {net} (Windows lifecycle)"
    return [], "no runtime stack reported"


@rule(
    id="AZ-APP-006",
    title="Web app runs a language runtime past end of support",
    severity="MEDIUM",
    category="appservice",
    description=(
        "The app's runtime stack (Python, Node.js, PHP or .NET version) no longer receives "
        "security fixes upstream, so vulnerabilities in the interpreter and its standard library "
        "stay open; App Service also stops offering the version for new deployments."
    ),
    remediation=(
        "Move the app to a supported version of its stack after testing it: portal: App Service "
        "> Configuration > General settings > Stack / version, or `az webapp config set -g <rg> "
        "-n <app> --linux-fx-version \"PYTHON|3.12\"`."
    ),
    frameworks={"CIS": ["9.6", "9.7"], "NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE}), children=(WEB_CONFIG,)),
)
@each_site
def app_runtime_out_of_support(inv: Inventory, site: Resource) -> Judgement | None:
    """One evaluation per site: failed when any stack it runs is out of support (the first such
    stack's version is the finding's ``software``). Sites outside the rule's scope (containers,
    Java, .NET Framework) are neither compliant nor failing here: they yield nothing."""
    config = _web_config(inv, site)
    if isinstance(config, Judgement):
        return config
    stacks, why = _runtime_stacks(config)
    if not stacks:
        return None if why.startswith(_OUT_OF_SCOPE) else Judgement(None, why)
    today = inv.collected_at.date()
    judgements = [judge_version(product, version, today) for product, version in stacks]
    for wanted in (False, None):
        for judgement in judgements:
            if judgement.passed is wanted:
                return judgement
    if len(judgements) == 1:
        return judgements[0]
    return Judgement(True, "; ".join(j.detail for j in judgements), judgements[0].metadata)




@rule(
    id="AZ-APP-007",
    title="Web app does not require client certificates",
    severity="LOW",
    category="appservice",
    description=(
        "Incoming client certificates are not required, so any client that reaches the app can "
        "open a TLS session; for apps meant for known clients only, mutual TLS is a second factor "
        "on every request. 'Optional' modes do not enforce it."
    ),
    remediation=(
        "Portal: App Service > Configuration > General settings > Client certificate mode = "
        "Required, or `az webapp update -g <rg> -n <app> --set clientCertEnabled=true "
        "clientCertMode=Required`."
    ),
    frameworks={"CIS": ["9.4"], "NIST": ["PR.AC-7"], "ISO27001": ["A.8.5"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE})),
)
@each_site
def client_certificates(inv: Inventory, site: Resource) -> Judgement:
    """``clientCertEnabled`` true with ``clientCertMode`` Required (absent mode means Required,
    the API's default)."""
    enabled = props(site).get("clientCertEnabled")
    mode = props(site).get("clientCertMode")
    metadata = {"clientCertEnabled": enabled, "clientCertMode": mode}
    if flag(enabled) is not True:
        return Judgement(False, "client certificates are off (clientCertEnabled is not true)", metadata)
    if mode is not None and str(mode).lower() != "required":
        return Judgement(False, f"client certificate mode is {mode} (not enforced)", metadata)
    return Judgement(True, "client certificates required", metadata)


@rule(
    id="AZ-APP-008",
    title="Web app does not use HTTP/2",
    severity="INFO",
    category="appservice",
    description=(
        "The app serves HTTP/1.1 only. HTTP/2 fixes head-of-line blocking and header "
        "compression weaknesses of HTTP/1.1; CIS asks for the latest HTTP version."
    ),
    remediation=(
        "Portal: App Service > Configuration > General settings > HTTP version = 2.0, or `az "
        "webapp config set -g <rg> -n <app> --http20-enabled true`."
    ),
    frameworks={"CIS": ["9.9"], "NIST": ["PR.IP-12"], "ISO27001": ["A.8.9"]},
    needs=Needs(resource_types=frozenset({SITE_TYPE}), children=(WEB_CONFIG,)),
)
@each_site
def http2(inv: Inventory, site: Resource) -> Judgement:
    config = _web_config(inv, site)
    if isinstance(config, Judgement):
        return config
    raw = config.get("http20Enabled")
    metadata = {"http20Enabled": raw}
    if flag(raw) is True:
        return Judgement(True, "HTTP/2 enabled", metadata)
    return Judgement(False, "http20Enabled is not true", metadata)


AUTH_SETTINGS = ChildSpec(SITE_TYPE, "config/authsettingsV2")


@rule(
    id="AZ-APP-009",
    title="App Service Authentication is not enabled",
    severity="LOW",
    category="appservice",
    description=(
        "The platform's built-in authentication (Easy Auth) is off, so every request reaches the "
        "application code unauthenticated and the app must get sign-in right by itself. Apps that "
        "are public by design can ignore this."
    ),
    remediation=(
        "Portal: App Service > Authentication > Add identity provider (Microsoft), 'Require "
        "authentication'; or `az webapp auth update -g <rg> -n <app> --enabled true "
        "--action LoginWithAzureActiveDirectory`."
    ),
    frameworks={"CIS": ["9.1"], "NIST": ["PR.AC-1", "PR.AC-7"], "ISO27001": ["A.8.5"]},
    # one GET per site (config/authsettingsV2): nothing else reports the authentication settings
    needs=Needs(resource_types=frozenset({SITE_TYPE}), children=(AUTH_SETTINGS,)),
)
@each_site
def app_service_authentication(inv: Inventory, site: Resource) -> Judgement:
    settings = child_of(inv, AUTH_SETTINGS, site)
    if not isinstance(settings, dict):
        return unread_child(inv, AUTH_SETTINGS, site, "authentication settings")
    platform = as_dict(props(settings).get("platform"))
    raw = platform.get("enabled")
    metadata = {"enabled": raw,
                "unauthenticatedClientAction": as_dict(props(settings).get("globalValidation")).get(
                    "unauthenticatedClientAction")}
    if flag(raw) is True:
        return Judgement(True, "App Service Authentication enabled", metadata)
    return Judgement(False, "App Service Authentication is off (platform.enabled is not true)", metadata)


SITE_DIAGNOSTIC_SETTINGS = ChildSpec(SITE_TYPE, "providers/Microsoft.Insights/diagnosticSettings", is_list=True)


@rule(
    id="AZ-APP-010",
    title="Web app HTTP logs are not sent anywhere",
    severity="LOW",
    category="appservice",
    description=(
        "No diagnostic setting of the web app sends its AppServiceHTTPLogs category (every "
        "request: client IP, path, status, user agent) to a workspace, storage account or event "
        "hub, so scanning, brute force and exploitation attempts against the app leave no trace "
        "to investigate. Function apps (whose request log is FunctionAppLogs) are not judged."
    ),
    remediation=(
        "Portal: App Service > Diagnostic settings > Add diagnostic setting, category 'HTTP logs' "
        "(AppServiceHTTPLogs) to a Log Analytics workspace; or `az monitor diagnostic-settings "
        "create -n http --resource <site id> --workspace <workspace id> --logs "
        "'[{\"category\":\"AppServiceHTTPLogs\",\"enabled\":true}]'`."
    ),
    frameworks={"CIS": ["5.1.7"], "NIST": ["PR.PT-1", "DE.CM-1"], "ISO27001": ["A.8.15"]},
    # one list per site (its diagnostic settings, an extension resource): no list or site GET
    # reports them
    needs=Needs(resource_types=frozenset({SITE_TYPE}), children=(SITE_DIAGNOSTIC_SETTINGS,)),
)
@each_site
def http_logs(inv: Inventory, site: Resource) -> Judgement | None:
    """Passes when a setting with a destination enables AppServiceHTTPLogs or the ``allLogs``
    group (the ``audit`` group holds only AppServiceAuditLogs, not the HTTP log)."""
    if "functionapp" in str(site.get("kind") or "").lower():
        return None
    return judge_log_export(inv, SITE_DIAGNOSTIC_SETTINGS, site, log="AppServiceHTTPLogs",
                            categories={"appservicehttplogs"}, groups={"alllogs"}, metadata_key="httpLogsTo")
