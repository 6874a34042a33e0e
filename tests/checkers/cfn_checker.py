"""An independent checker of emitted CloudFormation templates against the contract's invariants.

It reads only the template (a dict parsed from the emitted JSON) and a few values of the spec
(`Expectation`). It deliberately shares no code with paycompile's compiler or CFN backend, so a
bug there cannot hide itself here; only policy *data* (allowed SSL policies, unscopable actions)
is imported, because that data is the policy being enforced.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # type: ignore[import-untyped]

from paycompile.compiler.security import UNSCOPABLE_ACTIONS
from paycompile.spec.policy import TLS12_SSL_POLICIES
from tests.checkers.cfn_eval import evaluate, parameter_values
from tests.checkers.expectation import Expectation
from tests.checkers.semantic import judge_template

Template = dict[str, Any]
ROTATION_TRANSFORM = "AWS::SecretsManager-2020-07-23"
COLORS = ("blue", "green")
MIN_BACKUP_DAYS = 30
# Tags whose value the spec does not fix but whose presence the contract demands.
DERIVED_TAGS = ("Environment", "Name")
# Top-level `*Name` properties that are not physical resource names.
NOT_PHYSICAL_NAMES = {
    "DatabaseName",  # the schema created inside the cluster; MySQL forbids hyphens in it
    "MetricName",  # a CloudWatch metric, not a resource
    "ServiceName",  # the AWS service a VPC endpoint connects to (com.amazonaws.<region>.<api>)
}
# Nested physical names (the property sits one level down in these types).
NESTED_NAMES = {
    "AWS::Backup::BackupPlan": ("BackupPlan", "BackupPlanName"),
    "AWS::Backup::BackupSelection": ("BackupSelection", "SelectionName"),
}
PATH_NAMES = {("AWS::SSM::Parameter", "Name"), ("AWS::Logs::LogGroup", "LogGroupName")}
SECRETISH_KEY = re.compile(r"password|passwd|secret", re.IGNORECASE)
SECRETISH_ENV = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|API_?KEY", re.IGNORECASE)
# Property names matching SECRETISH_KEY whose literal value is known not to be a secret.
NOT_SECRET_KEYS = {
    "GenerateStringKey",
    "SecretStringTemplate",
    "ExcludeCharacters",
    "PasswordLength",
}
DYNAMIC_SECRET = re.compile(r"^\{\{resolve:secretsmanager:\$\{(?P<secret>[A-Za-z0-9]+)\}:")


# ---------------------------------------------------------------- template helpers


def resources(template: Template, type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template.get("Resources", {}).items() if v.get("Type") == type_name}


def props(resource: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = resource.get("Properties", {})
    return properties


def target(value: Any) -> str | None:
    """The logical id a `Ref` or `Fn::GetAtt` points at, else None."""
    if isinstance(value, dict) and len(value) == 1:
        if "Ref" in value and isinstance(value["Ref"], str):
            return value["Ref"]
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            return str(getatt[0])
        if isinstance(getatt, str):
            return getatt.split(".", 1)[0]
    return None


def getatt(value: Any) -> tuple[str, str] | None:
    """(logical id, attribute) of an `Fn::GetAtt`, else None."""
    if isinstance(value, dict) and isinstance(value.get("Fn::GetAtt"), list):
        logical, attribute = value["Fn::GetAtt"]
        return str(logical), str(attribute)
    return None


def tags_of(resource: dict[str, Any], prop: str = "Tags") -> dict[str, Any] | None:
    """Tags as a dict, whether written as a Key/Value list or as a map; None when absent."""
    raw = props(resource).get(prop)
    if raw is None:
        return None
    if isinstance(raw, dict):
        return dict(raw)
    return {str(item.get("Key")): item.get("Value") for item in raw if isinstance(item, dict)}


def as_text(value: Any) -> str | None:
    """A string value with references written `${Id}`: literal, Fn::Join or Fn::Sub."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else str(sub[0])
    if isinstance(value, dict) and "Fn::Join" in value:
        delimiter, parts = value["Fn::Join"]
        pieces = [as_text(p) if target(p) is None else "${" + str(target(p)) + "}" for p in parts]
        if any(piece is None for piece in pieces):
            return None
        return str(delimiter).join(str(piece) for piece in pieces)
    return None


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, value) below `value`, depth first."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}[{index}]")


def _listify(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _middle(name: Any, expected: Expectation) -> str | None:
    """`<platform>-X-<env>` -> X; None if `name` is not shaped like that."""
    prefix, suffix = f"{expected.platform}-", f"-{expected.environment}"
    if isinstance(name, str) and name.startswith(prefix) and name.endswith(suffix):
        return name[len(prefix) : len(name) - len(suffix)]
    return None


# ---------------------------------------------------------------- network


def _subnet_zone(subnet: dict[str, Any]) -> int | None:
    zone = props(subnet).get("AvailabilityZone")
    if isinstance(zone, dict) and isinstance(zone.get("Fn::Select"), list):
        index, source = zone["Fn::Select"]
        if isinstance(source, dict) and "Fn::GetAZs" in source and isinstance(index, int):
            return index
    return None


def _route_kinds(template: Template) -> dict[str, set[str]]:
    """Route table id -> kinds of its default route targets ('igw', 'nat')."""
    gateways = resources(template, "AWS::EC2::InternetGateway")
    nats = resources(template, "AWS::EC2::NatGateway")
    kinds: dict[str, set[str]] = {}
    for route in resources(template, "AWS::EC2::Route").values():
        p = props(route)
        if p.get("DestinationCidrBlock") != "0.0.0.0/0":
            continue
        table = target(p.get("RouteTableId")) or ""
        if target(p.get("GatewayId")) in gateways:
            kinds.setdefault(table, set()).add("igw")
        if target(p.get("NatGatewayId")) in nats:
            kinds.setdefault(table, set()).add("nat")
    return kinds


def check_network(template: Template, expected: Expectation) -> list[str]:
    problems: list[str] = []
    subnets = resources(template, "AWS::EC2::Subnet")
    kinds = _route_kinds(template)
    routed: dict[str, set[str]] = {name: set() for name in subnets}
    for assoc in resources(template, "AWS::EC2::SubnetRouteTableAssociation").values():
        associated = target(props(assoc).get("SubnetId"))
        if associated in routed:
            routed[associated] |= kinds.get(target(props(assoc).get("RouteTableId")) or "", set())
    zones: dict[str, list[int | None]] = {"igw": [], "nat": []}
    for name, subnet in subnets.items():
        if routed[name] not in ({"igw"}, {"nat"}):
            problems.append(
                f"subnet {name}: default route via {sorted(routed[name])}, not IGW xor NAT"
            )
            continue
        zones[next(iter(routed[name]))].append(_subnet_zone(subnet))
    for kind, label in (("igw", "public"), ("nat", "private")):
        if sorted(zones[kind], key=str) != [0, 1, 2]:
            problems.append(
                f"{label} subnets in AZ indexes {zones[kind]}, expected 0, 1, 2 via GetAZs"
            )
    if len(subnets) != 6:
        problems.append(f"{len(subnets)} subnets, expected 6 (3 public + 3 private)")
    nats = resources(template, "AWS::EC2::NatGateway")
    if len(nats) != expected.nat_gateways:
        problems.append(f"{len(nats)} NAT gateways, spec says {expected.nat_gateways}")
    return problems


# ---------------------------------------------------------------- traffic


def target_groups_by_service(
    template: Template, expected: Expectation
) -> dict[str, dict[str, str]]:
    """Service -> color -> target group id, from each group's Name and DeploymentColor tags."""
    groups: dict[str, dict[str, str]] = {}
    for logical, group in resources(template, "AWS::ElasticLoadBalancingV2::TargetGroup").items():
        tags = tags_of(group) or {}
        middle = _middle(tags.get("Name"), expected) or ""
        service = middle.rsplit("-", 1)[0]  # "<service>-<color>"; service names may hold "-"
        groups.setdefault(service, {})[str(tags.get("DeploymentColor"))] = logical
    return groups


def _forwards(actions: Any) -> set[str]:
    """Target group ids a list of listener actions forwards to (with weight > 0)."""
    found: set[str] = set()
    for action in _listify(actions or []):
        if not isinstance(action, dict) or action.get("Type") != "forward":
            continue
        if action.get("TargetGroupArn") is not None:
            found.add(target(action["TargetGroupArn"]) or "?")
        for item in action.get("ForwardConfig", {}).get("TargetGroups", []):
            if item.get("Weight", 1) > 0:
                found.add(target(item.get("TargetGroupArn")) or "?")
    return found


def _check_https(listener_id: str, listener: dict[str, Any], expected: Expectation) -> list[str]:
    p = props(listener)
    problems = []
    arns = [c.get("CertificateArn") for c in p.get("Certificates", [])]
    if arns != [expected.certificate_arn]:
        problems.append(
            f"{listener_id}: certificates {arns}, expected [{expected.certificate_arn}]"
        )
    if p.get("SslPolicy") not in TLS12_SSL_POLICIES:
        problems.append(f"{listener_id}: SslPolicy {p.get('SslPolicy')!r} allows TLS below 1.2")
    return problems


def _check_http(listener_id: str, listener: dict[str, Any], rules: list[str]) -> list[str]:
    problems = []
    for action in props(listener).get("DefaultActions", []):
        redirect = action.get("RedirectConfig", {})
        if action.get("Type") != "redirect" or redirect.get("Protocol") != "HTTPS":
            problems.append(f"{listener_id}: port 80 does more than redirect to HTTPS: {action}")
        elif str(redirect.get("Port", "443")) != "443":
            problems.append(f"{listener_id}: redirect goes to port {redirect.get('Port')}")
    if rules:
        problems.append(f"{listener_id}: port 80 has listener rules {rules}; it may only redirect")
    return problems


def check_traffic(template: Template, expected: Expectation) -> list[str]:
    problems: list[str] = []
    listeners = resources(template, "AWS::ElasticLoadBalancingV2::Listener")
    rules = resources(template, "AWS::ElasticLoadBalancingV2::ListenerRule")
    rules_of: dict[str, list[str]] = {}
    for rule_id, rule in rules.items():
        rules_of.setdefault(target(props(rule).get("ListenerArn")) or "?", []).append(rule_id)
    https = [k for k, v in listeners.items() if props(v).get("Port") == 443]
    for listener_id, listener in listeners.items():
        port, protocol = props(listener).get("Port"), props(listener).get("Protocol")
        if (port, protocol) == (443, "HTTPS"):
            problems += _check_https(listener_id, listener, expected)
        elif (port, protocol) == (80, "HTTP"):
            problems += _check_http(listener_id, listener, rules_of.get(listener_id, []))
        else:
            problems.append(f"{listener_id}: unexpected listener {protocol} on {port}")
    # One HTTPS listener on each load balancer (a platform past 45 services has several).
    balancers = set(resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer"))
    served = sorted(str(target(props(listeners[k]).get("LoadBalancerArn"))) for k in https)
    if not https or served != sorted(balancers):
        return [*problems, f"{len(https)} HTTPS listeners on 443, expected 1 per load balancer"]
    forwarded: set[str] = set()
    for listener_id in https:
        forwarded |= _forwards(props(listeners[listener_id]).get("DefaultActions"))
        for rule_id in rules_of.get(listener_id, []):
            forwarded |= _forwards(props(rules[rule_id]).get("Actions"))
    return problems + _check_colors(template, expected, forwarded)


def _check_colors(template: Template, expected: Expectation, forwarded: set[str]) -> list[str]:
    problems = []
    groups = target_groups_by_service(template, expected)
    for service, active in sorted(expected.services.items()):
        colors = groups.get(service, {})
        if sorted(colors) != sorted(COLORS):
            problems.append(f"service {service}: target groups colored {sorted(colors)}, need both")
            continue
        if colors[active] not in forwarded:
            problems.append(f"service {service}: HTTPS listener does not forward to {active} group")
        inactive = colors["green" if active == "blue" else "blue"]
        if inactive in forwarded:
            problems.append(f"service {service}: HTTPS listener forwards to inactive {inactive}")
    for extra in sorted(set(groups) - set(expected.services)):
        problems.append(f"target groups {sorted(groups[extra].values())} belong to no service")
    return problems


# ---------------------------------------------------------------- services


ROOT_USERS = {"0", "root", "0:0", "root:root"}


def _by_service_and_color(template: Template) -> dict[str, dict[str, str]]:
    """Service -> color -> ECS service id, from each ECS service's Service/DeploymentColor tags."""
    found: dict[str, dict[str, str]] = {}
    for logical, service in resources(template, "AWS::ECS::Service").items():
        tags = tags_of(service) or {}
        found.setdefault(str(tags.get("Service")), {})[str(tags.get("DeploymentColor"))] = logical
    return found


# Pseudo parameters as the expectation writes them.
_PSEUDO_TEXT = {
    "AWS::AccountId": "{account}",
    "AWS::Region": "{region}",
    "AWS::URLSuffix": "{urlsuffix}",
    "AWS::Partition": "{partition}",
}


def _text(value: Any, parameters: dict[str, str]) -> Any:
    """A string joined with Fn::Join from literals and pseudo parameters, as text with the
    pseudo parameters as placeholders (anything else as it is)."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        texts = [_text(part, parameters) for part in parts]
        return separator.join(texts) if all(isinstance(t, str) for t in texts) else value
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return _PSEUDO_TEXT.get(value["Ref"], value)
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        text = value["Fn::Sub"]
        for name, placeholder in {**_PSEUDO_TEXT, **parameters}.items():
            text = text.replace("${" + name + "}", placeholder)
        return text if "${" not in text else value
    return value


def _check_container(
    task_id: str, task: dict[str, Any], image: str, parameters: dict[str, str]
) -> list[str]:
    problems = []
    containers = props(task).get("ContainerDefinitions", [])
    if len(containers) != 1:
        return [f"{task_id}: {len(containers)} containers, expected 1"]
    container = containers[0]
    if _text(container.get("Image"), parameters) != image:
        problems.append(f"{task_id}: image {container.get('Image')!r}, spec says {image!r}")
    if str(container.get("User", "0")) in ROOT_USERS:
        problems.append(f"{task_id}: the container runs as root")
    if container.get("ReadonlyRootFilesystem") is not True:
        problems.append(f"{task_id}: the root filesystem is writable")
    if not isinstance(container.get("Memory"), int):
        problems.append(f"{task_id}: the container has no memory limit")
    return problems


def check_services(template: Template, expected: Expectation) -> list[str]:
    """Per service, a blue and a green ECS service behind their own target groups, the live one
    running the spec's count and the idle one none (or as many when kept warm)."""
    problems = []
    groups = target_groups_by_service(template, expected)
    found = _by_service_and_color(template)
    tasks = resources(template, "AWS::ECS::TaskDefinition")
    for service, live in sorted(expected.services.items()):
        colors = found.get(service, {})
        if sorted(colors) != sorted(COLORS):
            problems.append(f"service {service}: ECS services colored {sorted(colors)}")
            continue
        image, count, idle = expected.workloads.get(service, ("?", 0, 0))
        for color, logical in colors.items():
            p = props(template["Resources"][logical])
            group = target(_listify(p.get("LoadBalancers") or [{}])[0].get("TargetGroupArn"))
            if group != groups.get(service, {}).get(color):
                problems.append(f"{logical}: behind {group}, not the {color} target group")
            wanted = count if color == live else idle
            if p.get("DesiredCount") != wanted:
                problems.append(f"{logical}: {p.get('DesiredCount')} tasks, {wanted} wanted")
            task_id = target(p.get("TaskDefinition")) or "?"
            if task_id not in tasks:
                problems.append(f"{logical}: no task definition of the template")
                continue
            problems += _check_container(task_id, tasks[task_id], image, parameter_values(template))
    return problems


# ---------------------------------------------------------------- secrets and database


def _in_tag_map(path: str) -> bool:
    """Whether `path` names an entry of a map of tags (`BackupPlanTags.<key>`, SSM's `Tags`)."""
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    return parent.rsplit(".", 1)[-1].endswith("Tags")


def _literal_secrets(template: Template) -> list[str]:
    problems = []
    for logical, resource in template.get("Resources", {}).items():
        for path, value in walk(props(resource)):
            key = path.rsplit(".", 1)[-1].split("[", 1)[0]
            if _in_tag_map(path):
                continue  # a tag's key is the user's word, not a property name
            literal = isinstance(value, str | int | float) and not isinstance(value, bool)
            secret_named = SECRETISH_KEY.search(key) and key not in NOT_SECRET_KEYS
            if literal and secret_named and not str(value).startswith("{{resolve:"):
                problems.append(f"{logical}.{path}: literal value in a secret-named property")
            in_environment = path.rsplit(".", 1)[-1].startswith("Environment[")
            if in_environment and isinstance(value, dict) and "Name" in value:
                name = value["Name"]
                if isinstance(name, str) and SECRETISH_ENV.search(name):
                    problems.append(f"{logical}.{path}: plain variable {name} looks like a secret")
    return problems


def check_secrets(template: Template, expected: Expectation) -> list[str]:
    problems = _literal_secrets(template)
    secrets = resources(template, "AWS::SecretsManager::Secret")
    clusters = resources(template, "AWS::RDS::DBCluster")
    used: set[str] = set()
    for cluster_id, cluster in clusters.items():
        text = as_text(props(cluster).get("MasterUserPassword")) or ""
        match = DYNAMIC_SECRET.match(text)
        if not match or match.group("secret") not in secrets:
            problems.append(
                f"{cluster_id}: MasterUserPassword is not a dynamic reference to a Secret"
            )
        else:
            used.add(match.group("secret"))
    problems += _check_rotation(template, expected, used)
    transform = _listify(template.get("Transform", []))
    if ROTATION_TRANSFORM not in transform:
        problems.append(f"Transform {transform} lacks {ROTATION_TRANSFORM} (hosted rotation)")
    return problems


def _check_rotation(template: Template, expected: Expectation, secrets: set[str]) -> list[str]:
    problems = []
    schedules = resources(template, "AWS::SecretsManager::RotationSchedule")
    rotated = {target(props(s).get("SecretId")): (k, props(s)) for k, s in schedules.items()}
    for secret in sorted(secrets):
        if secret not in rotated:
            problems.append(f"secret {secret}: no RotationSchedule")
            continue
        schedule_id, p = rotated[secret]
        days = p.get("RotationRules", {}).get("AutomaticallyAfterDays")
        if not isinstance(days, int) or not 1 <= days <= expected.rotation_days:
            problems.append(
                f"{schedule_id}: rotates after {days} days, spec says {expected.rotation_days}"
            )
        if "HostedRotationLambda" not in p:
            problems.append(f"{schedule_id}: no HostedRotationLambda")
        if isinstance(p.get("RotationLambdaARN"), str):
            problems.append(f"{schedule_id}: literal RotationLambdaARN {p['RotationLambdaARN']}")
    return problems


def _check_lifecycle(cluster_id: str, cluster: dict[str, Any], lifecycle: str) -> list[str]:
    policy, protection = ("Delete", False) if lifecycle == "ephemeral" else ("Snapshot", True)
    problems = []
    if cluster.get("DeletionPolicy") != policy:
        problems.append(
            f"{cluster_id}: DeletionPolicy {cluster.get('DeletionPolicy')}, "
            f"{lifecycle} needs {policy}"
        )
    if props(cluster).get("DeletionProtection") is not protection:
        problems.append(f"{cluster_id}: DeletionProtection must be {protection} when {lifecycle}")
    return problems


def check_database(template: Template, expected: Expectation) -> list[str]:
    clusters = resources(template, "AWS::RDS::DBCluster")
    if len(clusters) != 1:
        return [f"{len(clusters)} DB clusters, expected 1"]
    cluster_id, cluster = next(iter(clusters.items()))
    p = props(cluster)
    wanted = {"Engine": "aurora-mysql", "EngineMode": "provisioned", "StorageEncrypted": True}
    problems = [
        f"{cluster_id}: {k} is {p.get(k)!r}, expected {v!r}"
        for k, v in wanted.items()
        if p.get(k) != v
    ]
    scaling = p.get("ServerlessV2ScalingConfiguration", {})
    if not {"MinCapacity", "MaxCapacity"} <= set(scaling):
        problems.append(f"{cluster_id}: no ServerlessV2ScalingConfiguration")
    if not p.get("KmsKeyId"):
        problems.append(f"{cluster_id}: no customer KmsKeyId")
    problems += _check_lifecycle(cluster_id, cluster, expected.lifecycle)
    instances = resources(template, "AWS::RDS::DBInstance")
    if not instances:
        problems.append("no DB instances")
    for instance_id, instance in instances.items():
        q = props(instance)
        if q.get("DBInstanceClass") != "db.serverless" or q.get("PubliclyAccessible") is not False:
            problems.append(f"{instance_id}: must be db.serverless and PubliclyAccessible false")
        if target(q.get("DBClusterIdentifier")) != cluster_id:
            problems.append(f"{instance_id}: not in cluster {cluster_id}")
    return problems


# ---------------------------------------------------------------- governance


@cache
def tag_property(region: str, type_name: str) -> str | None:
    """The property a resource type takes its tags in, per cfn-lint's provider schemas."""
    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(region, type_name).schema
    except Exception:  # a type unknown in this region: fall back to the primary region
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", type_name).schema
    tagging = schema.get("tagging", {})
    if tagging.get("taggable") is False:
        return None
    if tagging.get("tagProperty"):
        return str(tagging["tagProperty"]).rsplit("/", 1)[-1]
    # Older schemas lack `tagging`; a `*Tags` array or map is the tag property there.
    for name, spec in schema.get("properties", {}).items():
        if name.endswith("Tags") and spec.get("type") not in ("string", "boolean"):
            return str(name)
    return None


def check_tags(template: Template, expected: Expectation) -> list[str]:
    problems = []
    wanted = {**expected.tags, "Environment": expected.environment}
    for logical, resource in template.get("Resources", {}).items():
        prop = tag_property(expected.region, resource["Type"])
        if prop is None:
            continue
        tags = tags_of(resource, prop)
        if tags is None:
            problems.append(f"{logical} ({resource['Type']}): taggable but has no {prop}")
            continue
        for key in [*DERIVED_TAGS, *wanted]:
            if not tags.get(key) or (key in wanted and tags[key] != wanted[key]):
                problems.append(
                    f"{logical}: tag {key}={tags.get(key)!r}, expected {wanted.get(key, 'set')!r}"
                )
    return problems


def _policy_documents(template: Template) -> Iterator[tuple[str, bool, dict[str, Any]]]:
    """(where, is_identity_policy, document) for every policy document in the template."""
    identity_types = {"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}
    for logical, resource in template.get("Resources", {}).items():
        for path, value in walk(props(resource)):
            if isinstance(value, dict) and isinstance(value.get("Statement"), list | dict):
                identity = resource["Type"] in identity_types and "AssumeRolePolicy" not in path
                yield f"{logical}.{path}", identity, value


def check_iam(template: Template, expected: Expectation) -> list[str]:
    problems = []
    for where, identity, document in _policy_documents(template):
        for statement in _listify(document["Statement"]):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement:
                problems.append(f"{where}: Allow with NotAction")
            actions = [a for a in _listify(statement.get("Action", [])) if isinstance(a, str)]
            wild = [a for a in actions if "*" in a]
            if wild:
                problems.append(f"{where}: wildcard actions {wild} in an Allow statement")
            if identity and "*" in _listify(statement.get("Resource", [])):
                unscoped = [a for a in actions if a not in UNSCOPABLE_ACTIONS]
                if unscoped:
                    problems.append(f"{where}: Resource '*' for scopable actions {unscoped}")
    return problems


def _physical_names(template: Template) -> Iterator[tuple[str, str, str, Any]]:
    """(logical id, type, property, value) of every physical-name-like property."""
    for logical, resource in template.get("Resources", {}).items():
        type_name = resource["Type"]
        for key, value in props(resource).items():
            if key.endswith(("Name", "Identifier")) and key not in NOT_PHYSICAL_NAMES:
                yield logical, type_name, key, value
        if type_name == "AWS::ECS::TaskDefinition" and "Family" in props(resource):
            yield logical, type_name, "Family", props(resource)["Family"]
        if type_name in NESTED_NAMES:
            outer, inner = NESTED_NAMES[type_name]
            yield logical, type_name, f"{outer}.{inner}", props(resource).get(outer, {}).get(inner)


def check_names(template: Template, expected: Expectation) -> list[str]:
    problems = []
    env = expected.environment
    for logical, type_name, key, value in _physical_names(template):
        if not isinstance(value, str):
            continue  # a Ref/GetAtt to a resource that is itself checked
        if (type_name, key) in PATH_NAMES or value.startswith("/"):
            segments = value.strip("/").split("/")
            if not any(s == env or s.endswith(f"-{env}") for s in segments):
                problems.append(f"{logical}.{key}: path {value!r} has no segment for {env!r}")
        elif _middle(value, expected) is None:
            problems.append(f"{logical}.{key}: {value!r} is not <{expected.platform}>-...-<{env}>")
    return problems


# ---------------------------------------------------------------- outputs


def _exported(template: Template, expected: Expectation) -> tuple[list[str], list[Any]]:
    problems, values = [], []
    prefix = f"{expected.platform}-{expected.environment}-"
    for name, output in template.get("Outputs", {}).items():
        export = output.get("Export", {}).get("Name")
        if not isinstance(export, str):
            problems.append(f"output {name}: no literal Export name")
            continue
        if not export.startswith(prefix):
            problems.append(f"output {name}: export {export!r} does not start with {prefix!r}")
        values.append(output.get("Value"))
    return problems, values


EXPORTED_TYPES = (
    "AWS::EC2::VPC",
    "AWS::EC2::Subnet",
    "AWS::EC2::SecurityGroup",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::ECS::Cluster",
    "AWS::ECS::Service",
    "AWS::SecretsManager::Secret",
    "AWS::StepFunctions::StateMachine",
)


def check_outputs(template: Template, expected: Expectation) -> list[str]:
    problems, values = _exported(template, expected)
    direct = {target(value) for value in values}
    for type_name in EXPORTED_TYPES:
        for logical in resources(template, type_name):
            if logical not in direct:
                problems.append(f"{logical} ({type_name}) has no exported output")
    attributes = {getatt(value) for value in values}
    for logical in resources(template, "AWS::RDS::DBCluster"):
        for attribute in ("DBClusterArn", "Endpoint.Address"):
            if (logical, attribute) not in attributes:
                problems.append(f"{logical}: {attribute} is not exported")
    return problems


# ---------------------------------------------------------------- operations


def _dashboard_namespaces(body: str) -> set[str]:
    namespaces = set()
    for widget in json.loads(body).get("widgets", []):
        for metric in widget.get("properties", {}).get("metrics", []):
            if metric and isinstance(metric[0], str):
                namespaces.add(metric[0])
    return namespaces


def check_dashboard(template: Template, expected: Expectation) -> list[str]:
    dashboards = resources(template, "AWS::CloudWatch::Dashboard")
    if not dashboards:
        return ["no CloudWatch dashboard"]
    found: set[str] = set()
    for dashboard in dashboards.values():
        body = as_text(props(dashboard).get("DashboardBody"))
        try:
            found |= _dashboard_namespaces(body or "")
        except (ValueError, AttributeError):
            return [f"dashboard body is not JSON: {body!r:.80}"]
    missing = {"AWS/ECS", "AWS/RDS", "AWS/ApplicationELB"} - found
    return [f"dashboard lacks {sorted(missing)} metrics"] if missing else []


def _alarm_metrics(alarm: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of a plain or metric-math alarm."""
    p = props(alarm)
    if "MetricName" in p:
        yield p.get("Namespace", ""), p["MetricName"], _dimensions(p.get("Dimensions", []))
    for query in p.get("Metrics", []):
        metric = query.get("MetricStat", {}).get("Metric", {})
        if metric:
            dims = _dimensions(metric.get("Dimensions", []))
            yield metric.get("Namespace", ""), metric.get("MetricName", ""), dims


def _dimensions(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {str(item.get("Name")): item.get("Value") for item in items}


def check_alarms(template: Template, expected: Expectation) -> list[str]:
    metrics = [
        m
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        for m in _alarm_metrics(alarm)
    ]
    problems = []
    for service_id in resources(template, "AWS::ECS::Service"):
        for name in ("CPUUtilization", "MemoryUtilization"):
            if not any(
                ns == "AWS/ECS" and m == name and target(d.get("ServiceName")) == service_id
                for ns, m, d in metrics
            ):
                problems.append(f"{service_id}: no AWS/ECS {name} alarm")
    names = {m for _, m, _ in metrics}
    if "DatabaseConnections" not in names:
        problems.append("no DatabaseConnections alarm")
    if not any("5XX" in name.upper() for name in names):
        problems.append("no 5XX alarm")
    if "UnHealthyHostCount" not in names:
        problems.append("no UnHealthyHostCount alarm")
    return problems


def check_backup(template: Template, expected: Expectation) -> list[str]:
    vaults = resources(template, "AWS::Backup::BackupVault")
    plans = resources(template, "AWS::Backup::BackupPlan")
    selections = resources(template, "AWS::Backup::BackupSelection")
    problems = [
        f"no {label}"
        for label, found in (
            ("backup vault", vaults),
            ("backup plan", plans),
            ("backup selection", selections),
        )
        if not found
    ]
    for plan_id, plan in plans.items():
        for rule in props(plan).get("BackupPlan", {}).get("BackupPlanRule", []):
            days = rule.get("Lifecycle", {}).get("DeleteAfterDays")
            if not isinstance(days, int) or days < MIN_BACKUP_DAYS:
                problems.append(
                    f"{plan_id}: rule {rule.get('RuleName')} keeps backups {days} days (< 30)"
                )
    for vault_id, vault in vaults.items():
        if not props(vault).get("EncryptionKeyArn"):
            problems.append(f"{vault_id}: no KMS EncryptionKeyArn")
    clusters = set(resources(template, "AWS::RDS::DBCluster"))
    selected = {
        target(r)
        for s in selections.values()
        for r in props(s).get("BackupSelection", {}).get("Resources", [])
    }
    if clusters - selected:
        problems.append(f"backup selections do not cover {sorted(clusters - selected)}")
    return problems


def check_references(template: Template, expected: Expectation) -> list[str]:
    """Every Ref/GetAtt names a resource of the template (or a pseudo parameter)."""
    known = set(template.get("Resources", {}))
    problems = []
    for path, value in walk(
        {"Resources": template.get("Resources", {}), "Outputs": template.get("Outputs", {})}
    ):
        logical = target(value)
        if logical and not logical.startswith("AWS::") and logical not in known:
            problems.append(f"{path}: reference to missing resource {logical}")
    return problems


CHECKS: tuple[Callable[[Template, Expectation], list[str]], ...] = (
    check_references,
    check_network,
    check_traffic,
    check_services,
    check_secrets,
    check_database,
    check_tags,
    check_iam,
    check_names,
    check_outputs,
    check_dashboard,
    check_alarms,
    check_backup,
)


# What depends on which colour is live: checked again with every service's colour flipped.
LIVE_STATE_CHECKS: tuple[Callable[[Template, Expectation], list[str]], ...] = (
    check_traffic,
    check_services,
)


def live_color_parameters(template: Template) -> dict[str, str]:
    """Service -> the parameter its recorded live colour (its SSM `active-color`) comes from."""
    found = {}
    for parameter in resources(template, "AWS::SSM::Parameter").values():
        name, value = props(parameter).get("Name"), props(parameter).get("Value")
        match = re.fullmatch(r"/[^/]+/[^/]+/services/(?P<service>[^/]+)/active-color", str(name))
        if match and isinstance(value, dict) and isinstance(value.get("Ref"), str):
            found[match["service"]] = value["Ref"]
    return found


def check_template(template: Template, expected: Expectation) -> list[str]:
    """Every violation of the contract's invariants found in `template`; empty when compliant.

    The template is judged as CloudFormation would deploy it: once with its parameters' defaults
    (a new platform, the spec's colours live), and once more, for what depends on the live
    colour, with every service's live-colour parameter flipped (a deployment after a cutover).
    The structural checks here come first; the semantic judges (semantic.py) follow.
    """
    problems = [problem for check in CHECKS for problem in check(evaluate(template), expected)]
    parameters = live_color_parameters(template)
    missing = sorted(set(expected.services) - set(parameters))
    problems += [f"service {name}: no parameter carries its live colour" for name in missing]
    flipped = {
        service: "green" if color == "blue" else "blue"
        for service, color in expected.services.items()
        if service in parameters
    }
    after_cutover = evaluate(template, {parameters[s]: color for s, color in flipped.items()})
    problems += [
        f"after a cutover: {problem}"
        for check in LIVE_STATE_CHECKS
        for problem in check(after_cutover, expected.with_live(flipped))
    ]
    return problems + judge_template(template, expected)
