"""Traffic rules: HTTPS and TLS, the port-80 redirect, blue/green, security groups, tasks."""

from __future__ import annotations

from collections.abc import Iterable

from paycompile.compiler.graph import Graph, Kind, Node, Ref
from paycompile.compiler.rules.helpers import (
    ANYWHERE,
    COLORS,
    DB_PORT,
    as_dict,
    as_int,
    as_list,
    case_of,
    chooser,
    node_at,
    nodes_at,
    weighted_groups,
)
from paycompile.compiler.rules.registry import rule
from paycompile.spec import policy

HTTPS_PORT = 443


def _is_https(listener: Node) -> bool:
    return listener.props.get("port") == 443 and listener.props.get("protocol") == "HTTPS"


@rule(
    "PAY-TLS-001",
    "An HTTPS listener on 443 with an ACM certificate and a TLS 1.2+ security policy.",
    ("F8",),
    ("4.2.1",),
)
def https_listener(graph: Graph) -> list[str]:
    listeners = [node for node in graph.of_kind(Kind.LISTENER) if _is_https(node)]
    problems = [] if listeners else ["no HTTPS listener on port 443"]
    for listener in listeners:
        certificate = listener.props.get("certificate_arn")
        if not (isinstance(certificate, str) and ":acm:" in certificate) and not isinstance(
            certificate, Ref
        ):
            problems.append(f"{listener.logical_id} has no ACM certificate")
        if listener.props.get("ssl_policy") not in policy.TLS12_SSL_POLICIES:
            problems.append(
                f"{listener.logical_id}: {listener.props.get('ssl_policy')!r} is not TLS 1.2+"
            )
        if node_at(graph, listener.props.get("load_balancer"), Kind.LOAD_BALANCER) is None:
            problems.append(f"{listener.logical_id} is on no load balancer of the graph")
    return problems


@rule(
    "PAY-TLS-002",
    "Port 80 only redirects to HTTPS 443; no other plain listener, no rule on a plain listener.",
    ("F8",),
    ("4.2.1",),
)
def http_redirects(graph: Graph) -> list[str]:
    problems = []
    for listener in graph.of_kind(Kind.LISTENER):
        if _is_https(listener):
            continue
        port, action = listener.props.get("port"), listener.props.get("default_action")
        if port != 80 or listener.props.get("protocol") != "HTTP":
            problems.append(f"{listener.logical_id}: {port} is neither HTTPS 443 nor HTTP 80")
        elif _redirect_target(action) != ("HTTPS", 443):
            problems.append(f"{listener.logical_id} on port 80 must only redirect to 443")
    for listener_rule in graph.of_kind(Kind.LISTENER_RULE):
        parent = node_at(graph, listener_rule.props.get("listener"), Kind.LISTENER)
        if parent is None or not _is_https(parent):
            problems.append(f"{listener_rule.logical_id} must belong to the HTTPS listener")
    return problems


def _redirect_target(action: object) -> tuple[object, object] | None:
    """(protocol, port) a listener's only action redirects to; None if it does anything else."""
    if not isinstance(action, dict) or set(action) != {"redirect"}:
        return None
    redirect = action["redirect"]
    return (redirect.get("protocol"), redirect.get("port")) if isinstance(redirect, dict) else None


def _forwarded(graph: Graph) -> dict[str, list[tuple[Node | None, object]]]:
    """Service name -> the weighted groups its listener default or listener rule forwards to."""
    actions = [
        (node.props.get("default_action"), node) for node in graph.of_kind(Kind.LISTENER)
    ] + [(node.props.get("action"), node) for node in graph.of_kind(Kind.LISTENER_RULE)]
    found: dict[str, list[tuple[Node | None, object]]] = {}
    for action, _ in actions:
        groups = weighted_groups(graph, action)
        services = {str(group.props.get("service")) for group, _ in groups if group is not None}
        for service in services:
            found.setdefault(service, []).extend(groups)
    return found


def _colour_services(graph: Graph) -> dict[str, dict[str, Node]]:
    """Service name -> colour -> its ECS service."""
    found: dict[str, dict[str, Node]] = {}
    for node in graph.of_kind(Kind.ECS_SERVICE):
        found.setdefault(str(node.props.get("service")), {})[str(node.props.get("color"))] = node
    return found


def _weights_follow(groups: list[tuple[Node | None, object]], live: str | None) -> list[str]:
    """Problems unless, for either live colour, its group weighs 100 and the other 0."""
    if live is None:
        return ["weights do not follow a live-colour input"]
    problems = []
    for case in COLORS:
        weights = {
            str(group.props.get("color")): case_of(weight, live, case)
            for group, weight in groups
            if group is not None
        }
        wanted = {color: 100 if color == case else 0 for color in COLORS}
        if weights != wanted:
            problems.append(f"with {case} live the weights are {weights}, want {wanted}")
    return problems


def _counts_follow(services: dict[str, Node], live: str | None) -> list[str]:
    """Problems unless the live colour runs tasks and the idle one none (or as many, warm)."""
    problems = []
    for case in COLORS:
        counts = {
            color: case_of(node.props.get("desired_count"), live or "", case)
            for color, node in services.items()
        }
        idle = next(color for color in COLORS if color != case)
        running, waiting = as_int(counts.get(case)), as_int(counts.get(idle))
        if not running or waiting not in (0, running):
            problems.append(f"with {case} live the task counts are {counts}")
    return problems


@rule(
    "PAY-DEP-001",
    "Each service runs a blue and a green ECS service, each behind its own target group "
    "(DeploymentColor tag); the listener weights them by the live colour, 100 and 0.",
    ("F2",),
    ("6.5.1", "6.5.2"),
)
def blue_green(graph: Graph) -> list[str]:
    problems = []
    forwarded = _forwarded(graph)
    for name, services in _colour_services(graph).items():
        if sorted(services) != sorted(COLORS):
            problems.append(f"service {name} has ECS services for {sorted(services)}")
            continue
        groups = {
            color: node_at(graph, node.props.get("target_group"), Kind.TARGET_GROUP)
            for color, node in services.items()
        }
        for color, group in groups.items():
            if group is None or group.tags.get("DeploymentColor") != color:
                problems.append(f"{services[color].logical_id} is not behind a {color} group")
            elif group.props.get("service") != name:
                problems.append(f"{services[color].logical_id} is behind another service's group")
        weighted = forwarded.get(name, [])
        if sorted(g.logical_id for g, _ in weighted if g) != sorted(
            g.logical_id for g in groups.values() if g
        ):
            problems.append(f"service {name}: the listener does not forward to both its groups")
            continue
        live = {chooser(weight) for _, weight in weighted}
        live_input = live.pop() if len(live) == 1 else None
        problems += [f"service {name}: {p}" for p in _weights_follow(weighted, live_input)]
        problems += [f"service {name}: {p}" for p in _counts_follow(services, live_input)]
    return problems


@rule(
    "PAY-SEC-001",
    "Security groups chain: internet to ALB on 80/443, ALB to tasks on their port, "
    "tasks and rotation to DB on 3306 and to the VPC endpoints on 443; nothing else.",
    (),
    ("1.3.1", "1.3.2", "1.4.1"),
)
def security_group_chain(graph: Graph) -> list[str]:
    def groups(kind: Kind) -> set[str]:
        return {
            group.logical_id
            for node in graph.of_kind(kind)
            for group in nodes_at(graph, node.props.get("security_groups"), Kind.SECURITY_GROUP)
            if group is not None
        }

    alb, database, rotation, endpoints = (
        groups(Kind.LOAD_BALANCER),
        groups(Kind.DB_CLUSTER),
        groups(Kind.SECRET_ROTATION),
        groups(Kind.VPC_ENDPOINT),
    )
    # Each ECS service's port and groups: its own group (which the load balancer reaches) and
    # the platform's tasks group (which the database and the endpoints admit).
    services = {
        service.logical_id: (
            as_int(service.props.get("port")),
            {
                group.logical_id
                for group in nodes_at(
                    graph, service.props.get("security_groups"), Kind.SECURITY_GROUP
                )
                if group is not None
            },
        )
        for service in graph.of_kind(Kind.ECS_SERVICE)
    }
    task_ports: dict[str, list[object]] = {}  # a list: a damaged graph's port may be unhashable
    for port, carried in services.values():
        for group_id in carried:
            task_ports.setdefault(group_id, []).append(port)
    problems = [
        f"{group.logical_id} declares inline ingress; use SecurityGroupIngress nodes"
        for group in graph.of_kind(Kind.SECURITY_GROUP)
        if group.props.get("ingress")
    ]
    opened: set[tuple[str, object, object]] = set()
    for ingress in graph.of_kind(Kind.SECURITY_GROUP_INGRESS):
        group = node_at(graph, ingress.props.get("group"), Kind.SECURITY_GROUP)
        peer = node_at(graph, ingress.props.get("peer"), Kind.SECURITY_GROUP)
        port, raw_peer = ingress.props.get("port"), ingress.props.get("peer")
        peer_id = peer.logical_id if peer else None
        if group is None or ingress.props.get("protocol") != "tcp":
            allowed = False
        elif group.logical_id in alb:
            allowed = port in (80, 443) and raw_peer in ANYWHERE
        elif group.logical_id in task_ports:
            allowed = port in task_ports[group.logical_id] and peer_id in alb
        elif group.logical_id in database:
            allowed = port == DB_PORT and peer_id in set(task_ports) | rotation
        elif group.logical_id in endpoints:
            allowed = port == HTTPS_PORT and peer_id in set(task_ports) | rotation
        else:
            allowed = False
        if not allowed:
            problems.append(
                f"{ingress.logical_id}: ingress on {port} from {raw_peer!r} not allowed"
            )
        elif group is not None:
            opened.add((group.logical_id, port, peer_id or raw_peer))
    # The chain must also be complete, or the platform serves nothing: the load balancers admit
    # HTTPS, and every service's tasks (through one of their groups) reach the database and
    # the endpoints, and admit the load balancer that serves them.
    problems += [
        f"{g} lacks ingress on 443 from {ANYWHERE[0]}"
        for g in alb
        if (g, 443, ANYWHERE[0]) not in opened
    ]
    targets = [(g, DB_PORT) for g in database] + [(g, HTTPS_PORT) for g in endpoints]
    problems += [
        f"{g} lacks ingress on {p} from {peer}"
        for g, p in targets
        for peer in rotation
        if (g, p, peer) not in opened
    ]
    problems += [
        f"{g} lacks ingress on {p} from any group of {name}"
        for g, p in targets
        for name, (_, carried) in services.items()
        if not any((g, p, group) in opened for group in carried)
    ]
    problems += [
        f"{name} lacks ingress on {port} from {' or '.join(sorted(alb)) or 'a load balancer'}"
        for name, (port, carried) in services.items()
        if not any((group, port, balancer) in opened for group in carried for balancer in alb)
    ]
    return problems


@rule(
    "PAY-SEC-002",
    "ECS services run only in private subnets without public IPs.",
    (),
    ("1.3.1", "1.4.4"),
)
def private_tasks(graph: Graph) -> list[str]:
    problems = []
    for service in graph.of_kind(Kind.ECS_SERVICE):
        subnets = nodes_at(graph, service.props.get("subnets"), Kind.SUBNET)
        if not subnets or any(s is None or s.props.get("public") is not False for s in subnets):
            problems.append(f"{service.logical_id} must run in private subnets only")
        if service.props.get("assign_public_ip") is not False:
            problems.append(f"{service.logical_id} must not assign public IPs")
    return problems


ROOT_USERS = ("0", "root")


@rule(
    "PAY-SEC-005",
    "Containers run as a non-root user, on a read-only root filesystem, within a memory limit.",
    (),
    ("2.2.1", "2.2.6"),
)
def hardened_containers(graph: Graph) -> list[str]:
    problems = []
    for task in graph.of_kind(Kind.TASK_DEFINITION):
        user = str(task.props.get("user") or "0").split(":")[0]
        if user in ROOT_USERS:
            problems.append(f"{task.logical_id} runs its container as root")
        if task.props.get("read_only_root_filesystem") is not True:
            problems.append(f"{task.logical_id} has a writable root filesystem")
        limit, memory = as_int(task.props.get("memory_limit")), as_int(task.props.get("memory"))
        if limit is None or memory is None or limit > memory:
            problems.append(f"{task.logical_id} has no container memory limit within the task's")
    return problems


# What the web ACL must run (PAY-WAF-001), stated here rather than read from the compiler so
# that a group dropped there is caught.
_WAF_MANAGED_GROUPS = {
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
}
_WAF_REDACTED = {"authorization", "cookie"}


@rule(
    "PAY-WAF-001",
    "Every internet-facing load balancer sits behind a regional AWS WAF web ACL running AWS's "
    "common, known-bad-inputs, SQL-injection and IP-reputation rule groups and a per-IP rate "
    "limit, with metrics on, logged to an encrypted aws-waf-logs-* log group without the "
    "Authorization and Cookie headers.",
    (),
    ("6.4.2", "6.4.1", "10.2.1"),
)
def web_application_firewall(graph: Graph) -> list[str]:
    problems = []
    guarded = {
        str(getattr(association.props.get("resource"), "target", "")): association
        for association in graph.of_kind(Kind.WEB_ACL_ASSOCIATION)
    }
    # Each ACL is judged once, however many load balancers it guards (one for the platform).
    acls: dict[str, Node] = {}
    for balancer in graph.of_kind(Kind.LOAD_BALANCER):
        association = guarded.get(balancer.logical_id)
        acl = (
            node_at(graph, association.props.get("web_acl"), Kind.WEB_ACL) if association else None
        )
        if acl is None:
            problems.append(f"{balancer.logical_id} has no web ACL associated")
        else:
            acls[acl.logical_id] = acl
    logging = graph.of_kind(Kind.WAF_LOGGING)
    for _, acl in sorted(acls.items()):
        problems += [f"{acl.logical_id}: {problem}" for problem in _acl_problems(acl)]
        problems += _waf_logging_problems(graph, acl, logging)
    return problems


def _acl_problems(acl: Node) -> list[str]:
    props = acl.props
    problems = []
    if props.get("scope") != "REGIONAL":
        problems.append(f"scope {props.get('scope')!r}, want REGIONAL")
    groups = [as_dict(group) for group in as_list(props.get("managed_rule_groups"))]
    names = {group.get("name") for group in groups if group.get("vendor") == "AWS"}
    missing = sorted(_WAF_MANAGED_GROUPS - names)
    if missing:
        problems.append(f"misses the managed rule groups {', '.join(missing)}")
    rate = as_dict(props.get("rate_rule"))
    low, high = policy.WAF_RATE_LIMIT_RANGE
    if not isinstance(rate.get("limit"), int) or not low <= rate["limit"] <= high:
        problems.append(f"no rate limit between {low} and {high}")
    visibility = [props.get("visibility"), rate.get("visibility")]
    visibility += [group.get("visibility") for group in groups]
    if not all(
        isinstance(v, dict) and v.get("cloudwatch_metrics") and v.get("sampled_requests")
        for v in visibility
    ):
        problems.append("metrics or sampled requests are off")
    priorities = [str(rate.get("priority"))] + [str(group.get("priority")) for group in groups]
    if len(set(priorities)) != len(priorities):
        problems.append("two rules share a priority")
    return problems


def _waf_logging_problems(graph: Graph, acl: Node, logging: Iterable[Node]) -> list[str]:
    configs = [
        node for node in logging if node_at(graph, node.props.get("web_acl"), Kind.WEB_ACL) is acl
    ]
    if not configs:
        return [f"{acl.logical_id} is not logged"]
    problems = []
    for config in configs:
        group = node_at(graph, config.props.get("log_group"), Kind.LOG_GROUP)
        if group is None or not group.name.startswith("aws-waf-logs-"):
            problems.append(f"{config.logical_id} must write to an aws-waf-logs-* log group")
        elif node_at(graph, group.props.get("kms_key"), Kind.KMS_KEY) is None:
            problems.append(f"{config.logical_id} writes to an unencrypted log group")
        redacted = {str(header) for header in as_list(config.props.get("redacted_headers"))}
        if not redacted >= _WAF_REDACTED:
            problems.append(f"{config.logical_id} logs {sorted(_WAF_REDACTED - redacted)}")
    return problems
