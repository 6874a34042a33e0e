"""A small stand-in for the GitHub Actions runner: enough to run a composite action's `run:`
steps with bash, as the runner would, in a temporary git repository.

It evaluates the `${{ }}` expressions the action uses (context look-ups, string literals, `==`,
`!=`, `&&`, `||`, `!`, `always()`, `success()`, `failure()`), gives each step the files the
runner gives (`GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY`, `GITHUB_ENV`, `RUNNER_TEMP`), reads the
outputs back, and skips steps whose `if:` is false, including after a failure. `uses:` steps
are handed to a callback: the real ones need GitHub.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = re.compile(
    r"\s*(\|\||&&|==|!=|!|\(|\)|'(?:[^']|'')*'|[A-Za-z_][\w.-]*\(\)|[A-Za-z_][\w.-]*)"
)
TEMPLATE = re.compile(r"\$\{\{(.*?)\}\}")


@dataclass
class StepRun:
    name: str
    ran: bool
    exit_code: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Runner:
    action: dict[str, Any]
    workdir: Path
    temp: Path
    context: dict[str, Any]
    environment: dict[str, str]
    uses: Callable[[dict[str, Any], dict[str, str]], int] = lambda step, inputs: 0
    runs: list[StepRun] = field(default_factory=list)
    failed: bool = False

    def __post_init__(self) -> None:
        inputs = {
            name: str(spec.get("default", "")) for name, spec in self.action["inputs"].items()
        }
        self.context.setdefault("steps", {})
        self.context["inputs"] = {
            name: self.render(value) for name, value in inputs.items()
        } | self.context.get("inputs", {})

    # ------------------------------------------------------------ expressions

    def render(self, text: str) -> str:
        return TEMPLATE.sub(lambda match: _text(self.evaluate(match.group(1))), str(text))

    def evaluate(self, expression: str) -> Any:
        tokens = TOKEN.findall(expression)
        assert "".join(tokens).replace(" ", "") == expression.replace(" ", ""), expression
        value, rest = self._or(tokens)
        assert not rest, f"cannot evaluate {expression!r}"
        return value

    def _or(self, tokens: list[str]) -> tuple[Any, list[str]]:
        value, tokens = self._and(tokens)
        while tokens[:1] == ["||"]:
            right, tokens = self._and(tokens[1:])
            value = value or right
        return value, tokens

    def _and(self, tokens: list[str]) -> tuple[Any, list[str]]:
        value, tokens = self._compare(tokens)
        while tokens[:1] == ["&&"]:
            right, tokens = self._compare(tokens[1:])
            value = value and right
        return value, tokens

    def _compare(self, tokens: list[str]) -> tuple[Any, list[str]]:
        value, tokens = self._atom(tokens)
        if tokens[:1] in (["=="], ["!="]):
            right, rest = self._atom(tokens[1:])
            equal = _text(value).lower() == _text(right).lower()
            return (equal if tokens[0] == "==" else not equal), rest
        return value, tokens

    def _atom(self, tokens: list[str]) -> tuple[Any, list[str]]:
        token, rest = tokens[0], tokens[1:]
        if token == "!":
            value, rest = self._atom(rest)
            return not value, rest
        if token == "(":
            value, rest = self._or(rest)
            assert rest[:1] == [")"]
            return value, rest[1:]
        if token.startswith("'"):
            return token[1:-1].replace("''", "'"), rest
        if token.endswith("()"):
            return {"always()": True, "success()": not self.failed, "failure()": self.failed}[
                token
            ], rest
        node: Any = self.context
        for part in token.split("."):
            node = node.get(part, "") if isinstance(node, dict) else ""
        return node, rest

    # ------------------------------------------------------------ steps

    def run(self) -> list[StepRun]:
        for index, step in enumerate(self.action["runs"]["steps"]):
            self.runs.append(self.step(index, step))
        return self.runs

    def step(self, index: int, step: dict[str, Any]) -> StepRun:
        name = step.get("name", f"step {index}")
        condition = str(step.get("if", "success()"))
        condition = TEMPLATE.sub(lambda match: match.group(1), condition)
        if not self.evaluate(condition):
            return StepRun(name, ran=False)
        env = {key: self.render(value) for key, value in step.get("env", {}).items()}
        if "uses" in step:
            inputs = {key: self.render(value) for key, value in step.get("with", {}).items()}
            code = self.uses(step, inputs)
            self.failed = self.failed or code != 0
            return StepRun(name, ran=True, exit_code=code)
        files = {
            name: self.temp / f"{name.lower()}-{index}" for name in ("GITHUB_OUTPUT", "GITHUB_ENV")
        }
        for path in files.values():
            path.write_text("")
        files["GITHUB_STEP_SUMMARY"] = self.summary
        script = self.temp / f"step-{index}.sh"
        script.write_text(step["run"])
        result = subprocess.run(
            # The runner's own command line for `shell: bash`.
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workdir,
            env=self.environment
            | {key: str(path) for key, path in files.items()}
            | {"RUNNER_TEMP": str(self.temp)}
            | env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outputs = dict(
            line.split("=", 1) for line in files["GITHUB_OUTPUT"].read_text().splitlines() if line
        )
        if "id" in step:
            self.context["steps"][step["id"]] = {"outputs": outputs}
        self.failed = self.failed or result.returncode != 0
        return StepRun(name, True, result.returncode, result.stdout, result.stderr, outputs)

    @property
    def summary(self) -> Path:
        """The job summary: every step appends to the same page."""
        path = self.temp / "summary.md"
        if not path.exists():
            path.write_text("")
        return path

    def get(self, name: str) -> StepRun:
        return next(run for run in self.runs if run.name == name)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def base_environment(path: list[Path]) -> dict[str, str]:
    """A clean environment for a step: our PATH first, a HOME, no runner variables of the host."""
    keep = {key: os.environ[key] for key in ("HOME", "LANG", "TMPDIR") if key in os.environ}
    return keep | {"PATH": os.pathsep.join([*map(str, path), "/usr/bin", "/bin"])}
