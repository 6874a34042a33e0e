"""Hostile and malformed specs: each is refused with exit 1, one located line, nothing written.

Every case runs through the CLI in-process (`build -o` and `validate`); the size and memory
bounds of a 50 MB file are measured in a subprocess, where they are not muddled by pytest.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import paycompile
from paycompile.cli import main
from paycompile.spec import loader

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "examples" / "platform.yaml").read_text(encoding="utf-8")
LOCATED = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): ")


def with_(old: str, new: str, text: str = REFERENCE, count: int = 1) -> bytes:
    """The reference spec with one change (which must apply)."""
    assert old in text, old
    return text.replace(old, new, count).encode("utf-8")


def service_named(name: str) -> bytes:
    """The reference spec with its service renamed, in the prod override too."""
    return with_("- name: api", f"- name: {name}", count=-1)


BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
SECOND_SERVICE = """\
  - name: {name}
    image: public.ecr.aws/nginx/nginx:1.27
    port: 9090
    route:
      path: {path}
"""


def second_service(name: str, path: str, first_route: str = "") -> bytes:
    """The reference spec with a second service (and optionally a route for the first)."""
    text = REFERENCE.replace(
        "    active_color: blue\n", f"    active_color: blue\n{first_route}", 1
    )
    return with_("\ndatabase:", SECOND_SERVICE.format(name=name, path=path) + "\ndatabase:", text)


# (spec bytes, text the single error line must contain)
CASES = {
    # encodings and binary
    "latin-1 byte": (with_("FinTech", "Fin\xe9Tech").replace("é".encode(), b"\xe9"), "not UTF-8"),
    "utf-16 file": (REFERENCE.encode("utf-16"), "binary file"),
    "binary garbage": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary file"),
    "lone continuation byte": (b"version: 1\nname: \x80\n", "not UTF-8"),
    # empty or the wrong shape
    "empty file": (b"", "the spec is empty"),
    "only whitespace": (b"  \n\n\t\n", "the spec is empty"),
    "only a comment": (b"# nothing here\n", "the spec is empty"),
    "list at the top": (b"- version: 1\n- name: x\n", "top level must be a mapping"),
    "scalar at the top": (b"just some words\n", "top level must be a mapping"),
    "number at the top": (b"42\n", "top level must be a mapping"),
    "several documents": (REFERENCE.encode() + b"---\nversion: 1\n", "invalid YAML"),
    # YAML structure
    "tab indentation": (with_("  CostCenter: FinTech", "\tCostCenter: FinTech"), "invalid YAML"),
    "duplicate top-level key": (REFERENCE.encode() + b"name: other\n", "duplicate key 'name'"),
    "duplicate nested key": (
        with_("  CostCenter: FinTech\n", "  CostCenter: FinTech\n  CostCenter: Other\n"),
        "duplicate key 'CostCenter'",
    ),
    "merge key": (with_("tags:", "base: &b {x: 1}\ntags:\n  <<: *b"), "merge keys"),
    "complex key": (b"? [a, b]\n: c\n", "keys must be plain strings"),
    "billion laughs": (BILLION_LAUGHS, "alias bomb"),
    "recursive alias": (b"version: &a [1, *a]\n", "nesting deeper than"),
    "deep flow sequences": (b"version: " + b"[" * 200_000, "nesting deeper than"),
    "deep flow mappings": (b"version: " + b"{a: " * 100_000, "nesting deeper than"),
    "deep block mappings": (
        "".join(f"{' ' * depth}k{depth}:\n" for depth in range(200)).encode(),
        "nesting deeper than",
    ),
    "too many values": (
        ("tags: {" + ", ".join(f"k{n}: {n}" for n in range(30_000)) + "}\n").encode(),
        "more than 20000 values",
    ),
    # tags that would construct objects (PyYAML's unsafe loader) or are just unknown
    "python object tag": (
        with_("name: payment", 'name: !!python/object/apply:os.system ["echo pwned"]'),
        "'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
    ),
    "python name tag": (with_("name: payment", "name: !!python/name:os.system"), "is not allowed"),
    "binary tag": (with_("name: payment", "name: !!binary cGF5bWVudA=="), "is not allowed"),
    "local tag": (with_("name: payment", "name: !foo payment"), "'!foo' is not allowed"),
    "tag on a mapping": (with_("tags:", "tags: !!python/object:dict"), "is not allowed"),
    "set tag": (with_("tags:", "tags: !!set"), "is not allowed"),
    # numbers
    "port too large": (
        with_("port: 8080", "port: 99999999999999999999"),
        "less than or equal to 65535",
    ),
    "5000-digit number": (with_("port: 8080", "port: " + "9" * 5000), "number out of range"),
    "sexagesimal bomb": (with_("port: 8080", "port: 1" + ":0" * 100_000), "number out of range"),
    "sexagesimal port": (with_("port: 8080", "port: 190:20:30"), "less than or equal to 65535"),
    "float overflow": (with_("port: 8080", "port: 1.0e+400"), "port"),
    "nan capacity": (with_("min_capacity: 0.5", "min_capacity: .nan"), "finite number"),
    "inf capacity": (with_("max_capacity: 1", "max_capacity: .inf"), "finite number"),
    "negative inf capacity": (with_("min_capacity: 0.5", "min_capacity: -.inf"), "finite number"),
    "negative count": (
        with_("desired_count: 2", "desired_count: -1"),
        "greater than or equal to 1",
    ),
    "boolean count": (with_("desired_count: 2", "desired_count: yes"), "valid integer"),
    "float version": (with_("version: 1", "version: 1.0"), "unsupported spec version"),
    "huge retention": (with_("retention_days: 30", "retention_days: 1e9999"), "retention_days"),
    # control characters
    "NUL in a value": (
        with_("LOG_LEVEL: info", 'LOG_LEVEL: "in\\0fo"'),
        "control characters (found U+0000)",
    ),
    "NUL in a key": (
        with_("  CostCenter: FinTech", '  "Cost\\0Center": FinTech'),
        "only letters, digits",
    ),
    "NUL in a parameter key": (with_("log_level: info", '"log\\0level": info'), "parameters"),
    "NUL in an env key": (with_("LOG_LEVEL: info", '"LOG\\0LEVEL": info'), "should match pattern"),
    "raw NUL byte": (with_("FinTech", "Fin\x00Tech"), "binary file"),
    "raw bell character": (with_("FinTech", "Fin\x07Tech"), "invalid character U+0007"),
    "escape in a value": (with_("LOG_LEVEL: info", 'LOG_LEVEL: "\\e[31mred"'), "U+001B"),
    "newline in a value": (with_("log_level: info", 'log_level: "a\\nb"'), "U+000A"),
    "newline in a tag": (with_("FinTech", '"FinTech\\n"'), "only letters, digits"),
    "line separator in a value": (with_("LOG_LEVEL: info", 'LOG_LEVEL: "a\\Lb"'), "U+2028"),
    "newline in an unknown key": (
        with_("lifecycle:", '"life\\ncycle": 1\nlifecycle:'),
        "unknown key",
    ),
    "newline in a version": (
        with_(
            "engine_version: 8.0.mysql_aurora.3.10.3",
            'engine_version: "8.0.mysql_aurora.3.10.3\\n"',
        ),
        "Aurora MySQL 3",
    ),
    "newline in a cron": (with_("cron(0 3 * * ? *)", '"cron(0 3 * * ? *)\\n"'), "PAY-OPS-003"),
    # names with path separators or shell metacharacters
    "name ../x": (with_("name: payment", "name: ../x"), "name: string should match"),
    "name a/b": (with_("name: payment", "name: a/b"), "name: string should match"),
    "name $(rm)": (with_("name: payment", 'name: "$(rm -rf /)"'), "name: string should match"),
    "name a;b": (with_("name: payment", 'name: "a;b"'), "name: string should match"),
    "name backticks": (with_("name: payment", "name: '`id`'"), "name: string should match"),
    "environment ../x": (with_("environment: dev", "environment: ../x"), "environment: string"),
    "environment $(rm)": (with_("environment: dev", 'environment: "$(rm)"'), "environment: string"),
    "environment a;b": (with_("environment: dev", 'environment: "a;b"'), "environment: string"),
    "service ../x": (service_named("../x"), "services[0].name"),
    "service a/b": (service_named("a/b"), "services[0].name"),
    "service backticks": (service_named("'`id`'"), "services[0].name"),
    "parameter ../x": (with_("log_level: info", "../x: info"), "parameters"),
    "parameter a/b": (with_("log_level: info", "a/b: info"), "parameters"),
    "parameter $(rm)": (with_("log_level: info", '"$(rm)": info'), "parameters"),
    "parameter a;b": (with_("log_level: info", '"a;b": info'), "parameters"),
    "env var a;b": (with_("LOG_LEVEL: info", '"A;B": info'), "environment_variables"),
    "tag key $(rm)": (
        with_("  CostCenter: FinTech\n", '  CostCenter: FinTech\n  "$(rm)": x\n'),
        "tags",
    ),
    "tag value a;b": (with_("FinTech", '"Fin;Tech"'), "only letters, digits"),
    "tag value backticks": (with_("FinTech", "'`id`'"), "only letters, digits"),
    "overrides env ../x": (with_("  prod:", "  ../x:"), "overrides"),
    # network
    "public cidr": (with_("cidr: 10.0.0.0/16", "cidr: 8.8.0.0/16"), "not a private (RFC 1918)"),
    "almost private cidr": (with_("cidr: 10.0.0.0/16", "cidr: 172.15.0.0/16"), "RFC 1918"),
    "benchmark cidr": (with_("cidr: 10.0.0.0/16", "cidr: 198.18.0.0/16"), "RFC 1918"),
    "this-network cidr": (with_("cidr: 10.0.0.0/16", "cidr: 0.0.0.0/16"), "RFC 1918"),
    "carrier-grade NAT cidr": (with_("cidr: 10.0.0.0/16", "cidr: 100.64.0.0/16"), "RFC 1918"),
    "reserved cidr": (with_("cidr: 10.0.0.0/16", "cidr: 240.0.0.0/16"), "RFC 1918"),
    "cidr with host bits": (with_("cidr: 10.0.0.0/16", "cidr: 10.0.0.1/16"), "host bits"),
    "cidr too large": (with_("cidr: 10.0.0.0/16", "cidr: 10.0.0.0/8"), "/16 to /20"),
    "cidr too small": (with_("cidr: 10.0.0.0/16", "cidr: 10.0.0.0/24"), "/16 to /20"),
    "two overlapping cidrs": (
        with_("cidr: 10.0.0.0/16", "cidr: [10.0.0.0/16, 10.0.0.0/17]"),
        "valid string",
    ),
    "ipv6 cidr": (with_("cidr: 10.0.0.0/16", "cidr: fd00::/48"), "not an IPv4 network"),
    # services
    "service named twice": (
        second_service("api", "/pay/*", "    route:\n      path: /a/*\n"),
        "unique",
    ),
    "two services on one route": (
        second_service("worker", "/pay/*", "    route:\n      path: /pay/*\n"),
        "share a route: path /pay/*",
    ),
    # overrides
    "override of an unknown key": (
        with_("    lifecycle: retained", "    lifecycle: retained\n    colour: red"),
        "overrides.prod.colour: unknown key",
    ),
    "override of an unknown nested key": (
        with_("      nat_gateways: 3", "      nat_gateways: 3\n      flowlogs: false"),
        "did you mean 'flow_logs'",
    ),
    "override of a service's unknown key": (
        with_("        desired_count: 6", "        desired_count: 6\n        replicas: 3"),
        "unknown key",
    ),
    "override that is not a mapping": (
        with_("  prod:\n    lifecycle: retained", "  prod: [1]\n  x:\n    lifecycle: retained"),
        "valid dictionary",
    ),
    "override of the name": (
        with_("    lifecycle: retained", "    name: other"),
        "cannot be overridden",
    ),
    "unknown top-level key": (
        with_("lifecycle:", "lifecylce: retained\nlifecycle:"),
        "did you mean 'lifecycle'",
    ),
}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_located_line(text: str, spec: Path, expected: str) -> None:
    lines = text.splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    located = LOCATED.match(lines[0])
    assert located, lines[0]
    assert located["file"] == str(spec)
    assert int(located["line"]) >= 1 and int(located["column"]) >= 1
    assert expected in lines[0], lines[0]


@pytest.mark.parametrize("content,expected", list(CASES.values()), ids=list(CASES))
def test_build_refuses_with_one_located_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_bytes(content)
    output = tmp_path / "out" / "template.json"
    started = time.perf_counter()
    code, out, err = run(capsys, "build", str(spec), "--backend", "cfn", "-o", str(output))
    assert time.perf_counter() - started < 10
    assert code == 1, err
    assert out == ""
    assert_one_located_line(err, spec, expected)
    assert not output.parent.exists()


@pytest.mark.parametrize("content,expected", list(CASES.values()), ids=list(CASES))
def test_validate_refuses_with_one_located_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, expected: str
) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_bytes(content)
    code, out, err = run(capsys, "validate", str(spec))
    assert code == 1
    assert err == ""
    assert_one_located_line(out, spec, expected)  # validate's report goes to stdout


@pytest.mark.parametrize(
    "environment", ["../x", "a/b", "$(rm -rf /)", "a;b", "`id`", "", "Prod", "a\nb", "x" * 40]
)
@pytest.mark.parametrize("command", ["build", "validate"])
def test_a_bad_env_flag_is_a_clean_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, environment: str
) -> None:
    output = tmp_path / "out.json"
    extra = ["-o", str(output)] if command == "build" else []
    code, out, err = run(
        capsys, command, str(ROOT / "examples" / "platform.yaml"), "--env", environment, *extra
    )
    # The flag is wrong, not the spec: a usage error (exit 2) blamed on --env, on stderr.
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("paycompile: error: --env ") and "Traceback" not in err
    assert not output.exists()


def test_tags_may_hold_path_like_values_that_aws_allows() -> None:
    """`/` and `.` are legal in AWS tags (`team/payments`); tags never become paths or commands."""
    spec = paycompile.load_spec_text(with_("FinTech", "fin/tech/../x"))
    assert spec.tags["CostCenter"] == "fin/tech/../x"


def test_a_secret_is_never_echoed_in_an_error() -> None:
    key = "AKIAIOSFODNN7EXAMPLE"
    with pytest.raises(paycompile.SpecError) as caught:
        paycompile.load_spec_text(with_("name: payment", f"name: {key}"))
    assert key not in str(caught.value)
    with pytest.raises(paycompile.SpecError) as caught:
        paycompile.load_spec_text(with_("LOG_LEVEL: info", f'LOG_LEVEL: "{key}\\n"'))
    assert key not in str(caught.value)


def test_long_values_are_shortened_in_messages() -> None:
    with pytest.raises(paycompile.SpecError) as caught:
        paycompile.load_spec_text(with_("region: us-east-1", "region: " + "x" * 100_000))
    assert len(str(caught.value)) <= len("<string>:1:1: region: ") + loader.MAX_MESSAGE


def test_oversized_text_is_refused_before_decoding() -> None:
    data = b"\xff" * (50 * 1024 * 1024)  # not UTF-8 either: the size must be what is reported
    started = time.process_time()  # CPU time: the work done, whatever else the machine runs
    with pytest.raises(paycompile.SpecError, match="larger than 1024 KiB"):
        paycompile.load_spec_text(data)
    assert time.process_time() - started < 0.5


def test_a_megabyte_of_worst_case_yaml_is_refused_in_bounded_time() -> None:
    """Just under the size limit, the slowest input PyYAML's scanner is given still ends."""
    text = "version: " + "a" * (loader.MAX_BYTES - 20) + "\n"
    started = time.process_time()
    with pytest.raises(paycompile.SpecError):
        paycompile.load_spec_text(text)
    assert time.process_time() - started < 15


MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time, tracemalloc
    from paycompile.cli import main
    tracemalloc.start()
    started = time.process_time()
    code = main(sys.argv[1:])
    elapsed = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"code": code, "seconds": elapsed, "peak": peak, "rss": rss}))
    """
)


@pytest.mark.parametrize("command", ["build", "validate"])
def test_a_50_mb_file_is_refused_by_size_fast_and_in_little_memory(
    tmp_path: Path, command: str
) -> None:
    spec = tmp_path / "huge.yaml"
    with spec.open("wb") as stream:
        line = b"# " + b"x" * 1021 + b"\n"
        for _ in range(50 * 1024):
            stream.write(line)
    output = tmp_path / "out.json"
    argv = [command, str(spec), *(["-o", str(output)] if command == "build" else [])]
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, *argv], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    measured = json.loads(result.stdout.splitlines()[-1])
    report = result.stderr if command == "build" else "\n".join(result.stdout.splitlines()[:-1])
    assert measured["code"] == 1, result
    assert "larger than 1024 KiB" in report and "Traceback" not in result.stderr
    assert measured["seconds"] < 2
    # Python allocations while refusing (lazy imports included): never the 50 MB file.
    assert measured["peak"] < 16 * 1024 * 1024
    assert measured["rss"] < 40 * 1024 * 1024 + baseline_rss()
    assert not output.exists()


_BASELINE: list[int] = []


def baseline_rss() -> int:
    """Peak RSS of the same process refusing a tiny spec: imports, interpreter and all."""
    if not _BASELINE:
        result = subprocess.run(
            [sys.executable, "-c", MEASURE, "validate", "/dev/null/none"],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        _BASELINE.append(json.loads(result.stdout.splitlines()[-1])["rss"])
    return _BASELINE[0]
