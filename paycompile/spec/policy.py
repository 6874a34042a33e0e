"""The organisation's policy, as data the spec model, its JSON Schema and the compiler all read.

Each constant names the rule id (see `paycompile rules`, and `SPEC_POLICIES` below for the
rules only the spec can check) that owns it, so an error message can cite the policy it
enforces. Facts about AWS that change over time (engine versions, availability zones) carry the
date they were last checked and where.
"""

from __future__ import annotations

import hashlib
import re

SUPPORTED_VERSIONS = (1,)

# --- network -------------------------------------------------------------------------------

REQUIRED_AVAILABILITY_ZONES = 3  # PAY-NET-001
ALLOWED_NAT_GATEWAY_COUNTS = (1, 3)  # PAY-NET-002
# A retained (production-data) environment survives the loss of an AZ: one NAT per AZ
# (PAY-NET-002) and flow logs on (PAY-NET-003). The NAT default follows the lifecycle.
RETAINED_NAT_GATEWAYS = 3
EPHEMERAL_NAT_GATEWAYS = 1
VPC_PREFIX_RANGE = (16, 20)
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")  # RFC 1918

# The id of the AWS-managed prefix list `com.amazonaws.<region>.s3` (the same in every account of
# a region), which the tasks' egress names so they reach S3 (ECR's image layers) through the
# gateway endpoint and nothing else on 443 (PAY-NET-004). CloudFormation cannot look a prefix
# list up, so the ids are data: checked 2026-11-29 against AWS's documented
# `describe-prefix-lists` output and published templates. Elsewhere the spec names it
# (`network.s3_prefix_list_id`) or opts into HTTPS anywhere (`network.https_egress_anywhere`).
S3_PREFIX_LISTS: dict[str, str] = {
    "us-east-1": "pl-63a5400a",
    "us-west-2": "pl-68a54001",
    "eu-west-1": "pl-6da54004",
}
PREFIX_LIST_ID = r"^pl-[0-9a-f]{8,17}$"
# A destination a service declares (`services[].egress`) is a public range of at most this
# many addresses' prefix: a PSP publishes its API's addresses; "the internet" is not one.
EGRESS_MIN_PREFIX = 8

# --- edge (WAF) ----------------------------------------------------------------------------

# Requests one client IP may send in 5 minutes before the WAF blocks it (PAY-WAF-001): AWS
# accepts 10 to 2,000,000,000; below 100 a busy office behind one NAT is blocked.
WAF_RATE_LIMIT_DEFAULT = 2000
WAF_RATE_LIMIT_RANGE = (100, 2_000_000_000)

# --- regions -------------------------------------------------------------------------------

# Region code -> ARN partition. Regions AWS has announced as generally available.
REGIONS: dict[str, str] = {
    **{
        region: "aws"
        for region in (
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "af-south-1",
            "ap-east-1",
            "ap-east-2",
            "ap-south-1",
            "ap-south-2",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-north-1",
            "eu-south-1",
            "eu-south-2",
            "il-central-1",
            "me-central-1",
            "me-south-1",
            "mx-central-1",
            "sa-east-1",
        )
    },
    "us-gov-east-1": "aws-us-gov",
    "us-gov-west-1": "aws-us-gov",
    "cn-north-1": "aws-cn",
    "cn-northwest-1": "aws-cn",
}

# Regions where an account created today gets fewer than 3 availability zones, so a
# 3-AZ platform cannot be built there (PAY-NET-001). Region -> zones a new account gets.
# Checked 2026-11-29 against the AWS documentation ("AWS Availability Zones": us-west-1 has
# three AZ IDs, but accounts created in recent years are offered only two of them).
FEWER_ZONES_FOR_NEW_ACCOUNTS: dict[str, int] = {"us-west-1": 2}
ZONES_CHECKED = "2026-11-29"
ACCEPTED_REGIONS = tuple(region for region in REGIONS if region not in FEWER_ZONES_FOR_NEW_ACCOUNTS)

# --- environments and lifecycle ------------------------------------------------------------

# An environment is production when one of its hyphen-separated words is one of these
# (`prod`, `prod-eu`, `eu-production`, `prd`); production keeps its data (PAY-DB-003).
PRODUCTION_WORDS = ("prod", "prd", "production")


def is_production(environment: str) -> bool:
    return any(word in PRODUCTION_WORDS for word in environment.split("-"))


# Names become the prefix of every physical name: AWS refuses security group names that start
# with `sg-` and load balancer names that start with `internal-` (PAY-GOV-004).
RESERVED_NAME_PREFIXES = ("sg-", "internal-")

# --- tags ----------------------------------------------------------------------------------

REQUIRED_TAGS = ("CostCenter", "MigrationPhase")  # PAY-GOV-001
# Every tag key the compiler sets on some resource besides the user's: Environment and Name
# everywhere, Tier on subnets, DeploymentColor and Service on target groups. All are refused
# as user tags (they would be silently overwritten), and the user limit leaves room for all
# of them on one resource. Tags with the `aws:` prefix (ECS managed tags, CloudFormation's
# stack tags) do not count against AWS's limit.
DERIVED_TAGS = ("Environment", "Name", "Tier", "DeploymentColor", "Service")
AWS_TAG_LIMIT = 50
MAX_USER_TAGS = AWS_TAG_LIMIT - len(DERIVED_TAGS)
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
# Tag keys CloudFormation tools read as booleans: cfn-lint (1.58) compares "true"/"false" (any
# case) with every other key as booleans when it checks that tag keys are unique, so a template
# with a `false` tag key fails its lint (E3024, E3037). Refused, matched case-insensitively.
BOOLEAN_TAG_KEYS = ("true", "false")
TAG_PATTERN = re.compile(r"^[\w .:/=+\-@]*$")
# The ASCII characters AWS refuses in tags; the JSON Schema (whose `\w` is ASCII-only in most
# validators) refuses exactly these and leaves non-ASCII letters to `paycompile validate`.
TAG_FORBIDDEN_ASCII = "!\"#$%&'()*,;<>?[\\]^`{|}~"

# --- TLS -----------------------------------------------------------------------------------

# ELB security policies that refuse every protocol below TLS 1.2 (PAY-TLS-001).
TLS12_SSL_POLICIES = (
    "ELBSecurityPolicy-TLS13-1-2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Res-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-Ext2-2021-06",
    "ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-2-Res-FIPS-2023-04",
    "ELBSecurityPolicy-TLS13-1-3-2021-06",
    "ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04",
    "ELBSecurityPolicy-TLS-1-2-2017-01",
    "ELBSecurityPolicy-TLS-1-2-Ext-2018-06",
    "ELBSecurityPolicy-FS-1-2-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2019-08",
    "ELBSecurityPolicy-FS-1-2-Res-2020-10",
)
DEFAULT_SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ACM_CERTIFICATE_ARN = r"^arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]{36}$"

# --- services ------------------------------------------------------------------------------

MAX_SERVICES = 200
# A platform past one CloudFormation stack keeps its services in groups, one nested stack per
# group (docs/design.md, "Past one stack"). A service's group comes from its name alone (so
# adding a service never moves another) unless `services[].group` pins it; a group holds at
# most SERVICES_PER_GROUP services, which keeps its stack far below every CloudFormation limit.
SERVICE_GROUPS = 64
SERVICES_PER_GROUP = 10
# An ALB takes at most 100 target groups and a listener 100 rules: with two target groups per
# service, 45 services per load balancer leaves a margin. Services are on load balancer 1
# unless `services[].load_balancer` says otherwise (a service's DNS name is its load
# balancer's, so moving one is a choice, never a side effect of adding another).
LOAD_BALANCERS = 8
SERVICES_PER_LOAD_BALANCER = 45
# Ports a service may not listen on: the well-known range, and MySQL's (PAY-SEC-001).
SERVICE_PORT_RANGE = (1024, 65535)
RESERVED_PORTS = (3306,)

# Fargate task sizes: cpu units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4097, 1024)),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
    4096: tuple(range(8192, 30721, 1024)),
    8192: tuple(range(16384, 61441, 4096)),
    16384: tuple(range(32768, 122881, 8192)),
}
DEFAULT_CPU, DEFAULT_MEMORY = 256, 512

# A container image reference (the grammar of github.com/distribution/reference) that names
# exactly what runs: a tag other than `latest`, or a digest (PAY-SPEC-002). No lookaround, so
# the same pattern serves Python and the JSON Schema.
_DOMAIN = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_REGISTRY = rf"{_DOMAIN}(?:\.{_DOMAIN})*(?::[0-9]+)?/"
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE_NAME = rf"(?:{_REGISTRY})?{_COMPONENT}(?:/{_COMPONENT})*"
IMAGE_REFERENCE = rf"^{_IMAGE_NAME}(?::{_TAG}|(?::{_TAG})?@{_DIGEST})$"
# The same grammar with the tag and the digest optional: what is an image reference at all.
ANY_IMAGE_REFERENCE = rf"^{_IMAGE_NAME}(?::{_TAG})?(?:@{_DIGEST})?$"
IMAGE_MAX_LENGTH = 255
UNPINNED_TAG = ":latest"

# ALB listener-rule priorities (PAY-SPEC-001). A route without an explicit priority gets one
# from its service's name alone (so adding or removing another service never moves it), in a
# range that leaves 1..999 to explicit priorities, which therefore never collide with defaults.
ROUTE_PRIORITY_RANGE = (1, 50000)
DEFAULT_PRIORITY_RANGE = (1000, 50000)


def default_rule_priority(service_name: str) -> int:
    """A stable priority for a route: SHA-256 of the service name, into the default range."""
    low, high = DEFAULT_PRIORITY_RANGE
    digest = hashlib.sha256(service_name.encode("utf-8")).digest()
    return low + int.from_bytes(digest[:8], "big") % (high - low + 1)


def default_service_group(service_name: str) -> int:
    """A stable stack group for a service: SHA-256 of its name, into 1..SERVICE_GROUPS."""
    digest = hashlib.sha256(f"group:{service_name}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % SERVICE_GROUPS


# A path route that matches every path (`/*`, `/**`) shadows every other route; the service
# without a route is the listener's catch-all instead (PAY-SPEC-001).
CATCH_ALL_PATH = r"^/\*+$"

# --- names of secrets ----------------------------------------------------------------------

# Names that look like credentials belong in Secrets Manager, not in plain config
# (PAY-SEC-003). Matched case-insensitively against environment variable and parameter keys:
# anywhere in the key for these words, and as the last word for KEY.
SECRET_KEY_WORDS = (
    "PASSWORD",
    "PASSWD",
    "PWD",
    "SECRET",
    "TOKEN",
    "CREDENTIAL",
    "PRIVATE",
    "APIKEY",
    "API_KEY",
    "ACCESS_KEY",
)
SECRET_KEY_PATTERN = re.compile(
    "(" + "|".join((*SECRET_KEY_WORDS, "_KEY$", "^KEY$")) + ")", re.IGNORECASE
)

# --- database ------------------------------------------------------------------------------

# Aurora MySQL 3 versions that support Serverless v2 in every region paycompile accepts and
# that AWS still offers for new clusters (PAY-DB-001). Checked 2026-11-29 against the AWS
# documentation ("Supported Regions and Aurora DB engines for Aurora Serverless v2": 3.02.0
# and higher in most regions, 3.04.3 / 3.08.1 and higher in the newest ones; the Aurora
# MySQL release notes) and against the engine versions cfn-lint 1.58.0 lists as available and
# not deprecated (its rule W3690). Update this one tuple when AWS adds or retires versions.
SERVERLESS_V2_AURORA_MYSQL_VERSIONS = tuple(
    f"8.0.mysql_aurora.3.{minor}"
    for minor in (
        "04.3",
        "04.4",
        "04.6",
        "08.1",
        "08.2",
        "09.0",
        "10.0",
        "10.1",
        "10.2",
        "10.3",
        "10.4",
        "10.5",
        "10.6",
        "11.1",
        "12.0",
        "13.0",
    )
)
AURORA_VERSIONS_CHECKED = "2026-11-29"
DEFAULT_AURORA_MYSQL_VERSION = "8.0.mysql_aurora.3.10.3"  # the 3.10 long-term-support line
SERVERLESS_V2_CAPACITY_RANGE = (0.5, 256.0)
MIN_MAX_CAPACITY = 1.0  # Aurora refuses a Serverless v2 maximum below 1 ACU
MAX_SECRET_ROTATION_DAYS = 30  # PAY-SEC-004

# --- operations ----------------------------------------------------------------------------

MIN_BACKUP_RETENTION_DAYS = 30  # PAY-OPS-003
MAX_BACKUP_RETENTION_DAYS = 36500
# PCI DSS 10.5.1: keep a year of audit logs.
LOG_RETENTION_DAYS = 365

# An AWS Backup schedule that runs at least daily (PAY-OPS-003): `cron(minute hour * * ? *)`
# or `cron(minute hour ? * * *)`, hours as `*`, a value, a range, a list or a step. Written
# without named groups or lookaround, so the JSON Schema carries the very same pattern.
_MINUTE = r"(?:[0-5]?[0-9])"
_HOUR = r"(?:[01]?[0-9]|2[0-3])"
_STEP = r"(?:[1-9]|1[0-9]|2[0-3])"
_HOURS = rf"(?:\*(?:/{_STEP})?|{_HOUR}(?:-{_HOUR})?(?:/{_STEP})?(?:,{_HOUR}(?:-{_HOUR})?)*)"
BACKUP_SCHEDULE = rf"^cron\({_MINUTE} {_HOURS} (?:\* \* \?|\? \* \*) \*\)$"
DEFAULT_BACKUP_SCHEDULE = "cron(0 3 * * ? *)"

# Load balancers and target groups have 32-character names (PAY-GOV-004).
ELB_NAME_LIMIT = 32

# --- rules only the spec can check ---------------------------------------------------------

# The resource graph does not keep what these need (a route's pattern language, an image's
# tag), so they are spec policies, checked by `paycompile validate` and the library, not
# invariants of `paycompile rules`: id -> (statement, PCI DSS v4.0 requirements).
SPEC_POLICIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "PAY-SPEC-001": (
        "Every routed service is reachable: no catch-all path route, unique listener-rule "
        "priorities that never move, and overlapping route patterns only with explicit "
        "priorities.",
        ("1.2.1", "6.5.1"),
    ),
    "PAY-SPEC-002": (
        "Every service image names exactly what runs: a tag other than latest, or a digest.",
        ("6.3.2", "6.5.1"),
    ),
}
