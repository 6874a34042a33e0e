"""The `platform.yaml` model (version 1): every key of the contract, with its rule.

Policy is baked into the types: a spec that validates cannot describe a platform that
breaks an invariant. Messages that enforce policy cite the rule id that owns them. Each field
also carries its description, examples and the JSON Schema form of its single-field rules, so
`paycompile schema` is generated from this model (see `paycompile/spec/schema.py`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from paycompile.scan import is_secret_name, secret_shape
from paycompile.spec import policy
from paycompile.spec.base import (
    CONTROL_CHARACTERS,
    ENVIRONMENT_NAME,
    HYPHENATED,
    ConfigValue,
    Facts,
    NoSecret,
    Problem,
    SchemaFacts,
    StrictModel,
    located,
    policy_error,
)
from paycompile.spec.routes import route_conflicts
from paycompile.spec.service import Route, Service

__all__ = [
    "CONTROL_CHARACTERS",
    "ENVIRONMENT_NAME",
    "HYPHENATED",
    "Backup",
    "Database",
    "Edge",
    "Monitoring",
    "Network",
    "PlatformSpec",
    "Route",
    "Service",
    "Tls",
    "Waf",
    "policy_error",
]

PlatformName = Annotated[
    str,
    StringConstraints(pattern=HYPHENATED, min_length=2, max_length=21),
    SchemaFacts(lambda: {"not": {"pattern": "^(" + "|".join(policy.RESERVED_NAME_PREFIXES) + ")"}}),
]
EnvironmentName = Annotated[str, StringConstraints(pattern=HYPHENATED, max_length=16)]
ParameterKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
TagText = Annotated[str, NoSecret]
RFC1918 = tuple(ipaddress.IPv4Network(block) for block in policy.PRIVATE_RANGES)
ACM_CERTIFICATE_ARN = re.compile(policy.ACM_CERTIFICATE_ARN)
BACKUP_SCHEDULE = re.compile(policy.BACKUP_SCHEDULE)


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class Network(StrictModel):
    """The VPC: three availability zones, each with a public and a private subnet."""

    cidr: Annotated[str, SchemaFacts(lambda: {"pattern": _cidr_pattern()})] = Field(
        description="The VPC's IPv4 range: private (RFC 1918), /16 to /20 (PAY-NET-001).",
        examples=["10.0.0.0/16", "172.20.0.0/18"],
    )
    availability_zones: Annotated[
        int, SchemaFacts(lambda: {"const": policy.REQUIRED_AVAILABILITY_ZONES})
    ] = Field(
        default=policy.REQUIRED_AVAILABILITY_ZONES,
        description="Availability zones: policy says exactly 3 (PAY-NET-001).",
        examples=[3],
    )
    nat_gateways: Annotated[
        int, SchemaFacts(lambda: {"enum": list(policy.ALLOWED_NAT_GATEWAY_COUNTS)})
    ] = Field(
        default=policy.RETAINED_NAT_GATEWAYS,
        description="NAT gateways: 1 (shared) or 3 (one per AZ), and 3 in a retained "
        "environment (PAY-NET-002). Default: 3 when retained, 1 when ephemeral.",
        examples=[1, 3],
        json_schema_extra=_without_default,
    )
    flow_logs: bool = Field(
        default=True,
        description="VPC flow logs to an encrypted log group; required in a retained "
        "environment (PAY-NET-003).",
        examples=[True],
    )

    s3_prefix_list_id: Annotated[str, StringConstraints(pattern=policy.PREFIX_LIST_ID)] | None = (
        Field(
            default=None,
            description="The id of the region's AWS-managed S3 prefix list "
            "(`aws ec2 describe-managed-prefix-lists --filters "
            "Name=prefix-list-name,Values=com.amazonaws.<region>.s3`): the tasks reach S3 "
            "(ECR's image layers) through it and the gateway endpoint only. Known for "
            f"{', '.join(policy.S3_PREFIX_LISTS)}; required elsewhere unless "
            "https_egress_anywhere (PAY-NET-004).",
            examples=["pl-63a5400a"],
        )
    )
    https_egress_anywhere: bool = Field(
        default=False,
        description="Let every service's tasks open HTTPS (443) to any address, through NAT: "
        "the fallback where the S3 prefix list is not known, or for a service that calls the "
        "internet by name. Off by default: tasks reach the VPC endpoints, S3, the database and "
        "what `services[].egress` declares (PAY-NET-004).",
        examples=[False],
    )

    @field_validator("cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise PydanticCustomError(
                "cidr", "not an IPv4 network in CIDR form: {e}", {"e": str(exc)}
            ) from None
        if str(network) != value:  # `10.0.0.0/255.255.0.0`, `/016`: templates need CIDR form
            raise PydanticCustomError(
                "cidr", "write the network in CIDR form: {n}", {"n": str(network)}
            )
        low, high = policy.VPC_PREFIX_RANGE
        if not low <= network.prefixlen <= high:
            raise policy_error(
                "PAY-NET-001", f"VPC prefix must be /{low} to /{high}, got /{network.prefixlen}"
            )
        # `is_private` also covers 0.0.0.0/8, 198.18.0.0/15 (benchmarking), 240.0.0.0/4
        # (reserved) and more: none of them is a range a VPC should use.
        if not any(network.subnet_of(block) for block in RFC1918):
            raise policy_error("PAY-NET-001", f"{value} is not a private (RFC 1918) range")
        return value

    @field_validator("availability_zones")
    @classmethod
    def _three_zones(cls, value: int) -> int:
        if value != policy.REQUIRED_AVAILABILITY_ZONES:
            raise policy_error(
                "PAY-NET-001", f"must be exactly {policy.REQUIRED_AVAILABILITY_ZONES}, got {value}"
            )
        return value

    @field_validator("nat_gateways")
    @classmethod
    def _nat_count(cls, value: int) -> int:
        if value not in policy.ALLOWED_NAT_GATEWAY_COUNTS:
            raise policy_error("PAY-NET-002", f"must be 1 (shared) or 3 (one per AZ), got {value}")
        return value


def _cidr_pattern() -> str:
    from paycompile.spec.schema import private_cidr_pattern

    return private_cidr_pattern()


class Waf(StrictModel):
    """The web ACL in front of the load balancer (PAY-WAF-001)."""

    rate_limit: int = Field(
        default=policy.WAF_RATE_LIMIT_DEFAULT,
        ge=policy.WAF_RATE_LIMIT_RANGE[0],
        le=policy.WAF_RATE_LIMIT_RANGE[1],
        description="Requests one client IP may send in any 5 minutes before the WAF blocks it "
        f"({policy.WAF_RATE_LIMIT_RANGE[0]} to {policy.WAF_RATE_LIMIT_RANGE[1]}).",
        examples=[policy.WAF_RATE_LIMIT_DEFAULT],
    )


class Edge(StrictModel):
    """What stands between the internet and the load balancer."""

    waf: Waf = Field(
        default_factory=Waf,
        description="AWS WAF on the load balancer: AWS managed rules and a rate limit, logged.",
        examples=[{"rate_limit": policy.WAF_RATE_LIMIT_DEFAULT}],
    )


class Images(StrictModel):
    """The account's container registry settings this platform may own."""

    registry_scanning: bool = Field(
        default=False,
        description="Scan every image on push in the account's ECR registry of this region "
        "(BASIC scanning). The registry has one scanning configuration per account and region: "
        "turn it on in the one stack that owns the account's registry settings.",
        examples=[True],
    )


class Tls(StrictModel):
    """The HTTPS listener's certificate and security policy."""

    certificate_arn: Annotated[
        str, SchemaFacts(lambda: {"pattern": policy.ACM_CERTIFICATE_ARN})
    ] = Field(
        description="ACM certificate for the HTTPS listener, in the spec's region.",
        examples=[
            "arn:aws:acm:us-east-1:123456789012:certificate/0f3c4b1e-7a2d-4c5e-9b8a-1d2e3f4a5b6c"
        ],
    )
    ssl_policy: Annotated[str, SchemaFacts(lambda: {"enum": list(policy.TLS12_SSL_POLICIES)})] = (
        Field(
            default=policy.DEFAULT_SSL_POLICY,
            description="ELB security policy: only policies that refuse anything below TLS 1.2 "
            "(PAY-TLS-001).",
            examples=[policy.DEFAULT_SSL_POLICY],
        )
    )

    @field_validator("certificate_arn")
    @classmethod
    def _acm_arn(cls, value: str) -> str:
        if not ACM_CERTIFICATE_ARN.fullmatch(value):
            raise PydanticCustomError(
                "arn",
                "must be an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)",
            )
        return value

    @field_validator("ssl_policy")
    @classmethod
    def _tls12(cls, value: str) -> str:
        if value not in policy.TLS12_SSL_POLICIES:
            raise policy_error(
                "PAY-TLS-001",
                f"{value!r} allows protocols below TLS 1.2 or is unknown; use one of: "
                + ", ".join(policy.TLS12_SSL_POLICIES[:3])
                + ", ...",
            )
        return value


Capacity = Annotated[
    float,
    SchemaFacts(
        lambda: {
            "minimum": policy.SERVERLESS_V2_CAPACITY_RANGE[0],
            "maximum": policy.SERVERLESS_V2_CAPACITY_RANGE[1],
            "multipleOf": 0.5,
        }
    ),
]


class Database(StrictModel):
    """The Aurora MySQL Serverless v2 cluster and its generated, rotated master secret."""

    engine: Literal["aurora-mysql"] = Field(
        default="aurora-mysql",
        description="The engine: Aurora MySQL only.",
        examples=["aurora-mysql"],
    )
    engine_version: Annotated[
        str, SchemaFacts(lambda: {"enum": list(policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS)})
    ] = Field(
        default=policy.DEFAULT_AURORA_MYSQL_VERSION,
        description="An Aurora MySQL 3 version that supports Serverless v2 and that AWS offers "
        f"for new clusters (list checked {policy.AURORA_VERSIONS_CHECKED}; PAY-DB-001).",
        examples=[policy.DEFAULT_AURORA_MYSQL_VERSION],
    )
    database_name: str = Field(
        default="app",
        pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$",
        description="The database created in the cluster.",
        examples=["payments"],
    )
    min_capacity: Capacity = Field(
        default=0.5,
        description="Minimum Aurora capacity units: 0.5 to 256 in steps of 0.5, at most "
        "max_capacity.",
        examples=[0.5, 2],
    )
    max_capacity: Annotated[Capacity, SchemaFacts(lambda: {"minimum": policy.MIN_MAX_CAPACITY})] = (
        Field(
            default=1.0,
            description="Maximum Aurora capacity units: 1 to 256 in steps of 0.5.",
            examples=[1, 8],
        )
    )
    secret_rotation_days: Annotated[
        int, SchemaFacts(lambda: {"maximum": policy.MAX_SECRET_ROTATION_DAYS})
    ] = Field(
        default=policy.MAX_SECRET_ROTATION_DAYS,
        ge=1,
        description="Days between rotations of the master secret: 1..30 (PAY-SEC-004).",
        examples=[30, 7],
    )

    @field_validator("engine_version")
    @classmethod
    def _serverless_v2(cls, value: str) -> str:
        if value not in policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS:
            newest = policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS[-1]
            raise policy_error(
                "PAY-DB-001",
                f"{value!r} is not an Aurora MySQL 3 version with Serverless v2 that AWS "
                f"offers for new clusters; use e.g. {policy.DEFAULT_AURORA_MYSQL_VERSION} or "
                f"{newest}",
            )
        return value

    @field_validator("min_capacity", "max_capacity")
    @classmethod
    def _capacity(cls, value: float) -> float:
        low, high = policy.SERVERLESS_V2_CAPACITY_RANGE
        if not low <= value <= high or (value * 2) % 1:
            raise PydanticCustomError(
                "capacity",
                "must be {low} to {high} ACUs in steps of 0.5",
                {"low": low, "high": high},
            )
        return float(value)

    @field_validator("max_capacity")
    @classmethod
    def _max_at_least_one(cls, value: float) -> float:
        # Aurora refuses a Serverless v2 maximum below 1 ACU (troposphere checks it too, but
        # only while rendering, where it surfaced as an internal error).
        if value < policy.MIN_MAX_CAPACITY:
            raise PydanticCustomError("capacity", "max_capacity must be at least 1 ACU")
        return value

    @field_validator("secret_rotation_days")
    @classmethod
    def _rotation(cls, value: int) -> int:
        if value > policy.MAX_SECRET_ROTATION_DAYS:
            raise policy_error(
                "PAY-SEC-004",
                f"must be at most {policy.MAX_SECRET_ROTATION_DAYS} days, got {value}",
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Database:
        if self.min_capacity > self.max_capacity:
            raise PydanticCustomError("capacity", "min_capacity must not exceed max_capacity")
        return self


class Monitoring(StrictModel):
    """Alarm thresholds, and the address the alarm topic notifies."""

    cpu_alarm_percent: int = Field(
        default=80, ge=1, le=100, description="ECS CPU alarm threshold, percent.", examples=[80]
    )
    memory_alarm_percent: int = Field(
        default=80, ge=1, le=100, description="ECS memory alarm threshold, percent.", examples=[80]
    )
    db_connections_alarm: int = Field(
        default=100,
        ge=1,
        le=16000,
        description="Database connections alarm threshold.",
        examples=[100],
    )
    http_5xx_alarm: int = Field(
        default=10,
        ge=1,
        le=100000,
        description="Load balancer 5xx responses per 5 minutes that raise the alarm.",
        examples=[10],
    )
    alarm_email: (
        Annotated[
            str,
            StringConstraints(
                pattern=r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$"
            ),
        ]
        | None
    ) = Field(
        default=None,
        description="E-mail address subscribed to the alarm topic; required in a retained "
        "environment (PAY-OPS-002).",
        examples=["payments-oncall@example.com"],
    )


class Backup(StrictModel):
    """AWS Backup of the cluster: a KMS-encrypted vault and a plan."""

    schedule: Annotated[str, SchemaFacts(lambda: {"pattern": policy.BACKUP_SCHEDULE})] = Field(
        default=policy.DEFAULT_BACKUP_SCHEDULE,
        description="When backups run: cron(minute hour * * ? *) or cron(minute hour ? * * *), "
        "i.e. at least daily (PAY-OPS-003).",
        examples=["cron(0 3 * * ? *)", "cron(0 */6 * * ? *)"],
    )
    retention_days: Annotated[
        int, SchemaFacts(lambda: {"minimum": policy.MIN_BACKUP_RETENTION_DAYS})
    ] = Field(
        default=policy.MIN_BACKUP_RETENTION_DAYS,
        le=policy.MAX_BACKUP_RETENTION_DAYS,
        description="Days each backup is kept: 30..36500 (PAY-OPS-003).",
        examples=[30, 365],
    )

    @field_validator("schedule")
    @classmethod
    def _daily(cls, value: str) -> str:
        if not BACKUP_SCHEDULE.fullmatch(value):  # fullmatch: `$` alone lets "...\n" through
            raise policy_error(
                "PAY-OPS-003",
                "must be cron(minute hour * * ? *) with minutes 0-59 and hours 0-23 (a value, "
                "range, list or step), i.e. at least daily, e.g. cron(0 3 * * ? *)",
            )
        return value

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value < policy.MIN_BACKUP_RETENTION_DAYS:
            raise policy_error(
                "PAY-OPS-003",
                f"must be at least {policy.MIN_BACKUP_RETENTION_DAYS} days, got {value}",
            )
        return value


def check_tags(tags: dict[str, str]) -> dict[str, str]:
    for key, value in tags.items():
        if key in policy.DERIVED_TAGS:
            raise policy_error(
                "PAY-GOV-001",
                f"tag {key!r} is set by paycompile and would overwrite yours; do not set it",
            )
        if is_secret_name(key):
            raise policy_error(
                "PAY-SEC-003", f"tag {key!r} looks like a secret: tags are public metadata"
            )
        if key.lower().startswith("aws:"):
            raise PydanticCustomError("tag", "tag keys must not start with 'aws:'")
        if key.lower() in policy.BOOLEAN_TAG_KEYS:
            raise PydanticCustomError(
                "tag",
                "tag {key}: CloudFormation tools read it as a boolean; rename it",
                {"key": repr(key)},
            )
        # Values are never empty: CloudWatch alarms and dashboards and Step Functions state
        # machines refuse an empty tag value.
        if not 1 <= len(key) <= policy.TAG_KEY_MAX or not 1 <= len(value) <= policy.TAG_VALUE_MAX:
            raise PydanticCustomError(
                "tag", "tag {key}: keys are 1..128 and values 1..256 characters", {"key": repr(key)}
            )
        if not (policy.TAG_PATTERN.fullmatch(key) and policy.TAG_PATTERN.fullmatch(value)):
            raise PydanticCustomError(
                "tag",
                "tag {key}: only letters, digits, spaces and _ . : / = + - @ are allowed",
                {"key": repr(key)},
            )
    missing = [tag for tag in policy.REQUIRED_TAGS if not tags.get(tag, "").strip()]
    if missing:
        raise policy_error("PAY-GOV-001", "missing required tag(s): " + ", ".join(missing))
    if len(tags) > policy.MAX_USER_TAGS:
        raise policy_error(
            "PAY-GOV-001",
            f"at most {policy.MAX_USER_TAGS} tags, got {len(tags)}: AWS allows "
            f"{policy.AWS_TAG_LIMIT} per resource and paycompile adds up to "
            f"{len(policy.DERIVED_TAGS)} ({', '.join(policy.DERIVED_TAGS)})",
        )
    return tags


def _tags_facts() -> Facts:
    from paycompile.spec.schema import tag_facts

    return tag_facts()


def _parameter_facts() -> Facts:
    from paycompile.spec.schema import secret_key_pattern

    return {"propertyNames": {"not": {"pattern": secret_key_pattern()}}}


_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+")


def parameter_identifier(key: str) -> str:
    """The logical-id form of a parameter key: `feature_flags` and `feature.flags` share one."""
    return "".join(word[:1].upper() + word[1:] for word in _WORD_BREAK.split(key))


class PlatformSpec(StrictModel):
    """A whole platform for one environment, after overrides are applied."""

    version: Annotated[int, SchemaFacts(lambda: {"enum": list(policy.SUPPORTED_VERSIONS)})] = Field(
        description="The spec format version.", examples=[1]
    )
    name: PlatformName = Field(
        description="The platform's name, the prefix of every resource name; not starting with "
        "sg- or internal- (PAY-GOV-004).",
        examples=["payment"],
    )
    environment: EnvironmentName = Field(
        description="The environment, the suffix of every resource name; `--env` overrides it.",
        examples=["dev", "prod", "pr-123"],
    )
    region: Annotated[str, SchemaFacts(lambda: {"enum": list(policy.ACCEPTED_REGIONS)})] = Field(
        description="The AWS region code; not a region where new accounts get fewer than 3 "
        "availability zones (PAY-NET-001).",
        examples=["us-east-1", "eu-west-1"],
    )
    lifecycle: Literal["ephemeral", "retained"] = Field(
        default="retained",
        description="retained: snapshot on delete, deletion protection, 3 NATs, flow logs and "
        "an alarm e-mail; ephemeral: everything deletable (never for a production environment, "
        "PAY-DB-003).",
        examples=["ephemeral", "retained"],
    )
    tags: Annotated[dict[TagText, TagText], SchemaFacts(_tags_facts)] = Field(
        description="Tags on every resource: CostCenter and MigrationPhase required; "
        f"at most {policy.MAX_USER_TAGS}; the tags paycompile sets "
        f"({', '.join(policy.DERIVED_TAGS)}) are refused (PAY-GOV-001).",
        examples=[{"CostCenter": "FinTech", "MigrationPhase": "Production"}],
    )
    network: Network = Field(
        description="The network: its CIDR, AZs, NAT gateways and flow logs.",
        examples=[{"cidr": "10.0.0.0/16"}],
    )
    tls: Tls = Field(
        description="The HTTPS listener: certificate and TLS policy.",
        examples=[
            {
                "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                "0f3c4b1e-7a2d-4c5e-9b8a-1d2e3f4a5b6c"
            }
        ],
    )
    edge: Edge = Field(
        default_factory=Edge,
        description="The edge: AWS WAF on the load balancer, and its rate limit.",
        examples=[{"waf": {"rate_limit": policy.WAF_RATE_LIMIT_DEFAULT}}],
    )
    images: Images = Field(
        default_factory=Images,
        description="Container registry settings: scan on push (one stack per account and region).",
        examples=[{"registry_scanning": True}],
    )
    services: list[Service] = Field(
        min_length=1,
        max_length=policy.MAX_SERVICES,
        description=f"1 to {policy.MAX_SERVICES} ECS Fargate services with unique names.",
        examples=[[{"name": "api", "image": "public.ecr.aws/nginx/nginx:1.27", "port": 8080}]],
    )
    database: Database = Field(
        default_factory=Database,
        description="The database: engine version, capacity, secret rotation.",
        examples=[{"engine_version": policy.DEFAULT_AURORA_MYSQL_VERSION}],
    )
    monitoring: Monitoring = Field(
        default_factory=Monitoring,
        description="Alarm thresholds and the alarm e-mail address.",
        examples=[{"alarm_email": "payments-oncall@example.com"}],
    )
    backup: Backup = Field(
        default_factory=Backup,
        description="When the cluster is backed up and for how long backups are kept.",
        examples=[{"schedule": policy.DEFAULT_BACKUP_SCHEDULE, "retention_days": 30}],
    )
    parameters: Annotated[dict[ParameterKey, ConfigValue], SchemaFacts(_parameter_facts)] = Field(
        default_factory=dict,
        max_length=200,
        description="App configuration: each key becomes the SSM String parameter "
        "/<name>/<environment>/<key>; secret-looking keys are refused (PAY-SEC-003).",
        examples=[{"feature_flags": "new-checkout=off"}],
    )
    overrides: dict[EnvironmentName, dict[str, Any]] = Field(
        default_factory=dict,
        description="Per-environment changes, deep-merged when building that environment; "
        "services merge by name. version, name, environment and overrides cannot be overridden.",
        examples=[{"prod": {"lifecycle": "retained", "network": {"nat_gateways": 3}}}],
    )

    @model_validator(mode="before")
    @classmethod
    def _nat_default_follows_lifecycle(cls, data: Any) -> Any:
        """An unset `network.nat_gateways` is 3 in a retained environment, 1 in an ephemeral one."""
        if not isinstance(data, Mapping) or not isinstance(data.get("network"), Mapping):
            return data
        if "nat_gateways" in data["network"]:
            return data
        ephemeral = data.get("lifecycle") == "ephemeral"
        count = policy.EPHEMERAL_NAT_GATEWAYS if ephemeral else policy.RETAINED_NAT_GATEWAYS
        return {**data, "network": {**data["network"], "nat_gateways": count}}

    @field_validator("version", mode="before")
    @classmethod
    def _version(cls, value: object) -> object:
        if type(value) is not int or value not in policy.SUPPORTED_VERSIONS:  # not 1.0, not true
            supported = ", ".join(map(str, policy.SUPPORTED_VERSIONS))
            raise PydanticCustomError(
                "version",
                "unsupported spec version {v}; supported: {s}",
                {"v": repr(value), "s": supported},
            )
        return value

    @field_validator("name")
    @classmethod
    def _no_reserved_prefix(cls, value: str) -> str:
        if value.startswith(policy.RESERVED_NAME_PREFIXES):
            raise policy_error(
                "PAY-GOV-004",
                f"{value!r} starts with a prefix AWS refuses in security group (sg-) or load "
                "balancer (internal-) names",
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in policy.REGIONS:
            raise PydanticCustomError(
                "region", "{v} is not an AWS region code (e.g. us-east-1)", {"v": repr(value)}
            )
        zones = policy.FEWER_ZONES_FOR_NEW_ACCOUNTS.get(value)
        if zones is not None:
            raise policy_error(
                "PAY-NET-001",
                f"{value} gives new accounts only {zones} availability zones and the platform "
                f"needs {policy.REQUIRED_AVAILABILITY_ZONES}; choose another region",
            )
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str]) -> dict[str, str]:
        return check_tags(value)

    @field_validator("parameters")
    @classmethod
    def _plain_parameters(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if policy.SECRET_KEY_PATTERN.search(key):
                raise policy_error(
                    "PAY-SEC-003", f"{key!r} looks like a secret: keep it in Secrets Manager"
                )
            if secret_shape(key):
                # The key becomes an SSM parameter's name: a credential pasted there is public.
                raise policy_error(
                    "PAY-SEC-003",
                    f"a parameter key looks like a credential ({secret_shape(key)}): "
                    "keep it in Secrets Manager, not in the spec",
                )
        # Each key names its parameter's logical id; `feature_flags` and `feature.flags`
        # would name the same one.
        seen: dict[str, str] = {}
        for key in value:
            identifier = parameter_identifier(key)
            if identifier in seen:
                raise PydanticCustomError(
                    "parameters",
                    "keys {a} and {b} differ only in punctuation; rename one",
                    {"a": repr(seen[identifier]), "b": repr(key)},
                )
            seen[identifier] = key
        return value

    @field_validator("tls")
    @classmethod
    def _certificate_region(cls, value: Tls, info: ValidationInfo) -> Tls:
        region = info.data.get("region")
        if region and f"arn:{policy.REGIONS[region]}:acm:{region}:" not in value.certificate_arn:
            raise PydanticCustomError(
                "arn", "certificate_arn must be an ACM certificate in {r}", {"r": region}
            )
        return value

    @field_validator("services")
    @classmethod
    def _routable(cls, services: list[Service]) -> list[Service]:
        names = [service.name for service in services]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise PydanticCustomError(
                "services",
                "service names must be unique; repeated: {d}",
                {"d": ", ".join(duplicates)},
            )
        # Names become logical ids without their hyphens (`a-0` and `a0` are both `A0...`).
        spelled: dict[str, str] = {}
        for name in names:
            other = spelled.setdefault(name.replace("-", ""), name)
            if other != name:
                raise PydanticCustomError(
                    "services",
                    "service names {a} and {b} differ only in hyphens, so their resources "
                    "would have the same ids; rename one",
                    {"a": repr(other), "b": repr(name)},
                )
        unrouted = [service.name for service in services if service.route is None]
        if len(unrouted) > 1:
            raise PydanticCustomError(
                "services",
                "at most one service may go without a route (it becomes the listener default); "
                "unrouted: {u}",
                {"u": ", ".join(unrouted)},
            )
        routes = [service.route.key for service in services if service.route]
        repeated = sorted(
            {f"{kind} {value}" for kind, value in routes if routes.count((kind, value)) > 1}
        )
        if repeated:
            raise PydanticCustomError(
                "services", "two services share a route: {r}", {"r": ", ".join(repeated)}
            )
        conflicts = route_conflicts(services)
        if conflicts:
            raise located(*conflicts)
        return services

    @field_validator("services")
    @classmethod
    def _groups_fit(cls, services: list[Service]) -> list[Service]:
        """No stack group holds more services than its stack is budgeted for."""
        members: dict[int, list[int]] = {}
        for index, service in enumerate(services):
            members.setdefault(service.stack_group, []).append(index)
        problems: list[Problem] = []
        for group, indexes in sorted(members.items()):
            for index in indexes[policy.SERVICES_PER_GROUP :]:
                problems.append(
                    (
                        (index, "group"),
                        PydanticCustomError(
                            "group",
                            "stack group {g} already holds {n} services (at most {n} per group, "
                            "so that each stack stays far below CloudFormation's limits); pin "
                            "this service to a group with room: group: <1..{last}>",
                            {
                                "g": group,
                                "n": policy.SERVICES_PER_GROUP,
                                "last": policy.SERVICE_GROUPS,
                            },
                        ),
                        services[index].group,
                    )
                )
        if problems:
            raise located(*problems)
        return services

    @field_validator("services")
    @classmethod
    def _load_balancers_fit(cls, services: list[Service]) -> list[Service]:
        """No load balancer serves more services than its target groups and rules allow."""
        members: dict[int, list[int]] = {}
        for index, service in enumerate(services):
            members.setdefault(service.load_balancer, []).append(index)
        cap = policy.SERVICES_PER_LOAD_BALANCER
        problems: list[Problem] = [
            (
                (index, "load_balancer"),
                PydanticCustomError(
                    "load_balancer",
                    "load balancer {b} already serves {n} services (at most {n}: an ALB takes "
                    "100 target groups, two per service); set load_balancer: <2..{last}> on "
                    "this service",
                    {"b": number, "n": cap, "last": policy.LOAD_BALANCERS},
                ),
                services[index].load_balancer,
            )
            for number, indexes in sorted(members.items())
            for index in indexes[cap:]
        ]
        if problems:
            raise located(*problems)
        return services

    @model_validator(mode="after")
    def _lifecycle_policy(self) -> PlatformSpec:
        """What production and retained environments need: cross-field, so checked last."""
        problems: list[Problem] = []
        if self.lifecycle == "ephemeral" and policy.is_production(self.environment):
            problems.append(
                (
                    ("lifecycle",),
                    policy_error(
                        "PAY-DB-003",
                        f"environment {self.environment!r} is production and must keep its "
                        "data: use lifecycle: retained",
                    ),
                    self.lifecycle,
                )
            )
        if self.lifecycle == "retained":
            problems += _retained_problems(self)
        problems += _egress_problems(self)
        if problems:
            raise located(*problems)
        return self

    @property
    def default_service(self) -> Service | None:
        return next((service for service in self.services if service.route is None), None)

    def with_changes(self, changes: Mapping[str, Any]) -> PlatformSpec:
        """This spec with `changes` deep-merged in (as an `overrides.<env>` entry merges:
        mappings recursively, `services` by name), validated again as a whole."""
        from paycompile.spec.edit import apply_changes

        return apply_changes(self, changes)


def _retained_problems(spec: PlatformSpec) -> list[Problem]:
    problems: list[Problem] = []
    retained = f"environment {spec.environment!r} is retained"
    if spec.network.nat_gateways != policy.RETAINED_NAT_GATEWAYS:
        message = f"{retained}: it needs one NAT gateway per AZ ({policy.RETAINED_NAT_GATEWAYS})"
        problems.append(
            (
                ("network", "nat_gateways"),
                policy_error("PAY-NET-002", message),
                spec.network.nat_gateways,
            )
        )
    if not spec.network.flow_logs:
        message = f"{retained}: it keeps VPC flow logs (flow_logs: true)"
        problems.append((("network", "flow_logs"), policy_error("PAY-NET-003", message), False))
    if spec.monitoring.alarm_email is None:
        message = f"{retained}: set monitoring.alarm_email, or its alarms notify no one"
        problems.append((("monitoring", "alarm_email"), policy_error("PAY-OPS-002", message), None))
    return problems


def _egress_problems(spec: PlatformSpec) -> list[Problem]:
    """The tasks reach S3 by its prefix list (PAY-NET-004): known for the region, named in the
    spec, or replaced by the opt-in HTTPS-anywhere fallback."""
    network = spec.network
    if network.https_egress_anywhere or network.s3_prefix_list_id:
        return []
    if spec.region in policy.S3_PREFIX_LISTS:
        return []
    message = (
        f"the S3 prefix list of {spec.region} is not known: set it (aws ec2 "
        "describe-managed-prefix-lists), or opt into network.https_egress_anywhere: true"
    )
    return [(("network", "s3_prefix_list_id"), policy_error("PAY-NET-004", message), None)]


def s3_prefix_list(spec: PlatformSpec) -> str | None:
    """The S3 prefix list the tasks' egress names: the spec's, else the region's known one."""
    return spec.network.s3_prefix_list_id or policy.S3_PREFIX_LISTS.get(spec.region)
