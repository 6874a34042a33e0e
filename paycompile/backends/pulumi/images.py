"""Pulumi resource of the platform's ECR pull-through cache rule."""

from __future__ import annotations

from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Kind, Node


def _pull_through_cache_rule(node: Node, t: Translator) -> Registered:
    # No credential_arn: ECR Public needs none (the graph builds rules for it only).
    rule = aws.ecr.PullThroughCacheRule(
        node.logical_id,
        ecr_repository_prefix=node.props["prefix"],
        upstream_registry_url=node.props["upstream_registry_url"],
        opts=options(node, t),
    )
    return Registered(rule)


def _registry_scanning(node: Node, t: Translator) -> Registered:
    rules = [
        aws.ecr.RegistryScanningConfigurationRuleArgs(
            repository_filters=[
                aws.ecr.RegistryScanningConfigurationRuleRepositoryFilterArgs(
                    filter=rule["filter"], filter_type=rule["filter_type"]
                )
            ],
            scan_frequency=rule["frequency"],
        )
        for rule in node.props["rules"]
    ]
    configuration = aws.ecr.RegistryScanningConfiguration(
        node.logical_id, scan_type=node.props["scan_type"], rules=rules, opts=options(node, t)
    )
    return Registered(configuration)


RESOURCES: dict[Kind, Emit] = {
    Kind.PULL_THROUGH_CACHE_RULE: _pull_through_cache_rule,
    Kind.REGISTRY_SCANNING: _registry_scanning,
}
