"""CloudFormation resource of the platform's ECR pull-through cache rule."""

from __future__ import annotations

from troposphere import AWSObject, ecr

from paycompile.backends.cfn.translate import Emit, Translator
from paycompile.compiler.graph import Kind, Node


def _pull_through_cache_rule(node: Node, t: Translator) -> list[AWSObject]:
    # No CredentialArn: ECR Public needs none (the graph builds rules for it only).
    return [
        ecr.PullThroughCacheRule(
            node.logical_id,
            EcrRepositoryPrefix=node.props["prefix"],
            UpstreamRegistryUrl=node.props["upstream_registry_url"],
        )
    ]


def _registry_scanning(node: Node, t: Translator) -> list[AWSObject]:
    rules = [
        ecr.ScanningRule(
            RepositoryFilters=[
                ecr.RepositoryFilter(Filter=rule["filter"], FilterType=rule["filter_type"])
            ],
            ScanFrequency=rule["frequency"],
        )
        for rule in node.props["rules"]
    ]
    return [
        ecr.RegistryScanningConfiguration(
            node.logical_id, ScanType=node.props["scan_type"], Rules=rules
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.PULL_THROUGH_CACHE_RULE: _pull_through_cache_rule,
    Kind.REGISTRY_SCANNING: _registry_scanning,
}
