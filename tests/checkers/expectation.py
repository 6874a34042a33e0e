"""What the spec asks for, read from the spec document itself (after overrides), never from the
graph: the values every checker compares a backend's output with.

The defaults here are the spec format's documented defaults (docs/spec.md); they are data about
the format, not a copy of the compiler.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

ECR_PUBLIC = "public.ecr.aws"
# docs/spec.md: the defaults of keys a spec may leave out.
DEFAULT_ROTATION_DAYS = 30
DEFAULT_DESIRED_COUNT = 2
DEFAULT_CUTOVER = {
    "canary_percent": 10,
    "bake_seconds": 300,
    "healthy_timeout_seconds": 600,
    "poll_seconds": 15,
    "keep_idle_warm": False,
}


@dataclass(frozen=True)
class Cutover:
    """How a service's cutover moves its traffic: canary share, bake, health wait, polling."""

    canary_percent: int
    bake_seconds: int
    healthy_timeout_seconds: int
    poll_seconds: int
    keep_idle_warm: bool


@dataclass(frozen=True)
class Expectation:
    """The spec values the checkers compare an artifact with (after overrides)."""

    platform: str
    environment: str
    region: str
    lifecycle: str
    nat_gateways: int
    rotation_days: int
    certificate_arn: str
    services: dict[str, str]  # service name -> active color
    tags: dict[str, str]
    # service name -> (image, desired count, tasks the idle colour keeps)
    workloads: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    # service name -> ("path", pattern) or ("host", name); None for the listener's default
    routes: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    cutovers: dict[str, Cutover] = field(default_factory=dict)
    cidr: str = ""
    flow_logs: bool = True
    backup_schedule: str = ""
    backup_retention_days: int = 30
    alarm_email: str | None = None
    # service name -> the (cidr, port) destinations outside AWS it declares
    egress: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    # service name -> whether its tasks may open HTTPS anywhere (docs/security.md: the spec
    # opts in, or the image comes from a registry outside the region's ECR)
    https_anywhere: dict[str, bool] = field(default_factory=dict)
    # whether this stack owns the registry's scanning configuration (`images.registry_scanning`)
    registry_scanning: bool = False

    def with_live(self, live: dict[str, str]) -> Expectation:
        """The same platform with other colours live (what a deployment after a cutover sees)."""
        return replace(self, services={**self.services, **live})

    def flipped(self) -> Expectation:
        """Every service's other colour live."""
        other = {"blue": "green", "green": "blue"}
        return self.with_live({name: other[color] for name, color in self.services.items()})

    @classmethod
    def from_document(cls, document: dict[str, Any], environment: str | None = None) -> Expectation:
        """Effective values of a spec document built for `environment` (default: its own)."""
        env = environment or document["environment"]
        merged = _apply_override(document, document.get("overrides", {}).get(env))
        services = merged["services"]
        return cls(
            platform=merged["name"],
            environment=env,
            region=merged["region"],
            lifecycle=merged["lifecycle"],
            nat_gateways=merged["network"]["nat_gateways"],
            rotation_days=merged["database"].get("secret_rotation_days", DEFAULT_ROTATION_DAYS),
            certificate_arn=merged["tls"]["certificate_arn"],
            services={s["name"]: s.get("active_color", "blue") for s in services},
            tags={str(key): str(value) for key, value in merged["tags"].items()},
            workloads={s["name"]: _workload(s, merged["name"], env) for s in services},
            ports={s["name"]: int(s["port"]) for s in services},
            routes={s["name"]: _route(s.get("route")) for s in services},
            cutovers={
                s["name"]: Cutover(**{**DEFAULT_CUTOVER, **s.get("cutover", {})}) for s in services
            },
            cidr=merged["network"]["cidr"],
            flow_logs=merged["network"].get("flow_logs", True),
            backup_schedule=merged["backup"]["schedule"],
            backup_retention_days=merged["backup"]["retention_days"],
            alarm_email=merged.get("monitoring", {}).get("alarm_email"),
            egress={
                s["name"]: [(e["cidr"], int(e["port"])) for e in s.get("egress", [])]
                for s in services
            },
            https_anywhere={
                s["name"]: merged["network"].get("https_egress_anywhere", False)
                or not (_regional_ecr(s["image"], merged["region"]) or _ecr_public(s["image"]))
                for s in services
            },
            registry_scanning=merged.get("images", {}).get("registry_scanning", False),
        )


def _regional_ecr(image: str, region: str) -> bool:
    """Whether an image comes from a private ECR registry of the platform's region."""
    registry = image.split("/", 1)[0]
    parts = registry.split(".")
    return len(parts) >= 4 and parts[1:3] == ["dkr", "ecr"] and parts[3] == region


def _route(route: dict[str, str] | None) -> tuple[str, str] | None:
    if not route:
        return None
    return ("path", route["path"]) if "path" in route else ("host", route["host"])


def _ecr_public(image: str) -> bool:
    """docs/security.md: an ECR Public image comes through the platform's pull-through cache."""
    return image.startswith(f"{ECR_PUBLIC}/")


def cache_prefix(platform: str, environment: str) -> str:
    """docs/security.md: `<name>-<environment>`, or when that is longer than ECR's 30 characters
    the name cut to fit, 8 hex digits of the name's SHA-256, then `-<environment>`."""
    plain = f"{platform}-{environment}"
    if len(plain) <= 30:
        return plain
    digest = hashlib.sha256(platform.encode()).hexdigest()[:8]
    return f"{platform[: 20 - len(environment)].rstrip('-')}-{digest}-{environment}"


def _workload(service: dict[str, Any], platform: str, env: str) -> tuple[str, int, int]:
    """The image the tasks pull (generalised: account, region and URL suffix as placeholders),
    desired count, tasks the idle colour keeps."""
    count = service.get("desired_count", DEFAULT_DESIRED_COUNT)
    warm = service.get("cutover", {}).get("keep_idle_warm", False)
    image = service["image"]
    if _ecr_public(image):
        path = image.removeprefix(f"{ECR_PUBLIC}/")
        image = f"{{account}}.dkr.ecr.{{region}}.{{urlsuffix}}/{cache_prefix(platform, env)}/{path}"
    return image, count, count if warm else 0


def _apply_override(base: Any, override: Any) -> Any:
    """Deep merge as the contract states it: dicts merge, `services` merge by `name`."""
    if override is None:
        return base
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            if key == "services":
                merged[key] = _merge_services(base.get(key, []), value)
            else:
                merged[key] = _apply_override(base.get(key), value)
        return merged
    return override


def _merge_services(base: list[dict[str, Any]], override: list[dict[str, Any]]) -> list[Any]:
    by_name = {service["name"]: service for service in override}
    merged = [_apply_override(s, by_name.pop(s["name"], None)) for s in base]
    return merged + list(by_name.values())
