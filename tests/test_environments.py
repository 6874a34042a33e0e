"""Environments are declared: `--env` names `environment` or a key of `overrides` (or `--new-env`
says a new one is meant), and an override entry names a service that exists (or is complete)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import paycompile
from paycompile.cli import _parser, main
from paycompile.errors import SpecError, UndeclaredEnvironment

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"

Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def commands_taking_env() -> dict[str, argparse.ArgumentParser]:
    """Every subcommand with an `--env` option, read from the parser users get."""
    subcommands = next(
        action for action in _parser()._actions if isinstance(action, argparse._SubParsersAction)
    )
    return {
        name: parser
        for name, parser in subcommands.choices.items()
        if "--env" in parser._option_string_actions
    }


def argv_for(name: str, parser: argparse.ArgumentParser, output: Path, *extra: str) -> list[str]:
    """A command line for `name`: the reference spec for every positional, the first choice for
    every required option, `-o` into `output` where the command writes a file."""
    argv = [name]
    for action in parser._actions:
        if not action.option_strings and action.dest not in ("help",):
            argv.append(str(REFERENCE))
        elif action.required:
            argv += [action.option_strings[0], str(next(iter(action.choices or ["x"])))]
    if "-o" in parser._option_string_actions:
        argv += ["-o", str(output)]
    return [*argv, *extra]


def test_the_commands_that_take_env_are_found() -> None:
    assert {"build", "validate", "graph", "preview", "up", "destroy"} <= set(commands_taking_env())


@pytest.mark.parametrize("command", sorted(commands_taking_env()))
def test_a_typo_in_env_is_refused_by_every_command(
    tmp_path: Path, capsys: Capture, command: str
) -> None:
    output = tmp_path / "out.json"
    argv = argv_for(command, commands_taking_env()[command], output, "--env", "prdo")
    code, out, err = run(capsys, *argv)
    assert code == 2, err
    assert out == "" and not output.exists()
    [line] = err.splitlines()
    assert line.startswith("paycompile: error: --env 'prdo' is not declared in ")
    assert "did you mean 'prod'?" in line and "--new-env" in line


@pytest.mark.parametrize("command", sorted(commands_taking_env()))
def test_a_bad_env_name_is_blamed_on_the_flag(
    tmp_path: Path, capsys: Capture, command: str
) -> None:
    argv = argv_for(command, commands_taking_env()[command], tmp_path / "o.json", "--env", "Prod")
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith("paycompile: error: --env 'Prod' is not an environment name")
    assert "did you mean 'prod'?" in line
    assert "platform.yaml:" not in line  # the spec is not at fault


def test_new_env_builds_a_new_environment(tmp_path: Path, capsys: Capture) -> None:
    output = tmp_path / "pr.json"
    code, _, err = run(
        capsys, "build", str(REFERENCE), "--env", "pr-123", "--new-env", "-o", str(output)
    )
    assert code == 0, err
    template = json.loads(output.read_text())
    environments = {
        tag["Value"]
        for resource in template["Resources"].values()
        for tag in resource.get("Properties", {}).get("Tags", [])
        if isinstance(tag, dict) and tag.get("Key") == "Environment"
    }
    assert environments == {"pr-123"}


def test_new_env_without_env_is_a_usage_error(capsys: Capture) -> None:
    code, out, err = run(capsys, "validate", str(REFERENCE), "--new-env")
    assert (code, out) == (2, "")
    assert err.startswith("paycompile: error: --new-env needs --env")


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_declared_environments_need_no_flag(capsys: Capture, environment: str) -> None:
    code, out, _ = run(capsys, "validate", str(REFERENCE), "--env", environment)
    assert code == 0 and out.endswith(": valid\n")


def test_the_library_refuses_an_undeclared_environment_too() -> None:
    with pytest.raises(UndeclaredEnvironment, match="did you mean 'prod'"):
        paycompile.load_spec(REFERENCE, "prdo")
    spec = paycompile.load_spec(REFERENCE, "pr-7", new_environment=True)
    assert spec.environment == "pr-7"


# ---------------------------------------------------------------- override entries by name

TWO_SERVICES = """\
version: 1
name: shop
environment: dev
region: us-east-1
lifecycle: ephemeral
tags: {CostCenter: Shop, MigrationPhase: Pilot}
network: {cidr: 10.1.0.0/16}
tls:
  certificate_arn: >-
    arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000
monitoring: {alarm_email: oncall@example.com}
services:
  - name: api
    image: public.ecr.aws/nginx/nginx:1.27
    port: 8080
  - name: webhooks
    image: public.ecr.aws/nginx/nginx:1.27
    port: 8081
    route: {path: /hooks/*}
overrides:
  prod:
    lifecycle: retained
    network: {nat_gateways: 3}
    services:
"""


def test_an_override_naming_no_service_is_blamed_at_its_own_line() -> None:
    text = TWO_SERVICES + "      - name: webhook\n        desired_count: 4\n"
    line = text.count("\n") - 1  # the `- name: webhook` line
    for environment in (None, "prod"):  # building dev checks the prod override too
        with pytest.raises(SpecError) as raised:
            paycompile.load_spec_text(text, "platform.yaml", environment)
        [issue] = raised.value.issues
        assert (issue.line, issue.column) == (line, 15)
        assert issue.path == "overrides.prod.services[0].name"
        assert "no service named 'webhook'" in issue.message
        assert "did you mean 'webhooks'?" in issue.message
        assert "image" in issue.message and "port" in issue.message


def test_an_override_with_a_complete_new_service_appends_it() -> None:
    text = TWO_SERVICES + (
        "      - name: admin\n"
        "        image: public.ecr.aws/nginx/nginx:1.27\n"
        "        port: 8082\n"
        "        route: {path: /admin/*}\n"
    )
    prod = paycompile.load_spec_text(text, "platform.yaml", "prod")
    assert [service.name for service in prod.services] == ["api", "webhooks", "admin"]
    dev = paycompile.load_spec_text(text, "platform.yaml")
    assert [service.name for service in dev.services] == ["api", "webhooks"]


def test_an_override_naming_a_service_changes_only_it() -> None:
    text = TWO_SERVICES + "      - name: webhooks\n        desired_count: 4\n"
    prod = paycompile.load_spec_text(text, "platform.yaml", "prod")
    assert [(s.name, s.desired_count) for s in prod.services] == [("api", 2), ("webhooks", 4)]


def test_the_cli_reports_the_override_typo_as_a_spec_issue(tmp_path: Path, capsys: Capture) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(TWO_SERVICES + "      - name: webhook\n        desired_count: 4\n")
    line_number = TWO_SERVICES.count("\n") + 1
    code, out, err = run(capsys, "build", str(spec), "-o", str(tmp_path / "t.json"))
    assert (code, out) == (1, "")
    [line] = err.splitlines()
    where = f"{spec}:{line_number}:15: overrides.prod.services[0].name"
    assert line.startswith(f"{where}: no service named 'webhook'")
