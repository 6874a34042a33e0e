"""`paycompile report`: every rule, its PCI DSS requirements, its evidence, and the judges.

The content tests read the rendered report (HTML parsed into text per section, Markdown, JSON)
and compare it with the graph and the judges' verdicts it was made from. The judges' verdicts
come from the session's single run (tests/judging.py), never from a second run on the same
template.
"""

from __future__ import annotations

import copy
import html
import json
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from judging import BROKEN, BROKEN_CONTROLS, GROUP, REFERENCE, Judgement, reference_graph

import paycompile
from paycompile.cli import main
from paycompile.cli.common import UsageError
from paycompile.cli.report import generated_at
from paycompile.compiler.graph import Graph, Kind
from paycompile.compiler.rules import RULES
from paycompile.report import cfn_lint, checkov, control_tower, evidence, nag, panel
from paycompile.report.compliance import ComplianceReport, build_report, to_json
from paycompile.report.judges import JudgeReport
from paycompile.report.pci import UNMAPPED, V321_TO_V40, to_v40
from paycompile.report.render import markdown_cell, markdown_code, render_report
from paycompile.report.values import NOT_SET, describe

# The session fixture `judged`: one judgement shared by every module that asks for it.
pytest_plugins = ["judges_plugin"]

VERSION = paycompile.__version__
PANEL = [judge.JUDGE for judge in panel.JUDGES]


# ---------------------------------------------------------------- helpers


class Sections(HTMLParser):
    """The text of every element that has an id (nested ones count for each enclosing id)."""

    VOID = frozenset({"br", "meta", "img", "hr", "input", "link", "col", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.text: dict[str, list[str]] = {}
        self.open: list[str | None] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.VOID:
            return
        ident = dict(attrs).get("id")
        self.open.append(ident)
        if ident:
            self.text.setdefault(ident, [])

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for ident in self.open:
            if ident:
                self.text[ident].append(data)

    def of(self, ident: str) -> str:
        return " ".join(" ".join(self.text[ident]).split())


def sections(page: str) -> Sections:
    parser = Sections()
    parser.feed(page)
    parser.close()
    return parser


def reports_of(judgement: Judgement, label: str) -> list[JudgeReport]:
    """The judges' reports for a case in the panel's order; a judge the suite did not run on
    it (cdk-nag, or cfn-lint and checkov on the broken template) says so."""
    ran = judgement.reports[label]
    left = {report.judge: report for report in panel.left_out("not run in the test suite")}
    return [ran.get(name, left[name]) for name in PANEL]


def report_for(judgement: Judgement, label: str) -> ComplianceReport:
    return build_report(judgement.cases[label].graph, reports_of(judgement, label), VERSION)


def two_service_graph() -> Graph:
    """The reference platform with a second, routed service: it has listener rules."""
    document: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    extra = copy.deepcopy(document["services"][0])
    extra.update(name="refunds", route={"path": "/refunds/*"})
    document["services"][0].setdefault("route", {"path": "/pay/*"})
    document["services"].append(extra)
    spec = paycompile.load_spec_text(yaml.safe_dump(document), "platform.yaml")
    return paycompile.compile_spec(spec)


def _absent(value: Any) -> bool:
    """Nothing there: no value, or a wildcard path that matched nothing."""
    return value is NOT_SET or value == [] or value == {}


def evidence_text(value: Any) -> str:
    return " ".join(describe(value).split())


# ---------------------------------------------------------------- the evidence registry


def test_every_rule_declares_its_evidence_and_nothing_else_does() -> None:
    assert set(evidence.EVIDENCE) == set(RULES), (
        "paycompile/report/evidence.py must declare the evidence of every rule: "
        f"missing {sorted(set(RULES) - set(evidence.EVIDENCE))}, "
        f"unknown {sorted(set(evidence.EVIDENCE) - set(RULES))}"
    )


def test_every_declared_property_exists_on_a_platform() -> None:
    graphs = [reference_graph(None), reference_graph("prod"), two_service_graph()]
    stale = []
    for rule_id, sources in evidence.EVIDENCE.items():
        for source in sources:
            if isinstance(source, evidence.OutputEvidence):
                continue
            chosen = [node for graph in graphs for node in evidence.nodes_of(graph, source)]
            if not chosen:
                stale.append(f"{rule_id}: no node of {[str(k) for k in source.kinds]}")
            stale += [
                f"{rule_id}: no {kinds} has {path!r}"
                for path in source.props
                if all(_absent(evidence.read(node.props, path)) for node in chosen)
                for kinds in [sorted({str(node.kind) for node in chosen})]
            ]
            stale += [
                f"{rule_id}: no node carries tag {tag!r}"
                for tag in source.tags
                if all(tag not in node.tags for node in chosen)
            ]
    assert not stale, "evidence names what no platform has:\n" + "\n".join(stale)


def test_property_paths_read_nested_and_mapped_values() -> None:
    props = {"a": {"b": [{"c": 1}, {"c": 2}, {"d": 3}]}, "m": {"x": {"k": 1}, "y": {"z": 2}}}
    assert evidence.read(props, "a.b.*.c") == [1, 2]
    assert evidence.read(props, "m.*.k") == {"x": 1}
    assert evidence.read(props, "a.b.1.c") == 2
    assert evidence.read(props, "a.missing") is NOT_SET


# ---------------------------------------------------------------- what the report says


@GROUP
@pytest.mark.parametrize("label", ["dev", "prod"])
def test_html_names_every_rule_requirement_and_evidence_row(judged: Judgement, label: str) -> None:
    report = report_for(judged, label)
    page = sections(render_report(report, "html"))
    summary = page.of("summary")
    for section in report.rules:
        text = page.of(section.id.lower())
        assert section.id in summary and section.id in text
        assert " ".join(section.statement.split()) in text
        for requirement in section.pci_dss:
            assert requirement in text, f"{section.id}: PCI DSS {requirement} missing"
        rows = [row for group in section.evidence for row in group.rows]
        assert rows, f"{section.id} shows no evidence"
        for row in rows:
            assert row.resource in text and row.name in text, f"{section.id}: {row.resource}"
            for value in row.values:
                assert evidence_text(value) in text, f"{section.id} {row.resource}: {value!r}"


@GROUP
def test_markdown_names_every_rule_requirement_and_evidence_row(judged: Judgement) -> None:
    report = report_for(judged, "dev")
    text = render_report(report, "md")
    chapters = text.split("\n### ")
    by_id = {chapter.split("\n", 1)[0]: chapter for chapter in chapters[1:]}
    for section in report.rules:
        chapter = by_id[section.id]
        assert f"[{section.id}](#{section.id.lower()})" in chapters[0]
        assert section.statement in chapter
        assert all(requirement in chapter for requirement in section.pci_dss)
        for row in (row for group in section.evidence for row in group.rows):
            cells = [markdown_code(row.resource), markdown_code(row.name)]
            cells += [markdown_code(describe(value)) for value in row.values]
            lines = [ln for ln in chapter.splitlines() if ln.startswith(f"| {cells[0]} |")]
            assert any(all(cell in ln for cell in cells) for ln in lines), (
                f"{section.id}: no row shows {cells}"
            )


@GROUP
def test_json_carries_every_rule_with_structured_evidence(judged: Judgement) -> None:
    report = report_for(judged, "dev")
    data = json.loads(render_report(report, "json"))
    assert [rule["id"] for rule in data["rules"]] == list(RULES)
    for rule in data["rules"]:
        assert rule["pci_dss_v4"] == list(RULES[rule["id"]].pci_dss)
        assert rule["holds"] is True and rule["violations"] == []
    storage = next(rule for rule in data["rules"] if rule["id"] == "PAY-DB-002")["evidence"][0]
    row = dict(zip(storage["properties"], storage["resources"][0]["values"], strict=True))
    # A reference stays a reference: readable as one, and no scanner takes it for a literal.
    assert row == {"storage_encrypted": True, "kms_key": {"ref": "DataKey", "attribute": "arn"}}


@GROUP
@pytest.mark.parametrize("output_format", ["html", "md", "json"])
def test_every_judge_shows_with_every_waiver_and_its_reason(
    judged: Judgement, output_format: str
) -> None:
    report = report_for(judged, "dev")
    text = render_report(report, output_format)
    page = sections(text) if output_format == "html" else None
    ran = [judge for judge in report.judges if judge.ran]
    assert {judge.judge for judge in ran} == {cfn_lint.JUDGE, control_tower.JUDGE, checkov.JUDGE}
    for judge in report.judges:
        where = page.of(f"judge-{judge.judge}") if page else text
        assert judge.title in where
        assert (judge.version or "not run in the test suite") in where
        for waiver in judge.waivers:
            reason = waiver.reason if output_format != "md" else markdown_cell(waiver.reason)
            if output_format == "json":
                reason = json.dumps(waiver.reason)[1:-1]
            assert waiver.check in where and reason in where, f"{judge.judge} {waiver.check}"
    guard = next(judge for judge in ran if judge.judge == control_tower.JUDGE)
    assert guard.waivers and not guard.failures()
    assert all(f.status == "waived" for f in guard.findings if f.verdict == "fail")


@GROUP
def test_a_judges_failure_shows(judged: Judgement) -> None:
    report = report_for(judged, BROKEN)
    data = to_json(report)
    guard = next(judge for judge in data["judges"] if judge["judge"] == control_tower.JUDGE)
    assert guard["counts"]["fail"] == len(BROKEN_CONTROLS)
    page = sections(render_report(report, "html"))
    judge_text = page.of(f"judge-{control_tower.JUDGE}")
    assert f"fail {len(BROKEN_CONTROLS)}" in page.of("summary")
    for control, resources in BROKEN_CONTROLS.items():
        finding = next(f for f in guard["findings"] if f["check"] == control)
        assert finding["status"] == "fail" and finding["resources"] == list(resources)
        assert f"{control} fail" in judge_text
    # The rule whose evidence is the broken cluster names the control that caught it.
    database = page.of("pay-db-002")
    assert "cfn-guard CT.RDS.PR.16 fail" in database


def test_a_violated_rule_shows_its_violation_and_the_evidence() -> None:
    graph = reference_graph(None)
    graph["DbCluster"].props["storage_encrypted"] = False
    report = build_report(graph, panel.left_out("not run"), VERSION)
    section = next(rule for rule in report.rules if rule.id == "PAY-DB-002")
    assert not section.holds and section.violations
    page = sections(render_report(report, "html"))
    text = page.of("pay-db-002")
    assert "violated" in text and section.violations[0] in text
    assert "storage_encrypted" in text and "false" in text.split("storage_encrypted", 1)[1]
    assert f"{len(RULES) - 1} / {len(RULES)}" in page.of("summary")


# ---------------------------------------------------------------- determinism, self-contained


@GROUP
@pytest.mark.parametrize("output_format", ["html", "md", "json"])
def test_same_inputs_give_the_same_bytes(judged: Judgement, output_format: str) -> None:
    judges = reports_of(judged, "dev")
    first = render_report(build_report(reference_graph(None), judges, VERSION), output_format)
    again = render_report(build_report(reference_graph(None), judges, VERSION), output_format)
    assert first == again
    # No date unless one is given (SOURCE_DATE_EPOCH).
    marker = {"html": "generated <b>", "md": "generated **", "json": '"generated": null'}
    assert (marker[output_format] in first) is (output_format == "json")


def test_a_date_only_when_one_is_given() -> None:
    assert generated_at(None) is None and generated_at("") is None
    assert generated_at("86400") == "1970-01-02T00:00:00Z"
    with pytest.raises(UsageError, match="SOURCE_DATE_EPOCH"):
        generated_at("yesterday")


@GROUP
def test_html_is_self_contained(judged: Judgement) -> None:
    page = render_report(report_for(judged, "dev"), "html")
    parsed = sections(page)
    external = [
        (tag, name, value)
        for tag, attrs in parsed.tags
        for name, value in attrs.items()
        if name in ("src", "href", "action", "data") and value and not value.startswith("#")
    ]
    assert not external, f"the HTML loads or links outside itself: {external[:5]}"
    assert not [tag for tag, _ in parsed.tags if tag in ("script", "link", "img", "iframe")]
    style = page.split("<style>", 1)[1].split("</style>", 1)[0]
    assert "url(" not in style and "@import" not in style
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")


# ---------------------------------------------------------------- judges not installed


def test_a_judge_not_installed_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for variable in ("PAYCOMPILE_CFN_GUARD", "PAYCOMPILE_CHECKOV", "PAYCOMPILE_CDK_NAG_PYTHON"):
        monkeypatch.setenv(variable, str(tmp_path / "absent"))
    template = tmp_path / "template.json"
    template.write_text("{}")
    judges = [
        control_tower.judge_templates({template: "ephemeral"})[template],
        checkov.judge(template),
        nag.judge(template, "ephemeral"),
    ]
    assert [judge.ran for judge in judges] == [False, False, False]
    page = sections(render_report(build_report(reference_graph(None), judges, VERSION), "html"))
    assert "not installed: run `make judges`" in page.of(f"judge-{control_tower.JUDGE}")
    assert "not installed: run `make nag`" in page.of(f"judge-{nag.JUDGE}")


# ---------------------------------------------------------------- PCI DSS 3.2.1 -> v4.0


def test_every_requirement_the_control_tower_controls_cite_maps_to_v4() -> None:
    if not control_tower.installed():
        pytest.fail(f"Control Tower rules not installed: {control_tower.INSTALL_HINT}")
    cited = {
        requirement
        for control in control_tower.controls(control_tower.rules_root()).values()
        for requirement in control.pci_dss_321
    }
    assert cited, "no control cites PCI DSS 3.2.1"
    assert sorted(cited - set(V321_TO_V40)) == []
    assert to_v40(("10.5.3", "10.5.4")) == ("10.3.3",)
    assert to_v40(("6.6", "9.9.9")) == ("6.4.1", "6.4.2", UNMAPPED)


# ---------------------------------------------------------------- the command


@GROUP
def test_command_reports_the_judges_verdicts_on_the_specs_template(
    judged: Judgement, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The command judges the template it renders from the spec and reports what they say."""
    seen: list[dict[str, Any]] = []

    def judge_all(templates: list[panel.Judged]) -> dict[Path, list[JudgeReport]]:
        seen.extend(json.loads(each.template.read_text()) for each in templates)
        return {each.template: reports_of(judged, "dev") for each in templates}

    monkeypatch.setattr(panel, "judge_all", judge_all)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    out = tmp_path / "report.json"
    assert main(["report", str(REFERENCE), "--format", "json", "-o", str(out)]) == 0
    assert seen == [json.loads(judged.cases["dev"].template.read_text())]
    data = json.loads(out.read_text())
    expected = to_json(build_report(reference_graph(None), reports_of(judged, "dev"), VERSION))
    assert data == expected


def test_command_without_judges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    out = tmp_path / "report.html"
    assert main(["report", str(REFERENCE), "--env", "prod", "--format", "html", "--no-judges",
                 "-o", str(out)]) == 0  # fmt: skip
    page = sections(out.read_text())
    assert "payment-prod" in page.of("summary") or "payment-prod" in out.read_text()
    assert "1970-01-02T00:00:00Z" in out.read_text()
    for name in PANEL:
        assert "left out (--no-judges)" in page.of(f"judge-{name}")


def test_command_needs_a_format(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(REFERENCE)]) == 2
    assert capsys.readouterr().err.startswith("paycompile: error:")


def test_command_refuses_an_invalid_spec(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(REFERENCE.read_text().replace("availability_zones: 3", "availability_zones: 2"))
    out = tmp_path / "report.md"
    assert main(["report", str(spec), "--format", "md", "--no-judges", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{spec}:" in err and "network.availability_zones" in err and "Traceback" not in err
    assert not out.exists()


def test_command_refuses_a_bad_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "soon")
    out = tmp_path / "report.md"
    assert main(["report", str(REFERENCE), "--format", "md", "--no-judges", "-o", str(out)]) == 2
    assert "SOURCE_DATE_EPOCH" in capsys.readouterr().err
    assert not out.exists()


def test_other_commands_do_not_load_the_report_or_jinja2() -> None:
    code = (
        "import sys, paycompile, paycompile.cli; "
        "print(sorted(m for m in sys.modules "
        "if m.split('.')[0] == 'jinja2' or m.split('.')[:2] == ['paycompile', 'report']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_markdown_cells_stay_one_cell() -> None:
    assert markdown_cell("a | b\nc <d>") == "a \\| b c \\<d\\>"
    assert markdown_code("x|y") == "`x\\|y`"
    assert markdown_code("a`b") == "`` a`b ``"
    assert html.escape("<") == "&lt;"  # the HTML template autoescapes (jinja2)


def test_evidence_of_kinds_absent_from_the_platform_is_left_out() -> None:
    graph = reference_graph(None)
    assert not graph.of_kind(Kind.LISTENER_RULE)
    columns = [group.columns for group in evidence.groups(graph, "PAY-TLS-002")]
    assert columns == [("port", "protocol", "default_action")]
