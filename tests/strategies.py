"""Hypothesis strategies: valid platform specs (as YAML text), reaching every bound of the spec.

Every draw is a spec `paycompile validate` accepts (tests/test_strategies.py proves it), and
together they reach: the service cap (most draws stay small, so the suite stays fast), every
supported engine version, every character a tag may hold, mixed-case parameter keys, host and
path routes side by side, explicit and default listener-rule priorities, wildcard routes that
overlap (with the explicit priorities that requires), both lifecycles with what a retained or a
production environment needs, and image references pinned by tag or digest.
"""

from __future__ import annotations

import ipaddress
import string
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

from paycompile.scan import is_secret_name, secret_shape
from paycompile.spec import policy
from paycompile.spec.model import parameter_identifier

LOWER_ALNUM = string.ascii_lowercase + string.digits


def hyphenated(head: int, parts: int, part: int) -> st.SearchStrategy[str]:
    """`[a-z][a-z0-9]{0,head}(-[a-z0-9]{1,part}){0,parts}`, drawn fast (no regex)."""
    word = st.text(LOWER_ALNUM, min_size=1, max_size=part)
    return st.builds(
        lambda first, rest, words: first + rest + "".join("-" + w for w in words),
        st.sampled_from(string.ascii_lowercase),
        st.text(LOWER_ALNUM, max_size=head),
        st.lists(word, max_size=parts),
    )


# The contract's patterns less what AWS refuses in physical names (see docs/spec.md): hyphens
# only between alphanumerics. The bounds keep names within the length limits (21, 16, 20).
PLATFORM_NAME = hyphenated(6, 2, 6).filter(
    lambda name: len(name) >= 2 and not name.startswith(policy.RESERVED_NAME_PREFIXES)
)
ENVIRONMENT = hyphenated(4, 2, 4)
SERVICE_NAME = hyphenated(6, 1, 4)
# Any character a tag may hold: letters and digits of every script, space, _ . : / = + - @.
TAG_CHARACTERS = st.characters(categories=("L", "N"), include_characters=" _.:/=+-@")
TAG_TEXT = st.text(TAG_CHARACTERS, min_size=1, max_size=40).filter(
    lambda text: bool(policy.TAG_PATTERN.fullmatch(text)) and not secret_shape(text)
)
REQUIRED_TAG_TEXT = TAG_TEXT.filter(lambda text: bool(text.strip()))
TAG_KEY = st.text(TAG_CHARACTERS, min_size=1, max_size=40).filter(
    lambda key: (
        bool(policy.TAG_PATTERN.fullmatch(key))
        and key not in (*policy.DERIVED_TAGS, *policy.REQUIRED_TAGS)
        and not key.lower().startswith("aws:")
        and key.lower() not in policy.BOOLEAN_TAG_KEYS
        and not is_secret_name(key)
    )
)
PLAIN_TEXT = st.text(string.ascii_letters + string.digits + " _.:/=+-@", max_size=30)
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
    "cron(59 0-23/2 * * ? *)",
    "cron(5 23 ? * * *)",
]
DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGES = [
    "public.ecr.aws/nginx/nginx:1.27",
    "123456789012.dkr.ecr.us-east-1.amazonaws.com/pay/api:1.0",
    f"123456789012.dkr.ecr.us-east-1.amazonaws.com/pay/api@{DIGEST}",
    f"ghcr.io/example/checkout:v2.3.1@{DIGEST}",
    "registry.example.com:5000/team/app_server:2024-06-01",
    "busybox:1",
]
PARAMETER_KEY = st.builds(
    str.__add__,
    st.sampled_from(string.ascii_letters + string.digits + "_"),
    st.text(string.ascii_letters + string.digits + "_.-", max_size=20),
).filter(lambda key: not policy.SECRET_KEY_PATTERN.search(key))


@dataclass(frozen=True)
class GeneratedSpec:
    text: str
    environment: str | None  # the --env to build with (None: the spec's own)
    document: dict[str, Any]


@st.composite
def private_cidrs(draw: st.DrawFn) -> str:
    prefix = draw(st.integers(*policy.VPC_PREFIX_RANGE))
    block = ipaddress.IPv4Network(draw(st.sampled_from(policy.PRIVATE_RANGES)))
    count = 2 ** (prefix - block.prefixlen)
    index = draw(st.integers(0, count - 1))
    size = 2 ** (32 - prefix)
    return str(ipaddress.IPv4Network((int(block.network_address) + index * size, prefix)))


# What one CloudFormation stack holds (about 25 resources and 60 KB per service). Past it the
# cfn backend writes a nested set (tests/test_nested_stacks.py builds and judges sets of 20, 60
# and 200 services, read back as one with tests/checkers/nested.py); the property tests still
# call `render` for one template, so they draw within one stack until they read sets.
ONE_STACK_SERVICES = 14


def service_counts() -> st.SearchStrategy[int]:
    """Mostly 1..5 services; one draw in twenty-five goes up to the cap (a big spec costs the
    backends' property tests as much as ten small ones)."""
    large = st.integers(6, ONE_STACK_SERVICES)
    return st.integers(0, 24).flatmap(lambda k: large if k == 0 else st.integers(1, 5))


@st.composite
def routes(draw: st.DrawFn, names: list[str]) -> dict[str, dict[str, Any]]:
    """A route per name (bar at most one), host and path mixed, some explicit priorities.

    Each service's own prefix keeps routes apart. Explicit priorities come from 1..999, which
    default ones never use; a default that collides with an earlier one is made explicit.
    """
    unrouted = draw(st.sampled_from([None, *names]))
    explicit = iter(
        draw(st.lists(st.integers(1, 999), min_size=len(names), max_size=len(names), unique=True))
    )
    used: set[int] = set()
    result: dict[str, dict[str, Any]] = {}
    for name in names:
        if name == unrouted:
            continue
        route: dict[str, Any] = draw(
            st.sampled_from([{"path": f"/{name}/*"}, {"host": f"{name}.pay.example.com"}])
        )
        if draw(st.booleans()) or policy.default_rule_priority(name) in used:
            route["priority"] = next(explicit)
        used.add(route.get("priority", policy.default_rule_priority(name)))
        result[name] = route
    return result


@st.composite
def services(draw: st.DrawFn) -> list[dict[str, Any]]:
    names = draw(
        service_counts().flatmap(
            lambda n: st.lists(
                SERVICE_NAME, min_size=n, max_size=n, unique_by=lambda name: name.replace("-", "")
            )
        )
    )
    chosen = draw(routes(names))
    result = []
    for name in names:
        cpu, memory = draw(st.sampled_from(FARGATE_PAIRS))
        service: dict[str, Any] = {
            "name": name,
            "image": draw(st.sampled_from(IMAGES)),
            "port": draw(st.integers(1024, 65535).filter(lambda port: port != 3306)),
            "cpu": cpu,
            "memory": memory,
            "desired_count": draw(st.integers(1, 10)),
            "health_check_path": draw(st.sampled_from(["/health", "/healthz", "/status/ready"])),
            "active_color": draw(st.sampled_from(["blue", "green"])),
            "environment_variables": draw(
                st.dictionaries(
                    st.sampled_from(["LOG_LEVEL", "REGION_HINT", "FEATURE_X", "TIMEOUT_MS"]),
                    PLAIN_TEXT,
                    max_size=2,
                )
            ),
        }
        if name in chosen:
            service["route"] = chosen[name]
        result.append(service)
    _maybe_overlapping_pair(draw, result)
    return result


def _maybe_overlapping_pair(draw: st.DrawFn, result: list[dict[str, Any]]) -> None:
    """Sometimes give a path-routed service's neighbour an overlapping wildcard route."""
    paths = [s for s in result if "path" in s.get("route", {})]
    if len(paths) < 2 or not draw(st.booleans()):
        return
    first, second = paths[0], paths[1]
    taken = {s["route"].get("priority") for s in result if "route" in s}
    free = [p for p in range(1, 1000) if p not in taken]
    first["route"]["priority"] = first["route"].get("priority") or free.pop()
    base = first["route"]["path"].removesuffix("*")
    second["route"] = {"path": f"{base}v?/*", "priority": free.pop(0)}


def tags() -> st.SearchStrategy[dict[str, str]]:
    """The required tags and more; one draw in twenty right up to the limit."""
    room = policy.MAX_USER_TAGS - len(policy.REQUIRED_TAGS)
    extra = (
        st.integers(0, 19)
        .flatmap(lambda k: st.just(room) if k == 0 else st.integers(0, 3))
        .flatmap(lambda n: st.dictionaries(TAG_KEY, TAG_TEXT, min_size=n, max_size=n))
    )
    required = st.fixed_dictionaries(dict.fromkeys(policy.REQUIRED_TAGS, REQUIRED_TAG_TEXT))
    return st.tuples(required, extra).map(lambda pair: {**pair[0], **pair[1]})


def parameters() -> st.SearchStrategy[dict[str, str]]:
    """Mixed-case keys, unique by the logical id each becomes."""
    return st.lists(
        st.tuples(PARAMETER_KEY, PLAIN_TEXT),
        max_size=4,
        unique_by=lambda pair: parameter_identifier(pair[0]),
    ).map(dict)


def _lifecycle_settings(draw: st.DrawFn, environment: str) -> dict[str, Any]:
    """A lifecycle and what it needs: production is retained; retained has 3 NATs, flow logs
    and an alarm e-mail."""
    production = policy.is_production(environment)
    lifecycle = "retained" if production else draw(st.sampled_from(["ephemeral", "retained"]))
    if lifecycle == "retained":
        return {"lifecycle": lifecycle, "nat_gateways": 3, "flow_logs": True, "email": True}
    return {
        "lifecycle": lifecycle,
        "nat_gateways": draw(st.sampled_from(policy.ALLOWED_NAT_GATEWAY_COUNTS)),
        "flow_logs": draw(st.booleans()),
        "email": draw(st.booleans()),
    }


def _s3_egress(draw: st.DrawFn, region: str) -> dict[str, Any]:
    """Where the region's S3 prefix list is not known, the spec names one or opts into HTTPS
    anywhere (PAY-NET-004); where it is known, it may still do either."""
    known = region in policy.S3_PREFIX_LISTS
    choice = draw(
        st.sampled_from(["none", "named", "anywhere"] if known else ["named", "anywhere"])
    )
    if choice == "named":
        return {
            "s3_prefix_list_id": "pl-" + draw(st.text("0123456789abcdef", min_size=8, max_size=8))
        }
    return {"https_egress_anywhere": True} if choice == "anywhere" else {}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    region = draw(st.sampled_from(policy.ACCEPTED_REGIONS))
    partition = policy.REGIONS[region]
    min_capacity = draw(st.sampled_from(CAPACITIES))
    environment = draw(ENVIRONMENT)
    settings = _lifecycle_settings(draw, environment)
    document: dict[str, Any] = {
        "version": 1,
        "name": draw(PLATFORM_NAME),
        "environment": environment,
        "region": region,
        "lifecycle": settings["lifecycle"],
        "tags": draw(tags()),
        "network": {
            "cidr": draw(private_cidrs()),
            "availability_zones": 3,
            "nat_gateways": settings["nat_gateways"],
            "flow_logs": settings["flow_logs"],
            **_s3_egress(draw, region),
        },
        "tls": {
            "certificate_arn": f"arn:{partition}:acm:{region}:123456789012:certificate/{CERT_ID}",
            "ssl_policy": draw(st.sampled_from(policy.TLS12_SSL_POLICIES)),
        },
        "services": draw(services()),
        "database": {
            "engine": "aurora-mysql",
            "engine_version": draw(st.sampled_from(policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS)),
            "database_name": draw(
                st.builds(
                    str.__add__,
                    st.sampled_from(string.ascii_lowercase),
                    st.text(LOWER_ALNUM + "_", max_size=15),
                )
            ),
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
        "parameters": draw(parameters()),
    }
    if settings["email"]:
        document["monitoring"]["alarm_email"] = "oncall@example.com"
    return document


@st.composite
def valid_specs(draw: st.DrawFn) -> GeneratedSpec:
    """A valid spec and the environment to build it for (its own, or one named in overrides)."""
    document = draw(documents())
    environment = None
    if draw(st.booleans()):
        target = draw(ENVIRONMENT.filter(lambda env: env != document["environment"]))
        settings = _lifecycle_settings(draw, target)
        override: dict[str, Any] = {"lifecycle": settings["lifecycle"]}
        if settings["lifecycle"] == "retained":
            override["network"] = {"nat_gateways": 3, "flow_logs": True}
            override["monitoring"] = {"alarm_email": "prod-oncall@example.com"}
        elif draw(st.booleans()):
            override["network"] = {"nat_gateways": settings["nat_gateways"]}
        first = document["services"][0]["name"]
        override["services"] = [{"name": first, "desired_count": draw(st.integers(1, 20))}]
        document["overrides"] = {target: override}
        environment = draw(st.sampled_from([None, target]))
    return GeneratedSpec(yaml.safe_dump(document, sort_keys=False), environment, document)
