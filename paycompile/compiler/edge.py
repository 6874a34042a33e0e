"""The edge: an AWS WAF web ACL on the load balancer, with AWS managed rules and a rate limit,
logged to an encrypted log group (PAY-WAF-001, PCI DSS v4.0 6.4.2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from paycompile.compiler.builder import Builder, arn, ref
from paycompile.compiler.graph import Concat, Kind, Node
from paycompile.compiler.security import log_group_node

# A regional web ACL protects an ALB (CLOUDFRONT is for distributions only).
WAF_SCOPE = "REGIONAL"
# What the ACL does with a request no rule blocks.
WAF_DEFAULT_ACTION = "allow"
# AWS's managed rule groups the ACL runs, in priority order (lower runs first): addresses AWS
# has seen attack, then the OWASP-style common rules, request patterns known to exploit
# vulnerabilities (Log4j and the like), and SQL injection. The rate limit runs between the
# reputation list and the rest, so a flood is cut before the heavier inspections.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesSQLiRuleSet",
)
MANAGED_RULE_VENDOR = "AWS"
RATE_RULE_PRIORITY = 1
# The rate limit counts requests per client address (the connection's source IP: the ALB is
# the first hop, so no forwarded header is trusted).
RATE_AGGREGATE = "IP"
# WAF delivers logs only to log groups whose name starts with this (AWS's requirement).
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
# Headers that carry credentials: kept out of the WAF's logs (PCI DSS 3.3, 10.3).
REDACTED_HEADERS = ("authorization", "cookie")


def add_edge(builder: Builder, load_balancers: Sequence[Node], logs_key: Node) -> Node:
    """The platform's one web ACL, associated with every load balancer, and its logging;
    returns the ACL. One ACL, not one per load balancer: WAF lets one regional ACL guard many
    ALBs, the policy is the platform's (not a service's), and one ACL is one set of rules,
    metrics and logs to read (docs/design.md)."""
    acl = builder.add(Kind.WEB_ACL, ("waf",), _acl_props(builder))
    for number, load_balancer in enumerate(load_balancers, start=1):
        # The first keeps the id it always had: renaming it would re-create the association.
        which = () if number == 1 else (load_balancer.logical_id,)
        builder.add(
            Kind.WEB_ACL_ASSOCIATION,
            ("waf", *which, "association"),
            {"web_acl": ref(acl, "arn"), "resource": ref(load_balancer, "arn")},
        )
    log_name = f"{WAF_LOG_GROUP_PREFIX}{builder.name()}"
    log_group = log_group_node(builder, ("waf",), log_name, logs_key)
    builder.add(
        Kind.WAF_LOGGING,
        ("waf", "logging"),
        {
            "web_acl": ref(acl, "arn"),
            # WAF wants the log group's ARN without the `:*` its `arn` attribute ends in.
            "destination": arn("logs", Concat((f"log-group:{log_name}",))),
            "log_group": ref(log_group),
            "redacted_headers": list(REDACTED_HEADERS),
        },
        depends_on=(log_group.logical_id,),
    )
    return acl


def _visibility(metric: str) -> dict[str, Any]:
    """CloudWatch metrics and sampled requests on, under `metric`."""
    return {"metric": metric, "cloudwatch_metrics": True, "sampled_requests": True}


def _acl_props(builder: Builder) -> dict[str, Any]:
    rate_limit = builder.spec.edge.waf.rate_limit
    managed = [
        {
            "name": group,
            "vendor": MANAGED_RULE_VENDOR,
            "priority": 0 if index == 0 else index + RATE_RULE_PRIORITY,
            "visibility": _visibility(builder.name("waf", group)),
        }
        for index, group in enumerate(MANAGED_RULE_GROUPS)
    ]
    return {
        "physical_name": builder.name("waf"),
        "description": f"Protects the load balancers of {builder.name()}",
        "scope": WAF_SCOPE,
        "default_action": WAF_DEFAULT_ACTION,
        "managed_rule_groups": managed,
        "rate_rule": {
            "name": "RateLimitPerIp",
            "priority": RATE_RULE_PRIORITY,
            "limit": rate_limit,
            "aggregate": RATE_AGGREGATE,
            "visibility": _visibility(builder.name("waf", "rate-limit")),
        },
        "visibility": _visibility(builder.name("waf")),
    }
