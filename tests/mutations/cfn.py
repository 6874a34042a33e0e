"""The mutations, applied to a CloudFormation template (a dict parsed from the emitted JSON).

Each function breaks one thing the way a careless edit of the compiler or the backend would,
in place. Logical ids are the reference platform's (tests/specs/routed.yaml's for Web/Adm).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Template = dict[str, Any]
ANYWHERE = "0.0.0.0/0"
PUBLIC_SUBNETS = [{"Ref": f"PublicSubnet{n}"} for n in (1, 2, 3)]

# The reference image as ECR Public serves it: what the task would pull past the cache.
UPSTREAM_IMAGE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2"


def props(template: Template, logical: str) -> dict[str, Any]:
    properties: dict[str, Any] = template["Resources"][logical]["Properties"]
    return properties


def statements(template: Template, role: str) -> list[dict[str, Any]]:
    """The statements of the (first) customer managed policy attached to `role`."""
    found: list[dict[str, Any]] = props(template, f"{role}Policy")["PolicyDocument"]["Statement"]
    return found


def remove_policy(template: Template, policy: str) -> None:
    """Deletes a managed policy and every DependsOn naming it (a template CloudFormation takes)."""
    del template["Resources"][policy]
    for body in template["Resources"].values():
        depends = body.get("DependsOn")
        if isinstance(depends, list) and policy in depends:
            body["DependsOn"] = [d for d in depends if d != policy]


def drop_statement(template: Template, role: str, sid: str) -> None:
    found = statements(template, role)
    found[:] = [s for s in found if s.get("Sid") != sid]


def key_statements(template: Template, key: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = props(template, key)["KeyPolicy"]["Statement"]
    return found


def attribute(template: Template, key: str, value: str) -> None:
    for item in props(template, "Alb")["LoadBalancerAttributes"]:
        if item["Key"] == key:
            item["Value"] = value


def edit_definition(
    template: Template, machine: str, edit: Callable[[dict[str, Any]], None]
) -> None:
    """Edits a state machine's definition (an `Fn::Sub` of JSON text) as parsed JSON."""
    sub = props(template, machine)["DefinitionString"]
    text = sub["Fn::Sub"] if isinstance(sub["Fn::Sub"], str) else sub["Fn::Sub"][0]
    definition = json.loads(text)
    edit(definition)
    sub["Fn::Sub"] = json.dumps(definition, sort_keys=True)


def states(
    edit: Callable[[dict[str, Any]], None], machine: str = "ApiCutover"
) -> Callable[[Template], None]:
    """A mutation that edits the `States` of `machine`."""
    return lambda template: edit_definition(
        template, machine, lambda definition: edit(definition["States"])
    )


def add(template: Template, logical: str, type_name: str, properties: dict[str, Any]) -> None:
    template["Resources"][logical] = {"Type": type_name, "Properties": properties}


# ---------------------------------------------------------------- reachability


def db_ingress_from_internet(t: Template) -> None:
    rule = props(t, "DbFromTasksIngress")
    del rule["SourceSecurityGroupId"]
    rule["CidrIp"] = ANYWHERE


def db_egress_open(t: Template) -> None:
    props(t, "DbSg")["SecurityGroupEgress"] = [{"CidrIp": ANYWHERE, "IpProtocol": "-1"}]


def db_default_egress(t: Template) -> None:
    # Without the property AWS gives every new group an allow-all egress rule.
    del props(t, "DbSg")["SecurityGroupEgress"]


def tasks_egress_open(t: Template) -> None:
    props(t, "ApiTasksSg")["SecurityGroupEgress"].append({"CidrIp": ANYWHERE, "IpProtocol": "-1"})


def tasks_ingress_from_internet(t: Template) -> None:
    add(
        t,
        "ApiFromInternetIngress",
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Fn::GetAtt": ["ApiTasksSg", "GroupId"]},
            "CidrIp": ANYWHERE,
            "IpProtocol": "tcp",
            "FromPort": 8080,
            "ToPort": 8080,
        },
    )


def alb_ingress_ssh(t: Template) -> None:
    rule = props(t, "AlbHttpIngress")
    rule["FromPort"] = rule["ToPort"] = 22


def alb_egress_anywhere(t: Template) -> None:
    props(t, "AlbSg")["SecurityGroupEgress"] = [{"CidrIp": ANYWHERE, "IpProtocol": "-1"}]


def tasks_ingress_all_ports(t: Template) -> None:
    rule = props(t, "ApiFromAlbIngress")
    rule["FromPort"], rule["ToPort"] = 0, 65535


def tasks_unreachable(t: Template) -> None:
    del t["Resources"]["ApiFromAlbIngress"]


def db_unreachable(t: Template) -> None:
    del t["Resources"]["DbFromTasksIngress"]


def db_from_alb(t: Template) -> None:
    props(t, "DbFromRotationIngress")["SourceSecurityGroupId"] = {
        "Fn::GetAtt": ["AlbSg", "GroupId"]
    }


# ---------------------------------------------------------------- placement


def db_subnets_public(t: Template) -> None:
    props(t, "DbSubnets")["SubnetIds"] = PUBLIC_SUBNETS


def tasks_public_ip(t: Template) -> None:
    network = props(t, "ApiBlueService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    network["AssignPublicIp"] = "ENABLED"


def tasks_public_subnets(t: Template) -> None:
    network = props(t, "ApiGreenService")["NetworkConfiguration"]["AwsvpcConfiguration"]
    network["Subnets"] = PUBLIC_SUBNETS


def alb_private_subnets(t: Template) -> None:
    props(t, "Alb")["Subnets"] = [{"Ref": f"PrivateSubnet{n}"} for n in (1, 2, 3)]


def nat_private_subnet(t: Template) -> None:
    props(t, "Nat1")["SubnetId"] = {"Ref": "PrivateSubnet1"}


def rotation_public_subnets(t: Template) -> None:
    hosted = props(t, "DbSecretRotation")["HostedRotationLambda"]
    hosted["VpcSubnetIds"] = {"Fn::Join": [",", PUBLIC_SUBNETS]}


# ---------------------------------------------------------------- IAM


def cutover_without_modify(t: Template) -> None:
    drop_statement(t, "ApiCutoverRole", "MoveTraffic")


def cutover_role_emptied(t: Template) -> None:
    remove_policy(t, "ApiCutoverRolePolicy")


def cutover_role_extra(t: Template) -> None:
    statements(t, "ApiCutoverRole").append(
        {
            "Effect": "Allow",
            "Action": ["elasticloadbalancing:DeleteLoadBalancer"],
            "Resource": [{"Ref": "Alb"}],
        }
    )


def execution_without_logs(t: Template) -> None:
    remove_policy(t, "ApiExecutionRolePolicy")


def execution_policy_detached(t: Template) -> None:
    props(t, "ApiExecutionRolePolicy")["Roles"] = []


def execution_policy_every_action(t: Template) -> None:
    statements(t, "ApiExecutionRole").append({"Effect": "Allow", "Action": "*", "Resource": "*"})


def task_policy_every_resource(t: Template) -> None:
    read = next(s for s in statements(t, "ApiTaskRole") if s.get("Sid") == "ReadDatabaseSecret")
    read["Resource"] = "*"


def task_without_secret(t: Template) -> None:
    drop_statement(t, "ApiTaskRole", "ReadDatabaseSecret")


def task_extra_action(t: Template) -> None:
    statements(t, "ApiTaskRole").append(
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [{"Fn::Join": ["", [{"Fn::GetAtt": ["AlbLogsBucket", "Arn"]}, "/*"]]}],
        }
    )


def task_reads_all_parameters(t: Template) -> None:
    read = next(s for s in statements(t, "ApiTaskRole") if s.get("Sid") == "ReadOwnConfig")
    join = read["Resource"][0]["Fn::Join"][1]
    join[-1] = ":parameter/*"


def task_role_trusts_anyone(t: Template) -> None:
    trust = props(t, "ApiTaskRole")["AssumeRolePolicyDocument"]["Statement"][0]
    trust["Principal"] = {"AWS": "*"}


def flow_logs_role_other_group(t: Template) -> None:
    write = statements(t, "FlowLogsRole")[0]
    write["Resource"] = [{"Fn::Join": ["", [{"Fn::GetAtt": ["ApiLogGroup", "Arn"]}, ":*"]]}]


def backup_role_unpowered(t: Template) -> None:
    props(t, "BackupRole")["ManagedPolicyArns"] = []


# ---------------------------------------------------------------- KMS


def data_key_without_cloudwatch(t: Template) -> None:
    found = key_statements(t, "DataKey")
    found[:] = [s for s in found if s.get("Sid") != "CloudWatchAlarmsPublish"]


def logs_key_without_logs(t: Template) -> None:
    found = key_statements(t, "LogsKey")
    found[:] = [s for s in found if s.get("Sid") != "CloudWatchLogsUseKey"]


def data_key_rotation_off(t: Template) -> None:
    props(t, "DataKey")["EnableKeyRotation"] = False


def key_open_to_everyone(t: Template) -> None:
    key_statements(t, "DataKey").append(
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": ["kms:Decrypt"], "Resource": "*"}
    )


def secret_without_key(t: Template) -> None:
    del props(t, "DbSecret")["KmsKeyId"]


def topic_without_key(t: Template) -> None:
    del props(t, "AlarmTopic")["KmsMasterKeyId"]


def cluster_without_key(t: Template) -> None:
    del props(t, "DbCluster")["KmsKeyId"]


def vault_with_logs_key(t: Template) -> None:
    props(t, "BackupVault")["EncryptionKeyArn"] = {"Fn::GetAtt": ["LogsKey", "Arn"]}


def log_group_with_data_key(t: Template) -> None:
    props(t, "ApiLogGroup")["KmsKeyId"] = {"Fn::GetAtt": ["DataKey", "Arn"]}


def storage_unencrypted(t: Template) -> None:
    cluster = props(t, "DbCluster")
    cluster["StorageEncrypted"] = False
    del cluster["KmsKeyId"]


# ---------------------------------------------------------------- logs


def log_group_without_key(t: Template) -> None:
    del props(t, "ApiLogGroup")["KmsKeyId"]


def log_group_one_day(t: Template) -> None:
    props(t, "ApiCutoverLogGroup")["RetentionInDays"] = 1


def flow_logs_removed(t: Template) -> None:
    del t["Resources"]["VpcFlowLog"]


def flow_logs_rejects_only(t: Template) -> None:
    props(t, "VpcFlowLog")["TrafficType"] = "REJECT"


def db_audit_log_group_removed(t: Template) -> None:
    del t["Resources"]["DbAuditLogGroup"]
    cluster = t["Resources"]["DbCluster"]
    cluster["DependsOn"] = [d for d in cluster["DependsOn"] if d != "DbAuditLogGroup"]


def machine_logging_off(t: Template) -> None:
    props(t, "ApiCutover")["LoggingConfiguration"]["Level"] = "OFF"


# ---------------------------------------------------------------- traffic


def https_to_idle(t: Template) -> None:
    groups = props(t, "HttpsListener")["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    groups[0]["Weight"], groups[1]["Weight"] = 0, 100


def http_forwards(t: Template) -> None:
    props(t, "HttpListener")["DefaultActions"] = [
        {"Type": "forward", "TargetGroupArn": {"Ref": "ApiBlueTg"}}
    ]


def service_without_load_balancer(t: Template) -> None:
    del props(t, "ApiBlueService")["LoadBalancers"]


def service_in_other_group(t: Template) -> None:
    props(t, "ApiGreenService")["LoadBalancers"][0]["TargetGroupArn"] = {"Ref": "ApiBlueTg"}


def alb_access_logs_off(t: Template) -> None:
    attribute(t, "access_logs.s3.enabled", "false")


def alb_keeps_invalid_headers(t: Template) -> None:
    attribute(t, "routing.http.drop_invalid_header_fields.enabled", "false")


def alb_unprotected(t: Template) -> None:
    attribute(t, "deletion_protection.enabled", "false")


def old_tls(t: Template) -> None:
    props(t, "HttpsListener")["SslPolicy"] = "ELBSecurityPolicy-2016-08"


def idle_colour_runs(t: Template) -> None:
    props(t, "ApiGreenService")["DesiredCount"] = 2


def web_rule_other_path(t: Template) -> None:
    props(t, "WebRule")["Conditions"][0]["PathPatternConfig"]["Values"] = ["/*"]


# ---------------------------------------------------------------- cutover


def _pass_to(after: str) -> dict[str, Any]:
    return {"Type": "Pass", "Next": after}


def switch_is_pass(s: dict[str, Any]) -> None:
    s["PerformTrafficSwitch"] = _pass_to("RecordActiveColor")


def rollback_is_pass(s: dict[str, Any]) -> None:
    s["RollBack"] = _pass_to("ScaleIdleColorBack")


def switch_on_http_listener(s: dict[str, Any]) -> None:
    s["PerformTrafficSwitch"]["Parameters"]["ListenerArn"] = "${HttpListener}"


def switch_on_other_rule(s: dict[str, Any]) -> None:
    s["PerformTrafficSwitch"]["Parameters"]["RuleArn"] = "${AdmRule}"


def failure_skips_rollback(s: dict[str, Any]) -> None:
    s["NoteFailedCall"]["Next"] = "CutoverFailed"


def rollback_fixed_weights(s: dict[str, Any]) -> None:
    config = s["RollBack"]["Parameters"]["DefaultActions"][0]["ForwardConfig"]
    del config["TargetGroups.$"]
    config["TargetGroups"] = [{"TargetGroupArn.$": "$.target.previous_group", "Weight": 100}]


def health_wait_unbounded(s: dict[str, Any]) -> None:
    for name in ("EnoughTargets", "TargetsHealthy"):
        s[name]["Choices"] = [c for c in s[name]["Choices"] if c.get("Variable") != "$.wait.polls"]


def bake_cut_short(s: dict[str, Any]) -> None:
    for choice in s["BakeVerdict"]["Choices"]:
        if choice.get("Variable") == "$.bake.polls":
            choice["NumericGreaterThanEquals"] = 1


def scales_wrong_colour(s: dict[str, Any]) -> None:
    s["TargetGreen"]["Result"]["service"] = "${ApiBlueService}"


def capture_skipped(t: Template) -> None:
    edit_definition(t, "ApiCutover", lambda d: d.update(StartAt="TargetGreen"))


# ---------------------------------------------------------------- operations


def alarms_without_actions(t: Template) -> None:
    for resource in t["Resources"].values():
        if resource["Type"] == "AWS::CloudWatch::Alarm":
            resource["Properties"].pop("AlarmActions", None)


def alarm_actions_disabled(t: Template) -> None:
    props(t, "DbConnectionsAlarm")["ActionsEnabled"] = False


def alarm_to_foreign_topic(t: Template) -> None:
    props(t, "Alb5xxAlarm")["AlarmActions"] = ["arn:aws:sns:us-east-1:999999999999:elsewhere"]


def weekly_backups(t: Template) -> None:
    rule = props(t, "BackupPlan")["BackupPlan"]["BackupPlanRule"][0]
    rule["ScheduleExpression"] = "cron(0 3 ? * SUN *)"


def short_backups(t: Template) -> None:
    rule = props(t, "BackupPlan")["BackupPlan"]["BackupPlanRule"][0]
    rule["Lifecycle"]["DeleteAfterDays"] = 7


def backup_selects_nothing(t: Template) -> None:
    props(t, "BackupSelection")["BackupSelection"]["Resources"] = [
        {"Fn::GetAtt": ["AlbLogsBucket", "Arn"]}
    ]


def no_alarm_subscription(t: Template) -> None:
    del t["Resources"]["AlarmEmail"]


def public_instance(t: Template) -> None:
    props(t, "DbInstance1")["PubliclyAccessible"] = True


# ---------------------------------------------------------------- structure and governance


def green_group_deleted(t: Template) -> None:
    del t["Resources"]["ApiGreenTg"]


def literal_password(t: Template) -> None:
    props(t, "DbCluster")["MasterUserPassword"] = "Sup3rSecretPassw0rd"


def cost_center_dropped(t: Template) -> None:
    tags = props(t, "Vpc")["Tags"]
    tags[:] = [tag for tag in tags if tag["Key"] != "CostCenter"]


def wildcard_action(t: Template) -> None:
    statements(t, "ApiTaskRole").append(
        {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::payment-dev/*"]}
    )


def scopable_action_on_everything(t: Template) -> None:
    statements(t, "ApiTaskRole").append(
        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}
    )


def ephemeral_keeps_snapshot(t: Template) -> None:
    t["Resources"]["DbCluster"]["DeletionPolicy"] = "Snapshot"


def retained_drops_snapshot(t: Template) -> None:
    t["Resources"]["DbCluster"]["DeletionPolicy"] = "Delete"


def retained_unprotected_cluster(t: Template) -> None:
    props(t, "DbCluster")["DeletionProtection"] = False


def rotation_transform_dropped(t: Template) -> None:
    del t["Transform"]


def made_up_rotation_lambda(t: Template) -> None:
    schedule = props(t, "DbSecretRotation")
    del schedule["HostedRotationLambda"]
    schedule["RotationLambdaARN"] = "arn:aws:lambda:us-east-1:123456789012:function:rotate"


def rotation_every_90_days(t: Template) -> None:
    props(t, "DbSecretRotation")["RotationRules"] = {"AutomaticallyAfterDays": 90}


def private_route_without_nat(t: Template) -> None:
    props(t, "PrivateRoutes1Default")["NatGatewayId"] = "nat-123"


def name_without_environment(t: Template) -> None:
    props(t, "Cluster")["ClusterName"] = "payment-cluster"


def export_without_prefix(t: Template) -> None:
    t["Outputs"]["VpcId"]["Export"]["Name"] = "VpcId"


def secret_not_exported(t: Template) -> None:
    del t["Outputs"]["DbSecretArn"]


def unhealthy_alarms_deleted(t: Template) -> None:
    for name in [k for k in t["Resources"] if k.endswith("UnhealthyAlarm")]:
        del t["Resources"][name]


def dashboard_without_rds(t: Template) -> None:
    body = props(t, "Dashboard")["DashboardBody"]
    body["Fn::Sub"] = body["Fn::Sub"].replace("AWS/RDS", "AWS/Other")


def container_runs_as_root(t: Template) -> None:
    props(t, "ApiBlueTask")["ContainerDefinitions"][0]["User"] = "0"


def task_pulls_ecr_public(t: Template) -> None:
    props(t, "ApiBlueTask")["ContainerDefinitions"][0]["Image"] = UPSTREAM_IMAGE


def image_cache_dropped(t: Template) -> None:
    del t["Resources"]["ImageCacheRule"]
    for body in t["Resources"].values():
        if "ImageCacheRule" in body.get("DependsOn", []):
            body["DependsOn"].remove("ImageCacheRule")


def public_subnet_dropped(t: Template) -> None:
    for name in ("PublicSubnet3", "PublicRoutesSubnet3"):
        del t["Resources"][name]
    props(t, "Alb")["Subnets"] = PUBLIC_SUBNETS[:2]


# ---------------------------------------------------------------- egress and the edge


def web_https_anywhere(t: Template) -> None:
    """routed.yaml's web pulls from the region's ECR: its tasks may not open HTTPS anywhere."""
    egress = props(t, "WebTasksSg")["SecurityGroupEgress"]
    egress.append({"CidrIp": ANYWHERE, "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443})


def web_psp_port_widened(t: Template) -> None:
    for rule in props(t, "WebTasksSg")["SecurityGroupEgress"]:
        if rule.get("CidrIp") == "185.60.216.0/24":
            rule["FromPort"], rule["ToPort"] = 0, 65535


def endpoints_from_internet(t: Template) -> None:
    add(
        t,
        "EndpointsFromInternetIngress",
        "AWS::EC2::SecurityGroupIngress",
        {
            "GroupId": {"Fn::GetAtt": ["EndpointsSg", "GroupId"]},
            "CidrIp": ANYWHERE,
            "IpProtocol": "tcp",
            "FromPort": 443,
            "ToPort": 443,
        },
    )


def waf_unassociated(t: Template) -> None:
    del t["Resources"]["WafAssociation"]


def waf_second_alb_unassociated(t: Template) -> None:
    """routed.yaml's adm is served by a second load balancer, which must be guarded too."""
    del t["Resources"]["WafAlb2Association"]


def _waf_rules(t: Template) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = props(t, "Waf")["Rules"]
    return rules


def waf_sqli_dropped(t: Template) -> None:
    rules = _waf_rules(t)
    rules[:] = [r for r in rules if r["Name"] != "AWSManagedRulesSQLiRuleSet"]


def waf_common_counts(t: Template) -> None:
    for rule in _waf_rules(t):
        if rule["Name"] == "AWSManagedRulesCommonRuleSet":
            rule["OverrideAction"] = {"Count": {}}


def waf_no_rate_limit(t: Template) -> None:
    rules = _waf_rules(t)
    rules[:] = [r for r in rules if "RateBasedStatement" not in r["Statement"]]


def waf_logs_unredacted(t: Template) -> None:
    del props(t, "WafLogging")["RedactedFields"]


def waf_unlogged(t: Template) -> None:
    del t["Resources"]["WafLogging"]


# ---------------------------------------------------------------- logs kept and protected


def key_grants_unlimited(t: Template) -> None:
    found = key_statements(t, "DataKey")
    found[:] = [s for s in found if s.get("Sid") != "GrantsOnlyForAwsResources"]


def log_bucket_unversioned(t: Template) -> None:
    props(t, "AlbLogsBucket")["VersioningConfiguration"]["Status"] = "Suspended"


def log_bucket_unlogged(t: Template) -> None:
    del props(t, "AlbLogsBucket")["LoggingConfiguration"]


def log_bucket_silent(t: Template) -> None:
    del props(t, "AlbLogsBucket")["NotificationConfiguration"]


def log_bucket_unlocked(t: Template) -> None:
    bucket = props(t, "AlbLogsBucket")
    del bucket["ObjectLockEnabled"], bucket["ObjectLockConfiguration"]


def db_general_log_not_exported(t: Template) -> None:
    cluster = props(t, "DbCluster")
    cluster["EnableCloudwatchLogsExports"].remove("general")


OTHER_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:payment/other-AbCdEf"


def execution_reads_other_secret(t: Template) -> None:
    read = next(s for s in statements(t, "ApiExecutionRole") if s["Sid"] == "ReadServiceSecrets")
    read["Resource"].append(OTHER_SECRET)


def secret_decrypt_anywhere(t: Template) -> None:
    decrypt = next(
        s for s in statements(t, "ApiExecutionRole") if s["Sid"] == "DecryptServiceSecrets"
    )
    del decrypt["Condition"]


def rotation_function_logs_unheld(t: Template) -> None:
    del t["Resources"]["DbRotationLogGroup"]
    rotation = t["Resources"]["DbSecretRotation"]
    rotation["DependsOn"] = [d for d in rotation["DependsOn"] if d != "DbRotationLogGroup"]


def insights_logs_unheld(t: Template) -> None:
    del t["Resources"]["ClusterInsightsLogGroup"]
    del t["Resources"]["Cluster"]["DependsOn"]
