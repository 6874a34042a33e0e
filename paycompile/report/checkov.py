"""checkov's CloudFormation checks, run on our template.

checkov lives in a virtualenv of its own (`make judges`, or PAYCOMPILE_CHECKOV) because its
pins clash with ours. Its waivers are in the template: the CloudFormation backend writes each
node's waivers as `Metadata.checkov.skip` with a comment, and checkov reports those checks as
skipped with the comment. The report lists every skip the template carries, including those
for checks checkov only runs on Terraform or CDK (docs/security.md says why they stay).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from paycompile.errors import BackendError
from paycompile.report.judges import (
    Finding,
    JudgeReport,
    Verdict,
    Waiver,
    not_installed,
    run_tool,
    tool_path,
)

JUDGE = "checkov"
TITLE = "checkov (CloudFormation checks)"
INSTALL_HINT = "run `make judges` (or set PAYCOMPILE_CHECKOV)"
# No network: skip the guideline download and the id mapping it feeds.
_OFFLINE = {"BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
_RESULTS: tuple[tuple[str, Verdict], ...] = (
    ("failed_checks", "fail"),
    ("skipped_checks", "skipped"),
    ("passed_checks", "pass"),
)


def binary() -> Path:
    return tool_path("PAYCOMPILE_CHECKOV", "checkov", "bin", "checkov")


def judge(template: Path) -> JudgeReport:
    if not binary().is_file():
        return not_installed(JUDGE, TITLE, INSTALL_HINT)
    version = run_tool([str(binary()), "--version"], (0,), timeout=120).strip()
    command = [str(binary()), "-f", str(template), "--framework", "cloudformation"]
    command += ["-o", "json", "--skip-download"]
    # checkov exits 1 when a check fails: a verdict, not a failure to run.
    output = run_tool(command, (0, 1), timeout=600, env=_OFFLINE)
    try:
        report = json.loads(output)
    except json.JSONDecodeError:
        raise BackendError("checkov gave no JSON report") from None
    summary = report.get("summary", {}) if isinstance(report, dict) else {}
    if summary.get("parsing_errors") or not summary.get("resource_count"):
        # A template checkov could not read would otherwise look clean.
        raise BackendError(f"checkov could not read the template: {summary}")
    document = json.loads(template.read_text(encoding="utf-8"))
    return JudgeReport(
        JUDGE,
        TITLE,
        version,
        findings=tuple(findings(report)),
        waivers=tuple(template_waivers(document)),
        note=_summary(report),
    )


def findings(report: Any) -> list[Finding]:
    """One finding per check and verdict, naming the resources it has that verdict on."""
    results = report.get("results", {}) if isinstance(report, dict) else {}
    grouped: dict[tuple[str, Verdict], dict[str, Any]] = defaultdict(dict)
    for key, verdict in _RESULTS:
        for check in results.get(key, []):
            entry = grouped[(str(check["check_id"]), verdict)]
            entry.setdefault("title", str(check.get("check_name", "")))
            entry.setdefault("resources", set()).add(_logical_id(str(check.get("resource", ""))))
            comment = (check.get("check_result") or {}).get("suppress_comment")
            if comment:
                entry["waiver"] = str(comment)
    found = [
        Finding(
            check=check,
            title=entry["title"],
            verdict=verdict,
            resources=tuple(sorted(entry["resources"])),
            waiver=entry.get("waiver"),
        )
        for (check, verdict), entry in grouped.items()
    ]
    return sorted(found, key=lambda finding: (_check_key(finding.check), finding.verdict))


def template_waivers(template: dict[str, Any]) -> list[Waiver]:
    """Every checkov skip the template carries, merged per check: resources and reason."""
    reasons: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, body in sorted(template.get("Resources", {}).items()):
        for skip in (body.get("Metadata") or {}).get("checkov", {}).get("skip", []):
            reasons[(str(skip.get("id", "")), str(skip.get("comment", "")))].append(name)
    found = [
        Waiver(check, tuple(resources), reason) for (check, reason), resources in reasons.items()
    ]
    return sorted(found, key=lambda waiver: (_check_key(waiver.check), waiver.resources))


def _logical_id(resource: str) -> str:
    """`AWS::S3::Bucket.AlbLogsBucket` -> `AlbLogsBucket`."""
    return resource.rpartition(".")[2] or resource


def _check_key(check: str) -> tuple[str, int]:
    head, _, number = check.rpartition("_")
    return head, int(number) if number.isdigit() else 0


def _summary(report: Any) -> str:
    summary = report.get("summary", {}) if isinstance(report, dict) else {}
    return f"{summary.get('resource_count', 0)} resources scanned"
