"""The organisation's policy, as data the spec model and the compiler both read.

Each constant names the rule id (see `paycompile rules`) that owns it, so an error
message can cite the policy it enforces.
"""

from __future__ import annotations

import re

SUPPORTED_VERSIONS = (1,)

REQUIRED_AVAILABILITY_ZONES = 3  # PAY-NET-001
ALLOWED_NAT_GATEWAY_COUNTS = (1, 3)  # PAY-NET-002
VPC_PREFIX_RANGE = (16, 20)
MAX_SECRET_ROTATION_DAYS = 30  # PAY-SEC-004
MIN_BACKUP_RETENTION_DAYS = 30  # PAY-OPS-003
# PCI DSS 10.5.1: keep a year of audit logs.
LOG_RETENTION_DAYS = 365
REQUIRED_TAGS = ("CostCenter", "MigrationPhase")  # PAY-GOV-001
DERIVED_TAGS = ("Environment", "Name", "DeploymentColor")
# AWS allows 50 tags per resource; paycompile adds up to three of its own.
MAX_USER_TAGS = 50 - len(DERIVED_TAGS)
TAG_KEY_MAX, TAG_VALUE_MAX = 128, 256
TAG_PATTERN = re.compile(r"^[\w .:/=+\-@]*$")

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

# Names that look like credentials belong in Secrets Manager, not in plain config
# (PAY-SEC-003). Matched case-insensitively against environment and parameter keys.
SECRET_KEY_PATTERN = re.compile(
    r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|APIKEY|API_KEY|ACCESS_KEY|_KEY$|^KEY$)",
    re.IGNORECASE,
)

# Aurora MySQL 3 (MySQL 8.0 compatible) is the only line with current Serverless v2 support.
AURORA_MYSQL_VERSION = re.compile(r"^8\.0\.mysql_aurora\.3\.\d{2}\.\d+$")
DEFAULT_AURORA_MYSQL_VERSION = "8.0.mysql_aurora.3.10.3"
SERVERLESS_V2_CAPACITY_RANGE = (0.5, 256.0)

# Load balancers and target groups have 32-character names (PAY-GOV-004).
ELB_NAME_LIMIT = 32
