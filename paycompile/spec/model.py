"""The `platform.yaml` model (version 1): every key of the contract, with its rule.

Policy is baked into the types: a spec that validates cannot describe a platform that
breaks an invariant. Messages that enforce policy cite the rule id that owns them.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from paycompile.scan import is_secret_name, secret_shape
from paycompile.spec import policy

# Names become parts of physical names (`<name>-<part>-<environment>`), so each is the
# contract's pattern less what AWS refuses in those: RDS identifiers take no `--`, and load
# balancer, target group and RDS names cannot end in `-`. Hyphens only between alphanumerics.
HYPHENATED = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
ENVIRONMENT_NAME = re.compile(HYPHENATED)
PlatformName = Annotated[str, StringConstraints(pattern=HYPHENATED, min_length=2, max_length=21)]
EnvironmentName = Annotated[str, StringConstraints(pattern=HYPHENATED, max_length=16)]
ServiceName = Annotated[str, StringConstraints(pattern=HYPHENATED, max_length=20)]
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
ParameterKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]


def _no_secret_value(value: object) -> object:
    """PAY-SEC-003 for values: a credential by its shape alone, whatever key it is under.

    Runs before the type's own checks so that no later error message quotes the value back.
    """
    if isinstance(value, str):
        kind = secret_shape(value)
        if kind:
            raise policy_error(
                "PAY-SEC-003",
                f"the value looks like a credential ({kind}): "
                "keep it in Secrets Manager, not in the spec",
            )
    return value


NoSecret = BeforeValidator(_no_secret_value)
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"


def _no_control(value: str) -> str:
    """No control characters at all, tab and newline included: values end up in JSON, YAML,
    SSM and process environments, where a line break or a NUL is an injection point."""
    found = re.search(CONTROL_CHARACTERS, value)
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise PydanticCustomError(
            "control", "must not contain control characters (found {c})", {"c": code}
        )
    return value


ConfigValue = Annotated[
    str,
    StringConstraints(max_length=4096),
    NoSecret,
    AfterValidator(_no_control),
    Field(json_schema_extra={"pattern": f"^[^{CONTROL_CHARACTERS[1:-1]}]*$"}),
]
TagText = Annotated[str, NoSecret]
Color = Literal["blue", "green"]
RFC1918 = tuple(
    ipaddress.IPv4Network(block) for block in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
)


def policy_error(rule: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(
        "policy", "{message} (policy {rule})", {"message": message, "rule": rule}
    )


class StrictModel(BaseModel):
    """Unknown keys are errors; YAML types are taken as written, never coerced."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class Network(StrictModel):
    cidr: str
    availability_zones: int = policy.REQUIRED_AVAILABILITY_ZONES
    nat_gateways: int = 1
    flow_logs: bool = True

    @field_validator("cidr")
    @classmethod
    def _private_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise PydanticCustomError(
                "cidr", "not an IPv4 network in CIDR form: {e}", {"e": str(exc)}
            ) from None
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


class Tls(StrictModel):
    certificate_arn: str
    ssl_policy: str = policy.DEFAULT_SSL_POLICY

    @field_validator("certificate_arn")
    @classmethod
    def _acm_arn(cls, value: str) -> str:
        if not re.fullmatch(
            r"arn:aws(-cn|-us-gov)?:acm:[a-z0-9-]+:\d{12}:certificate/[0-9a-f-]{36}", value
        ):
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


class Route(StrictModel):
    path: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_\-./*?]{0,127}$")] | None = None
    host: (
        Annotated[
            str,
            StringConstraints(
                pattern=r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                max_length=128,
            ),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Route:
        if (self.path is None) == (self.host is None):
            raise PydanticCustomError("route", "give exactly one of `path` or `host`")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return ("path", self.path) if self.path is not None else ("host", str(self.host))


class Cutover(StrictModel):
    """How the cutover state machine moves a service's traffic to its idle colour."""

    # Share of traffic the idle colour takes while the bake watches its alarms (0: none).
    canary_percent: Annotated[int, Field(ge=0, le=50)] = 10
    bake_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    # How long the idle colour may take to report every desired task healthy.
    healthy_timeout_seconds: Annotated[int, Field(ge=1, le=3600)] = 600
    poll_seconds: Annotated[int, Field(ge=1, le=300)] = 15
    # Keep the previous colour running after a cutover (a faster way back, at twice the cost).
    keep_idle_warm: bool = False


class Service(StrictModel):
    name: ServiceName
    image: Annotated[
        str, StringConstraints(pattern=r"^[a-z0-9][A-Za-z0-9._/:@-]{0,254}$"), NoSecret
    ]
    port: Annotated[int, Field(ge=1, le=65535)]
    cpu: int = 256
    memory: int = 512
    desired_count: Annotated[int, Field(ge=1, le=100)] = 2
    health_check_path: Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_\-./]{0,127}$")] = (
        "/health"
    )
    active_color: Color = "blue"
    route: Route | None = None
    environment_variables: dict[ConfigKey, ConfigValue] = Field(
        default_factory=dict, max_length=100
    )
    # The container's user: never root, whatever the image says (PAY-SEC-005).
    user: Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,9}(:[0-9]{1,10})?$")] = (
        "1000:1000"
    )
    cutover: Cutover = Field(default_factory=Cutover)

    @field_validator("port")
    @classmethod
    def _not_db_port(cls, value: int) -> int:
        if value in (80, 443, 3306) or value < 1024:
            raise policy_error(
                "PAY-SEC-001", f"port {value} is reserved (1..1023 and 3306); use 1024 or above"
            )
        return value

    @field_validator("cpu")
    @classmethod
    def _fargate_cpu(cls, value: int) -> int:
        if value not in policy.FARGATE_SIZES:
            raise PydanticCustomError(
                "fargate",
                "Fargate cpu must be one of {sizes}",
                {"sizes": ", ".join(map(str, policy.FARGATE_SIZES))},
            )
        return value

    @field_validator("environment_variables")
    @classmethod
    def _no_secrets(cls, value: dict[str, str]) -> dict[str, str]:
        for key in value:
            if policy.SECRET_KEY_PATTERN.search(key):
                raise policy_error(
                    "PAY-SEC-003",
                    f"{key!r} looks like a secret: keep it in Secrets Manager, "
                    "not in plain environment variables",
                )
        return value

    @field_validator("memory")
    @classmethod
    def _fargate_pair(cls, value: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        allowed = policy.FARGATE_SIZES.get(cpu, ()) if isinstance(cpu, int) else ()
        if cpu is not None and value not in allowed:
            raise PydanticCustomError(
                "fargate",
                "memory {memory} is not valid with cpu {cpu} on Fargate (allowed: {allowed})",
                {"memory": value, "cpu": cpu, "allowed": ", ".join(map(str, allowed))},
            )
        return value


class Database(StrictModel):
    engine: Literal["aurora-mysql"] = "aurora-mysql"
    engine_version: str = policy.DEFAULT_AURORA_MYSQL_VERSION
    database_name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")] = (
        "app"
    )
    min_capacity: float = 0.5
    max_capacity: float = 1.0
    secret_rotation_days: Annotated[int, Field(ge=1)] = policy.MAX_SECRET_ROTATION_DAYS

    @field_validator("engine_version")
    @classmethod
    def _aurora3(cls, value: str) -> str:
        if not policy.AURORA_MYSQL_VERSION.fullmatch(value):
            raise policy_error(
                "PAY-DB-001", "must be an Aurora MySQL 3 version such as 8.0.mysql_aurora.3.10.3"
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
        if value < 1:
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
    cpu_alarm_percent: Annotated[int, Field(ge=1, le=100)] = 80
    memory_alarm_percent: Annotated[int, Field(ge=1, le=100)] = 80
    db_connections_alarm: Annotated[int, Field(ge=1, le=16000)] = 100
    http_5xx_alarm: Annotated[int, Field(ge=1, le=100000)] = 10
    alarm_email: (
        Annotated[
            str,
            StringConstraints(
                pattern=r"^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}$"
            ),
        ]
        | None
    ) = None


CRON_HOUR = r"(\*|\d{1,2}(-\d{1,2})?(/\d{1,2})?(,\d{1,2}(-\d{1,2})?)*|\*/\d{1,2})"
BACKUP_CRON = re.compile(
    rf"^cron\((?P<minute>\d{{1,2}}) (?P<hour>{CRON_HOUR}) (?P<dom>[*?]) \* (?P<dow>[*?]) \*\)$"
)


class Backup(StrictModel):
    schedule: str = "cron(0 3 * * ? *)"
    retention_days: Annotated[int, Field(le=36500)] = policy.MIN_BACKUP_RETENTION_DAYS

    @field_validator("schedule")
    @classmethod
    def _daily(cls, value: str) -> str:
        match = BACKUP_CRON.fullmatch(value)  # fullmatch: `$` alone lets "...\n" through
        if not match or int(match["minute"]) > 59 or {match["dom"], match["dow"]} != {"*", "?"}:
            raise policy_error(
                "PAY-OPS-003",
                "must be a cron(...) expression that runs at least daily, e.g. cron(0 3 * * ? *)",
            )
        if any(int(n) > 23 for n in re.findall(r"\d+", match["hour"].split("/")[0])):
            raise PydanticCustomError("cron", "hours must be 0 to 23")
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
                "PAY-GOV-001", f"tag {key!r} is derived by paycompile; do not set it by hand"
            )
        if is_secret_name(key):
            raise policy_error(
                "PAY-SEC-003", f"tag {key!r} looks like a secret: tags are public metadata"
            )
        if key.lower().startswith("aws:"):
            raise PydanticCustomError("tag", "tag keys must not start with 'aws:'")
        if not 1 <= len(key) <= policy.TAG_KEY_MAX or len(value) > policy.TAG_VALUE_MAX:
            raise PydanticCustomError(
                "tag", "tag {key}: keys are 1..128 and values 0..256 characters", {"key": repr(key)}
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
        raise PydanticCustomError("tag", "at most {n} tags", {"n": policy.MAX_USER_TAGS})
    return tags


class PlatformSpec(StrictModel):
    """A whole platform for one environment, after overrides are applied."""

    version: int
    name: PlatformName
    environment: EnvironmentName
    region: str
    lifecycle: Literal["ephemeral", "retained"] = "retained"
    tags: dict[TagText, TagText]
    network: Network
    tls: Tls
    services: Annotated[list[Service], Field(min_length=1, max_length=20)]
    database: Database = Field(default_factory=Database)
    monitoring: Monitoring = Field(default_factory=Monitoring)
    backup: Backup = Field(default_factory=Backup)
    parameters: dict[ParameterKey, ConfigValue] = Field(default_factory=dict, max_length=200)
    overrides: dict[EnvironmentName, dict[str, Any]] = Field(default_factory=dict)

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

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value not in policy.REGIONS:
            raise PydanticCustomError(
                "region", "{v} is not an AWS region code (e.g. us-east-1)", {"v": repr(value)}
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
        # Each key names its parameter's logical id; `feature_flags` and `feature.flags`
        # would name the same one.
        seen: dict[str, str] = {}
        for key in value:
            words = re.split(r"[^A-Za-z0-9]+", key)
            identifier = "".join(word[:1].upper() + word[1:] for word in words)
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
    def _unique_routes(cls, services: list[Service]) -> list[Service]:
        names = [service.name for service in services]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise PydanticCustomError(
                "services",
                "service names must be unique; repeated: {d}",
                {"d": ", ".join(duplicates)},
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
        return services

    @property
    def default_service(self) -> Service | None:
        return next((service for service in self.services if service.route is None), None)
