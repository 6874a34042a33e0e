"""The report as text: JSON (the data itself), Markdown and self-contained HTML (jinja2).

Both templates render the JSON form (with evidence values as text), so the three formats
always say the same thing. jinja2
is imported here, when a report is rendered, never by `import paycompile`.
"""

from __future__ import annotations

import json
from typing import Any

from paycompile.report.compliance import ComplianceReport, to_json

FORMATS = ("html", "md", "json")
STATUSES = ("fail", "waived", "skipped", "pass", "not_applicable")
# Findings shown in full; the rest (passes, not applicable) are listed folded.
NOTABLE = ("fail", "waived", "skipped")


def render_report(report: ComplianceReport, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n"
    template = _environment().get_template(f"report.{output_format}.j2")
    text: str = template.render(
        report=to_json(report, as_text=True), statuses=STATUSES, notable=NOTABLE
    )
    return text


def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("paycompile.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["cell"] = markdown_cell
    environment.filters["code"] = markdown_code
    environment.filters["anchor"] = anchor
    return environment


def markdown_cell(value: Any) -> str:
    """Text safe inside a Markdown table cell: one line, pipes and markup escaped."""
    text = " ".join(str(value).split())
    for special in ("\\", "|", "<", ">", "*", "_", "`", "[", "]"):
        text = text.replace(special, f"\\{special}")
    return text or " "


def markdown_code(value: Any) -> str:
    """Text as a code span inside a Markdown table cell (only pipes need escaping there)."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    if not text:
        return " "
    return f"`` {text} ``" if "`" in text else f"`{text}`"


def anchor(value: Any) -> str:
    """An HTML id / Markdown anchor from an id such as PAY-NET-001 or CT.S3.PR.2."""
    return "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in str(value).lower())
