"""The Pulumi plan in every partition and in regions whose zones differ: the zone lookup leaves
Local Zones out, the rotation function is the region's partition's own pinned application, and
every ARN and regional endpoint carries the partition and its DNS suffix.

Each plan is read from its own JSON; the mocks answer as AWS would for that region (zones an
account sees, zone ids, the partition's DNS suffix), so a program that ignored the region would
show it here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi.runtime import MockCallArgs

import paycompile
from paycompile.backends.pulumi.mocks import AwsMocks

ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}
ZONES = "aws:index/getAvailabilityZones:getAvailabilityZones"
# ARNs and endpoints still written with the commercial partition: none (each entry must still
# occur, so that it is removed here once fixed, and nothing else may).
PENDING: dict[str, dict[str, str]] = {"aws-cn": {}, "aws-us-gov": {}}


@cache
def plan_in(region: str, partition: str) -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "examples" / "platform.yaml").read_text())
    document["region"] = region
    # paycompile knows the S3 prefix list of a few regions only (PAY-NET-004): any id will do
    # for a plan, which never looks it up.
    document["network"]["s3_prefix_list_id"] = "pl-0123abcd"
    document["tls"]["certificate_arn"] = (
        f"arn:{partition}:acm:{region}:123456789012:certificate/0f3c4b1e-7a2d-4c5e-9b8a-1d2e3f4a5b6c"
    )
    spec = paycompile.load_spec_text(yaml.safe_dump(document), "platform.yaml")
    result: dict[str, Any] = json.loads(paycompile.render(paycompile.compile_spec(spec), "pulumi"))
    return result


def resource(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["name"] == name)


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    elif isinstance(value, str):
        yield value


def zone_lookup(region: str, **args: Any) -> dict[str, Any]:
    answer, _ = AwsMocks(region).call(MockCallArgs(ZONES, args, ""))
    return answer


def test_without_the_opt_in_filter_a_local_zone_would_come_first() -> None:
    """The mock answers like DescribeAvailabilityZones: opted-in Local Zones are `available`
    and sort first, which is why the program filters on `opt-in-status`."""
    assert zone_lookup("us-east-1", state="available")["names"][0] == "us-east-1-bos-1a"
    standard = zone_lookup(
        "us-east-1",
        state="available",
        filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
    )
    assert standard["names"] == [f"us-east-1{letter}" for letter in "abcdef"]
    assert standard["zoneIds"][:3] == ["use1-az6", "use1-az1", "use1-az2"]


@pytest.mark.parametrize(
    ("region", "partition", "letters"),
    [
        ("us-east-1", "aws", "abc"),  # six zones and two Local Zones
        ("us-west-2", "aws", "abc"),  # four zones and a Local Zone
        ("ap-northeast-1", "aws", "acd"),  # no zone b for new accounts
        ("cn-north-1", "aws-cn", "abd"),
        ("eu-west-1", "aws", "abc"),
    ],
)
def test_subnets_take_the_first_three_standard_zones(
    region: str, partition: str, letters: str
) -> None:
    plan = plan_in(region, partition)
    for tier in ("Public", "Private"):
        zones = [
            resource(plan, f"{tier}Subnet{i}")["inputs"]["availabilityZone"] for i in (1, 2, 3)
        ]
        assert zones == [f"{region}{letter}" for letter in letters]


@pytest.mark.parametrize(
    ("region", "partition", "application", "version"),
    [
        ("us-east-1", "aws", "arn:aws:serverlessrepo:us-east-1:297356227824:", "1.1.671"),
        ("eu-central-1", "aws", "arn:aws:serverlessrepo:us-east-1:297356227824:", "1.1.671"),
        ("cn-north-1", "aws-cn", "arn:aws-cn:serverlessrepo:cn-north-1:193023089310:", "1.1.440"),
        (
            "us-gov-west-1",
            "aws-us-gov",
            "arn:aws-us-gov:serverlessrepo:us-gov-west-1:023102451235:",
            "1.1.397",
        ),
    ],
)
def test_each_partition_deploys_its_own_pinned_rotation_function(
    region: str, partition: str, application: str, version: str
) -> None:
    stack = resource(plan_in(region, partition), "DbSecretRotationFunction")["inputs"]
    expected = f"{application}applications/SecretsManagerRDSMySQLRotationSingleUser"
    assert stack["applicationId"] == expected
    assert stack["semanticVersion"] == version
    endpoint = f"https://secretsmanager.{region}.{PARTITIONS[partition]}"
    assert stack["parameters"]["endpoint"] == endpoint


@pytest.mark.parametrize(
    ("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")]
)
def test_every_arn_and_regional_endpoint_is_in_the_regions_partition(
    region: str, partition: str
) -> None:
    plan = plan_in(region, partition)
    suffix = PARTITIONS[partition]
    wrong: dict[str, set[str]] = {}
    for item in plan["resources"]:
        for text in strings(item["inputs"]):
            arns = re.findall(r"arn:aws[a-z-]*:[^\s\"',]*", text)
            bad = {arn for arn in arns if not arn.startswith(f"arn:{partition}:")}
            hosts = re.findall(rf"[a-z0-9.-]*\.{region}\.amazonaws\.com(?:\.cn)?", text)
            bad |= {host for host in hosts if not host.endswith(f".{suffix}")}
            if bad:
                wrong.setdefault(item["name"], set()).update(bad)
    pending = {name: marker.format(region=region) for name, marker in PENDING[partition].items()}
    assert sorted(wrong) == sorted(pending), wrong
    for name, marker in pending.items():
        assert all(marker in value for value in wrong[name]), (name, wrong[name])


def test_china_uses_its_dns_suffix_for_the_logs_principal_and_endpoints() -> None:
    plan = plan_in("cn-north-1", "aws-cn")
    policy = json.loads(resource(plan, "LogsKey")["inputs"]["policy"])
    services = [s["Principal"].get("Service") for s in policy["Statement"]]
    assert "logs.cn-north-1.amazonaws.com.cn" in services
    assert plan["outputs"]["AlbDnsName"].endswith(".cn-north-1.elb.amazonaws.com.cn")
    assert plan["outputs"]["DbClusterEndpoint"].endswith(".cn-north-1.rds.amazonaws.com.cn")


def test_mocked_outputs_have_aws_shapes() -> None:
    outputs = plan_in("us-east-1", "aws")["outputs"]
    account = "123456789012"
    shapes = {
        "VpcId": r"vpc-[0-9a-f]{17}",
        "PublicSubnet1Id": r"subnet-[0-9a-f]{17}",
        "AlbSgId": r"sg-[0-9a-f]{17}",
        "AlbArn": rf"arn:aws:elasticloadbalancing:us-east-1:{account}:"
        r"loadbalancer/app/payment-alb-dev/[0-9a-f]{16}",
        "ApiBlueTgArn": rf"arn:aws:elasticloadbalancing:us-east-1:{account}:"
        r"targetgroup/[a-z0-9-]{1,32}/[0-9a-f]{16}",
        "HttpsListenerArn": rf"arn:aws:elasticloadbalancing:us-east-1:{account}:"
        r"listener/app/payment-alb-dev/[0-9a-f]{16}/[0-9a-f]{16}",
        "DbSecretArn": rf"arn:aws:secretsmanager:us-east-1:{account}:"
        r"secret:payment-db-secret-dev-[0-9a-f]{6}",
        "DbClusterArn": rf"arn:aws:rds:us-east-1:{account}:cluster:payment-db-dev",
        "DataKeyArn": rf"arn:aws:kms:us-east-1:{account}:key/[0-9a-f-]{{36}}",
        "ApiBlueServiceArn": rf"arn:aws:ecs:us-east-1:{account}:service/payment-cluster-dev/.+",
        "AlbLogsBucketName": r"payment-alb-logs-bucket-dev-\d{26}",
        "DbClusterEndpoint": (
            r"payment-db-dev\.cluster-[0-9a-f]{12}\.us-east-1\.rds\.amazonaws\.com"
        ),
    }
    for name, shape in shapes.items():
        assert re.fullmatch(shape, outputs[name]), (name, outputs[name])
