"""What a deployment supplies per service: the live colour and the image each colour runs.

Blue/green means the live state of a running platform belongs to the cutover, not to the spec:
after a cutover green serves traffic although the spec still says `active_color: blue`. So the
graph does not fix which colour is live; it declares deploy-time inputs (a CloudFormation
parameter, a Pulumi program argument) and derives everything that depends on the live colour
from them: the listener's weights, each colour's task count, the recorded colour. `deploy` and
`up` read the live values from the listener before they change anything, so no stack update
undoes a cutover. The spec's `active_color` and `image` are what a new platform starts with;
afterwards `image` is the release a deployment puts on the idle colour.
"""

from __future__ import annotations

from typing import Any

from paycompile.compiler.builder import Builder, logical_id
from paycompile.compiler.graph import Choose, DeployInput, Input, Release
from paycompile.compiler.images import UPSTREAM_REGISTRY, pulls_through_cache, release_reference
from paycompile.spec.model import Service

COLORS = ("blue", "green")
LIVE_WEIGHT, IDLE_WEIGHT = 100, 0


def live_color_input(service: Service) -> str:
    return logical_id((service.name, "live", "color"))


def image_input(service: Service, color: str) -> str:
    # A cached service's input holds the image without its registry: a new name, so that a
    # deployment moving a service into or out of the cache never passes the other form.
    cached = ("cached",) if pulls_through_cache(service) else ()
    return logical_id((service.name, color, *cached, "image"))


def add_release_inputs(builder: Builder, service: Service) -> None:
    """The service's deploy-time inputs: its live colour and each colour's image."""
    inputs = builder.graph.inputs
    live = live_color_input(service)
    inputs[live] = DeployInput(
        live,
        service.active_color,
        COLORS,
        f"The colour that serves {service.name}: read from the listener on every deployment",
    )
    cached = pulls_through_cache(service)
    image = release_reference(service.image) if cached else service.image
    what = f"from {UPSTREAM_REGISTRY} (path:tag), pulled through the cache" if cached else ""
    for color in COLORS:
        name = image_input(service, color)
        inputs[name] = DeployInput(
            name,
            image,
            (),
            f"The image the {color} tasks of {service.name} run" + (f", {what}" if what else ""),
        )
    builder.graph.releases[service.name] = Release(
        service.name,
        live,
        tuple((color, image_input(service, color)) for color in COLORS),
        image,
        cutover_id(service),
        UPSTREAM_REGISTRY if cached else "",
    )


def cutover_id(service: Service) -> str:
    """The logical id of the state machine that cuts the service over."""
    return logical_id((service.name, "cutover"))


def live_color(service: Service) -> Input:
    return Input(live_color_input(service))


def image(service: Service, color: str) -> Input:
    return Input(image_input(service, color))


def by_live_color(service: Service, live: Any, idle: Any, color: str) -> Choose:
    """`live` when `color` is the live colour, `idle` otherwise."""
    return Choose(
        live_color_input(service),
        tuple((each, live if each == color else idle) for each in COLORS),
    )


def weight(service: Service, color: str) -> Choose:
    """The share of the service's traffic `color` takes while nothing is cutting over."""
    return by_live_color(service, LIVE_WEIGHT, IDLE_WEIGHT, color)


def idle_count(service: Service) -> int:
    """Tasks an idle colour keeps: none, or the full count when it is kept warm."""
    return service.desired_count if service.cutover.keep_idle_warm else 0


def desired_count(service: Service, color: str) -> Choose:
    return by_live_color(service, service.desired_count, idle_count(service), color)
