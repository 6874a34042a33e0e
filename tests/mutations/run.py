"""Applying a catalogue row to its artifact and collecting what the checkers say."""

from __future__ import annotations

from tests import builds
from tests.checkers.cfn_checker import check_template
from tests.checkers.pulumi_checker import check_plan
from tests.mutations.catalogue import Mutation

BACKENDS = ("cfn", "pulumi")


def output_names(mutation: Mutation) -> list[str]:
    """The outputs the spec's platform exports (the plan's checker wants each of them)."""
    return [output.name for output in builds.graph(mutation.spec, mutation.environment).outputs]


def findings(mutation: Mutation, backend: str, *, mutated: bool = True) -> list[str]:
    """What the checkers report on the row's artifact, mutated (or not, for the baseline)."""
    expected = builds.expectation(mutation.spec, mutation.environment)
    if backend == "cfn":
        template = builds.template(mutation.spec, mutation.environment)
        if mutated and mutation.cfn is not None:
            mutation.cfn(template)
        return check_template(template, expected)
    plan = builds.plan(mutation.spec, mutation.environment)
    if mutated and mutation.pulumi is not None:
        mutation.pulumi(plan)
    return check_plan(plan, expected, output_names(mutation))


def caught(mutation: Mutation, backend: str) -> bool:
    """Whether the checkers report the finding the row expects."""
    return any(mutation.expected(backend) in finding for finding in findings(mutation, backend))
