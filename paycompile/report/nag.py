"""cdk-nag's PCI DSS 3.2.1 pack, run on our template through the AWS CDK.

cdk-nag checks CDK constructs, so nag_app.py (run by the Python of cdk-nag's own venv,
`make nag`, or PAYCOMPILE_CDK_NAG_PYTHON) includes our template unchanged with `CfnInclude`
and runs the pack at synthesis. It needs Node.js (jsii) and about a gigabyte of memory for
some forty seconds, which is why it is optional and not part of `make test`. The pack cites
PCI DSS 3.2.1 requirement numbers; the report maps them to v4.0 (paycompile.report.pci).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from paycompile.errors import BackendError
from paycompile.report.judges import (
    Finding,
    JudgeReport,
    Lifecycle,
    Verdict,
    not_installed,
    run_tool,
    tool_path,
)
from paycompile.report.waivers import cdk_nag_waivers

JUDGE = "cdk-nag"
TITLE = "cdk-nag PCI DSS 3.2.1 pack"
INSTALL_HINT = "run `make nag` (or set PAYCOMPILE_CDK_NAG_PYTHON)"
STANDARD = "PCI DSS 3.2.1"
APP = Path(__file__).with_name("nag_app.py")
# Node 20 still runs the CDK; its end-of-life banner is noise on stderr.
_QUIET = {"JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1"}
_CONTROL_IDS = re.compile(r"Control IDs?:\s*([^)]*)\)")
_VERDICTS: dict[str, Verdict] = {"Non-Compliant": "fail", "Compliant": "pass"}


def python() -> Path:
    return tool_path("PAYCOMPILE_CDK_NAG_PYTHON", "cdk-nag", "bin", "python")


def judge(template: Path, lifecycle: Lifecycle) -> JudgeReport:
    if not python().is_file():
        return not_installed(JUDGE, TITLE, INSTALL_HINT)
    version = _version()
    with tempfile.TemporaryDirectory(prefix="paycompile-nag-") as outdir:
        output = run_tool(
            [str(python()), str(APP), str(template), outdir], (0,), timeout=900, env=_QUIET
        )
    try:
        lines = json.loads(output)
    except json.JSONDecodeError:
        raise BackendError("cdk-nag gave no JSON report") from None
    return JudgeReport(
        JUDGE,
        TITLE,
        version,
        findings=tuple(findings(lines, lifecycle)),
        waivers=cdk_nag_waivers(lifecycle).entries,
        note="rules of the pack that apply to the template's resources",
        standard=STANDARD,
    )


def _version() -> str:
    script = (
        "from importlib.metadata import version; print(version('cdk-nag'), version('aws-cdk-lib'))"
    )
    try:
        nag, cdk = run_tool([str(python()), "-c", script], (0,), timeout=120).split()
    except BackendError:
        raise BackendError(f"cdk-nag is not installed in {python()}: {INSTALL_HINT}") from None
    return f"{nag} (aws-cdk-lib {cdk})"


def findings(lines: list[dict[str, Any]], lifecycle: Lifecycle) -> list[Finding]:
    """One finding per rule and verdict, naming the resources (logical ids) it has it on."""
    grouped: dict[tuple[str, Verdict], dict[str, Any]] = defaultdict(dict)
    for line in lines:
        verdict = _VERDICTS.get(str(line.get("compliance")))
        if verdict is None:
            continue  # N/A lines: the rule did not apply to that resource
        entry = grouped[(str(line["ruleId"]), verdict)]
        info = str(line.get("ruleInfo", "")).replace("\xa0", " ")
        entry.setdefault("info", info)
        entry.setdefault("level", str(line.get("ruleLevel", "")))
        entry.setdefault("resources", set()).add(str(line.get("resourceId", "")).rpartition("/")[2])
    waivers = cdk_nag_waivers(lifecycle)
    found = []
    for (rule, verdict), entry in sorted(grouped.items()):
        resources = tuple(sorted(entry["resources"]))
        title, _, _ = entry["info"].partition(" - (")
        found.append(
            Finding(
                check=rule,
                title=f"{entry['level']}: {title}",
                verdict=verdict,
                resources=resources,
                waiver=waivers.reason(rule, resources) if verdict == "fail" else None,
                pci_dss_321=_control_ids(entry["info"]),
            )
        )
    return found


def _control_ids(info: str) -> tuple[str, ...]:
    match = _CONTROL_IDS.search(info)
    if match is None:
        return ()
    return tuple(part.strip() for part in match.group(1).split(",") if part.strip())
