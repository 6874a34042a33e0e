"""Preview, deploy and destroy the graph's Pulumi program with the Automation API.

The program runs inline (no Pulumi.yaml on disk); state goes to a local file backend under the
user's data directory unless PULUMI_BACKEND_URL says otherwise, encrypted with the passphrase in
PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE). Every failure the user can fix
becomes a one-line BackendError (exit 3) instead of a traceback.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from paycompile.compiler.graph import Graph
from paycompile.errors import BackendError

Action = Literal["preview", "up", "destroy"]
INSTALL_HINT = (
    "the Pulumi CLI is not on PATH: install it with `curl -fsSL https://get.pulumi.com | sh` "
    "(or see https://www.pulumi.com/docs/install/) and run the command again"
)
PASSPHRASE_HINT = (
    "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts the secrets "
    "in the local Pulumi state"
)


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
    action: Action,
    stack: str | None = None,
    on_output: Callable[[str], None] = print,
) -> int:
    """Runs `action` on stack `stack` (default: the graph's environment); 0 on success.

    Raises BackendError with one line when the CLI, its aws plugin, the passphrase or the
    deployment itself fails. Nothing is created before the CLI is known to be there.
    """
    if shutil.which("pulumi") is None:
        raise BackendError(INSTALL_HINT)
    backend_url = state_backend_url()
    if backend_url.startswith("file://") and not _has_passphrase():
        raise BackendError(PASSPHRASE_HINT)
    try:
        return _run(graph, action, stack or graph.environment, backend_url, on_output)
    except FileNotFoundError as error:
        raise BackendError(f"cannot run the Pulumi CLI: {error}") from None


def _has_passphrase() -> bool:
    return bool(
        os.environ.get("PULUMI_CONFIG_PASSPHRASE")
        or os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    )


def _run(
    graph: Graph,
    action: Action,
    stack_name: str,
    backend_url: str,
    on_output: Callable[[str], None],
) -> int:
    # Imported here: only a deployment needs the Automation API.
    from pulumi import automation as auto

    from paycompile.backends.pulumi_program import run_program

    if backend_url.startswith("file://"):
        Path(backend_url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
    settings = auto.ProjectSettings(
        name=graph.platform, runtime="python", backend=auto.ProjectBackend(url=backend_url)
    )
    options = auto.LocalWorkspaceOptions(project_settings=settings, secrets_provider="passphrase")
    try:
        stack = auto.create_or_select_stack(
            stack_name=stack_name,
            project_name=graph.platform,
            program=lambda: _program(run_program, graph),
            opts=options,
        )
        stack.set_config("aws:region", auto.ConfigValue(value=graph.region))
        if action == "preview":
            stack.preview(on_output=on_output)
        elif action == "up":
            stack.up(on_output=on_output)
        else:
            stack.destroy(on_output=on_output)
    except auto.CommandError as error:
        raise BackendError(command_error_line(str(error))) from None
    return 0


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
