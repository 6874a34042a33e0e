"""How each resource change between two templates is classified: the known cases, how
replacements spread, and the risks (blocked, data loss, widening, disruptive).

Templates are built from specs exactly as `paycompile build` writes them; where no spec edit
reaches a case any more (a security group's description is now static), the built template is
edited the way an older or hand-written template would differ.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

import paycompile
from paycompile.changes.classify import classify
from paycompile.changes.model import Action, Change, Risk
from paycompile.compiler.graph import Kind

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
Template = dict[str, Any]


def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(REFERENCE.read_text(encoding="utf-8"))
    return loaded


def routed(doc: dict[str, Any]) -> dict[str, Any]:
    """The reference spec with two routed services (api on /api/*, web on /web/*)."""
    doc["services"][0]["route"] = {"path": "/api/*"}
    web = {**copy.deepcopy(doc["services"][0]), "name": "web", "route": {"path": "/web/*"}}
    doc["services"].append(web)
    return doc


def build(doc: dict[str, Any], environment: str | None = None) -> Template:
    text = yaml.safe_dump(doc, sort_keys=False)
    spec = paycompile.load_spec_text(text, "platform.yaml", environment)
    template: Template = json.loads(paycompile.render(paycompile.compile_spec(spec), "cfn"))
    return template


def by_id(changes: list[Change]) -> dict[str, Change]:
    return {change.logical_id: change for change in changes}


def props(template: Template, logical_id: str) -> dict[str, Any]:
    found: dict[str, Any] = template["Resources"][logical_id]["Properties"]
    return found


BASE = build(document())


def test_an_unchanged_template_has_no_changes() -> None:
    assert classify(BASE, copy.deepcopy(BASE)) == []


# ---------------------------------------------------------------- the known cases


def test_target_group_port_replaces_without_a_block_and_disrupts_the_live_colour() -> None:
    edited = document()
    edited["services"][0]["port"] = 9090
    changes = by_id(classify(BASE, build(edited)))
    live, idle = changes["ApiBlueTg"], changes["ApiGreenTg"]
    for group in (live, idle):
        assert group.action is Action.REPLACE and "Port" in group.properties
        assert not group.blocked and group.fixed_name is None, "AWS names target groups"
        assert Risk.DATA_LOSS not in group.risks
    # Only the colour the listener weighs 100 serves traffic.
    assert Risk.DISRUPTIVE in live.risks and Risk.DISRUPTIVE not in idle.risks
    # What refers to the groups changes in place: the listener, the services, the cutover.
    for logical_id in ("HttpsListener", "ApiBlueService", "ApiGreenService", "ApiCutover"):
        assert changes[logical_id].action is Action.IN_PLACE, logical_id


def test_a_target_group_with_a_fixed_name_is_blocked() -> None:
    base, head = copy.deepcopy(BASE), copy.deepcopy(BASE)
    for template in (base, head):
        props(template, "ApiBlueTg")["Name"] = "payment-api-blue-dev"
    props(head, "ApiBlueTg")["Port"] = 9090
    group = by_id(classify(base, head))["ApiBlueTg"]
    assert group.action is Action.REPLACE and group.blocked
    assert group.fixed_name == "Name (payment-api-blue-dev)"


def test_security_group_description_replaces_the_group_and_its_rules() -> None:
    head = copy.deepcopy(BASE)
    props(head, "ApiTasksSg")["GroupDescription"] = "Tasks of service api: the ALB on 9090"
    changes = by_id(classify(BASE, head))
    group = changes["ApiTasksSg"]
    assert group.action is Action.REPLACE and "GroupDescription" in group.properties
    assert not group.risks  # no fixed GroupName: CloudFormation names the new group
    # Rules that name the group, on it or from it, are replaced with it; who uses it updates.
    assert changes["ApiFromAlbIngress"].action is Action.REPLACE
    # The database admits the platform's tasks group, which a service's own group leaves alone.
    assert "DbFromTasksIngress" not in changes
    assert changes["ApiBlueService"].action is Action.IN_PLACE
    assert not changes["ApiFromAlbIngress"].risks, "the same rule on a new group widens nothing"


def test_security_group_with_a_fixed_name_is_blocked() -> None:
    base, head = copy.deepcopy(BASE), copy.deepcopy(BASE)
    for template in (base, head):
        props(template, "ApiTasksSg")["GroupName"] = "payment-api-tasks-sg-dev"
    props(head, "ApiTasksSg")["GroupDescription"] = "changed"
    group = by_id(classify(base, head))["ApiTasksSg"]
    assert group.blocked and group.fixed_name == "GroupName (payment-api-tasks-sg-dev)"


def test_database_name_replaces_the_cluster_blocked_with_data_loss() -> None:
    edited = document()
    edited["database"]["database_name"] = "payments2"
    changes = by_id(classify(BASE, build(edited)))
    cluster = changes["DbCluster"]
    assert cluster.action is Action.REPLACE and "DatabaseName" in cluster.properties
    assert {Risk.BLOCKED, Risk.DATA_LOSS, Risk.DISRUPTIVE} <= cluster.risks
    assert cluster.fixed_name == "DBClusterIdentifier (payment-db-dev)"
    # The instances follow the cluster (their identifier is fixed too); nothing else is lost.
    assert changes["DbInstance1"].action is Action.REPLACE and changes["DbInstance1"].blocked
    assert [c.logical_id for c in changes.values() if c.loses_data] == ["DbCluster"]


def test_listener_rule_priority_changes_in_place() -> None:
    base = build(routed(document()))
    head = copy.deepcopy(base)
    props(head, "WebRule")["Priority"] = 50
    changes = classify(base, head)
    assert [(c.logical_id, c.action, c.risks) for c in changes] == [
        ("WebRule", Action.IN_PLACE, frozenset())
    ]


def test_a_new_image_is_a_release_not_a_resource_change() -> None:
    """The image reaches the task definitions through each colour's image parameter: a new spec
    image changes the parameters' defaults, and a deployment gives it to the idle colour."""
    edited = document()
    edited["services"][0]["image"] = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.3"
    assert classify(BASE, build(edited)) == []
    # Another repository: the execution role may pull exactly the cached repository, so its
    # policy names the new one (in place, never a replacement).
    edited["services"][0]["image"] = "public.ecr.aws/nginx/nginx:1.28"
    changes = by_id(classify(BASE, build(edited)))
    assert set(changes) == {"ApiExecutionRolePolicy"}
    assert changes["ApiExecutionRolePolicy"].action is Action.IN_PLACE


def test_task_definition_image_replaces_without_a_block() -> None:
    head = copy.deepcopy(BASE)
    container = props(head, "ApiGreenTask")["ContainerDefinitions"][0]
    container["Image"] = "public.ecr.aws/nginx/nginx:1.28"
    changes = by_id(classify(BASE, head))
    task = changes["ApiGreenTask"]
    assert task.action is Action.REPLACE and "ContainerDefinitions" in task.properties
    assert not task.risks, "a task definition has no name: its replacement is a new revision"
    assert changes["ApiGreenService"].action is Action.IN_PLACE
    assert set(changes) == {"ApiGreenTask", "ApiGreenService"}


# ---------------------------------------------------------------- blocked: priorities


def test_a_rule_taking_a_held_priority_is_blocked() -> None:
    base = build(routed(document()))
    head = copy.deepcopy(base)
    api, web = props(head, "ApiRule"), props(head, "WebRule")
    api["Priority"], web["Priority"] = web["Priority"], api["Priority"]
    changes = by_id(classify(base, head))
    assert changes["ApiRule"].blocked and changes["WebRule"].blocked
    assert "PriorityInUse" in " ".join(changes["WebRule"].reasons)


def test_removing_a_routed_service_leaves_the_other_rules_alone() -> None:
    """Priorities come from each service's own name, so no rule moves into the freed one."""
    doc = routed(document())
    del doc["overrides"]  # it tunes api, which goes
    base = build(doc)
    del doc["services"][0]
    changes = by_id(classify(base, build(doc)))
    assert changes["ApiRule"].action is Action.REMOVE
    assert "WebRule" not in changes


# ---------------------------------------------------------------- data loss and kept


def test_removal_under_retain_is_kept_and_under_delete_is_lost() -> None:
    head = copy.deepcopy(BASE)
    for logical_id in ("BackupVault", "ApiLogGroup", "ApiGreenService"):
        del head["Resources"][logical_id]
    changes = by_id(classify(BASE, head))
    vault, logs = changes["BackupVault"], changes["ApiLogGroup"]
    service = changes["ApiGreenService"]
    assert vault.action is Action.REMOVE and vault.kept and not vault.loses_data
    assert logs.action is Action.REMOVE and not logs.kept and logs.loses_data
    assert not service.loses_data and not service.risks  # removing a service is meant


def test_a_retained_cluster_removal_keeps_a_snapshot_but_loses_the_live_data() -> None:
    prod = build(document(), "prod")
    head = copy.deepcopy(prod)
    del head["Resources"]["DbCluster"]
    cluster = by_id(classify(prod, head))["DbCluster"]
    assert cluster.loses_data and not cluster.kept
    assert any("snapshot" in reason for reason in cluster.reasons)


def test_replacement_under_update_replace_retain_is_kept() -> None:
    head = copy.deepcopy(BASE)
    props(head, "BackupVault")["EncryptionKeyArn"] = "arn:aws:kms:us-east-1:123456789012:key/x"
    vault = by_id(classify(BASE, head))["BackupVault"]
    assert vault.action is Action.REPLACE and vault.kept and not vault.loses_data


def test_a_key_whose_type_changes_is_replaced_and_its_data_lost() -> None:
    head = copy.deepcopy(BASE)
    head["Resources"]["DataKey"]["Type"] = "AWS::KMS::ReplicaKey"
    key = by_id(classify(BASE, head))["DataKey"]
    assert key.action is Action.REPLACE and key.kind is Kind.KMS_KEY and key.loses_data


def test_conditionally_create_only_is_a_possible_replacement() -> None:
    head = copy.deepcopy(BASE)
    props(head, "DbCluster")["Engine"] = "aurora-postgresql"
    cluster = by_id(classify(BASE, head))["DbCluster"]
    assert cluster.action is Action.REPLACE and cluster.loses_data
    assert any("conditionally create-only" in reason for reason in cluster.reasons)


# ---------------------------------------------------------------- widening


def _statements(template: Template, role: str) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = props(template, f"{role}Policy")["PolicyDocument"][
        "Statement"
    ]
    return statements


def test_a_new_action_widens_a_role_and_a_removed_one_does_not() -> None:
    wider, narrower = copy.deepcopy(BASE), copy.deepcopy(BASE)
    _statements(wider, "ApiTaskRole")[0]["Action"].append("ssm:PutParameter")
    _statements(narrower, "ApiTaskRole")[0]["Action"].remove("ssm:GetParameters")
    widened = by_id(classify(BASE, wider))["ApiTaskRolePolicy"]
    assert Risk.WIDENING in widened.risks
    assert any("ssm:PutParameter" in reason for reason in widened.reasons)
    assert by_id(classify(BASE, narrower))["ApiTaskRolePolicy"].risks == frozenset()


def test_a_dropped_condition_widens_and_a_wildcard_covers_its_actions() -> None:
    loose = copy.deepcopy(BASE)
    decrypt = next(s for s in _statements(loose, "ApiTaskRole") if "Condition" in s)
    del decrypt["Condition"]
    assert Risk.WIDENING in by_id(classify(BASE, loose))["ApiTaskRolePolicy"].risks
    wide = copy.deepcopy(BASE)
    _statements(wide, "ApiTaskRole")[0]["Action"] = ["ssm:Get*"]
    narrow = copy.deepcopy(wide)
    _statements(narrow, "ApiTaskRole")[0]["Action"] = ["ssm:GetParameter"]
    assert by_id(classify(wide, narrow))["ApiTaskRolePolicy"].risks == frozenset()
    assert Risk.WIDENING in by_id(classify(narrow, wide))["ApiTaskRolePolicy"].risks


def test_a_dropped_deny_widens_a_bucket_policy() -> None:
    head = copy.deepcopy(BASE)
    statements = props(head, "AlbLogsBucketPolicy")["PolicyDocument"]["Statement"]
    statements[:] = [s for s in statements if s["Effect"] != "Deny"]
    assert Risk.WIDENING in by_id(classify(BASE, head))["AlbLogsBucketPolicy"].risks


def test_security_group_rules_widen_only_when_access_grows() -> None:
    wider, narrower = copy.deepcopy(BASE), copy.deepcopy(BASE)
    props(wider, "ApiFromAlbIngress").update(FromPort=8000, ToPort=8100)
    egress = props(narrower, "ApiTasksSg")["SecurityGroupEgress"]
    egress[:] = [rule for rule in egress if rule["FromPort"] != 443]
    assert Risk.WIDENING in by_id(classify(BASE, wider))["ApiFromAlbIngress"].risks
    assert Risk.WIDENING not in by_id(classify(BASE, narrower))["ApiTasksSg"].risks
    open_db = copy.deepcopy(BASE)
    props(open_db, "DbFromTasksIngress").pop("SourceSecurityGroupId")
    props(open_db, "DbFromTasksIngress")["CidrIp"] = "0.0.0.0/0"
    assert Risk.WIDENING in by_id(classify(BASE, open_db))["DbFromTasksIngress"].risks


def test_a_narrower_cidr_does_not_widen() -> None:
    base, head = copy.deepcopy(BASE), copy.deepcopy(BASE)
    props(head, "AlbHttpsIngress")["CidrIp"] = "10.0.0.0/8"
    assert by_id(classify(base, head))["AlbHttpsIngress"].risks == frozenset()
    assert Risk.WIDENING in by_id(classify(head, base))["AlbHttpsIngress"].risks


# ---------------------------------------------------------------- disruptive


def test_replacing_the_load_balancer_or_the_service_is_disruptive() -> None:
    head = copy.deepcopy(BASE)
    props(head, "Alb")["Scheme"] = "internal"
    props(head, "ApiBlueService")["ServiceName"] = "payment-api-v2-dev"
    props(head, "ApiBlueService")["Role"] = "arn:aws:iam::123456789012:role/x"
    changes = by_id(classify(BASE, head))
    assert Risk.DISRUPTIVE in changes["Alb"].risks
    service = changes["ApiBlueService"]
    assert service.action is Action.REPLACE and Risk.DISRUPTIVE in service.risks
    assert not service.blocked, "a new name is free: the replacement can be created first"
    assert changes["Alb"].kind is Kind.LOAD_BALANCER
