"""Preview, deploy and destroy the graph's Pulumi program with the Automation API.

The program runs inline (no Pulumi.yaml on disk). Which stack, which state, which account:
`identity` (the stack of one platform, environment, region and account, and the state backend
with its secrets provider). Every failure the user can fix becomes one line: a BackendError
(exit 3) naming the first real diagnostic, or a ChangeRefused (exit 4) when the engine refuses to
delete or replace a protected resource.

`up` and `destroy` never run blind: each first previews what it would do, shows it as a change
table classified by `paycompile.changes` (data loss, widened access), and goes on only once
`paycompile.deployment.approval` says the person (or their flags) approved it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any, Literal, Protocol

from paycompile.backends.pulumi.identity import (
    Identity,
    caller_account,
    check_identity,
    create_state_directory,
    identity_config,
    require_passphrase,
    secrets_provider,
    state_backend_url,
)
from paycompile.backends.pulumi.release import ReleaseProgram, live_inputs
from paycompile.changes.model import Action, Change, Risk, risks_of
from paycompile.changes.table import change_table
from paycompile.compiler.graph import Graph, Kind, Node
from paycompile.deployment.approval import Guard, authorise
from paycompile.errors import BackendError, ChangeRefused, PaycompileError

if TYPE_CHECKING:
    from pulumi.automation import ConfigValue, EngineEvent, StepEventMetadata

Verb = Literal["preview", "up", "destroy"]
OnOutput = Callable[[str], None]
INSTALL_HINT = (
    "the Pulumi CLI is not on PATH: install it with `curl -fsSL https://get.pulumi.com | sh` "
    "(or see https://www.pulumi.com/docs/install/) and run the command again"
)
# Pulumi's step operations, as the change they make to one resource. Operations not listed
# (same, read, refresh, discard) change nothing in the account.
_ACTIONS = {
    "create": Action.ADD,
    "import": Action.ADD,
    "update": Action.IN_PLACE,
    "replace": Action.REPLACE,
    "create-replacement": Action.REPLACE,
    "delete-replaced": Action.REPLACE,
    "import-replacement": Action.REPLACE,
    "delete": Action.REMOVE,
}
# Helper resources that carry their owner's risk: an inline or attached policy is the role's
# access. (A new generated password is not: it reaches AWS only through write-only inputs, when
# the cluster or the secret version is created, and the version is replaced with the cluster.)
_HELPER_KINDS = {
    "aws:iam/rolePolicy:RolePolicy": Kind.IAM_ROLE,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Kind.IAM_ROLE,
}
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"


class Stack(Protocol):
    """The part of `pulumi.automation.Stack` paycompile drives."""

    @property
    def name(self) -> str: ...

    def preview(self, *, on_event: Callable[[EngineEvent], Any] | None = ...) -> Any: ...
    def preview_destroy(self, *, on_event: Callable[[EngineEvent], Any] | None = ...) -> Any: ...
    def up(self, *, on_output: Callable[[str], Any] | None = ...) -> Any: ...
    def destroy(self, *, on_output: Callable[[str], Any] | None = ...) -> Any: ...
    def get_all_config(self) -> Mapping[str, ConfigValue]: ...
    def set_config(self, key: str, value: ConfigValue, *, path: bool = ...) -> None: ...
    def export_stack(self) -> Any: ...
    def outputs(self) -> Mapping[str, Any]: ...


def deploy(
    graph: Graph,
    action: Verb,
    stack: str | None = None,
    on_output: OnOutput = print,
    guard: Guard | None = None,
) -> int:
    """Runs `action` on the platform's stack (default name: see `identity.stack_name`); 0 on
    success.

    `preview` only shows the change table. `up` and `destroy` show it, then apply it only if
    `guard` approves (ChangeRefused, exit 4, otherwise). Raises BackendError with one line when
    the CLI, its plugins, the passphrase, the credentials or the deployment itself fails. Nothing
    is created before the CLI, the passphrase and the caller's account are known.
    """
    if shutil.which("pulumi") is None:
        raise BackendError(INSTALL_HINT)
    backend_url = state_backend_url()
    require_passphrase(backend_url)
    identity = Identity.of(graph, caller_account(graph.region), stack)
    from pulumi import automation as auto

    program = ReleaseProgram(graph)
    try:
        opened = open_stack(graph, identity, backend_url, program)
        if action != "destroy":
            program.inputs = live_inputs(opened, graph, lambda: _elbv2(graph), on_output)
        return run_action(opened, graph, action, guard or Guard(), on_output)
    except auto.CommandError as error:
        raise command_error(str(error)) from None
    except FileNotFoundError as error:
        raise BackendError(f"cannot run the Pulumi CLI: {error}") from None


def run_action(stack: Stack, graph: Graph, action: Verb, guard: Guard, on_output: OnOutput) -> int:
    """Preview `action` on an open stack, show the changes, and apply them once approved."""
    changes = planned_changes(stack, graph, "destroy" if action == "destroy" else "up")
    on_output(change_table(changes).rstrip("\n"))
    if action == "preview" or not changes:
        return 0
    what = f"{'destroy' if action == 'destroy' else 'update'} stack {stack.name}"
    authorise(changes, guard, what)
    if action == "up":
        stack.up(on_output=on_output)
    else:
        stack.destroy(on_output=on_output)
    return 0


def planned_changes(
    stack: Stack, graph: Graph, operation: Literal["up", "destroy"]
) -> list[Change]:
    """What `operation` would do, from the engine's own preview events."""
    steps: list[StepEventMetadata] = []

    def collect(event: EngineEvent) -> None:
        if event.resource_pre_event is not None:
            steps.append(event.resource_pre_event.metadata)

    if operation == "up":
        stack.preview(on_event=collect)
    else:
        stack.preview_destroy(on_event=collect)
    return changes_of(steps, graph)


def changes_of(steps: list[StepEventMetadata], graph: Graph) -> list[Change]:
    """One change per resource (a replacement's several steps are one), in the engine's order."""
    by_urn: dict[str, Change] = {}
    for step in steps:
        action = _ACTIONS.get(step.op.value)
        if action is None or step.type.startswith("pulumi:"):
            continue
        earlier = by_urn.get(step.urn)
        if earlier is not None and earlier.action is Action.REPLACE:
            continue
        by_urn[step.urn] = _change(step, action, graph)
    changes = list(by_urn.values())
    return [_overwrites_rotated_password(change, changes, graph) for change in changes]


def _change(step: StepEventMetadata, action: Action, graph: Graph) -> Change:
    name = step.urn.rsplit("::", 1)[-1]
    owner = _owner(graph, name)
    kind = owner.kind if owner is not None and owner.logical_id == name else None
    kind = _HELPER_KINDS.get(step.type, kind)
    state = step.old or step.new
    kept = action is Action.REMOVE and bool(state is not None and state.retain_on_delete)
    return Change(name, step.type, action, kind, kept, risks_of(kind, action, kept))


def _overwrites_rotated_password(change: Change, changes: list[Change], graph: Graph) -> Change:
    """A secret version written into a secret that already exists replaces its current value,
    which rotation may have changed since: every service would lose the database."""
    if change.resource_type != SECRET_VERSION or change.action not in (Action.ADD, Action.REPLACE):
        return change
    node = graph.nodes.get(change.logical_id)
    secret = node.props.get("secret") if node is not None else None
    new_secret = any(
        c.logical_id == getattr(secret, "target", None) and c.action is Action.ADD for c in changes
    )
    if new_secret:
        return change
    reason = "writes the first password over the secret's current (possibly rotated) value"
    return Change(
        change.logical_id,
        change.resource_type,
        change.action,
        change.kind,
        change.kept,
        change.risks | {Risk.DATA_LOSS},
        (*change.reasons, reason),
    )


def _owner(graph: Graph, name: str) -> Node | None:
    """The graph node a Pulumi resource belongs to: its own, or the one its name extends."""
    if name in graph.nodes:
        return graph.nodes[name]
    owners = [logical_id for logical_id in graph.nodes if name.startswith(logical_id)]
    return graph.nodes[max(owners, key=len)] if owners else None


def open_stack(
    graph: Graph, identity: Identity, backend_url: str, program: Callable[[], None]
) -> Stack:
    """Select (or create) the stack with the inline program; refuse one that belongs to another
    account or region; record the account and region in its config."""
    # Imported here: only a deployment needs the Automation API.
    from pulumi import automation as auto

    create_state_directory(backend_url)
    settings = auto.ProjectSettings(
        name=graph.platform, runtime="python", backend=auto.ProjectBackend(url=backend_url)
    )
    options = auto.LocalWorkspaceOptions(
        project_settings=settings, secrets_provider=secrets_provider(backend_url)
    )
    stack: Stack = auto.create_or_select_stack(
        stack_name=identity.stack,
        project_name=graph.platform,
        program=program,
        opts=options,
    )
    configured = {key: value.value for key, value in stack.get_all_config().items()}
    check_identity(configured, identity)
    for key, value, path in identity_config(identity):
        stack.set_config(key, auto.ConfigValue(value=value), path=path)
    return stack


def _elbv2(graph: Graph) -> Any:
    """An ELBv2 client in the spec's region, with the standard AWS settings."""
    from paycompile.deployment.aws import client, open_session

    return client(open_session(None, graph.region), "elbv2")


# ---------------------------------------------------------------- errors as one line

_PROTECTED = re.compile(
    r"(?:unable to (?:delete|replace) resource|refusing to delete protected resource)\s+"
    r"\"?(urn:pulumi:[^\"\s]+)"
)
_MISSING_PLUGIN = re.compile(
    r"no resource plugin '?pulumi-resource-(aws|random)'?"
    r"|could not (?:find|load) (?:the )?(?:resource )?plugin (?:for |')?(?:pulumi-resource-)?"
    r"(aws|random)\b"
)
# The engine's closing summary of a failed operation: never the cause.
_SUMMARY = re.compile(r"^(?:update|preview|destroy|refresh) failed$|^\d+ errors? occurred:?$")
_RESOURCE_HEADER = re.compile(r"^([\w-]+:[\w/-]+:[\w-]+) \(([^)]+)\):$")
# The labels of `str(CommandError)`: " code: N", " stdout: ...", " stderr: ...".
_LABEL = re.compile(r"^(?:stdout|stderr):\s*")
# Where in the provider's source an error was raised: noise to a reader.
_SOURCE_PREFIX = re.compile(r"^(?:[\w.-]+/)*[\w.-]+\.go:\d+:\s*(?:sdk\.helper_schema:\s*)?")


def command_error(text: str) -> PaycompileError:
    """The error a failed Pulumi command stands for, as one line."""
    protected = sorted({urn.rsplit("::", 1)[-1] for urn in _PROTECTED.findall(text)})
    if protected:
        return ChangeRefused(protected_line(protected))
    return BackendError(command_error_line(text))


def protected_line(names: list[str]) -> str:
    many = len(names) > 1
    return (
        f"refused: {', '.join(names)} {'are' if many else 'is'} protected (a retained platform's "
        f"deletion-protected {'resources' if many else 'resource'}), so Pulumi will not delete or "
        "replace it; nothing was changed. To remove a retained platform on purpose, set "
        "`lifecycle: ephemeral` for it, run `up` (it turns deletion protection off), then `destroy`"
    )


def command_error_line(text: str) -> str:
    """One line for a failed Pulumi command: the fix when we know it, else its first real
    diagnostic (the resource and the provider's message), never the closing summary."""
    plugin = _MISSING_PLUGIN.search(text)
    if plugin:
        return (
            "the Pulumi aws/random plugins are missing: run `pulumi plugin install resource aws "
            f"{_version('pulumi_aws')}` and `pulumi plugin install resource random "
            f"{_version('pulumi_random')}`"
        )
    return f"pulumi failed: {first_diagnostic(text)}"


def first_diagnostic(text: str) -> str:
    lines = [_LABEL.sub("", line.strip()) for line in text.splitlines()]
    resource = ""
    for index, line in enumerate(lines):
        header = _RESOURCE_HEADER.match(line)
        if header:
            resource = f"{header.group(2)} ({header.group(1)}): "
            continue
        if not line.lower().startswith("error:"):
            continue
        message = line[len("error:") :].strip()
        if _SUMMARY.match(message):
            detail = _continuation(lines, index + 1)
            if not detail:
                continue
            message = detail
        return resource + _SOURCE_PREFIX.sub("", message)
    found = [line for line in lines if line and not line.startswith("code:")]
    return found[-1] if found else "unknown error"


def _continuation(lines: list[str], start: int) -> str:
    """The `* cause` lines under an `N errors occurred:` summary, joined."""
    causes = []
    for line in lines[start:]:
        if not line.startswith("*"):
            break
        causes.append(line.lstrip("* ").strip())
    return "; ".join(causes)


def _version(distribution: str) -> str:
    try:
        return "v" + metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "<version>"
