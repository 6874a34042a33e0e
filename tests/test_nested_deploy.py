"""A nested set of stacks deployed by `paycompile deploy` to moto, and read back through the AWS
APIs: the children uploaded under their content's hash, the root's change set with its nested
change sets, the children's events, the outputs, an update that touches one child only, the
live colour of a service in a child kept, and a destroy of the whole set.

The platform is the reference spec with a second, path-routed service, one service per group,
rendered as a nested set by forcing the split (the partition is the compiler's, as for 200
services; only the decision that one stack would not do is forced): a root with the shared
resources and `api`'s listener, `Services01` with `api`, `Services02` with `pay` and its
listener rule. moto's gaps around nested stacks are patched in process
(`tests/moto_nested.py`, listed in docs/e2e.md); each template is handed to moto as the
stand-in copy of docs/e2e.md, the copy the one-stack end-to-end test deploys. What moto cannot
show (AWS's nested change sets and per-resource events) is in tests/test_nested_deploy_aws.py.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
import yaml
from moto_nested import nested_stacks_patched
from moto_server import CREDENTIALS, REGION, Moto, import_certificate, moto
from moto_standins import for_moto, put_alarms, with_certificate

import paycompile
from paycompile.backends.cfn import stacks
from paycompile.compiler.graph import Graph
from paycompile.deployment import cloudformation
from paycompile.deployment.approval import Guard
from paycompile.deployment.events import StackEvent
from paycompile.deployment.result import StackResult
from paycompile.deployment.templates import StackTemplate, TemplateSet
from paycompile.errors import ChangeRefused

# moto's state is process-wide: the modules that use it run in one worker, one after another.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
STACK = "payment-nested"
BUCKET = "nested-templates"
SPEC_IMAGE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2"
RELEASE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.3"
NESTED = "AWS::CloudFormation::Stack"
# Cutovers that take seconds (as in tests/test_cutover_moto.py).
FAST_CUTOVER = {
    "canary_percent": 10,
    "bake_seconds": 1,
    "poll_seconds": 1,
    "healthy_timeout_seconds": 3,
}


def nested_spec() -> dict[str, Any]:
    """The reference spec with a routed second service, each service in a group of its own."""
    document: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    document.pop("overrides", None)
    api = document["services"][0]
    api["group"] = 1
    pay = {**copy.deepcopy(api), "name": "pay", "route": {"path": "/pay/*"}, "group": 2}
    document["services"].append(pay)
    for service in document["services"]:
        service["cutover"] = FAST_CUTOVER
    return document


class Recorded:
    """A progress display that keeps the events it is shown."""

    def __init__(self) -> None:
        self.events: list[StackEvent] = []

    def start(self, title: str, total: int) -> None:
        self.total = total

    def event(self, event: StackEvent) -> None:
        self.events.append(event)

    def finish(self, succeeded: bool) -> None:
        pass


@dataclass
class NestedPlatform:
    aws: Moto
    graph: Graph
    monkeypatch: pytest.MonkeyPatch
    said: list[str] = field(default_factory=list)

    def client(self, service: str) -> Any:
        return self.aws.client(service)

    def deploy(self, progress: Recorded | None = None, **options: Any) -> StackResult:
        self.said.clear()
        return cloudformation.deploy(
            self.graph,
            stack=STACK,
            template_bucket=BUCKET,
            guard=options.pop("guard", Guard(yes=True)),
            session=boto3.Session(region_name=REGION),
            on_output=self.said.append,
            progress=progress,
            poll_seconds=0.1,
            **options,
        )

    def stack(self, name: str) -> dict[str, Any]:
        described = self.client("cloudformation").describe_stacks(StackName=name)
        found: dict[str, Any] = described["Stacks"][0]
        return found

    def children(self) -> dict[str, str]:
        """Logical id -> physical id of the root's nested stacks."""
        listed = self.client("cloudformation").list_stack_resources(StackName=STACK)
        return {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in listed["StackResourceSummaries"]
            if r["ResourceType"] == NESTED
        }

    def template(self, name: str) -> dict[str, Any]:
        body = self.client("cloudformation").get_template(StackName=name)["TemplateBody"]
        return body if isinstance(body, dict) else json.loads(body)

    def template_urls(self) -> dict[str, str]:
        root = self.template(STACK)["Resources"]
        return {
            name: body["Properties"]["TemplateURL"]
            for name, body in root.items()
            if body["Type"] == NESTED
        }

    def parameters(self, name: str) -> dict[str, str]:
        return {p["ParameterKey"]: p["ParameterValue"] for p in self.stack(name)["Parameters"]}

    def physical(self, name: str) -> dict[str, str]:
        listed = self.client("cloudformation").list_stack_resources(StackName=name)
        return {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in listed["StackResourceSummaries"]
        }

    def rule_weights(self, rule_arn: str) -> dict[str, int]:
        rule = self.client("elbv2").describe_rules(RuleArns=[rule_arn])["Rules"][0]
        groups = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
        return {g["TargetGroupArn"]: g["Weight"] for g in groups}


@pytest.fixture(scope="module")
def platform() -> Iterator[NestedPlatform]:
    graph = paycompile.compile_spec(
        paycompile.load_spec_text(yaml.safe_dump(nested_spec()), "nested.yaml")
    )
    with pytest.MonkeyPatch.context() as patch, nested_stacks_patched(), moto() as aws:
        certificate = import_certificate(aws.client)
        rendered = cloudformation.template_of

        def moto_copy(graph: Graph, template: Any) -> TemplateSet:
            """The set paycompile renders, each template as the stand-in copy moto deploys."""
            found = rendered(graph, template)
            copies = {"root.json": found.root} | found.children
            return TemplateSet.of(
                {
                    name: for_moto(with_certificate(each.document, certificate))
                    for name, each in copies.items()
                }
            )

        # The split into stacks is the compiler's; only "one stack will not do" is forced.
        patch.setattr(stacks, "fits_one_stack", lambda *counts: False)
        patch.setattr(cloudformation, "template_of", moto_copy)
        patch.setenv("AWS_ENDPOINT_URL", aws.url)
        for name, value in CREDENTIALS.items():
            patch.setenv(name.upper(), value)
        # A bucket of the user's own: moto ignores the TLS condition of paycompile's bucket
        # policy and would refuse the upload (docs/e2e.md).
        aws.client("s3").create_bucket(Bucket=BUCKET)
        aws.run_state_machines()  # the cutover machines the children create run
        yield NestedPlatform(aws, graph, patch)


@pytest.fixture(scope="module")
def created(platform: NestedPlatform) -> tuple[StackResult, Recorded, list[str]]:
    progress = Recorded()
    result = platform.deploy(progress)
    return result, progress, list(platform.said)


def test_plan_of_a_new_set_on_the_command_line_shows_the_children_and_leaves_nothing(
    platform: NestedPlatform, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`paycompile plan` (the real `main`, in process) of the set before it exists."""
    from paycompile.cli import main

    spec = tmp_path / "nested.yaml"
    spec.write_text(yaml.safe_dump(nested_spec()))
    plan = ["plan", str(spec), "--backend", "cfn", "--stack", STACK]
    assert main([*plan, "--template-bucket", BUCKET]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"add\s+Services02/PayRule\s+AWS::ElasticLoadBalancingV2::ListenerRule", shown)
    assert re.search(r"add\s+Services01\s+AWS::CloudFormation::Stack", shown)
    cfn = platform.client("cloudformation")
    statuses = {s["StackName"]: s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]}
    assert statuses.get(STACK, "DELETE_COMPLETE") == "DELETE_COMPLETE", statuses


def test_the_rendered_platform_is_a_root_and_two_children(platform: NestedPlatform) -> None:
    found = cloudformation.template_of(platform.graph, None)
    assert sorted(found.children) == ["services-01.json", "services-02.json"]
    assert sorted(found.root.nested_stacks()) == ["Services01", "Services02"]


def test_the_set_reaches_create_complete_with_its_children(
    platform: NestedPlatform, created: tuple[StackResult, Recorded, list[str]]
) -> None:
    result, _, _ = created
    assert result.status == "CREATE_COMPLETE"
    children = platform.children()
    assert sorted(children) == ["Services01", "Services02"]
    for name in children.values():
        assert platform.stack(name)["StackStatus"] == "CREATE_COMPLETE"
    # api's service is in the first child, pay's service and listener rule in the second.
    assert "ApiBlueService" in platform.physical(children["Services01"])
    assert {"PayBlueService", "PayRule"} <= set(platform.physical(children["Services02"]))
    assert "Vpc" in platform.physical(STACK)


def test_each_child_is_uploaded_under_the_hash_of_its_content(
    platform: NestedPlatform, created: tuple[StackResult, Recorded, list[str]]
) -> None:
    s3 = platform.client("s3")
    children = platform.children()
    for logical_id, url in platform.template_urls().items():
        parsed = urlparse(url)
        assert parsed.netloc.startswith(f"{BUCKET}.s3.")
        key = parsed.path.lstrip("/")
        body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
        assert key == f"{STACK}/{hashlib.sha256(body).hexdigest()}.json"
        # What the child stack runs is the uploaded template.
        assert json.loads(body) == platform.template(children[logical_id])


def test_the_change_table_shows_the_childrens_changes(
    created: tuple[StackResult, Recorded, list[str]],
) -> None:
    result, _, said = created
    rows = {row.change.logical_id: row for row in result.changes}
    assert {"Services01", "Services02", "Vpc"} <= set(rows)
    assert {"Services01/ApiBlueService", "Services02/PayRule", "Services02/PayBlueTask"} <= set(
        rows
    )
    # Classified as the root's rows are: an IAM role in a child widens access.
    assert "widening" in str(rows["Services02/PayTaskRole"].change.risks).lower()
    table = "\n".join(said)
    assert "Services02/PayRule" in table and "AWS::ElasticLoadBalancingV2::ListenerRule" in table


def test_the_childrens_events_are_streamed_with_the_roots(
    created: tuple[StackResult, Recorded, list[str]],
) -> None:
    """moto writes stack-level events only (docs/e2e.md): each child's own events are what
    there is to see, named after the child's logical id in the root."""
    result, progress, _ = created
    by_child = {
        event.logical_id.split("/")[0]: event.status
        for event in progress.events
        if "/" in event.logical_id
    }
    assert by_child == {"Services01": "CREATE_COMPLETE", "Services02": "CREATE_COMPLETE"}
    assert progress.events[-1].logical_id == STACK
    # The bar counts every resource of the set once, the nested stacks' own rows not.
    assert progress.total == sum(1 for row in result.changes if row.change.resource_type != NESTED)


def test_outputs_flow_from_the_root(
    platform: NestedPlatform, created: tuple[StackResult, Recorded, list[str]]
) -> None:
    result, _, said = created
    root = platform.stack(STACK)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in root["Outputs"]}
    assert outputs["VpcId"].startswith("vpc-")
    # The root's outputs that read a child's output carry the child's value.
    declared = platform.template(STACK)["Outputs"]
    children = platform.children()
    from_children = 0
    for key, output in declared.items():
        value = output["Value"]
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            child, attribute = value["Fn::GetAtt"]
            if child in children:
                child_outputs = {
                    o["OutputKey"]: o["OutputValue"]
                    for o in platform.stack(children[child])["Outputs"]
                }
                assert outputs[key] == child_outputs[attribute.removeprefix("Outputs.")]
                from_children += 1
    assert from_children or all("Outputs." not in json.dumps(o["Value"]) for o in declared.values())
    # The platform's outputs a child declares are reported with the root's.
    assert result.outputs["VpcId"] == outputs["VpcId"]
    pay_outputs = [key for key in result.outputs if key.startswith("Pay")]
    assert pay_outputs, result.outputs
    assert any(line.startswith("outputs of stack") for line in said)


def test_an_update_of_one_groups_service_leaves_the_other_child_untouched(
    platform: NestedPlatform, created: tuple[StackResult, Recorded, list[str]]
) -> None:
    children = platform.children()
    first, second = children["Services01"], children["Services02"]
    urls = platform.template_urls()
    untouched = (platform.stack(first), platform.physical(first), platform.template(first))
    events = platform.client("cloudformation").describe_stack_events(StackName=first)

    # pay's cutover finished on green (the rule's weights say so), then a release is deployed.
    pay = platform.physical(second)
    blue, green = pay["PayBlueTg"], pay["PayGreenTg"]
    platform.client("elbv2").modify_rule(
        RuleArn=pay["PayRule"],
        Actions=[
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": blue, "Weight": 0},
                        {"TargetGroupArn": green, "Weight": 100},
                    ]
                },
            }
        ],
    )
    result = platform.deploy(images={"pay": RELEASE})

    assert result.status == "UPDATE_COMPLETE"
    (released,) = [each for each in result.releases if each.service == "pay"]
    # Pulled through the platform's ECR Public cache: the inputs hold the path and tag.
    held = {image: image.removeprefix("public.ecr.aws/") for image in (SPEC_IMAGE, RELEASE)}
    assert (released.live, released.images) == (
        "green",
        {"green": held[SPEC_IMAGE], "blue": held[RELEASE]},
    )
    # The child holding pay got the live colour read from its rule and the release on blue.
    passed = platform.parameters(second)
    assert passed["PayLiveColor"] == "green"
    assert (passed["PayGreenCachedImage"], passed["PayBlueCachedImage"]) == (
        held[SPEC_IMAGE],
        held[RELEASE],
    )
    assert platform.rule_weights(pay["PayRule"]) == {blue: 0, green: 100}
    assert platform.physical(second)["PayRule"] == pay["PayRule"]  # updated in place

    # The other child: the same TemplateURL, stack, resources and template, and no new event.
    after = platform.template_urls()
    assert after["Services01"] == urls["Services01"]
    assert after["Services02"] != urls["Services02"] or passed != untouched[0]
    assert platform.children()["Services01"] == first
    assert platform.stack(first)["StackStatus"] == untouched[0]["StackStatus"]
    assert platform.physical(first) == untouched[1]
    assert platform.template(first) == untouched[2]
    again = platform.client("cloudformation").describe_stack_events(StackName=first)
    assert len(again["StackEvents"]) == len(events["StackEvents"])
    changed = {row.change.logical_id for row in result.changes}
    assert not any(name.startswith("Services01") for name in changed), changed
    assert "Services02" in changed


def test_a_group_emptied_shows_what_its_stack_held_as_removed(
    platform: NestedPlatform, created: tuple[StackResult, Recorded, list[str]]
) -> None:
    """`plan` of the platform without pay: the second nested stack goes, and with it everything
    it holds, each judged by the child's own deletion policies (its log group is data lost)."""
    document = nested_spec()
    document["services"] = document["services"][:1]
    graph = paycompile.compile_spec(paycompile.load_spec_text(yaml.safe_dump(document), "a.yaml"))
    before = platform.stack(STACK)
    platform.said.clear()
    result = cloudformation.plan(
        graph,
        stack=STACK,
        template_bucket=BUCKET,
        session=boto3.Session(region_name=REGION),
        on_output=platform.said.append,
    )
    removed = {row.change.logical_id: row.change for row in result.changes}
    assert removed["Services02"].action.value == "remove"
    assert removed["Services02/PayLogGroup"].loses_data
    assert "Services02/PayRule" in removed and "Services01" not in removed
    assert platform.stack(STACK)["StackStatus"] == before["StackStatus"]


def _create_alarms(platform: NestedPlatform) -> None:
    """The set's alarms (stand-ins in moto's copy), created through the CloudWatch API under
    their templates' names, as tests/test_cutover_moto.py does for one stack."""
    from paycompile.backends.cfn.template import BACKEND

    cloudwatch = platform.client("cloudwatch")
    for text in BACKEND.render_set(platform.graph, "json").values():
        put_alarms(cloudwatch, json.loads(text))


def test_cutover_of_a_service_in_a_child(
    platform: NestedPlatform, created: tuple[StackResult, Recorded, list[str]]
) -> None:
    """pay's release goes to its idle colour (blue after the update above; green when this
    test runs alone); `--cutover` finds pay's machine in the second child, runs it, and the
    idle colour takes the rule's traffic."""
    pay = platform.physical(platform.children()["Services02"])
    weights = platform.rule_weights(pay["PayRule"])
    idle, live = sorted(weights, key=weights.__getitem__)
    _create_alarms(platform)
    # What the idle colour's tasks would do once ECS starts them (moto starts none): register.
    platform.client("elbv2").register_targets(
        TargetGroupArn=idle, Targets=[{"Id": "10.0.1.10"}, {"Id": "10.0.2.10"}]
    )
    result = platform.deploy(images={"pay": RELEASE}, cutover=True)

    (cutover,) = result.cutovers
    assert (cutover.service, cutover.status) == ("pay", "SUCCEEDED"), cutover
    assert cutover.execution_arn.split(":")[6] == pay["PayCutover"].split(":")[-1]
    assert platform.rule_weights(pay["PayRule"]) == {idle: 100, live: 0}


def test_destroy_lists_the_childrens_resources_and_refuses_their_data_loss(
    platform: NestedPlatform, created: tuple[StackResult, Recorded, list[str]]
) -> None:
    """The platform's destroy shows every resource of every stack of the set, and without
    --allow-data-loss deletes nothing."""
    before = platform.children()
    platform.said.clear()
    with pytest.raises(ChangeRefused, match="data"):
        cloudformation.destroy(
            platform.graph,
            stack=STACK,
            guard=Guard(yes=True),
            session=boto3.Session(region_name=REGION),
            on_output=platform.said.append,
        )
    table = "\n".join(platform.said)
    assert re.search(r"remove\s+Services02/PayLogGroup\s+AWS::Logs::LogGroup.*data loss", table)
    assert re.search(r"remove\s+Services01/ApiBlueService\s", table)
    assert platform.children() == before
    assert platform.stack(STACK)["StackStatus"].endswith("_COMPLETE")


@dataclass(frozen=True)
class SmallSet:
    children: list[str]
    log_groups: list[str]


@pytest.fixture(scope="module")
def small_set(platform: NestedPlatform) -> SmallSet:
    """A root (a topic) and two children (a log group each), deployed by paycompile: moto
    cannot delete the platform's VPC (docs/e2e.md), so deletion is shown on this set."""
    child = {
        "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}},
        "Outputs": {"LogsArn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}}},
    }
    root = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "One": {"Type": NESTED, "Properties": {"TemplateURL": "one.json"}},
            "Two": {"Type": NESTED, "Properties": {"TemplateURL": "two.json"}},
        },
        "Outputs": {"OneLogs": {"Value": {"Fn::GetAtt": ["One", "Outputs.LogsArn"]}}},
    }
    small = TemplateSet(
        StackTemplate.of(root),
        {"one.json": StackTemplate.of(child), "two.json": StackTemplate.of(child)},
    )
    deployed = cloudformation.deploy(
        platform.graph,
        template=small,
        stack="small-set",
        template_bucket=BUCKET,
        guard=Guard(yes=True),
        session=boto3.Session(region_name=REGION),
        on_output=platform.said.append,
        poll_seconds=0.1,
    )
    assert deployed.status == "CREATE_COMPLETE"
    assert deployed.outputs["OneLogs"].startswith("arn:aws:logs:")
    cfn = platform.client("cloudformation")
    listed = cfn.list_stack_resources(StackName="small-set")["StackResourceSummaries"]
    children = [r["PhysicalResourceId"] for r in listed if r["ResourceType"] == NESTED]
    log_groups = [
        r["PhysicalResourceId"]
        for child in children
        for r in cfn.list_stack_resources(StackName=child)["StackResourceSummaries"]
    ]
    assert (len(children), len(log_groups)) == (2, 2)
    return SmallSet(children, log_groups)


def _destroy_small_set(platform: NestedPlatform, guard: Guard) -> StackResult:
    return cloudformation.destroy(
        platform.graph,
        stack="small-set",
        guard=guard,
        session=boto3.Session(region_name=REGION),
        on_output=platform.said.append,
        poll_seconds=0.1,
    )


def test_data_loss_in_a_child_alone_asks_first(
    platform: NestedPlatform, small_set: SmallSet
) -> None:
    """The root holds nothing that loses data; the children's log groups do."""
    with pytest.raises(ChangeRefused):
        _destroy_small_set(platform, Guard(yes=True))
    live = {s["StackName"] for s in platform.client("cloudformation").describe_stacks()["Stacks"]}
    assert {"small-set", *small_set.children} <= live


def test_destroy_removes_the_root_and_its_children(
    platform: NestedPlatform, small_set: SmallSet
) -> None:
    result = _destroy_small_set(platform, Guard(yes=True, allow_data_loss=True))

    assert result.status == "DELETE_COMPLETE"
    removed = {row.change.logical_id: row.change for row in result.changes}
    assert set(removed) == {"Topic", "One", "Two", "One/Logs", "Two/Logs"}
    assert [name for name, change in removed.items() if change.loses_data] == [
        "One/Logs",
        "Two/Logs",
    ]
    cfn = platform.client("cloudformation")
    live = {s["StackName"] for s in cfn.describe_stacks()["Stacks"]}
    assert "small-set" not in live and not live & set(small_set.children)
    groups = {
        group["logGroupName"]
        for page in platform.client("logs").get_paginator("describe_log_groups").paginate()
        for group in page["logGroups"]
    }
    assert not groups & set(small_set.log_groups)
