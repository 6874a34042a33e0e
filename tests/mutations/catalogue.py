"""The mutation catalogue: one row per deliberate breakage, the invariant it breaks, how it is
applied to a CloudFormation template and to a mocked Pulumi plan, and what the checkers must say.

`expect` is a fragment of the finding the checker must report (the same words for both backends,
since both are judged by the same semantic checks); `spec`/`environment` name the platform the
mutation is applied to. tests/test_mutations.py runs every row; docs/testing.md shows the table
with how many rows the checkers caught before and after the semantic checkers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.builds import REFERENCE, ROUTED, WITH_SECRETS
from tests.mutations import cfn, pulumi

Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Mutation:
    id: str
    breaks: str  # the invariant, in a user's words
    cfn: Edit | None
    pulumi: Edit | None
    # A fragment of the finding the checkers must report: one for both backends (the semantic
    # judges word it alike), or (cfn, pulumi) where only each backend's structural checks see it.
    expect: str | tuple[str, str]
    spec: Path = REFERENCE
    environment: str | None = None

    def expected(self, backend: str) -> str:
        if isinstance(self.expect, str):
            return self.expect
        return self.expect[0] if backend == "cfn" else self.expect[1]


def both(name: str) -> tuple[Edit, Edit]:
    return getattr(cfn, name), getattr(pulumi, name)


def asl(edit: Callable[[dict[str, Any]], None]) -> tuple[Edit, Edit]:
    """The same edit of the cutover machine's states, in either artifact."""
    return cfn.states(edit), pulumi.states(edit)


def row(
    id: str,
    breaks: str,
    edits: tuple[Edit | None, Edit | None],
    expect: str | tuple[str, str],
    **where: Any,
) -> Mutation:
    return Mutation(id, breaks, edits[0], edits[1], expect, **where)


MUTATIONS: tuple[Mutation, ...] = (
    # reachability: who can reach what, on which ports
    row(
        "db-ingress-from-internet",
        "the database accepts only the tasks (and the rotation function) on 3306",
        both("db_ingress_from_internet"),
        "internet -> db",
    ),
    row(
        "db-egress-open",
        "the database opens no connection",
        both("db_egress_open"),
        "db -> internet",
    ),
    row(
        "db-default-egress",
        "the database opens no connection (AWS's default egress is allow-all)",
        (cfn.db_default_egress, None),
        "db -> internet",
    ),
    row(
        "tasks-egress-open",
        "tasks reach the internet on 443 only",
        both("tasks_egress_open"),
        "tasks:api -> internet",
    ),
    row(
        "tasks-https-anywhere",
        "tasks with an image in the region's ECR reach AWS through endpoints, not the internet",
        both("web_https_anywhere"),
        "tasks:web -> internet on tcp 443",
        spec=ROUTED,
    ),
    row(
        "psp-egress-widened",
        "tasks reach a declared destination on its declared port only",
        both("web_psp_port_widened"),
        "tasks:web -> destination:185.60.216.0/24 on tcp 0-65535",
        spec=ROUTED,
    ),
    row(
        "endpoints-from-internet",
        "the VPC endpoints admit the tasks and the rotation function only",
        both("endpoints_from_internet"),
        "internet -> endpoint on tcp 443",
    ),
    row(
        "tasks-ingress-from-internet",
        "tasks accept only the load balancer",
        both("tasks_ingress_from_internet"),
        "internet -> tasks:api",
    ),
    row(
        "alb-ingress-ssh",
        "the load balancer accepts only 80 and 443",
        both("alb_ingress_ssh"),
        "internet -> alb on tcp 22",
    ),
    row(
        "alb-egress-anywhere",
        "the load balancer talks only to the tasks on their port",
        both("alb_egress_anywhere"),
        "alb -> internet",
    ),
    row(
        "tasks-ingress-all-ports",
        "tasks accept the load balancer on their port only",
        both("tasks_ingress_all_ports"),
        "alb -> tasks:api on tcp 0-65535",
    ),
    row(
        "tasks-unreachable",
        "the load balancer reaches the tasks on their port",
        both("tasks_unreachable"),
        "alb cannot reach tasks:api on tcp 8080",
    ),
    row(
        "db-unreachable",
        "the tasks reach the database on 3306",
        both("db_unreachable"),
        "tasks:api cannot reach db on tcp 3306",
    ),
    row(
        "db-from-alb",
        "only the tasks and the rotation function reach the database",
        both("db_from_alb"),
        "alb -> db",
    ),
    # placement
    row(
        "db-subnets-public",
        "the database lives in private subnets",
        both("db_subnets_public"),
        "DbSubnets: in public subnets",
    ),
    row(
        "tasks-public-ip",
        "tasks get no public IP",
        both("tasks_public_ip"),
        "ApiBlueService: assigns public IPs",
    ),
    row(
        "tasks-public-subnets",
        "tasks run in private subnets",
        both("tasks_public_subnets"),
        "ApiGreenService: in public subnets",
    ),
    row(
        "alb-private-subnets",
        "the internet-facing load balancer sits in the 3 public subnets",
        both("alb_private_subnets"),
        "Alb: in private subnets",
    ),
    row(
        "nat-private-subnet",
        "a NAT gateway sits in a public subnet",
        both("nat_private_subnet"),
        "Nat1: in private subnets",
    ),
    row(
        "rotation-public-subnets",
        "the rotation function runs in private subnets",
        both("rotation_public_subnets"),
        "in public subnets",
    ),
    # IAM: what each role may do, against its job
    row(
        "cutover-without-modify",
        "the cutover role may move its own traffic",
        both("cutover_without_modify"),
        "ApiCutoverRole: lacks elasticloadbalancing:ModifyListener on <HttpsListener>",
    ),
    row(
        "cutover-role-emptied",
        "the cutover role may do what its machine calls",
        both("cutover_role_emptied"),
        "ApiCutoverRole: lacks",
    ),
    row(
        "cutover-role-extra",
        "the cutover role may do nothing but the cutover",
        both("cutover_role_extra"),
        "ApiCutoverRole: elasticloadbalancing:DeleteLoadBalancer",
    ),
    row(
        "execution-without-logs",
        "the execution role writes the tasks' logs",
        both("execution_without_logs"),
        "ApiExecutionRole: lacks logs:PutLogEvents on <ApiLogGroup>:*",
    ),
    row(
        "task-without-secret",
        "tasks read the database secret",
        both("task_without_secret"),
        "ApiTaskRole: lacks secretsmanager:GetSecretValue on <DbSecret>",
    ),
    row(
        "task-extra-action",
        "tasks may do nothing beyond their configuration and secret",
        both("task_extra_action"),
        "ApiTaskRole: s3:GetObject",
    ),
    row(
        "task-reads-all-parameters",
        "tasks read only their platform's parameters",
        both("task_reads_all_parameters"),
        "ApiTaskRole: ssm:GetParameter on arn:{partition}:ssm:{region}:{account}:parameter/*",
    ),
    row(
        "task-role-trusts-anyone",
        "only ECS tasks may assume the task role",
        both("task_role_trusts_anyone"),
        "ApiTaskRole: assumable by aws:*",
    ),
    row(
        "flow-logs-role-other-group",
        "flow logs are written to their own log group",
        both("flow_logs_role_other_group"),
        "FlowLogsRole: lacks logs:PutLogEvents on <FlowLogsLogGroup>",
    ),
    row(
        "backup-role-unpowered",
        "AWS Backup may back the cluster up",
        both("backup_role_unpowered"),
        "BackupRole: lacks the managed policy AWSBackupServiceRolePolicyForBackup",
    ),
    # KMS: who may use each key, and every encrypted thing on its intended key
    row(
        "data-key-without-cloudwatch",
        "alarms can publish to the encrypted topic",
        both("data_key_without_cloudwatch"),
        "AlarmTopic: its key DataKey does not let cloudwatch.{urlsuffix} use it",
    ),
    row(
        "logs-key-without-logs",
        "CloudWatch Logs may use the logs key",
        both("logs_key_without_logs"),
        "ApiLogGroup: its key LogsKey does not let logs.{region}.{urlsuffix} use it",
    ),
    row(
        "data-key-rotation-off",
        "customer keys rotate",
        both("data_key_rotation_off"),
        "DataKey: key rotation is off",
    ),
    row(
        "key-open-to-everyone",
        "a key is used only by its account and the services it serves",
        both("key_open_to_everyone"),
        "DataKey: grants aws:*",
    ),
    row(
        "secret-without-key",
        "the secret is encrypted with the data key",
        both("secret_without_key"),
        "DbSecret: not encrypted with a customer key",
    ),
    row(
        "topic-without-key",
        "the alarm topic is encrypted with the data key",
        both("topic_without_key"),
        "AlarmTopic: not encrypted with a customer key",
    ),
    row(
        "cluster-without-key",
        "the database is encrypted with the data key",
        both("cluster_without_key"),
        "DbCluster: not encrypted with a customer key",
    ),
    row(
        "vault-with-logs-key",
        "backups are encrypted with the data key",
        both("vault_with_logs_key"),
        "BackupVault: encrypted with LogsKey, not the data key DataKey",
    ),
    row(
        "log-group-with-data-key",
        "log groups use the logs key",
        both("log_group_with_data_key"),
        "ApiLogGroup: its key DataKey does not let logs.{region}.{urlsuffix} use it",
    ),
    row(
        "storage-unencrypted",
        "the database's storage is encrypted",
        both("storage_unencrypted"),
        "DbCluster: storage is not encrypted",
    ),
    # logs
    row(
        "log-group-without-key",
        "every log group is encrypted",
        both("log_group_without_key"),
        "ApiLogGroup: not encrypted with a customer key",
    ),
    row(
        "log-group-one-day",
        "logs are kept at least a year (PCI DSS 10.5.1)",
        both("log_group_one_day"),
        "ApiCutoverLogGroup: keeps logs 1 days",
    ),
    row(
        "execution-reads-other-secret",
        "a service's execution role reads exactly the secrets its container is given",
        both("execution_reads_other_secret"),
        "secret:payment/other-AbCdEf: more than its job needs",
        spec=WITH_SECRETS,
    ),
    row(
        "managed-policy-detached",
        "the execution role's managed policy is attached to it: tasks pull their secrets",
        both("execution_policy_detached"),
        "ApiExecutionRole: lacks secretsmanager:GetSecretValue",
        spec=WITH_SECRETS,
    ),
    row(
        "managed-policy-every-action",
        "a managed policy allows no wildcard action",
        both("execution_policy_every_action"),
        "ApiExecutionRole: * on every resource",
    ),
    row(
        "managed-policy-every-resource",
        "a managed policy names the resources it grants, not '*'",
        both("task_policy_every_resource"),
        "ApiTaskRole: secretsmanager:GetSecretValue on every resource",
    ),
    row(
        "secret-decrypt-anywhere",
        "a service's execution role decrypts its secrets only through Secrets Manager",
        both("secret_decrypt_anywhere"),
        "ApiExecutionRole: kms:Decrypt on",
        spec=WITH_SECRETS,
    ),
    row(
        "rotation-function-logs-unheld",
        "the rotation function logs into an encrypted log group of the platform",
        both("rotation_function_logs_unheld"),
        "the function logs to /aws/lambda/payment-db-secret-rotation-dev, a log group the "
        "platform does not hold",
    ),
    row(
        "insights-logs-unheld",
        "Container Insights logs into an encrypted log group of the platform",
        both("insights_logs_unheld"),
        "payment-cluster-dev: Container Insights logs to /aws/ecs/containerinsights/"
        "payment-cluster-dev/performance, a log group the platform does not hold",
    ),
    row(
        "log-bucket-unversioned",
        "the ALB's access logs keep their versions",
        both("log_bucket_unversioned"),
        "AlbLogsBucket: ALB access logs without versions",
    ),
    row(
        "log-bucket-unlogged",
        "requests to the ALB's access logs are logged into another bucket",
        both("log_bucket_unlogged"),
        "AlbLogsBucket: requests to the ALB logs are not logged",
    ),
    row(
        "log-bucket-silent",
        "the ALB's access-log bucket sends its object events to EventBridge",
        both("log_bucket_silent"),
        "AlbLogsBucket: its object events reach no one",
    ),
    row(
        "log-bucket-unlocked",
        "a retained platform locks its ALB access logs for a year",
        both("log_bucket_unlocked"),
        "AlbLogsBucket: a retained platform's ALB logs must be locked for 365 days",
        environment="prod",
    ),
    row(
        "db-general-log-not-exported",
        "the database exports all four MySQL logs",
        both("db_general_log_not_exported"),
        "DbCluster: does not export its general log",
    ),
    row(
        "key-grants-unlimited",
        "only AWS services create grants on the keys",
        both("key_grants_unlimited"),
        "DataKey: anyone its policy allows may create grants",
    ),
    row(
        "flow-logs-removed",
        "the VPC's traffic is logged",
        both("flow_logs_removed"),
        "Vpc: no flow log records ALL traffic",
    ),
    row(
        "flow-logs-rejects-only",
        "the VPC's flow log records all traffic",
        both("flow_logs_rejects_only"),
        "Vpc: no flow log records ALL traffic",
    ),
    row(
        "db-audit-log-group-removed",
        "the database's exported logs go to a platform log group",
        both("db_audit_log_group_removed"),
        "DbCluster exports audit logs to /aws/rds/cluster/payment-db-dev/audit",
    ),
    row(
        "machine-logging-off",
        "the cutover's executions are logged",
        both("machine_logging_off"),
        "ApiCutover: logging level OFF",
    ),
    # traffic
    row(
        "https-to-idle",
        "the listener sends all traffic to the live colour",
        both("https_to_idle"),
        "service api: blue is live but gets weight 0",
    ),
    row(
        "http-forwards",
        "port 80 only redirects to HTTPS",
        both("http_forwards"),
        "HttpListener: port 80 does more than redirect",
    ),
    row(
        "service-without-load-balancer",
        "each colour's tasks are registered in its target group",
        both("service_without_load_balancer"),
        "ApiBlueService: registered in no target group",
    ),
    row(
        "service-in-other-group",
        "each colour's tasks sit in their own colour's group",
        both("service_in_other_group"),
        "ApiGreenService (green): registered in ApiBlueTg (blue)",
    ),
    row(
        "alb-access-logs-off",
        "the load balancer's access is logged",
        both("alb_access_logs_off"),
        "Alb: access logs are off",
    ),
    row(
        "alb-keeps-invalid-headers",
        "the load balancer drops invalid headers",
        both("alb_keeps_invalid_headers"),
        "Alb: invalid header fields are not dropped",
    ),
    row(
        "alb-unprotected",
        "a retained load balancer has deletion protection",
        both("alb_unprotected"),
        "Alb: deletion protection false",
        environment="prod",
    ),
    row("old-tls", "HTTPS refuses TLS below 1.2", both("old_tls"), "TLS below 1.2"),
    row(
        "idle-colour-runs",
        "the idle colour runs no tasks",
        both("idle_colour_runs"),
        "ApiGreenService: 2 tasks, 0 wanted",
    ),
    row(
        "web-rule-other-path",
        "a routed service's rule matches its route",
        both("web_rule_other_path"),
        "service web: routed by path /*, spec says path /web/*",
        spec=ROUTED,
    ),
    # cutover: the state machine's behaviour
    row(
        "switch-is-pass",
        "the switch moves the traffic",
        asl(cfn.switch_is_pass),
        "ApiCutover: no state sends all traffic to the target colour",
    ),
    row(
        "rollback-is-pass",
        "a failed cutover restores the captured weights",
        asl(cfn.rollback_is_pass),
        "ApiCutover: no state restores the captured weights",
    ),
    row(
        "switch-on-http-listener",
        "the switch moves the service's own traffic",
        (cfn.states(cfn.switch_on_http_listener), pulumi.switch_on_http_listener),
        "ApiCutover: PerformTrafficSwitch modifies <HttpListener>, not <HttpsListener>",
    ),
    row(
        "switch-on-other-rule",
        "a cutover never moves another service's traffic",
        (cfn.states(cfn.switch_on_other_rule, "WebCutover"), pulumi.switch_on_other_rule),
        "WebCutover: PerformTrafficSwitch modifies <AdmRule>, not <WebRule>",
        spec=ROUTED,
    ),
    row(
        "failure-skips-rollback",
        "every failure after the first change rolls back",
        asl(cfn.failure_skips_rollback),
        "ApiCutover: ScaleUpIdleColor can end in CutoverFailed without the rollback",
    ),
    row(
        "rollback-fixed-weights",
        "the rollback restores the weights it captured",
        asl(cfn.rollback_fixed_weights),
        "ApiCutover: no state restores the captured weights",
    ),
    row(
        "health-wait-unbounded",
        "the health wait is bounded",
        asl(cfn.health_wait_unbounded),
        "ApiCutover: the loop through WaitForTargets has no bound",
    ),
    row(
        "bake-cut-short",
        "the bake lasts the spec's bake time",
        asl(cfn.bake_cut_short),
        "ApiCutover: the bake waits 15 s, spec says 300 s",
    ),
    row(
        "scales-wrong-colour",
        "a cutover scales the colour it moves to",
        (cfn.states(cfn.scales_wrong_colour), pulumi.scales_wrong_colour),
        "ApiCutover: TargetGreen pairs ApiGreenTg with ApiBlueService",
    ),
    row(
        "capture-skipped",
        "the weights are captured before anything changes",
        both("capture_skipped"),
        "ApiCutover: ScaleUpIdleColor changes something before the weights are captured",
    ),
    # operations
    row(
        "alarms-without-actions",
        "every alarm notifies",
        both("alarms_without_actions"),
        "Alb5xxAlarm: no alarm action",
    ),
    row(
        "alarm-actions-disabled",
        "every alarm's actions are enabled",
        both("alarm_actions_disabled"),
        "DbConnectionsAlarm: actions disabled",
    ),
    row(
        "alarm-to-foreign-topic",
        "alarms notify the platform's own topic",
        both("alarm_to_foreign_topic"),
        "Alb5xxAlarm: notifies arn:{partition}:sns:{region}:999999999999:elsewhere",
    ),
    row(
        "weekly-backups",
        "backups run at least daily",
        both("weekly_backups"),
        "BackupPlan: cron(0 3 ? * SUN *) runs less often than daily",
    ),
    row(
        "short-backups",
        "backups are kept as long as the spec says",
        both("short_backups"),
        "BackupPlan: keeps backups 7 days, spec says 30",
    ),
    row(
        "backup-selects-nothing",
        "the backup plan selects the cluster",
        both("backup_selects_nothing"),
        "DbCluster: no backup selection covers it",
    ),
    row(
        "no-alarm-subscription",
        "alarms reach the on-call e-mail",
        both("no_alarm_subscription"),
        "AlarmTopic: no subscription for payments-oncall@example.com",
    ),
    row(
        "public-instance",
        "no database instance is public",
        both("public_instance"),
        "DbInstance1: publicly accessible",
    ),
    # structure and governance (what the structural checks of each backend see)
    row(
        "green-group-deleted",
        "each service has a blue and a green target group",
        both("green_group_deleted"),
        "service api: target groups coloured ['blue'], wants blue and green",
    ),
    row(
        "literal-password",
        "the master password is generated, never a literal (F3)",
        both("literal_password"),
        ("MasterUserPassword is not a dynamic", "masterPasswordWo is not the generated"),
    ),
    row(
        "cost-center-dropped",
        "every resource carries the spec's tags (F14)",
        both("cost_center_dropped"),
        ("Vpc: tag CostCenter=None", "Vpc lacks tags ['CostCenter']"),
    ),
    row(
        "wildcard-action",
        "no wildcard actions (F15)",
        both("wildcard_action"),
        "wildcard actions ['s3:*']",
    ),
    row(
        "scopable-action-on-everything",
        "Resource '*' only for actions AWS cannot scope (F15)",
        both("scopable_action_on_everything"),
        "ApiTaskRole: s3:GetObject on every resource",
    ),
    row(
        "ephemeral-keeps-snapshot",
        "an ephemeral platform deletes cleanly (F5)",
        both("ephemeral_keeps_snapshot"),
        ("ephemeral needs Delete", "an ephemeral cluster must skip its final snapshot"),
    ),
    row(
        "retained-drops-snapshot",
        "a retained platform keeps a final snapshot (F5)",
        both("retained_drops_snapshot"),
        (
            "DeletionPolicy Delete, retained needs Snapshot",
            "a retained cluster must keep a final snapshot",
        ),
        environment="prod",
    ),
    row(
        "retained-unprotected-cluster",
        "a retained database has deletion protection (F5)",
        both("retained_unprotected_cluster"),
        "DbCluster: deletion protection False, retained wants True",
        environment="prod",
    ),
    row(
        "rotation-transform-dropped",
        "hosted rotation has the transform it needs (F7)",
        (cfn.rotation_transform_dropped, None),
        "lacks AWS::SecretsManager-2020-07-23",
    ),
    row(
        "made-up-rotation-lambda",
        "the rotation function exists (F7)",
        both("made_up_rotation_lambda"),
        ("literal RotationLambdaARN", "SAR rotation stack"),
    ),
    row(
        "rotation-every-90-days",
        "the secret rotates every secret_rotation_days (F7)",
        both("rotation_every_90_days"),
        "rotates after 90 days",
    ),
    row(
        "private-route-without-nat",
        "private subnets route through a NAT gateway (F16)",
        both("private_route_without_nat"),
        "ApiBlueService: in mixed subnets",
    ),
    row(
        "name-without-environment",
        "every physical name ends in the environment (F19)",
        both("name_without_environment"),
        ("'payment-cluster' is not", "lacks the environment dev"),
    ),
    row(
        "export-without-prefix",
        "exports are environment-suffixed (F17)",
        (cfn.export_without_prefix, None),
        "does not start with 'payment-dev-'",
    ),
    row(
        "secret-not-exported",
        "the secret's ARN is an output (F17)",
        both("secret_not_exported"),
        ("DbSecret (AWS::SecretsManager::Secret)", "output DbSecretArn is missing"),
    ),
    row(
        "unhealthy-alarms-deleted",
        "unhealthy targets raise an alarm (F10)",
        both("unhealthy_alarms_deleted"),
        "ApiBlueTg: no AWS/ApplicationELB UnHealthyHostCount alarm",
    ),
    row(
        "dashboard-without-rds",
        "the dashboard shows the database (F9)",
        (cfn.dashboard_without_rds, None),
        "dashboard lacks ['AWS/RDS']",
    ),
    row(
        "container-runs-as-root",
        "containers never run as root",
        both("container_runs_as_root"),
        "ApiBlueTask: the container runs as root",
    ),
    row(
        "task-pulls-ecr-public",
        "tasks pull an ECR Public image through the platform's cache, not past the endpoints",
        both("task_pulls_ecr_public"),
        "from ECR Public directly",
    ),
    row(
        "image-cache-dropped",
        "an image the tasks pull from the cache has its pull-through cache rule",
        both("image_cache_dropped"),
        "no pull-through cache rule for public.ecr.aws under",
    ),
    row(
        "public-subnet-dropped",
        "three public subnets in three zones (F1)",
        both("public_subnet_dropped"),
        "Alb: spans 2 availability zones, not 3",
    ),
    # the edge: AWS WAF in front of the load balancer (PAY-WAF-001)
    row(
        "waf-unassociated",
        "the load balancer sits behind the web ACL",
        both("waf_unassociated"),
        "no web ACL (WAF) in front of it",
    ),
    row(
        "waf-second-alb-unassociated",
        "every load balancer sits behind the web ACL, not only the first",
        both("waf_second_alb_unassociated"),
        "Alb2: no web ACL (WAF) in front of it",
        spec=ROUTED,
    ),
    row(
        "waf-sqli-dropped",
        "the web ACL runs AWS's SQL injection rules",
        both("waf_sqli_dropped"),
        "does not run AWSManagedRulesSQLiRuleSet",
    ),
    row(
        "waf-common-counts",
        "the web ACL's managed rules block, not only count",
        both("waf_common_counts"),
        "only counts AWSManagedRulesCommonRuleSet",
    ),
    row(
        "waf-no-rate-limit",
        "the web ACL blocks a client over the rate limit",
        both("waf_no_rate_limit"),
        "no blocking rate limit",
    ),
    row(
        "waf-logs-unredacted",
        "the WAF's logs keep no Authorization or Cookie header",
        both("waf_logs_unredacted"),
        "keep the authorization, cookie header",
    ),
    row(
        "waf-unlogged",
        "the web ACL is logged",
        both("waf_unlogged"),
        "the web ACL is not logged",
    ),
)
