"""Who can reach whom, on which ports, and where things sit.

Reachability is computed, not matched: every holder (something in the VPC with security groups)
is a node, and so is the internet; A reaches B on the traffic that one of A's groups lets out
towards B *and* one of B's groups lets in from A. A CIDR peer reaches the VPC's holders when it
overlaps the VPC and the internet when it holds addresses outside it (loopback reaches nothing).
The flows found are compared with the allowed chain, and the chain's links must all exist.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator

from tests.checkers.expectation import Expectation, cache_prefix
from tests.checkers.model import Holder, Peer, Platform, Ports, SgRule

INTERNET = "internet"
HTTPS = Ports("tcp", 443, 443)
MYSQL = Ports("tcp", 3306, 3306)
# Addresses no packet leaves a host for: a rule to them opens nothing (CloudFormation's idiom for
# "no egress" is a rule to 127.0.0.1/32).
NOWHERE = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
Flows = dict[tuple[str, str], list[Ports]]


# ---------------------------------------------------------------- the reachability graph


def _networks(cidrs: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    found: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for cidr in cidrs:
        try:
            found.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            continue
    return found


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _within(net: Network, others: Iterable[Network]) -> bool:
    """Whether `net` lies inside one of `others` (of its own IP version)."""
    return any(
        net.subnet_of(other)  # type: ignore[arg-type]
        for other in others
        if other.version == net.version
    )


PREFIX_LIST = "prefix-list"
DESTINATION = "destination"  # an address range outside the VPC that the spec declares


class Graph:
    """The nodes (holders with security groups, the internet, and the places outside the VPC
    that rules name on their own: AWS prefix lists and the spec's declared destinations) and
    what links them."""

    def __init__(self, platform: Platform, destinations: Iterable[str] = ()):
        self.vpc = _networks(platform.vpc_cidrs)
        self.nodes = [h for h in platform.holders.values() if h.groups]
        self.outbound: dict[str, list[SgRule]] = {}
        self.inbound: dict[str, list[SgRule]] = {}
        for rule in platform.sg_rules:
            side = self.inbound if rule.inbound else self.outbound
            side.setdefault(rule.group, []).append(rule)
        lists = sorted({str(r.peer.cidr) for r in platform.sg_rules if _is_list(r.peer)})
        declared = sorted(set(destinations))
        self.destinations = _networks(declared)
        self.outside = [Holder(name, PREFIX_LIST, role=PREFIX_LIST) for name in lists] + [
            Holder(cidr, DESTINATION, role=f"{DESTINATION}:{cidr}") for cidr in declared
        ]

    def _covers(self, peer: Peer, node: Holder | None) -> bool:
        """Whether `peer` names `node` (None: the internet)."""
        if peer.group is not None:
            return node is not None and node.type not in OUTSIDE and peer.group in node.groups
        cidr = str(peer.cidr)
        if _is_list(peer):
            return node is not None and node.name == cidr  # AWS service ranges
        nets = _networks([cidr])
        if not nets or _within(nets[0], NOWHERE):
            return False
        if node is not None and node.type == DESTINATION:
            return any(nets[0].overlaps(d) for d in _networks([node.name]))
        if node is not None and node.type not in OUTSIDE:
            return any(nets[0].overlaps(v) for v in self.vpc if v.version == nets[0].version)
        if node is not None:
            return False
        return not _within(nets[0], [*self.vpc, *self.destinations])

    def _allowed(
        self, rules: dict[str, list[SgRule]], node: Holder | None, other: Holder | None
    ) -> list[Ports]:
        if node is None or node.type in OUTSIDE:
            return [Ports("all", 0, 65535)]  # the internet sends and accepts anything
        return [
            r.ports for g in node.groups for r in rules.get(g, []) if self._covers(r.peer, other)
        ]

    def flow(self, source: Holder | None, target: Holder | None) -> list[Ports]:
        """What `source` can open to `target`: let out by one side, let in by the other."""
        out = self._allowed(self.outbound, source, target)
        into = self._allowed(self.inbound, target, source)
        found = [both for a in out for b in into if (both := a.meet(b)) is not None]
        return _merge(found)

    def admitted(self, source: Holder | None, target: Holder | None) -> list[Ports]:
        """What `target`'s groups let in from `source`, whatever `source` may send."""
        if target is None or target.type in OUTSIDE:
            return []  # what lies outside the VPC admits anything; what reaches it is the question
        return _merge(self._allowed(self.inbound, target, source))

    def pairs(self, between: Callable[[Holder | None, Holder | None], list[Ports]]) -> Flows:
        """(source role, target role) -> the traffic `between` finds for each pair of ends."""
        ends: list[Holder | None] = [None, *self.nodes, *self.outside]
        found: Flows = {}
        for source in ends:
            for target in ends:
                if source is target or (_outside(source) and _outside(target)):
                    continue
                traffic = between(source, target)
                if traffic:
                    key = (_role(source), _role(target))
                    found[key] = _merge(found.get(key, []) + traffic)
        return found

    def flows(self) -> Flows:
        return self.pairs(self.flow)


OUTSIDE = (PREFIX_LIST, DESTINATION)


def _outside(node: Holder | None) -> bool:
    """The internet, a prefix list or a declared destination: no security group of its own."""
    return node is None or node.type in OUTSIDE


def _is_list(peer: Peer) -> bool:
    return str(peer.cidr).startswith("prefix-list:")


def _role(node: Holder | None) -> str:
    return INTERNET if node is None else node.role or node.name


def _merge(ports: list[Ports]) -> list[Ports]:
    """Distinct ranges, widest first dropped into narrower ones' place (no range inside another)."""
    unique = sorted(set(ports), key=lambda p: (p.protocol, p.low, -p.high))
    return [p for p in unique if not any(p != q and p.within(q) for q in unique)]


def flows(platform: Platform, destinations: Iterable[str] = ()) -> Flows:
    return Graph(platform, destinations).flows()


# ---------------------------------------------------------------- the allowed chain


def allowed(source: str, target: str, expected: Expectation) -> list[Ports]:
    """What the contract lets `source` open to `target`."""
    if target == "alb":
        return [Ports("tcp", 80, 80), HTTPS]  # anyone, the internet included, on 80 and 443
    if source == "alb" and target.startswith("tasks:"):
        port = expected.ports.get(target.removeprefix("tasks:"))
        return [Ports("tcp", port, port)] if port else []
    workload = source.startswith("tasks:") or source == "rotation"
    if workload and target == "db":
        return [MYSQL]
    if workload and target == "endpoint":
        return [HTTPS]  # AWS APIs through the VPC's interface endpoints
    if not source.startswith("tasks:"):
        return []
    service = source.removeprefix("tasks:")
    anywhere = [HTTPS] if expected.https_anywhere.get(service) else []
    if target == PREFIX_LIST:
        return [HTTPS]  # S3 (ECR's image layers) through the gateway endpoint
    if target == INTERNET:
        return anywhere  # only where the spec opts in, or the image is outside the region's ECR
    if target.startswith(f"{DESTINATION}:"):
        cidr = target.removeprefix(f"{DESTINATION}:")
        declared = expected.egress.get(service, [])
        return anywhere + [Ports("tcp", port, port) for c, port in declared if c == cidr]
    return []


def _destinations(expected: Expectation) -> list[str]:
    return [cidr for declared in expected.egress.values() for cidr, _ in declared]


def required(expected: Expectation) -> Iterator[tuple[str, str, Ports]]:
    """The links the platform cannot work without."""
    yield INTERNET, "alb", HTTPS
    for service, port in sorted(expected.ports.items()):
        yield "alb", f"tasks:{service}", Ports("tcp", port, port)
        yield f"tasks:{service}", "db", MYSQL
        yield f"tasks:{service}", "endpoint", HTTPS
        for cidr, to in expected.egress.get(service, []):
            yield f"tasks:{service}", f"{DESTINATION}:{cidr}", Ports("tcp", to, to)
    yield "rotation", "db", MYSQL
    yield "rotation", "endpoint", HTTPS


def judge_reachability(platform: Platform, expected: Expectation) -> list[str]:
    """What each holder's groups admit, and what can actually flow, against the allowed chain;
    and every link of the chain present."""
    graph = Graph(platform, _destinations(expected))
    found = graph.flows()
    problems = []
    for why, pairs in (("admitted", graph.pairs(graph.admitted)), ("open", found)):
        for (source, target), traffic in sorted(pairs.items()):
            permitted = allowed(source, target, expected)
            for ports in traffic:
                if not any(ports.within(p) for p in permitted):
                    problems.append(
                        f"{source} -> {target} on {ports}: {why}, outside the allowed chain"
                    )
    for source, target, ports in required(expected):
        if not any(ports.within(p) for p in found.get((source, target), [])):
            problems.append(f"{source} cannot reach {target} on {ports}")
    return problems


# ---------------------------------------------------------------- placement


def tiers(platform: Platform) -> dict[str, str]:
    """Subnet -> public (default route to an internet gateway), private (to a NAT gateway),
    isolated (no default route) or mixed."""
    found = {}
    for subnet in platform.subnets:
        table = platform.route_tables.get(subnet, "")
        kinds = {
            platform.gateways.get(g, "unknown") for g in platform.default_routes.get(table, set())
        }
        found[subnet] = {
            frozenset(): "isolated",
            frozenset({"igw"}): "public",
            frozenset({"nat"}): "private",
        }.get(frozenset(kinds), "mixed")
    return found


# Where each kind of holder must sit; anything else must not sit in public subnets.
PUBLIC_ROLES = {"alb", "nat"}


def judge_placement(platform: Platform, expected: Expectation) -> list[str]:
    tier = tiers(platform)
    problems = []
    for holder in platform.holders.values():
        if not holder.subnets:
            continue
        where = sorted({tier.get(s, "unknown") for s in holder.subnets})
        wanted = "public" if holder.role in PUBLIC_ROLES else "private"
        if where != [wanted]:
            wrong = [w for w in where if w != wanted]
            problems.append(f"{holder.name}: in {'/'.join(wrong)} subnets, wants {wanted}")
        if holder.public_ip:
            problems.append(f"{holder.name}: assigns public IPs")
        zones = {platform.subnets.get(s) for s in holder.subnets}
        spread = holder.role in ("alb", "db-subnets") or holder.role.startswith("tasks:")
        if spread and len(zones) < 3:
            problems.append(f"{holder.name}: spans {len(zones)} availability zones, not 3")
    for subnet, on in sorted(platform.public_ip_on_launch.items()):
        if on and tier.get(subnet) != "public":
            problems.append(f"{subnet}: a {tier.get(subnet)} subnet that gives public IPs")
    return problems


# ---------------------------------------------------------------- images

ECR_PUBLIC = "public.ecr.aws"


def judge_images(platform: Platform, expected: Expectation) -> list[str]:
    """Tasks never pull from ECR Public themselves (their egress is narrowed to the VPC
    endpoints): such an image comes through an ECR pull-through cache rule for public.ecr.aws."""
    problems = [
        f"the pull-through cache {prefix!r} caches {upstream!r}, not {ECR_PUBLIC}"
        for prefix, upstream in platform.image_caches.items()
        if upstream != ECR_PUBLIC
    ]
    prefix = cache_prefix(expected.platform, expected.environment)
    cached = any(f"/{prefix}/" in image for image, _, _ in expected.workloads.values())
    if cached and platform.image_caches.get(prefix) != ECR_PUBLIC:
        problems.append(f"no pull-through cache rule for {ECR_PUBLIC} under {prefix!r}")
    for task in platform.tasks.values():
        for container in task.containers:
            if container.image.startswith(f"{ECR_PUBLIC}/"):
                problems.append(
                    f"{task.name} pulls {container.image} from ECR Public directly, past the "
                    "VPC endpoints, instead of through the platform's cache"
                )
    return problems + _judge_registry_scanning(platform, expected)


def _judge_registry_scanning(platform: Platform, expected: Expectation) -> list[str]:
    """The registry's scanning configuration is the account's: a stack touches it only when
    its spec owns it, and then every repository is scanned when an image is pushed (the
    cache's first pull of a tag is a push)."""
    if not expected.registry_scanning:
        return [
            "the registry's scanning configuration is emitted by a spec that does not own it"
        ] * bool(platform.registry_scans)
    on_push = [
        scan for scan in platform.registry_scans if scan[1] == "SCAN_ON_PUSH" and scan[2] == "*"
    ]
    return [] if on_push else ["the registry does not scan every repository on push"]
