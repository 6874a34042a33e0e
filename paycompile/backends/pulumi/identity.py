"""Which Pulumi stack a deployment uses, where its state lives, and whose account it may touch.

* The stack is `<environment>-<region>-<account>` (or `--stack`), in the project named after the
  platform: another account's credentials or another region never select a stack that holds
  this one's resources (a region change would otherwise replace everything).
* The account is the caller's, asked of STS with the same credentials the AWS provider uses;
  the stack's config records it as `aws:allowedAccountIds`, so the provider itself refuses any
  other account, and a stack that already records another account or region is refused.
* State goes to PULUMI_BACKEND_URL, else a file backend private to the user; `file://~` is
  expanded. Self-managed backends (file, s3, gs, azblob, postgres) keep secrets with the
  passphrase provider and need PULUMI_CONFIG_PASSPHRASE(_FILE), checked before anything runs;
  Pulumi Cloud (https://) keeps them with its own secrets manager.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from paycompile.compiler.graph import Graph
from paycompile.errors import BackendError

PASSPHRASE_HINT = (
    "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): it encrypts the secrets "
    "in the Pulumi state at {url}"
)
REGION_KEY = "aws:region"
ACCOUNTS_KEY = "aws:allowedAccountIds"


@dataclass(frozen=True)
class Identity:
    stack: str
    region: str
    account: str

    @classmethod
    def of(cls, graph: Graph, account: str, stack: str | None = None) -> Identity:
        return cls(stack or stack_name(graph, account), graph.region, account)


def stack_name(graph: Graph, account: str) -> str:
    return f"{graph.environment}-{graph.region}-{account}"


def user_data_dir() -> Path:
    """Where per-user application data lives on this platform."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support"
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def state_backend_url() -> str:
    """PULUMI_BACKEND_URL if set (`file://~/...` expanded), else a file backend private to the
    user. A file backend's directory is created, so that the CLI finds it."""
    url = os.environ.get("PULUMI_BACKEND_URL") or _file_url(
        user_data_dir() / "paycompile" / "pulumi-state"
    )
    if url.startswith("file://"):
        path = Path(url.removeprefix("file://")).expanduser()
        url = _file_url(path)
    return url


def _file_url(path: Path) -> str:
    return f"file://{path.as_posix()}"


def create_state_directory(url: str) -> None:
    if url.startswith("file://"):
        Path(url.removeprefix("file://")).mkdir(parents=True, exist_ok=True)


def secrets_provider(url: str) -> str | None:
    """The passphrase provider for self-managed backends; None lets Pulumi Cloud use its own."""
    return None if url.startswith("https://") else "passphrase"


def require_passphrase(url: str) -> None:
    """Stop before anything runs when the backend needs a passphrase the environment lacks."""
    if secrets_provider(url) != "passphrase":
        return
    if os.environ.get("PULUMI_CONFIG_PASSPHRASE"):
        return
    passphrase_file = os.environ.get("PULUMI_CONFIG_PASSPHRASE_FILE")
    if passphrase_file and Path(passphrase_file).expanduser().is_file():
        return
    if passphrase_file:
        raise BackendError(
            f"PULUMI_CONFIG_PASSPHRASE_FILE names no readable file: {passphrase_file}"
        )
    raise BackendError(PASSPHRASE_HINT.format(url=url))


def caller_account(region: str) -> str:
    """The account of the credentials in use (environment, profile, SSO), from STS, through a
    session of its own (never boto3's cached default one)."""
    try:
        from paycompile.deployment.aws import account_of, open_session
    except ImportError:
        raise BackendError(
            "boto3 is missing: install the Pulumi extra with `pip install 'paycompile[pulumi]'`"
        ) from None
    return account_of(open_session(None, region))


def check_identity(config: Mapping[str, str], identity: Identity) -> None:
    """Refuse a stack whose config records another region or another account."""
    region = config.get(REGION_KEY)
    if region and region != identity.region:
        raise BackendError(
            f"stack {identity.stack} is deployed in {region}, the spec says {identity.region}: "
            "a region change would replace every resource; use a new stack (the default name "
            "includes the region)"
        )
    accounts = _accounts(config.get(ACCOUNTS_KEY))
    if accounts and identity.account not in accounts:
        raise BackendError(
            f"stack {identity.stack} belongs to account {', '.join(accounts)}, but the "
            f"credentials in use are for {identity.account}: switch credentials or use a new stack"
        )


def identity_config(identity: Identity) -> list[tuple[str, str, bool]]:
    """(key, value, path) of the stack config that pins the region and the account."""
    return [(REGION_KEY, identity.region, False), (f"{ACCOUNTS_KEY}[0]", identity.account, True)]


def _accounts(value: str | None) -> list[str]:
    """`aws:allowedAccountIds` as Pulumi reports it (JSON text), or a bare id."""
    if not value:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        return [value]
    return [str(item) for item in parsed] if isinstance(parsed, list) else [str(parsed)]
