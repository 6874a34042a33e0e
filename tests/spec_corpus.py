"""A corpus of invalid specs: the reference spec with one violation each.

Each case says which rule refuses it (a rule id, or a fragment of the message) and whether the
violation is expressible in JSON Schema (`schema=True`: a single-field rule the published
schema must refuse on its own) or needs `paycompile validate` (`schema=False`: a rule across
fields or environments; docs/spec.md lists these). tests/test_schema.py runs every case
through both.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REFERENCE = Path(__file__).resolve().parent.parent / "examples" / "platform.yaml"
Document = dict[str, Any]
Edit = Callable[[Document], None]
DIGEST = "sha256:" + "ab" * 32


@dataclass(frozen=True)
class Case:
    name: str
    edit: Edit
    expect: str  # a rule id or a fragment of the one error line
    schema: bool  # expressible in JSON Schema

    def document(self) -> Document:
        document: Document = yaml.safe_load(REFERENCE.read_text())
        self.edit(document)
        return document

    def text(self) -> str:
        return yaml.safe_dump(self.document(), sort_keys=False, allow_unicode=True)


def _walk(document: Document, path: str) -> tuple[Any, str | int]:
    *parents, last = [int(part) if part.isdigit() else part for part in path.split(".")]
    node: Any = document
    for part in parents:
        node = node[part]
    return node, last


def put(path: str, value: Any) -> Edit:
    def edit(document: Document) -> None:
        node, last = _walk(document, path)
        node[last] = copy.deepcopy(value)

    return edit


def put_key(path: str, key: str, value: Any) -> Edit:
    """Set `key` (which may hold dots) in the mapping at `path`."""

    def edit(document: Document) -> None:
        node, last = _walk(document, path)
        node[last][key] = copy.deepcopy(value)

    return edit


def drop(path: str) -> Edit:
    def edit(document: Document) -> None:
        node, last = _walk(document, path)
        del node[last]

    return edit


def both(*edits: Edit) -> Edit:
    def edit(document: Document) -> None:
        for each in edits:
            each(document)

    return edit


def service(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "public.ecr.aws/nginx/nginx:1.27", "port": 9000, **fields}


def add_services(*services: dict[str, Any]) -> Edit:
    def edit(document: Document) -> None:
        document["services"].extend(copy.deepcopy(list(services)))

    return edit


def many_tags(count: int) -> dict[str, str]:
    tags = {"CostCenter": "FinTech", "MigrationPhase": "Production"}
    tags |= {f"Extra{index}": "x" for index in range(count - len(tags))}
    return tags


AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
S = True  # single-field: the schema refuses it
X = False  # cross-field: only `paycompile validate` does

CASES = [
    # version, name, environment, region, lifecycle
    Case("version 2", put("version", 2), "unsupported spec version", S),
    Case("version as text", put("version", "1"), "unsupported spec version", S),
    Case("name pattern", put("name", "Payment_X"), "name", S),
    Case("name sg- prefix", put("name", "sg-pay"), "PAY-GOV-004", S),
    Case("name internal- prefix", put("name", "internal-pay"), "PAY-GOV-004", S),
    Case("no environment", drop("environment"), "environment", S),
    Case("environment pattern", put("environment", "Dev"), "environment", S),
    Case("unknown region", put("region", "us-east-9"), "region", S),
    Case("region with 2 AZs", put("region", "us-west-1"), "PAY-NET-001", S),
    Case("unknown lifecycle", put("lifecycle", "forever"), "lifecycle", S),
    Case("production ephemeral", put("environment", "prd"), "PAY-DB-003", X),
    # tags
    Case("Environment tag by hand", put("tags.Environment", "dev"), "PAY-GOV-001", S),
    Case("Service tag by hand", put("tags.Service", "api"), "PAY-GOV-001", S),
    Case("Tier tag by hand", put("tags.Tier", "web"), "PAY-GOV-001", S),
    Case("no CostCenter", drop("tags.CostCenter"), "PAY-GOV-001", S),
    Case("blank MigrationPhase", put("tags.MigrationPhase", "  "), "PAY-GOV-001", S),
    Case("46 tags", put("tags", many_tags(46)), "PAY-GOV-001", S),
    Case("aws: tag key", put("tags.aws:owner", "me"), "aws:", S),
    Case("boolean tag key", put("tags.False", "x"), "read it as a boolean", S),
    Case("secret-looking tag key", put("tags.DbPassword", "x"), "PAY-SEC-003", S),
    Case("tag value character", put("tags.Team", "a;b"), "tag", S),
    Case("tag key too long", put("tags." + "K" * 129, "x"), "tag", S),
    Case("empty tag value", put("tags.Team", ""), "values 1..256", S),
    Case("tag value too long", put("tags.Team", "v" * 257), "tag", S),
    Case("credential as a tag value", put("tags.Team", AWS_KEY_ID), "PAY-SEC-003", S),
    # network
    Case("public CIDR", put("network.cidr", "8.8.0.0/16"), "PAY-NET-001", S),
    Case("/24 CIDR", put("network.cidr", "10.0.0.0/24"), "PAY-NET-001", S),
    Case("/8 CIDR", put("network.cidr", "10.0.0.0/8"), "PAY-NET-001", S),
    Case("CIDR host bits", put("network.cidr", "10.0.0.1/16"), "network.cidr", S),
    Case("CIDR netmask form", put("network.cidr", "10.0.0.0/255.255.0.0"), "CIDR form", S),
    Case("2 availability zones", put("network.availability_zones", 2), "PAY-NET-001", S),
    Case("2 NAT gateways", put("network.nat_gateways", 2), "PAY-NET-002", S),
    Case("flow_logs as text", put("network.flow_logs", "yes"), "flow_logs", S),
    Case(
        "retained with 1 NAT",
        both(put("lifecycle", "retained"), put("network.nat_gateways", 1)),
        "PAY-NET-002",
        X,
    ),
    Case(
        "retained without flow logs",
        both(
            put("lifecycle", "retained"),
            put("network.nat_gateways", 3),
            put("network.flow_logs", False),
        ),
        "PAY-NET-003",
        X,
    ),
    # tls
    Case(
        "not an ACM certificate",
        put("tls.certificate_arn", "arn:aws:iam::123456789012:server-certificate/x"),
        "certificate_arn",
        S,
    ),
    Case(
        "certificate in another region",
        put(
            "tls.certificate_arn",
            "arn:aws:acm:eu-west-1:123456789012:certificate/0f3c4b1e-7a2d-4c5e-9b8a-1d2e3f4a5b6c",
        ),
        "certificate_arn must be an ACM certificate in us-east-1",
        X,
    ),
    Case(
        "SSL policy below TLS 1.2",
        put("tls.ssl_policy", "ELBSecurityPolicy-2016-08"),
        "PAY-TLS-001",
        S,
    ),
    # services
    Case("no services", both(put("services", []), drop("overrides")), "at least 1 item", S),
    Case(
        "201 services",
        both(
            add_services(*(service(f"s{i}", route={"path": f"/s{i}/*"}) for i in range(200))),
            drop("overrides"),
        ),
        "at most 200",
        S,
    ),
    Case(
        "service name pattern",
        both(put("services.0.name", "Api"), drop("overrides")),
        "services[0].name",
        S,
    ),
    Case(
        "image without tag",
        put("services.0.image", "public.ecr.aws/nginx/nginx"),
        "PAY-SPEC-002",
        S,
    ),
    Case("image latest", put("services.0.image", "nginx:latest"), "PAY-SPEC-002", S),
    Case("image with upper case", put("services.0.image", "Nginx:1.27"), "image reference", S),
    Case("port 22", put("services.0.port", 22), "PAY-SEC-001", S),
    Case("port 3306", put("services.0.port", 3306), "PAY-SEC-001", S),
    Case("port 70000", put("services.0.port", 70000), "services[0].port", S),
    Case("cpu 300", put("services.0.cpu", 300), "cpu must be one of", S),
    Case("cpu and memory mismatch", put("services.0.memory", 512), "not valid with cpu", S),
    Case(
        "cpu 1024 with the default memory",
        both(put("services.0.cpu", 1024), drop("services.0.memory")),
        "not valid with cpu",
        S,
    ),
    Case("desired count 0", put("services.0.desired_count", 0), "desired_count", S),
    Case(
        "relative health path",
        put("services.0.health_check_path", "health"),
        "health_check_path",
        S,
    ),
    Case("red colour", put("services.0.active_color", "red"), "active_color", S),
    Case(
        "DB_PASSWORD variable",
        put("services.0.environment_variables.DB_PASSWORD", "x"),
        "PAY-SEC-003",
        S,
    ),
    Case(
        "api_token variable",
        put("services.0.environment_variables.api_token", "x"),
        "PAY-SEC-003",
        S,
    ),
    Case(
        "newline in a variable",
        put("services.0.environment_variables.GREETING", "a\nb"),
        "control characters",
        S,
    ),
    Case(
        "credential in a variable",
        put("services.0.environment_variables.ID", AWS_KEY_ID),
        "PAY-SEC-003",
        S,
    ),
    Case("catch-all route", put("services.0.route", {"path": "/*"}), "PAY-SPEC-001", S),
    Case(
        "path and host route",
        put("services.0.route", {"path": "/a/*", "host": "a.example.com"}),
        "exactly one",
        S,
    ),
    Case(
        "route priority 0", put("services.0.route", {"path": "/a/*", "priority": 0}), "priority", S
    ),
    Case(
        "route priority 50001",
        put("services.0.route", {"path": "/a/*", "priority": 50001}),
        "priority",
        S,
    ),
    Case(
        "duplicate service names",
        both(add_services(service("api", route={"path": "/x/*"})), drop("overrides")),
        "unique",
        X,
    ),
    Case(
        "two services without route",
        both(add_services(service("web")), drop("overrides")),
        "without a route",
        X,
    ),
    Case(
        "two services, one route",
        both(
            put("services.0.route", {"path": "/x/*"}),
            add_services(service("web", route={"path": "/x/*"})),
            drop("overrides"),
        ),
        "share a route",
        X,
    ),
    Case(
        "overlapping paths without priorities",
        both(
            put("services.0.route", {"path": "/pay/*"}),
            add_services(service("web", route={"path": "/pay/v?/*"})),
        ),
        "PAY-SPEC-001",
        X,
    ),
    Case(
        "overlapping hosts with one priority",
        both(
            put("services.0.route", {"host": "*.example.com", "priority": 5}),
            add_services(service("web", route={"host": "pay.example.com"})),
        ),
        "PAY-SPEC-001",
        X,
    ),
    Case(
        "equal priorities",
        both(
            put("services.0.route", {"path": "/a/*", "priority": 7}),
            add_services(service("web", route={"path": "/b/*", "priority": 7})),
        ),
        "PAY-SPEC-001",
        X,
    ),
    # database
    Case("engine postgres", put("database.engine", "aurora-postgresql"), "engine", S),
    Case(
        "engine 3.01.0 (no Serverless v2)",
        put("database.engine_version", "8.0.mysql_aurora.3.01.0"),
        "PAY-DB-001",
        S,
    ),
    Case(
        "engine 3.99.9 (does not exist)",
        put("database.engine_version", "8.0.mysql_aurora.3.99.9"),
        "PAY-DB-001",
        S,
    ),
    Case(
        "engine MySQL 5.7",
        put("database.engine_version", "5.7.mysql_aurora.2.11.2"),
        "PAY-DB-001",
        S,
    ),
    Case("database name", put("database.database_name", "1db"), "database_name", S),
    Case("capacity 0.75", put("database.min_capacity", 0.75), "min_capacity", S),
    Case("capacity 300", put("database.max_capacity", 300), "max_capacity", S),
    Case("max capacity 0.5", put("database.max_capacity", 0.5), "max_capacity", S),
    Case("min above max", put("database.min_capacity", 2), "min_capacity must not exceed", X),
    Case("rotation 31 days", put("database.secret_rotation_days", 31), "PAY-SEC-004", S),
    Case("rotation 0 days", put("database.secret_rotation_days", 0), "secret_rotation_days", S),
    # monitoring, backup
    Case("cpu alarm 101%", put("monitoring.cpu_alarm_percent", 101), "cpu_alarm_percent", S),
    Case("alarm e-mail", put("monitoring.alarm_email", "oncall"), "alarm_email", S),
    Case(
        "retained without alarm e-mail",
        both(
            put("lifecycle", "retained"),
            put("network.nat_gateways", 3),
            drop("monitoring.alarm_email"),
        ),
        "PAY-OPS-002",
        X,
    ),
    Case("weekly backup", put("backup.schedule", "cron(0 3 ? * SUN *)"), "PAY-OPS-003", S),
    Case("backup minute 60", put("backup.schedule", "cron(60 3 * * ? *)"), "PAY-OPS-003", S),
    Case("backup hour 24", put("backup.schedule", "cron(0 24 * * ? *)"), "PAY-OPS-003", S),
    Case("rate schedule", put("backup.schedule", "rate(1 day)"), "PAY-OPS-003", S),
    Case("retention 7 days", put("backup.retention_days", 7), "PAY-OPS-003", S),
    # parameters
    Case("secret parameter key", put("parameters.db_password", "x"), "PAY-SEC-003", S),
    Case("mixed-case secret parameter key", put("parameters.StripeApiKey", "x"), "PAY-SEC-003", S),
    Case("parameter key pattern", put("parameters.-x", "y"), "parameters", S),
    Case("parameter value control", put("parameters.note", "a\tb"), "control characters", S),
    Case(
        "parameter keys differing in punctuation",
        put_key("parameters", "feature.flags", "x"),
        "differ only in punctuation",
        X,
    ),
    # unknown keys
    Case("unknown top-level key", put("colour", "red"), "unknown key", S),
    Case("unknown nested key", put("network.flowlogs", True), "did you mean 'flow_logs'", S),
    # overrides.<env>: a partial spec
    Case(
        "override typo",
        put("overrides.prod.network.nat_gateway", 3),
        "overrides.prod.network.nat_gateway",
        S,
    ),
    Case("override unknown key", put("overrides.prod.netwrk", {}), "overrides.prod.netwrk", S),
    Case("override bad value", put("overrides.prod.network.nat_gateways", 2), "PAY-NET-002", S),
    Case("override of version", put("overrides.prod.version", 2), "cannot be overridden", S),
    Case(
        "override environment name",
        put("overrides.Prod", {"lifecycle": "retained"}),
        "overrides",
        S,
    ),
    Case(
        "override service with an unknown key",
        put("overrides.prod.services", [{"name": "api", "replicas": 3}]),
        "overrides.prod.services[0].replicas",
        S,
    ),
    Case(
        "override sets a derived tag", put("overrides.prod.tags", {"Name": "x"}), "PAY-GOV-001", S
    ),
    Case(
        "override image latest",
        put("overrides.prod.services.0.image", "nginx:latest"),
        "PAY-SPEC-002",
        S,
    ),
    Case(
        "override makes prod ephemeral",
        put("overrides.prod.lifecycle", "ephemeral"),
        "PAY-DB-003",
        X,
    ),
    Case(
        "override drops prod to 1 NAT",
        put("overrides.prod.network.nat_gateways", 1),
        "PAY-NET-002",
        X,
    ),
]
