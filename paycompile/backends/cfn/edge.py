"""CloudFormation resources of the edge: the WAF web ACL, its association and its logging."""

from __future__ import annotations

from typing import Any

from troposphere import AWSObject, wafv2

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node

_DEFAULT_ACTIONS = {
    "allow": {"Allow": wafv2.AllowAction()},
    "block": {"Block": wafv2.BlockAction()},
}


def _visibility(config: dict[str, Any]) -> wafv2.VisibilityConfig:
    return wafv2.VisibilityConfig(
        MetricName=config["metric"],
        CloudWatchMetricsEnabled=config["cloudwatch_metrics"],
        SampledRequestsEnabled=config["sampled_requests"],
    )


def _managed_rule(group: dict[str, Any]) -> wafv2.WebACLRule:
    return wafv2.WebACLRule(
        Name=group["name"],
        Priority=group["priority"],
        # The group's own actions apply (block): nothing overridden to count.
        OverrideAction=wafv2.OverrideAction(**{"None": {}}),
        Statement=wafv2.Statement(
            ManagedRuleGroupStatement=wafv2.ManagedRuleGroupStatement(
                Name=group["name"], VendorName=group["vendor"]
            )
        ),
        VisibilityConfig=_visibility(group["visibility"]),
    )


def _rate_rule(rate: dict[str, Any]) -> wafv2.WebACLRule:
    return wafv2.WebACLRule(
        Name=rate["name"],
        Priority=rate["priority"],
        Action=wafv2.RuleAction(Block=wafv2.BlockAction()),
        Statement=wafv2.Statement(
            RateBasedStatement=wafv2.RateBasedStatement(
                Limit=rate["limit"], AggregateKeyType=rate["aggregate"]
            )
        ),
        VisibilityConfig=_visibility(rate["visibility"]),
    )


def _web_acl(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    rules = [_managed_rule(group) for group in props["managed_rule_groups"]]
    rules.append(_rate_rule(props["rate_rule"]))
    return [
        wafv2.WebACL(
            node.logical_id,
            Name=props["physical_name"],
            Description=props["description"],
            Scope=props["scope"],
            DefaultAction=wafv2.DefaultAction(**_DEFAULT_ACTIONS[props["default_action"]]),
            Rules=sorted(rules, key=lambda rule: int(rule.Priority)),
            VisibilityConfig=_visibility(props["visibility"]),
            Tags=tags(node),
        )
    ]


def _association(node: Node, t: Translator) -> list[AWSObject]:
    return [
        wafv2.WebACLAssociation(
            node.logical_id,
            WebACLArn=t(node.props["web_acl"]),
            ResourceArn=t(node.props["resource"]),
        )
    ]


def _logging(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        wafv2.LoggingConfiguration(
            node.logical_id,
            ResourceArn=t(props["web_acl"]),
            LogDestinationConfigs=[t(props["destination"])],
            RedactedFields=[
                wafv2.LoggingConfigurationFieldToMatch(SingleHeader=wafv2.SingleHeader(Name=name))
                for name in props["redacted_headers"]
            ],
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.WEB_ACL: _web_acl,
    Kind.WEB_ACL_ASSOCIATION: _association,
    Kind.WAF_LOGGING: _logging,
}
