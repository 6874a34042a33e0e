"""The ALB access-log bucket and the bucket that receives its server access logs.

ALB log delivery writes only to SSE-S3 buckets, so neither bucket can use a customer key. The
access-log bucket keeps versions, logs every request made to it into the second bucket, sends
its object events to EventBridge and, in a retained environment, locks every log object for as
long as the platform keeps logs. The second bucket is the terminal logging target: S3 refuses
server access log delivery to a bucket with Object Lock, and logging it into itself would loop.
"""

from __future__ import annotations

from typing import Any

from paycompile.compiler.builder import Builder, bucket_name_prefix, ref
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo
from paycompile.compiler.security import IAM_POLICY_VERSION
from paycompile.spec import policy

# Log objects expire when the platform stops keeping logs (PCI DSS 10.5.1: a year).
LOG_EXPIRY_DAYS = policy.LOG_RETENTION_DAYS
# An overwritten or expired version stays one more day, long enough to see what replaced it.
NONCURRENT_VERSION_DAYS = 1
# Governance mode: no platform role may shorten a lock or delete a locked version; only a
# principal explicitly granted s3:BypassGovernanceRetention can (to retire a platform), which
# compliance mode would forbid even the account root for a whole year.
OBJECT_LOCK_MODE = "GOVERNANCE"
# Where S3 writes the server access logs of the ALB log bucket, inside the second bucket.
SERVER_ACCESS_LOG_PREFIX = "s3-access/"
# S3's log delivery service, which writes server access logs (bucket owner enforced: no ACLs).
SERVER_LOGGING_PRINCIPAL = "logging.s3.amazonaws.com"


def add_log_buckets(builder: Builder) -> Node:
    """Both buckets and the second one's policy; returns the ALB access-log bucket."""
    access_logs = _bucket(
        builder,
        ("alb", "logs", "access", "bucket"),
        "S3 server access logs of the ALB access-log bucket",
        object_lock=False,
        logging=None,
        waivers={
            "CKV_AWS_145": "S3 server access logs can only be delivered to an SSE-S3 bucket",
            "CKV_AWS_18": "the terminal access-log destination; logging it would loop",
        },
    )
    _server_logging_policy(builder, access_logs)
    return _bucket(
        builder,
        ("alb", "logs", "bucket"),
        "ALB access logs",
        object_lock=builder.retained,
        logging={"bucket": ref(access_logs), "prefix": SERVER_ACCESS_LOG_PREFIX},
        waivers={
            "CKV_AWS_145": "ALB access logs can only be delivered to an SSE-S3 (AES256) bucket",
        },
    )


def _bucket(
    builder: Builder,
    parts: tuple[str, ...],
    purpose: str,
    object_lock: bool,
    logging: dict[str, Any] | None,
    waivers: dict[str, str],
) -> Node:
    return builder.add(
        Kind.BUCKET,
        parts,
        {
            "purpose": purpose,
            "encryption": "AES256",
            "expire_days": LOG_EXPIRY_DAYS,
            "noncurrent_expire_days": NONCURRENT_VERSION_DAYS,
            "expiry_rule_id": "expire-logs",
            # The bucket owns every object, whoever writes it: no ACLs to audit.
            "object_ownership": "BucketOwnerEnforced",
            "name_prefix": bucket_name_prefix(builder.name(*parts)),
            "versioning": "Enabled",
            # Object events go to EventBridge, where a rule can watch for deletions.
            "eventbridge": True,
            # {"mode", "days"} of the default retention, or None: an ephemeral stack's buckets
            # must empty and delete cleanly, which locked versions would forbid.
            "object_lock": {"mode": OBJECT_LOCK_MODE, "days": LOG_EXPIRY_DAYS}
            if object_lock
            else None,
            "logging": logging,
        },
        deletion="retain",
        waivers=waivers,
    )


def _server_logging_policy(builder: Builder, bucket: Node) -> Node:
    """S3's logging service may write into the bucket, for this account's buckets only."""
    bucket_arn = ref(bucket, "arn")
    return builder.add(
        Kind.BUCKET_POLICY,
        ("alb", "logs", "access", "bucket", "policy"),
        {
            "bucket": ref(bucket),
            "policy_version": IAM_POLICY_VERSION,
            "statements": [
                {
                    "Sid": "S3ServerAccessLogDelivery",
                    "Effect": "Allow",
                    "Principal": {"Service": SERVER_LOGGING_PRINCIPAL},
                    "Action": "s3:PutObject",
                    "Resource": Concat((bucket_arn, f"/{SERVER_ACCESS_LOG_PREFIX}*")),
                    "Condition": {"StringEquals": {"aws:SourceAccount": Pseudo("account_id")}},
                },
                deny_insecure_transport(bucket_arn),
            ],
        },
    )


def deny_insecure_transport(bucket_arn: Any) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, Concat((bucket_arn, "/*"))],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
