"""The cutover state machine judged by what it does: the ASL walked as a graph.

For each service, the machine that references both of its target groups must:
- capture the weights of the service's own listener default or rule (describe, keep the
  forward config at a result path) before anything changes;
- switch: modify that same listener or rule to give the target colour all the traffic (and the
  canary share first, when the spec asks for one); never modify anything else;
- after the first change, reach a terminal state only through the rollback (which modifies the
  same listener or rule back to the captured weights) or through the recorded new colour;
- bound every loop by a counter it increments and a choice that leaves the loop on it, waiting
  a total that matches the spec (health wait, bake);
- pair each target group it moves traffic to with the ECS service registered in it;
- log its executions to a log group of the platform.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Set
from typing import Any

from tests.checkers.expectation import Cutover, Expectation
from tests.checkers.judge_access import sdk_calls
from tests.checkers.judge_traffic import groups_of, routes_of
from tests.checkers.model import Platform, StateMachine, only_name, token

MODIFY = {"elasticloadbalancing:ModifyListener", "elasticloadbalancing:ModifyRule"}
DESCRIBE = {"elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeRules"}
READ_ONLY = re.compile(r":(Describe|Get|List)[A-Z]")
MATH_ADD = re.compile(r"^States\.MathAdd\((?P<var>\$[.\w]+),\s*1\)$")
BOUNDS = {"NumericGreaterThanEquals": 0, "NumericGreaterThan": 1}
TERMINAL = ("Succeed", "Fail")


class Machine:
    """A definition as a graph: states, their kinds of edges, what each task calls."""

    def __init__(self, definition: dict[str, Any]):
        self.states: dict[str, dict[str, Any]] = definition.get("States", {})
        self.start = str(definition.get("StartAt", ""))
        self.calls = {state: (action, params) for state, action, params in sdk_calls(definition)}

    def edges(self, name: str) -> Iterator[tuple[str, str]]:
        """(kind, target): next, choice, default, catch."""
        state = self.states.get(name, {})
        if "Next" in state:
            yield "next", state["Next"]
        for choice in state.get("Choices", []):
            yield "choice", choice.get("Next", "")
        if "Default" in state:
            yield "default", state["Default"]
        for catch in state.get("Catch", []):
            yield "catch", catch.get("Next", "")

    def terminal(self, name: str) -> bool:
        state = self.states.get(name, {})
        return state.get("Type") in TERMINAL or state.get("End") is True

    def reach(
        self,
        start: str,
        without: Set[str] = frozenset(),
        cut: Set[tuple[str, str]] = frozenset(),
    ) -> list[str]:
        """States reachable from `start` (in order), never entering `without`, never taking the
        `(state, kind)` edges in `cut`."""
        seen, queue = [], [start] if start not in without else []
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            seen.append(name)
            for kind, target in self.edges(name):
                if (name, kind) not in cut and target not in without and target not in seen:
                    queue.append(target)
        return seen

    def changes(self, name: str) -> bool:
        call = self.calls.get(name)
        return call is not None and not READ_ONLY.search(call[0])

    def cycles_through(self, nodes: set[str]) -> bool:
        """Whether the graph restricted to `nodes` has a cycle."""
        colour: dict[str, int] = {}

        def visit(node: str) -> bool:
            colour[node] = 1
            for _, target in self.edges(node):
                if target in nodes and (
                    colour.get(target) == 1 or (target not in colour and visit(target))
                ):
                    return True
            colour[node] = 2
            return False

        return any(node not in colour and visit(node) for node in sorted(nodes))

    def loops(self) -> list[set[str]]:
        """The strongly connected parts that hold a cycle (Tarjan, iteratively small enough)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        found: list[set[str]] = []

        def connect(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            for _, target in self.edges(node):
                if target not in self.states:
                    continue
                if target not in index:
                    connect(target)
                    low[node] = min(low[node], low[target])
                elif target in stack:
                    low[node] = min(low[node], index[target])
            if low[node] == index[node]:
                part = set()
                while True:
                    member = stack.pop()
                    part.add(member)
                    if member == node:
                        break
                if len(part) > 1 or any(t == node for _, t in self.edges(node)):
                    found.append(part)

        for node in sorted(self.states):
            if node not in index:
                connect(node)
        return found


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _acts_on(params: dict[str, Any]) -> str | None:
    for key in ("ListenerArn", "RuleArn"):
        if key in params:
            return only_name(params[key]) or str(params[key])
    return None


def _forward_groups(params: dict[str, Any]) -> Any:
    actions = params.get("DefaultActions", params.get("Actions", []))
    config = actions[0].get("ForwardConfig", {}) if actions and isinstance(actions[0], dict) else {}
    return config.get("TargetGroups.$", config.get("TargetGroups"))


def judge_machine(
    machine: StateMachine, place: str, service: str, cutover: Cutover, platform: Platform
) -> list[str]:
    m = Machine(machine.definition)
    name = machine.name
    found = []
    capture, result = _capture(m, place)
    modifies = {state: params for state, (action, params) in m.calls.items() if action in MODIFY}
    for state, params in sorted(modifies.items()):
        target = _acts_on(params)
        if target != place:
            found.append(f"{name}: {state} modifies {token(str(target))}, not {token(place)}")
    on_place = {s: p for s, p in modifies.items() if _acts_on(p) == place}
    switch = [
        s
        for s, p in on_place.items()
        if isinstance(_forward_groups(p), list) and _gives_all(_forward_groups(p))
    ]
    rollback = [
        s
        for s, p in on_place.items()
        if result
        and isinstance(_forward_groups(p), str)
        and str(_forward_groups(p)).startswith(result)
    ]
    if capture is None:
        found.append(f"{name}: no state captures the weights of {token(place)}")
    if not switch:
        found.append(
            f"{name}: no state sends all traffic to the target colour through {token(place)}"
        )
    if not rollback:
        found.append(f"{name}: no state restores the captured weights")
    commit = _commit(m, platform, service)
    if commit is None:
        found.append(f"{name}: no state records the new colour")
    if capture and rollback and commit:
        found += _failure_paths(m, name, capture, rollback[0], commit)
    if switch and commit and commit in m.reach(m.start, without={switch[0]}):
        found.append(f"{name}: {commit} records the colour without the switch")
    found += _canary(m, name, on_place, cutover)
    found += _loops(m, name, cutover)
    found += _pairs(m, name, platform)
    return found


def _capture(m: Machine, place: str) -> tuple[str | None, str | None]:
    for state, (action, params) in m.calls.items():
        if action in DESCRIBE and token(place) in _text(params):
            selector = _text(m.states[state].get("ResultSelector", {}))
            path = m.states[state].get("ResultPath")
            if "ForwardConfig.TargetGroups" in selector and isinstance(path, str):
                return state, path
    return None, None


def _gives_all(groups: list[Any]) -> bool:
    return any(isinstance(g, dict) and g.get("Weight") == 100 for g in groups)


def _commit(m: Machine, platform: Platform, service: str) -> str | None:
    """The state that records the service's new colour in its active-colour parameter."""
    wanted = {
        token(name)
        for name, physical in platform.parameters.items()
        if physical.endswith(f"/services/{service}/active-color")
    }
    for state, (action, params) in m.calls.items():
        if action == "ssm:PutParameter" and params.get("Name") in wanted:
            return state
    return None


def _failure_paths(m: Machine, name: str, capture: str, rollback: str, commit: str) -> list[str]:
    found = []
    before = m.reach(m.start, without={capture})
    found += [
        f"{name}: {s} changes something before the weights are captured"
        for s in before
        if m.changes(s)
    ]
    cut = {(commit, "next")}
    reported: set[str] = set()
    for state in m.reach(capture, without={rollback}, cut=cut):
        if not m.changes(state):
            continue
        for end in m.reach(state, without={rollback}, cut=cut):
            if m.terminal(end) and end not in reported:
                reported.add(end)
                found.append(f"{name}: {state} can end in {end} without the rollback")
    if any(m.states.get(s, {}).get("Type") == "Succeed" for s in m.reach(rollback)):
        found.append(f"{name}: after the rollback the execution can succeed")
    return found


def _canary(
    m: Machine, name: str, on_place: dict[str, dict[str, Any]], cutover: Cutover
) -> list[str]:
    found = []
    for state, params in sorted(on_place.items()):
        groups = _forward_groups(params)
        if not isinstance(groups, list):
            continue
        weights = [int(g.get("Weight", 0)) for g in groups if isinstance(g, dict)]
        if 100 in weights:
            continue
        if sorted(weights) != sorted([cutover.canary_percent, 100 - cutover.canary_percent]):
            canary = cutover.canary_percent
            found.append(f"{name}: {state} splits traffic {weights}, spec says a {canary}% canary")
    return found


def _counters(m: Machine, loop: set[str]) -> dict[str, str]:
    """Counter variable -> the state that adds one to it, within `loop`."""
    found = {}
    for state in loop:
        body = m.states[state]
        for key, value in (body.get("Parameters") or {}).items():
            match = MATH_ADD.match(str(value)) if key.endswith(".$") else None
            variable = f"{body.get('ResultPath', '$')}.{key.removesuffix('.$')}"
            if match and match["var"] == variable:
                found[variable] = state
    return found


def _bounds(m: Machine, loop: set[str], counters: dict[str, str]) -> list[tuple[str, str, int]]:
    """(choice state, counter, iterations) for every choice that leaves `loop` on a counter."""
    found = []
    for state in loop:
        for choice in m.states[state].get("Choices", []):
            for operator, extra in BOUNDS.items():
                if (
                    choice.get("Variable") in counters
                    and operator in choice
                    and choice.get("Next") not in loop
                ):
                    found.append((state, choice["Variable"], int(choice[operator]) + extra))
    return found


def _loops(m: Machine, name: str, cutover: Cutover) -> list[str]:
    found = []
    for loop in m.loops():
        waits = [s for s in sorted(loop) if m.states[s].get("Type") == "Wait"]
        first = waits[0] if waits else sorted(loop)[0]
        counters = _counters(m, loop)
        bounds = [
            (state, variable, n)
            for state, variable, n in _bounds(m, loop, counters)
            if not m.cycles_through(loop - {state})
            and not m.cycles_through(loop - {counters[variable]})
        ]
        every = [w for w in waits if not m.cycles_through(loop - {w}) and "Seconds" in m.states[w]]
        if not bounds:
            found.append(f"{name}: the loop through {first} has no bound")
            continue
        if not every:
            found.append(f"{name}: the loop through {first} does not wait on every round")
            continue
        total = min(n for _, _, n in bounds) * min(int(m.states[w]["Seconds"]) for w in every)
        found += _duration(m, name, loop, total, cutover)
    return found


def _duration(m: Machine, name: str, loop: set[str], total: int, cutover: Cutover) -> list[str]:
    actions = {m.calls[s][0] for s in loop if s in m.calls}
    poll = cutover.poll_seconds
    if "elasticloadbalancing:DescribeTargetHealth" in actions:
        wanted = cutover.healthy_timeout_seconds
        if not wanted <= total < wanted + poll:
            return [f"{name}: the health wait lasts {total} s, spec says {wanted} s"]
    elif "cloudwatch:DescribeAlarms" in actions:
        wanted = max(cutover.bake_seconds, 1)
        if not wanted <= total < wanted + poll:
            return [f"{name}: the bake waits {total} s, spec says {cutover.bake_seconds} s"]
    else:
        return [f"{name}: a loop that waits for neither health nor alarms ({sorted(loop)})"]
    return []


def _pairs(m: Machine, name: str, platform: Platform) -> list[str]:
    """Each record that names a group and a service pairs the group with its own ECS service."""
    found = []
    for state, body in sorted(m.states.items()):
        result = body.get("Result")
        if body.get("Type") != "Pass" or not isinstance(result, dict):
            continue
        for key, value in result.items():
            group = only_name(value)
            partner = only_name(result.get(key.replace("group", "service")))
            if "group" not in key or group not in platform.target_groups or partner is None:
                continue
            behind = platform.ecs_services.get(partner)
            if behind is None or group not in [g for g, _ in behind.target_groups]:
                found.append(f"{name}: {state} pairs {group} with {partner}")
    return found


def judge_cutovers(platform: Platform, expected: Expectation) -> list[str]:
    found = []
    for service in sorted(expected.services):
        groups = set(groups_of(platform, service).values())
        routes = routes_of(platform, groups)
        owners = [
            m
            for m in platform.machines.values()
            if groups and all(token(g) in _text(m.definition) for g in groups)
        ]
        if len(owners) != 1:
            found.append(f"service {service}: {len(owners)} cutover state machines, wants 1")
            continue
        machine = owners[0]
        if machine.logging_level in (None, "OFF") or machine.log_group not in platform.log_groups:
            found.append(
                f"{machine.name}: logging level {machine.logging_level}, to {machine.log_group}"
            )
        if len(routes) == 1:
            found += judge_machine(
                machine, routes[0].place, service, expected.cutovers[service], platform
            )
    return found
