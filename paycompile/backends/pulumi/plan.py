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
(docs/performance.md). Each registration is kept as its finished JSON text from the moment the
monitor answers it (a str is several times smaller than the dicts it is rendered from), and the
mock monitor's copy of its inputs is dropped then.
"""

from __future__ import annotations

import asyncio
import json
import linecache
import threading
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockMonitor

from paycompile.backends.pulumi.mocks import MOCK_ACCOUNT, AwsMocks
from paycompile.backends.pulumi.program import INPUTS_OUTPUT, register
from paycompile.backends.pulumi.translate import Translator
from paycompile.compiler.graph import Graph, Output, Ref, deploy_time_values
from paycompile.errors import BackendError

# The one private name of Pulumi the backend reads (tests/test_pulumi_backend.py allows it by
# name): the attribute where Pulumi's cycle check keeps a resource's dependencies. A Pulumi
# that keeps them elsewhere only makes the plan hold more memory (see _forget_dependencies);
# tests/test_scaling.py fails when a release moves it.
_CYCLE_CHECK_DEPENDENCIES: str | None
try:
    from pulumi.runtime.resource_cycle_breaker import _DEPENDENCIES_PROPERTY
except ImportError:  # pragma: no cover - a Pulumi release that moved it
    _CYCLE_CHECK_DEPENDENCIES = None
else:
    _CYCLE_CHECK_DEPENDENCIES = _DEPENDENCIES_PROPERTY

SECRET_MASK = "[secret]"
# Pulumi's wire marker for a secret value: {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "value": ...}.
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
# A JSON text holds no raw newline inside a value: every line break in it is indentation.
ITEM_INDENT = "    "  # an item of the plan's `resources`, at indent 2
_RUN_LOCK = threading.Lock()  # the Pulumi runtime's settings are process-wide

__all__ = ["BACKEND", "MOCK_ACCOUNT", "PulumiBackend", "capture", "mask"]


class RecordingMonitor(MockMonitor):
    """The mock monitor, keeping each registration as the plan's JSON text of it: type, name,
    masked inputs, input dependencies, options and what the mocks answered."""

    def __init__(self, mocks: AwsMocks) -> None:
        super().__init__(mocks)
        self.aws = mocks
        self.recorded: dict[tuple[str, str], str] = {}  # (name, type) -> JSON text
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            with self._lock:
                self.recorded[(request.name, request.type)] = self._recorded(request)
                # Pulumi's own record of the answer echoes every input (the mocks answer inputs
                # and outputs together); only its id is read again (`ExistsResource`).
                registration = self.resources[response.urn]
                self.resources[response.urn] = registration._replace(state={})
        return response

    def _recorded(self, request: Any) -> str:
        key = (request.type, request.name)
        resource = {
            "type": request.type,
            "name": request.name,
            "inputs": mask(self.aws.inputs.pop(key)),
            "dependencies": _dependencies(request),
            "options": _options(request),
            "answered": self.aws.identities.pop(key),
        }
        # Indented as an item of the plan's `resources`: the plan is joined from these as they are.
        text = json.dumps(resource, indent=2, sort_keys=True)
        return ITEM_INDENT + text.replace("\n", "\n" + ITEM_INDENT)


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
    recorded, outputs = _record(graph, inputs)
    return {"resources": [json.loads(text) for text in recorded], "outputs": outputs}


def _record(graph: Graph, inputs: dict[str, str] | None) -> tuple[list[str], dict[str, Any]]:
    """Each registration's JSON text, in the plan's order (by name, then type), and the stack
    outputs (secrets masked)."""
    with _RUN_LOCK:
        mocks = AwsMocks(graph.region)
        monitor = RecordingMonitor(mocks)
        outputs = _run(graph, mocks, monitor, inputs)
    recorded = [monitor.recorded[key] for key in sorted(monitor.recorded)]
    return recorded, mask(outputs)


def _run(
    graph: Graph, mocks: AwsMocks, monitor: RecordingMonitor, inputs: dict[str, str] | None
) -> dict[str, Any]:
    """One program run in a fresh runtime: new settings, a new root stack, its own event loop."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    outputs: dict[str, Any] = {}

    async def collect() -> None:
        outputs.update(await _paced_program(graph, inputs))

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
        # Pulumi reads the source of every frame above each resource it registers (its stack
        # trace), which leaves about 7 MB of source lines in `linecache` for nothing to read.
        linecache.clearcache()
    return outputs


async def _paced_program(graph: Graph, inputs: dict[str, str] | None) -> dict[str, Any]:
    """`program.run_program`, one node at a time: each node's registrations finish (their URNs
    are known) before the next node registers; each stack output is read as soon as the nodes
    it refers to are registered, and a node's resources are let go once no later node refers to
    them, so what the runtime holds stays bounded. Returns the stack outputs' values (a secret
    one masked)."""
    translate = Translator(graph, inputs)
    releases = _releases(graph)
    readable = _readable_outputs(graph)
    outputs = await _read(readable.get(-1, []), translate)
    for index, node in enumerate(graph):
        registered = register(node, translate)
        await asyncio.gather(*(each.urn.future() for each in registered.everything()))
        for resource in registered.everything():
            _forget_dependencies(resource)
        outputs.update(await _read(readable.get(index, []), translate))
        for done in releases.get(index, ()):
            del translate.registered[done]
    outputs[INPUTS_OUTPUT] = await _value(dict(sorted(translate.inputs.items())))
    return outputs


async def _read(outputs: list[Output], translate: Translator) -> dict[str, Any]:
    return {output.name: await _value(translate(output.value)) for output in outputs}


def _forget_dependencies(resource: pulumi.Resource) -> None:
    """Drops the resources this one depends on from Pulumi's cycle check, once it is registered.

    Pulumi keeps, on each resource, the set of resources it depends on, and walks them whenever a
    later resource declares a dependency, to refuse a cycle. A registered resource's own
    dependencies are final, and registered resources cannot reach one still registering (every
    earlier node is registered before the next starts), so the walk can never find one through
    them: kept, the sets held every resource a kept one depended on, transitively, to the end.
    """
    if _CYCLE_CHECK_DEPENDENCIES is not None:
        vars(resource).pop(_CYCLE_CHECK_DEPENDENCIES, None)


async def _value(value: Any) -> Any:
    """A stack output's value as a deployment would show it, a secret one masked."""
    output = pulumi.Output.from_input(value)
    return SECRET_MASK if await output.is_secret() else await output.future()


def _releases(graph: Graph) -> dict[int, list[str]]:
    """Position in graph order -> the nodes nothing registered after it refers to (by a `Ref`
    in its properties or by `depends_on`) and no stack output still to be read reads."""
    last: dict[str, int] = {}
    for index, node in enumerate(graph):
        last[node.logical_id] = index
        for target in {ref.target for ref in node.references()} | set(node.depends_on):
            last[target] = index
    for index, outputs in _readable_outputs(graph).items():
        for target in (target for output in outputs for target in _targets(output)):
            last[target] = max(last[target], index)
    releases: dict[int, list[str]] = {}
    for logical_id, index in last.items():
        releases.setdefault(index, []).append(logical_id)
    return releases


def _readable_outputs(graph: Graph) -> dict[int, list[Output]]:
    """Position in graph order -> the stack outputs whose last node read is registered there
    (-1: outputs that read no node). An output holds the resources it reads, each with an
    `Output` per property: read at once, a platform's outputs (one node in three at 200
    services) no longer keep their resources to the end."""
    order = {node.logical_id: index for index, node in enumerate(graph)}
    readable: dict[int, list[Output]] = {}
    for output in graph.outputs:
        index = max((order[target] for target in _targets(output)), default=-1)
        readable.setdefault(index, []).append(output)
    return readable


def _targets(output: Output) -> set[str]:
    return {value.target for value in deploy_time_values(output.value) if isinstance(value, Ref)}


class PulumiBackend:
    name = "pulumi"
    formats = ("json",)

    def render(self, graph: Graph, output_format: str) -> str:
        if output_format not in self.formats:
            raise BackendError(
                f"the pulumi backend writes {', '.join(self.formats)}, not {output_format!r}"
            )
        recorded, outputs = _record(graph, None)
        return plan_text(graph, recorded, outputs)


def plan_text(graph: Graph, recorded: list[str], outputs: dict[str, Any]) -> str:
    """The plan's JSON (sorted keys, indent 2) joined in one step from its recorded resources:
    `resources` sorts last, so the rest is dumped whole and the list follows it. At 200
    services the plan is 13 MB of text: one copy is made, not one per concatenation."""
    head = json.dumps(
        {
            "environment": graph.environment,
            "outputs": outputs,
            "platform": graph.platform,
            "region": graph.region,
        },
        indent=2,
        sort_keys=True,
    ).removesuffix("\n}")
    if not recorded:
        return head + ',\n  "resources": []\n}\n'
    parts = [head, ',\n  "resources": [\n']
    for text in recorded:
        parts += (text, ",\n")
    parts[-1] = "\n  ]\n}\n"
    return "".join(parts)


BACKEND = PulumiBackend()
