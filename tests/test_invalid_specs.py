"""Invalid specs: each breaks one contract rule of the reference spec and must be refused cleanly.

Refused means: exit 1, exactly one `file:line:col: ...` line on stderr, no traceback, and no
output file written (an existing one left byte for byte as it was).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from paycompile import load_spec_text
from paycompile.cli import main
from paycompile.errors import SpecError
from tests.spec_corpus import CASES, Case

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_TEXT = (ROOT / "examples" / "platform.yaml").read_text()
CONSOLE_SCRIPT = Path(sys.executable).parent / "paycompile"

EXTRA_SERVICE = """\
  - name: {name}
    image: public.ecr.aws/nginx/nginx:1.27
    port: 8081
    cpu: 256
    memory: 512
    desired_count: 1
    health_check_path: /health
    active_color: blue
{route}
database:
"""


def _replace(old: str, new: str) -> str:
    assert old in REFERENCE_TEXT, f"the reference spec no longer contains {old!r}"
    return REFERENCE_TEXT.replace(old, new, 1)


def _add_service(name: str, route: str) -> str:
    return _replace("database:\n", EXTRA_SERVICE.format(name=name, route=route))


# name -> (spec text, a fragment the one error line must contain)
INVALID_SPECS: dict[str, tuple[str, str]] = {
    "version 2": (_replace("version: 1", "version: 2"), "version"),
    "bad name pattern": (_replace("name: payment", "name: Payment_X"), "name"),
    "missing environment": (
        re.sub(r"(?m)^environment:.*\n", "", REFERENCE_TEXT, count=1),
        "environment",
    ),
    "bad region": (_replace("region: us-east-1", "region: us-east-9"), "region"),
    "bad lifecycle": (_replace("lifecycle: ephemeral", "lifecycle: forever"), "lifecycle"),
    "Environment tag by hand": (
        _replace("  CostCenter: FinTech\n", "  CostCenter: FinTech\n  Environment: dev\n"),
        "Environment",
    ),
    "missing CostCenter": (_replace("  CostCenter: FinTech\n", ""), "CostCenter"),
    "public CIDR": (_replace("cidr: 10.0.0.0/16", "cidr: 8.8.0.0/16"), "network.cidr"),
    "/24 CIDR": (_replace("cidr: 10.0.0.0/16", "cidr: 10.0.0.0/24"), "network.cidr"),
    "2 availability zones": (
        _replace("availability_zones: 3", "availability_zones: 2"),
        "network.availability_zones",
    ),
    "2 NAT gateways": (_replace("nat_gateways: 1 ", "nat_gateways: 2 "), "network.nat_gateways"),
    "non-ACM certificate": (
        _replace(
            ":acm:us-east-1:123456789012:certificate/", ":iam::123456789012:server-certificate/"
        ),
        "certificate_arn",
    ),
    "certificate in another region": (
        _replace("arn:aws:acm:us-east-1:", "arn:aws:acm:eu-west-1:"),
        "certificate_arn",
    ),
    "SSL policy below TLS 1.2": (
        _replace(
            "ssl_policy: ELBSecurityPolicy-TLS13-1-2-2021-06",
            "ssl_policy: ELBSecurityPolicy-2016-08",
        ),
        "tls.ssl_policy",
    ),
    "duplicate service names": (_add_service("api", "    route:\n      path: /x/*"), "unique"),
    "two services without route": (_add_service("web", ""), "route"),
    "invalid cpu/memory pair": (_replace("memory: 1024", "memory: 512"), "memory"),
    "DB_PASSWORD env var": (
        _replace("      LOG_LEVEL: info", "      LOG_LEVEL: info\n      DB_PASSWORD: hunter2"),
        "DB_PASSWORD",
    ),
    "engine postgres": (_replace("engine: aurora-mysql", "engine: aurora-postgresql"), "engine"),
    "min above max capacity": (_replace("min_capacity: 0.5", "min_capacity: 2"), "capacity"),
    "capacity 0.75": (_replace("min_capacity: 0.5", "min_capacity: 0.75"), "min_capacity"),
    "rotation 31 days": (
        _replace("secret_rotation_days: 30", "secret_rotation_days: 31"),
        "secret_rotation_days",
    ),
    "weekly backup": (_replace("cron(0 3 * * ? *)", "cron(0 3 ? * SUN *)"), "backup.schedule"),
    "retention 7 days": (_replace("retention_days: 30", "retention_days: 7"), "retention_days"),
    "unknown key": (
        _replace("  flow_logs: true", "  flow_logs: true\n  flowlogs: true"),
        "did you mean 'flow_logs'",
    ),
    "unknown key in overrides": (
        _replace("      nat_gateways: 3", "      nat_gateways: 3\n      nat_gateway: 3"),
        "overrides.prod.network.nat_gateway",
    ),
    "malformed YAML": (_replace("network:\n", "network: [\n"), "YAML"),
    "tab indentation": (_replace("  cidr: 10.0.0.0/16", "\tcidr: 10.0.0.0/16"), "YAML"),
    "duplicate key": (
        _replace("  flow_logs: true", "  flow_logs: true\n  cidr: 10.1.0.0/16"),
        "duplicate key",
    ),
}


def assert_one_located_error(spec: Path, stderr: str, fragment: str | None = None) -> None:
    lines = stderr.splitlines()
    assert "Traceback" not in stderr
    assert len(lines) == 1, f"expected one error line, got {lines}"
    assert re.match(rf"^{re.escape(str(spec))}:\d+:\d+: ", lines[0]), lines[0]
    if fragment:
        assert fragment in lines[0]


@pytest.mark.parametrize("name", sorted(INVALID_SPECS))
def test_invalid_spec_is_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, fragment = INVALID_SPECS[name]
    spec = tmp_path / "platform.yaml"
    spec.write_text(text)
    output = tmp_path / "out" / "template.json"
    assert main(["build", str(spec), "--backend", "cfn", "-o", str(output)]) == 1
    assert_one_located_error(spec, capsys.readouterr().err, fragment)
    assert not output.parent.exists() or not any(output.parent.iterdir())


@pytest.mark.parametrize("name", ["2 availability zones", "malformed YAML", "rotation 31 days"])
def test_existing_output_is_left_alone(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(INVALID_SPECS[name][0])
    output = tmp_path / "template.json"
    output.write_bytes(b'{"previous": "build"}\n')
    assert main(["build", str(spec), "-o", str(output)]) == 1
    capsys.readouterr()
    assert output.read_bytes() == b'{"previous": "build"}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["platform.yaml", "template.json"]


@pytest.mark.parametrize("name", ["unknown key", "tab indentation"])
def test_console_script_refuses_invalid_spec(name: str, tmp_path: Path) -> None:
    text, fragment = INVALID_SPECS[name]
    spec = tmp_path / "platform.yaml"
    spec.write_text(text)
    output = tmp_path / "template.json"
    command = [str(CONSOLE_SCRIPT), "build", str(spec), "-o", str(output)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 1
    assert result.stdout == ""
    assert_one_located_error(spec, result.stderr, fragment)
    assert not output.exists()


# ---------------------------------------------------------------- one key, wrong value

NON_NUMERIC = ["three", "", "-", "yes please"]
# (key path, values that are wrong in type or out of range for it)
BAD_VALUES: dict[tuple[str | int, ...], list[Any]] = {
    ("version",): [0, 2, "one", None, [1]],
    ("name",): ["Payment", "p", "a" * 22, "pay_ment", "sg-pay", "internal-pay", 7, None],
    ("environment",): ["Dev", "", "e" * 17, "-dev", 5, ["dev"]],
    ("region",): ["us-east-9", "US-EAST-1", "mars-1", "us-west-1", 1, None],
    ("lifecycle",): ["forever", "Ephemeral", 1, True],
    ("network", "cidr"): ["10.0.0.0/8", "10.0.0.0/21", "8.8.0.0/16", "not-a-cidr", 10],
    ("network", "availability_zones"): [0, 1, 2, 4, 6, "three", None],
    ("network", "nat_gateways"): [0, 2, 4, -1, "one"],
    ("network", "flow_logs"): ["maybe", 2, [], {}],
    ("tls", "ssl_policy"): ["ELBSecurityPolicy-2016-08", "ELBSecurityPolicy-TLS-1-1-2017-01", 3],
    ("services", 0, "port"): [0, -1, 65536, 100000, "http"],
    ("services", 0, "cpu"): [100, 300, 3000, "big"],
    ("services", 0, "active_color"): ["red", "Blue", "", 1],
    ("services", 0, "image"): ["nginx", "nginx:latest", "Nginx:1", "nginx:1 ", 7, None],
    ("services", 0, "route"): [{"path": "/*"}, {"path": "/a/*", "priority": 0}, "/a/*", {}],
    ("services", 0, "desired_count"): [-1, "two", None],
    ("database", "engine"): ["mysql", "aurora-postgresql", "aurora", 1],
    ("database", "engine_version"): ["8.0.mysql_aurora.3.01.0", "8.0.mysql_aurora.3.99.9", 3],
    ("database", "min_capacity"): [0, 0.25, 0.75, -1, 300, "small"],
    ("database", "max_capacity"): [0.25, 1.25, 300, "big"],
    ("database", "secret_rotation_days"): [0, -5, 31, 365, *NON_NUMERIC],
    ("monitoring", "cpu_alarm_percent"): [-1, 101, 1000, *NON_NUMERIC],
    ("backup", "schedule"): ["daily", "cron(0 3 ? * SUN *)", "rate(1 day", 3],
    ("backup", "retention_days"): [0, 7, 29, -30, *NON_NUMERIC],
}
MUTATIONS = [(path, value) for path, values in BAD_VALUES.items() for value in values]


def _set(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> None:
    node: Any = document
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


@given(st.sampled_from(MUTATIONS))
def test_one_wrong_value_gives_one_located_error(mutation: tuple[tuple[Any, ...], Any]) -> None:
    path, value = mutation
    document = yaml.safe_load(REFERENCE_TEXT)
    _set(document, path, value)
    with tempfile.TemporaryDirectory() as directory:
        spec = Path(directory) / "platform.yaml"
        spec.write_text(yaml.safe_dump(document, sort_keys=False))
        output = Path(directory) / "template.json"
        code, stderr = _run_captured(["build", str(spec), "-o", str(output)])
        assert code == 1, f"{path}={value!r} was accepted"
        assert_one_located_error(spec, stderr)
        assert not output.exists()


def _run_captured(argv: list[str]) -> tuple[int, str]:
    """main(argv) with stderr captured (capsys cannot be used across hypothesis examples)."""
    import contextlib
    import io

    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        code = main(argv)
    return code, stderr.getvalue()


# ---------------------------------------------------------------- the corpus, built


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_build_refuses_every_corpus_spec_and_writes_nothing(
    case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """tests/spec_corpus.py (one violation each, policy holes included) through `build`."""
    spec = tmp_path / "platform.yaml"
    spec.write_text(case.text())
    output = tmp_path / "out" / "template.json"
    assert main(["build", str(spec), "--backend", "cfn", "-o", str(output)]) == 1
    assert_one_located_error(spec, capsys.readouterr().err, case.expect)
    assert not output.parent.exists()


def test_a_parameter_key_shaped_like_a_credential_is_refused() -> None:
    """The key names an SSM parameter, readable by anyone who may list parameters."""
    marker = "parameters:                 # SSM Parameter Store, under /<name>/<environment>/\n"
    text = REFERENCE_TEXT.replace(marker, marker + "  AKIAIOSFODNN7EXAMPLE: x\n", 1)
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "platform.yaml")
    (issue,) = caught.value.issues
    assert str(issue).startswith("platform.yaml:65:3: parameters: ")
    assert "PAY-SEC-003" in str(issue) and "AKIAIOSFODNN7EXAMPLE" not in str(issue)


def test_service_names_that_differ_only_in_hyphens_are_refused() -> None:
    """Found by a property run: `a-0` and `a0` would both own `A0TasksSg`."""
    extra = EXTRA_SERVICE.format(name="ap-i", route="    route:\n      path: /ap-i/*")
    text = REFERENCE_TEXT.replace("database:\n", extra, 1)
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, "platform.yaml")
    (issue,) = caught.value.issues
    assert "services: service names 'api' and 'ap-i' differ only in hyphens" in str(issue)
