"""Templates too large to send inline go through S3: a bucket the user names, or paycompile's own.

paycompile's bucket, `paycompile-templates-<account>-<region>`, is created the first time a
large template is deployed in that account and region, and reused after that. It is private
(every public access block on, ACLs disabled), encrypted (SSE-S3), versioned, reachable over
TLS only, and expires templates after 30 days (older versions after 7): CloudFormation keeps
its own copy of every template it deploys, so the staged one is only needed while the change
set is created. Objects are named by the SHA-256 of the template, so the same template always
lands on the same key.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from botocore.exceptions import ClientError

from paycompile.deployment.aws import aws_errors, client, error_code
from paycompile.deployment.templates import StackTemplate
from paycompile.errors import BackendError

BUCKET_PREFIX = "paycompile-templates"
TEMPLATE_DAYS = 30
OLD_VERSION_DAYS = 7


def bucket_name(account: str, region: str) -> str:
    return f"{BUCKET_PREFIX}-{account}-{region}"


def stage_template(
    session: Any,
    template: StackTemplate,
    stack_name: str,
    account: str,
    region: str,
    bucket: str | None = None,
) -> str:
    """Upload `template` and return the TemplateURL CloudFormation reads it from."""
    (url,) = stage_templates(session, [template], stack_name, account, region, bucket)
    return url


def stage_templates(
    session: Any,
    templates: Sequence[StackTemplate],
    stack_name: str,
    account: str,
    region: str,
    bucket: str | None = None,
) -> list[str]:
    """Upload each template under `<stack>/<sha256>.<ext>` and return their TemplateURLs.

    An unchanged template lands on the same key, so a nested stack whose child did not change
    keeps its TemplateURL and CloudFormation leaves it alone. Each is uploaded again anyway:
    the new version restarts the lifecycle rule's clock.
    """
    s3 = client(session, "s3")
    owner: dict[str, str] = {}
    if bucket is None:
        bucket = bucket_name(account, region)
        owner = {"ExpectedBucketOwner": account}
        ensure_bucket(s3, bucket, account, region)
        bucket_region = region
    else:
        bucket_region = _region_of(s3, bucket)
    urls = []
    for template in templates:
        key = f"{stack_name}/{template.digest}.{_extension(template)}"
        with aws_errors(f"uploading the template to s3://{bucket}/{key}"):
            s3.put_object(Bucket=bucket, Key=key, Body=template.body.encode("utf-8"), **owner)
        urls.append(object_url(bucket, bucket_region, key))
    return urls


def object_url(bucket: str, region: str, key: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://{bucket}.s3.{region}.{suffix}/{key}"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def ensure_bucket(s3: Any, bucket: str, account: str, region: str) -> None:
    """Create and lock down paycompile's bucket unless this account already has it."""
    try:
        s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        return
    except ClientError as error:
        if error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
            raise BackendError(
                f"the template bucket {bucket} exists but is not this account's "
                f"({error_code(error)}); name a bucket of yours with --template-bucket"
            ) from None
    with aws_errors(f"creating the template bucket {bucket}"):
        location = {} if region == "us-east-1" else {"LocationConstraint": region}
        options = {"CreateBucketConfiguration": location} if location else {}
        with suppress(s3.exceptions.BucketAlreadyOwnedByYou):  # a concurrent deploy made it
            s3.create_bucket(Bucket=bucket, **options)
    try:
        with aws_errors(f"configuring the template bucket {bucket}"):
            lock_down(s3, bucket, account, region)
    except BackendError:
        # A half-configured bucket would be reused as it is: remove it (it is still empty).
        with aws_errors(f"removing the half-configured bucket {bucket}"):
            s3.delete_bucket(Bucket=bucket, ExpectedBucketOwner=account)
        raise


def lock_down(s3: Any, bucket: str, account: str, region: str) -> None:
    mine = {"Bucket": bucket, "ExpectedBucketOwner": account}
    s3.put_public_access_block(
        **mine,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_ownership_controls(
        **mine, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    )
    s3.put_bucket_encryption(
        **mine,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(**mine, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_lifecycle_configuration(**mine, LifecycleConfiguration={"Rules": [expiry_rule()]})
    s3.put_bucket_policy(**mine, Policy=json.dumps(tls_only_policy(bucket, region)))
    s3.put_bucket_tagging(**mine, Tagging={"TagSet": [{"Key": "ManagedBy", "Value": "paycompile"}]})


def expiry_rule() -> dict[str, Any]:
    return {
        "ID": "expire-staged-templates",
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": TEMPLATE_DAYS},
        "NoncurrentVersionExpiration": {"NoncurrentDays": OLD_VERSION_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
    }


def tls_only_policy(bucket: str, region: str) -> dict[str, Any]:
    partition = partition_of(region)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:{partition}:s3:::{bucket}", f"arn:{partition}:s3:::{bucket}/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }


def _region_of(s3: Any, bucket: str) -> str:
    with aws_errors(f"finding the region of the template bucket {bucket}"):
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    # S3 reports us-east-1 as no constraint and the oldest EU buckets as "EU".
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, str(location))


def _extension(template: StackTemplate) -> str:
    return "json" if template.body.lstrip().startswith("{") else "yaml"
