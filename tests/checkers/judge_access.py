"""IAM and KMS: what each role may do against what its job needs, and who may use each key.

A role's job is read from who uses it (a task definition's task or execution role, a state
machine, a flow log, a backup selection, an instance's monitoring), and its needs from what that
user does: the state machine's tasks call APIs on resources, the containers write to log groups
and pull from repositories, the tasks read the database secret. Every permission a role holds
must serve its job; every need must be granted. A key's users are the resources it encrypts, and
every service it admits must be one those users need.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from paycompile.compiler.security import UNSCOPABLE_ACTIONS
from tests.checkers.expectation import Expectation
from tests.checkers.model import Platform, Role, Statement, only_name, token

ACCOUNT_ROOT = "aws:arn:{partition}:iam::{account}:root"
SERVICE = "service:{}.{{urlsuffix}}"
TRUST = {
    "task": {SERVICE.format("ecs-tasks")},
    "execution": {SERVICE.format("ecs-tasks")},
    "state-machine": {SERVICE.format("states"), SERVICE.format("states.{region}")},
    "flow-logs": {SERVICE.format("vpc-flow-logs")},
    "backup": {SERVICE.format("backup")},
    "monitoring": {SERVICE.format("monitoring.rds")},
}
MANAGED = "arn:{partition}:iam::aws:policy/service-role/"
# AWS managed policies each job needs (first) and may hold.
MANAGED_FOR = {
    "backup": (["AWSBackupServiceRolePolicyForBackup"], ["AWSBackupServiceRolePolicyForRestores"]),
    "monitoring": (["AmazonRDSEnhancedMonitoringRole"], []),
}
# What Step Functions needs to deliver execution logs and traces (AWS documents these as
# account-wide).
MACHINE_EXTRAS = [a for a in UNSCOPABLE_ACTIONS if a.startswith(("logs:", "xray:"))]
SDK_PREFIX = {"elasticloadbalancingv2": "elasticloadbalancing"}
SDK_TASK = re.compile(r":states:::aws-sdk:(?P<service>[a-z0-9]+):(?P<action>[A-Za-z0-9]+)$")
PRIVATE_ECR = re.compile(
    r"^(?P<account>[^.]+)\.dkr\.ecr\.(?P<region>[^.]+)\.\{urlsuffix\}/(?P<repo>[^:@]+)"
)
ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
ECR_CACHE_FILL = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
LOG_WRITE = ["logs:CreateLogStream", "logs:PutLogEvents"]
LOG_READ = ["logs:DescribeLogStreams", "logs:DescribeLogGroups"]
# The request parameter that names the resource each API acts on (the AWS API references).
RESOURCE_PARAMETER = {
    "ModifyListener": "ListenerArn",
    "ModifyRule": "RuleArn",
    "PutParameter": "Name",
    "UpdateService": "Service",
    "DescribeAlarms": "AlarmNames",
    "DescribeTargetHealth": "TargetGroupArn",
    "DescribeListeners": "ListenerArns",
    "DescribeRules": "RuleArns",
}
# KMS actions each AWS service needs on a key to use it (per the services' KMS documentation).
KEY_USE = {
    "logs": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
    "cloudwatch": ["kms:Decrypt", "kms:GenerateDataKey"],
}
SERVICE_PRINCIPALS = {
    "logs": {SERVICE.format("logs.{region}"), SERVICE.format("logs")},
    "cloudwatch": {SERVICE.format("cloudwatch")},
}
DATA = (
    "database storage",
    "secret",
    "topic",
    "backup vault",
    "performance insights",
    "rotation function",
)


@dataclass
class Job:
    """What a role's users need (action, resource) and may also hold (action -> patterns)."""

    names: set[str] = field(default_factory=set)
    needs: list[tuple[str, str]] = field(default_factory=list)
    may: dict[str, list[str]] = field(default_factory=dict)
    managed_needs: list[str] = field(default_factory=list)
    managed_may: list[str] = field(default_factory=list)

    def grant(self, actions: list[str], resource: str, needed: bool = True) -> None:
        for action in actions:
            if needed:
                self.needs.append((action, resource))
            self.may.setdefault(action.lower(), []).append(resource)


# ---------------------------------------------------------------- what each job needs


def _rotated_secrets(platform: Platform) -> list[str]:
    """The database secrets: the ones a rotation rotates against the database."""
    secrets = {use.user: use.key for use in platform.key_uses if use.what == "secret"}
    rotated = [
        target
        for name, found in platform.references.items()
        if name in platform.holders and platform.holders[name].role == "rotation"
        for _, target in found
        if target in secrets
    ]
    return sorted(set(rotated)) or sorted(secrets)


def _task_job(job: Job, platform: Platform, expected: Expectation) -> None:
    keys = {use.user: use.key for use in platform.key_uses}
    for secret in _rotated_secrets(platform):
        job.grant(["secretsmanager:GetSecretValue"], token(secret))
        key = keys.get(secret)
        if key in platform.keys:
            job.grant(["kms:Decrypt"], token(key))
    own = f"{expected.platform}/{expected.environment}"
    config = f"arn:{{partition}}:ssm:{{region}}:{{account}}:parameter/{own}/*"
    job.grant(["ssm:GetParameter"], config)
    job.grant(["ssm:GetParameters", "ssm:GetParametersByPath"], config, needed=False)


def _execution_job(job: Job, platform: Platform, task: str) -> None:
    for container in platform.tasks[task].containers:
        if container.log_group:
            job.grant(LOG_WRITE, token(container.log_group) + ":*")
        private = PRIVATE_ECR.match(container.image)
        if private:
            region, account, repo = private["region"], private["account"], private["repo"]
            job.grant(["ecr:GetAuthorizationToken"], "*")
            repository = f"arn:{{partition}}:ecr:{region}:{account}:repository/{repo}"
            job.grant(ECR_PULL, repository)
            if repo.split("/", 1)[0] in platform.image_caches:
                # The first pull of a cached image imports it, into a repository ECR creates
                # (AWS's "IAM permissions required to sync an upstream registry").
                job.grant(ECR_CACHE_FILL, repository)
        for value_from in container.secrets.values():
            arn = secret_arn(value_from)
            if FULL_SECRET_ARN.search(arn):
                job.grant(["secretsmanager:GetSecretValue"], arn)
            else:  # a name: whatever suffix Secrets Manager gave it, and nothing longer
                job.grant(["secretsmanager:GetSecretValue"], arn + "-AbCdEf")
                job.grant(["secretsmanager:GetSecretValue"], arn + "-??????", needed=False)
        if container.secrets:
            # The owner's key is not known: any key, as long as Secrets Manager asks.
            job.grant(["kms:Decrypt"], "arn:{partition}:kms:*:*:key/*")


# ECS's valueFrom for a secret: an ARN, then `:<json key>:<version stage>:<version id>`.
VALUE_FROM = re.compile(
    r"^(?P<arn>arn:[^:]+:secretsmanager:[^:]+:[^:]+:secret:[^:]+)(:[^:]*:[^:]*:[^:]*)?$"
)
# A full ARN ends in the hyphen and six characters Secrets Manager appended to the name.
FULL_SECRET_ARN = re.compile(r"-[A-Za-z0-9]{6}$")


def secret_arn(value_from: str) -> str:
    """The secret ARN a valueFrom names (without a JSON key's tail)."""
    match = VALUE_FROM.match(value_from)
    return match["arn"] if match else value_from


def sdk_calls(definition: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    """(state, IAM action, parameters) for every AWS SDK task of a definition."""
    found = []
    states = definition.get("States", {})
    for name, state in states.items() if isinstance(states, dict) else []:
        match = SDK_TASK.search(str(state.get("Resource", ""))) if isinstance(state, dict) else None
        if match and isinstance(state, dict):
            service, action = match["service"], match["action"]
            iam = f"{SDK_PREFIX.get(service, service)}:{action[0].upper()}{action[1:]}"
            found.append((name, iam, state.get("Parameters") or {}))
    return found


def _machine_job(job: Job, platform: Platform, machine: str) -> None:
    definition = platform.machines[machine].definition
    touched = sorted(set(re.findall(r"<[A-Za-z0-9]+>", json.dumps(definition))))
    for _, action, parameters in sdk_calls(definition):
        name = RESOURCE_PARAMETER.get(action.split(":", 1)[1], "")
        static = parameters.get(name)
        targets = sorted(set(re.findall(r"<[A-Za-z0-9]+>", json.dumps(static)))) if static else []
        if action in UNSCOPABLE_ACTIONS:
            job.grant([action], "*")
        elif targets:
            for target in targets:
                job.grant([action], target)
        else:
            job.needs.append((action, "?"))  # chosen at run time: any of the machine's own
            job.may.setdefault(action.lower(), []).extend(touched)
    job.grant(MACHINE_EXTRAS, "*", needed=False)


def _flow_log_job(job: Job, platform: Platform, flow_log: str) -> None:
    group = platform.flow_logs[flow_log].log_group
    if group:
        job.grant(LOG_WRITE, token(group) + ":*")
        for resource in (token(group), token(group) + ":*"):
            job.grant(LOG_WRITE + LOG_READ, resource, needed=False)


def job_of(role: str, platform: Platform, expected: Expectation) -> Job:
    job = Job()
    for user, how in platform.role_users.get(role, []):
        job.names.add(how)
        if how == "task":
            _task_job(job, platform, expected)
        elif how == "execution" and user in platform.tasks:
            _execution_job(job, platform, user)
        elif how == "state-machine" and user in platform.machines:
            _machine_job(job, platform, user)
        elif how == "flow-logs" and user in platform.flow_logs:
            _flow_log_job(job, platform, user)
        elif how in MANAGED_FOR:
            needs, may = MANAGED_FOR[how]
            job.managed_needs += needs
            job.managed_may += needs + may
    return job


# ---------------------------------------------------------------- judging a role


def _grants(statements: list[Statement], action: str, resource: str) -> bool:
    for s in statements:
        if s.effect != "Allow" or s.not_action:
            continue
        acts = any(fnmatchcase(action.lower(), a.lower()) for a in s.actions)
        on = resource == "?" or any(r == "*" or fnmatchcase(resource, r) for r in s.resources)
        if acts and on:
            return True
    return False


def _excess(role: Role, job: Job) -> list[str]:
    found = []
    for s in role.statements:
        if s.effect != "Allow":
            continue
        if s.not_action:
            found.append(f"{role.name}: allows everything but {list(s.actions)}")
            continue
        for action in s.actions:
            may = job.may.get(action.lower(), [])
            for resource in s.resources:
                if resource == "*" and action not in UNSCOPABLE_ACTIONS:
                    found.append(f"{role.name}: {action} on every resource")
                elif not any(fnmatchcase(resource, pattern) for pattern in may):
                    found.append(f"{role.name}: {action} on {resource}: more than its job needs")
    return found


def _trust(role: Role, job: Job) -> list[str]:
    wanted = set().union(*(TRUST.get(name, set()) for name in job.names)) if job.names else set()
    found = []
    allowed = [p for s in role.trusted if s.effect == "Allow" for p in s.principals]
    for principal in allowed:
        if principal not in wanted:
            found.append(f"{role.name}: assumable by {principal}")
    for name in sorted(job.names):
        if TRUST.get(name) and not TRUST[name] & set(allowed):
            found.append(f"{role.name}: its {name} job's service cannot assume it")
    return found


def judge_role(role: Role, platform: Platform, expected: Expectation) -> list[str]:
    job = job_of(role.name, platform, expected)
    if not job.names:
        return [f"{role.name}: no resource of the platform uses it"]
    unknown = sorted(n for n in job.names if n not in TRUST)
    if unknown:
        return [f"{role.name}: used as {unknown}, a job the checkers do not know"]
    if len(job.names) > 1:
        return [f"{role.name}: serves several jobs {sorted(job.names)}"]
    found = _trust(role, job)
    found += [
        f"{role.name}: lacks {action} on {resource}"
        for action, resource in job.needs
        if not _grants(role.statements, action, resource)
    ]
    managed = {arn.removeprefix(MANAGED) for arn in role.managed}
    found += [
        f"{role.name}: lacks the managed policy {m}" for m in job.managed_needs if m not in managed
    ]
    found += [
        f"{role.name}: holds the managed policy {m}" for m in sorted(managed - set(job.managed_may))
    ]
    if "execution" in job.names:
        found += _decrypts_outside_secrets_manager(role)
    return found + _excess(role, job)


def _decrypts_outside_secrets_manager(role: Role) -> list[str]:
    """An execution role decrypts only what Secrets Manager hands it: the key of a service's
    own secret is its owner's, so the role may name any key, but only via Secrets Manager."""
    return [
        f"{role.name}: kms:Decrypt on {list(s.resources)} without kms:ViaService secretsmanager"
        for s in role.statements
        if s.effect == "Allow"
        and any(fnmatchcase("kms:decrypt", a.lower()) for a in s.actions)
        and not any(
            key == "kms:ViaService" and value.startswith("secretsmanager.")
            for _, key, value in s.conditions
        )
    ]


def judge_iam(platform: Platform, expected: Expectation) -> list[str]:
    found = [p for role in platform.roles.values() for p in judge_role(role, platform, expected)]
    for role in sorted(set(platform.role_users) - set(platform.roles)):
        found.append(f"{role}: used as a role but not an IAM role of the platform")
    return found


# ---------------------------------------------------------------- keys


def admits(statements: list[Statement], service: str) -> bool:
    """Whether a key policy lets AWS `service` use the key to encrypt and decrypt."""
    principals = SERVICE_PRINCIPALS[service]
    return all(
        any(
            s.effect == "Allow"
            and set(s.principals) & principals
            and any(fnmatchcase(need, a) for a in s.actions)
            for s in statements
        )
        for need in KEY_USE[service]
    )


def _services_needed(platform: Platform, key: str) -> set[str]:
    needed = set()
    notified = {only_name(action) for alarm in platform.alarms.values() for action in alarm.actions}
    for use in platform.key_uses:
        if use.key == key and use.what == "log group":
            needed |= SERVICE_PRINCIPALS["logs"]
        if use.key == key and use.what == "topic" and use.user in notified:
            needed |= SERVICE_PRINCIPALS["cloudwatch"]
    return needed


def judge_key(platform: Platform, name: str) -> list[str]:
    key = platform.keys[name]
    found = [] if key.rotation else [f"{name}: key rotation is off"]
    needed = _services_needed(platform, name)
    for s in key.statements:
        if s.effect != "Allow":
            continue
        for principal in s.principals:
            if principal in ("*", "aws:*"):
                found.append(f"{name}: grants {principal} {list(s.actions)}")
            elif principal.startswith("aws:") and principal != ACCOUNT_ROOT:
                found.append(f"{name}: grants {principal}, outside the account")
            elif principal.startswith("service:") and principal not in needed:
                found.append(f"{name}: grants {principal}, which none of its uses needs")
    if not any(use.key == name for use in platform.key_uses):
        found.append(f"{name}: encrypts nothing")
    if not any(_limits_grants(s) for s in key.statements):
        found.append(f"{name}: anyone its policy allows may create grants, not only AWS services")
    return found


# A grant outlives the policy that allowed it: only grants an AWS service creates for a resource
# of its own, or a service principal creates, may be made (AWS Control Tower CT.KMS.PR.3).
GRANT_CONDITIONS = {
    ("BoolIfExists", "kms:GrantIsForAWSResource", "false"),
    ("BoolIfExists", "aws:PrincipalIsAWSService", "false"),
}


def _limits_grants(s: Statement) -> bool:
    return (
        s.effect == "Deny"
        and "kms:CreateGrant" in s.actions
        and not s.not_action
        and any(p in ("*", "aws:*") for p in s.principals)
        and set(s.conditions) == GRANT_CONDITIONS
    )


def _data_key(platform: Platform) -> str | None:
    """The key the data is meant to use: the database's, else the one most data uses."""
    data = [use for use in platform.key_uses if use.what in DATA and use.key in platform.keys]
    storage = [use.key for use in data if use.what == "database storage"]
    if storage:
        return storage[0]
    keys = [str(use.key) for use in data]
    return max(sorted(set(keys)), key=keys.count) if keys else None


def judge_key_uses(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    data_key = _data_key(platform)
    notified = {only_name(action) for alarm in platform.alarms.values() for action in alarm.actions}
    for use in sorted(platform.key_uses, key=lambda u: (u.user, u.what)):
        if use.key not in platform.keys:
            if use.what == "database storage" and not platform.clusters[use.user].encrypted:
                found.append(f"{use.user}: storage is not encrypted")
            else:
                found.append(
                    f"{use.user}: not encrypted with a customer key of the platform ({use.what})"
                )
            continue
        statements = platform.keys[use.key].statements
        if use.what == "log group" and not admits(statements, "logs"):
            found.append(
                f"{use.user}: its key {use.key} does not let logs.{{region}}.{{urlsuffix}} use it"
            )
        if use.what == "topic" and use.user in notified and not admits(statements, "cloudwatch"):
            found.append(
                f"{use.user}: its key {use.key} does not let cloudwatch.{{urlsuffix}} use it"
            )
        if use.what in DATA and use.key != data_key:
            found.append(f"{use.user}: encrypted with {use.key}, not the data key {data_key}")
    return found + [p for name in platform.keys for p in judge_key(platform, name)]
