"""Hypothesis strategies: valid platform specs (as YAML text), covering every contract key."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

from paycompile.spec import policy

# The contract's patterns less what AWS refuses in physical names (see docs/spec.md): hyphens
# only between alphanumerics. The bounds keep names within the length limits (21, 16, 20).
PLATFORM_NAME = st.from_regex(r"\A[a-z][a-z0-9]{1,6}(-[a-z0-9]{1,6}){0,2}\Z", fullmatch=True)
ENVIRONMENT = st.from_regex(r"\A[a-z][a-z0-9]{0,4}(-[a-z0-9]{1,4}){0,2}\Z", fullmatch=True)
SERVICE_NAME = st.from_regex(r"\A[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?\Z", fullmatch=True)
TAG_TEXT = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9 _.:/=+@-]{0,30}\Z", fullmatch=True)
FARGATE_PAIRS = [
    (cpu, memory) for cpu, memories in policy.FARGATE_SIZES.items() for memory in memories
]
CERT_ID = "0f3c4b1e-7a2d-4c5e-9b8a-1d2e3f4a5b6c"
CAPACITIES = [n / 2 for n in range(1, 33)]
BACKUP_SCHEDULES = [
    "cron(0 3 * * ? *)",
    "cron(30 1 ? * * *)",
    "cron(0 */6 * * ? *)",
    "cron(15 2,14 * * ? *)",
]


@dataclass(frozen=True)
class GeneratedSpec:
    text: str
    environment: str | None  # the --env to build with (None: the spec's own)
    document: dict[str, Any]


@st.composite
def private_cidrs(draw: st.DrawFn) -> str:
    prefix = draw(st.integers(16, 20))
    base = draw(st.sampled_from(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]))
    block = ipaddress.IPv4Network(base)
    count = 2 ** (prefix - block.prefixlen)
    index = draw(st.integers(0, count - 1))
    return str(
        list(block.subnets(new_prefix=prefix))[index]
        if count <= 4096
        else _nth(block, prefix, index)
    )


def _nth(block: ipaddress.IPv4Network, prefix: int, index: int) -> ipaddress.IPv4Network:
    size = 2 ** (32 - prefix)
    return ipaddress.IPv4Network((int(block.network_address) + index * size, prefix))


@st.composite
def services(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(st.lists(SERVICE_NAME, min_size=1, max_size=5, unique=True))
    unrouted = draw(st.sampled_from([None, *range(len(names))]))
    result = []
    for index, name in enumerate(names):
        cpu, memory = draw(st.sampled_from(FARGATE_PAIRS))
        service: dict[str, Any] = {
            "name": name,
            "image": draw(
                st.sampled_from(
                    [
                        "public.ecr.aws/nginx/nginx:1.27",
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/pay/api:1.0",
                    ]
                )
            ),
            "port": draw(st.integers(1024, 65535).filter(lambda port: port != 3306)),
            "cpu": cpu,
            "memory": memory,
            "desired_count": draw(st.integers(1, 10)),
            "health_check_path": draw(st.sampled_from(["/health", "/healthz", "/status/ready"])),
            "active_color": draw(st.sampled_from(["blue", "green"])),
            "environment_variables": draw(
                st.dictionaries(
                    st.sampled_from(["LOG_LEVEL", "REGION_HINT", "FEATURE_X", "TIMEOUT_MS"]),
                    TAG_TEXT,
                    max_size=2,
                )
            ),
        }
        if index != unrouted:
            service["route"] = draw(
                st.sampled_from([{"path": f"/{name}/*"}, {"host": f"{name}.pay.example.com"}])
            )
        result.append(service)
    return result


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    region = draw(st.sampled_from(sorted(policy.REGIONS)))
    partition = policy.REGIONS[region]
    min_capacity = draw(st.sampled_from(CAPACITIES))
    tags = {"CostCenter": draw(TAG_TEXT), "MigrationPhase": draw(TAG_TEXT)}
    tags |= draw(
        st.dictionaries(st.sampled_from(["Owner", "Team", "DataClass"]), TAG_TEXT, max_size=2)
    )
    document: dict[str, Any] = {
        "version": 1,
        "name": draw(PLATFORM_NAME),
        "environment": draw(ENVIRONMENT),
        "region": region,
        "lifecycle": draw(st.sampled_from(["ephemeral", "retained"])),
        "tags": tags,
        "network": {
            "cidr": draw(private_cidrs()),
            "availability_zones": 3,
            "nat_gateways": draw(st.sampled_from([1, 3])),
            "flow_logs": draw(st.booleans()),
        },
        "tls": {
            "certificate_arn": f"arn:{partition}:acm:{region}:123456789012:certificate/{CERT_ID}",
            "ssl_policy": draw(st.sampled_from(policy.TLS12_SSL_POLICIES)),
        },
        "services": draw(services()),
        "database": {
            "engine": "aurora-mysql",
            "engine_version": draw(
                st.sampled_from([policy.DEFAULT_AURORA_MYSQL_VERSION, "8.0.mysql_aurora.3.08.2"])
            ),
            "database_name": draw(st.from_regex(r"\A[a-z][a-z0-9_]{0,15}\Z", fullmatch=True)),
            "min_capacity": min_capacity,
            "max_capacity": draw(
                st.sampled_from([c for c in CAPACITIES if c >= max(min_capacity, 1)])
            ),
            "secret_rotation_days": draw(st.integers(1, 30)),
        },
        "monitoring": {
            "cpu_alarm_percent": draw(st.integers(1, 100)),
            "memory_alarm_percent": draw(st.integers(1, 100)),
            "db_connections_alarm": draw(st.integers(1, 16000)),
        },
        "backup": {
            "schedule": draw(st.sampled_from(BACKUP_SCHEDULES)),
            "retention_days": draw(st.integers(30, 3650)),
        },
        "parameters": draw(
            st.dictionaries(
                st.from_regex(r"\A[a-z][a-z0-9_.]{0,15}\Z", fullmatch=True), TAG_TEXT, max_size=3
            )
        ),
    }
    if draw(st.booleans()):
        document["monitoring"]["alarm_email"] = "oncall@example.com"
    return document


@st.composite
def valid_specs(draw: st.DrawFn) -> GeneratedSpec:
    """A valid spec and the environment to build it for (its own, or one named in overrides)."""
    document = draw(documents())
    environment = None
    if draw(st.booleans()):
        target = draw(ENVIRONMENT.filter(lambda env: env != document["environment"]))
        override: dict[str, Any] = {"lifecycle": draw(st.sampled_from(["ephemeral", "retained"]))}
        if draw(st.booleans()):
            override["network"] = {"nat_gateways": draw(st.sampled_from([1, 3]))}
        first = document["services"][0]["name"]
        override["services"] = [{"name": first, "desired_count": draw(st.integers(1, 20))}]
        document["overrides"] = {target: override}
        environment = draw(st.sampled_from([None, target]))
    return GeneratedSpec(yaml.safe_dump(document, sort_keys=False), environment, document)
