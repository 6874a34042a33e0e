"""A nested set's deployment as AWS shapes it, where moto cannot show it: botocore's Stubber
answers (each response checked against the CloudFormation API model, each expected call against
the parameters paycompile must send). The nested change sets AWS makes for
`IncludeNestedStacks` (the nested stack's row names its change set by `ChangeSetId`, with AWS's
replacement words), and a child's failure with per-resource events (moto writes stack-level
events only). tests/test_nested_deploy.py deploys a set to moto.
"""

from __future__ import annotations

import datetime
import io
import re
from typing import Any

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber
from test_nested_deploy import BUCKET, NESTED, REGION, STACK, nested_spec

import paycompile
from paycompile.deployment import cloudformation
from paycompile.deployment.approval import Guard
from paycompile.deployment.progress import PlainProgress
from paycompile.deployment.templates import StackTemplate, TemplateSet
from paycompile.errors import BackendError, ChangeRefused

ACCOUNT = "123456789012"
ROOT_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}/0a1b"
CHILD_ID = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK}-One-X/0c1d"
ROOT_CS = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/paycompile-1/9f8e"
CHILD_CS = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:changeSet/paycompile-1-One/7a6b"


class StubbedSession:
    """Clients that answer from botocore Stubbers (responses checked against the API model)."""

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


def test_aws_nested_change_sets_are_read_judged_and_refused_as_one() -> None:
    """An update whose only data loss is in a child (AWS's rows: the nested stack's row names
    its change set by ChangeSetId; the child's log group is replaced): the root's change set is
    sent with IncludeNestedStacks and the children's S3 URLs, the child's rows are shown under
    its name, the data loss refuses the deploy, and only the root's change set is deleted
    (CloudFormation deletes the nested ones with it)."""
    child = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}
    root = {
        "Resources": {
            "Topic": {"Type": "AWS::SNS::Topic"},
            "One": {"Type": NESTED, "Properties": {"TemplateURL": "one.json"}},
        }
    }
    small = TemplateSet(StackTemplate.of(root), {"one.json": StackTemplate.of(child)})
    child_key = f"{STACK}/{small.children['one.json'].digest}.json"
    session = StubbedSession()
    cfn, s3 = session.stubs["cloudformation"], session.stubs["s3"]
    cfn.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": STACK,
                    "StackId": ROOT_ID,
                    "CreationTime": "2026-11-29T12:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                }
            ]
        },
        {"StackName": STACK},
    )
    s3.add_response("get_bucket_location", {"LocationConstraint": ""}, {"Bucket": BUCKET})
    s3.add_response("put_object", {}, {"Bucket": BUCKET, "Key": child_key, "Body": ANY})
    url = f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{child_key}"
    packaged = small.packaged({"one.json": url}, {})
    root_key = f"{STACK}/{packaged.digest}.json"
    s3.add_response("get_bucket_location", {"LocationConstraint": ""}, {"Bucket": BUCKET})
    s3.add_response("put_object", {}, {"Bucket": BUCKET, "Key": root_key, "Body": ANY})
    cfn.add_response(
        "create_change_set",
        {"Id": ROOT_CS, "StackId": ROOT_ID},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": "UPDATE",
            "TemplateURL": f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{root_key}",
            "IncludeNestedStacks": True,
            "Parameters": [],
            "Capabilities": [],
            "Tags": ANY,
            "Description": ANY,
        },
    )
    ready = {"Status": "CREATE_COMPLETE", "ExecutionStatus": "AVAILABLE"}
    cfn.add_response(
        "describe_change_set",
        {"ChangeSetId": ROOT_CS, "StackId": ROOT_ID, **ready},
        {"ChangeSetName": ROOT_CS},
    )
    nested_row = {
        "Action": "Modify",
        "LogicalResourceId": "One",
        "PhysicalResourceId": CHILD_ID,
        "ResourceType": NESTED,
        "Replacement": "False",
        "ChangeSetId": CHILD_CS,
    }
    cfn.add_response(
        "describe_change_set",
        {
            "ChangeSetId": ROOT_CS,
            "StackId": ROOT_ID,
            "IncludeNestedStacks": True,
            "Changes": [{"Type": "Resource", "ResourceChange": nested_row}],
            **ready,
        },
        {"ChangeSetName": ROOT_CS},
    )
    logs_row = {
        "Action": "Modify",
        "LogicalResourceId": "Logs",
        "ResourceType": "AWS::Logs::LogGroup",
        "Replacement": "True",
    }
    cfn.add_response(
        "describe_change_set",
        {
            "ChangeSetId": CHILD_CS,
            "StackId": CHILD_ID,
            "ParentChangeSetId": ROOT_CS,
            "RootChangeSetId": ROOT_CS,
            "Changes": [{"Type": "Resource", "ResourceChange": logs_row}],
            **ready,
        },
        {"ChangeSetName": CHILD_CS},
    )
    cfn.add_response("delete_change_set", {}, {"ChangeSetName": ROOT_CS})
    shown: list[str] = []
    graph = paycompile.compile_spec(
        paycompile.load_spec_text(yaml.safe_dump(nested_spec()), "nested.yaml")
    )
    with pytest.raises(ChangeRefused, match=r"One/Logs.*--allow-data-loss"):
        cloudformation.deploy(
            graph,
            template=small,
            stack=STACK,
            template_bucket=BUCKET,
            guard=Guard(yes=True),
            session=session,
            on_output=shown.append,
            poll_seconds=0,
        )
    for stub in session.stubs.values():
        stub.assert_no_pending_responses()  # nothing executed, nothing else deleted
    table = "\n".join(shown)
    assert re.search(r"in-place\s+One\s+AWS::CloudFormation::Stack\s+False", table)
    assert re.search(r"replace\s+One/Logs\s+AWS::Logs::LogGroup\s+True\s+data loss", table)


def _event(
    stack_id: str, seconds: int, logical_id: str, kind: str, status: str, reason: str = ""
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "StackId": stack_id,
        "EventId": f"{stack_id[-4:]}-{logical_id}-{status}-{seconds}",
        "StackName": STACK,
        "LogicalResourceId": logical_id,
        "ResourceType": kind,
        "Timestamp": datetime.datetime(2026, 11, 29, 12, 0, seconds, tzinfo=datetime.UTC),
        "ResourceStatus": status,
    }
    if reason:
        found["ResourceStatusReason"] = reason
    return found


def test_a_childs_failure_is_reported_with_its_own_reason() -> None:
    """AWS-shaped events of a failed update: the child's resource failed first, then the root's
    nested stack resource ("Embedded stack ... was not successfully updated"). The child's events
    are streamed under its name and the error names the child's resource and AWS's reason."""
    child = {"Resources": {"Svc": {"Type": "AWS::SNS::Topic"}}}
    root = {"Resources": {"One": {"Type": NESTED, "Properties": {"TemplateURL": "one.json"}}}}
    small = TemplateSet(StackTemplate.of(root), {"one.json": StackTemplate.of(child)})
    session = StubbedSession()
    cfn, s3 = session.stubs["cloudformation"], session.stubs["s3"]
    described = {
        "StackName": STACK,
        "StackId": ROOT_ID,
        "CreationTime": "2026-11-29T12:00:00Z",
        "StackStatus": "UPDATE_COMPLETE",
    }
    cfn.add_response("describe_stacks", {"Stacks": [described]}, {"StackName": STACK})
    for _ in range(2):  # the child, then the root
        s3.add_response("get_bucket_location", {"LocationConstraint": ""}, {"Bucket": BUCKET})
        s3.add_response("put_object", {}, {"Bucket": BUCKET, "Key": ANY, "Body": ANY})
    cfn.add_response("create_change_set", {"Id": ROOT_CS, "StackId": ROOT_ID}, None)
    ready = {"ChangeSetId": ROOT_CS, "StackId": ROOT_ID, "Status": "CREATE_COMPLETE"}
    cfn.add_response("describe_change_set", ready, {"ChangeSetName": ROOT_CS})
    row = {
        "Action": "Modify",
        "LogicalResourceId": "One",
        "ResourceType": NESTED,
        "Replacement": "False",
        "ChangeSetId": CHILD_CS,
    }
    changes = [{"Type": "Resource", "ResourceChange": row}]
    cfn.add_response(
        "describe_change_set", {**ready, "Changes": changes}, {"ChangeSetName": ROOT_CS}
    )
    child_row = {**row, "LogicalResourceId": "Svc", "ResourceType": "AWS::SNS::Topic"}
    del child_row["ChangeSetId"]
    cfn.add_response(
        "describe_change_set",
        {
            "ChangeSetId": CHILD_CS,
            "StackId": CHILD_ID,
            "Status": "CREATE_COMPLETE",
            "Changes": [{"Type": "Resource", "ResourceChange": child_row}],
        },
        {"ChangeSetName": CHILD_CS},
    )
    old_root = _event(ROOT_ID, 0, STACK, NESTED, "UPDATE_COMPLETE")
    old_child = _event(CHILD_ID, 0, f"{STACK}-One-X", NESTED, "UPDATE_COMPLETE")
    listed = {
        "StackResourceSummaries": [
            {
                "LogicalResourceId": "One",
                "PhysicalResourceId": CHILD_ID,
                "ResourceType": NESTED,
                "LastUpdatedTimestamp": "2026-11-29T12:00:00Z",
                "ResourceStatus": "UPDATE_COMPLETE",
            }
        ]
    }
    cfn.add_response("describe_stack_events", {"StackEvents": [old_root]}, {"StackName": ROOT_ID})
    cfn.add_response("list_stack_resources", listed, {"StackName": ROOT_ID})
    cfn.add_response("describe_stack_events", {"StackEvents": [old_child]}, {"StackName": CHILD_ID})
    cfn.add_response("execute_change_set", {}, {"ChangeSetName": ROOT_CS})
    ended = {**described, "StackStatus": "UPDATE_ROLLBACK_COMPLETE"}
    cfn.add_response("describe_stacks", {"Stacks": [ended]}, {"StackName": ROOT_ID})
    embedded = (
        f"Embedded stack {CHILD_ID} was not successfully updated. Currently in "
        "UPDATE_ROLLBACK_IN_PROGRESS with reason: "
        "The following resource(s) failed to update: [Svc]."
    )
    root_events = [
        _event(ROOT_ID, 20, STACK, NESTED, "UPDATE_ROLLBACK_COMPLETE"),
        _event(ROOT_ID, 12, "One", NESTED, "UPDATE_FAILED", embedded),
        _event(ROOT_ID, 2, "One", NESTED, "UPDATE_IN_PROGRESS"),
        old_root,
    ]
    child_events = [
        _event(CHILD_ID, 11, "Svc", "AWS::SNS::Topic", "UPDATE_FAILED", "Topic quota exceeded"),
        _event(CHILD_ID, 3, "Svc", "AWS::SNS::Topic", "UPDATE_IN_PROGRESS"),
        old_child,
    ]
    cfn.add_response("describe_stack_events", {"StackEvents": root_events}, {"StackName": ROOT_ID})
    cfn.add_response("list_stack_resources", listed, {"StackName": ROOT_ID})
    cfn.add_response(
        "describe_stack_events", {"StackEvents": child_events}, {"StackName": CHILD_ID}
    )
    shown = io.StringIO()
    graph = paycompile.compile_spec(
        paycompile.load_spec_text(yaml.safe_dump(nested_spec()), "nested.yaml")
    )
    with pytest.raises(BackendError) as failed:
        cloudformation.deploy(
            graph,
            template=small,
            stack=STACK,
            template_bucket=BUCKET,
            guard=Guard(yes=True),
            session=session,
            on_output=lambda line: None,
            progress=PlainProgress(shown),
            poll_seconds=0,
        )
    for stub in session.stubs.values():
        stub.assert_no_pending_responses()
    assert str(failed.value).endswith(
        "it ended UPDATE_ROLLBACK_COMPLETE; the first failure: One/Svc (AWS::SNS::Topic) "
        "UPDATE_FAILED: Topic quota exceeded"
    )
    lines = shown.getvalue().splitlines()
    assert [line.split()[2] for line in lines[1:]] == ["One", "One/Svc", "One/Svc", "One", STACK]
    assert lines[0] == "update stack payment-nested: 1 resource"
