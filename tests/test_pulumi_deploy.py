"""`up` and `destroy` preview first, show the change table, and apply only what was approved;
the stack is the platform's in one account and region; a failure is one line.

No Pulumi CLI can run here, so the Automation API stack is replaced by one that answers with
engine events in the CLI's own event-log JSON (parsed by `pulumi.automation.EngineEvent`) and
records whether `up` or `destroy` was called, and failures are the CLI's own diagnostics text.
Everything from the events on is paycompile's code; STS is moto's. The state an `up` reads the
live colours through is `pulumi stack export`'s shape; the listener's weights come from an
object answering as ELBv2 does (the same reading runs against moto in test_cutover_moto.py).
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi.automation import (
    CommandError,
    CommandResult,
    ConfigValue,
    Deployment,
    EngineEvent,
    OutputValue,
)

import paycompile
from paycompile.backends.pulumi import automation, identity
from paycompile.backends.pulumi.automation import changes_of, command_error, run_action
from paycompile.backends.pulumi.identity import Identity
from paycompile.backends.pulumi.plan import capture
from paycompile.backends.pulumi.release import ReleaseProgram, live_inputs
from paycompile.changes import Action
from paycompile.cli import main
from paycompile.compiler.graph import Graph
from paycompile.deployment.approval import Guard, RequireApproval
from paycompile.errors import BackendError, ChangeRefused

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
STACK_URN = "urn:pulumi:dev::payment::"


def graph(environment: str = "dev") -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(REFERENCE, environment))


def step(op: str, type_token: str, name: str, retain: bool = False) -> dict[str, Any]:
    """One `resourcePreEvent` as the engine writes it to its event log."""
    state = {
        "type": type_token,
        "urn": f"{STACK_URN}{type_token}::{name}",
        "retainOnDelete": retain,
    }
    return {
        "sequence": 1,
        "timestamp": 0,
        "resourcePreEvent": {
            "metadata": {
                "op": op,
                "urn": state["urn"],
                "type": type_token,
                "provider": "",
                "old": state if op != "create" else None,
                "new": state if op != "delete" else None,
            },
            "planning": True,
        },
    }


CLUSTER = "aws:rds/cluster:Cluster"
ROLE = "aws:iam/role:Role"
SERVICE = "aws:ecs/service:Service"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


class FakeStack:
    """Answers previews with fixed engine events (or fails them with the CLI's own output) and
    records what was applied and configured."""

    name = "dev"

    def __init__(
        self,
        events: list[dict[str, Any]],
        failure: str | None = None,
        resources: list[dict[str, Any]] | None = None,
        outputs: dict[str, OutputValue] | None = None,
    ) -> None:
        self.events = [EngineEvent.from_json(event) for event in events]
        self.failure = failure
        self.applied: list[str] = []
        self.config: dict[str, ConfigValue] = {}
        self.resources = resources or []  # the state's resources, as `pulumi stack export`
        self.stack_outputs = outputs or {}

    def _emit(self, on_event: Callable[[EngineEvent], None] | None) -> None:
        if self.failure is not None:
            raise CommandError(CommandResult(stdout=self.failure, stderr="", code=255))
        for event in self.events:
            if on_event:
                on_event(event)

    def get_all_config(self) -> dict[str, ConfigValue]:
        return dict(self.config)

    def set_config(self, key: str, value: ConfigValue, *, path: bool = False) -> None:
        self.config[key.removesuffix("[0]") if path else key] = (
            ConfigValue(value=f'["{value.value}"]') if path else value
        )

    def preview(self, **kwargs: Any) -> None:
        self._emit(kwargs.get("on_event"))

    def preview_destroy(self, **kwargs: Any) -> None:
        self._emit(kwargs.get("on_event"))

    def up(self, **kwargs: Any) -> None:
        self.applied.append("up")

    def export_stack(self) -> Deployment:
        return Deployment(version=3, deployment={"resources": self.resources})

    def outputs(self) -> dict[str, OutputValue]:
        return dict(self.stack_outputs)

    def destroy(self, **kwargs: Any) -> None:
        self.applied.append("destroy")


def run(stack: FakeStack, action: str, guard: Guard) -> list[str]:
    lines: list[str] = []
    run_action(stack, graph(), action, guard, lines.append)  # type: ignore[arg-type]
    return lines


CREATES = [step("create", SERVICE, "ApiBlueService"), step("same", CLUSTER, "DbCluster")]
REPLACE_CLUSTER = [
    step("create-replacement", CLUSTER, "DbCluster"),
    step("replace", CLUSTER, "DbCluster"),
    step("delete-replaced", CLUSTER, "DbCluster"),
]


def test_steps_become_one_change_per_resource() -> None:
    events = [EngineEvent.from_json(e) for e in [*REPLACE_CLUSTER, *CREATES]]
    steps = [e.resource_pre_event.metadata for e in events if e.resource_pre_event]
    changes = changes_of(steps, graph())
    assert [(c.logical_id, c.action) for c in changes] == [
        ("DbCluster", Action.REPLACE),
        ("ApiBlueService", Action.ADD),
    ]
    assert changes[0].loses_data and not changes[1].risks


def test_preview_shows_the_table_and_applies_nothing() -> None:
    stack = FakeStack(CREATES)
    lines = run(stack, "preview", Guard())
    assert stack.applied == []
    assert "ApiBlueService" in lines[0] and "1 add" in lines[0]


def test_up_with_yes_applies_after_showing_the_table() -> None:
    stack = FakeStack(CREATES)
    lines = run(stack, "up", Guard(yes=True))
    assert stack.applied == ["up"] and "add" in lines[0]


def test_up_without_a_terminal_or_yes_is_refused_before_anything_runs() -> None:
    stack = FakeStack(CREATES)
    with pytest.raises(ChangeRefused, match="no terminal") as refused:
        run(stack, "up", Guard())
    assert refused.value.exit_code == 4 and stack.applied == []


@pytest.mark.parametrize("answer", [True, False])
def test_the_person_asked_decides(answer: bool) -> None:
    stack = FakeStack(CREATES)
    questions: list[str] = []

    def ask(question: str) -> bool:
        questions.append(question)
        return answer

    if answer:
        run(stack, "up", Guard(ask=ask))
    else:
        with pytest.raises(ChangeRefused, match="not confirmed"):
            run(stack, "up", Guard(ask=ask))
    assert questions == ["Do you want to update stack dev?"]
    assert stack.applied == (["up"] if answer else [])


def test_yes_never_approves_a_replaced_database() -> None:
    stack = FakeStack(REPLACE_CLUSTER)
    with pytest.raises(ChangeRefused, match=r"DbCluster.*--allow-data-loss"):
        run(stack, "up", Guard(yes=True))
    assert stack.applied == []
    run(stack, "up", Guard(yes=True, allow_data_loss=True))
    assert stack.applied == ["up"]


def test_a_new_generated_password_alone_changes_no_data() -> None:
    """The password inputs are write-only: a new RandomPassword is sent nowhere by itself. A
    replaced cluster is data loss, and so is the secret version replaced along with it."""
    password = "random:index/randomPassword:RandomPassword"
    alone = FakeStack([step("replace", password, "DbSecretPassword")])
    run(alone, "up", Guard(yes=True))
    assert alone.applied == ["up"]
    with_cluster = FakeStack(
        [
            step("replace", password, "DbSecretPassword"),
            *REPLACE_CLUSTER,
            step("replace", SECRET_VERSION, "DbSecretAttachment"),
        ]
    )
    with pytest.raises(ChangeRefused, match="DbCluster, DbSecretAttachment"):
        run(with_cluster, "up", Guard(yes=True))


def test_broadening_only_asks_for_risky_changes() -> None:
    guard = Guard(require_approval=RequireApproval.BROADENING)
    plain = FakeStack([step("update", SERVICE, "ApiBlueService")])
    run(plain, "up", guard)
    assert plain.applied == ["up"]
    widened = FakeStack([step("update", ROLE, "ApiTaskRole")])
    with pytest.raises(ChangeRefused, match="no terminal"):
        run(widened, "up", guard)
    assert "widening" in run(widened, "preview", guard)[0] and widened.applied == []


def test_destroy_names_what_is_kept_and_what_is_lost() -> None:
    stack = FakeStack(
        [
            step("delete", SERVICE, "ApiBlueService"),
            step("delete", LOG_GROUP, "ApiLogGroup", retain=True),
            step("delete", CLUSTER, "DbCluster"),
        ]
    )
    with pytest.raises(ChangeRefused, match="DbCluster"):
        run(stack, "destroy", Guard(yes=True))
    table = run(stack, "destroy", Guard(yes=True, allow_data_loss=True))[0]
    assert "kept in the account: ApiLogGroup" in table and "DATA LOST: DbCluster" in table
    assert stack.applied == ["destroy"]


def test_nothing_to_do_applies_nothing_and_asks_nothing() -> None:
    stack = FakeStack([step("same", CLUSTER, "DbCluster")])
    lines = run(stack, "up", Guard())
    assert lines == ["no changes"] and stack.applied == []


# ---------------------------------------------------------------- the command line


def test_up_and_destroy_need_an_explicit_backend(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("up", "destroy"):
        assert main([action, str(REFERENCE)]) == 2
    assert "--backend" in capsys.readouterr().err


def fake_deployment(monkeypatch: pytest.MonkeyPatch, stack: FakeStack) -> None:
    """A CLI on PATH, a passphrase, the caller's account and `stack` as the opened stack."""
    monkeypatch.setattr(automation.shutil, "which", lambda name: "/usr/bin/pulumi")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.setattr(automation, "caller_account", lambda region: "123456789012")
    monkeypatch.setattr(automation, "open_stack", lambda *args: stack)


def test_cli_up_without_a_terminal_exits_4_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = FakeStack(CREATES)
    fake_deployment(monkeypatch, stack)
    assert main(["up", str(REFERENCE), "--backend", "pulumi"]) == 4
    captured = capsys.readouterr()
    assert "ApiBlueService" in captured.out and "no terminal" in captured.err
    assert captured.err.count("\n") == 1 and stack.applied == []
    assert main(["up", str(REFERENCE), "--backend", "pulumi", "--yes"]) == 0
    assert stack.applied == ["up"]


@pytest.mark.parametrize(("typed", "approved"), [("y\n", True), ("yes\n", True), ("\n", False)])
def test_the_terminal_prompt_in_a_real_pseudo_terminal(typed: str, approved: bool) -> None:
    code = (
        "from paycompile.deployment.approval import terminal_ask\n"
        "ask = terminal_ask()\n"
        "print('ANSWER', ask is not None and ask('Go on?'))\n"
    )
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=child, stdout=child, stderr=child, cwd=ROOT
    )
    os.close(child)
    os.write(parent, typed.encode())
    seen = b""
    while process.poll() is None or b"ANSWER" not in seen:
        try:
            chunk = os.read(parent, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=30)
    os.close(parent)
    text = seen.decode()
    assert "Go on? [y/N]" in text and f"ANSWER {approved}" in text


# ---------------------------------------------------------------- a rotated password stays


def test_a_new_secret_version_on_an_existing_secret_is_data_loss() -> None:
    """Writing the first value again would overwrite a rotated password (say, after a refresh
    dropped the version from the state): `--yes` alone must not do it."""
    stack = FakeStack(
        [step("same", SECRET, "DbSecret"), step("create", SECRET_VERSION, "DbSecretAttachment")]
    )
    with pytest.raises(ChangeRefused, match="DbSecretAttachment"):
        run(stack, "up", Guard(yes=True))
    first = FakeStack(
        [step("create", SECRET, "DbSecret"), step("create", SECRET_VERSION, "DbSecretAttachment")]
    )
    run(first, "up", Guard(yes=True))
    assert stack.applied == [] and first.applied == ["up"]


# ---------------------------------------------------------------- errors, one line each

UPDATE_FAILED = """Updating (dev-us-east-1-123456789012):
 +  aws:rds:Cluster DbCluster creating (2s) error: 1 error occurred:
@ updating....
Diagnostics:
  aws:rds:Cluster (DbCluster):
    error: 1 error occurred:
    \t* creating RDS Cluster (payment-db-dev): DBClusterAlreadyExistsFault: DB Cluster \
already exists
    \tstatus code: 400, request id: 8b1c2c1e

  pulumi:pulumi:Stack (payment-dev-us-east-1-123456789012):
    error: update failed

Resources:
    + 3 created
"""
PROVIDER_FAILED = """Diagnostics:
  aws:ecs:Service (ApiService):
    error: sdk-v2/provider2.go:520: sdk.helper_schema: waiting for ECS Service (payment-api-dev) \
create: timeout while waiting for state to become 'tfSTABILIZED'
  pulumi:pulumi:Stack (payment-dev):
    error: update failed
"""
NOT_FOUND = """Diagnostics:
  aws:rds:SubnetGroup (DbSubnets):
    error: reading RDS DB Subnet Group (payment-db-subnets-dev): DBSubnetGroupNotFoundFault: \
not found (the aws plugin reported it)
  pulumi:pulumi:Stack (payment-dev):
    error: update failed
"""
MISSING_PLUGIN = (
    "error: no resource plugin 'pulumi-resource-aws' found in the workspace at version v7.51.1 "
    "or on your $PATH, install the plugin using `pulumi plugin install resource aws v7.51.1`"
)
PROTECTED = """Previewing destroy (prod-us-east-1-123456789012):
Diagnostics:
  aws:rds:Cluster (DbCluster):
    error: Preview failed: unable to delete resource "urn:pulumi:prod-us-east-1-123456789012::\
payment::aws:rds/cluster:Cluster::DbCluster"
    as it is currently marked for protection. To unprotect the resource, either remove the \
`protect` flag from the resource in your Pulumi program or use the command:
    `pulumi state unprotect urn:pulumi:prod-us-east-1-123456789012::payment::aws:rds/cluster:\
Cluster::DbCluster`
  aws:lb:LoadBalancer (Alb):
    error: Preview failed: unable to delete resource "urn:pulumi:prod-us-east-1-123456789012::\
payment::aws:lb/loadBalancer:LoadBalancer::Alb"
    as it is currently marked for protection.
  pulumi:pulumi:Stack (payment-prod-us-east-1-123456789012):
    error: preview failed
"""


def unwrapped(text: str) -> str:
    return text.replace("\\\n", "")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            UPDATE_FAILED,
            "pulumi failed: DbCluster (aws:rds:Cluster): creating RDS Cluster (payment-db-dev): "
            "DBClusterAlreadyExistsFault: DB Cluster already exists",
        ),
        (
            PROVIDER_FAILED,
            "pulumi failed: ApiService (aws:ecs:Service): waiting for ECS Service "
            "(payment-api-dev) create: timeout while waiting for state to become 'tfSTABILIZED'",
        ),
        (
            NOT_FOUND,
            "pulumi failed: DbSubnets (aws:rds:SubnetGroup): reading RDS DB Subnet Group "
            "(payment-db-subnets-dev): DBSubnetGroupNotFoundFault: not found (the aws plugin "
            "reported it)",
        ),
    ],
)
def test_a_failure_shows_its_first_real_diagnostic(text: str, expected: str) -> None:
    error = command_error(str(CommandResult(stdout=unwrapped(text), stderr="", code=255)))
    assert isinstance(error, BackendError) and error.exit_code == 3
    assert str(error) == expected


def test_an_error_on_stderr_alone_is_still_found() -> None:
    text = str(CommandResult(stdout="", stderr="error: could not read the stack: EOF\n", code=1))
    assert str(command_error(text)) == "pulumi failed: could not read the stack: EOF"


def test_only_a_missing_plugin_gets_the_install_hint() -> None:
    line = str(command_error(MISSING_PLUGIN))
    assert "pulumi plugin install resource aws v" in line and "\n" not in line
    assert "install" not in str(command_error(unwrapped(NOT_FOUND)))


def test_a_protected_resource_refuses_the_destroy_before_anything_is_deleted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = FakeStack([], failure=unwrapped(PROTECTED))
    fake_deployment(monkeypatch, stack)
    argv = ["destroy", str(REFERENCE), "--backend", "pulumi", "--env", "prod"]
    assert main([*argv, "--yes", "--allow-data-loss"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert (
        err.startswith("paycompile: refused: Alb, DbCluster are protected")
        and "nothing was changed" in err
    )
    assert stack.applied == []


# ---------------------------------------------------------------- stack identity


def test_the_stack_is_the_platforms_in_one_region_and_account() -> None:
    prod = Identity.of(graph("prod"), "123456789012")
    assert prod.stack == "prod-us-east-1-123456789012"
    assert Identity.of(graph("prod"), "123456789012", "mine").stack == "mine"


def test_opening_a_stack_pins_its_region_and_account(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from pulumi import automation as auto

    stack = FakeStack([])
    opened: dict[str, Any] = {}

    def create_or_select_stack(**kwargs: Any) -> FakeStack:
        opened.update(kwargs)
        return stack

    monkeypatch.setattr(auto, "create_or_select_stack", create_or_select_stack)
    url = f"file://{tmp_path / 'state'}"
    who = Identity.of(graph(), "123456789012")
    program = ReleaseProgram(graph())
    assert automation.open_stack(graph(), who, url, program) is stack
    assert opened["program"] is program
    assert opened["stack_name"] == "dev-us-east-1-123456789012"
    assert opened["opts"].secrets_provider == "passphrase"
    assert opened["opts"].project_settings.backend.url == url and (tmp_path / "state").is_dir()
    assert stack.config["aws:region"].value == "us-east-1"
    assert stack.config["aws:allowedAccountIds"].value == '["123456789012"]'
    automation.open_stack(graph(), who, url, program)  # the same identity opens it again
    with pytest.raises(BackendError, match=r"belongs to account 123456789012.*210987654321"):
        automation.open_stack(
            graph(), Identity(who.stack, "us-east-1", "210987654321"), url, program
        )
    with pytest.raises(BackendError, match="deployed in us-east-1, the spec says eu-west-1"):
        automation.open_stack(
            graph(), Identity(who.stack, "eu-west-1", "123456789012"), url, program
        )


def test_the_callers_account_comes_from_sts(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        assert identity.caller_account("eu-west-1") == "123456789012"


def test_no_credentials_is_one_line_before_anything_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(BackendError, match=r"^no AWS credentials found: set AWS_PROFILE"):
        identity.caller_account("us-east-1")


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("file://~/pulumi-state", "file://{home}/pulumi-state"),
        ("file://~", "file://{home}"),
        ("s3://bucket/prefix", "s3://bucket/prefix"),
        ("https://api.pulumi.com", "https://api.pulumi.com"),
    ],
)
def test_the_state_backend_url_expands_the_home_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, configured: str, expected: str
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("PULUMI_BACKEND_URL", configured)
    assert identity.state_backend_url() == expected.format(home=tmp_path.as_posix())


@pytest.mark.parametrize(
    "url", ["file:///tmp/state", "s3://bucket/state", "gs://b/s", "azblob://c"]
)
def test_every_self_managed_backend_needs_the_passphrase(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str
) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    with pytest.raises(BackendError, match=f"PULUMI_CONFIG_PASSPHRASE.*{url}"):
        identity.require_passphrase(url)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "missing"))
    with pytest.raises(BackendError, match="names no readable file"):
        identity.require_passphrase(url)
    (tmp_path / "passphrase").write_text("s3cret-phrase")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE_FILE", str(tmp_path / "passphrase"))
    identity.require_passphrase(url)
    assert identity.secrets_provider(url) == "passphrase"


def test_pulumi_cloud_keeps_secrets_without_a_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    identity.require_passphrase("https://api.pulumi.com")
    assert identity.secrets_provider("https://api.pulumi.com") is None


# ---------------------------------------------------------------- the live colours

LISTENER_ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/alb/1/2"
GROUP_ARNS = {
    color: f"arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/{color}/3"
    for color in ("blue", "green")
}
# The reference api pulls through the platform's ECR Public cache: its release inputs hold the
# path and tag after public.ecr.aws/.
V1 = "aws-containers/retail-store-sample-catalog:1.2.1"


class ListenerAfterACutover:
    """The ELBv2 API of a platform whose api service was cut over to green."""

    def describe_listeners(self, ListenerArns: list[str]) -> dict[str, Any]:
        assert ListenerArns == [LISTENER_ARN]
        groups = [
            {"TargetGroupArn": GROUP_ARNS["blue"], "Weight": 0},
            {"TargetGroupArn": GROUP_ARNS["green"], "Weight": 100},
        ]
        forward = {"Type": "forward", "ForwardConfig": {"TargetGroups": groups}}
        return {"Listeners": [{"DefaultActions": [forward]}]}


def deployed_after_a_cutover() -> FakeStack:
    """A stack the last `up` deployed with api live on blue, which a cutover has since moved."""
    urn = "urn:pulumi:dev::payment::{}::{}"
    resources = [
        {
            "urn": urn.format("aws:lb/listener:Listener", "HttpsListener"),
            "outputs": {"arn": LISTENER_ARN},
        },
        *(
            {
                "urn": urn.format("aws:lb/targetGroup:TargetGroup", f"Api{c.title()}Tg"),
                "outputs": {"arn": arn},
            }
            for c, arn in GROUP_ARNS.items()
        ),
    ]
    last = {"ApiLiveColor": "blue", "ApiBlueCachedImage": V1, "ApiGreenCachedImage": V1}
    return FakeStack(
        CREATES, resources=resources, outputs={"DeployInputs": OutputValue(last, False)}
    )


def listener_weights(plan: dict[str, Any]) -> dict[str, int]:
    """Target group name -> weight, as the program registered the HTTPS listener."""
    names = {r["answered"].get("arn"): r["name"] for r in plan["resources"]}
    listener = next(r for r in plan["resources"] if r["name"] == "HttpsListener")
    groups = listener["inputs"]["defaultActions"][0]["forward"]["targetGroups"]
    return {names.get(g["arn"], g["arn"]): g["weight"] for g in groups}


def test_an_up_after_a_cutover_keeps_the_traffic_where_the_cutover_put_it() -> None:
    platform = graph()
    said: list[str] = []
    inputs = live_inputs(deployed_after_a_cutover(), platform, ListenerAfterACutover, said.append)
    spec_image = platform.releases["api"].image
    assert inputs == {
        "ApiLiveColor": "green",
        "ApiGreenCachedImage": V1,
        "ApiBlueCachedImage": spec_image,
    }
    assert said == [f"api: green serves ({V1}); blue runs the release {spec_image}"]
    # What the program registers with them, and what it would with the spec's defaults.
    assert listener_weights(capture(platform, inputs)) == {"ApiBlueTg": 0, "ApiGreenTg": 100}
    assert listener_weights(capture(platform)) == {"ApiBlueTg": 100, "ApiGreenTg": 0}


def test_the_first_up_asks_no_load_balancer_and_uses_the_spec() -> None:
    def no_client() -> Any:
        raise AssertionError("a stack with no listener has no live colour to read")

    platform = graph()
    inputs = live_inputs(FakeStack(CREATES), platform, no_client, lambda line: None)
    assert inputs == platform.input_defaults()


def test_cli_up_runs_the_program_with_the_live_colours(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = deployed_after_a_cutover()
    fake_deployment(monkeypatch, stack)
    opened: list[ReleaseProgram] = []
    monkeypatch.setattr(automation, "open_stack", lambda *args: opened.append(args[3]) or stack)
    monkeypatch.setattr(automation, "_elbv2", lambda graph: ListenerAfterACutover())
    assert main(["up", str(REFERENCE), "--backend", "pulumi", "--yes"]) == 0
    (program,) = opened
    assert program.inputs is not None and program.inputs["ApiLiveColor"] == "green"
    assert "api: green serves" in capsys.readouterr().out and stack.applied == ["up"]
