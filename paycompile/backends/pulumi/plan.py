"""Pulumi backend: the resource plan of the graph's Pulumi program, captured offline under mocks.

`BACKEND.render(graph, "json")` runs `pulumi_program.run_program` against Pulumi's mock
monitor, records every registration (type token, name, inputs, which resources each input
came from) and the stack outputs, and writes them as sorted JSON. No CLI, no cloud: secret
inputs are masked as "[secret]". `deploy` (in `pulumi_deploy`) runs the same program for real.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from paycompile.backends.pulumi.data import ROTATION_OUTPUT
from paycompile.backends.pulumi.program import run_program
from paycompile.compiler.graph import Graph
from paycompile.errors import BackendError

SECRET_MASK = "[secret]"
# Pulumi's wire marker for a secret value: {SECRET_SIGNATURE_KEY: SECRET_SIGNATURE, "value": ...}.
SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
MOCK_ACCOUNT = "123456789012"
_RUN_LOCK = threading.Lock()  # the Pulumi runtime's settings are process-wide


@dataclass
class Registration:
    type: str
    name: str
    inputs: dict[str, Any]
    dependencies: dict[str, list[str]] = field(default_factory=dict)


class RecordingMocks(pulumi_mocks.Mocks):
    """Answers invokes for one region and gives each resource stable, name-derived outputs."""

    def __init__(self, region: str, partition: str = "aws") -> None:
        self.region = region
        self.partition = partition
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        token = args.token
        if token.endswith("getAvailabilityZones"):
            names = [f"{self.region}{letter}" for letter in "abc"]
            return {
                "names": names,
                "zoneIds": [f"use1-az{i}" for i in (1, 2, 3)],
                "id": self.region,
            }, []
        if token.endswith("getRegion"):
            return {"region": self.region, "name": self.region, "id": self.region}, []
        if token.endswith("getCallerIdentity"):
            arn = f"arn:{self.partition}:iam::{MOCK_ACCOUNT}:root"
            return {
                "accountId": MOCK_ACCOUNT,
                "arn": arn,
                "userId": MOCK_ACCOUNT,
                "id": MOCK_ACCOUNT,
            }, []
        if token.endswith("getPartition"):
            return {
                "partition": self.partition,
                "dnsSuffix": "amazonaws.com",
                "id": self.partition,
            }, []
        raise BackendError(f"the Pulumi plan has no mock answer for the invoke {token}")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        with self._lock:
            self.inputs[(args.typ, args.name)] = args.inputs
        return f"{args.name}-id", {**args.inputs, **self._computed(args)}

    def _computed(self, args: pulumi_mocks.MockResourceArgs) -> dict[str, Any]:
        """Output attributes AWS would compute, derived from the name only (stable bytes)."""
        name = args.name
        service = args.typ.split(":")[1].split("/")[0]
        arn = f"arn:{self.partition}:{service}:{self.region}:{MOCK_ACCOUNT}:{name}"
        computed: dict[str, Any] = {
            "arn": arn,
            "arnSuffix": f"{service}/{name}/0123456789abcdef",
            "dnsName": f"{name.lower()}.{self.region}.elb.amazonaws.com",
            "endpoint": f"{name.lower()}.cluster-mock.{self.region}.rds.amazonaws.com",
            "readerEndpoint": f"{name.lower()}.cluster-ro-mock.{self.region}.rds.amazonaws.com",
            "allocationId": f"eipalloc-{name.lower()}",
            "result": f"mock-{name}",
            "hex": f"{sum(name.encode()):08x}",
        }
        if args.typ == "aws:serverlessrepository/cloudFormationStack:CloudFormationStack":
            function = args.inputs.get("parameters", {}).get("functionName", name)
            computed["outputs"] = {
                ROTATION_OUTPUT: f"arn:{self.partition}:lambda:{self.region}:{MOCK_ACCOUNT}"
                f":function:{function}"
            }
        for key in ("name", "bucket", "clusterIdentifier"):
            computed.setdefault(key, args.inputs.get(key, name))
        return computed


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, also keeping which resources each input property depends on."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.dependencies: dict[tuple[str, str], dict[str, list[str]]] = {}
        self._lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        if request.type != "pulumi:pulumi:Stack":
            found = {
                prop: sorted(_urn_name(urn) for urn in deps.urns)
                for prop, deps in request.propertyDependencies.items()
                if deps.urns
            }
            if request.dependencies:
                found["(dependsOn)"] = sorted(_urn_name(urn) for urn in request.dependencies)
            with self._lock:
                self.dependencies[(request.type, request.name)] = found
        return super().RegisterResource(request)  # type: ignore[no-untyped-call]


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


def capture(graph: Graph) -> dict[str, Any]:
    """Runs the program under mocks: {"resources": [...], "outputs": {...}} (secrets masked)."""
    with _RUN_LOCK:
        mocks = RecordingMocks(graph.region, _partition(graph))
        monitor = RecordingMonitor(mocks)
        # A fresh root stack and settings per run, so that a second run starts from nothing.
        pulumi_settings.ROOT.set(None)
        pulumi.runtime.set_mocks(
            mocks, project=graph.platform, stack=graph.environment, preview=False, monitor=monitor
        )
        pulumi_settings.SETTINGS.outputs.clear()
        outputs: dict[str, Any] = {}

        async def program() -> None:
            for name, value in run_program(graph).items():
                outputs[name] = SECRET_MASK if await value.is_secret() else await value.future()

        try:
            _sync_await(run_pulumi_func(program))
        finally:
            pulumi_settings.ROOT.set(None)
    resources = [
        {
            "type": typ,
            "name": name,
            "inputs": mask(inputs),
            "dependencies": monitor.dependencies.get((typ, name), {}),
        }
        for (typ, name), inputs in mocks.inputs.items()
    ]
    resources.sort(key=lambda resource: (resource["name"], resource["type"]))
    return {"resources": resources, "outputs": mask(outputs)}


def _partition(graph: Graph) -> str:
    from paycompile.spec import policy

    return policy.REGIONS.get(graph.region, "aws")


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
        return json.dumps(plan, indent=2, sort_keys=True) + "\n"


BACKEND = PulumiBackend()

__all__ = ["BACKEND", "PulumiBackend", "capture", "mask"]
