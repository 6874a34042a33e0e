"""Operations rules: dashboard, alarms, backups, cutover machines, SSM parameters, log groups."""

from __future__ import annotations

from typing import Any

from paycompile.compiler.graph import Graph, Input, Json, Kind, Node, Ref
from paycompile.compiler.rules.helpers import (
    CUTOVER_STATES,
    ROLLBACK_STATE,
    as_dict,
    as_list,
    chooser,
    kms_encrypted,
    node_at,
    service_name,
)
from paycompile.compiler.rules.registry import rule
from paycompile.spec import policy


def _metrics(body: Any) -> list[list[Any]]:
    widgets = body.get("widgets") if isinstance(body, dict) else None
    return [
        metric
        for widget in widgets or []
        if isinstance(widget, dict)
        for metric in (widget.get("properties") or {}).get("metrics") or []
        if isinstance(metric, list) and metric
    ]


@rule(
    "PAY-OPS-001",
    "A dashboard shows ECS (every service), RDS (the cluster) and ALB metrics.",
    ("F9",),
    ("10.4.1", "10.7.2"),
)
def dashboard(graph: Graph) -> list[str]:
    dashboards = graph.of_kind(Kind.DASHBOARD)
    if not dashboards:
        return ["no CloudWatch dashboard"]
    body = dashboards[0].props.get("body")
    metrics = _metrics(body.value if isinstance(body, Json) else None)
    shown = {ref.target for metric in metrics for ref in metric if isinstance(ref, Ref)}
    namespaces = {metric[0] for metric in metrics}
    problems = [
        f"dashboard has no {namespace} widget"
        for namespace in ("AWS/ECS", "AWS/RDS", "AWS/ApplicationELB")
        if namespace not in namespaces
    ]
    watched = [*graph.of_kind(Kind.ECS_SERVICE), *graph.of_kind(Kind.DB_CLUSTER)]
    problems += [
        f"dashboard does not show {n.logical_id}" for n in watched if n.logical_id not in shown
    ]
    return problems


Watch = tuple[str, str, str, str]


def _watches(graph: Graph) -> set[Watch]:
    """(namespace, metric, dimension, logical id) for every alarm dimension naming a node.

    Built once per check: asking each watched node's question of every alarm would be
    quadratic in the number of services (each service adds alarms and watched nodes). Only
    text can equal the namespaces and metrics asked for, so other values are left out."""
    return {
        (namespace, metric, dimension, ref.target)
        for alarm in graph.of_kind(Kind.ALARM)
        if isinstance(namespace := alarm.props.get("namespace"), str)
        and isinstance(metric := alarm.props.get("metric"), str)
        for dimension, ref in as_dict(alarm.props.get("dimensions")).items()
        if isinstance(ref, Ref)
    }


@rule(
    "PAY-OPS-002",
    "Alarms on ECS CPU and memory per service, DB connections, ALB 5xx and unhealthy targets, "
    "to an encrypted SNS topic.",
    ("F10",),
    ("10.4.1", "10.7.2"),
)
def alarms(graph: Graph) -> list[str]:
    wanted = [
        (node, "AWS/ECS", metric, "ServiceName")
        for node in graph.of_kind(Kind.ECS_SERVICE)
        for metric in ("CPUUtilization", "MemoryUtilization")
    ]
    wanted += [
        (node, "AWS/RDS", "DatabaseConnections", "DBClusterIdentifier")
        for node in graph.of_kind(Kind.DB_CLUSTER)
    ]
    wanted += [
        (node, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer")
        for node in graph.of_kind(Kind.LOAD_BALANCER)
    ]
    wanted += [
        (node, "AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup")
        for node in graph.of_kind(Kind.TARGET_GROUP)
    ]
    watches = _watches(graph)
    problems = [
        f"no {metric} alarm on {node.logical_id}"
        for node, namespace, metric, dimension in wanted
        if (namespace, metric, dimension, node.logical_id) not in watches
    ]
    for alarm in graph.of_kind(Kind.ALARM):
        topic = node_at(graph, alarm.props.get("topic"), Kind.SNS_TOPIC)
        if topic is None:
            problems.append(f"{alarm.logical_id} notifies no SNS topic of the graph")
        elif not kms_encrypted(graph, topic):
            problems.append(f"{alarm.logical_id}: topic {topic.logical_id} is not KMS-encrypted")
    return problems


@rule(
    "PAY-OPS-003",
    "AWS Backup: KMS-encrypted vault, scheduled plan keeping 30+ days, selection of the cluster.",
    ("F11",),
    ("12.10.1", "3.5.1"),
)
def backups(graph: Graph) -> list[str]:
    problems = [
        f"{vault.logical_id} is not KMS-encrypted"
        for vault in graph.of_kind(Kind.BACKUP_VAULT)
        if not kms_encrypted(graph, vault)
    ]
    good_plans: set[str] = set()
    for plan in graph.of_kind(Kind.BACKUP_PLAN):
        rules = plan.props.get("rules")
        valid = bool(rules) and all(
            isinstance(r, dict)
            and str(r.get("schedule")).startswith("cron(")
            and isinstance(r.get("retention_days"), int)
            and r["retention_days"] >= policy.MIN_BACKUP_RETENTION_DAYS
            and node_at(graph, r.get("vault"), Kind.BACKUP_VAULT) is not None
            for r in as_list(rules)
        )
        if valid:
            good_plans.add(plan.logical_id)
        else:
            problems.append(f"{plan.logical_id} needs a cron schedule, >= 30 days and a vault")
    selected: set[str] = set()
    for selection in graph.of_kind(Kind.BACKUP_SELECTION):
        chosen = node_at(graph, selection.props.get("plan"), Kind.BACKUP_PLAN)
        if chosen is None or chosen.logical_id not in good_plans:
            continue
        if node_at(graph, selection.props.get("role"), Kind.IAM_ROLE) is not None:
            resources = as_list(selection.props.get("resources"))
            selected |= {ref.target for ref in resources if isinstance(ref, Ref)}
    problems += [
        f"{cluster.logical_id} is in no backup selection of a valid plan"
        for cluster in graph.of_kind(Kind.DB_CLUSTER)
        if cluster.logical_id not in selected
    ]
    return problems


# Task states that act before the weights are captured, or that restore them, need no way back.
_NO_ROLLBACK_NEEDED = {"CheckCurrentDeployment", ROLLBACK_STATE, "ScaleIdleColorBack"}
# Acting after the switch: traffic already moved, a failure is reported, not rolled back.
_AFTER_SWITCH = {"RetirePreviousColor"}


def _leads_to(states: dict[str, Any], start: Any, goal: str) -> bool:
    """Whether `start` is `goal`, or Pass states lead from it straight to `goal`."""
    seen: set[str] = set()
    while isinstance(start, str) and start not in seen:
        if start == goal:
            return True
        seen.add(start)
        state = as_dict(states.get(start))
        if state.get("Type") != "Pass":
            return False
        start = state.get("Next")
    return False


def _cutover_problems(graph: Graph, machine: Node) -> list[str]:
    definition = machine.props.get("definition")
    states = definition.value.get("States") if isinstance(definition, Json) else None
    if not isinstance(states, dict):
        return [f"{machine.logical_id} has no state definitions"]
    problems = [
        f"{machine.logical_id} lacks state {name}"
        for name in (*CUTOVER_STATES, ROLLBACK_STATE)
        if name not in states
    ]
    for name, state in states.items():
        if not isinstance(state, dict) or state.get("Type") != "Task":
            continue
        if name in _NO_ROLLBACK_NEEDED | _AFTER_SWITCH:
            continue
        catches = state.get("Catch") or []
        if not any(_leads_to(states, c.get("Next"), ROLLBACK_STATE) for c in as_list(catches)):
            problems.append(f"{machine.logical_id}: a failure in {name} must roll back")
    restore = as_dict(states.get(ROLLBACK_STATE)).get("Parameters")
    if "$.captured.groups" not in str(restore):
        problems.append(f"{machine.logical_id}: {ROLLBACK_STATE} must restore the captured weights")
    if node_at(graph, machine.props.get("role"), Kind.IAM_ROLE) is None:
        problems.append(f"{machine.logical_id} has no execution role in the graph")
    return problems


@rule(
    "PAY-OPS-004",
    "Per service, a cutover state machine: read the live colour from the listener, validate the "
    "idle colour's health, switch traffic; every failure restores the captured weights.",
    ("F12",),
    ("6.5.1", "12.10.1"),
)
def cutover_machines(graph: Graph) -> list[str]:
    machines = {str(m.props.get("service")): m for m in graph.of_kind(Kind.STATE_MACHINE)}
    problems = []
    services = sorted({service_name(node) for node in graph.of_kind(Kind.ECS_SERVICE)})
    for service in services:
        machine = machines.get(service)
        if machine is None:
            problems.append(f"service {service} has no cutover state machine")
        else:
            problems += _cutover_problems(graph, machine)
    return problems


@rule(
    "PAY-OPS-005",
    "SSM parameters under /<name>/<environment>/ for the secret ARN, the cluster endpoint and "
    "each service's active color.",
    ("F13",),
    ("2.2.1", "6.5.3"),
)
def parameters(graph: Graph) -> list[str]:
    prefix = f"/{graph.platform}/{graph.environment}/"
    params = graph.of_kind(Kind.SSM_PARAMETER)
    problems = [
        f"{p.logical_id}: {p.name!r} is not under {prefix}"
        for p in params
        if not p.name.startswith(prefix) or p.props.get("parameter_name") != p.name
    ]
    values = {p.name: p.props.get("value") for p in params}
    refs = [value for value in values.values() if isinstance(value, Ref)]
    for kind, attribute in ((Kind.SECRET, "id"), (Kind.DB_CLUSTER, "endpoint")):
        problems += [
            f"no parameter holds {node.logical_id}.{attribute}"
            for node in graph.of_kind(kind)
            if Ref(node.logical_id, attribute) not in refs
        ]
    # The recorded colour is the same deploy-time input the listener's weights follow.
    for service in graph.of_kind(Kind.ECS_SERVICE):
        name = f"{prefix}services/{service_name(service)}/active-color"
        live = chooser(service.props.get("desired_count"))
        value = values.get(name)
        if not (isinstance(value, Input) and value.name == live):
            problems.append(f"{name} must hold the live colour {service.logical_id} follows")
    return problems


@rule(
    "PAY-OPS-006",
    "Every log goes to a log group of the graph that keeps a year and uses a customer KMS key.",
    (),
    ("10.3.3", "10.5.1"),
)
def log_groups(graph: Graph) -> list[str]:
    problems = []
    for group in graph.of_kind(Kind.LOG_GROUP):
        days = group.props.get("retention_days")
        if not (isinstance(days, int) and days >= policy.LOG_RETENTION_DAYS):
            problems.append(f"{group.logical_id}: retention {days!r} days, want >= 365")
        if not kms_encrypted(graph, group):
            problems.append(f"{group.logical_id} is not KMS-encrypted")
    # A log destination missing from the graph would be created by AWS on first write, with
    # no retention and no customer key: every writer must name a log group of the graph.
    problems += [
        f"{node.logical_id} logs to no log group of the graph"
        for node in graph
        if "log_group" in node.props
        and node_at(graph, node.props["log_group"], Kind.LOG_GROUP) is None
    ]
    names = {group.name for group in graph.of_kind(Kind.LOG_GROUP)}
    problems += [
        f"{cluster.logical_id}: export {kind!r} has no log group of the graph"
        for cluster in graph.of_kind(Kind.DB_CLUSTER)
        for kind in as_list(cluster.props.get("log_exports") or [])
        if f"/aws/rds/cluster/{cluster.name}/{kind}" not in names
    ]
    problems += [
        f"{cluster.logical_id}: Container Insights' log group is not in the graph"
        for cluster in graph.of_kind(Kind.ECS_CLUSTER)
        if cluster.props.get("container_insights")
        and f"/aws/ecs/containerinsights/{cluster.name}/performance" not in names
    ]
    # A rotation function's log group, which Lambda would otherwise create by itself.
    problems += [
        f"{rotation.logical_id}: its function's /aws/lambda/{rotation.name} is no log group "
        "of the graph"
        for rotation in graph.of_kind(Kind.SECRET_ROTATION)
        if f"/aws/lambda/{rotation.name}" not in names
    ]
    return problems


@rule(
    "PAY-OPS-007",
    "The ALB access-log bucket keeps versions, sends object events to EventBridge and logs its "
    "requests into a second private bucket; retained environments lock each log object for a "
    "year, ephemeral ones lock nothing.",
    (),
    ("10.2.1", "10.3.2", "10.3.3", "10.5.1"),
)
def log_buckets(graph: Graph) -> list[str]:
    problems = []
    retained = graph.lifecycle == "retained"
    for balancer in graph.of_kind(Kind.LOAD_BALANCER):
        bucket = node_at(graph, balancer.props.get("access_logs_bucket"), Kind.BUCKET)
        if bucket is None:
            problems.append(f"{balancer.logical_id} logs to no bucket of the graph")
            continue
        props = bucket.props
        if props.get("versioning") != "Enabled":
            problems.append(f"{bucket.logical_id} keeps no object versions")
        if props.get("eventbridge") is not True:
            problems.append(f"{bucket.logical_id} sends no event notifications")
        target = node_at(graph, as_dict(props.get("logging")).get("bucket"), Kind.BUCKET)
        if target is None or target is bucket:
            problems.append(f"{bucket.logical_id} logs its requests into no other bucket")
        lock = as_dict(props.get("object_lock"))
        days = lock.get("days")
        if retained and not (isinstance(days, int) and days >= policy.LOG_RETENTION_DAYS):
            problems.append(f"{bucket.logical_id}: retained logs locked {days!r} days, want 365")
        if not retained and lock:
            problems.append(f"{bucket.logical_id}: an ephemeral bucket must not lock its objects")
    return problems
