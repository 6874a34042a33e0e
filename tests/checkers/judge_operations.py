"""Logs, flow logs, alarms, backups and the database's exposure, judged by what they do.

- every log group keeps its logs at least a year (PCI DSS 10.5.1) and is encrypted (the key is
  judged in judge_access); everything that writes logs writes to a log group of the platform,
  including what AWS would otherwise create by itself (RDS's exported logs);
- the VPC's flow log records ALL traffic to a log group of the platform when the spec asks;
- every alarm notifies, with its actions enabled, a topic of the platform; the contract's
  alarms exist on the resources they watch; the on-call e-mail subscribes;
- the ALB's access-log bucket keeps versions, sends its object events to EventBridge, logs every
  request made to it into another bucket of the platform, and in a retained environment locks
  each log object for a year (PCI DSS 10.3.2, 10.5.1);
- backups run at least daily, on the spec's schedule, kept as long as the spec says, and cover
  the database.
"""

from __future__ import annotations

import re

from tests.checkers.expectation import Expectation
from tests.checkers.model import Platform, only_name, token

MIN_LOG_DAYS = 365
# Every log Aurora MySQL can publish to CloudWatch Logs.
MYSQL_LOGS = ("audit", "error", "general", "slowquery")
RATE = re.compile(r"^rate\((?P<n>\d+) (?P<unit>minutes?|hours?|days?)\)$")
CRON = re.compile(r"^cron\((?P<fields>[^)]*)\)$")
EVERY = {"*", "?"}


def judge_logs(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    for name, group in sorted(platform.log_groups.items()):
        if group.retention is None:
            found.append(f"{name}: no retention: logs are kept forever")
        elif group.retention < MIN_LOG_DAYS:
            found.append(
                f"{name}: keeps logs {group.retention} days, PCI DSS 10.5.1 asks for {MIN_LOG_DAYS}"
            )
    for task in platform.tasks.values():
        for container in task.containers:
            if container.log_group not in platform.log_groups:
                found.append(
                    f"{task.name}: its container logs to {container.log_group}, "
                    "not a log group of the platform"
                )
    by_path = {group.physical: name for name, group in platform.log_groups.items()}
    found += [
        f"{function}: the function logs to /aws/lambda/{function}, a log group the platform does "
        "not hold (Lambda would create it unencrypted, kept forever)"
        for function in sorted(platform.functions)
        if f"/aws/lambda/{function}" not in by_path
    ]
    found += [
        f"{cluster}: Container Insights logs to /aws/ecs/containerinsights/{cluster}/performance, "
        "a log group the platform does not hold"
        for cluster in sorted(platform.insights_clusters)
        if f"/aws/ecs/containerinsights/{cluster}/performance" not in by_path
    ]
    for name, cluster in sorted(platform.clusters.items()):
        for kind in cluster.exports:
            path = f"/aws/rds/cluster/{cluster.identifier}/{kind}"
            if path not in by_path:
                found.append(
                    f"{name} exports {kind} logs to {path}, a log group the platform does not hold "
                    "(RDS would create it unencrypted, kept forever)"
                )
    return found


def judge_log_buckets(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    log_buckets = {b.log_bucket for b in platform.load_balancers.values() if b.log_bucket}
    for name in sorted(log_buckets):
        bucket = platform.bucket(name)
        if not bucket.versioned:
            found.append(f"{name}: ALB access logs without versions: an overwrite loses them")
        if not bucket.eventbridge:
            found.append(f"{name}: its object events reach no one (EventBridge off)")
        if bucket.logs_to not in platform.buckets or bucket.logs_to == name:
            found.append(
                f"{name}: requests to the ALB logs are not logged into another bucket of the "
                f"platform (logs to {bucket.logs_to})"
            )
        locked_days = bucket.lock[1] if bucket.lock else 0
        if expected.lifecycle == "retained" and locked_days < MIN_LOG_DAYS:
            found.append(
                f"{name}: a retained platform's ALB logs must be locked for {MIN_LOG_DAYS} days, "
                f"locked for {locked_days}"
            )
        if expected.lifecycle == "ephemeral" and bucket.lock:
            found.append(f"{name}: Object Lock would stop an ephemeral platform deleting cleanly")
    return found


def judge_flow_logs(platform: Platform, expected: Expectation) -> list[str]:
    if not expected.flow_logs:
        return []
    found = []
    for vpc in platform.vpcs:
        recording = [
            f
            for f in platform.flow_logs.values()
            if f.resource == vpc and f.traffic == "ALL" and f.log_group in platform.log_groups
        ]
        if not recording:
            found.append(f"{vpc}: no flow log records ALL traffic to a log group of the platform")
    return found


# The contract's alarms: (namespace, metric, dimension) on each resource of a kind.
def _watched(platform: Platform) -> dict[tuple[str, str, str], set[str]]:
    found: dict[tuple[str, str, str], set[str]] = {}
    for alarm in platform.alarms.values():
        for dimension, value in alarm.dimensions.items():
            target = only_name(value)
            if target:
                found.setdefault((alarm.namespace, alarm.metric, dimension), set()).add(target)
    return found


def judge_alarms(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    topics = {token(name) for name in platform.topics}
    for name, alarm in sorted(platform.alarms.items()):
        if not alarm.actions:
            found.append(f"{name}: no alarm action")
        if not alarm.enabled:
            found.append(f"{name}: actions disabled")
        for action in alarm.actions:
            if action not in topics:
                found.append(f"{name}: notifies {action}, not a topic of the platform")
    watched = _watched(platform)
    wanted = [
        (service, "AWS/ECS", metric, "ServiceName")
        for service in platform.ecs_services
        for metric in ("CPUUtilization", "MemoryUtilization")
    ]
    wanted += [
        (c, "AWS/RDS", "DatabaseConnections", "DBClusterIdentifier") for c in platform.clusters
    ]
    wanted += [
        (b, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer")
        for b in platform.load_balancers
    ]
    wanted += [
        (g, "AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup")
        for g in platform.target_groups
    ]
    for resource, namespace, metric, dimension in sorted(wanted):
        if resource not in watched.get((namespace, metric, dimension), set()):
            found.append(f"{resource}: no {namespace} {metric} alarm")
    notified = sorted(
        {str(only_name(a)) for alarm in platform.alarms.values() for a in alarm.actions}
    )
    if expected.alarm_email:
        for topic in notified:
            if (
                topic in platform.topics
                and ("email", expected.alarm_email) not in platform.topics[topic].subscriptions
            ):
                found.append(f"{topic}: no subscription for {expected.alarm_email}")
    return found


def at_least_daily(schedule: str) -> bool:
    rate = RATE.match(schedule)
    if rate:
        return not rate["unit"].startswith("day") or int(rate["n"]) <= 1
    cron = CRON.match(schedule)
    if not cron:
        return False
    fields = cron["fields"].split()
    if len(fields) != 6:
        return False
    _, _, day_of_month, month, day_of_week, _ = fields
    return day_of_month in EVERY and month == "*" and day_of_week in EVERY


def judge_backups(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    if not platform.backup_rules:
        found.append("no backup rule")
    vaults = {use.user for use in platform.key_uses if use.what == "backup vault"}
    for rule in platform.backup_rules:
        if not at_least_daily(rule.schedule):
            found.append(f"{rule.plan}: {rule.schedule} runs less often than daily")
        elif rule.schedule != expected.backup_schedule:
            found.append(f"{rule.plan}: runs {rule.schedule}, spec says {expected.backup_schedule}")
        if rule.delete_after is None or rule.delete_after < expected.backup_retention_days:
            found.append(
                f"{rule.plan}: keeps backups {rule.delete_after} days, "
                f"spec says {expected.backup_retention_days}"
            )
        if rule.vault not in vaults:
            found.append(f"{rule.plan}: backs up to {rule.vault}, not a vault of the platform")
    covered = {name for names in platform.backup_selections.values() for name in names}
    for cluster in sorted(platform.clusters):
        if cluster not in covered:
            found.append(f"{cluster}: no backup selection covers it")
    return found


def judge_database(platform: Platform, expected: Expectation) -> list[str]:
    found = [f"{name}: publicly accessible" for name in sorted(platform.public_instances)]
    protect = expected.lifecycle == "retained"
    for name, cluster in sorted(platform.clusters.items()):
        if cluster.deletion_protection is not protect:
            found.append(
                f"{name}: deletion protection {cluster.deletion_protection}, "
                f"{expected.lifecycle} wants {protect}"
            )
        if platform.holders.get(str(cluster.subnet_group)) is None:
            found.append(f"{name}: in no subnet group of the platform")
        missing = sorted(set(MYSQL_LOGS) - set(cluster.exports))
        if missing:
            found.append(f"{name}: does not export its {', '.join(missing)} log (PCI DSS 10.2.1)")
    for instance, parent in sorted(platform.instance_clusters.items()):
        if parent not in platform.clusters:
            found.append(f"{instance}: belongs to no cluster of the platform")
    return found
