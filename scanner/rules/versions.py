"""Software past upstream end of support: AKS Kubernetes, PostgreSQL and MySQL flexible servers,
App Service runtime stacks.

Software that no longer receives security fixes accumulates known vulnerabilities. Each finding
carries ``metadata["software"]`` (CPE vendor, product, version as Azure reports it) so CVE
enrichment can attach the CVEs that affect exactly that version. Support dates come from
:mod:`scanner.rules.support.lifecycle` and are compared with the time of collection.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Iterable

from scanner.inventory import Inventory, Needs, props
from scanner.rules.support import lifecycle
from scanner.rules.appservice import SITE_TYPE, WEB_CONFIG, _web_config
from scanner.rules.support.base import Evaluation, rule
from scanner.rules.databases import MYSQL_TYPE, POSTGRES_TYPE
from scanner.rules.support.helpers import unreadable, verdict

AKS_TYPE = "Microsoft.ContainerService/managedClusters"
# AKS Long Term Support keeps a minor version patched one year beyond the community's end
_AKS_LTS_EXTENSION = timedelta(days=365)


def _judge(resource: dict[str, Any], resource_type: str, product: str, raw: Any, today: date,
           extension: timedelta = timedelta(0), plan: str = "") -> Evaluation:
    """One verdict for one product version reported by ``resource``."""
    name = lifecycle.DISPLAY_NAMES[product]
    if raw is None or str(raw).strip() == "":
        return verdict(resource, resource_type, None, f"{name} version not reported")
    text = str(raw).strip()
    parsed = lifecycle.parse_version(text)
    status = lifecycle.support_status(product, parsed) if parsed else None
    metadata: dict[str, Any] = {"software": lifecycle.software(product, text)}
    if status is None:
        return verdict(resource, resource_type, None, f"unrecognised {name} version {text!r}", metadata)
    ends = status.ends + extension if status.ends else None
    metadata["end_of_support"] = ends.isoformat() if ends else None
    if ends is None:
        return verdict(resource, resource_type, True, f"{name} {text} is newer than the support table", metadata)
    suffix = f" ({plan})" if plan else ""
    if today >= ends:
        return verdict(resource, resource_type, False,
                       f"{name} {text} has been out of support since {ends.isoformat()}{suffix}", metadata)
    return verdict(resource, resource_type, True, f"{name} {text} is supported until {ends.isoformat()}{suffix}",
                   metadata)


@rule(
    id="AZ-AKS-007",
    title="AKS cluster runs a Kubernetes version past end of support",
    severity="HIGH",
    category="containers",
    description=(
        "The cluster's Kubernetes minor version no longer receives security patches from the "
        "Kubernetes project, and AKS stops supporting it; known vulnerabilities in the API "
        "server, kubelet and container runtime stay open."
    ),
    remediation=(
        "Upgrade the control plane and node pools to a supported minor version "
        "(`az aks get-upgrades -g <rg> -n <cluster>`, then `az aks upgrade -g <rg> -n <cluster> "
        "--kubernetes-version <version>`), and set an auto-upgrade channel to stay current."
    ),
    frameworks={"NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({AKS_TYPE})),
)
def aks_version_out_of_support(inv: Inventory) -> Iterable[Evaluation]:
    """``currentKubernetesVersion`` (the exact patch running) is preferred over
    ``kubernetesVersion`` (which may be an alias such as ``1.30``). Clusters on the AKS Long Term
    Support plan get one more year."""
    today = inv.collected_at.date()
    for cluster in inv.of_type(AKS_TYPE):
        cluster_props = props(cluster)
        raw = cluster_props.get("currentKubernetesVersion") or cluster_props.get("kubernetesVersion")
        lts = str(cluster_props.get("supportPlan") or "").lower() == "akslongtermsupport"
        yield _judge(cluster, AKS_TYPE, "kubernetes", raw, today,
                     _AKS_LTS_EXTENSION if lts else timedelta(0), "AKS Long Term Support" if lts else "")
    yield from unreadable(inv, AKS_TYPE, "cluster")


@rule(
    id="AZ-PG-003",
    title="PostgreSQL flexible server runs a major version past end of support",
    severity="MEDIUM",
    category="database",
    description=(
        "The server's PostgreSQL major version is past the community's five-year support window, "
        "so vulnerabilities found since then are not fixed; Azure moves such servers to paid "
        "extended support and eventually forces an upgrade."
    ),
    remediation=(
        "Upgrade in place to a supported major version: portal: PostgreSQL flexible server > "
        "Overview > Upgrade, or `az postgres flexible-server upgrade -g <rg> -n <server> "
        "--version <major>` (test the application against the new version first)."
    ),
    frameworks={"NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({POSTGRES_TYPE})),
)
def postgres_version_out_of_support(inv: Inventory) -> Iterable[Evaluation]:
    today = inv.collected_at.date()
    for server in inv.of_type(POSTGRES_TYPE):
        yield _judge(server, POSTGRES_TYPE, "postgresql", props(server).get("version"), today)
    yield from unreadable(inv, POSTGRES_TYPE, "server")


@rule(
    id="AZ-MYSQL-003",
    title="MySQL flexible server runs a version past end of support",
    severity="MEDIUM",
    category="database",
    description=(
        "The server's MySQL release is past Oracle's Premier Support, so security fixes are no "
        "longer released for it; Azure charges for extended support and eventually upgrades it."
    ),
    remediation=(
        "Upgrade the major version: portal: MySQL flexible server > Overview > Upgrade, or "
        "`az mysql flexible-server upgrade -g <rg> -n <server> --version 8.4` after testing the "
        "application against it."
    ),
    frameworks={"NIST": ["PR.IP-12", "ID.RA-1"], "ISO27001": ["A.8.8"]},
    needs=Needs(resource_types=frozenset({MYSQL_TYPE})),
)
def mysql_version_out_of_support(inv: Inventory) -> Iterable[Evaluation]:
    """``fullVersion`` (e.g. ``8.0.21``) when reported, else ``version`` (``5.7``, ``8.0.21``)."""
    today = inv.collected_at.date()
    for server in inv.of_type(MYSQL_TYPE):
        server_props = props(server)
        raw = server_props.get("fullVersion") or server_props.get("version")
        yield _judge(server, MYSQL_TYPE, "mysql", raw, today)
    yield from unreadable(inv, MYSQL_TYPE, "server")


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
    verdicts = [_judge(site, SITE_TYPE, product, version, today) for product, version in stacks]
    for wanted in (False, None):
        for item in verdicts:
            if item.passed is wanted:
                return item
    return verdicts[0] if len(verdicts) == 1 else _joined(verdicts)


def _joined(items: list[Evaluation]) -> Evaluation:
    first = items[0]
    return Evaluation(first.resource_id, first.resource_name, first.resource_type, True,
                      "; ".join(item.detail for item in items), dict(first.metadata))
