"""cfn-lint's rules, run in process on our template (cfn-lint comes with the dev extra).

Every rule that runs by default (not the experimental ones) is a finding: `fail` when it
reports an error or a warning, `pass` when it reports nothing. Informational matches are not
failures and are left out, as in the suite. Its waivers are the template's own
`Metadata.cfn-lint.config.ignore_checks` (cfn-lint reports nothing for an ignored rule).
"""

from __future__ import annotations

import importlib.util
import json
from collections import defaultdict
from functools import cache
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

from paycompile.report.judges import Finding, JudgeReport, Waiver, not_installed

JUDGE = "cfn-lint"
TITLE = "cfn-lint (CloudFormation schemas and best practices)"
INSTALL_HINT = "install paycompile's dev extra (`pip install -e '.[dev]'`)"
NO_REASON = "(no reason given: cfn-lint's ignore_checks carry none)"


def installed() -> bool:
    return importlib.util.find_spec("cfnlint") is not None


def judge(template: Path, region: str) -> JudgeReport:
    if not installed():
        return not_installed(JUDGE, TITLE, INSTALL_HINT)
    from cfnlint.api import lint  # type: ignore[import-untyped]

    text = template.read_text(encoding="utf-8")
    rules = _rules(region)
    matches = lint(text, rules=rules, regions=[region])
    ran = {rule_id: rules[rule_id] for rule_id in rules if not rules[rule_id].experimental}
    return JudgeReport(
        JUDGE,
        TITLE,
        package_version("cfn-lint"),
        findings=tuple(findings(ran, matches)),
        waivers=tuple(template_waivers(json.loads(text))),
        note=f"{len(ran)} rules run for {region}",
    )


@cache
def _rules(region: str) -> Any:
    """cfn-lint's rules for a region; loading them takes a couple of seconds, so once."""
    from cfnlint.api import ConfigMixIn, Runner

    return Runner(ConfigMixIn(regions=[region])).rules


def findings(ran: dict[str, Any], matches: list[Any]) -> list[Finding]:
    """One finding per rule that ran: its errors and warnings, or a pass."""
    found: dict[str, list[Any]] = defaultdict(list)
    for match in matches:
        if match.rule.id[:1] in ("E", "W"):
            found[match.rule.id].append(match)
    unknown = [rule_id for rule_id in found if rule_id not in ran]
    ran = {**ran, **{rule_id: found[rule_id][0].rule for rule_id in unknown}}
    result = []
    for rule_id, rule in sorted(ran.items()):
        hits = found.get(rule_id, [])
        result.append(
            Finding(
                check=rule_id,
                title=str(rule.shortdesc),
                verdict="fail" if hits else "pass",
                resources=tuple(sorted({_resource(hit.path) for hit in hits} - {""})),
                detail="; ".join(f"{hit.path_string}: {hit.message}" for hit in hits),
            )
        )
    return result


def template_waivers(template: dict[str, Any]) -> list[Waiver]:
    """The rules the template tells cfn-lint to ignore, for the template or per resource."""
    found: dict[str, list[str]] = defaultdict(list)
    for check in _ignored(template.get("Metadata")):
        found[check].append("(template)")
    for name, body in sorted((template.get("Resources") or {}).items()):
        for check in _ignored(body.get("Metadata") if isinstance(body, dict) else None):
            found[check].append(name)
    return [Waiver(check, tuple(where), NO_REASON) for check, where in sorted(found.items())]


def _ignored(metadata: Any) -> list[str]:
    config = ((metadata or {}).get("cfn-lint") or {}).get("config") or {}
    return [str(check) for check in config.get("ignore_checks") or []]


def _resource(path: list[Any]) -> str:
    return str(path[1]) if len(path) > 1 and path[0] == "Resources" else ""
