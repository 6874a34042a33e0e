"""Where the load balancer sends each service's traffic, for the colours that are live.

For every service of the spec: its two target groups, the one listener default or listener rule
that forwards to them, the share of traffic each gets (weights are relative, so 1/0 is 100/0),
the ECS service registered in each group and how many tasks it runs. The live colour must take
all the traffic and run the spec's count, the idle one none (or the same count, kept warm).
"""

from __future__ import annotations

from dataclasses import dataclass

from paycompile.spec.policy import TLS12_SSL_POLICIES
from tests.checkers.expectation import Expectation
from tests.checkers.model import EcsService, Forward, Platform, only_name
from tests.checkers.normalise import generalise

COLORS = ("blue", "green")


@dataclass(frozen=True)
class Route:
    """Where one service's traffic is decided: a listener's default action or a rule."""

    place: str  # listener or rule
    listener: str | None
    conditions: tuple[tuple[str, str], ...]
    shares: dict[str, int]  # target group -> percent of the service's traffic


def shares(actions: list[Forward]) -> dict[str, int]:
    weights = {
        group: weight
        for action in actions
        if action.kind == "forward"
        for group, weight in action.weights
    }
    total = sum(weights.values())
    return {group: (100 * weight // total if total else 0) for group, weight in weights.items()}


def groups_of(platform: Platform, service: str) -> dict[str, str]:
    """Colour -> target group of `service` (by the groups' Service and DeploymentColor tags)."""
    return {
        str(group.color): name
        for name, group in sorted(platform.target_groups.items())
        if group.service == service
    }


def routes_of(platform: Platform, groups: set[str]) -> list[Route]:
    """Every listener default and rule that forwards to any of `groups`."""
    found = []
    for name, listener in sorted(platform.listeners.items()):
        split = shares(listener.actions)
        if set(split) & groups:
            found.append(Route(name, name, (), split))
    for name, rule in sorted(platform.rules.items()):
        split = shares(rule.actions)
        if set(split) & groups:
            found.append(Route(name, rule.listener, tuple(rule.conditions), split))
    return found


def registered(platform: Platform, group: str) -> list[EcsService]:
    return [
        s for s in platform.ecs_services.values() if any(g == group for g, _ in s.target_groups)
    ]


def judge_service(platform: Platform, expected: Expectation, service: str) -> list[str]:
    groups = groups_of(platform, service)
    if sorted(groups) != list(COLORS):
        return [f"service {service}: target groups coloured {sorted(groups)}, wants blue and green"]
    live = expected.services[service]
    routes = routes_of(platform, set(groups.values()))
    if len(routes) != 1:
        return [
            f"service {service}: forwarded by {[r.place for r in routes]}, wants exactly one place"
        ]
    route = routes[0]
    found = []
    for color, group in groups.items():
        share = route.shares.get(group, 0)
        wanted = 100 if color == live else 0
        if share != wanted:
            state = "live" if color == live else "idle"
            found.append(f"service {service}: {color} is {state} but gets weight {share}")
    strangers = sorted(set(route.shares) - set(groups.values()))
    if strangers:
        found.append(f"service {service}: {route.place} also forwards to {strangers}")
    found += _route_matches(platform, expected, service, route)
    return found + _ecs_services(platform, expected, service, groups)


def _route_matches(
    platform: Platform, expected: Expectation, service: str, route: Route
) -> list[str]:
    wanted = expected.routes.get(service)
    https = [name for name, listener in platform.listeners.items() if listener.port == 443]
    if route.listener not in https:
        return [f"service {service}: forwarded by {route.place}, not by the HTTPS listener"]
    if wanted is None:
        if route.conditions:
            return [f"service {service}: routed by {list(route.conditions)}, spec says the default"]
        return []
    if list(route.conditions) != [wanted]:
        said = (
            " ".join(route.conditions[0])
            if len(route.conditions) == 1
            else list(route.conditions) or "default"
        )
        return [f"service {service}: routed by {said}, spec says {' '.join(wanted)}"]
    return []


def _ecs_services(
    platform: Platform, expected: Expectation, service: str, groups: dict[str, str]
) -> list[str]:
    found = []
    image, count, idle = expected.workloads.get(service, ("", 0, 0))
    port = expected.ports.get(service)
    colour_of = {group: color for color, group in groups.items()}
    for name, ecs in sorted(platform.ecs_services.items()):
        if ecs.service != service:
            continue
        if not ecs.target_groups:
            found.append(f"{name}: registered in no target group")
        for group, container_port in ecs.target_groups:
            if group != groups.get(str(ecs.color)):
                other = colour_of.get(group, "not this service")
                found.append(f"{name} ({ecs.color}): registered in {group} ({other})")
            if container_port != port:
                found.append(f"{name}: registers port {container_port}, spec says {port}")
        wanted = count if ecs.color == expected.services[service] else idle
        if ecs.desired != wanted:
            found.append(f"{name}: {ecs.desired} tasks, {wanted} wanted")
        found += _containers(platform, ecs, generalise(image, expected.region))
    for color, group in groups.items():
        behind = registered(platform, group)
        if len(behind) != 1:
            found.append(
                f"service {service}: {len(behind)} ECS services in the {color} group {group}"
            )
    return found


# Users a container must not run as: root by name or by ID (with or without a group).
ROOT_USERS = {"", "0", "root", "0:0", "root:root", "root:0", "0:root"}


def _containers(platform: Platform, ecs: EcsService, image: str) -> list[str]:
    task = platform.tasks.get(str(ecs.task))
    if task is None:
        return [f"{ecs.name}: runs no task definition of the platform"]
    found = []
    for container in task.containers:
        if container.user in ROOT_USERS:
            found.append(f"{task.name}: the container runs as root")
        if container.image != image:
            found.append(f"{task.name}: runs {container.image}, spec says {image}")
    return found


def judge_listeners(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    certificate = generalise(expected.certificate_arn, expected.region)
    for name, listener in sorted(platform.listeners.items()):
        if listener.port == 443:
            if listener.protocol != "HTTPS" or listener.ssl_policy not in TLS12_SSL_POLICIES:
                found.append(
                    f"{name}: {listener.protocol} with {listener.ssl_policy} "
                    "lets clients use TLS below 1.2"
                )
            if listener.certificates != [certificate]:
                found.append(
                    f"{name}: certificates {listener.certificates}, spec says {certificate}"
                )
        elif listener.port == 80:
            if not listener.actions or any(
                a.kind != "redirect" or a.redirect != ("HTTPS", "443") for a in listener.actions
            ):
                found.append(f"{name}: port 80 does more than redirect to HTTPS 443")
        else:
            found.append(f"{name}: listens on port {listener.port}; only 80 and 443 are allowed")
    return found


def judge_load_balancers(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    protect = str(expected.lifecycle == "retained").lower()
    for name, balancer in sorted(platform.load_balancers.items()):
        attributes = balancer.attributes
        if (
            attributes.get("access_logs.s3.enabled") != "true"
            or balancer.log_bucket not in platform.buckets
        ):
            found.append(f"{name}: access logs are off (or go to no bucket of the platform)")
        if attributes.get("routing.http.drop_invalid_header_fields.enabled") != "true":
            found.append(f"{name}: invalid header fields are not dropped")
        if attributes.get("deletion_protection.enabled", "false") != protect:
            found.append(
                f"{name}: deletion protection {attributes.get('deletion_protection.enabled')}, "
                f"{expected.lifecycle} wants {protect}"
            )
        if not balancer.internet_facing:
            found.append(f"{name}: internal, but it serves the internet")
    return found


def judge_traffic(platform: Platform, expected: Expectation) -> list[str]:
    found = [
        p
        for service in sorted(expected.services)
        for p in judge_service(platform, expected, service)
    ]
    known = set(expected.services)
    for name, group in sorted(platform.target_groups.items()):
        if group.service not in known:
            found.append(f"{name}: a target group of no service of the spec ({group.service})")
    return (
        found
        + judge_listeners(platform, expected)
        + judge_load_balancers(platform, expected)
        + judge_waf(platform, expected)
    )


# docs/rules.md, PAY-WAF-001: what the web ACL in front of the load balancer runs and logs.
WAF_GROUPS = {
    ("AWS", "AWSManagedRulesCommonRuleSet"),
    ("AWS", "AWSManagedRulesKnownBadInputsRuleSet"),
    ("AWS", "AWSManagedRulesSQLiRuleSet"),
    ("AWS", "AWSManagedRulesAmazonIpReputationList"),
}
WAF_REDACTED = {"authorization", "cookie"}
WAF_LOG_PREFIX = "aws-waf-logs-"


def judge_waf(platform: Platform, expected: Expectation) -> list[str]:
    """Every internet-facing load balancer is behind a web ACL that blocks with AWS's managed
    groups and a rate limit, shows its metrics, and logs to an encrypted aws-waf-logs-* group
    without the credential headers."""
    found = []
    acls = {acl for acl, resource in platform.waf_associations if resource}
    guarded = {resource: acl for acl, resource in platform.waf_associations}
    for name, balancer in sorted(platform.load_balancers.items()):
        acl_name = guarded.get(name)
        if balancer.internet_facing and acl_name not in platform.web_acls:
            found.append(f"{name}: no web ACL (WAF) in front of it")
    for name in sorted(acls & set(platform.web_acls)):
        acl = platform.web_acls[name]
        missing = sorted(group for _, group in WAF_GROUPS - set(acl.managed_groups))
        if missing:
            found.append(f"{name}: the web ACL does not run {', '.join(missing)}")
        if acl.overridden:
            found.append(f"{name}: the web ACL only counts {', '.join(sorted(acl.overridden))}")
        if not acl.rate_limits:
            found.append(f"{name}: the web ACL has no blocking rate limit")
        if acl.scope != "REGIONAL" or not acl.metrics:
            found.append(f"{name}: the web ACL is not regional with metrics and samples on")
        found += _waf_logging(platform, name)
    return found


def _waf_logging(platform: Platform, acl: str) -> list[str]:
    configs = [config for config in platform.waf_logging if config.acl == acl]
    if not configs:
        return [f"{acl}: the web ACL is not logged"]
    found = []
    for config in configs:
        groups = [platform.log_groups.get(only_name(d) or "") for d in config.destinations]
        if not groups or any(
            g is None or not g.physical.startswith(WAF_LOG_PREFIX) or g.key is None for g in groups
        ):
            found.append(f"{acl}: the web ACL logs to no encrypted {WAF_LOG_PREFIX}* log group")
        unredacted = sorted(WAF_REDACTED - set(config.redacted))
        if unredacted:
            found.append(f"{acl}: the web ACL's logs keep the {', '.join(unredacted)} header")
    return found
