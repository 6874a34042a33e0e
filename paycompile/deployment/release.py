"""What a deployment passes for each service's release inputs, so it never undoes a cutover.

The graph declares, per service, the input holding the live colour and the inputs holding each
colour's image (`paycompile/compiler/release.py`). A deployment of a platform that runs already
passes:

- the live colour as the load balancer shows it (`paycompile/deployment/live.py`), not the spec's
  `active_color`, so the weights and task counts stay where the last cutover left them;
- the image the live colour runs now, unchanged: a deployment never restarts what serves traffic;
- the release for the idle colour: the image given for the service (`--image SERVICE=REF`), else
  the spec's `image`. When the release is what the live colour runs already, the idle colour
  keeps its image: there is nothing to release, and nothing restarts.

A new platform starts from the graph's defaults (the spec's colour and image), with a given image
on both colours. Pure functions: the AWS reads are the caller's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from paycompile.compiler.graph import Graph, Release
from paycompile.compiler.release import COLORS


@dataclass(frozen=True)
class ServiceRelease:
    """What one service runs after the deployment."""

    service: str
    live: str
    images: dict[str, str]
    # The idle colour runs the release asked for, which the live colour does not run: a cutover
    # makes it live.
    released: bool

    @property
    def idle(self) -> str:
        return next(color for color in COLORS if color != self.live)

    def describe(self) -> str:
        line = f"{self.service}: {self.live} serves ({self.images[self.live]})"
        idle = self.images[self.idle]
        if self.released:
            return f"{line}; {self.idle} runs the release {idle}"
        return f"{line}; {self.idle} keeps {idle}"


def check_images(graph: Graph, images: Mapping[str, str]) -> None:
    """ValueError unless every service named has a release input and every image is a name."""
    for service, image in images.items():
        if service not in graph.releases:
            known = ", ".join(sorted(graph.releases))
            raise ValueError(f"no service {service!r} (services: {known})")
        if not image or image != image.strip():
            raise ValueError(f"{service}: {image!r} is not an image reference")
        graph.releases[service].input_value(image)


def plan_releases(
    graph: Graph,
    live_colors: Mapping[str, str] | None,
    previous: Mapping[str, str],
    images: Mapping[str, str],
) -> list[ServiceRelease]:
    """Each service's colours and images after the deployment.

    `live_colors` maps live-colour inputs to the value the load balancer shows (None: the
    platform does not exist yet); `previous` holds the inputs' values from the last deployment;
    `images` the releases asked for by service.
    """
    releases = []
    for name, release in graph.releases.items():
        image = release.input_value(images[name]) if name in images else release.image
        spec_color = previous.get(release.live_color) or graph.inputs[release.live_color].default
        if live_colors is None:
            both = {color: image for color in COLORS}
            releases.append(ServiceRelease(name, spec_color, both, False))
        else:
            live = live_colors.get(release.live_color, spec_color)
            releases.append(_keeping_the_live_colour(release, live, previous, image))
    return releases


def as_inputs(graph: Graph, releases: list[ServiceRelease]) -> dict[str, str]:
    """The deploy-time input values that carry `releases`."""
    values: dict[str, str] = {}
    for each in releases:
        release = graph.releases[each.service]
        values[release.live_color] = each.live
        for color in COLORS:
            values[release.image_input(color)] = each.images[color]
    return values


def _keeping_the_live_colour(
    release: Release, live: str, previous: Mapping[str, str], image: str
) -> ServiceRelease:
    idle = next(color for color in COLORS if color != live)
    running = {color: previous.get(release.image_input(color), release.image) for color in COLORS}
    if image == running[live]:
        return ServiceRelease(release.service, live, running, False)
    return ServiceRelease(release.service, live, {**running, idle: image}, True)


__all__ = ["ServiceRelease", "as_inputs", "check_images", "plan_releases"]
