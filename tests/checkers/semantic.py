"""The semantic checks and the normalised view, for either backend's output.

`judge(platform, expected)` lists every broken invariant the judges find in a `Platform`;
`judge_template` and `judge_plan` read an artifact first. A template is judged twice: as it
deploys with its parameters' defaults, and with every service's live colour flipped (what a
deployment after a cutover sees). A plan is judged as its program ran; its flipped run is a
second plan (tests/builds.py). `view(platform)` is the normalised semantics the cross-backend
comparison compares, keyed per service where it belongs to one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.checkers import (
    judge_access,
    judge_cutover,
    judge_network,
    judge_operations,
    judge_traffic,
)
from tests.checkers.expectation import Expectation
from tests.checkers.model import Platform
from tests.checkers.read_cfn import read_template
from tests.checkers.read_pulumi import read_plan

Judge = Callable[[Platform, Expectation], list[str]]
JUDGES: tuple[Judge, ...] = (
    judge_network.judge_reachability,
    judge_network.judge_placement,
    judge_network.judge_images,
    judge_access.judge_iam,
    judge_access.judge_key_uses,
    judge_traffic.judge_traffic,
    judge_cutover.judge_cutovers,
    judge_operations.judge_logs,
    judge_operations.judge_flow_logs,
    judge_operations.judge_log_buckets,
    judge_operations.judge_alarms,
    judge_operations.judge_backups,
    judge_operations.judge_database,
)


def judge(platform: Platform, expected: Expectation) -> list[str]:
    found = [f"{name}: a resource type the checkers do not judge" for name in platform.unknown]
    return found + [problem for check in JUDGES for problem in check(platform, expected)]


def live_parameters(template: dict[str, Any]) -> dict[str, str]:
    """Parameter -> its default, for the parameters that choose a live colour."""
    return {
        name: str(body.get("Default"))
        for name, body in template.get("Parameters", {}).items()
        if sorted(body.get("AllowedValues", [])) == ["blue", "green"]
    }


def judge_template(template: dict[str, Any], expected: Expectation) -> list[str]:
    found = judge(read_template(template, expected.region), expected)
    other = {"blue": "green", "green": "blue"}
    flipped = {name: other[value] for name, value in live_parameters(template).items()}
    after = judge(read_template(template, expected.region, flipped), expected.flipped())
    return found + [f"after a cutover: {p}" for p in after if p not in found]


def judge_plan(plan: dict[str, Any], expected: Expectation) -> list[str]:
    return judge(read_plan(plan), expected)


# ---------------------------------------------------------------- the normalised view


def _service_view(platform: Platform, service: str, flows: judge_network.Flows) -> dict[str, Any]:
    groups = judge_traffic.groups_of(platform, service)
    routes = judge_traffic.routes_of(platform, set(groups.values()))
    ecs = {
        str(s.color): {
            "desired": s.desired,
            "registered": sorted(s.target_groups, key=str),
            "task": _task_view(platform, s.task),
        }
        for s in platform.ecs_services.values()
        if s.service == service
    }
    machines = {
        m.name: {
            "definition": m.definition,
            "role": _role_view(platform, m.role),
            "logging": [m.logging_level, m.log_group, m.execution_data],
        }
        for m in platform.machines.values()
        if groups and all(f"<{g}>" in json.dumps(m.definition) for g in groups.values())
    }
    tasks = f"tasks:{service}"
    return {
        "groups": groups,
        "routes": [[r.place, r.listener, list(r.conditions), r.shares] for r in routes],
        "ecs": ecs,
        "cutover": machines,
        "flows": {
            f"{a} -> {b}": [str(p) for p in t] for (a, b), t in flows.items() if tasks in (a, b)
        },
    }


def _task_view(platform: Platform, task: str | None) -> Any:
    definition = platform.tasks.get(str(task))
    if definition is None:
        return None
    return {
        "containers": [vars(c) for c in definition.containers],
        "task_role": _role_view(platform, definition.task_role),
        "execution_role": _role_view(platform, definition.execution_role),
    }


def _statement_text(s: Any) -> str:
    condition = " (conditional)" if s.conditional else ""
    principals = f" to {sorted(s.principals)}" if s.principals else ""
    verb = "all but" if s.not_action else ""
    return f"{s.effect} {verb}{sorted(s.actions)} on {sorted(s.resources)}{principals}{condition}"


def _role_view(platform: Platform, role: str | None) -> Any:
    body = platform.roles.get(str(role))
    if body is None:
        return role
    return {
        "name": role,
        "trust": sorted(_statement_text(s) for s in body.trusted),
        "allows": sorted(_statement_text(s) for s in body.statements),
        "managed": sorted(body.managed),
        "jobs": sorted({how for _, how in platform.role_users.get(str(role), [])}),
    }


def view(platform: Platform, expected: Expectation) -> dict[str, Any]:
    """The platform's meaning, in terms both backends share."""
    flows = judge_network.flows(platform)
    tiers = judge_network.tiers(platform)
    return {
        "services": {s: _service_view(platform, s, flows) for s in sorted(expected.services)},
        "reachability": sorted(f"{a} -> {b}: {[str(p) for p in t]}" for (a, b), t in flows.items()),
        "placement": {
            h.name: [
                h.role,
                sorted({tiers.get(s) for s in h.subnets}, key=str),
                len({platform.subnets.get(s) for s in h.subnets}),
                h.public_ip,
            ]
            for h in platform.holders.values()
        },
        "roles": {name: _role_view(platform, name) for name in sorted(platform.roles)},
        "keys": {
            k.name: {
                "rotation": k.rotation,
                "grants": sorted(_statement_text(s) for s in k.statements),
            }
            for k in platform.keys.values()
        },
        "key_uses": sorted(f"{u.user} ({u.what}) -> {u.key}" for u in platform.key_uses),
        "listeners": {
            name: vars(listener) for name, listener in sorted(platform.listeners.items())
        },
        "load_balancers": {name: vars(b) for name, b in sorted(platform.load_balancers.items())},
        "logs": {name: vars(g) for name, g in sorted(platform.log_groups.items())},
        "flow_logs": {name: vars(f) for name, f in sorted(platform.flow_logs.items())},
        "alarms": {name: vars(a) for name, a in sorted(platform.alarms.items())},
        "topics": {
            name: [t.key, sorted(t.subscriptions)] for name, t in sorted(platform.topics.items())
        },
        "backups": [sorted(vars(r).items()) for r in platform.backup_rules],
        "backup_selections": {k: sorted(v) for k, v in sorted(platform.backup_selections.items())},
        "databases": {name: vars(c) for name, c in sorted(platform.clusters.items())},
        "public_instances": sorted(platform.public_instances),
        "web_acls": {name: vars(acl) for name, acl in sorted(platform.web_acls.items())},
        "waf_associations": sorted(str(pair) for pair in platform.waf_associations),
        "waf_logging": sorted(str(vars(config)) for config in platform.waf_logging),
        "unknown": sorted(platform.unknown),
    }


def _plain(value: Any) -> Any:
    """JSON-shaped, with numbers by value (a template keeps 1.0 where a plan says 1)."""
    text = json.dumps(
        value, sort_keys=True, default=lambda o: vars(o) if hasattr(o, "__dict__") else str(o)
    )
    plain = json.loads(
        text, parse_float=lambda f: int(float(f)) if float(f).is_integer() else float(f)
    )
    return plain


def differences(left: Any, right: Any, path: str = "") -> list[str]:
    """Where two views differ, one line per differing leaf (`path: cfn X != pulumi Y`)."""
    left, right = _plain(left), _plain(right)
    if isinstance(left, dict) and isinstance(right, dict):
        found = []
        for key in sorted(set(left) | set(right)):
            where = f"{path}.{key}" if path else str(key)
            if key not in left or key not in right:
                found.append(f"{where}: only in {'pulumi' if key not in left else 'cfn'}")
            else:
                found += differences(left[key], right[key], where)
        return found
    if _scalars(left) and _scalars(right) and left != right:
        # Name the items one side lacks; same items in another order or number: the whole list.
        found = [f"{path}: only in cfn: {item}" for item in left if item not in right] + [
            f"{path}: only in pulumi: {item}" for item in right if item not in left
        ]
        return found or [
            f"{path}: cfn {json.dumps(left)[:300]} != pulumi {json.dumps(right)[:300]}"
        ]
    if isinstance(left, list) and isinstance(right, list) and len(left) == len(right):
        return [
            line
            for i, pair in enumerate(zip(left, right, strict=True))
            for line in differences(*pair, f"{path}[{i}]")
        ]
    if left != right:
        return [f"{path}: cfn {json.dumps(left)[:300]} != pulumi {json.dumps(right)[:300]}"]
    return []


def _scalars(value: Any) -> bool:
    """A list of plain values (sorted sets in a view): compared item by item."""
    return isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)
