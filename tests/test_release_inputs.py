"""What a deployment passes for each service's release inputs (paycompile/deployment/release.py).

The moto tests (test_cutover_moto.py) run these choices against a deployed stack; these pin the
choices themselves, case by case.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import paycompile
from paycompile.compiler.graph import Graph, Kind
from paycompile.deployment.release import as_inputs, check_images, plan_releases

ROOT = Path(__file__).resolve().parent.parent
V1, V2, V3 = (f"public.ecr.aws/example/api:1.{n}" for n in (1, 2, 3))
# The reference service pulls through the platform's ECR Public cache: its image inputs hold the
# path and tag after the registry (the task definition puts the cache's repository in front).
P1, P2, P3 = (f"example/api:1.{n}" for n in (1, 2, 3))


@pytest.fixture(scope="module")
def graph() -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(ROOT / "examples" / "platform.yaml"))


def previous(graph: Graph, live: str, blue: str, green: str) -> dict[str, str]:
    release = graph.releases["api"]
    return {
        release.live_color: live,
        release.image_input("blue"): blue,
        release.image_input("green"): green,
    }


def test_every_service_has_release_inputs_and_a_cutover_machine(graph: Graph) -> None:
    for release in graph.releases.values():
        assert graph[release.cutover].kind is Kind.STATE_MACHINE
        assert graph[release.cutover].props["service"] == release.service
        assert {release.live_color, *dict(release.images).values()} <= set(graph.inputs)


def test_a_new_platform_starts_from_the_spec_and_an_image_given_goes_on_both_colours(
    graph: Graph,
) -> None:
    (spec,) = plan_releases(graph, None, {}, {})
    assert spec.live == "blue" and set(spec.images.values()) == {graph.releases["api"].image}
    (given,) = plan_releases(graph, None, {}, {"api": V2})
    assert given.images == {"blue": P2, "green": P2} and not given.released


def test_the_live_colour_and_its_image_stay_and_the_release_goes_to_the_idle_colour(
    graph: Graph,
) -> None:
    live = {graph.releases["api"].live_color: "green"}
    (release,) = plan_releases(graph, live, previous(graph, "blue", P1, P1), {"api": V2})
    # The listener says green although the last deployment said blue: the listener wins.
    assert release.live == "green" and release.idle == "blue"
    assert release.images == {"green": P1, "blue": P2} and release.released
    assert as_inputs(graph, [release]) == previous(graph, "green", P2, P1)


def test_the_image_that_is_live_already_is_no_release_and_the_idle_colour_keeps_its_own(
    graph: Graph,
) -> None:
    live = {graph.releases["api"].live_color: "blue"}
    (release,) = plan_releases(graph, live, previous(graph, "blue", P1, P3), {"api": V1})
    assert release.images == {"blue": P1, "green": P3} and not release.released


def test_a_release_waiting_on_the_idle_colour_is_released_again(graph: Graph) -> None:
    live = {graph.releases["api"].live_color: "blue"}
    (release,) = plan_releases(graph, live, previous(graph, "blue", P1, P2), {"api": V2})
    assert release.images == {"blue": P1, "green": P2} and release.released


def test_without_an_image_given_the_specs_image_is_the_release(graph: Graph) -> None:
    live = {graph.releases["api"].live_color: "blue"}
    (release,) = plan_releases(graph, live, previous(graph, "blue", P1, P1), {})
    assert release.images["green"] == graph.releases["api"].image and release.released


def test_a_service_not_behind_the_load_balancer_yet_takes_the_specs_colour(graph: Graph) -> None:
    (release,) = plan_releases(graph, {}, {}, {})
    assert release.live == graph.inputs[graph.releases["api"].live_color].default


@pytest.mark.parametrize(
    ("images", "message"),
    [({"web": V1}, "no service 'web' (services: api)"), ({"api": " "}, "not an image")],
)
def test_an_image_for_no_service_or_no_image_is_refused(
    graph: Graph, images: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        check_images(graph, images)


def test_a_cached_service_takes_releases_from_its_upstream_registry_only(graph: Graph) -> None:
    # A release from another registry could not be pulled through the cache (nor past the
    # narrowed egress): refused before anything is deployed.
    with pytest.raises(ValueError, match=re.escape("must come from public.ecr.aws too")):
        check_images(graph, {"api": "ghcr.io/example/api:1.2"})
    (given,) = plan_releases(graph, None, {}, {"api": V2})
    assert as_inputs(graph, [given])[graph.releases["api"].image_input("blue")] == P2
