"""`services[]`: one ECS Fargate service each, and the route that sends it traffic."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from paycompile.spec import policy
from paycompile.spec.base import (
    HYPHENATED,
    ConfigValue,
    Facts,
    NoSecret,
    NoSecretFacts,
    SchemaFacts,
    StrictModel,
    policy_error,
)

ServiceName = Annotated[str, StringConstraints(pattern=HYPHENATED, max_length=20)]
ConfigKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")]
PathPattern = Annotated[
    str,
    StringConstraints(pattern=r"^/[A-Za-z0-9_\-./*?]{0,127}$"),
    SchemaFacts(lambda: {"not": {"pattern": policy.CATCH_ALL_PATH}}),
]
HostPattern = Annotated[
    str,
    StringConstraints(
        pattern=r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", max_length=128
    ),
]
Priority = Annotated[
    int, Field(ge=policy.ROUTE_PRIORITY_RANGE[0], le=policy.ROUTE_PRIORITY_RANGE[1])
]
Image = Annotated[
    str,
    NoSecret,
    NoSecretFacts,
    SchemaFacts(
        lambda: {
            "pattern": policy.IMAGE_REFERENCE,
            "maxLength": policy.IMAGE_MAX_LENGTH,
            "not": {"pattern": f"{policy.UNPINNED_TAG}$"},
        }
    ),
]
Port = Annotated[
    int,
    SchemaFacts(
        lambda: {
            "minimum": policy.SERVICE_PORT_RANGE[0],
            "maximum": policy.SERVICE_PORT_RANGE[1],
            "not": {"enum": list(policy.RESERVED_PORTS)},
        }
    ),
]
Cpu = Annotated[int, SchemaFacts(lambda: {"enum": list(policy.FARGATE_SIZES)})]
Memory = Annotated[
    int,
    SchemaFacts(
        lambda: {"enum": sorted({m for sizes in policy.FARGATE_SIZES.values() for m in sizes})}
    ),
]
IMAGE_REFERENCE = re.compile(policy.IMAGE_REFERENCE)
ANY_IMAGE_REFERENCE = re.compile(policy.ANY_IMAGE_REFERENCE)
CATCH_ALL_PATH = re.compile(policy.CATCH_ALL_PATH)


# A secret a service reads, by the ARN Secrets Manager gave it or by its name (the name a
# secret may have: letters, digits and /_+=.@-, up to 512 characters).
SECRET_NAME = r"[A-Za-z0-9/_+=.@-]{1,512}"
SECRET_ARN = (
    r"arn:aws(-cn|-us-gov)?:secretsmanager:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:secret:"
    + SECRET_NAME
)
SecretReference = Annotated[
    str,
    NoSecret,
    NoSecretFacts,
    StringConstraints(pattern=f"^({SECRET_ARN}|{SECRET_NAME})$", max_length=2048),
]
# A key of the secret's JSON value: no colon, which separates the parts of ECS's valueFrom.
JsonKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@+=/-]{1,128}$")]


class ServiceSecret(StrictModel):
    """An existing Secrets Manager secret that its owner creates and rotates; paycompile only
    lets the service's containers read it (ECS injects it at start) and never sees its value."""

    secret: SecretReference = Field(
        description="The secret's full ARN (with its 6-character suffix), or its name in the "
        "platform's account and region. Never the value.",
        examples=[
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:payment/psp-api-key-AbCdEf",
            "payment/webhook-signing-key",
        ],
    )
    key: JsonKey | None = Field(
        default=None,
        description="A key of the secret's JSON value to inject instead of the whole value.",
        examples=["api_key"],
    )

    @property
    def is_arn(self) -> bool:
        return self.secret.startswith("arn:")


def _secret_key_facts() -> Facts:
    from paycompile.spec.schema import secret_key_pattern

    return {"propertyNames": {"not": {"pattern": secret_key_pattern()}}}


def _exactly_one_facts(schema: dict[str, Any]) -> None:
    schema["oneOf"] = [{"required": ["path"]}, {"required": ["host"]}]


class Route(StrictModel):
    """Which requests the HTTPS listener sends to this service: one path or one host pattern.

    ALB patterns take `*` (any run of characters) and `?` (one character). The service without
    a route is the listener's default, the catch-all.
    """

    model_config = ConfigDict(json_schema_extra=_exactly_one_facts)

    path: PathPattern | None = Field(
        default=None,
        description="Path pattern (case-sensitive) of the requests this service gets; not a "
        "catch-all such as /* (PAY-SPEC-001).",
        examples=["/pay/*", "/api/v?/orders"],
    )
    host: HostPattern | None = Field(
        default=None,
        description="Host name, or *.domain, of the requests this service gets.",
        examples=["pay.example.com", "*.pay.example.com"],
    )
    priority: Priority | None = Field(
        default=None,
        description="Listener-rule priority, lower wins. Default: a stable number from the "
        f"service's name in {policy.DEFAULT_PRIORITY_RANGE[0]}..{policy.DEFAULT_PRIORITY_RANGE[1]}"
        ", so adding a service never moves another; set on both of two routes whose patterns "
        "overlap (PAY-SPEC-001).",
        examples=[10, 200],
    )

    @field_validator("path")
    @classmethod
    def _not_catch_all(cls, value: str | None) -> str | None:
        if value is not None and CATCH_ALL_PATH.fullmatch(value):
            raise policy_error(
                "PAY-SPEC-001",
                f"path {value!r} matches every request and would shadow every other route; "
                "leave this service without a route to make it the listener's default",
            )
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Route:
        if (self.path is None) == (self.host is None):
            raise PydanticCustomError("route", "give exactly one of `path` or `host`")
        return self

    @property
    def key(self) -> tuple[str, str]:
        return ("path", self.path) if self.path is not None else ("host", str(self.host))


def _fargate_pair_facts(schema: dict[str, Any]) -> None:
    """One branch per cpu value with its memory sizes; cpu and memory default to 256 / 512."""
    branches: list[Facts] = []
    for cpu, memories in policy.FARGATE_SIZES.items():
        branch: Facts = {"properties": {"cpu": {"const": cpu}, "memory": {"enum": list(memories)}}}
        if cpu != policy.DEFAULT_CPU:
            branch["required"] = ["cpu", "memory"]
        branches.append(branch)
    schema["oneOf"] = branches


class Cutover(StrictModel):
    """How the cutover state machine moves a service's traffic to its idle colour."""

    canary_percent: int = Field(
        default=10,
        ge=0,
        le=50,
        description="Share of traffic the idle colour takes while the bake watches its alarms "
        "(0: none).",
        examples=[10],
    )
    bake_seconds: int = Field(
        default=300,
        ge=0,
        le=3600,
        description="How long the canary runs while the idle colour's alarms are watched.",
        examples=[300],
    )
    healthy_timeout_seconds: int = Field(
        default=600,
        ge=1,
        le=3600,
        description="How long the idle colour may take to have every desired task healthy.",
        examples=[600],
    )
    poll_seconds: int = Field(
        default=15,
        ge=1,
        le=300,
        description="How often the cutover reads target health and alarms.",
        examples=[15],
    )
    keep_idle_warm: bool = Field(
        default=False,
        description="Keep the previous colour running after a cutover: a faster way back, at "
        "twice the tasks.",
        examples=[False],
    )


class Egress(StrictModel):
    """One destination outside AWS a service's tasks call, such as a PSP's API (PAY-NET-004)."""

    cidr: str = Field(
        description="The destination's public IPv4 range, in CIDR form, "
        f"/{policy.EGRESS_MIN_PREFIX} or narrower. Security groups filter addresses, not "
        "names: use the ranges the provider publishes.",
        examples=["185.60.216.0/24"],
    )
    port: int = Field(ge=1, le=65535, description="The TCP port.", examples=[443])

    @field_validator("cidr")
    @classmethod
    def _public_range(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as exc:
            raise PydanticCustomError(
                "cidr", "not an IPv4 network in CIDR form: {e}", {"e": str(exc)}
            ) from None
        if str(network) != value:
            raise PydanticCustomError(
                "cidr", "write the network in CIDR form: {n}", {"n": str(network)}
            )
        if network.prefixlen < policy.EGRESS_MIN_PREFIX:
            raise policy_error(
                "PAY-NET-004",
                f"{value} is not a destination but a large part of the internet: declare the "
                f"provider's ranges (/{policy.EGRESS_MIN_PREFIX} or narrower), or opt into "
                "network.https_egress_anywhere",
            )
        if not network.is_global:
            raise policy_error(
                "PAY-NET-004",
                f"{value} is not a public (globally routed) range",
            )
        return value


class Service(StrictModel):
    """One ECS Fargate service behind the load balancer, with blue and green target groups."""

    model_config = ConfigDict(json_schema_extra=_fargate_pair_facts)

    name: ServiceName = Field(
        description="The service's name: unique in the spec, part of its resources' names.",
        examples=["api", "checkout-web"],
    )
    image: Image = Field(
        description="Container image, pinned by a tag other than latest or by a digest "
        "(PAY-SPEC-002).",
        examples=[
            "public.ecr.aws/nginx/nginx:1.27",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/pay/api@sha256:" + "0" * 64,
        ],
    )
    port: Port = Field(
        ge=1,
        le=65535,
        description="The port the container listens on: 1024..65535, not 3306 (PAY-SEC-001).",
        examples=[8080],
    )
    cpu: Cpu = Field(
        default=policy.DEFAULT_CPU, description="Fargate CPU units.", examples=[256, 1024]
    )
    memory: Memory = Field(
        default=policy.DEFAULT_MEMORY,
        validate_default=True,  # the default 512 is not valid with every cpu
        description="Fargate memory in MiB, a size valid with `cpu`.",
        examples=[512, 2048],
    )
    desired_count: int = Field(
        default=2, ge=1, le=100, description="How many tasks run.", examples=[2]
    )
    health_check_path: str = Field(
        default="/health",
        pattern=r"^/[A-Za-z0-9_\-./]{0,127}$",
        description="The path the target groups' health checks request.",
        examples=["/health", "/healthz"],
    )
    active_color: Literal["blue", "green"] = Field(
        default="blue",
        description="The colour a new platform starts on. Once it exists, cutovers decide which "
        "colour is live, and deployments read it from the load balancer.",
        examples=["blue"],
    )
    user: str = Field(
        default="1000:1000",
        pattern=r"^[1-9][0-9]{0,9}(:[0-9]{1,10})?$",
        description="The container's user, uid or uid:gid, never root: it overrides the "
        "image's own (PAY-SEC-005).",
        examples=["1000:1000"],
    )
    cutover: Cutover = Field(
        default_factory=Cutover,
        description="How a cutover moves traffic to the idle colour: canary, bake, health wait.",
        examples=[{"canary_percent": 10, "bake_seconds": 300}],
    )
    route: Route | None = Field(
        default=None,
        description="Which requests the service gets; required once there is more than one "
        "service, and at most one service goes without (it becomes the listener's default).",
        examples=[{"path": "/pay/*"}, {"host": "pay.example.com", "priority": 10}],
    )
    group: int | None = Field(
        default=None,
        ge=1,
        le=policy.SERVICE_GROUPS,
        description="The stack group that holds the service once the platform needs more than "
        "one CloudFormation stack. Default: a stable number from the service's name in "
        f"1..{policy.SERVICE_GROUPS}, so adding a service never moves another; a group holds at "
        f"most {policy.SERVICES_PER_GROUP} services.",
        examples=[7],
    )
    load_balancer: int = Field(
        default=1,
        ge=1,
        le=policy.LOAD_BALANCERS,
        description="Which of the platform's load balancers serves the service (its DNS name "
        f"answers the service's route). Each holds at most {policy.SERVICES_PER_LOAD_BALANCER} "
        "services (an ALB takes 100 target groups, two per service); past that, pin services "
        "to load balancer 2 and up.",
        examples=[2],
    )
    environment_variables: Annotated[
        dict[ConfigKey, ConfigValue], SchemaFacts(_secret_key_facts)
    ] = Field(
        default_factory=dict,
        max_length=100,
        description="Plain configuration for the container. Secret-looking names are refused "
        "(PAY-SEC-003): secrets belong in Secrets Manager.",
        examples=[{"LOG_LEVEL": "info"}],
    )

    egress: list[Egress] = Field(
        default_factory=list,
        max_length=20,
        description="Destinations outside AWS the tasks call (a PSP's API): each a public CIDR "
        "and a TCP port. Nothing else outside the VPC is reachable (PAY-NET-004).",
        examples=[[{"cidr": "185.60.216.0/24", "port": 443}]],
    )

    secrets: dict[ConfigKey, ServiceSecret] = Field(
        default_factory=dict,
        max_length=50,
        description="Environment variables read from existing Secrets Manager secrets when a "
        "task starts (ECS `secrets`): name -> the secret, optionally one key of its JSON value. "
        "The secrets' owner creates and rotates them; the execution role may read exactly these. "
        "A name may not also be an environment variable.",
        examples=[{"PSP_API_KEY": {"secret": "payment/psp-api-key", "key": "api_key"}}],
    )

    @model_validator(mode="after")
    def _secret_names_are_not_variables(self) -> Service:
        both = sorted(set(self.secrets) & set(self.environment_variables))
        if both:
            raise PydanticCustomError(
                "secrets",
                "{names} is both a secret and an environment variable: keep one",
                {"names": ", ".join(both)},
            )
        return self

    @field_validator("image")
    @classmethod
    def _pinned_image(cls, value: str) -> str:
        if len(value) > policy.IMAGE_MAX_LENGTH or not ANY_IMAGE_REFERENCE.fullmatch(value):
            raise PydanticCustomError(
                "image",
                "not an image reference ([registry/]repository[:tag][@digest], lowercase "
                "repository, at most {n} characters)",
                {"n": policy.IMAGE_MAX_LENGTH},
            )
        if not IMAGE_REFERENCE.fullmatch(value):
            raise policy_error(
                "PAY-SPEC-002",
                "the image has no tag or digest: pin what runs with :<tag> or @sha256:<digest>",
            )
        if value.endswith(policy.UNPINNED_TAG):
            raise policy_error(
                "PAY-SPEC-002",
                "the tag 'latest' moves: pin what runs with a version tag or @sha256:<digest>",
            )
        return value

    @field_validator("port")
    @classmethod
    def _unreserved_port(cls, value: int) -> int:
        low, high = policy.SERVICE_PORT_RANGE
        if not low <= value <= high or value in policy.RESERVED_PORTS:
            reserved = ", ".join(map(str, policy.RESERVED_PORTS))
            raise policy_error(
                "PAY-SEC-001",
                f"port {value} is reserved (1..{low - 1} and {reserved}); use {low} or above",
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

    @property
    def stack_group(self) -> int:
        """The service's stack group: `group`, else a stable number from its name alone."""
        return self.group if self.group is not None else policy.default_service_group(self.name)

    @property
    def rule_priority(self) -> int:
        """The priority of this service's listener rule: `route.priority`, else a stable number
        from the service's name alone (`policy.default_rule_priority`). A service without a
        route has no rule; the value is then unused."""
        if self.route is not None and self.route.priority is not None:
            return self.route.priority
        return policy.default_rule_priority(self.name)
