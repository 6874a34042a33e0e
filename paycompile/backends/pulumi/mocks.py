"""A stand-in for AWS under Pulumi's mocks: what each invoke and each new resource would return.

The answers follow AWS's shapes, so that a plan shows what a real deployment would compute:
ids with their service prefixes (`vpc-`, `subnet-`, `sg-`...), ARNs in the region's partition
with each service's resource path, endpoints under the partition's DNS suffix
(`amazonaws.com.cn` in China), and per region the zones a new account sees, zone ids included,
with the opted-in Local Zones that `describe-availability-zones` also returns unless filtered
(`us-east-1-bos-1a` sorts before `us-east-1a`). Every value is derived from the resource's name
by hashing, so the same program always gives the same plan.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks

from paycompile.compiler.data import ROTATION_FUNCTION_OUTPUT
from paycompile.errors import BackendError
from paycompile.spec import policy

MOCK_ACCOUNT = "123456789012"
DNS_SUFFIXES = {"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-us-gov": "amazonaws.com"}


@dataclass(frozen=True)
class Zone:
    name: str
    zone_id: str
    opt_in_status: str = "opt-in-not-required"
    zone_type: str = "availability-zone"


def _local(name: str, zone_id: str) -> Zone:
    return Zone(name, zone_id, "opted-in", "local-zone")


# Zones as an account sees them (letters map to zone ids per account; these are one mapping).
ZONES: dict[str, tuple[Zone, ...]] = {
    "us-east-1": (
        *(
            Zone(f"us-east-1{letter}", f"use1-az{number}")
            for letter, number in zip("abcdef", (6, 1, 2, 4, 3, 5), strict=True)
        ),
        _local("us-east-1-bos-1a", "use1-bos1-az1"),
        _local("us-east-1-mia-2a", "use1-mia2-az1"),
    ),
    "us-west-2": (
        *(
            Zone(f"us-west-2{letter}", f"usw2-az{number}")
            for letter, number in zip("abcd", (2, 1, 3, 4), strict=True)
        ),
        _local("us-west-2-lax-1a", "usw2-lax1-az1"),
    ),
    # Tokyo has no zone b for new accounts.
    "ap-northeast-1": tuple(
        Zone(f"ap-northeast-1{letter}", f"apne1-az{number}")
        for letter, number in zip("acd", (4, 1, 2), strict=True)
    ),
    "cn-north-1": tuple(
        Zone(f"cn-north-1{letter}", f"cnn1-az{number}")
        for letter, number in zip("abd", (1, 2, 4), strict=True)
    ),
}


def zones_of(region: str) -> tuple[Zone, ...]:
    """The table's zones, else three zones `a`-`c` with ids in AWS's short form."""
    if region in ZONES:
        return ZONES[region]
    words = region.split("-")
    short = words[0] + "".join(word[0] for word in words[1:-1]) + words[-1]
    return tuple(Zone(f"{region}{letter}", f"{short}-az{n}") for n, letter in enumerate("abc", 1))


def digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


class AwsMocks(Mocks):
    """Answers invokes for one region and gives each resource AWS-shaped, name-derived outputs."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.partition = policy.REGIONS.get(region, "aws")
        self.dns_suffix = DNS_SUFFIXES[self.partition]
        self.inputs: dict[tuple[str, str], dict[str, Any]] = {}
        self.identities: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ invokes

    def call(self, args: MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        name = args.token.rsplit("/", 1)[-1].split(":")[-1]
        answers = {
            "getAvailabilityZones": self._zones,
            "getRegion": self._region,
            "getCallerIdentity": self._caller,
            "getPartition": self._partition,
        }
        if name not in answers:
            raise BackendError(f"the Pulumi plan has no mock answer for the invoke {args.token}")
        return answers[name](args.args), []

    def _zones(self, request: dict[str, Any]) -> dict[str, Any]:
        zones = [zone for zone in zones_of(self.region) if _matches(zone, request)]
        zones.sort(key=lambda zone: zone.name)
        return {
            "id": self.region,
            "names": [zone.name for zone in zones],
            "zoneIds": [zone.zone_id for zone in zones],
            "groupNames": [zone.name.rstrip("abcdef") for zone in zones],
        }

    def _region(self, _: dict[str, Any]) -> dict[str, Any]:
        endpoint = f"ec2.{self.region}.{self.dns_suffix}"
        return {"id": self.region, "region": self.region, "name": self.region, "endpoint": endpoint}

    def _caller(self, _: dict[str, Any]) -> dict[str, Any]:
        arn = f"arn:{self.partition}:iam::{MOCK_ACCOUNT}:root"
        return {"id": MOCK_ACCOUNT, "accountId": MOCK_ACCOUNT, "arn": arn, "userId": MOCK_ACCOUNT}

    def _partition(self, _: dict[str, Any]) -> dict[str, Any]:
        prefix = ".".join(reversed(self.dns_suffix.split(".")))
        return {
            "id": self.partition,
            "partition": self.partition,
            "dnsSuffix": self.dns_suffix,
            "reverseDnsPrefix": prefix,
        }

    # ------------------------------------------------------------------ resources

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, computed = Outputs(self, args).compute()
        with self._lock:
            self.inputs[(args.typ, args.name)] = args.inputs
            # What the plan shows of the answer: what other resources' inputs refer to it by.
            self.identities[(args.typ, args.name)] = {
                key: value
                for key, value in {"id": resource_id, "arn": computed.get("arn")}.items()
                if value
            }
        return resource_id, {**args.inputs, **computed}

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        where = self.region if region else ""
        account = "" if service == "s3" else MOCK_ACCOUNT
        return f"arn:{self.partition}:{service}:{where}:{account}:{resource}"


def _matches(zone: Zone, request: dict[str, Any]) -> bool:
    """DescribeAvailabilityZones' own filtering, for the filters paycompile may send."""
    fields = {"opt-in-status": zone.opt_in_status, "zone-type": zone.zone_type}
    for item in request.get("filters") or []:
        if item["name"] not in fields:
            raise BackendError(f"the mock cannot filter zones by {item['name']!r}")
        if fields[item["name"]] not in item["values"]:
            return False
    return request.get("state") in (None, "available")


class Outputs:
    """What AWS computes for one new resource: its id and output attributes."""

    def __init__(self, mocks: AwsMocks, args: MockResourceArgs) -> None:
        self.mocks = mocks
        self.type = args.typ
        self.name = args.name
        self.inputs = args.inputs
        self.hash = digest(args.typ, args.name)

    def hex(self, length: int) -> str:
        return self.hash[:length]

    def uuid(self) -> str:
        return str(uuid.UUID(self.hash[:32], version=4))

    def generated_name(self, key: str = "name") -> str:
        """The input name, else the provider's auto-name: the resource name plus 7 hex."""
        given = self.inputs.get(key)
        return str(given) if given else f"{self.name.lower()}-{self.hex(7)}"

    def compute(self) -> tuple[str, dict[str, Any]]:
        module, kind = self.type.split(":")[1], self.type.rsplit(":", 1)[-1]
        handler = _HANDLERS.get((module.split("/")[0], kind))
        if handler is None:
            raise BackendError(f"the Pulumi plan has no mock outputs for {self.type}")
        return handler(self)


_EC2_PATHS = {
    "igw": "internet-gateway",
    "nat": "natgateway",
    "rtb": "route-table",
    "sg": "security-group",
    "sgr": "security-group-rule",
    "vpce": "vpc-endpoint",
}


Handler = Callable[["Outputs"], tuple[str, dict[str, Any]]]


def _prefixed(prefix: str) -> Handler:
    """An EC2-style resource: `<prefix>-<17 hex>` as id, with its ARN."""

    def compute(out: Outputs) -> tuple[str, dict[str, Any]]:
        resource_id = f"{prefix}-{out.hex(17)}"
        arn = out.mocks.arn("ec2", f"{_EC2_PATHS.get(prefix, prefix)}/{resource_id}")
        return resource_id, {"arn": arn}

    return compute


def _eip(out: Outputs) -> tuple[str, dict[str, Any]]:
    allocation = f"eipalloc-{out.hex(17)}"
    # 198.51.100.0/24 is documentation space (RFC 5737): never a real address.
    return allocation, {"allocationId": allocation, "publicIp": f"198.51.100.{int(out.hex(2), 16)}"}


def _route(out: Outputs) -> tuple[str, dict[str, Any]]:
    return f"r-{out.inputs.get('routeTableId', 'rtb')}1080289494", {}


def _association(out: Outputs) -> tuple[str, dict[str, Any]]:
    return f"rtbassoc-{out.hex(17)}", {}


def _kms_key(out: Outputs) -> tuple[str, dict[str, Any]]:
    key_id = out.uuid()
    return key_id, {"arn": out.mocks.arn("kms", f"key/{key_id}"), "keyId": key_id}


def _log_group(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name()
    return name, {"name": name, "arn": out.mocks.arn("logs", f"log-group:{name}")}


def _role(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name()
    unique = "AROA" + out.hex(17).upper()
    return name, {
        "name": name,
        "arn": out.mocks.arn("iam", f"role/{name}", region=False),
        "uniqueId": unique,
    }


def _policy(out: Outputs) -> tuple[str, dict[str, Any]]:
    # A managed policy's id is its ARN.
    name = out.generated_name()
    arn = out.mocks.arn("iam", f"policy/{name}", region=False)
    return arn, {"name": name, "arn": arn, "policyId": "ANPA" + out.hex(17).upper()}


def _role_policy(out: Outputs) -> tuple[str, dict[str, Any]]:
    return f"{out.inputs.get('role')}:{out.inputs.get('name')}", {}


def _attachment(out: Outputs) -> tuple[str, dict[str, Any]]:
    return f"{out.inputs.get('role')}-{out.hex(20)}", {}


def _bucket(out: Outputs) -> tuple[str, dict[str, Any]]:
    # bucket_prefix + 26 digits, as the provider generates; else an auto-name.
    prefix = out.inputs.get("bucketPrefix")
    name = (
        f"{prefix}{int(out.hex(22), 16) % 10**26:026d}" if prefix else out.generated_name("bucket")
    )
    regional = f"{name}.s3.{out.mocks.region}.{out.mocks.dns_suffix}"
    computed = {"bucket": name, "arn": out.mocks.arn("s3", name, region=False)}
    return name, {**computed, "bucketRegionalDomainName": regional}


def _bucket_part(out: Outputs) -> tuple[str, dict[str, Any]]:
    return str(out.inputs.get("bucket")), {}


def _load_balancer(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name()[:32]
    suffix = f"app/{name}/{out.hex(16)}"
    arn = out.mocks.arn("elasticloadbalancing", f"loadbalancer/{suffix}")
    dns = f"{name}-{int(out.hex(8), 16) % 10**10}.{out.mocks.region}.elb.{out.mocks.dns_suffix}"
    return arn, {"arn": arn, "arnSuffix": suffix, "dnsName": dns, "name": name}


def _target_group(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name()[:32]
    suffix = f"targetgroup/{name}/{out.hex(16)}"
    arn = out.mocks.arn("elasticloadbalancing", suffix)
    return arn, {"arn": arn, "arnSuffix": suffix, "name": name}


def _listener(out: Outputs) -> tuple[str, dict[str, Any]]:
    balancer = str(out.inputs.get("loadBalancerArn", "")).split(":loadbalancer/")[-1]
    arn = out.mocks.arn("elasticloadbalancing", f"listener/{balancer}/{out.hex(16)}")
    return arn, {"arn": arn}


def _listener_rule(out: Outputs) -> tuple[str, dict[str, Any]]:
    listener = str(out.inputs.get("listenerArn", "")).split(":listener/")[-1]
    arn = out.mocks.arn("elasticloadbalancing", f"listener-rule/{listener}/{out.hex(16)}")
    return arn, {"arn": arn}


def _ecs_cluster(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name()
    arn = out.mocks.arn("ecs", f"cluster/{name}")
    return arn, {"arn": arn, "name": name}


def _task_definition(out: Outputs) -> tuple[str, dict[str, Any]]:
    family = out.inputs.get("family")
    arn = out.mocks.arn("ecs", f"task-definition/{family}:1")
    return family or out.name, {
        "arn": arn,
        "arnWithoutRevision": arn.rsplit(":", 1)[0],
        "revision": 1,
    }


def _ecs_service(out: Outputs) -> tuple[str, dict[str, Any]]:
    cluster = str(out.inputs.get("cluster", "")).rsplit("/", 1)[-1]
    name = out.generated_name()
    arn = out.mocks.arn("ecs", f"service/{cluster}/{name}")
    return arn, {"arn": arn, "name": name}


def _rds(path: str) -> Handler:
    """An RDS resource named by `name` (or auto-named), with its ARN under `path`."""

    def compute(out: Outputs) -> tuple[str, dict[str, Any]]:
        name = out.generated_name()
        return name, {"name": name, "arn": out.mocks.arn("rds", f"{path}:{name}")}

    return compute


def _db_cluster(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name("clusterIdentifier")
    host = f"{out.hex(12)}.{out.mocks.region}.rds.{out.mocks.dns_suffix}"
    return name, {
        "clusterIdentifier": name,
        "arn": out.mocks.arn("rds", f"cluster:{name}"),
        "endpoint": f"{name}.cluster-{host}",
        "readerEndpoint": f"{name}.cluster-ro-{host}",
        "clusterResourceId": "cluster-" + out.hex(26).upper(),
    }


def _db_instance(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name("identifier")
    host = f"{name}.{out.hex(12)}.{out.mocks.region}.rds.{out.mocks.dns_suffix}"
    return name, {"identifier": name, "arn": out.mocks.arn("rds", f"db:{name}"), "endpoint": host}


def _secret(out: Outputs) -> tuple[str, dict[str, Any]]:
    # Secrets Manager appends six random characters to every secret ARN.
    arn = out.mocks.arn("secretsmanager", f"secret:{out.generated_name()}-{out.hex(6)}")
    return arn, {"arn": arn}


def _secret_version(out: Outputs) -> tuple[str, dict[str, Any]]:
    version = out.uuid()
    return f"{out.inputs.get('secretId')}|{version}", {"versionId": version}


def _rotation(out: Outputs) -> tuple[str, dict[str, Any]]:
    return str(out.inputs.get("secretId")), {}


def _sar_stack(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = f"serverlessrepo-{out.inputs.get('name')}"
    stack = out.mocks.arn("cloudformation", f"stack/{name}/{out.uuid()}")
    function = out.inputs.get("parameters", {}).get("functionName", out.name)
    outputs = {ROTATION_FUNCTION_OUTPUT: out.mocks.arn("lambda", f"function:{function}")}
    return stack, {"outputs": outputs}


def _topic(out: Outputs) -> tuple[str, dict[str, Any]]:
    arn = out.mocks.arn("sns", out.generated_name())
    return arn, {"arn": arn}


def _subscription(out: Outputs) -> tuple[str, dict[str, Any]]:
    arn = f"{out.inputs.get('topic')}:{out.uuid()}"
    return arn, {"arn": arn}


def _alarm(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name()
    return name, {"arn": out.mocks.arn("cloudwatch", f"alarm:{name}")}


def _dashboard(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = str(out.inputs.get("dashboardName"))
    return name, {"dashboardArn": out.mocks.arn("cloudwatch", f"dashboard/{name}", region=False)}


def _vault(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = out.generated_name()
    return name, {"arn": out.mocks.arn("backup", f"backup-vault:{name}")}


def _backup_plan(out: Outputs) -> tuple[str, dict[str, Any]]:
    plan_id = out.uuid()
    return plan_id, {
        "arn": out.mocks.arn("backup", f"backup-plan:{plan_id}"),
        "version": out.hex(32),
    }


def _backup_selection(out: Outputs) -> tuple[str, dict[str, Any]]:
    return out.uuid(), {}


def _state_machine(out: Outputs) -> tuple[str, dict[str, Any]]:
    arn = out.mocks.arn("states", f"stateMachine:{out.generated_name()}")
    return arn, {"arn": arn}


def _parameter(out: Outputs) -> tuple[str, dict[str, Any]]:
    name = str(out.inputs.get("name"))
    return name, {"arn": out.mocks.arn("ssm", f"parameter{name}")}


def _flow_log(out: Outputs) -> tuple[str, dict[str, Any]]:
    flow_log = f"fl-{out.hex(17)}"
    return flow_log, {"arn": out.mocks.arn("ec2", f"vpc-flow-log/{flow_log}")}


def _random_password(out: Outputs) -> tuple[str, dict[str, Any]]:
    return "none", {"result": f"mock-{out.name}"}


def _random_id(out: Outputs) -> tuple[str, dict[str, Any]]:
    size = int(out.inputs.get("byteLength", 4))
    return out.hex(2 * size), {"hex": out.hex(2 * size), "dec": str(int(out.hex(2 * size), 16))}


def _web_acl(out: Outputs) -> tuple[str, dict[str, Any]]:
    acl_id = out.uuid()
    name = out.generated_name()
    return acl_id, {"arn": out.mocks.arn("wafv2", f"regional/webacl/{name}/{acl_id}")}


def _web_acl_association(out: Outputs) -> tuple[str, dict[str, Any]]:
    # The provider's id is `<web ACL ARN>,<resource ARN>`.
    return f"{out.inputs.get('webAclArn')},{out.inputs.get('resourceArn')}", {}


def _waf_logging(out: Outputs) -> tuple[str, dict[str, Any]]:
    # The provider's id is the web ACL's ARN.
    return str(out.inputs.get("resourceArn")), {}


def _registry_scanning(out: Outputs) -> tuple[str, dict[str, Any]]:
    # The registry's configuration: its id is the account's registry.
    return MOCK_ACCOUNT, {"registryId": MOCK_ACCOUNT}


def _pull_through_cache_rule(out: Outputs) -> tuple[str, dict[str, Any]]:
    # The provider's id is the repository prefix; the registry is the account's own.
    return str(out.inputs.get("ecrRepositoryPrefix")), {"registryId": MOCK_ACCOUNT}


_HANDLERS: dict[tuple[str, str], Handler] = {
    ("ecr", "PullThroughCacheRule"): _pull_through_cache_rule,
    ("ecr", "RegistryScanningConfiguration"): _registry_scanning,
    ("ec2", "Vpc"): _prefixed("vpc"),
    ("ec2", "Subnet"): _prefixed("subnet"),
    ("ec2", "InternetGateway"): _prefixed("igw"),
    ("ec2", "Eip"): _eip,
    ("ec2", "NatGateway"): _prefixed("nat"),
    ("ec2", "RouteTable"): _prefixed("rtb"),
    ("ec2", "Route"): _route,
    ("ec2", "RouteTableAssociation"): _association,
    ("ec2", "FlowLog"): _flow_log,
    ("ec2", "SecurityGroup"): _prefixed("sg"),
    ("vpc", "SecurityGroupIngressRule"): _prefixed("sgr"),
    ("ec2", "VpcEndpoint"): _prefixed("vpce"),
    ("wafv2", "WebAcl"): _web_acl,
    ("wafv2", "WebAclAssociation"): _web_acl_association,
    ("wafv2", "WebAclLoggingConfiguration"): _waf_logging,
    ("kms", "Key"): _kms_key,
    ("cloudwatch", "LogGroup"): _log_group,
    ("cloudwatch", "MetricAlarm"): _alarm,
    ("cloudwatch", "Dashboard"): _dashboard,
    ("iam", "Role"): _role,
    ("iam", "RolePolicy"): _role_policy,
    ("iam", "Policy"): _policy,
    ("iam", "RolePolicyAttachment"): _attachment,
    ("s3", "Bucket"): _bucket,
    ("s3", "BucketPolicy"): _bucket_part,
    ("s3", "BucketServerSideEncryptionConfiguration"): _bucket_part,
    ("s3", "BucketPublicAccessBlock"): _bucket_part,
    ("s3", "BucketOwnershipControls"): _bucket_part,
    ("s3", "BucketLifecycleConfiguration"): _bucket_part,
    ("s3", "BucketVersioning"): _bucket_part,
    ("s3", "BucketNotification"): _bucket_part,
    ("s3", "BucketLogging"): _bucket_part,
    ("s3", "BucketObjectLockConfiguration"): _bucket_part,
    ("lb", "LoadBalancer"): _load_balancer,
    ("lb", "TargetGroup"): _target_group,
    ("lb", "Listener"): _listener,
    ("lb", "ListenerRule"): _listener_rule,
    ("ecs", "Cluster"): _ecs_cluster,
    ("ecs", "TaskDefinition"): _task_definition,
    ("ecs", "Service"): _ecs_service,
    ("rds", "SubnetGroup"): _rds("subgrp"),
    ("rds", "ClusterParameterGroup"): _rds("cluster-pg"),
    ("rds", "Cluster"): _db_cluster,
    ("rds", "ClusterInstance"): _db_instance,
    ("secretsmanager", "Secret"): _secret,
    ("secretsmanager", "SecretVersion"): _secret_version,
    ("secretsmanager", "SecretRotation"): _rotation,
    ("serverlessrepository", "CloudFormationStack"): _sar_stack,
    ("sns", "Topic"): _topic,
    ("sns", "TopicSubscription"): _subscription,
    ("backup", "Vault"): _vault,
    ("backup", "Plan"): _backup_plan,
    ("backup", "Selection"): _backup_selection,
    ("sfn", "StateMachine"): _state_machine,
    ("ssm", "Parameter"): _parameter,
    ("index", "RandomPassword"): _random_password,
    ("index", "RandomId"): _random_id,
}
