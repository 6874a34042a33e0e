"""CloudFormation behaviour moto does not reproduce, as AWS documents it, through Stubber.

moto's change sets carry no Replacement or PolicyAction, its executions are synchronous with no
per-resource events or rollback, it shows no outputs after a change set and does not implement
UpdateTerminationProtection (docs/deploy.md lists it all). Here the clients answer from Stubbers
instead: each expected call is checked against the parameters paycompile must send, each canned
response is validated against the CloudFormation API model, and a call paycompile should not make
(one after a refusal) fails the test, since nothing answers it.
"""

from __future__ import annotations

import datetime
import io
import json
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from test_cfn_deploy import ACCOUNT, REGION, STACK, reference_graph, small_template

import paycompile
from paycompile.deployment.approval import Guard
from paycompile.deployment.progress import PlainProgress
from paycompile.errors import BackendError, ChangeRefused

SID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0a1b2c3d"
CSID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/paycompile-1/9f8e7d6c"
T0 = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)


class StubbedSession:
    """A session whose clients answer from botocore Stubbers (responses checked against AWS's
    API model), for the AWS behaviour moto does not reproduce."""

    def __init__(self) -> None:
        credentials = {"aws_access_key_id": "x", "aws_secret_access_key": "x"}
        self.clients = {
            name: boto3.client(name, region_name=REGION, **credentials)
            for name in ("cloudformation", "sts", "s3")
        }
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        self.stubs["sts"].add_response(
            "get_caller_identity",
            {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/ci", "UserId": "AIDA"},
        )
        for stub in self.stubs.values():
            stub.activate()

    def client(self, service: str) -> Any:
        return self.clients[service]

    @property
    def cfn(self) -> Stubber:
        return self.stubs["cloudformation"]

    def done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


def event(
    seconds: int, logical_id: str, kind: str, status: str, reason: str = ""
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "StackId": SID,
        "EventId": f"{logical_id}-{status}-{seconds}",
        "StackName": STACK,
        "LogicalResourceId": logical_id,
        "ResourceType": kind,
        "Timestamp": T0 + datetime.timedelta(seconds=seconds),
        "ResourceStatus": status,
    }
    if reason:
        found["ResourceStatusReason"] = reason
    return found


def stack(status: str, **more: Any) -> dict[str, Any]:
    return {
        "Stacks": [
            {"StackName": STACK, "StackId": SID, "CreationTime": T0, "StackStatus": status, **more}
        ]
    }


SERVICE = "AWS::ECS::Service"
CLUSTER = "AWS::RDS::DBCluster"
STACK_TYPE = "AWS::CloudFormation::Stack"
LIVE_TEMPLATE = {
    "Parameters": {"ImageTag": {"Type": "String"}, "LiveColor": {"Type": "String"}},
    "Resources": {
        "OldLogs": {"Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Retain"},
        "DbCluster": {"Type": CLUSTER, "DeletionPolicy": "Snapshot"},
    },
}
ROWS = [
    {
        "Action": "Modify",
        "LogicalResourceId": "ApiBlueService",
        "ResourceType": SERVICE,
        "Replacement": "False",
    },
    {
        "Action": "Modify",
        "LogicalResourceId": "DbCluster",
        "ResourceType": CLUSTER,
        "Replacement": "Conditional",
    },
    {
        "Action": "Modify",
        "LogicalResourceId": "ApiBlueTg",
        "ResourceType": "AWS::ElasticLoadBalancingV2::TargetGroup",
        "Replacement": "True",
    },
    {"Action": "Remove", "LogicalResourceId": "OldLogs", "ResourceType": "AWS::Logs::LogGroup"},
]


def _update_proposed(session: StubbedSession) -> None:
    """An existing stack, an UPDATE change set with AWS's replacement words, its template."""
    cfn = session.cfn
    cfn.add_response(
        "describe_stacks",
        stack(
            "UPDATE_COMPLETE",
            Parameters=[
                {"ParameterKey": "ImageTag", "ParameterValue": "v1"},
                {"ParameterKey": "LiveColor", "ParameterValue": "green"},
            ],
        ),
        {"StackName": STACK},
    )
    cfn.add_response(
        "create_change_set",
        {"Id": CSID, "StackId": SID},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateBody": ANY,
            "Parameters": [
                {"ParameterKey": "ImageTag", "ParameterValue": "v2"},
                {"ParameterKey": "LiveColor", "UsePreviousValue": True},
            ],
            "Capabilities": [],
            "Tags": ANY,
            "Description": ANY,
        },
    )
    ready = {
        "ChangeSetId": CSID,
        "StackId": SID,
        "Status": "CREATE_COMPLETE",
        "ExecutionStatus": "AVAILABLE",
    }
    cfn.add_response("describe_change_set", ready, {"ChangeSetName": CSID})
    changes = [{"Type": "Resource", "ResourceChange": row} for row in ROWS]
    cfn.add_response("describe_change_set", {**ready, "Changes": changes}, {"ChangeSetName": CSID})
    cfn.add_response(
        "get_template",
        {"TemplateBody": json.dumps(LIVE_TEMPLATE)},
        {"StackName": SID, "TemplateStage": "Processed"},
    )


def _deploy_update(
    session: StubbedSession, guard: Guard, shown: list[str], progress: Any = None
) -> None:
    paycompile.deploy(
        reference_graph(),
        template={
            **LIVE_TEMPLATE,
            "Resources": {"Setting": small_template()["Resources"]["Setting"]},
        },
        parameters={"ImageTag": "v2"},
        guard=guard,
        session=session,
        on_output=shown.append,
        progress=progress,
        poll_seconds=0,
    )


def test_aws_replacement_words_are_shown_and_a_refusal_deletes_the_change_set() -> None:
    session = StubbedSession()
    _update_proposed(session)
    session.cfn.add_response("delete_change_set", {}, {"ChangeSetName": CSID})
    shown: list[str] = []
    with pytest.raises(ChangeRefused, match=r"DbCluster.*--allow-data-loss"):
        _deploy_update(session, Guard(yes=True), shown)
    session.done()  # the change set was deleted, and nothing was executed
    rows = {line.split()[1]: line.split() for line in shown[1].splitlines()[1:5]}
    assert rows["ApiBlueService"][:1] + rows["ApiBlueService"][3:] == ["in-place", "False", "-"]
    assert rows["DbCluster"][0] == "replace" and rows["DbCluster"][3] == "Conditional"
    assert rows["DbCluster"][4:] == ["data", "loss"]
    assert rows["ApiBlueTg"][0] == "replace" and rows["ApiBlueTg"][3] == "True"
    assert rows["OldLogs"][0] == "remove" and rows["OldLogs"][4] == "kept"


def test_the_first_failing_event_is_reported_not_just_the_rollback_status() -> None:
    session = StubbedSession()
    _update_proposed(session)
    cfn = session.cfn
    before = event(0, STACK, STACK_TYPE, "UPDATE_COMPLETE")
    cause = (
        'Resource handler returned message: "Invalid request provided: CannotPullContainerError"'
    )
    running = [
        event(2, "ApiBlueService", SERVICE, "UPDATE_FAILED", cause),
        event(1, "ApiBlueService", SERVICE, "UPDATE_IN_PROGRESS"),
        event(1, STACK, STACK_TYPE, "UPDATE_IN_PROGRESS", "User Initiated"),
    ]
    ended = [
        event(5, STACK, STACK_TYPE, "UPDATE_ROLLBACK_COMPLETE"),
        event(4, "DbCluster", CLUSTER, "UPDATE_FAILED", "Resource update cancelled"),
        event(
            3,
            STACK,
            STACK_TYPE,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            "The following resource(s) failed to update: [ApiBlueService].",
        ),
    ]
    cfn.add_response("describe_stack_events", {"StackEvents": [before]}, {"StackName": SID})
    cfn.add_response("execute_change_set", {}, {"ChangeSetName": CSID})
    cfn.add_response("describe_stacks", stack("UPDATE_IN_PROGRESS"), {"StackName": SID})
    cfn.add_response(
        "describe_stack_events", {"StackEvents": [*running, before]}, {"StackName": SID}
    )
    cfn.add_response("describe_stacks", stack("UPDATE_ROLLBACK_COMPLETE"), {"StackName": SID})
    cfn.add_response(
        "describe_stack_events", {"StackEvents": [*ended, *running, before]}, {"StackName": SID}
    )
    progress = io.StringIO()
    with pytest.raises(BackendError) as failed:
        _deploy_update(session, Guard(yes=True, allow_data_loss=True), [], PlainProgress(progress))
    session.done()
    message = str(failed.value)
    assert "ended UPDATE_ROLLBACK_COMPLETE" in message
    assert f"the first failure: ApiBlueService ({SERVICE}) UPDATE_FAILED: {cause}" in message
    assert "cancelled" not in message and failed.value.exit_code == 3
    lines = progress.getvalue().splitlines()[1:]
    assert [line.split()[1] for line in lines] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_IN_PROGRESS",
        "UPDATE_FAILED",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_FAILED",
        "UPDATE_ROLLBACK_COMPLETE",
    ]


def test_a_new_retained_stack_is_created_protected_and_its_outputs_shown() -> None:
    session = StubbedSession()
    cfn = session.cfn
    cfn.add_client_error(
        "describe_stacks", "ValidationError", f"Stack with id {STACK} does not exist", 400
    )
    cfn.add_response("create_change_set", {"Id": CSID, "StackId": SID}, None)
    ready = {"ChangeSetId": CSID, "StackId": SID, "Status": "CREATE_COMPLETE"}
    cfn.add_response("describe_change_set", ready, {"ChangeSetName": CSID})
    add = {"Action": "Add", "LogicalResourceId": "Setting", "ResourceType": "AWS::SSM::Parameter"}
    changes = {**ready, "Changes": [{"Type": "Resource", "ResourceChange": add}]}
    cfn.add_response("describe_change_set", changes, {"ChangeSetName": CSID})
    review = event(0, STACK, STACK_TYPE, "REVIEW_IN_PROGRESS", "User Initiated")
    cfn.add_response("describe_stack_events", {"StackEvents": [review]}, {"StackName": SID})
    cfn.add_response("execute_change_set", {}, {"ChangeSetName": CSID})
    done = [
        event(3, STACK, STACK_TYPE, "CREATE_COMPLETE"),
        event(2, "Setting", "AWS::SSM::Parameter", "CREATE_COMPLETE"),
        event(1, STACK, STACK_TYPE, "CREATE_IN_PROGRESS", "User Initiated"),
    ]
    cfn.add_response("describe_stacks", stack("CREATE_COMPLETE"), {"StackName": SID})
    cfn.add_response("describe_stack_events", {"StackEvents": [*done, review]}, {"StackName": SID})
    cfn.add_response(
        "describe_stacks",
        stack("CREATE_COMPLETE", EnableTerminationProtection=False),
        {"StackName": SID},
    )
    cfn.add_response(
        "update_termination_protection",
        {"StackId": SID},
        {"StackName": SID, "EnableTerminationProtection": True},
    )
    outputs = [{"OutputKey": "VpcId", "OutputValue": "vpc-0abc"}]
    cfn.add_response(
        "describe_stacks", stack("CREATE_COMPLETE", Outputs=outputs), {"StackName": SID}
    )
    shown: list[str] = []
    result = paycompile.deploy(
        reference_graph("prod"),
        template=small_template(),
        stack=STACK,
        guard=Guard(yes=True),
        session=session,
        on_output=shown.append,
        poll_seconds=0,
    )
    session.done()
    assert result.outputs == {"VpcId": "vpc-0abc"} and result.status == "CREATE_COMPLETE"
    assert "termination protection: on (lifecycle: retained)" in shown
    assert shown[-1] == f"outputs of stack {STACK}:\n  VpcId = vpc-0abc"


@pytest.mark.parametrize("approved", [False, True])
def test_destroy_turns_termination_protection_off_only_once_approved(approved: bool) -> None:
    session = StubbedSession()
    cfn = session.cfn
    cfn.add_response(
        "describe_stacks",
        stack("UPDATE_COMPLETE", EnableTerminationProtection=True),
        {"StackName": STACK},
    )
    cfn.add_response(
        "get_template",
        {"TemplateBody": json.dumps(LIVE_TEMPLATE)},
        {"StackName": SID, "TemplateStage": "Processed"},
    )
    summaries = [
        {
            "LogicalResourceId": name,
            "ResourceType": body["Type"],
            "LastUpdatedTimestamp": T0,
            "ResourceStatus": "UPDATE_COMPLETE",
        }
        for name, body in LIVE_TEMPLATE["Resources"].items()  # type: ignore[attr-defined]
    ]
    cfn.add_response(
        "list_stack_resources", {"StackResourceSummaries": summaries}, {"StackName": SID}
    )
    if approved:
        cfn.add_response(
            "update_termination_protection",
            {"StackId": SID},
            {"StackName": SID, "EnableTerminationProtection": False},
        )
        cfn.add_response("describe_stack_events", {"StackEvents": []}, {"StackName": SID})
        cfn.add_response("delete_stack", {}, {"StackName": SID})
        cfn.add_response("describe_stacks", stack("DELETE_COMPLETE"), {"StackName": SID})
        cfn.add_response(
            "describe_stack_events",
            {"StackEvents": [event(9, STACK, STACK_TYPE, "DELETE_COMPLETE")]},
            {"StackName": SID},
        )
    shown: list[str] = []
    run = lambda: paycompile.destroy(  # noqa: E731
        reference_graph(),
        guard=Guard(yes=approved),
        session=session,
        on_output=shown.append,
        poll_seconds=0,
    )
    if approved:
        assert run().status == "DELETE_COMPLETE"
        assert "termination protection: off" in shown
    else:
        with pytest.raises(ChangeRefused, match="no terminal"):
            run()
    session.done()  # refused: nothing after listing the resources was called
    table = shown[1]
    assert "kept in the account: OldLogs, DbCluster" in table
    assert "DbCluster: deleted after a final snapshot (DeletionPolicy: Snapshot)" in table
