"""The rule registry: every invariant holds on valid specs, and every rule can fail.

Each breaking case damages a freshly built graph in the way its rule guards against (most
of them replay a seed failure F1..F19) and checks that this rule, and no other, reports it.
"""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from strategies import GeneratedSpec, valid_specs

import paycompile
from paycompile.compiler.compile import build_graph
from paycompile.compiler.graph import Graph, Json, Kind, Node, Output, Ref
from paycompile.compiler.rules import RULES, run_rules, violations
from paycompile.spec.model import PlatformSpec

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
RULES_DOC = ROOT / "docs" / "rules.md"
SEED_FAILURES = {f"F{n}" for n in range(1, 20)}
# The invariants contract section 2 lists without a seed failure.
UNSEEDED = {
    "PAY-NET-003",
    "PAY-NET-004",
    "PAY-NET-005",
    "PAY-SEC-001",
    "PAY-SEC-002",
    "PAY-SEC-005",
    "PAY-SEC-006",
    "PAY-SEC-007",
    "PAY-WAF-001",
    "PAY-DB-002",
    "PAY-DB-004",
    "PAY-OPS-006",
    "PAY-OPS-007",
}
# F7's rotation function: a name AWS never deployed in any account.
MADE_UP_LAMBDA = "arn:aws:lambda:us-east-1:aws:function:SecretsManagerRDSMySQLRotationSingleUser"
# v4.0 numbers reach four levels (10.2.1.1: audit logs capture all access to cardholder data).
PCI_REQUIREMENT = re.compile(r"^\d{1,2}(\.\d{1,2}){1,3}$")


@cache
def reference_spec(environment: str) -> PlatformSpec:
    return paycompile.load_spec(REFERENCE, environment)


def fresh(environment: str = "dev") -> Graph:
    return build_graph(reference_spec(environment))


def failing(graph: Graph) -> set[str]:
    return {rule_id for rule_id, found in run_rules(graph).items() if found}


# --- the registry --------------------------------------------------------------------------


def test_every_rule_is_well_formed() -> None:
    documented = set(re.findall(r"^\| (PAY-[A-Z]{2,3}-\d{3}) \|", RULES_DOC.read_text(), re.M))
    assert documented == set(RULES)
    for rule_id, registered in RULES.items():
        assert registered.id == rule_id
        assert re.fullmatch(r"PAY-[A-Z]{2,3}-\d{3}", rule_id)
        assert registered.statement.strip() and "\n" not in registered.statement
        assert set(registered.seed_failures) <= SEED_FAILURES
        assert bool(registered.seed_failures) or rule_id in UNSEEDED, rule_id
        assert registered.pci_dss and all(PCI_REQUIREMENT.match(r) for r in registered.pci_dss)


def test_every_seed_failure_is_covered() -> None:
    covered = {failure for registered in RULES.values() for failure in registered.seed_failures}
    assert covered == SEED_FAILURES


def test_the_docs_list_every_rule() -> None:
    text = RULES_DOC.read_text()
    for registered in RULES.values():
        row = next(line for line in text.splitlines() if line.startswith(f"| {registered.id} |"))
        assert html.escape(registered.statement, quote=False) in row
        assert all(failure in row for failure in registered.seed_failures)
        assert all(requirement in row for requirement in registered.pci_dss)


# --- the rules hold ------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_rule_holds_on_the_reference_spec(environment: str) -> None:
    assert violations(fresh(environment)) == []


def test_the_reference_spec_compiles() -> None:
    assert paycompile.compile_spec(reference_spec("prod")).environment == "prod"


def test_spec_parameters_and_rotation_reach_the_graph() -> None:
    # What the rules cannot see (the graph does not keep the spec): the values the spec asked
    # for arrive in the nodes the rules check.
    for environment in ("dev", "prod"):
        spec, graph = reference_spec(environment), fresh(environment)
        names = {node.name: node.props["value"] for node in graph.of_kind(Kind.SSM_PARAMETER)}
        for key, value in spec.parameters.items():
            assert names[f"/{spec.name}/{environment}/{key}"] == value
        (rotation,) = graph.of_kind(Kind.SECRET_ROTATION)
        assert rotation.props["days"] == spec.database.secret_rotation_days


@given(generated=valid_specs())
def test_every_rule_holds_on_every_valid_spec(generated: GeneratedSpec) -> None:
    spec = paycompile.load_spec_text(generated.text, environment=generated.environment)
    assert violations(build_graph(spec)) == []


# --- every rule can fail -------------------------------------------------------------------

# A breaker mutates the graph in place; whatever it returns is ignored.
Breaker = Callable[[Graph], object]


def props(graph: Graph, logical_id: str, **changes: object) -> None:
    graph[logical_id].props.update(changes)


def drop(graph: Graph, *logical_ids: str) -> None:
    for logical_id in logical_ids:
        del graph.nodes[logical_id]


def clone(graph: Graph, logical_id: str, new_id: str) -> Node:
    node = copy.deepcopy(graph[logical_id])
    node.logical_id = new_id
    return graph.add(node)


def remove_state(graph: Graph) -> None:
    definition = graph["ApiCutover"].props["definition"].value
    del definition["States"]["RollBack"]
    del definition["States"]["PerformTrafficSwitch"]["Catch"]


def dashboard_without_rds(graph: Graph) -> None:
    body = graph["Dashboard"].props["body"].value
    widgets = [w for w in body["widgets"] if w["properties"]["metrics"][0][0] != "AWS/RDS"]
    graph["Dashboard"].props["body"] = Json({"widgets": widgets})


def unprefixed_export(graph: Graph) -> None:
    output = next(o for o in graph.outputs if o.name == "VpcId")
    graph.outputs[graph.outputs.index(output)] = Output(
        output.name, output.value, output.description, "VpcId"
    )


def role_statement(graph: Graph, action: str, resource: object) -> None:
    statement = {"Sid": "TooMuch", "Effect": "Allow", "Action": [action], "Resource": resource}
    graph["ApiTaskRolePolicy"].props["statements"].append(statement)


def rename(graph: Graph, logical_id: str, name: str) -> None:
    graph[logical_id].name = name
    graph[logical_id].tags["Name"] = name


def move_parameter(graph: Graph, logical_id: str, name: str) -> None:
    rename(graph, logical_id, name)
    props(graph, logical_id, parameter_name=name)


BREAKS: dict[str, tuple[str, str, Breaker]] = {
    # F1: two zones only.
    "two zones": ("PAY-NET-001", "dev", lambda g: props(g, "PrivateSubnet3", zone_index=1)),
    "overlapping subnets": (
        "PAY-NET-001",
        "dev",
        lambda g: props(g, "PrivateSubnet1", cidr=g["PublicSubnet1"].props["cidr"]),
    ),
    # F16: NAT gateways neither 1 nor 3, and private routes that bypass them.
    "two NAT gateways": ("PAY-NET-002", "dev", lambda g: clone(g, "Nat1", "Nat2")),
    "private route via IGW": (
        "PAY-NET-002",
        "dev",
        lambda g: props(g, "PrivateRoutes1", default_route={"gateway": Ref("Igw")}),
    ),
    # Tasks open HTTPS anywhere with no reason, and an endpoint gone (PAY-NET-004).
    "tasks reach 443 anywhere without a reason": (
        "PAY-NET-004",
        "dev",
        lambda g: props(
            g,
            "ApiTasksSg",
            egress=[
                *g["ApiTasksSg"].props["egress"],
                {"protocol": "tcp", "port": 443, "peer": "0.0.0.0/0", "description": "x"},
            ],
        ),
    ),
    # A task pulls from a cache prefix no rule serves (PAY-NET-005).
    "no pull-through cache rule": ("PAY-NET-005", "dev", lambda g: drop(g, "ImageCacheRule")),
    "no logs endpoint": ("PAY-NET-004", "dev", lambda g: drop(g, "EndpointLogs")),
    # The WAF: off the load balancer, a managed group dropped, unredacted logs (PAY-WAF-001).
    "no web ACL on the ALB": ("PAY-WAF-001", "dev", lambda g: drop(g, "WafAssociation")),
    "no SQL injection rules": (
        "PAY-WAF-001",
        "dev",
        lambda g: props(
            g,
            "Waf",
            managed_rule_groups=[
                group
                for group in g["Waf"].props["managed_rule_groups"]
                if group["name"] != "AWSManagedRulesSQLiRuleSet"
            ],
        ),
    ),
    "WAF logs keep the cookie": (
        "PAY-WAF-001",
        "dev",
        lambda g: props(g, "WafLogging", redacted_headers=["authorization"]),
    ),
    "flow log of accepted traffic only": (
        "PAY-NET-003",
        "dev",
        lambda g: props(g, "VpcFlowLog", traffic="ACCEPT"),
    ),
    "requested flow log missing": ("PAY-NET-003", "dev", lambda g: g.nodes.pop("VpcFlowLog")),
    "flow log of one subnet only": (
        "PAY-NET-003",
        "dev",
        lambda g: props(g, "VpcFlowLog", vpc=Ref("PublicSubnet1")),
    ),
    # F8: a TLS 1.0 policy, no certificate.
    "TLS 1.0 policy": (
        "PAY-TLS-001",
        "dev",
        lambda g: props(g, "HttpsListener", ssl_policy="ELBSecurityPolicy-2016-08"),
    ),
    "no certificate": (
        "PAY-TLS-001",
        "dev",
        lambda g: props(g, "HttpsListener", certificate_arn=None),
    ),
    "port 80 serves traffic": (
        "PAY-TLS-002",
        "dev",
        lambda g: props(g, "HttpListener", default_action={"forward": Ref("ApiBlueTg", "arn")}),
    ),
    "plain listener on 8080": ("PAY-TLS-002", "dev", lambda g: props(g, "HttpListener", port=8080)),
    # F2: one color only, and traffic sent to the idle color.
    "two blue target groups": (
        "PAY-DEP-001",
        "dev",
        lambda g: g["ApiGreenTg"].tags.update(DeploymentColor="blue"),
    ),
    "listener forwards to the idle color": (
        "PAY-DEP-001",
        "dev",
        lambda g: props(g, "HttpsListener", default_action={"forward": Ref("ApiGreenTg", "arn")}),
    ),
    "database open to the internet": (
        "PAY-SEC-001",
        "dev",
        lambda g: props(g, "DbFromTasksIngress", peer="0.0.0.0/0"),
    ),
    "tasks accept SSH": ("PAY-SEC-001", "dev", lambda g: props(g, "ApiFromAlbIngress", port=22)),
    "ALB accepts 8443": ("PAY-SEC-001", "dev", lambda g: props(g, "AlbHttpsIngress", port=8443)),
    "tasks with public IPs": (
        "PAY-SEC-002",
        "dev",
        lambda g: props(g, "ApiBlueService", assign_public_ip=True),
    ),
    "container as root": (
        "PAY-SEC-005",
        "dev",
        lambda g: g["ApiBlueTask"].props.update(user="0:0"),
    ),
    "writable root filesystem": (
        "PAY-SEC-005",
        "dev",
        lambda g: g["ApiGreenTask"].props.update(read_only_root_filesystem=False),
    ),
    "no container memory limit": (
        "PAY-SEC-005",
        "dev",
        lambda g: g["ApiGreenTask"].props.pop("memory_limit"),
    ),
    "tasks in public subnets": (
        "PAY-SEC-002",
        "dev",
        lambda g: props(g, "ApiGreenService", subnets=[Ref(f"PublicSubnet{n}") for n in (1, 2, 3)]),
    ),
    # F4: plain MySQL on a provisioned instance class.
    "plain mysql engine": ("PAY-DB-001", "dev", lambda g: props(g, "DbCluster", engine="mysql")),
    "db.t3.medium instance": (
        "PAY-DB-001",
        "dev",
        lambda g: props(g, "DbInstance1", instance_class="db.t3.medium"),
    ),
    "unencrypted storage": (
        "PAY-DB-002",
        "dev",
        lambda g: props(g, "DbCluster", storage_encrypted=False),
    ),
    "AWS managed key": (
        "PAY-DB-002",
        "dev",
        lambda g: props(g, "DbCluster", kms_key="alias/aws/rds"),
    ),
    "public instance": (
        "PAY-DB-002",
        "dev",
        lambda g: props(g, "DbInstance2", publicly_accessible=True),
    ),
    # F5: an ephemeral stack that keeps a final snapshot; a retained one that deletes data.
    "ephemeral keeps a final snapshot": (
        "PAY-DB-003",
        "dev",
        lambda g: setattr(g["DbCluster"], "deletion", "snapshot"),
    ),
    "retained cluster deleted": (
        "PAY-DB-003",
        "prod",
        lambda g: setattr(g["DbCluster"], "deletion", "delete"),
    ),
    "retained cluster unprotected": (
        "PAY-DB-003",
        "prod",
        lambda g: props(g, "DbCluster", deletion_protection=False),
    ),
    # F3 and F6: a hardcoded password, and a secret the database does not use.
    "hardcoded master password": (
        "PAY-SEC-003",
        "dev",
        lambda g: props(g, "DbCluster", master_password="MySecurePassword123!"),
    ),
    "secret not used by the cluster": (
        "PAY-SEC-003",
        "dev",
        lambda g: g["DbCluster"].props.pop("master_secret"),
    ),
    "password in a task environment": (
        "PAY-SEC-003",
        "dev",
        lambda g: g["ApiGreenTask"].props["environment"].update(DB_PASSWORD="hunter2"),
    ),
    "access key in a parameter": (
        "PAY-SEC-003",
        "dev",
        lambda g: props(g, "ParamConfigFeatureFlags", value="AKIAIOSFODNN7EXAMPLE"),
    ),
    # F7: no rotation, a 90-day rotation, a made-up Lambda ARN.
    # The rotation function goes with its database ingress, as if never written.
    "no rotation": (
        "PAY-SEC-004",
        "dev",
        lambda g: drop(
            g, "DbSecretRotation", "DbFromRotationIngress", "EndpointsFromRotationIngress"
        ),
    ),
    "rotation every 90 days": (
        "PAY-SEC-004",
        "dev",
        lambda g: props(g, "DbSecretRotation", days=90),
    ),
    "made-up rotation Lambda": (
        "PAY-SEC-004",
        "dev",
        lambda g: props(
            g,
            "DbSecretRotation",
            rotation="Custom",
            lambda_arn=MADE_UP_LAMBDA,
        ),
    ),
    # F9: a dashboard without database metrics.
    "dashboard without RDS": ("PAY-OPS-001", "dev", dashboard_without_rds),
    "no dashboard": ("PAY-OPS-001", "dev", lambda g: drop(g, "Dashboard")),
    # F10: missing alarms, alarms that notify nobody.
    "no memory alarm": ("PAY-OPS-002", "dev", lambda g: drop(g, "ApiBlueMemoryAlarm")),
    "no DB connections alarm": ("PAY-OPS-002", "dev", lambda g: drop(g, "DbConnectionsAlarm")),
    "alarm to no topic": ("PAY-OPS-002", "dev", lambda g: props(g, "Alb5xxAlarm", topic=None)),
    "plaintext topic": ("PAY-OPS-002", "dev", lambda g: props(g, "AlarmTopic", kms_key=None)),
    # F11: no backup of the cluster, too short a retention.
    "7-day backups": (
        "PAY-OPS-003",
        "dev",
        lambda g: g["BackupPlan"].props["rules"][0].update(retention_days=7),
    ),
    "cluster not selected": (
        "PAY-OPS-003",
        "dev",
        lambda g: props(g, "BackupSelection", resources=[]),
    ),
    "unencrypted vault": ("PAY-OPS-003", "dev", lambda g: props(g, "BackupVault", kms_key=None)),
    # F12: no cutover orchestration, or one that cannot roll back.
    "no cutover state machine": ("PAY-OPS-004", "dev", lambda g: drop(g, "ApiCutover")),
    "cutover without rollback": ("PAY-OPS-004", "dev", remove_state),
    # F13: configuration missing from Parameter Store, or out of step with the graph.
    "no secret ARN parameter": ("PAY-OPS-005", "dev", lambda g: drop(g, "ParamDbSecretArn")),
    "wrong active color": (
        "PAY-OPS-005",
        "dev",
        lambda g: props(g, "ParamServicesApiActiveColor", value="green"),
    ),
    "parameter outside the namespace": (
        "PAY-OPS-005",
        "dev",
        lambda g: move_parameter(g, "ParamConfigLogLevel", "/other/dev/log_level"),
    ),
    "log group kept forever": (
        "PAY-OPS-006",
        "dev",
        lambda g: props(g, "ApiLogGroup", retention_days=None),
    ),
    "plaintext log group": ("PAY-OPS-006", "dev", lambda g: props(g, "ApiLogGroup", kms_key=None)),
    # F14 and F18: tags missing on one resource, or all of them.
    "no CostCenter": ("PAY-GOV-001", "dev", lambda g: g["Vpc"].tags.pop("CostCenter")),
    "untagged VPC": ("PAY-GOV-001", "dev", lambda g: g["Vpc"].tags.clear()),
    "wrong Environment tag": (
        "PAY-GOV-001",
        "dev",
        lambda g: g["Cluster"].tags.update(Environment="prod"),
    ),
    # F15: s3:* / secretsmanager:* on "*", and a scopable action on "*".
    "wildcard action": (
        "PAY-GOV-002",
        "dev",
        lambda g: role_statement(g, "secretsmanager:*", ["arn:aws:x"]),
    ),
    "scopable action on *": (
        "PAY-GOV-002",
        "dev",
        lambda g: role_statement(g, "secretsmanager:GetSecretValue", "*"),
    ),
    "wildcard in a key policy": (
        "PAY-GOV-002",
        "dev",
        lambda g: g["DataKey"].props["policy"]["Statement"][0].update(Action="kms:*"),
    ),
    # The Aurora logs: one not exported, one not switched on, reads not audited.
    "general log not exported": (
        "PAY-DB-004",
        "dev",
        lambda g: props(g, "DbCluster", log_exports=["audit", "error", "slowquery"]),
    ),
    "slow query log off": (
        "PAY-DB-004",
        "dev",
        lambda g: g["DbParams"].props["parameters"].update(slow_query_log="0"),
    ),
    "reads not audited": (
        "PAY-DB-004",
        "dev",
        lambda g: (
            g["DbParams"]
            .props["parameters"]
            .update(server_audit_events="CONNECT,QUERY_DCL,QUERY_DDL")
        ),
    ),
    # Grants: a key whose policy no longer limits them.
    "key grants unlimited": (
        "PAY-SEC-006",
        "dev",
        lambda g: g["LogsKey"].props["policy"]["Statement"].pop(),
    ),
    "grant limit on one condition only": (
        "PAY-SEC-006",
        "dev",
        lambda g: (
            g["DataKey"]
            .props["policy"]["Statement"][-1]["Condition"]["BoolIfExists"]
            .pop("aws:PrincipalIsAWSService")
        ),
    ),
    # A service's secrets: its execution role reads one the container is not given.
    "execution role reads an undeclared secret": (
        "PAY-SEC-007",
        "dev",
        lambda g: (
            g["ApiExecutionRolePolicy"]
            .props["statements"]
            .append(
                {
                    "Sid": "ReadOther",
                    "Effect": "Allow",
                    "Action": ["secretsmanager:GetSecretValue"],
                    "Resource": [
                        "arn:aws:secretsmanager:us-east-1:123456789012:secret:other-AbCdEf"
                    ],
                }
            )
        ),
    ),
    # A log AWS would create by itself, outside the graph.
    "rotation function log group elsewhere": (
        "PAY-OPS-006",
        "dev",
        lambda g: rename(g, "DbRotationLogGroup", "/aws/lambda/other-dev"),
    ),
    "container insights log group elsewhere": (
        "PAY-OPS-006",
        "dev",
        lambda g: rename(g, "ClusterInsightsLogGroup", "/aws/ecs/other-dev"),
    ),
    # The ALB log bucket: versions, events, its own access logs, Object Lock by lifecycle.
    "log bucket unversioned": (
        "PAY-OPS-007",
        "dev",
        lambda g: props(g, "AlbLogsBucket", versioning="Suspended"),
    ),
    "log bucket without events": (
        "PAY-OPS-007",
        "prod",
        lambda g: props(g, "AlbLogsBucket", eventbridge=False),
    ),
    "log bucket logs into itself": (
        "PAY-OPS-007",
        "dev",
        lambda g: props(g, "AlbLogsBucket", logging={"bucket": Ref("AlbLogsBucket"), "prefix": ""}),
    ),
    "retained log bucket unlocked": (
        "PAY-OPS-007",
        "prod",
        lambda g: props(g, "AlbLogsBucket", object_lock=None),
    ),
    "ephemeral log bucket locked": (
        "PAY-OPS-007",
        "dev",
        lambda g: props(g, "AlbLogsBucket", object_lock={"mode": "GOVERNANCE", "days": 365}),
    ),
    # F17: a missing output, an export without the platform and environment.
    "no secret output": (
        "PAY-GOV-003",
        "dev",
        lambda g: setattr(g, "outputs", [o for o in g.outputs if o.name != "DbSecretArn"]),
    ),
    "unprefixed export": ("PAY-GOV-003", "dev", unprefixed_export),
    # F19: a name without the environment.
    "name without environment": ("PAY-GOV-004", "dev", lambda g: rename(g, "Vpc", "payment-vpc")),
    "log group without environment": (
        "PAY-GOV-004",
        "dev",
        lambda g: rename(g, "ApiLogGroup", "/ecs/payment-api"),
    ),
    "ELB name over 32 characters": (
        "PAY-GOV-004",
        "dev",
        lambda g: props(g, "Alb", physical_name="payment-application-load-balancer-dev"),
    ),
}


@pytest.mark.parametrize("case", sorted(BREAKS))
def test_each_break_fails_only_its_rule(case: str) -> None:
    rule_id, environment, breaker = BREAKS[case]
    graph = fresh(environment)
    breaker(graph)
    assert failing(graph) == {rule_id}


def test_every_rule_can_fail() -> None:
    assert {rule_id for rule_id, _, _ in BREAKS.values()} == set(RULES)


def test_no_rule_raises_on_a_damaged_graph() -> None:
    # compile_spec runs the rules on whatever the compiler built: a missing node or a prop of
    # the wrong type must come out as violations, never as an exception.
    spec = reference_spec("dev")
    reference = build_graph(spec)
    for logical_id, node in reference.nodes.items():
        for key, value in node.props.items():
            damages: tuple[object, ...] = (None, "x", [], {})
            for damage in damages:
                node.props[key] = damage
                run_rules(reference)
            node.props[key] = value  # rules only read: restoring one prop restores the graph
        graph = build_graph(spec)
        drop(graph, logical_id)
        run_rules(graph)


def test_compile_spec_refuses_a_broken_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    from paycompile.compiler import compile as compiler

    def without_backups(spec: PlatformSpec) -> Graph:
        graph = compiler.build_graph(spec)
        drop(graph, "BackupSelection")
        return graph

    monkeypatch.setattr(paycompile, "build_graph", without_backups)
    with pytest.raises(paycompile.RuleViolation, match="PAY-OPS-003"):
        paycompile.compile_spec(reference_spec("dev"))
