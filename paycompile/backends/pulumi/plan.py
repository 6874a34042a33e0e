"""Pulumi backend: the resource plan of the graph's Pulumi program, captured offline under mocks.

`BACKEND.render(graph, "json")` runs `program.run_program` against Pulumi's mock monitor (public
API only: `pulumi.runtime.set_mocks` and the `pulumi.runtime.test` runner) with AWS-shaped answers
from `mocks.AwsMocks`. It records every registration (type token, name, inputs, which resources
each input came from, and the resource options the engine would apply: protect, retainOnDelete,
ignoreChanges, deleteBeforeReplace, replaceWith) and the stack outputs, and writes them as sorted
JSON. No CLI, no cloud: secret inputs are masked as "[secret]". `automation.deploy` runs the same
program for real.

The plan registers the graph's nodes one at a time, waiting for each node's registrations to
finish before the next, and lets go of a node's resources once nothing later refers to them:
Pulumi's runtime holds every pending registration's serialised inputs, output futures and stack
trace until the monitor answers, and every resource object holds an output per property, so
registering everything at once, all kept, made the peak memory grow by about 4.8 MB per service
(docs/performance.md).
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from paycompile.backends.pulumi.mocks import MOCK_ACCOUNT, AwsMocks
from paycompile.backends.pulumi.program import export_outputs, register
from paycompile.backends.pulumi.translate import Translator
from paycompile.compiler.graph import Graph, Ref, deploy_time_values
from paycompile.errors import BackendError

SECRET_MASK = "[secret]"
# Pulumi's wire marker for a secret value: {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "value": ...}.
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
_RUN_LOCK = threading.Lock()  # the Pulumi runtime's settings are process-wide

__all__ = ["BACKEND", "MOCK_ACCOUNT", "PulumiBackend", "capture", "mask"]


@dataclass
class Registration:
    dependencies: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


class RecordingMonitor(MockMonitor):
    """The mock monitor, also keeping each registration's input dependencies and options."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.registrations: dict[tuple[str, str], Registration] = {}
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            with self._lock:
                self.registrations[(request.type, request.name)] = Registration(
                    _dependencies(request), _options(request)
                )
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


def _dependencies(request: Any) -> dict[str, list[str]]:
    found = {
        prop: sorted(_urn_name(urn) for urn in deps.urns)
        for prop, deps in request.propertyDependencies.items()
        if deps.urns
    }
    if request.dependencies:
        found["(dependsOn)"] = sorted(_urn_name(urn) for urn in request.dependencies)
    return found


def _options(request: Any) -> dict[str, Any]:
    """The lifecycle options as the engine receives them (unset reads as the engine default)."""
    return {
        "protect": request.HasField("protect") and request.protect,
        "retainOnDelete": request.HasField("retainOnDelete") and request.retainOnDelete,
        "ignoreChanges": sorted(request.ignoreChanges),
        # None: the provider decides (the Terraform bridge picks delete-first for fixed names).
        "deleteBeforeReplace": (
            request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
        ),
        "replaceWith": sorted(_urn_name(urn) for urn in request.replace_with),
    }


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def mask(value: Any) -> Any:
    """The value with every secret replaced by SECRET_MASK (and whole floats as ints)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIGNATURE_KEY) == SECRET_SIGNATURE:
            return SECRET_MASK
        return {key: mask(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [mask(item) for item in value]
    # The wire carries every number as a double; whole numbers read better as integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def capture(graph: Graph, inputs: dict[str, str] | None = None) -> dict[str, Any]:
    """Runs the program under mocks, with these deploy-time inputs (default: the graph's):
    {"resources": [...], "outputs": {...}} (secrets masked)."""
    with _RUN_LOCK:
        mocks = AwsMocks(graph.region)
        monitor = RecordingMonitor(mocks)
        outputs = _run(graph, mocks, monitor, inputs)
    resources = []
    for (typ, name), inputs in mocks.inputs.items():
        registration = monitor.registrations.get((typ, name), Registration())
        resources.append(
            {
                "type": typ,
                "name": name,
                "inputs": mask(inputs),
                "dependencies": registration.dependencies,
                "options": registration.options,
                "answered": mocks.identities.get((typ, name), {}),
            }
        )
    resources.sort(key=lambda resource: (resource["name"], resource["type"]))
    return {"resources": resources, "outputs": mask(outputs)}


def _run(
    graph: Graph, mocks: AwsMocks, monitor: RecordingMonitor, inputs: dict[str, str] | None
) -> dict[str, Any]:
    """One program run in a fresh runtime: new settings, a new root stack, its own event loop."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    outputs: dict[str, Any] = {}

    async def collect() -> None:
        exported = await _paced_program(graph, inputs)
        for name, value in exported.items():
            outputs[name] = SECRET_MASK if await value.is_secret() else await value.future()

    def program() -> pulumi.Output[None]:
        return pulumi.Output.from_input(collect())

    try:
        pulumi.runtime.reset_options(project=graph.platform, stack=graph.environment)
        pulumi.runtime.set_mocks(
            mocks, project=graph.platform, stack=graph.environment, preview=False, monitor=monitor
        )
        # The public test runner: runs the program and waits for every registration to finish.
        pulumi.runtime.test(program)()  # type: ignore[no-untyped-call]
    finally:
        pulumi.runtime.reset_options()
        asyncio.set_event_loop(None)
        loop.close()
    return outputs


async def _paced_program(
    graph: Graph, inputs: dict[str, str] | None
) -> dict[str, pulumi.Output[Any]]:
    """`program.run_program`, one node at a time: each node's registrations finish (their URNs
    are known) before the next node registers, and a node's resources are let go once no later
    node (and no stack output) refers to them, so what the runtime holds stays bounded."""
    translate = Translator(graph, inputs)
    releases = _releases(graph)
    for index, node in enumerate(graph):
        registered = register(node, translate)
        await asyncio.gather(*(each.urn.future() for each in registered.everything()))
        for done in releases.get(index, ()):
            del translate.registered[done]
    return export_outputs(graph, translate)


def _releases(graph: Graph) -> dict[int, list[str]]:
    """Position in graph order -> the nodes nothing registered after it refers to (by a `Ref`
    in its properties or by `depends_on`); the nodes the stack outputs read are kept."""
    last: dict[str, int] = {}
    for index, node in enumerate(graph):
        last[node.logical_id] = index
        for target in {ref.target for ref in node.references()} | set(node.depends_on):
            last[target] = index
    exported = {
        value.target
        for output in graph.outputs
        for value in deploy_time_values(output.value)
        if isinstance(value, Ref)
    }
    releases: dict[int, list[str]] = {}
    for logical_id, index in last.items():
        if logical_id not in exported:
            releases.setdefault(index, []).append(logical_id)
    return releases


class PulumiBackend:
    name = "pulumi"
    formats = ("json",)

    def render(self, graph: Graph, output_format: str) -> str:
        if output_format not in self.formats:
            raise BackendError(
                f"the pulumi backend writes {', '.join(self.formats)}, not {output_format!r}"
            )
        plan = {
            "platform": graph.platform,
            "environment": graph.environment,
            "region": graph.region,
            **capture(graph),
        }
        # Streamed into a buffer: `json.dumps` joins a list of every fragment, about twice the
        # text's size again at 200 services.
        text = io.StringIO()
        json.dump(plan, text, indent=2, sort_keys=True)
        text.write("\n")
        return text.getvalue()


BACKEND = PulumiBackend()
