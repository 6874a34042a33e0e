"""Images from ECR Public pulled through the platform's ECR pull-through cache (PCI DSS v4.0
1.3.2: the tasks need no route to the internet to start).

A service whose image is on ECR Public (`public.ecr.aws/<path>:<tag>` or `@sha256:`) runs the
same image from the platform's own registry, `<account>.dkr.ecr.<region>.<suffix>/<prefix>/
<path>`: on the first pull of a tag ECR itself fetches it from ECR Public into a repository it
creates under the prefix, and every pull, the first included, reaches the task through the ECR
interface endpoints and S3's gateway endpoint. So the task's egress keeps no HTTPS to anywhere
for its image (PAY-NET-004). ECR Public needs no credential for a cache rule; Docker Hub, GitHub,
GitLab and the others do (a Secrets Manager secret), which the spec does not carry: their images
are pulled as before, over HTTPS to anywhere with its reason.

One rule per platform: its prefix is derived from the platform's name and environment, so two
platforms (or two environments) in one account each keep their own cached repositories.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from paycompile.compiler.builder import Builder, logical_id
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo
from paycompile.spec.model import Service

UPSTREAM_REGISTRY = "public.ecr.aws"
# `public.ecr.aws/<path>` then `:<tag>`, `@<digest>` or both: the repository path ECR Public
# serves and the reference within it.
_ECR_PUBLIC_IMAGE = re.compile(r"^public\.ecr\.aws/(?P<path>[^:@]+)(?P<reference>[:@].+)$")
# EcrRepositoryPrefix (cfn-lint's registry schema of AWS::ECR::PullThroughCacheRule): 2 to 30
# characters, lowercase components separated by `.`, `_`, `__` or runs of `-` (PAY-NET-005
# checks the prefix against it).
PREFIX_MAX_LENGTH = 30
PREFIX_PATTERN = re.compile(r"^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$")
_DIGEST_CHARACTERS = 8
CACHE_RULE_ID = logical_id(("image", "cache", "rule"))


def upstream_path(image: str) -> str | None:
    """The repository path of an ECR Public image (None: the image is elsewhere)."""
    match = _ECR_PUBLIC_IMAGE.match(image)
    return match["path"] if match else None


def pulls_through_cache(service: Service) -> bool:
    return upstream_path(service.image) is not None


def release_reference(image: str) -> str:
    """What a cached service's release input holds for `image`: the path and tag or digest
    after the upstream registry (the task definition puts the cache's registry and prefix in
    front)."""
    return image.removeprefix(f"{UPSTREAM_REGISTRY}/")


def cache_prefix(platform: str, environment: str) -> str:
    """`<platform>-<environment>` when it fits ECR's 30 characters, else the platform's name cut
    to fit, 8 hexadecimal digits of its SHA-256 and `-<environment>`: unique per platform and
    environment either way, and ending in the environment as every physical name does
    (PAY-GOV-004). An environment of 16 characters leaves the name 4."""
    plain = f"{platform}-{environment}"
    if len(plain) <= PREFIX_MAX_LENGTH:
        return plain
    digest = hashlib.sha256(platform.encode()).hexdigest()[:_DIGEST_CHARACTERS]
    room = PREFIX_MAX_LENGTH - len(environment) - _DIGEST_CHARACTERS - 2
    return f"{platform[:room].rstrip('-')}-{digest}-{environment}"


def add_image_cache(builder: Builder) -> Node | None:
    """The platform's pull-through cache rule for ECR Public, when a service needs it."""
    if not any(pulls_through_cache(service) for service in builder.spec.services):
        return None
    return builder.add(
        Kind.PULL_THROUGH_CACHE_RULE,
        ("image", "cache", "rule"),
        {
            "prefix": cache_prefix(builder.spec.name, builder.env),
            "upstream_registry_url": UPSTREAM_REGISTRY,
        },
        name=cache_prefix(builder.spec.name, builder.env),
    )


# Scan on push (PCI DSS v4.0 6.3.3): AWS's basic scanning of every repository in the registry.
SCAN_TYPE = "BASIC"
SCAN_FREQUENCY = "SCAN_ON_PUSH"
EVERY_REPOSITORY = "*"
FILTER_TYPE = "WILDCARD"  # the only repository filter type ECR's scanning rules take


def add_registry_scanning(builder: Builder) -> Node | None:
    """The registry's scanning configuration, when the spec says this stack owns it: one per
    account and region, so every repository in it (the cache's included) is scanned on push."""
    if not builder.spec.images.registry_scanning:
        return None
    return builder.add(
        Kind.REGISTRY_SCANNING,
        ("registry", "scanning"),
        {
            "scan_type": SCAN_TYPE,
            "rules": [
                {
                    "frequency": SCAN_FREQUENCY,
                    "filter": EVERY_REPOSITORY,
                    "filter_type": FILTER_TYPE,
                }
            ],
        },
    )


def registry_host() -> Concat:
    """The account's private registry in the stack's region and partition."""
    return Concat((Pseudo("account_id"), ".dkr.ecr.", Pseudo("region"), ".", Pseudo("url_suffix")))


def cached_image(builder: Builder, release: Any) -> Concat:
    """The image a cached service's task pulls: the cache's repository, then the release
    (`release_reference`), a deploy-time input."""
    prefix = cache_prefix(builder.spec.name, builder.env)
    return Concat((*registry_host().parts, f"/{prefix}/", release))


def cached_repository_arn(builder: Builder, service: Service) -> Concat:
    """The ARN of the repository ECR creates for the service's image under the prefix."""
    path = upstream_path(service.image)
    assert path is not None, f"{service.name} does not pull through the cache"
    prefix = cache_prefix(builder.spec.name, builder.env)
    return Concat(
        (
            "arn:",
            Pseudo("partition"),
            ":ecr:",
            Pseudo("region"),
            ":",
            Pseudo("account_id"),
            f":repository/{prefix}/{path}",
        )
    )
