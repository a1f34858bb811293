"""How Azure evaluates a network security group's inbound rules against Internet traffic.

The network rules ask one question of an NSG: "can a TCP connection to port P arrive from
anywhere on the Internet?". Answering it by looking for *any* Allow rule would be wrong, because
Azure processes rules in priority order and the first rule that matches a packet decides: a
higher-priority Deny from any source closes a port that a later Allow opens. This module
reproduces that evaluation for the subset of traffic the rules care about (any source address,
one TCP destination port) so the rule modules stay declarative.

Deliberate simplifications, all in the direction the spec fixes:

* only ``properties.securityRules`` are read. The platform's ``defaultSecurityRules``
  (AllowVnetInBound, AllowAzureLoadBalancerInBound, DenyAllInBound) never let Internet traffic
  in, so "no custom rule applies" already means "not exposed";
* a rule whose source is a specific prefix, a service tag other than ``Internet``/``Any``, or an
  application security group neither opens nor closes *Internet* access and is skipped;
* ``destinationAddressPrefix`` and source ports are not considered: an Internet-facing Allow to
  any destination in the NSG's scope is treated as exposure.

Everything here is tolerant of odd REST data (null lists, missing priority, integer ports): a
malformed rule is one that does not match, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from scanner.inventory import props
from scanner.rules.support.memo import per_object

# Source forms that mean "every address on the Internet". Compared lower-cased.
ANY_SOURCES = frozenset({"*", "0.0.0.0/0", "internet", "any", "::/0"})

MAX_PORT = 65535
# Sort key for a rule without a readable priority: after every valid one (100-4096).
_UNKNOWN_PRIORITY = 1_000_000


@dataclass(frozen=True)
class NsgRule:
    """The fields of one security rule that matter for Internet exposure, normalised."""

    name: str
    priority: int | None
    access: str  # "allow" / "deny" / "" (lower-cased)
    protocol: str  # "tcp", "udp", "*", ... (lower-cased)
    direction: str  # "inbound" / "outbound" (lower-cased)
    port_specs: tuple[str, ...]
    any_source: str | None  # the any-source form as written, or None for a specific source

    @property
    def is_allow(self) -> bool:
        return self.access == "allow"

    def carries_tcp(self) -> bool:
        return self.protocol in ("tcp", "*")

    def carries_udp(self) -> bool:
        return self.protocol in ("udp", "*")

    def port_intervals(self) -> list[tuple[int, int]]:
        """The destination ports as inclusive (low, high) ranges; malformed specs are dropped."""
        return [bounds for bounds in map(_parse_port_spec, self.port_specs) if bounds is not None]

    def covers_port(self, port: int) -> bool:
        return any(port_spec_covers(spec, port) for spec in self.port_specs)

    def covers_all_ports(self) -> bool:
        return any(port_spec_covers_all(spec) for spec in self.port_specs)

    def describe(self) -> str:
        """``'allow-ssh' (priority 200)`` — how findings name the deciding rule."""
        priority = "unknown" if self.priority is None else str(self.priority)
        return f"'{self.name}' (priority {priority})"

    def as_metadata(self) -> dict[str, Any]:
        return {
            "rule": self.name,
            "priority": self.priority,
            "access": self.access.capitalize(),
            "protocol": self.protocol,
            "source": self.any_source,
            "destinationPorts": list(self.port_specs),
        }


def _as_list(value: Any) -> list[Any]:
    """A REST list field as a list (null or absent -> empty; a lone scalar -> one item)."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _priority(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _parse_port_spec(spec: Any) -> tuple[int, int] | None:
    """``"22"`` -> (22, 22), ``"20-30"`` -> (20, 30), ``"*"`` -> (0, 65535); else None."""
    text = str(spec).strip() if spec is not None else ""
    if not text:
        return None
    if text == "*":
        return (0, MAX_PORT)
    low_text, sep, high_text = text.partition("-")
    try:
        low = int(low_text.strip())
        high = int(high_text.strip()) if sep else low
    except ValueError:
        return None
    if low > high:
        return None
    return (low, high)


def port_spec_covers(spec: Any, port: int) -> bool:
    """Whether one destination port spec (single, range or ``*``) includes ``port``."""
    bounds = _parse_port_spec(spec)
    return bounds is not None and bounds[0] <= port <= bounds[1]


def port_spec_covers_all(spec: Any) -> bool:
    """Whether a port spec opens every port: ``*`` or a range from 0 (or 1) to 65535.

    ``1-65535`` counts as well: port 0 is not a usable TCP/UDP port, so that range is
    "everything" in practice and is a common way of writing it.
    """
    bounds = _parse_port_spec(spec)
    return bounds is not None and bounds[0] <= 1 and bounds[1] >= MAX_PORT


def any_source_form(rule_props: Mapping[str, Any]) -> str | None:
    """The any-source form (``*``, ``Internet``...) a rule's source uses, or None if specific."""
    candidates = [rule_props.get("sourceAddressPrefix")]
    candidates += _as_list(rule_props.get("sourceAddressPrefixes"))
    for candidate in candidates:
        if isinstance(candidate, str) and candidate.strip().lower() in ANY_SOURCES:
            return candidate.strip()
    return None


def parse_rule(raw: Mapping[str, Any]) -> NsgRule:
    """Normalise one REST security rule (``{name, properties: {...}}``)."""
    rule_props = props(dict(raw))
    specs = [rule_props.get("destinationPortRange")]
    specs += _as_list(rule_props.get("destinationPortRanges"))
    return NsgRule(
        name=str(raw.get("name") or ""),
        priority=_priority(rule_props.get("priority")),
        access=str(rule_props.get("access") or "").strip().lower(),
        protocol=str(rule_props.get("protocol") or "").strip().lower(),
        direction=str(rule_props.get("direction") or "").strip().lower(),
        port_specs=tuple(str(s).strip() for s in specs if s is not None and str(s).strip()),
        any_source=any_source_form(rule_props),
    )


def inbound_rules(nsg: Mapping[str, Any]) -> list[NsgRule]:
    """The NSG's custom inbound rules in Azure processing order (priority ascending)."""
    return list(_inbound_rules(nsg))


@per_object
def _inbound_rules(nsg: Mapping[str, Any]) -> tuple[NsgRule, ...]:
    """:func:`inbound_rules`, parsed once per NSG per evaluating phase (six rules read it)."""
    raw_rules = _as_list(props(dict(nsg)).get("securityRules"))
    parsed = [parse_rule(r) for r in raw_rules if isinstance(r, Mapping)]
    inbound = [r for r in parsed if r.direction == "inbound"]
    # sorted() is stable, so rules sharing a priority (invalid in Azure) keep document order
    return tuple(sorted(inbound, key=lambda r: _UNKNOWN_PRIORITY if r.priority is None else r.priority))


def tcp_exposure(rules: Sequence[NsgRule], port: int) -> NsgRule | None:
    """The Allow rule that lets Internet TCP traffic reach ``port``, or None if it is blocked.

    ``rules`` must be in processing order (see :func:`inbound_rules`). The first rule that
    applies to Internet traffic on the port decides; no applying rule means the platform's
    DenyAllInBound closes it.
    """
    for rule in rules:
        if rule.any_source is None or not rule.carries_tcp() or not rule.covers_port(port):
            continue
        return rule if rule.is_allow else None
    return None


def exposed_tcp_ports(nsg: Mapping[str, Any], ports: Iterable[int]) -> dict[int, NsgRule]:
    """For each of ``ports`` reachable from the Internet over TCP, the rule that opens it."""
    rules = _inbound_rules(nsg)
    exposed: dict[int, NsgRule] = {}
    for port in ports:
        opener = tcp_exposure(rules, port)
        if opener is not None:
            exposed[port] = opener
    return exposed


def allow_all_rule(nsg: Mapping[str, Any]) -> NsgRule | None:
    """An Internet-facing Allow of every protocol on every port that is not shadowed.

    Such a rule is shadowed only by an earlier Deny that is just as broad (any source, any
    protocol, all ports): a narrower Deny (say TCP only, or port 22 only) still leaves the rest
    of the Allow in force, so the NSG remains wide open for everything else.
    """
    for rule in _inbound_rules(nsg):
        broad = rule.any_source is not None and rule.protocol == "*" and rule.covers_all_ports()
        if not broad:
            continue
        return rule if rule.is_allow else None
    return None


def _subtract(ranges: Sequence[tuple[int, int]], closed: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The parts of ``ranges`` not covered by any of ``closed`` (inclusive integer ranges)."""
    remaining = list(ranges)
    for low_c, high_c in closed:
        next_round: list[tuple[int, int]] = []
        for low, high in remaining:
            if high < low_c or low > high_c:
                next_round.append((low, high))
                continue
            if low < low_c:
                next_round.append((low, low_c - 1))
            if high > high_c:
                next_round.append((high_c + 1, high))
        remaining = next_round
    return remaining


def udp_exposure(nsg: Mapping[str, Any]) -> tuple[NsgRule, list[tuple[int, int]]] | None:
    """The first Allow rule that lets Internet UDP traffic in, with the ports it still opens.

    Unlike a single TCP port, "any UDP port" needs range arithmetic: earlier any-source Deny
    rules carrying UDP close parts of a later Allow's ranges, and the Allow exposes whatever
    they leave open.
    """
    closed: list[tuple[int, int]] = []
    for rule in _inbound_rules(nsg):
        if rule.any_source is None or not rule.carries_udp():
            continue
        intervals = rule.port_intervals()
        if not rule.is_allow:
            closed.extend(intervals)
            continue
        still_open = _subtract(intervals, closed)
        if still_open:
            return rule, still_open
    return None
