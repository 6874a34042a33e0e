"""Preview, deploy and destroy the graph's Pulumi program with the Automation API.

The program runs inline (no Pulumi.yaml on disk); state goes to a local file backend under the
user's data directory unless PULUMI_BACKEND_URL says otherwise, encrypted with the passphrase in
PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE). Every failure the user can fix
becomes a one-line BackendError (exit 3) instead of a traceback.

`up` and `destroy` never run blind: each first previews what it would do, shows it as a change
table classified by `paycompile.changes` (data loss, widened access), and goes on only once
`paycompile.deploy.approval` says the person (or their flags) approved it.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from paycompile.changes.model import Action, Change, risks_of
from paycompile.changes.table import change_table
from paycompile.compiler.graph import Graph, Kind, Node
from paycompile.deploy.approval import Guard, authorise
from paycompile.errors import BackendError

if TYPE_CHECKING:
    from pulumi.automation import EngineEvent, StepEventMetadata

Verb = Literal["preview", "up", "destroy"]
OnOutput = Callable[[str], None]
INSTALL_HINT = (
    "the Pulumi CLI is not on PATH: install it with `curl -fsSL https://get.pulumi.com | sh` "
    "(or see https://www.pulumi.com/docs/install/) and run the command again"
)
PASSPHRASE_HINT = (
    "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts the secrets "
    "in the local Pulumi state"
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
# Helper resources that carry their owner's risk: the generated password is the secret's data,
# an inline or attached policy is the role's access.
_HELPER_KINDS = {
    "random:index/randomPassword:RandomPassword": Kind.SECRET,
    "aws:iam/rolePolicy:RolePolicy": Kind.IAM_ROLE,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": Kind.IAM_ROLE,
}


class Stack(Protocol):
    """The part of `pulumi.automation.Stack` paycompile drives."""

    @property
    def name(self) -> str: ...

    def preview(self, *, on_event: Callable[[EngineEvent], Any] | None = ...) -> Any: ...
    def preview_destroy(self, *, on_event: Callable[[EngineEvent], Any] | None = ...) -> Any: ...
    def up(self, *, on_output: Callable[[str], Any] | None = ...) -> Any: ...
    def destroy(self, *, on_output: Callable[[str], Any] | None = ...) -> Any: ...


def user_data_dir() -> Path:
    """Where per-user application data lives on this platform."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def state_backend_url() -> str:
    """PULUMI_BACKEND_URL if set, else a file backend private to this user."""
    configured = os.environ.get("PULUMI_BACKEND_URL")
    if configured:
        return configured
    return f"file://{(user_data_dir() / 'paycompile' / 'pulumi-state').as_posix()}"


def deploy(
    graph: Graph,
    action: Verb,
    stack: str | None = None,
    on_output: OnOutput = print,
    guard: Guard | None = None,
) -> int:
    """Runs `action` on stack `stack` (default: the graph's environment); 0 on success.

    `preview` only shows the change table. `up` and `destroy` show it, then apply it only if
    `guard` approves (ChangeRefused, exit 4, otherwise). Raises BackendError with one line when
    the CLI, its plugins, the passphrase or the deployment itself fails. Nothing is created
    before the CLI is known to be there.
    """
    if shutil.which("pulumi") is None:
        raise BackendError(INSTALL_HINT)
    backend_url = state_backend_url()
    if backend_url.startswith("file://") and not _has_passphrase():
        raise BackendError(PASSPHRASE_HINT)
    from pulumi import automation as auto

    try:
        opened = open_stack(graph, stack or graph.environment, backend_url)
        return run_action(opened, graph, action, guard or Guard(), on_output)
    except auto.CommandError as error:
        raise BackendError(command_error_line(str(error))) from None
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
    return list(by_urn.values())


def _change(step: StepEventMetadata, action: Action, graph: Graph) -> Change:
    name = step.urn.rsplit("::", 1)[-1]
    owner = _owner(graph, name)
    kind = owner.kind if owner is not None and owner.logical_id == name else None
    kind = _HELPER_KINDS.get(step.type, kind)
    state = step.old or step.new
    kept = action is Action.REMOVE and bool(state is not None and state.retain_on_delete)
    return Change(name, step.type, action, kind, kept, risks_of(kind, action, kept))


def _owner(graph: Graph, name: str) -> Node | None:
    """The graph node a Pulumi resource belongs to: its own, or the one its name extends."""
    if name in graph.nodes:
        return graph.nodes[name]
    owners = [logical_id for logical_id in graph.nodes if name.startswith(logical_id)]
    return graph.nodes[max(owners, key=len)] if owners else None


def _has_passphrase() -> bool:
    return bool(
        os.environ.get("PULUMI_CONFIG_PASSPHRASE")
        or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    )


def open_stack(graph: Graph, stack_name: str, backend_url: str) -> Stack:
    """Select (or create) the stack, with the inline program and the spec's region."""
    # Imported here: only a deployment needs the Automation API.
    from pulumi import automation as auto

    from paycompile.backends.pulumi.program import run_program

    if backend_url.startswith("file://"):
        Path(backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    settings = auto.ProjectSettings(
        name=graph.platform, runtime="python", backend=auto.ProjectBackend(url=backend_url)
    )
    options = auto.LocalWorkspaceOptions(project_settings=settings, secrets_provider="passphrase")
    stack = auto.create_or_select_stack(
        stack_name=stack_name,
        project_name=graph.platform,
        program=lambda: _program(run_program, graph),
        opts=options,
    )
    stack.set_config("aws:region", auto.ConfigValue(value=graph.region))
    return stack


def _program(run_program: Callable[[Graph], Any], graph: Graph) -> None:
    run_program(graph)


def command_error_line(text: str) -> str:
    """One line for a failed Pulumi command: the fix when we know it, else its last error."""
    lowered = text.lower()
    if (
        "plugin" in lowered
        and ("aws" in lowered or "random" in lowered)
        and (
            "no resource plugin" in lowered or "could not find" in lowered or "not found" in lowered
        )
    ):
        return (
            "the Pulumi aws/random plugins are missing: run `pulumi plugin install resource aws "
            f"{_version('pulumi_aws')}` and `pulumi plugin install resource random "
            f"{_version('pulumi_random')}`"
        )
    errors = [line.strip() for line in text.splitlines() if "error:" in line.lower()]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    detail = (errors or lines or ["unknown error"])[-1]
    return f"pulumi failed: {detail}"


def _version(distribution: str) -> str:
    try:
        return "v" + metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "<version>"
