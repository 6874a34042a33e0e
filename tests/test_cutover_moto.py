"""The blue/green cutover, run for real: the platform deploys to moto, the cutover state machine
runs in moto's Step Functions interpreter against moto's ELBv2, ECS, CloudWatch and SSM, and the
results are read back through those APIs.

The spec is the reference spec with a second, path-routed service (so both the listener's
default action and a listener rule are cut over) and cutover timings of a second or two. moto's
ECS starts no tasks and so registers no targets: the test registers IP targets in a colour's
target group as its tasks would (moto reports every registered IP target healthy), or leaves
the group empty to make the colour unhealthy. Alarms are not modelled by moto's CloudFormation
(a stand-in, see docs/e2e.md): the test creates the template's alarms through the CloudWatch
API, with the names the template gives them, and sets their state.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto_server import (
    CREDENTIALS,
    REGION,
    Moto,
    deploy_stack,
    import_certificate,
    moto,
)
from moto_standins import for_moto, put_alarms, with_certificate

import paycompile
from paycompile.compiler.graph import Graph
from paycompile.deployment import cloudformation
from paycompile.deployment.approval import Guard
from paycompile.deployment.live import live_colors
from paycompile.deployment.result import StackResult
from paycompile.errors import BackendError

# moto's state is process-wide: the modules that use it run in one worker, one after another.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
STACK = "payment-cutover"
EXECUTION_SECONDS = 60
FAST_CUTOVER = {"canary_percent": 10, "bake_seconds": 1, "poll_seconds": 1}
HEALTH_TIMEOUT_SECONDS = 3
SERVICES = ("api", "pay")  # api: the listener's default action; pay: a listener rule
TEMPLATE_BUCKET = "cutover-templates"
SPEC_IMAGE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2"
RELEASE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.3"
NEXT_RELEASE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.4"
BROKEN_RELEASE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:9.9.9"


def held(image: str) -> str:
    """What a release input holds for an image pulled through the ECR Public cache."""
    return image.removeprefix("public.ecr.aws/")


def cutover_spec() -> dict[str, Any]:
    """The reference spec, plus a routed second service, with cutovers that take seconds."""
    document: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    api = document["services"][0]
    pay = {**copy.deepcopy(api), "name": "pay", "route": {"path": "/pay/*"}}
    document["services"].append(pay)
    for service in document["services"]:
        service["cutover"] = {**FAST_CUTOVER, "healthy_timeout_seconds": HEALTH_TIMEOUT_SECONDS}
    return document


@dataclass
class Platform:
    """The deployed platform as the AWS APIs show it, and the cutover machines to run."""

    aws: Moto
    graph: Graph
    template: dict[str, Any]
    deployed: dict[str, Any]
    physical: dict[str, str]
    machines: dict[str, str] = field(default_factory=dict)
    next_ip: int = 10
    executions: int = 0
    said: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def resource(self, logical_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.template["Resources"][logical_id]
        return body

    def group(self, service: str, color: str) -> str:
        return self.physical[f"{service.title()}{color.title()}Tg"]

    def weights(self, service: str) -> dict[str, int]:
        """Colour -> weight, as the ELBv2 API shows the service's listener or rule."""
        elbv2 = self.client("elbv2")
        if service == "api":
            listener = elbv2.describe_listeners(ListenerArns=[self.physical["HttpsListener"]])
            action = listener["Listeners"][0]["DefaultActions"][0]
        else:
            rule = elbv2.describe_rules(RuleArns=[self.physical["PayRule"]])
            action = rule["Rules"][0]["Actions"][0]
        by_arn = {g["TargetGroupArn"]: g["Weight"] for g in action["ForwardConfig"]["TargetGroups"]}
        return {color: by_arn[self.group(service, color)] for color in ("blue", "green")}

    def parameters(self) -> dict[str, str]:
        stack = self.client("cloudformation").describe_stacks(StackName=STACK)["Stacks"][0]
        return {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}

    def task_image(self, logical_id: str) -> str:
        """The image the task definition the stack holds now runs."""
        listed = self.client("cloudformation").describe_stack_resource(
            StackName=STACK, LogicalResourceId=logical_id
        )
        arn = listed["StackResourceDetail"]["PhysicalResourceId"]
        described = self.client("ecs").describe_task_definition(taskDefinition=arn)
        return str(described["taskDefinition"]["containerDefinitions"][0]["image"])

    def recorded_color(self, service: str) -> str:
        name = f"/payment/dev/services/{service}/active-color"
        return str(self.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])

    def task_counts(self, service: str) -> dict[str, int]:
        ecs = self.client("ecs")
        found = {}
        for color in ("blue", "green"):
            arn = self.physical[f"{service.title()}{color.title()}Service"]
            cluster = self.physical["Cluster"]
            described = ecs.describe_services(cluster=cluster, services=[arn])["services"]
            found[color] = described[0]["desiredCount"]
        return found

    def register_targets(self, service: str, color: str, count: int) -> None:
        """What the colour's tasks do once ECS starts them: register in its target group."""
        targets = []
        for _ in range(count):
            targets.append({"Id": f"10.0.{self.next_ip // 250}.{self.next_ip % 250 + 4}"})
            self.next_ip += 1
        self.client("elbv2").register_targets(
            TargetGroupArn=self.group(service, color), Targets=targets
        )

    def deregister_all(self, service: str, color: str) -> None:
        elbv2 = self.client("elbv2")
        group = self.group(service, color)
        described = elbv2.describe_target_health(TargetGroupArn=group)
        targets = [d["Target"] for d in described["TargetHealthDescriptions"]]
        if targets:
            elbv2.deregister_targets(TargetGroupArn=group, Targets=targets)

    def cut_over(self, service: str, machine: str | None = None) -> dict[str, Any]:
        """Run the service's cutover to its end; the execution as described, with its history."""
        sfn = self.client("stepfunctions")
        self.executions += 1
        arn = sfn.start_execution(
            stateMachineArn=machine or self.machines[service],
            name=f"{service}-cutover-{self.executions}",
        )["executionArn"]
        deadline = time.monotonic() + EXECUTION_SECONDS
        while time.monotonic() < deadline:
            execution: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if execution["status"] != "RUNNING":
                events = sfn.get_execution_history(executionArn=arn)["events"]
                execution["entered"] = [
                    e["stateEnteredEventDetails"]["name"]
                    for e in events
                    if "stateEnteredEventDetails" in e
                ]
                return execution
            time.sleep(0.2)
        pytest.fail(f"the cutover of {service} still runs after {EXECUTION_SECONDS}s")

    def set_alarm(self, name: str, state: str) -> None:
        self.client("cloudwatch").set_alarm_state(
            AlarmName=name, StateValue=state, StateReason="set by the test"
        )


def _create_alarms(platform: Platform) -> None:
    """The template's alarms, created through the API under the template's names."""
    put_alarms(platform.client("cloudwatch"), platform.template)


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    graph = paycompile.compile_spec(
        paycompile.load_spec_text(yaml.safe_dump(cutover_spec()), "cutover.yaml")
    )
    template = json.loads(paycompile.render(graph, "cfn"))
    with moto() as aws:
        aws.run_state_machines()
        deployed = with_certificate(template, import_certificate(aws.client))
        deploy_stack(aws.client, STACK, for_moto(deployed))
        listed = aws.client("cloudformation").describe_stack_resources(StackName=STACK)
        physical = {
            r["LogicalResourceId"]: r.get("PhysicalResourceId", "")
            for r in listed["StackResources"]
        }
        result = Platform(aws, graph, template, for_moto(deployed), physical)
        result.machines = {service: physical[f"{service.title()}Cutover"] for service in SERVICES}
        _create_alarms(result)
        yield result


@pytest.mark.parametrize("service", SERVICES)
def test_a_healthy_idle_colour_takes_the_traffic_and_a_second_cutover_goes_back(
    platform: Platform, service: str
) -> None:
    assert platform.weights(service) == {"blue": 100, "green": 0}
    assert platform.task_counts(service) == {"blue": 2, "green": 0}
    platform.register_targets(service, "green", 2)
    there = platform.cut_over(service)
    assert there["status"] == "SUCCEEDED", there
    assert platform.weights(service) == {"blue": 0, "green": 100}
    assert platform.recorded_color(service) == "green"
    assert platform.task_counts(service) == {"blue": 0, "green": 2}
    assert "ShiftCanaryTraffic" in there["entered"] and "RollBack" not in there["entered"]

    platform.register_targets(service, "blue", 2)
    back = platform.cut_over(service)
    assert back["status"] == "SUCCEEDED", back
    assert platform.weights(service) == {"blue": 100, "green": 0}
    assert platform.recorded_color(service) == "blue"
    assert platform.task_counts(service) == {"blue": 2, "green": 0}
    platform.deregister_all(service, "blue")
    platform.deregister_all(service, "green")


def test_an_idle_colour_that_never_becomes_healthy_moves_no_traffic(platform: Platform) -> None:
    service = "pay"
    before, recorded = platform.weights(service), platform.recorded_color(service)
    platform.deregister_all(service, "green")
    failed = platform.cut_over(service)
    assert failed["status"] == "FAILED"
    assert failed["error"] == "IdleColorUnhealthy", failed
    assert "did not report 2 healthy targets within 3 s" in failed["cause"]
    assert platform.weights(service) == before
    assert platform.recorded_color(service) == recorded
    assert platform.task_counts(service)["green"] == 0, "the idle colour was not scaled back"
    assert "ShiftCanaryTraffic" not in failed["entered"]


def test_an_alarm_during_the_bake_restores_the_weights(platform: Platform) -> None:
    service = "api"
    before = platform.weights(service)
    platform.register_targets(service, "green", 2)
    alarm = platform.resource("ApiGreen5xxAlarm")["Properties"]["AlarmName"]
    platform.set_alarm(alarm, "ALARM")
    try:
        failed = platform.cut_over(service)
    finally:
        platform.set_alarm(alarm, "OK")
        platform.deregister_all(service, "green")
    assert failed["status"] == "FAILED"
    assert failed["error"] == "AlarmDuringBake", failed
    assert alarm in failed["cause"]
    # The canary share moved, then the captured weights came back.
    assert failed["entered"].index("ShiftCanaryTraffic") < failed["entered"].index("RollBack")
    assert platform.weights(service) == before
    assert platform.task_counts(service)["green"] == 0


def test_split_weights_refuse_to_start_a_cutover(platform: Platform) -> None:
    service = "pay"
    elbv2 = platform.client("elbv2")
    split = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [
                {"TargetGroupArn": platform.group(service, "blue"), "Weight": 50},
                {"TargetGroupArn": platform.group(service, "green"), "Weight": 50},
            ]
        },
    }
    elbv2.modify_rule(RuleArn=platform.physical["PayRule"], Actions=[split])
    try:
        refused = platform.cut_over(service)
    finally:
        split["ForwardConfig"]["TargetGroups"][0]["Weight"] = 100  # type: ignore[index]
        split["ForwardConfig"]["TargetGroups"][1]["Weight"] = 0  # type: ignore[index]
        elbv2.modify_rule(RuleArn=platform.physical["PayRule"], Actions=[split])
    assert refused["status"] == "FAILED" and refused["error"] == "TrafficSplit", refused
    assert platform.task_counts(service) == {"blue": 2, "green": 0}


def test_the_pulumi_programs_state_machine_runs_the_same_cutover(platform: Platform) -> None:
    """The Pulumi plan's definition, each ARN the mocks answered pointed at the deployed
    resource of the same name, cuts over in moto exactly like the CloudFormation one."""
    graph = paycompile.compile_spec(
        paycompile.load_spec_text(yaml.safe_dump(cutover_spec()), "cutover.yaml")
    )
    plan = json.loads(paycompile.render(graph, "pulumi"))
    machine = next(r for r in plan["resources"] if r["name"] == "PayCutover")
    cluster = platform.client("ecs").describe_clusters(clusters=[platform.physical["Cluster"]])
    deployed = {**platform.physical, "Cluster": cluster["clusters"][0]["clusterArn"]}
    mocked = {
        resource["answered"]["arn"]: deployed[resource["name"]]
        for resource in plan["resources"]
        if resource["answered"].get("arn") and resource["name"] in deployed
    }
    definition = machine["inputs"]["definition"]
    for arn in sorted(mocked, key=len, reverse=True):
        definition = definition.replace(arn, mocked[arn])
    sfn = platform.client("stepfunctions")
    role = sfn.describe_state_machine(stateMachineArn=platform.machines["pay"])["roleArn"]
    created = sfn.create_state_machine(
        name="pay-cutover-from-pulumi", definition=definition, roleArn=role
    )
    platform.register_targets("pay", "green", 2)
    there = platform.cut_over("pay", created["stateMachineArn"])
    assert there["status"] == "SUCCEEDED", there
    assert platform.weights("pay") == {"blue": 0, "green": 100}
    assert platform.recorded_color("pay") == "green"
    platform.register_targets("pay", "blue", 2)
    back = platform.cut_over("pay", created["stateMachineArn"])
    assert back["status"] == "SUCCEEDED", back
    assert platform.weights("pay") == {"blue": 100, "green": 0}


def _deploy(
    platform: Platform,
    monkeypatch: pytest.MonkeyPatch,
    priority: int,
    **options: Any,
) -> StackResult:
    """`paycompile deploy` of the deployed template against moto, with the pay rule's priority
    moved: moto re-applies only resources whose template changed, and the rule must be, to
    show whether the weights survive the update."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", platform.aws.url)
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name.upper(), value)
    template = copy.deepcopy(platform.deployed)
    template["Resources"]["PayRule"]["Properties"]["Priority"] = priority
    # A bucket of the user's own: moto ignores the TLS condition in the policy paycompile puts
    # on a bucket it creates, and would refuse the upload (see docs/deploy.md).
    platform.client("s3").create_bucket(Bucket=TEMPLATE_BUCKET)
    return cloudformation.deploy(
        platform.graph,
        template=template,
        stack=STACK,
        template_bucket=TEMPLATE_BUCKET,
        guard=Guard(yes=True),
        session=boto3.Session(region_name=REGION),
        on_output=platform.said.append,
        poll_seconds=0.2,
        **options,
    )


def test_deploy_keeps_a_cutover_and_releases_to_the_idle_colour(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform.register_targets("pay", "green", 2)
    assert platform.cut_over("pay")["status"] == "SUCCEEDED"
    assert live_colors(platform.graph, platform.physical, platform.client("elbv2")) == {
        "ApiLiveColor": "blue",
        "PayLiveColor": "green",
    }

    result = _deploy(platform, monkeypatch, 4242, images={"pay": RELEASE})

    # What serves traffic is untouched: the weights, the task counts, the live colour's image.
    assert platform.weights("pay") == {"blue": 0, "green": 100}
    assert platform.task_counts("pay") == {"blue": 0, "green": 2}
    assert platform.parameters() == {
        "ApiLiveColor": "blue",
        "ApiBlueCachedImage": held(SPEC_IMAGE),
        "ApiGreenCachedImage": held(SPEC_IMAGE),
        "PayLiveColor": "green",
        "PayGreenCachedImage": held(SPEC_IMAGE),
        "PayBlueCachedImage": held(RELEASE),
    }
    # The release went to the idle colour's task definition (through the platform's image
    # cache), ready for a cutover.
    assert platform.task_image("PayBlueTask").endswith(
        ".amazonaws.com/payment-dev/" + held(RELEASE)
    )
    assert platform.task_image("PayGreenTask").endswith("/payment-dev/" + held(SPEC_IMAGE))
    said = f"pay: green serves ({held(SPEC_IMAGE)}); blue runs the release {held(RELEASE)}"
    assert said in platform.said
    assert {each.service: each.released for each in result.releases} == {
        "api": False,
        "pay": True,
    }
    platform.deregister_all("pay", "green")


def test_deploy_with_cutover_makes_the_release_live(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    idle = "blue" if platform.weights("pay")["green"] == 100 else "green"
    platform.register_targets("pay", idle, 2)

    result = _deploy(platform, monkeypatch, 4243, images={"pay": NEXT_RELEASE}, cutover=True)

    (cutover,) = result.cutovers
    assert (cutover.service, cutover.status) == ("pay", "SUCCEEDED")
    assert platform.weights("pay")[idle] == 100
    assert platform.recorded_color("pay") == idle
    assert platform.task_image(f"Pay{idle.title()}Task").endswith("/" + held(NEXT_RELEASE))
    assert "pay: ShiftCanaryTraffic" in platform.said and "pay: cutover succeeded" in platform.said
    platform.deregister_all("pay", idle)


def test_a_failed_cutover_after_deploy_is_the_machines_reason_and_moves_no_traffic(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = platform.weights("pay")
    idle = "blue" if before["green"] == 100 else "green"
    platform.deregister_all("pay", idle)  # whatever earlier tests left there
    with pytest.raises(BackendError, match=r"the cutover of pay ended FAILED: .*restored"):
        # The idle colour has no targets: it never becomes healthy.
        _deploy(platform, monkeypatch, 4244, images={"pay": BROKEN_RELEASE}, cutover=True)
    assert platform.weights("pay") == before
