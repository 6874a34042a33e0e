"""`plan`, `deploy` and `destroy --backend cfn` against a local AWS (moto), and AWS's own shapes.

Most tests run against moto, started in process on a free loopback port (tests/moto_server.py,
with the patches docs/e2e.md lists); boto3 reaches it only through `AWS_ENDPOINT_URL` and dummy
credentials, exactly as a user's environment would point paycompile at an endpoint. The state
is reset before each test. The reference template is handed to the library with the e2e
stand-ins (tests/moto_standins.py), since moto cannot create every type it holds.

What moto 5.2.x does not model is listed in docs/deploy.md; for those, the tests here answer
the one missing call locally and record what paycompile sent (UpdateTerminationProtection,
PutBucketPolicy), and tests/test_cfn_deploy_aws.py drives the AWS behaviour moto lacks
(Replacement, per-resource failure events, outputs) through botocore's Stubber.
"""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto_server import import_certificate, moto
from moto_standins import for_moto, with_certificate
from test_e2e_moto import expected_governance_tags

import paycompile
from paycompile.cli import main
from paycompile.compiler.graph import Graph
from paycompile.deployment.approval import Guard
from paycompile.deployment.progress import PlainProgress, progress_for
from paycompile.deployment.templates import StackTemplate
from paycompile.errors import BackendError, ChangeRefused

# moto's state is process-wide: the modules that use it run in one worker, one after another.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's account
STACK = "payment-dev"
OWN_BUCKET = f"paycompile-templates-{ACCOUNT}-{REGION}"
USER_BUCKET = "team-templates"
# The fixture sets AWS_DEFAULT_REGION to another region: the spec's wins, and the CLI says so.
NOTE = f"paycompile: note: using {REGION}, the spec's region (the AWS settings say eu-west-1)"


# ---------------------------------------------------------------- a local AWS


class LocalAws:
    """The moto server as boto3 sees it through the standard settings."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def session(self) -> Any:
        """A session like the user's, but for the one call moto cannot honour: the TLS-only
        policy of paycompile's own bucket (moto ignores its `Bool` condition and would then
        deny every upload) is recorded, not sent. The bucket test checks what was sent."""
        session = boto3.Session(region_name=REGION)
        Calls(session).answer_locally("s3", "PutBucketPolicy")
        return session

    def certificate(self) -> str:
        return import_certificate(self.client)

    def stack(self, name: str = STACK) -> dict[str, Any] | None:
        listed = self.client("cloudformation").list_stacks()["StackSummaries"]
        live = [
            s for s in listed if s["StackName"] == name and s["StackStatus"] != "DELETE_COMPLETE"
        ]
        if not live:
            return None
        described: dict[str, Any] = self.client("cloudformation").describe_stacks(
            StackName=live[0]["StackId"]
        )["Stacks"][0]
        return described

    def change_sets(self, name: str = STACK) -> list[dict[str, Any]]:
        stack = self.stack(name)
        if stack is None:
            return []
        found: list[dict[str, Any]] = self.client("cloudformation").list_change_sets(
            StackName=stack["StackId"]
        )["Summaries"]
        return [c for c in found if c["ExecutionStatus"] != "EXECUTE_COMPLETE"]


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto() as local:
        yield local.url


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> LocalAws:
    """A fresh local AWS, and an environment that reaches only it."""
    reset = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).close()
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # the spec's region must win
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    return LocalAws(moto_url)


class Calls:
    """Records the parameters of chosen API calls on a session's clients.

    `answer_locally` also answers a call instead of sending it: for the calls moto does not
    implement (UpdateTerminationProtection) or cannot honour (a TLS-only bucket policy, whose
    `Bool` condition moto ignores, would deny every upload).
    """

    def __init__(self, session: Any) -> None:
        self.session = session
        self.made: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def record(self, service: str, operation: str) -> Calls:
        def keep(params: dict[str, Any], **_: Any) -> None:
            self.made[operation].append(dict(params))

        self.session.events.register(f"provide-client-params.{service}.{operation}", keep)
        return self

    def answer_locally(self, service: str, operation: str, error: str = "") -> Calls:
        """Answer `operation` here: success, or `error` (an AWS error code, as a 403)."""

        def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            if error:
                parsed = {"Error": {"Code": error, "Message": f"{error} (answered locally)"}}
                return AWSResponse("https://local", 403, {}, None), parsed
            return AWSResponse("https://local", 200, {}, None), {}

        self.record(service, operation)
        self.session.events.register(f"before-call.{service}.{operation}", answer)
        return self


def reference_graph(environment: str = "dev", text: str | None = None) -> Graph:
    spec = (
        paycompile.load_spec_text(text, environment=environment)
        if text is not None
        else paycompile.load_spec(REFERENCE, environment)
    )
    return paycompile.compile_spec(spec)


def standins(graph: Graph, certificate_arn: str) -> dict[str, Any]:
    """The graph's template as moto can deploy it (see docs/e2e.md)."""
    rendered = json.loads(paycompile.render(graph, "cfn"))
    return for_moto(with_certificate(rendered, certificate_arn))


def small_template(colour_default: str = "blue") -> dict[str, Any]:
    """Three resources moto creates and deletes: a kept log group, a lost one, a setting."""
    return {
        "Parameters": {"Colour": {"Type": "String", "Default": colour_default}},
        "Resources": {
            "KeptLogs": {
                "Type": "AWS::Logs::LogGroup",
                "DeletionPolicy": "Retain",
                "Properties": {"LogGroupName": "/paycompile-test/kept"},
            },
            "LostLogs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/paycompile-test/lost"},
            },
            "Setting": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {
                    "Name": "/paycompile-test/colour",
                    "Type": "String",
                    "Value": {"Ref": "Colour"},
                },
            },
        },
    }


def quiet(_: str) -> None:
    pass


# ---------------------------------------------------------------- plan


def test_plan_lists_every_resource_of_a_new_stack_and_leaves_no_stack(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.client("s3").create_bucket(Bucket=USER_BUCKET)
    code = main(["plan", str(REFERENCE), "--backend", "cfn", "--template-bucket", USER_BUCKET])
    out, err = capsys.readouterr()
    assert code == 0, err
    template = json.loads(paycompile.render(reference_graph(), "cfn"))
    rows = {line.split()[1]: line.split()[0] for line in out.splitlines()[2:] if "  " in line}
    assert set(template["Resources"]) <= set(rows), set(template["Resources"]) - set(rows)
    assert {rows[logical_id] for logical_id in template["Resources"]} == {"add"}
    assert f"changes: {len(template['Resources'])} add, 0 in-place, 0 replace, 0 remove" in out
    # Nothing executed, and the empty stack record of the CREATE change set is gone too.
    assert aws.stack() is None
    # The template (100 KB, over the inline limit) was staged in the bucket named, as built.
    listed = aws.client("s3").list_objects_v2(Bucket=USER_BUCKET)["Contents"]
    staged = aws.client("s3").get_object(Bucket=USER_BUCKET, Key=listed[0]["Key"])
    assert staged["Body"].read().decode() == paycompile.render(reference_graph(), "cfn")


def test_a_large_template_goes_through_paycompiles_own_locked_down_bucket(
    aws: LocalAws,
) -> None:
    session = boto3.Session(region_name=REGION)
    calls = Calls(session).answer_locally("s3", "PutBucketPolicy")
    calls.record("s3", "CreateBucket").record("cloudformation", "CreateChangeSet")
    graph = reference_graph()
    template = paycompile.render(graph, "cfn")
    assert len(template.encode()) > 51_200
    first = paycompile.plan(graph, session=session, on_output=quiet)
    second = paycompile.plan(graph, session=session, on_output=quiet)

    key = f"{STACK}/{StackTemplate.of(template).digest}.json"
    assert first.template_url == f"https://{OWN_BUCKET}.s3.{REGION}.amazonaws.com/{key}"
    assert second.template_url == first.template_url and not first.executed
    s3 = aws.client("s3")
    assert s3.get_object(Bucket=OWN_BUCKET, Key=key)["Body"].read().decode() == template
    assert len(calls.made["CreateBucket"]) == 1, "the bucket is created once per account/region"
    sent = calls.made["CreateChangeSet"][0]
    assert sent["TemplateURL"] == first.template_url and "TemplateBody" not in sent
    assert sent["Capabilities"] == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
    assert {t["Key"]: t["Value"] for t in sent["Tags"]} == expected_governance_tags()

    blocks = s3.get_public_access_block(Bucket=OWN_BUCKET)["PublicAccessBlockConfiguration"]
    assert all(blocks.values()) and len(blocks) == 4
    encryption = s3.get_bucket_encryption(Bucket=OWN_BUCKET)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=OWN_BUCKET)["Status"] == "Enabled"
    ownership = s3.get_bucket_ownership_controls(Bucket=OWN_BUCKET)["OwnershipControls"]
    assert ownership["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rule = s3.get_bucket_lifecycle_configuration(Bucket=OWN_BUCKET)["Rules"][0]
    assert rule["Status"] == "Enabled" and rule["Expiration"]["Days"] == 30
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    policy = json.loads(calls.made["PutBucketPolicy"][0]["Policy"])["Statement"][0]
    assert policy["Effect"] == "Deny" and policy["Action"] == "s3:*"
    assert policy["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert f"arn:aws:s3:::{OWN_BUCKET}/*" in policy["Resource"]


def test_a_bucket_that_cannot_be_locked_down_is_removed_and_nothing_staged(
    aws: LocalAws,
) -> None:
    session = boto3.Session(region_name=REGION)
    Calls(session).answer_locally("s3", "PutBucketPolicy", error="AccessDenied")
    with pytest.raises(BackendError, match=f"configuring the template bucket {OWN_BUCKET} failed"):
        paycompile.plan(reference_graph(), session=session, on_output=quiet)
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.stack() is None


def test_a_bucket_of_that_name_in_another_account_is_never_used(aws: LocalAws) -> None:
    session = boto3.Session(region_name=REGION)
    calls = Calls(session).answer_locally("s3", "HeadBucket", error="403")
    calls.record("s3", "PutObject")
    with pytest.raises(BackendError, match=r"not this account's.*--template-bucket"):
        paycompile.plan(reference_graph(), session=session, on_output=quiet)
    assert calls.made["HeadBucket"] == [{"Bucket": OWN_BUCKET, "ExpectedBucketOwner": ACCOUNT}]
    assert calls.made["PutObject"] == []


def test_a_small_template_goes_inline_and_needs_no_bucket(aws: LocalAws) -> None:
    session = aws.session()
    calls = Calls(session).record("cloudformation", "CreateChangeSet")
    result = paycompile.plan(
        reference_graph(), template=small_template(), session=session, on_output=quiet
    )
    assert result.template_url is None
    assert [(row.change.logical_id, str(row.change.action)) for row in result.changes] == [
        ("KeptLogs", "add"),
        ("LostLogs", "add"),
        ("Setting", "add"),
    ]
    sent = calls.made["CreateChangeSet"][0]
    assert json.loads(sent["TemplateBody"]) == small_template() and "TemplateURL" not in sent
    assert sent["Capabilities"] == []
    assert aws.client("s3").list_buckets()["Buckets"] == []
    assert aws.stack() is None


def test_capabilities_follow_the_templates_iam_resources_and_transforms() -> None:
    role = {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}}
    named = {
        "Type": "AWS::IAM::Role",
        "Properties": {"RoleName": "x", "AssumeRolePolicyDocument": {}},
    }
    transform = "AWS::SecretsManager-2020-07-23"
    cases = [
        ({"Resources": {"Setting": small_template()["Resources"]["Setting"]}}, []),
        ({"Resources": {"Role": role}}, ["CAPABILITY_IAM"]),
        ({"Resources": {"Role": named}}, ["CAPABILITY_NAMED_IAM"]),
        ({"Transform": transform, "Resources": {}}, ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]),
    ]
    for document, expected in cases:
        assert StackTemplate.of(document).capabilities() == expected, document
    yaml_text = (
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n"
        "    Properties:\n      RoleName: !Sub x-${AWS::Region}\n"
    )
    assert StackTemplate.of(yaml_text).capabilities() == ["CAPABILITY_NAMED_IAM"]


# ---------------------------------------------------------------- deploy


def test_deploy_of_the_reference_template_reaches_create_complete_with_progress(
    aws: LocalAws,
) -> None:
    graph = reference_graph()
    template = standins(graph, aws.certificate())
    shown: list[str] = []
    progress = io.StringIO()
    session = aws.session()
    calls = Calls(session).answer_locally("cloudformation", "UpdateTerminationProtection")
    result = paycompile.deploy(
        graph,
        template=template,
        guard=Guard(yes=True),
        session=session,
        progress=PlainProgress(progress),
        on_output=shown.append,
        poll_seconds=0,
    )
    assert result.status == "CREATE_COMPLETE" and result.executed
    stack = aws.stack()
    assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["StackId"] == result.stack_id and stack["StackName"] == STACK
    assert {t["Key"]: t["Value"] for t in stack["Tags"]} == expected_governance_tags()
    resources = aws.client("cloudformation").list_stack_resources(StackName=STACK)
    assert len(resources["StackResourceSummaries"]) == len(template["Resources"])
    assert result.template_url is not None  # the stand-in copy is still over 51,200 bytes
    lines = progress.getvalue().splitlines()
    assert lines[0] == f"create stack {STACK}: {len(template['Resources'])} resources"
    statuses = [line.split()[1] for line in lines[1:]]
    assert statuses[0] == "CREATE_IN_PROGRESS" and statuses[-1] == "CREATE_COMPLETE"
    assert any("add" in text and "Vpc" in text for text in shown)
    assert calls.made["UpdateTerminationProtection"] == []  # ephemeral: deletable at will


def test_an_update_shows_the_classification_and_a_refusal_changes_nothing(
    aws: LocalAws,
) -> None:
    certificate = aws.certificate()
    graph = reference_graph()
    session = aws.session()
    paycompile.deploy(
        graph,
        template=standins(graph, certificate),
        guard=Guard(yes=True),
        session=session,
        on_output=quiet,
    )
    before = aws.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    moved = reference_graph(text=REFERENCE.read_text().replace("port: 8080", "port: 9090"))
    shown: list[str] = []
    asked: list[str] = []

    def say_no(question: str) -> bool:
        asked.append(question)
        return False

    with pytest.raises(ChangeRefused, match="not confirmed"):
        paycompile.deploy(
            moved,
            template=standins(moved, certificate),
            guard=Guard(ask=say_no),
            session=session,
            on_output=shown.append,
        )
    table = next(text for text in shown if text.startswith("ACTION"))
    rows = {line.split()[1]: line.split() for line in table.splitlines()[1:] if "::" in line}
    # moto's change set names the modified resources but not whether they are replaced, so
    # each is judged a replacement; access rules that change are flagged as widening.
    assert set(rows) >= {
        "ApiBlueTg",
        "ApiGreenTg",
        "ApiFromAlbIngress",
        "ApiBlueTask",
        "ApiBlueService",
    }
    assert rows["ApiFromAlbIngress"][-1] == "widening" and rows["ApiBlueTg"][-1] == "-"
    assert rows["ApiBlueTg"][0] == "replace" and rows["ApiBlueTg"][3] == "unknown"
    assert asked == [f"Do you want to update stack {STACK}?"]
    # Refused: the stack still runs the first template, and the change set is gone.
    after = aws.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    assert after == before and aws.change_sets() == []
    assert aws.stack()["StackStatus"] == "CREATE_COMPLETE"  # type: ignore[index]

    approved = paycompile.deploy(
        moved,
        template=standins(moved, certificate),
        guard=Guard(yes=True),
        session=session,
        on_output=quiet,
    )
    assert approved.status == "UPDATE_COMPLETE" and approved.executed
    deployed = aws.client("cloudformation").get_template(StackName=STACK)["TemplateBody"]
    assert deployed["Resources"]["ApiBlueTg"]["Properties"]["Port"] == 9090


def test_parameters_not_given_keep_their_previous_value(aws: LocalAws) -> None:
    graph = reference_graph()
    paycompile.deploy(
        graph,
        template=small_template(),
        parameters={"Colour": "green"},
        guard=Guard(yes=True),
        on_output=quiet,
    )
    ssm = aws.client("ssm")
    assert ssm.get_parameter(Name="/paycompile-test/colour")["Parameter"]["Value"] == "green"
    # A new template whose default differs: the stack keeps the value it was given.
    changed = small_template(colour_default="red")
    changed["Resources"]["Setting"]["Properties"]["Description"] = "the live colour"
    paycompile.deploy(graph, template=changed, guard=Guard(yes=True), on_output=quiet)
    parameters = aws.stack()["Parameters"]  # type: ignore[index]
    assert parameters == [{"ParameterKey": "Colour", "ParameterValue": "green"}]
    shown: list[str] = []
    again = paycompile.deploy(graph, template=changed, guard=Guard(), on_output=shown.append)
    assert not again.executed and again.changes == () and "no changes" in shown
    with pytest.raises(BackendError, match="no parameter Color"):
        paycompile.plan(graph, template=changed, parameters={"Color": "x"}, on_output=quiet)


def test_deploy_without_a_terminal_or_yes_exits_4_and_creates_nothing(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.client("s3").create_bucket(Bucket=USER_BUCKET)
    args = ["deploy", str(REFERENCE), "--backend", "cfn", "--template-bucket", USER_BUCKET]
    assert main(args) == 4
    out, err = capsys.readouterr()
    note, refusal = err.splitlines()  # the region note (see the fixture), then one line
    assert note == NOTE and "add" in out and "no terminal" in refusal
    assert aws.stack() is None


def test_a_retained_platform_gets_termination_protection(aws: LocalAws) -> None:
    session = aws.session()
    calls = Calls(session).answer_locally("cloudformation", "UpdateTerminationProtection")
    graph = reference_graph("prod")  # lifecycle: retained
    paycompile.deploy(
        graph,
        template=standins(graph, aws.certificate()),
        guard=Guard(yes=True),
        session=session,
        on_output=quiet,
    )
    stack = aws.stack("payment-prod")
    assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"
    made = calls.made["UpdateTerminationProtection"]
    assert made == [{"StackName": stack["StackId"], "EnableTerminationProtection": True}]


# ---------------------------------------------------------------- failures


def test_a_failure_reason_is_what_the_user_sees(aws: LocalAws) -> None:
    # The reference spec's certificate does not exist in this account: the listener fails.
    graph = reference_graph()
    template = for_moto(json.loads(paycompile.render(graph, "cfn")))
    with pytest.raises(BackendError) as failed:
        paycompile.deploy(
            graph, template=template, guard=Guard(yes=True), session=aws.session(), on_output=quiet
        )
    assert failed.value.exit_code == 3 and "\n" not in str(failed.value)
    assert "Supplied certificate was not found" in str(failed.value)


def test_a_failed_deploy_is_one_line_on_the_command_line(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    # The template as compiled: moto cannot create every type it holds, and says which.
    aws.client("s3").create_bucket(Bucket=USER_BUCKET)
    args = ["deploy", str(REFERENCE), "--backend", "cfn", "--yes", "--template-bucket"]
    assert main([*args, USER_BUCKET]) == 3
    note, failure = capsys.readouterr().err.splitlines()
    assert note == NOTE and failure.startswith(
        f"paycompile: error: executing the change set of stack {STACK} failed: "
    )
    assert "undefined resource" in failure


# ---------------------------------------------------------------- destroy


def test_destroy_names_what_is_kept_asks_and_removes_the_stack(
    aws: LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    paycompile.deploy(
        reference_graph(), template=small_template(), guard=Guard(yes=True), on_output=quiet
    )
    logs = aws.client("logs")
    destroy = ["destroy", str(REFERENCE), "--backend", "cfn"]
    assert main(destroy) == 4  # no terminal, no --yes
    assert main([*destroy, "--yes"]) == 4  # --yes never approves data loss
    out, err = capsys.readouterr()
    assert "kept in the account: KeptLogs" in out and "DATA LOST: LostLogs" in out
    assert "--allow-data-loss" in err and aws.stack() is not None

    assert main([*destroy, "--yes", "--allow-data-loss"]) == 0
    out, err = capsys.readouterr()
    assert aws.stack() is None
    assert "DELETE_COMPLETE" in err  # the plain progress lines (stderr is not a terminal)
    groups = {g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]}
    assert groups == {"/paycompile-test/kept"}, "Retain keeps the log group, Delete removes it"
    assert main([*destroy, "--yes"]) == 0
    assert "does not exist: nothing to destroy" in capsys.readouterr().out


# ---------------------------------------------------------------- a pseudo-terminal

_CLI_WITH_STANDINS = """
import sys
sys.path.insert(0, {tests!r})
from moto_standins import for_moto, with_certificate
from paycompile.cli import main
from paycompile.deployment import cloudformation
from paycompile.deployment.templates import StackTemplate, TemplateSet

rendered = cloudformation.template_of


def standins(graph, template):
    document = for_moto(with_certificate(rendered(graph, template).root.document, {certificate!r}))
    return TemplateSet(StackTemplate.of(document), {{}})


cloudformation.template_of = standins  # what moto can deploy: see docs/e2e.md
sys.exit(main(sys.argv[1:]))
"""


def _in_a_terminal(arguments: list[str], typed: str, code: str) -> tuple[int, str]:
    """Run paycompile with stdin, stdout and stderr on a pseudo-terminal; type `typed`."""
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", code, *arguments],
        stdin=child,
        stdout=child,
        stderr=child,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "120"},
    )
    os.close(child)
    os.write(parent, typed.encode())
    seen = b""
    while True:
        try:
            chunk = os.read(parent, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    code_returned = process.wait(timeout=60)
    os.close(parent)
    return code_returned, seen.decode(errors="replace")


@pytest.mark.parametrize(("typed", "approved"), [("y\n", True), ("n\n", False)])
def test_deploy_asks_on_the_terminal_and_draws_progress_with_rich(
    aws: LocalAws, typed: str, approved: bool
) -> None:
    aws.client("s3").create_bucket(Bucket=USER_BUCKET)
    script = _CLI_WITH_STANDINS.format(tests=str(ROOT / "tests"), certificate=aws.certificate())
    args = ["deploy", str(REFERENCE), "--backend", "cfn", "--template-bucket", USER_BUCKET]
    code, text = _in_a_terminal(args, typed, script)
    assert f"Do you want to create stack {STACK}? [y/N]" in text
    if approved:
        total = len(standins(reference_graph(), "arn")["Resources"])
        assert code == 0, text
        assert f"{total}/{total}" in text and "\x1b[" in text  # rich's bar, in colour
        assert "CREATE_COMPLETE" in text
        assert aws.stack()["StackStatus"] == "CREATE_COMPLETE"  # type: ignore[index]
    else:
        assert code == 4 and "not confirmed; nothing was changed" in text
        assert aws.stack() is None


def test_progress_is_plain_lines_without_a_terminal_and_rich_on_one() -> None:
    assert isinstance(progress_for(io.StringIO()), PlainProgress)
    parent, child = pty.openpty()
    with os.fdopen(child, "w") as terminal:
        assert not isinstance(progress_for(terminal), PlainProgress)
    os.close(parent)


# ---------------------------------------------------------------- the library and the CLI


def test_import_paycompile_loads_no_aws_or_terminal_library() -> None:
    code = (
        "import sys, paycompile, paycompile.cli\n"
        "from paycompile.deployment import approval, cloudformation, result, templates\n"
        "heavy = {'boto3', 'botocore', 'rich', 'pulumi', 'cfn_flip'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
        "print(callable(paycompile.deploy), paycompile.deploy is cloudformation.deploy)\n"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.splitlines() == ["[]", "True True"]


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["deploy", str(REFERENCE)]) == 2  # an account-changing command names its backend
    assert main(["deploy", str(REFERENCE), "--backend", "cfn", "--stack", "9-bad"]) == 2
    assert main(["destroy", str(REFERENCE), "--backend", "pulumi", "--profile", "p"]) == 2
    err = capsys.readouterr().err
    assert "--backend" in err and "invalid stack name" in err and "--profile is for" in err


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("api", "--image api: expected SERVICE=IMAGE"),
        ("web=public.ecr.aws/x/y:1", "--image web=public.ecr.aws/x/y:1: no service 'web'"),
        ("api=Not An Image", "--image api=Not An Image: "),
        # The reference api pulls through the platform's ECR Public cache.
        ("api=ghcr.io/a/b:1", "a release must come from public.ecr.aws too"),
        ("api=public.ecr.aws/a/b:1", None),  # valid: the error is the next one
    ],
)
def test_an_image_flag_is_checked_before_aws_is_asked(
    capsys: pytest.CaptureFixture[str], image: str, message: str | None
) -> None:
    arguments = ["plan", str(REFERENCE), "--image", image]
    if message is None:
        arguments += ["--image", "api=public.ecr.aws/a/b:2"]
        message = "api is named twice"
    assert main(arguments) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_without_boto3_the_commands_say_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['boto3'] = None  # as if the aws extra were not installed\n"
        "from paycompile.cli import main\n"
        f"sys.exit(main(['plan', {str(REFERENCE)!r}]))\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert ran.returncode == 3
    assert ran.stderr == (
        "paycompile: error: the CloudFormation commands need boto3: pip install 'paycompile[aws]'\n"
    )
