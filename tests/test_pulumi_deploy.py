"""`up` and `destroy` preview first, show the change table, and apply only what was approved.

No Pulumi CLI can run here, so the Automation API stack is replaced by one that answers with
engine events in the CLI's own event-log JSON (parsed by `pulumi.automation.EngineEvent`) and
records whether `up` or `destroy` was called. Everything from the events on is paycompile's code.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pulumi.automation import EngineEvent

import paycompile
from paycompile.backends.pulumi import automation
from paycompile.backends.pulumi.automation import changes_of, run_action
from paycompile.changes import Action
from paycompile.cli import main
from paycompile.compiler.graph import Graph
from paycompile.deploy.approval import Guard, RequireApproval
from paycompile.errors import ChangeRefused

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
STACK_URN = "urn:pulumi:dev::payment::"


def graph(environment: str = "dev") -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(REFERENCE, environment))


def step(op: str, type_token: str, name: str, retain: bool = False) -> dict[str, Any]:
    """One `resourcePreEvent` as the engine writes it to its event log."""
    state = {
        "type": type_token,
        "urn": f"{STACK_URN}{type_token}::{name}",
        "retainOnDelete": retain,
    }
    return {
        "sequence": 1,
        "timestamp": 0,
        "resourcePreEvent": {
            "metadata": {
                "op": op,
                "urn": state["urn"],
                "type": type_token,
                "provider": "",
                "old": state if op != "create" else None,
                "new": state if op != "delete" else None,
            },
            "planning": True,
        },
    }


CLUSTER = "aws:rds/cluster:Cluster"
ROLE = "aws:iam/role:Role"
SERVICE = "aws:ecs/service:Service"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"


class FakeStack:
    """Answers previews with fixed engine events and records what was applied."""

    name = "dev"

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = [EngineEvent.from_json(event) for event in events]
        self.applied: list[str] = []

    def _emit(self, on_event: Callable[[EngineEvent], None] | None) -> None:
        for event in self.events:
            if on_event:
                on_event(event)

    def preview(self, **kwargs: Any) -> None:
        self._emit(kwargs.get("on_event"))

    def preview_destroy(self, **kwargs: Any) -> None:
        self._emit(kwargs.get("on_event"))

    def up(self, **kwargs: Any) -> None:
        self.applied.append("up")

    def destroy(self, **kwargs: Any) -> None:
        self.applied.append("destroy")


def run(stack: FakeStack, action: str, guard: Guard) -> list[str]:
    lines: list[str] = []
    run_action(stack, graph(), action, guard, lines.append)  # type: ignore[arg-type]
    return lines


CREATES = [step("create", SERVICE, "ApiService"), step("same", CLUSTER, "DbCluster")]
REPLACE_CLUSTER = [
    step("create-replacement", CLUSTER, "DbCluster"),
    step("replace", CLUSTER, "DbCluster"),
    step("delete-replaced", CLUSTER, "DbCluster"),
]


def test_steps_become_one_change_per_resource() -> None:
    events = [EngineEvent.from_json(e) for e in [*REPLACE_CLUSTER, *CREATES]]
    steps = [e.resource_pre_event.metadata for e in events if e.resource_pre_event]
    changes = changes_of(steps, graph())
    assert [(c.logical_id, c.action) for c in changes] == [
        ("DbCluster", Action.REPLACE),
        ("ApiService", Action.ADD),
    ]
    assert changes[0].loses_data and not changes[1].risks


def test_preview_shows_the_table_and_applies_nothing() -> None:
    stack = FakeStack(CREATES)
    lines = run(stack, "preview", Guard())
    assert stack.applied == []
    assert "ApiService" in lines[0] and "1 add" in lines[0]


def test_up_with_yes_applies_after_showing_the_table() -> None:
    stack = FakeStack(CREATES)
    lines = run(stack, "up", Guard(yes=True))
    assert stack.applied == ["up"] and "add" in lines[0]


def test_up_without_a_terminal_or_yes_is_refused_before_anything_runs() -> None:
    stack = FakeStack(CREATES)
    with pytest.raises(ChangeRefused, match="no terminal") as refused:
        run(stack, "up", Guard())
    assert refused.value.exit_code == 4 and stack.applied == []


@pytest.mark.parametrize("answer", [True, False])
def test_the_person_asked_decides(answer: bool) -> None:
    stack = FakeStack(CREATES)
    questions: list[str] = []

    def ask(question: str) -> bool:
        questions.append(question)
        return answer

    if answer:
        run(stack, "up", Guard(ask=ask))
    else:
        with pytest.raises(ChangeRefused, match="not confirmed"):
            run(stack, "up", Guard(ask=ask))
    assert questions == ["Do you want to update stack dev?"]
    assert stack.applied == (["up"] if answer else [])


def test_yes_never_approves_a_replaced_database() -> None:
    stack = FakeStack(REPLACE_CLUSTER)
    with pytest.raises(ChangeRefused, match=r"DbCluster.*--allow-data-loss"):
        run(stack, "up", Guard(yes=True))
    assert stack.applied == []
    run(stack, "up", Guard(yes=True, allow_data_loss=True))
    assert stack.applied == ["up"]


def test_a_new_password_is_data_loss_too() -> None:
    password = "random:index/randomPassword:RandomPassword"
    stack = FakeStack([step("replace", password, "DbSecretPassword")])
    with pytest.raises(ChangeRefused, match="DbSecretPassword"):
        run(stack, "up", Guard(yes=True))


def test_broadening_only_asks_for_risky_changes() -> None:
    guard = Guard(require_approval=RequireApproval.BROADENING)
    plain = FakeStack([step("update", SERVICE, "ApiService")])
    run(plain, "up", guard)
    assert plain.applied == ["up"]
    widened = FakeStack([step("update", ROLE, "ApiTaskRole")])
    with pytest.raises(ChangeRefused, match="no terminal"):
        run(widened, "up", guard)
    assert "widening" in run(widened, "preview", guard)[0] and widened.applied == []


def test_destroy_names_what_is_kept_and_what_is_lost() -> None:
    stack = FakeStack(
        [
            step("delete", SERVICE, "ApiService"),
            step("delete", LOG_GROUP, "ApiLogGroup", retain=True),
            step("delete", CLUSTER, "DbCluster"),
        ]
    )
    with pytest.raises(ChangeRefused, match="DbCluster"):
        run(stack, "destroy", Guard(yes=True))
    table = run(stack, "destroy", Guard(yes=True, allow_data_loss=True))[0]
    assert "kept in the account: ApiLogGroup" in table and "DATA LOST: DbCluster" in table
    assert stack.applied == ["destroy"]


def test_nothing_to_do_applies_nothing_and_asks_nothing() -> None:
    stack = FakeStack([step("same", CLUSTER, "DbCluster")])
    lines = run(stack, "up", Guard())
    assert lines == ["no changes"] and stack.applied == []


# ---------------------------------------------------------------- the command line


def test_up_and_destroy_need_an_explicit_backend(capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("up", "destroy"):
        assert main([action, str(REFERENCE)]) == 2
    assert "--backend" in capsys.readouterr().err


def test_cli_up_without_a_terminal_exits_4_and_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = FakeStack(CREATES)
    monkeypatch.setattr(automation.shutil, "which", lambda name: "/usr/bin/pulumi")
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "test")
    monkeypatch.setattr(automation, "open_stack", lambda *args: stack)
    assert main(["up", str(REFERENCE), "--backend", "pulumi"]) == 4
    captured = capsys.readouterr()
    assert "ApiService" in captured.out and "no terminal" in captured.err
    assert captured.err.count("\n") == 1 and stack.applied == []
    assert main(["up", str(REFERENCE), "--backend", "pulumi", "--yes"]) == 0
    assert stack.applied == ["up"]


@pytest.mark.parametrize(("typed", "approved"), [("y\n", True), ("yes\n", True), ("\n", False)])
def test_the_terminal_prompt_in_a_real_pseudo_terminal(typed: str, approved: bool) -> None:
    code = (
        "from paycompile.deploy.approval import terminal_ask\n"
        "ask = terminal_ask()\n"
        "print('ANSWER', ask is not None and ask('Go on?'))\n"
    )
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=child, stdout=child, stderr=child, cwd=ROOT
    )
    os.close(child)
    os.write(parent, typed.encode())
    seen = b""
    while process.poll() is None or b"ANSWER" not in seen:
        try:
            chunk = os.read(parent, 1024)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    process.wait(timeout=30)
    os.close(parent)
    text = seen.decode()
    assert "Go on? [y/N]" in text and f"ANSWER {approved}" in text
