"""The boto3 session paycompile deploys with, and AWS failures as one line (exit 3).

boto3 reads the standard settings itself: credentials from the environment, the shared files,
SSO or an instance role; `AWS_PROFILE` (or `--profile`); `AWS_ENDPOINT_URL` and the
per-service `AWS_ENDPOINT_URL_<SERVICE>`. The region is the spec's: the template only works
there (its certificate ARN, for one), so the configured region does not override it.

This is the only module of paycompile that imports boto3 and botocore; it is imported only by
the commands that talk to AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, ProfileNotFound

from paycompile.errors import BackendError

CREDENTIALS_HINT = (
    "no AWS credentials found: set AWS_PROFILE (or pass --profile), run `aws sso login`, or "
    "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


def open_session(profile: str | None, region: str) -> Any:
    """A boto3 session in `region`, with the named profile's credentials if one is given."""
    try:
        return boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound:
        raise BackendError(f"the AWS profile {profile!r} is not configured") from None


def configured_region(profile: str | None) -> str | None:
    """The region the user's AWS settings name (AWS_REGION, AWS_DEFAULT_REGION, the profile)."""
    try:
        region: str | None = boto3.Session(profile_name=profile).region_name
    except ProfileNotFound:
        return None
    return region


def client(session: Any, service: str) -> Any:
    """A client for `service`; retries follow AWS_RETRY_MODE and AWS_MAX_ATTEMPTS as usual."""
    return session.client(service)


def account_of(session: Any) -> str:
    with aws_errors("finding the AWS account"):
        account: str = client(session, "sts").get_caller_identity()["Account"]
        return account


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", "")).strip()


@contextmanager
def aws_errors(doing: str) -> Iterator[None]:
    """Turn what boto3 raises while `doing` something into one BackendError line."""
    try:
        yield
    except NoCredentialsError:
        raise BackendError(CREDENTIALS_HINT) from None
    except ClientError as error:
        raise refused_by_aws(doing, error) from None
    except BotoCoreError as error:
        raise BackendError(f"{doing} failed: {one_line(str(error))}") from None


def refused_by_aws(doing: str, error: ClientError) -> BackendError:
    return BackendError(f"{doing} failed: {error_code(error)}: {one_line(error_message(error))}")


def one_line(text: str) -> str:
    return " ".join(text.split())
