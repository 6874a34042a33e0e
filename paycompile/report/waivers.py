"""The checks our templates fail on purpose or for now, each with its reason: AWS Control
Tower's proactive controls (cfn-guard) and cdk-nag's PCI DSS 3.2.1 pack.

Neither tool honours suppression metadata in a template, so these waivers are data, here and
in docs/security.md; tests/test_control_tower.py (and tests/optional/test_cdk_nag.py) hold
both equal to what the tool fails on the reference templates, in both directions. A waiver is
`inherent` (a choice of the spec or of AWS makes the check impossible to pass), `being fixed`
(a gap the compiler is closing: the waiver goes when the fix lands, and the test says so) or
`open` (a gap nobody is closing yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from paycompile.report.judges import Lifecycle, Waiver, Waivers

Standing = Literal["inherent", "being fixed", "open"]
BOTH: tuple[Lifecycle, ...] = ("ephemeral", "retained")
LOG_BUCKET = ("AlbLogsBucket",)
# The bucket that receives the ALB log bucket's server access logs, and both together.
ACCESS_LOG_BUCKET = ("AlbLogsAccessBucket",)
LOG_BUCKETS = (*LOG_BUCKET, *ACCESS_LOG_BUCKET)


@dataclass(frozen=True)
class KnownFailure:
    check: str
    resources: tuple[str, ...]  # logical ids (fnmatch patterns) the failure may name
    lifecycles: tuple[Lifecycle, ...]
    standing: Standing
    reason: str

    def waiver(self) -> Waiver:
        return Waiver(self.check, self.resources, f"{self.standing}: {self.reason}")


CONTROL_TOWER: tuple[KnownFailure, ...] = (
    KnownFailure(
        "CT.ELASTICLOADBALANCING.PR.5",
        ("Alb",),
        ("ephemeral",),
        "inherent",
        "an ephemeral stack has no deletion protection, so that it deletes cleanly; "
        "retained stacks turn it on.",
    ),
    KnownFailure(
        "CT.RDS.PR.3",
        ("DbCluster",),
        ("ephemeral",),
        "inherent",
        "an ephemeral stack has no deletion protection, so that it deletes cleanly; "
        "retained stacks turn it on and snapshot the cluster on delete.",
    ),
    KnownFailure(
        "CT.S3.PR.2",
        ACCESS_LOG_BUCKET,
        BOTH,
        "inherent",
        "the bucket that receives the ALB log bucket's server access logs is the terminal "
        "logging target: logging it into itself would loop, and into a third bucket would only "
        "move the question.",
    ),
    KnownFailure(
        "CT.S3.PR.9",
        LOG_BUCKETS,
        ("ephemeral",),
        "inherent",
        "Object Lock keeps log objects undeletable for their retention period, and an "
        "ephemeral stack must delete cleanly.",
    ),
    KnownFailure(
        "CT.S3.PR.9",
        ACCESS_LOG_BUCKET,
        ("retained",),
        "inherent",
        "S3 refuses to deliver server access logs to a bucket with Object Lock; the ALB "
        "access-log bucket itself is locked in retained environments.",
    ),
    KnownFailure(
        "CT.S3.PR.10",
        LOG_BUCKETS,
        BOTH,
        "inherent",
        "ALB access logs and S3 server access logs can only be delivered to a bucket encrypted "
        "with SSE-S3 (AES256), never SSE-KMS.",
    ),
)


# cdk-nag's pack over the template (CfnInclude); resource ids are the template's logical ids.
CDK_NAG: tuple[KnownFailure, ...] = (
    KnownFailure(
        "PCI.DSS.321-VPCNoUnrestrictedRouteToIGW",
        ("PublicRoutesDefault",),
        BOTH,
        "inherent",
        "an internet-facing ALB sits in public subnets, whose default route (0.0.0.0/0) is the "
        "internet gateway; tasks and the database are in private subnets routed through NAT.",
    ),
    KnownFailure(
        "PCI.DSS.321-ELBv2ACMCertificateRequired",
        ("HttpListener",),
        BOTH,
        "inherent",
        "the port-80 listener only answers with a redirect to HTTPS 443 (PAY-TLS-002): a plain "
        "HTTP listener has no certificate; the 443 listener uses the spec's ACM certificate.",
    ),
    KnownFailure(
        "PCI.DSS.321-S3DefaultEncryptionKMS",
        LOG_BUCKETS,
        BOTH,
        "inherent",
        "ALB access logs and S3 server access logs can only be delivered to a bucket encrypted "
        "with SSE-S3 (AES256), never SSE-KMS.",
    ),
    KnownFailure(
        "PCI.DSS.321-S3BucketLoggingEnabled",
        ACCESS_LOG_BUCKET,
        BOTH,
        "inherent",
        "the bucket that receives the ALB log bucket's server access logs is the terminal "
        "logging target: logging it into itself would loop, and into a third bucket would only "
        "move the question.",
    ),
    KnownFailure(
        "PCI.DSS.321-S3BucketReplicationEnabled",
        LOG_BUCKETS,
        BOTH,
        "open",
        "the ALB access logs are not replicated to a second bucket; no one has taken this up.",
    ),
    KnownFailure(
        "PCI.DSS.321-VPCDefaultSecurityGroupClosed",
        ("Vpc",),
        BOTH,
        "open",
        "AWS creates every VPC's default security group with rules CloudFormation cannot "
        "remove (that takes a custom resource); nothing uses the group. A warning, not an error.",
    ),
)


def control_tower_waivers(lifecycle: Lifecycle) -> Waivers:
    """The Control Tower waivers that hold for a stack of this lifecycle."""
    return _holding(CONTROL_TOWER, lifecycle)


def cdk_nag_waivers(lifecycle: Lifecycle) -> Waivers:
    """The cdk-nag waivers that hold for a stack of this lifecycle."""
    return _holding(CDK_NAG, lifecycle)


def _holding(known: tuple[KnownFailure, ...], lifecycle: Lifecycle) -> Waivers:
    return Waivers(tuple(each.waiver() for each in known if lifecycle in each.lifecycles))
