"""The mutations, applied to a mocked Pulumi plan (the registrations `build --backend pulumi`
writes): what the program would have registered after the same careless edit. A changed
reference changes both the input's value (the mock's answered id or ARN) and its recorded
dependency, as the engine would see them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Plan = dict[str, Any]
ANYWHERE = "0.0.0.0/0"
PUBLIC = ("PublicSubnet1", "PublicSubnet2", "PublicSubnet3")
PRIVATE = ("PrivateSubnet1", "PrivateSubnet2", "PrivateSubnet3")

# The reference image as ECR Public serves it: what the task would pull past the cache.
UPSTREAM_IMAGE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2"


def registration(plan: Plan, name: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["name"] == name)


def inputs(plan: Plan, name: str) -> dict[str, Any]:
    found: dict[str, Any] = registration(plan, name)["inputs"]
    return found


def answered(plan: Plan, name: str, what: str = "id") -> str:
    return str(registration(plan, name)["answered"][what])


def remove(plan: Plan, name: str) -> None:
    plan["resources"] = [r for r in plan["resources"] if r["name"] != name]


def point(plan: Plan, name: str, key: str, value: Any, targets: tuple[str, ...]) -> None:
    """Sets input `key` of `name` to `value`, computed from `targets`."""
    resource = registration(plan, name)
    resource["inputs"][key] = value
    if targets:
        resource["dependencies"][key] = sorted(targets)
    else:
        resource["dependencies"].pop(key, None)


def add(
    plan: Plan, name: str, type_token: str, values: dict[str, Any], deps: dict[str, list[str]]
) -> None:
    plan["resources"].append(
        {
            "type": type_token,
            "name": name,
            "inputs": values,
            "dependencies": deps,
            "options": {
                "deleteBeforeReplace": False,
                "ignoreChanges": [],
                "protect": False,
                "replaceWith": [],
                "retainOnDelete": False,
            },
            "answered": {"id": f"sgr-{name.lower()}"},
        }
    )


def edit_json(plan: Plan, name: str, key: str, edit: Callable[[Any], None]) -> None:
    """Edits an input that holds JSON text (a policy, a definition) as parsed JSON."""
    values = inputs(plan, name)
    parsed = json.loads(values[key])
    edit(parsed)
    values[key] = json.dumps(parsed)


def policy_statements(edit: Callable[[list[dict[str, Any]]], None]) -> Callable[[Any], None]:
    return lambda document: edit(document["Statement"])


def without_sid(sid: str) -> Callable[[list[dict[str, Any]]], None]:
    return lambda found: found.__setitem__(slice(None), [s for s in found if s.get("Sid") != sid])


def states(
    edit: Callable[[dict[str, Any]], None], machine: str = "ApiCutover"
) -> Callable[[Plan], None]:
    return lambda plan: edit_json(plan, machine, "definition", lambda d: edit(d["States"]))


# ---------------------------------------------------------------- reachability


def db_ingress_from_internet(p: Plan) -> None:
    point(p, "DbFromTasksIngress", "referencedSecurityGroupId", None, ())
    del inputs(p, "DbFromTasksIngress")["referencedSecurityGroupId"]
    inputs(p, "DbFromTasksIngress")["cidrIpv4"] = ANYWHERE


ALL_TRAFFIC = {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": [ANYWHERE]}


def db_egress_open(p: Plan) -> None:
    inputs(p, "DbSg")["egress"] = [dict(ALL_TRAFFIC)]


def tasks_egress_open(p: Plan) -> None:
    inputs(p, "ApiTasksSg")["egress"].append(dict(ALL_TRAFFIC))


def tasks_ingress_from_internet(p: Plan) -> None:
    add(
        p,
        "ApiFromInternetIngress",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {
            "securityGroupId": answered(p, "ApiTasksSg"),
            "cidrIpv4": ANYWHERE,
            "ipProtocol": "tcp",
            "fromPort": 8080,
            "toPort": 8080,
            "tags": {
                **inputs(p, "ApiFromAlbIngress")["tags"],
                "Name": "payment-api-from-internet-dev",
            },
        },
        {"securityGroupId": ["ApiTasksSg"]},
    )


def alb_ingress_ssh(p: Plan) -> None:
    rule = inputs(p, "AlbHttpIngress")
    rule["fromPort"] = rule["toPort"] = 22


def alb_egress_anywhere(p: Plan) -> None:
    inputs(p, "AlbSg")["egress"] = [dict(ALL_TRAFFIC)]
    registration(p, "AlbSg")["dependencies"].pop("egress", None)


def tasks_ingress_all_ports(p: Plan) -> None:
    rule = inputs(p, "ApiFromAlbIngress")
    rule["fromPort"], rule["toPort"] = 0, 65535


def tasks_unreachable(p: Plan) -> None:
    remove(p, "ApiFromAlbIngress")


def db_unreachable(p: Plan) -> None:
    remove(p, "DbFromTasksIngress")


def db_from_alb(p: Plan) -> None:
    point(p, "DbFromRotationIngress", "referencedSecurityGroupId", answered(p, "AlbSg"), ("AlbSg",))


# ---------------------------------------------------------------- placement


def _subnet_ids(p: Plan, names: tuple[str, ...]) -> list[str]:
    return [answered(p, name) for name in names]


def db_subnets_public(p: Plan) -> None:
    point(p, "DbSubnets", "subnetIds", _subnet_ids(p, PUBLIC), PUBLIC)


def tasks_public_ip(p: Plan) -> None:
    inputs(p, "ApiBlueService")["networkConfiguration"]["assignPublicIp"] = True


def tasks_public_subnets(p: Plan) -> None:
    inputs(p, "ApiGreenService")["networkConfiguration"]["subnets"] = _subnet_ids(p, PUBLIC)


def alb_private_subnets(p: Plan) -> None:
    point(p, "Alb", "subnets", _subnet_ids(p, PRIVATE), PRIVATE)


def nat_private_subnet(p: Plan) -> None:
    point(p, "Nat1", "subnetId", answered(p, "PrivateSubnet1"), ("PrivateSubnet1",))


def rotation_public_subnets(p: Plan) -> None:
    parameters = inputs(p, "DbSecretRotationFunction")["parameters"]
    parameters["vpcSubnetIds"] = ",".join(_subnet_ids(p, PUBLIC))


# ---------------------------------------------------------------- IAM


def cutover_without_modify(p: Plan) -> None:
    edit_json(p, "ApiCutoverRolePolicy", "policy", policy_statements(without_sid("MoveTraffic")))


def remove_policy(p: Plan, policy: str) -> None:
    """Deletes a managed policy and its attachments."""
    remove(p, policy)
    p["resources"] = [r for r in p["resources"] if not r["name"].startswith(f"{policy}Attached")]


def cutover_role_emptied(p: Plan) -> None:
    remove_policy(p, "ApiCutoverRolePolicy")


def cutover_role_extra(p: Plan) -> None:
    extra = {
        "Effect": "Allow",
        "Action": ["elasticloadbalancing:DeleteLoadBalancer"],
        "Resource": [answered(p, "Alb", "arn")],
    }
    edit_json(p, "ApiCutoverRolePolicy", "policy", policy_statements(lambda s: s.append(extra)))


def execution_without_logs(p: Plan) -> None:
    remove_policy(p, "ApiExecutionRolePolicy")


def execution_policy_detached(p: Plan) -> None:
    remove(p, "ApiExecutionRolePolicyAttached1")


def execution_policy_every_action(p: Plan) -> None:
    extra = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    edit_json(p, "ApiExecutionRolePolicy", "policy", policy_statements(lambda s: s.append(extra)))


def task_policy_every_resource(p: Plan) -> None:
    edit_json(
        p,
        "ApiTaskRolePolicy",
        "policy",
        _sid("ReadDatabaseSecret", lambda s: s.__setitem__("Resource", "*")),
    )


def task_without_secret(p: Plan) -> None:
    edit_json(
        p, "ApiTaskRolePolicy", "policy", policy_statements(without_sid("ReadDatabaseSecret"))
    )


def task_extra_action(p: Plan) -> None:
    extra = {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [answered(p, "AlbLogsBucket", "arn") + "/*"],
    }
    edit_json(p, "ApiTaskRolePolicy", "policy", policy_statements(lambda s: s.append(extra)))


def task_reads_all_parameters(p: Plan) -> None:
    def widen(found: list[dict[str, Any]]) -> None:
        read = next(s for s in found if s.get("Sid") == "ReadOwnConfig")
        read["Resource"] = [read["Resource"][0].split(":parameter/")[0] + ":parameter/*"]

    edit_json(p, "ApiTaskRolePolicy", "policy", policy_statements(widen))


def task_role_trusts_anyone(p: Plan) -> None:
    edit_json(
        p,
        "ApiTaskRole",
        "assumeRolePolicy",
        policy_statements(lambda s: s[0].__setitem__("Principal", {"AWS": "*"})),
    )


def flow_logs_role_other_group(p: Plan) -> None:
    other = answered(p, "ApiLogGroup", "arn") + ":*"
    edit_json(
        p,
        "FlowLogsRolePolicy",
        "policy",
        policy_statements(lambda s: s[0].__setitem__("Resource", [other])),
    )


def backup_role_unpowered(p: Plan) -> None:
    remove(p, "BackupRoleManaged1")
    remove(p, "BackupRoleManaged2")


# ---------------------------------------------------------------- KMS


def data_key_without_cloudwatch(p: Plan) -> None:
    edit_json(p, "DataKey", "policy", policy_statements(without_sid("CloudWatchAlarmsPublish")))


def logs_key_without_logs(p: Plan) -> None:
    edit_json(p, "LogsKey", "policy", policy_statements(without_sid("CloudWatchLogsUseKey")))


def data_key_rotation_off(p: Plan) -> None:
    inputs(p, "DataKey")["enableKeyRotation"] = False


def key_open_to_everyone(p: Plan) -> None:
    extra = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["kms:Decrypt"],
        "Resource": "*",
    }
    edit_json(p, "DataKey", "policy", policy_statements(lambda s: s.append(extra)))


def _drop(p: Plan, name: str, key: str) -> None:
    del inputs(p, name)[key]
    registration(p, name)["dependencies"].pop(key, None)


def secret_without_key(p: Plan) -> None:
    _drop(p, "DbSecret", "kmsKeyId")


def topic_without_key(p: Plan) -> None:
    _drop(p, "AlarmTopic", "kmsMasterKeyId")


def cluster_without_key(p: Plan) -> None:
    _drop(p, "DbCluster", "kmsKeyId")


def vault_with_logs_key(p: Plan) -> None:
    point(p, "BackupVault", "kmsKeyArn", answered(p, "LogsKey", "arn"), ("LogsKey",))


def log_group_with_data_key(p: Plan) -> None:
    point(p, "ApiLogGroup", "kmsKeyId", answered(p, "DataKey", "arn"), ("DataKey",))


def storage_unencrypted(p: Plan) -> None:
    _drop(p, "DbCluster", "kmsKeyId")
    inputs(p, "DbCluster")["storageEncrypted"] = False


# ---------------------------------------------------------------- logs


def log_group_without_key(p: Plan) -> None:
    _drop(p, "ApiLogGroup", "kmsKeyId")


def log_group_one_day(p: Plan) -> None:
    inputs(p, "ApiCutoverLogGroup")["retentionInDays"] = 1


def flow_logs_removed(p: Plan) -> None:
    remove(p, "VpcFlowLog")


def flow_logs_rejects_only(p: Plan) -> None:
    inputs(p, "VpcFlowLog")["trafficType"] = "REJECT"


def db_audit_log_group_removed(p: Plan) -> None:
    remove(p, "DbAuditLogGroup")


def machine_logging_off(p: Plan) -> None:
    inputs(p, "ApiCutover")["loggingConfiguration"]["level"] = "OFF"


# ---------------------------------------------------------------- traffic


def _forward(p: Plan) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = inputs(p, "HttpsListener")["defaultActions"][0]["forward"][
        "targetGroups"
    ]
    return groups


def https_to_idle(p: Plan) -> None:
    groups = _forward(p)
    groups[0]["weight"], groups[1]["weight"] = 0, 100


def http_forwards(p: Plan) -> None:
    point(
        p,
        "HttpListener",
        "defaultActions",
        [{"type": "forward", "targetGroupArn": answered(p, "ApiBlueTg", "arn")}],
        ("ApiBlueTg",),
    )


def service_without_load_balancer(p: Plan) -> None:
    _drop(p, "ApiBlueService", "loadBalancers")


def service_in_other_group(p: Plan) -> None:
    service = registration(p, "ApiGreenService")
    service["inputs"]["loadBalancers"][0]["targetGroupArn"] = answered(p, "ApiBlueTg", "arn")
    service["dependencies"]["loadBalancers"] = ["ApiBlueTg"]


def alb_access_logs_off(p: Plan) -> None:
    inputs(p, "Alb")["accessLogs"]["enabled"] = False


def alb_keeps_invalid_headers(p: Plan) -> None:
    inputs(p, "Alb")["dropInvalidHeaderFields"] = False


def alb_unprotected(p: Plan) -> None:
    inputs(p, "Alb")["enableDeletionProtection"] = False


def old_tls(p: Plan) -> None:
    inputs(p, "HttpsListener")["sslPolicy"] = "ELBSecurityPolicy-2016-08"


def idle_colour_runs(p: Plan) -> None:
    inputs(p, "ApiGreenService")["desiredCount"] = 2


def web_rule_other_path(p: Plan) -> None:
    inputs(p, "WebRule")["conditions"][0]["pathPattern"]["values"] = ["/*"]


# ---------------------------------------------------------------- cutover


def _listener(p: Plan, name: str) -> str:
    return answered(p, name, "arn")


def switch_on_http_listener(p: Plan) -> None:
    http = _listener(p, "HttpListener")
    states(lambda s: s["PerformTrafficSwitch"]["Parameters"].__setitem__("ListenerArn", http))(p)


def switch_on_other_rule(p: Plan) -> None:
    rule = _listener(p, "AdmRule")
    edit_json(
        p,
        "WebCutover",
        "definition",
        lambda d: d["States"]["PerformTrafficSwitch"]["Parameters"].__setitem__("RuleArn", rule),
    )


def scales_wrong_colour(p: Plan) -> None:
    blue = answered(p, "ApiBlueService", "arn")
    states(lambda s: s["TargetGreen"]["Result"].__setitem__("service", blue))(p)


def capture_skipped(p: Plan) -> None:
    edit_json(p, "ApiCutover", "definition", lambda d: d.update(StartAt="TargetGreen"))


# ---------------------------------------------------------------- operations


def alarms_without_actions(p: Plan) -> None:
    for resource in p["resources"]:
        if resource["type"] == "aws:cloudwatch/metricAlarm:MetricAlarm":
            resource["inputs"].pop("alarmActions", None)
            resource["dependencies"].pop("alarmActions", None)


def alarm_actions_disabled(p: Plan) -> None:
    inputs(p, "DbConnectionsAlarm")["actionsEnabled"] = False


def alarm_to_foreign_topic(p: Plan) -> None:
    point(p, "Alb5xxAlarm", "alarmActions", ["arn:aws:sns:us-east-1:999999999999:elsewhere"], ())


def weekly_backups(p: Plan) -> None:
    inputs(p, "BackupPlan")["rules"][0]["schedule"] = "cron(0 3 ? * SUN *)"


def short_backups(p: Plan) -> None:
    inputs(p, "BackupPlan")["rules"][0]["lifecycle"]["deleteAfter"] = 7


def backup_selects_nothing(p: Plan) -> None:
    point(
        p, "BackupSelection", "resources", [answered(p, "AlbLogsBucket", "arn")], ("AlbLogsBucket",)
    )


def no_alarm_subscription(p: Plan) -> None:
    remove(p, "AlarmEmail")


def public_instance(p: Plan) -> None:
    inputs(p, "DbInstance1")["publiclyAccessible"] = True


# ---------------------------------------------------------------- structure and governance


def green_group_deleted(p: Plan) -> None:
    remove(p, "ApiGreenTg")


def literal_password(p: Plan) -> None:
    cluster = registration(p, "DbCluster")
    cluster["inputs"]["masterPasswordWo"] = "MySecurePassword123!"
    del cluster["dependencies"]["masterPasswordWo"]


def cost_center_dropped(p: Plan) -> None:
    del inputs(p, "Vpc")["tags"]["CostCenter"]


def wildcard_action(p: Plan) -> None:
    extra = {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::payment-dev/*"]}
    edit_json(p, "ApiTaskRolePolicy", "policy", policy_statements(lambda s: s.append(extra)))


def scopable_action_on_everything(p: Plan) -> None:
    extra = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}
    edit_json(p, "ApiTaskRolePolicy", "policy", policy_statements(lambda s: s.append(extra)))


def ephemeral_keeps_snapshot(p: Plan) -> None:
    inputs(p, "DbCluster")["skipFinalSnapshot"] = False


def retained_drops_snapshot(p: Plan) -> None:
    inputs(p, "DbCluster")["skipFinalSnapshot"] = True


def retained_unprotected_cluster(p: Plan) -> None:
    inputs(p, "DbCluster")["deletionProtection"] = False
    registration(p, "DbCluster")["options"]["protect"] = False


def made_up_rotation_lambda(p: Plan) -> None:
    point(
        p,
        "DbSecretRotation",
        "rotationLambdaArn",
        "arn:aws:lambda:us-east-1:aws:function:SecretsManagerRDSMySQLRotationSingleUser",
        (),
    )


def rotation_every_90_days(p: Plan) -> None:
    inputs(p, "DbSecretRotation")["rotationRules"]["automaticallyAfterDays"] = 90


def private_route_without_nat(p: Plan) -> None:
    point(p, "PrivateRoutes1Default", "natGatewayId", "nat-123", ())


def name_without_environment(p: Plan) -> None:
    inputs(p, "Cluster")["name"] = "payment-cluster"


def secret_not_exported(p: Plan) -> None:
    del p["outputs"]["DbSecretArn"]


def unhealthy_alarms_deleted(p: Plan) -> None:
    for name in [r["name"] for r in p["resources"] if r["name"].endswith("UnhealthyAlarm")]:
        remove(p, name)


def container_runs_as_root(p: Plan) -> None:
    def root(containers: list[dict[str, Any]]) -> None:
        containers[0]["user"] = "0"

    edit_json(p, "ApiBlueTask", "containerDefinitions", root)


def task_pulls_ecr_public(p: Plan) -> None:
    def direct(containers: list[dict[str, Any]]) -> None:
        containers[0]["image"] = UPSTREAM_IMAGE

    edit_json(p, "ApiBlueTask", "containerDefinitions", direct)


def image_cache_dropped(p: Plan) -> None:
    remove(p, "ImageCacheRule")


def public_subnet_dropped(p: Plan) -> None:
    for name in ("PublicSubnet3", "PublicRoutesSubnet3"):
        remove(p, name)
    point(p, "Alb", "subnets", _subnet_ids(p, PUBLIC[:2]), PUBLIC[:2])


# ---------------------------------------------------------------- egress and the edge


def web_https_anywhere(p: Plan) -> None:
    """routed.yaml's web pulls from the region's ECR: its tasks may not open HTTPS anywhere."""
    egress = inputs(p, "WebTasksSg")["egress"]
    egress.append({"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": [ANYWHERE]})


def web_psp_port_widened(p: Plan) -> None:
    for rule in inputs(p, "WebTasksSg")["egress"]:
        if rule.get("cidrBlocks") == ["185.60.216.0/24"]:
            rule["fromPort"], rule["toPort"] = 0, 65535


def endpoints_from_internet(p: Plan) -> None:
    add(
        p,
        "EndpointsFromInternetIngress",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {
            "securityGroupId": answered(p, "EndpointsSg"),
            "cidrIpv4": ANYWHERE,
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "tags": {
                **inputs(p, "EndpointsFromTasksIngress")["tags"],
                "Name": "payment-endpoints-from-internet-dev",
            },
        },
        {"securityGroupId": ["EndpointsSg"]},
    )


def waf_unassociated(p: Plan) -> None:
    remove(p, "WafAssociation")


def waf_second_alb_unassociated(p: Plan) -> None:
    """routed.yaml's adm is served by a second load balancer, which must be guarded too."""
    remove(p, "WafAlb2Association")


def _waf_rules(p: Plan) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = inputs(p, "Waf")["rules"]
    return rules


def waf_sqli_dropped(p: Plan) -> None:
    rules = _waf_rules(p)
    rules[:] = [r for r in rules if r["name"] != "AWSManagedRulesSQLiRuleSet"]


def waf_common_counts(p: Plan) -> None:
    for rule in _waf_rules(p):
        if rule["name"] == "AWSManagedRulesCommonRuleSet":
            rule["overrideAction"] = {"count": {}}


def waf_no_rate_limit(p: Plan) -> None:
    rules = _waf_rules(p)
    rules[:] = [r for r in rules if "rateBasedStatement" not in r["statement"]]


def waf_logs_unredacted(p: Plan) -> None:
    del inputs(p, "WafLogging")["redactedFields"]


def waf_unlogged(p: Plan) -> None:
    remove(p, "WafLogging")


# ---------------------------------------------------------------- logs kept and protected


def key_grants_unlimited(p: Plan) -> None:
    edit_json(p, "DataKey", "policy", policy_statements(without_sid("GrantsOnlyForAwsResources")))


def log_bucket_unversioned(p: Plan) -> None:
    inputs(p, "AlbLogsBucketVersioning")["versioningConfiguration"]["status"] = "Suspended"


def log_bucket_unlogged(p: Plan) -> None:
    remove(p, "AlbLogsBucketLogging")


def log_bucket_silent(p: Plan) -> None:
    remove(p, "AlbLogsBucketNotification")


def log_bucket_unlocked(p: Plan) -> None:
    remove(p, "AlbLogsBucketObjectLock")


def db_general_log_not_exported(p: Plan) -> None:
    inputs(p, "DbCluster")["enabledCloudwatchLogsExports"].remove("general")


OTHER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:payment/other-AbCdEf"


def _sid(sid: str, edit: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    return policy_statements(lambda found: edit(next(s for s in found if s.get("Sid") == sid)))


def execution_reads_other_secret(p: Plan) -> None:
    edit_json(
        p,
        "ApiExecutionRolePolicy",
        "policy",
        _sid("ReadServiceSecrets", lambda s: s["Resource"].append(OTHER_SECRET)),
    )


def secret_decrypt_anywhere(p: Plan) -> None:
    edit_json(
        p,
        "ApiExecutionRolePolicy",
        "policy",
        _sid("DecryptServiceSecrets", lambda s: s.pop("Condition")),
    )


def rotation_function_logs_unheld(p: Plan) -> None:
    remove(p, "DbRotationLogGroup")


def insights_logs_unheld(p: Plan) -> None:
    remove(p, "ClusterInsightsLogGroup")
