"""Pulumi resources of the edge: the WAF web ACL, its association and its logging."""

from __future__ import annotations

from typing import Any

from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Kind, Node


def _visibility(config: dict[str, Any]) -> Any:
    return {
        "metric_name": config["metric"],
        "cloudwatch_metrics_enabled": config["cloudwatch_metrics"],
        "sampled_requests_enabled": config["sampled_requests"],
    }


def _managed_rule(group: dict[str, Any]) -> dict[str, Any]:
    """One rule running an AWS managed rule group (a WebAclRuleArgsDict)."""
    return {
        "name": group["name"],
        "priority": group["priority"],
        # The group's own actions apply (block): nothing overridden to count.
        "override_action": {"none": {}},
        "statement": {
            "managed_rule_group_statement": {
                "name": group["name"],
                "vendor_name": group["vendor"],
            }
        },
        "visibility_config": _visibility(group["visibility"]),
    }


def _rate_rule(rate: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": rate["name"],
        "priority": rate["priority"],
        "action": {"block": {}},
        "statement": {
            "rate_based_statement": {
                "limit": rate["limit"],
                "aggregate_key_type": rate["aggregate"],
            }
        },
        "visibility_config": _visibility(rate["visibility"]),
    }


def _web_acl(node: Node, t: Translator) -> Registered:
    props = node.props
    rules = [_managed_rule(group) for group in props["managed_rule_groups"]]
    rules.append(_rate_rule(props["rate_rule"]))
    by_priority: list[Any] = sorted(rules, key=lambda rule: int(rule["priority"]))
    default_action: Any = {props["default_action"]: {}}
    acl = aws.wafv2.WebAcl(
        node.logical_id,
        name=props["physical_name"],
        description=props["description"],
        scope=props["scope"],
        default_action=default_action,
        rules=by_priority,
        visibility_config=_visibility(props["visibility"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(acl)


def _association(node: Node, t: Translator) -> Registered:
    association = aws.wafv2.WebAclAssociation(
        node.logical_id,
        web_acl_arn=t(node.props["web_acl"]),
        resource_arn=t(node.props["resource"]),
        opts=options(node, t),
    )
    return Registered(association)


def _logging(node: Node, t: Translator) -> Registered:
    props = node.props
    logging = aws.wafv2.WebAclLoggingConfiguration(
        node.logical_id,
        resource_arn=t(props["web_acl"]),
        log_destination_configs=[t(props["destination"])],
        redacted_fields=[{"single_header": {"name": name}} for name in props["redacted_headers"]],
        opts=options(node, t),
    )
    return Registered(logging)


RESOURCES: dict[Kind, Emit] = {
    Kind.WEB_ACL: _web_acl,
    Kind.WEB_ACL_ASSOCIATION: _association,
    Kind.WAF_LOGGING: _logging,
}
