"""Spec -> resource graph: every area of the platform, then the outputs, then the rules."""

from __future__ import annotations

from paycompile.compiler.builder import Builder, ref
from paycompile.compiler.compute import Credentials, add_compute
from paycompile.compiler.data import add_data, add_master_secret
from paycompile.compiler.edge import add_edge
from paycompile.compiler.graph import Concat, Graph, Kind, Pseudo
from paycompile.compiler.iam_policies import wait_for_permissions
from paycompile.compiler.network import add_network
from paycompile.compiler.operations import add_operations
from paycompile.compiler.partition import partition
from paycompile.compiler.release import add_release_inputs
from paycompile.compiler.security import kms_key, logs_principal, service_may_use_key
from paycompile.compiler.traffic import add_traffic
from paycompile.spec.model import PlatformSpec


def build_graph(spec: PlatformSpec) -> Graph:
    """The platform's resource graph, without checking the rules (see `compile_spec`)."""
    builder = Builder(spec)
    logs_key = kms_key(
        builder,
        "logs",
        f"Encrypts the log groups of {builder.name()}",
        [
            service_may_use_key(
                "CloudWatchLogsUseKey",
                logs_principal(),
                {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": Concat(("arn:", *_logs_arn_prefix()))
                    }
                },
            )
        ],
    )
    data_key = kms_key(
        builder,
        "data",
        f"Encrypts the data of {builder.name()}: database, secrets, backups, alarm topic",
        [service_may_use_key("CloudWatchAlarmsPublish", "cloudwatch.amazonaws.com")],
    )
    for service in spec.services:
        add_release_inputs(builder, service)
    network = add_network(builder, logs_key)
    traffic = add_traffic(builder, network)
    add_edge(builder, [edge.load_balancer for _, edge in sorted(traffic.edges.items())], logs_key)
    secret = add_master_secret(builder, data_key)
    cluster = add_compute(builder, network, traffic, logs_key, Credentials(secret, data_key))
    data = add_data(builder, network, traffic, secret, data_key, logs_key)
    add_operations(builder, traffic, data, cluster, data_key, logs_key)
    _outputs(builder)
    wait_for_permissions(builder.graph)
    groups = {service.name: service.stack_group for service in spec.services}
    builder.graph.partition = partition(builder.graph, groups)
    return builder.graph


def _logs_arn_prefix() -> tuple[object, ...]:
    return (
        Pseudo("partition"),
        ":logs:",
        Pseudo("region"),
        ":",
        Pseudo("account_id"),
        ":log-group:*",
    )


# (kind, attribute, output name suffix, description) for every id and ARN another stack may need.
_EXPORTED: dict[Kind, tuple[tuple[str, str], ...]] = {
    Kind.VPC: (("id", "Id"),),
    Kind.SUBNET: (("id", "Id"),),
    Kind.SECURITY_GROUP: (("id", "Id"),),
    Kind.LOAD_BALANCER: (("arn", "Arn"), ("dns_name", "DnsName")),
    Kind.LISTENER: (("arn", "Arn"),),
    Kind.TARGET_GROUP: (("arn", "Arn"),),
    Kind.ECS_CLUSTER: (("name", "Name"), ("arn", "Arn")),
    Kind.ECS_SERVICE: (("arn", "Arn"),),
    Kind.TASK_DEFINITION: (("arn", "Arn"),),
    Kind.DB_CLUSTER: (
        ("arn", "Arn"),
        ("endpoint", "Endpoint"),
        ("reader_endpoint", "ReaderEndpoint"),
    ),
    Kind.SECRET: (("arn", "Arn"),),
    Kind.KMS_KEY: (("arn", "Arn"),),
    Kind.SNS_TOPIC: (("arn", "Arn"),),
    Kind.BACKUP_VAULT: (("arn", "Arn"),),
    Kind.BACKUP_PLAN: (("id", "Id"),),
    Kind.STATE_MACHINE: (("arn", "Arn"),),
    Kind.BUCKET: (("name", "Name"),),
    Kind.WEB_ACL: (("arn", "Arn"),),
}


def exported_attributes(kind: Kind) -> tuple[tuple[str, str], ...]:
    return _EXPORTED.get(kind, ())


def _outputs(builder: Builder) -> None:
    for node in builder.graph:
        for attribute, suffix in exported_attributes(node.kind):
            builder.output(
                f"{node.logical_id}{suffix}",
                ref(node, attribute),
                f"{node.kind} {node.name}: {attribute}",
            )
    for tier in ("public", "private"):
        subnets = [
            ref(node)
            for node in builder.graph.of_kind(Kind.SUBNET)
            if node.props["public"] == (tier == "public")
        ]
        joined = Concat(
            tuple(
                part
                for index, subnet in enumerate(subnets)
                for part in ((",",) if index else ()) + (subnet,)
            )
        )
        builder.output(
            f"{tier.title()}SubnetIds", joined, f"The three {tier} subnets, comma-separated"
        )
