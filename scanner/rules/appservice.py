"""App Service rules: HTTPS-only, minimum TLS version, FTP deployment, remote debugging,
managed identity and language runtimes past end of support.

The TLS and FTP settings live in the site's ``config/web`` child resource, not in the site GET,
so those rules report "not evaluated" when that child could not be read rather than guessing.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from scanner.inventory import ChildSpec, Inventory, Needs, props
from scanner.rules.support import lifecycle
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.support.end_of_support import judge_version
from scanner.rules.support.helpers import as_dict, flag, unreadable, verdict

SITE_TYPE = "Microsoft.Web/sites"
WEB_CONFIG = ChildSpec(SITE_TYPE, "config/web")

_MIN_TLS = (1, 2)


def _web_config(inv: Inventory, site: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """The site's config/web properties, or (None, why it is unavailable)."""
    site_id = str(site.get("id", ""))
    config = inv.child(WEB_CONFIG, site_id)
    if not isinstance(config, dict):
        reason = inv.child_error(WEB_CONFIG, site_id) or "child not collected"
        return None, f"site configuration could not be read: {reason}"
    return props(config), ""


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
def https_only(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``httpsOnly`` fails: the platform default is false."""
    for site in inv.of_type(SITE_TYPE):
        raw = props(site).get("httpsOnly")
        metadata = {"httpsOnly": raw}
        if raw is True or str(raw).strip().lower() == "true":
            yield verdict(site, SITE_TYPE, True, "HTTPS only is on", metadata)
        else:
            yield verdict(site, SITE_TYPE, False, "httpsOnly is not enabled", metadata)
    yield from unreadable(inv, SITE_TYPE, "site")


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
def minimum_tls(inv: Inventory) -> Iterable[Evaluation]:
    """Versions compare numerically ("1.10" would be above "1.2"); absent is not evaluated."""
    for site in inv.of_type(SITE_TYPE):
        config, why = _web_config(inv, site)
        if config is None:
            yield verdict(site, SITE_TYPE, None, why)
            continue
        raw = config.get("minTlsVersion")
        version = _tls_version(raw)
        metadata = {"minTlsVersion": raw}
        if version is None:
            if raw is None:
                detail = "minTlsVersion not reported"
            else:
                detail = f"unrecognised minTlsVersion {raw!r}"
            yield verdict(site, SITE_TYPE, None, detail, metadata)
        elif version < _MIN_TLS:
            yield verdict(site, SITE_TYPE, False, f"minimum TLS version is {raw}", metadata)
        else:
            yield verdict(site, SITE_TYPE, True, f"minimum TLS version is {raw}", metadata)
    yield from unreadable(inv, SITE_TYPE, "site")


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
def ftp_deployment(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``ftpsState`` is not evaluated: the setting decides and was not reported."""
    for site in inv.of_type(SITE_TYPE):
        config, why = _web_config(inv, site)
        if config is None:
            yield verdict(site, SITE_TYPE, None, why)
            continue
        raw = config.get("ftpsState")
        metadata = {"ftpsState": raw}
        if raw is None:
            yield verdict(site, SITE_TYPE, None, "ftpsState not reported", metadata)
        elif str(raw).strip().lower() == "allallowed":
            yield verdict(site, SITE_TYPE, False, "FTP state is AllAllowed (plain FTP accepted)", metadata)
        else:
            yield verdict(site, SITE_TYPE, True, f"FTP state is {raw}", metadata)
    yield from unreadable(inv, SITE_TYPE, "site")


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
def remote_debugging(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``remoteDebuggingEnabled`` passes: remote debugging is off unless turned on (it
    also switches itself off after 48 hours)."""
    for site in inv.of_type(SITE_TYPE):
        config, why = _web_config(inv, site)
        if config is None:
            yield verdict(site, SITE_TYPE, None, why)
            continue
        raw = config.get("remoteDebuggingEnabled")
        metadata = {"remoteDebuggingEnabled": raw, "remoteDebuggingVersion": config.get("remoteDebuggingVersion")}
        if flag(raw) is True:
            yield verdict(site, SITE_TYPE, False, "remote debugging is enabled", metadata)
        elif raw is None:
            yield verdict(site, SITE_TYPE, True, "remote debugging off (not reported; default off)", metadata)
        else:
            yield verdict(site, SITE_TYPE, True, "remote debugging is off", metadata)
    yield from unreadable(inv, SITE_TYPE, "site")


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
def managed_identity(inv: Inventory) -> Iterable[Evaluation]:
    """Absent ``identity`` fails: Azure omits it (or reports type None) when no identity is
    assigned. Read from the site's top-level ``identity``, not ``properties``."""
    for site in inv.of_type(SITE_TYPE):
        identity_type = as_dict(site.get("identity")).get("type")
        metadata = {"identityType": identity_type}
        shown = str(identity_type or "").strip()
        if shown and shown.lower() != "none":
            yield verdict(site, SITE_TYPE, True, f"managed identity: {shown}", metadata)
        else:
            yield verdict(site, SITE_TYPE, False, "no managed identity assigned", metadata)
    yield from unreadable(inv, SITE_TYPE, "site")


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
def app_runtime_out_of_support(inv: Inventory) -> Iterable[Evaluation]:
    """One evaluation per site: failed when any stack it runs is out of support (the first such
    stack's version is the finding's ``software``); container and Java stacks are not judged."""
    today = inv.collected_at.date()
    for site in inv.of_type(SITE_TYPE):
        config, why = _web_config(inv, site)
        if config is None:
            yield verdict(site, SITE_TYPE, None, why)
            continue
        result = _site_verdict(site, config, today)
        if result is not None:
            yield result
    yield from unreadable(inv, SITE_TYPE, "site")


def _site_verdict(site: dict[str, Any], config: dict[str, Any], today: date) -> Evaluation | None:
    """None for sites outside the rule's scope (containers, Java, .NET Framework): they are
    neither compliant nor failing here."""
    stacks, why = _runtime_stacks(config)
    if not stacks:
        return None if why.startswith(_OUT_OF_SCOPE) else verdict(site, SITE_TYPE, None, why)
    verdicts = [judge_version(site, SITE_TYPE, product, version, today) for product, version in stacks]
    for wanted in (False, None):
        for item in verdicts:
            if item.passed is wanted:
                return item
    return verdicts[0] if len(verdicts) == 1 else _joined(verdicts)


def _joined(items: list[Evaluation]) -> Evaluation:
    first = items[0]
    return Evaluation(first.resource_id, first.resource_name, first.resource_type, True,
                      "; ".join(item.detail for item in items), dict(first.metadata))
