"""`plan`, `deploy` and `destroy` with CloudFormation change sets; `destroy` for either backend.

The change table and the outputs go to stdout; the question and the stack's events go to
stderr (a live rich display when stderr is a terminal, one plain line per event otherwise).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from paycompile import compile_spec
from paycompile.cli import pulumi as pulumi_commands
from paycompile.cli.common import (
    PREFIX,
    Commands,
    UsageError,
    approval_arguments,
    guard,
    load,
    spec_arguments,
)
from paycompile.compiler.graph import Graph
from paycompile.deployment import cloudformation

if TYPE_CHECKING:
    from paycompile.deployment.progress import Progress
    from paycompile.spec.model import PlatformSpec


def register(commands: Commands) -> None:
    plan = commands.add_parser(
        "plan", help="show what `deploy` would change (a CloudFormation change set, not executed)"
    )
    spec_arguments(plan)
    plan.add_argument("--backend", choices=("cfn",), default="cfn")
    _stack_arguments(plan, template_bucket=True)
    _release_arguments(plan, cutover=False)
    plan.set_defaults(handler=_plan)

    deploy = commands.add_parser(
        "deploy", help="create or update the CloudFormation stack, once approved"
    )
    spec_arguments(deploy)
    # Commands that change an account name their backend: no default to fall into.
    deploy.add_argument("--backend", choices=("cfn",), required=True)
    _stack_arguments(deploy, template_bucket=True)
    _release_arguments(deploy, cutover=True)
    approval_arguments(deploy)
    deploy.set_defaults(handler=_deploy)

    destroy = commands.add_parser(
        "destroy", help="delete the platform (CloudFormation stack or Pulumi stack), once approved"
    )
    spec_arguments(destroy)
    destroy.add_argument("--backend", choices=("cfn", "pulumi"), required=True)
    _stack_arguments(destroy, template_bucket=False)
    approval_arguments(destroy)
    destroy.set_defaults(handler=_destroy, action="destroy")


def _stack_arguments(parser: argparse.ArgumentParser, template_bucket: bool) -> None:
    parser.add_argument(
        "--stack", help="stack name (default: <name>-<environment>; with pulumi: the environment)"
    )
    parser.add_argument("--profile", help="AWS profile (default: AWS_PROFILE, else the default)")
    if template_bucket:
        parser.add_argument(
            "--template-bucket",
            metavar="BUCKET",
            help="S3 bucket for templates over 51,200 bytes "
            "(default: paycompile-templates-<account>-<region>, created on first use)",
        )


def _release_arguments(parser: argparse.ArgumentParser, cutover: bool) -> None:
    parser.add_argument(
        "--image",
        action="append",
        default=[],
        metavar="SERVICE=IMAGE",
        help="release IMAGE to SERVICE's idle colour instead of the spec's image (repeatable)",
    )
    if cutover:
        parser.add_argument(
            "--cutover",
            action="store_true",
            help="then cut every service whose idle colour runs the release over to it, "
            "following each cutover to its end",
        )


def _same_registry(argument: str, spec_image: str, image: str) -> None:
    """A service pulling through the platform's ECR Public cache takes releases from there."""
    from paycompile.compiler.images import UPSTREAM_REGISTRY, upstream_path

    if upstream_path(spec_image) is not None and upstream_path(image) is None:
        raise UsageError(
            f"--image {argument}: the service pulls through the platform's cache of "
            f"{UPSTREAM_REGISTRY}, so a release must come from {UPSTREAM_REGISTRY} too "
            "(change the spec's image to change registry)"
        )


def _images(args: argparse.Namespace, spec: PlatformSpec) -> dict[str, str]:
    """`--image SERVICE=IMAGE` as service -> image, each held to the spec's rules for images."""
    from pydantic import ValidationError

    services = {service.name: service for service in spec.services}
    images: dict[str, str] = {}
    for argument in args.image:
        name, separator, image = argument.partition("=")
        if not separator:
            raise UsageError(f"--image {argument}: expected SERVICE=IMAGE")
        if name not in services:
            raise UsageError(
                f"--image {argument}: no service {name!r} (services: {', '.join(services)})"
            )
        if name in images:
            raise UsageError(f"--image {argument}: {name} is named twice")
        try:
            type(services[name]).model_validate({**services[name].model_dump(), "image": image})
        except ValidationError as invalid:
            reason = invalid.errors()[0]["msg"]
            raise UsageError(f"--image {argument}: {reason}") from None
        _same_registry(argument, services[name].image, image)
        images[name] = image
    return images


def _plan(args: argparse.Namespace) -> int:
    spec = load(args)
    graph = compile_spec(spec)
    stack = _stack(graph, args)
    cloudformation.plan(
        graph,
        stack=stack,
        template_bucket=args.template_bucket,
        images=_images(args, spec),
        session=_session(args, graph),
        on_output=_say,
    )
    return 0


def _deploy(args: argparse.Namespace) -> int:
    spec = load(args)
    graph = compile_spec(spec)
    stack = _stack(graph, args)
    cloudformation.deploy(
        graph,
        stack=stack,
        template_bucket=args.template_bucket,
        images=_images(args, spec),
        cutover=args.cutover,
        guard=guard(args),
        session=_session(args, graph),
        on_output=_say,
        progress=_progress(),
    )
    return 0


def _destroy(args: argparse.Namespace) -> int:
    if args.backend == "pulumi":
        if args.profile:
            raise UsageError("--profile is for --backend cfn; Pulumi reads AWS_PROFILE")
        return pulumi_commands.run(args)
    graph = compile_spec(load(args))
    stack = _stack(graph, args)
    cloudformation.destroy(
        graph,
        stack=stack,
        guard=guard(args),
        session=_session(args, graph),
        on_output=_say,
        progress=_progress(),
    )
    return 0


def _session(args: argparse.Namespace, graph: Graph) -> Any:
    """A boto3 session in the spec's region; a note when the AWS settings name another."""
    session = cloudformation.open_session(args.profile, graph.region)
    configured = cloudformation.configured_region(args.profile)
    if configured and configured != graph.region:
        print(
            f"{PREFIX}note: using {graph.region}, the spec's region "
            f"(the AWS settings say {configured})",
            file=sys.stderr,
        )
    return session


def _stack(graph: Graph, args: argparse.Namespace) -> str:
    try:
        return cloudformation.stack_name(graph, args.stack)
    except ValueError as invalid:
        raise UsageError(f"--stack: {invalid}") from None


def _progress() -> Progress:
    from paycompile.deployment.progress import progress_for

    return progress_for(sys.stderr)


def _say(text: str) -> None:
    print(text, flush=True)
